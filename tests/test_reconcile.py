"""Reconciliation: billed against list by vendor, model and month, the variance explained.

Expected values come from the sample CSVs read with the csv module, and list prices from genai_prices.calc_price.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from genai_prices import Usage, calc_price

from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.result import AuditResult, ReconciliationRow
from tests.conftest import AS_OF, SAMPLES, csv_rows

COST = SAMPLES / "anthropic_cost_csv"
USAGE = SAMPLES / "anthropic_usage_csv"
# Each token class of the usage export as genai-prices counts it (its input_tokens is all input).
_CLASSES = {
    "usage_input_tokens_no_cache": {"input_tokens": 1},
    "usage_input_tokens_cache_read": {"input_tokens": 1, "cache_read_tokens": 1},
    "usage_input_tokens_cache_write_5m": {"input_tokens": 1, "cache_write_tokens": 1},
    "usage_input_tokens_cache_write_1h": {"input_tokens": 1, "cache_write_tokens": 1, "cache_write_1h_tokens": 1},
    "usage_output_tokens": {"output_tokens": 1},
}
_PARTS = ("discount", "credits", "tier", "batch", "unpriced", "coverage", "rounding", "unexplained")


def _audit(*paths: object) -> AuditResult:
    return run_audit(AuditOptions(inputs=tuple(paths), as_of=AS_OF))  # type: ignore[arg-type]


def _row(result: AuditResult, month: str, model_raw: str) -> ReconciliationRow:
    (row,) = [r for r in result.reconciliation if r.month == month and r.model_raw == model_raw]
    return row


def _list_price(usage_row: dict[str, str]) -> Decimal:
    """Catalog list price of one usage-export row (a `≤ 200k` row: the base tier, priced per token class)."""
    at = datetime.fromisoformat(usage_row["usage_date_utc"]).replace(hour=12, tzinfo=UTC)
    total = Decimal(0)
    for column, usage in _CLASSES.items():
        count = int(usage_row.get(column) or 0)
        if count:
            per_thousand = calc_price(
                Usage(**{k: v * 1000 for k, v in usage.items()}),
                usage_row["model_version"],
                provider_id="anthropic",
                genai_request_timestamp=at,
            ).total_price
            total += per_thousand * count / 1000
    return total


def test_parts_add_up_to_the_variance() -> None:
    result = _audit(COST, USAGE)
    assert result.reconciliation
    for r in result.reconciliation:
        if r.list_cost is None:
            assert r.variance is None and r.unpriced == r.billed_cost
            continue
        assert r.variance == r.billed_cost - r.list_cost
        assert sum((getattr(r, p) for p in _PARTS), Decimal(0)) == r.variance
        assert r.rounding == 0 or abs(r.rounding) <= r.tolerance
        assert r.unexplained == 0 or abs(r.unexplained) > r.tolerance


def test_discounted_cache_read_rows_of_the_anthropic_cost_export_are_explained_as_discount() -> None:
    result = _audit(COST, USAGE)
    cost = [c for c in csv_rows(COST / "cost-2026-10.csv") if c["model"] == "Claude Sonnet 4.5"]
    usage = [u for u in csv_rows(USAGE / "usage-2026-10.csv") if u["model_version"] == "claude-sonnet-4-5-20250929"]
    discounted = [c for c in cost if Decimal(c["cost_usd"]) < Decimal(c["list_price_usd"])]
    assert {c["token_type"] for c in discounted} == {"input_cache_read"}
    row = _row(result, "2026-10", "claude-sonnet-4-5-20250929")
    assert row.billed_cost == sum(Decimal(c["cost_usd"]) for c in cost)
    assert row.source_list_cost == sum(Decimal(c["list_price_usd"]) for c in cost)
    assert row.discount == sum(Decimal(c["cost_usd"]) - Decimal(c["list_price_usd"]) for c in discounted)
    assert row.discount < 0 and row.batch == row.tier == row.credits == 0
    # The cost export covers three days, the usage export the month: the other days' list cost is coverage.
    charged_days = {c["usage_date_utc"] for c in cost}
    uncharged = sum((_list_price(u) for u in usage if u["usage_date_utc"] not in charged_days), Decimal(0))
    assert row.coverage == -uncharged.quantize(Decimal("1e-9"))
    # What is left is the cost export's own list price against the catalog's on the charged days.
    charged_list = sum((_list_price(u) for u in usage if u["usage_date_utc"] in charged_days), Decimal(0))
    rest = sum(Decimal(c["list_price_usd"]) for c in cost) - charged_list
    assert row.unexplained == rest.quantize(Decimal("1e-9"))
    assert "discount -5.19" in row.explanation


def test_a_charge_below_list_on_a_day_of_batch_usage_is_explained_as_batch() -> None:
    result = _audit(COST, USAGE)
    (cost,) = [c for c in csv_rows(COST / "cost-2026-03.csv") if c["model"] == "Claude Haiku 4.5"]
    (usage,) = [u for u in csv_rows(USAGE / "usage-2026-03.csv") if u["model_version"].startswith("claude-haiku")]
    assert usage["usage_type"] == "batch" and cost["usage_type"] == "message"
    row = _row(result, "2026-03", usage["model_version"])
    assert row.batch == Decimal(cost["cost_usd"]) - Decimal(cost["list_price_usd"])
    assert row.discount == 0


def test_a_cost_export_alone_is_reconciled_against_its_own_list_price() -> None:
    result = _audit(COST / "cost-2026-03.csv")
    for model in ("Claude Sonnet 4", "Claude Haiku 4.5"):
        rows = [c for c in csv_rows(COST / "cost-2026-03.csv") if c["model"] == model]
        row = _row(result, "2026-03", model)
        assert row.list_cost == sum(Decimal(c["list_price_usd"]) for c in rows)
        assert row.discount == sum(Decimal(c["cost_usd"]) - Decimal(c["list_price_usd"]) for c in rows)
        assert row.unexplained == 0 and row.coverage == 0


def test_negative_charges_are_credits() -> None:
    result = _audit(SAMPLES / "aws_cur2_csv")
    credited = [r for r in result.reconciliation if r.credits]
    assert credited
    rows = csv_rows(next((SAMPLES / "aws_cur2_csv").glob("*.csv")))
    negative = sum(Decimal(r["line_item_unblended_cost"]) for r in rows if Decimal(r["line_item_unblended_cost"]) < 0)
    assert negative < 0
    assert sum((r.credits for r in credited), Decimal(0)) == negative


def test_money_without_a_list_price_is_unpriced() -> None:
    result = _audit(SAMPLES / "openai_cost_csv")
    assert result.reconciliation
    for r in result.reconciliation:
        assert r.list_cost is None and r.variance is None and r.unpriced == r.billed_cost


def test_pitfall_estimates_drift_from_the_invoice() -> None:
    """Pitfall 14: a list-price estimate drifts from the invoice. Every billed dollar is on a reconciliation row,
    and the drift of each row is split into named parts, the rest shown as unexplained, never hidden."""
    result = _audit(COST, USAGE)
    assert result.totals.billed_cost == sum((r.billed_cost for r in result.reconciliation), Decimal(0))
    drifting = [r for r in result.reconciliation if r.variance]
    assert drifting and all(r.unexplained or r.explanation != "billed equals list" for r in drifting)
    assert any(r.unexplained for r in drifting)


def test_rounding_tolerance_is_half_a_cent_a_line_capped_at_a_thousandth_of_the_bill() -> None:
    from auditor.reconcile import rounding_tolerance

    assert rounding_tolerance(12, Decimal("19.86")) == Decimal("0.01986")  # 0.06 by lines, capped at 0.1%
    assert rounding_tolerance(12, Decimal("3.00")) == Decimal("0.01")  # the cap is at least a cent
    assert rounding_tolerance(2, Decimal("5000")) == Decimal("0.010")  # two lines round by at most a cent
    assert rounding_tolerance(100_000, Decimal("12345.67")) == Decimal("12.34567")  # a log: 0.1%, not $500
