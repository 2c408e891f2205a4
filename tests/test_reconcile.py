"""Reconciliation: billed against list by vendor, model and month, the variance explained.

Expected values come from the sample CSVs read with the csv module, and list prices from genai_prices.calc_price.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
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
_PARTS = ("discount", "credits", "tier", "batch", "byok_upstream", "unpriced", "coverage", "rounding", "unexplained")


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


_CUR_LEGACY = SAMPLES / "aws_cur_legacy_csv" / "cur-2026-10-00001.csv"


def test_a_credit_larger_than_the_days_charges_is_a_credit_and_a_discount_line_a_discount() -> None:
    """The legacy CUR's Haiku line of October: on one day, usage billed at list, an Activate credit larger than the
    day's charges and an EDP discount, all on the same usage type and account. The line types say which is which;
    the sign of the day's sum would call it all a credit and the usage unbilled."""
    result = _audit(_CUR_LEGACY)
    row = _row(result, "2026-10", "global.Claude4.5Haiku")
    haiku = [r for r in csv_rows(_CUR_LEGACY) if "Claude4.5Haiku" in r["lineItem/UsageType"]]

    def cost(types: tuple[str, ...], day: str = "") -> Decimal:
        """The lines of these types (on this day) summed."""
        lines = [
            r for r in haiku if r["lineItem/LineItemType"] in types and r["lineItem/UsageStartDate"].startswith(day)
        ]
        return sum((Decimal(r["lineItem/UnblendedCost"]) for r in lines), Decimal(0))

    credits, discounts, usage = cost(("Credit", "Refund")), cost(("EdpDiscount",)), cost(("Usage",))
    assert credits == Decimal("-25") and discounts < 0, "the premise: a credit and a discount line"
    (credit_day,) = {r["lineItem/UsageStartDate"][:10] for r in haiku if r["lineItem/LineItemType"] == "Credit"}
    day_usage = cost(("Usage",), credit_day)
    assert 0 < day_usage < -credits, "the premise: the credit is larger than the day's charges"
    assert row.billed_cost == usage + credits + discounts
    assert row.credits == credits and row.discount == discounts
    assert row.coverage == row.unexplained == row.rounding == 0
    assert row.explanation == f"credits {credits:+.2f}, discount {discounts.quantize(Decimal('0.01')):+.2f}"


def test_focus_credits_adjustments_and_corrections_below_zero_are_credits() -> None:
    """FOCUS says a row's kind in ChargeCategory (and ChargeClass): a Credit row, or an Adjustment or Correction
    that gives money back, is a credit; its ListCost is no list price of usage."""
    paths = sorted((SAMPLES / "focus_csv").glob("*.csv"))
    result = _audit(*paths)
    rows = [r for path in paths for r in csv_rows(path) if r["ServiceCategory"] == "AI and Machine Learning"]

    def gives_back(r: dict[str, str]) -> bool:
        refund = r["ChargeCategory"] == "Adjustment" or r.get("ChargeClass", "").lower() == "correction"
        return r["ChargeCategory"] == "Credit" or (refund and Decimal(r["BilledCost"]) < 0)

    credit_rows = [r for r in rows if gives_back(r)]
    assert {r["ChargeCategory"] for r in credit_rows} == {"Credit", "Adjustment", "Usage"}, "the premise: each kind"
    expected = sum((Decimal(r["BilledCost"]) for r in credit_rows), start=Decimal(0))
    assert sum((r.credits for r in result.reconciliation), start=Decimal(0)) == expected
    # The correction's usage line is explained whole: its billed cost is its stated list price, less the refund.
    sonnet = _row(result, "2026-10", "Claude4.6Sonnet")
    usage = [r for r in rows if "Claude4.6Sonnet" in r.get("SkuMeter", "") and not gives_back(r)]
    assert sonnet.source_list_cost == sum((Decimal(r["ListCost"]) for r in usage), start=Decimal(0))
    assert sonnet.credits < 0 and sonnet.unexplained == sonnet.discount == 0


def test_azure_refund_lines_are_credits() -> None:
    path = SAMPLES / "azure_cost_csv" / "cost-details-2026-09.csv"
    result = _audit(path)
    refunds = [r for r in csv_rows(path) if r["chargeType"] == "Refund"]
    assert refunds, "the premise: a refund"
    expected = sum((Decimal(r["costInBillingCurrency"]) for r in refunds), start=Decimal(0))
    assert sum((r.credits for r in result.reconciliation), start=Decimal(0)) == expected


@pytest.mark.parametrize("refund_list_price", ["0.00", ""])
def test_a_line_billed_below_zero_is_a_credit_where_the_source_has_no_line_types(
    tmp_path: Path, refund_list_price: str
) -> None:
    """The Anthropic cost export types no line: a refund on the day, key and model of charges is a credit, and the
    charges beside it are still compared with their own list price (a sum of the day would hide both)."""
    source = COST / "cost-2026-03.csv"
    plain = _audit(source)
    rows = csv_rows(source)
    charged = max(rows, key=lambda r: Decimal(r["cost_usd"]))
    refund = {**charged, "cost_usd": "-1.00", "list_price_usd": refund_list_price}
    refunded = tmp_path / "cost-2026-03.csv"
    with refunded.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows([*rows, refund])
    month = charged["usage_date_utc"][:7]
    model_raw = _row(plain, month, charged["model"]).model_raw
    before, after = _row(plain, month, model_raw), _row(_audit(refunded), month, model_raw)
    assert after.billed_cost == before.billed_cost - 1
    assert after.credits == before.credits - 1
    for part in ("discount", "tier", "batch", "coverage", "unexplained"):
        assert getattr(after, part) == getattr(before, part), part


def test_a_credit_read_from_its_sign_is_none_of_the_tokens_charges(tmp_path: Path) -> None:
    """A request log's line billed below zero that counts tokens (an OpenRouter generation refunded) is a credit:
    its money is not the tokens' price, so the negotiation brief's effective rate is the one of the charges alone."""
    source = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
    rows = csv_rows(source)
    refund = {**rows[0], "generation_id": "gen-refund-1", "cost_total": "-0.5"}
    assert int(refund["tokens_prompt"]) > 0, "the premise: the refunded line counts tokens"
    refunded = tmp_path / source.name
    with refunded.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows([*rows, refund])

    def brief(result: AuditResult) -> Decimal | None:
        assert result.plan is not None
        (vendor,) = [v for v in result.plan.negotiation.vendors if v.vendor == "openrouter"]
        return vendor.billed_cost

    plain, after = _audit(source), _audit(refunded)
    assert after.totals.billed_cost == plain.totals.billed_cost - Decimal("0.5")
    assert sum((r.credits for r in after.reconciliation), Decimal(0)) == Decimal("-0.5")
    # The charges: each line's cost_total at or above zero, less its web search and file processing (none here).
    charged = sum((Decimal(r["cost_total"]) - Decimal(r["cost_web_search"]) - Decimal(r["cost_file_processing"])
                   for r in rows), Decimal(0))  # fmt: skip
    assert brief(after) == brief(plain) == charged


def test_an_importer_without_line_types_reads_credits_from_each_lines_sign() -> None:
    from auditor.importers import base
    from auditor.importers.openai_cost_csv import IMPORTER

    assert IMPORTER.ledger["billed_credit"] == f"least({IMPORTER.ledger['billed']}, 0)"
    assert IMPORTER.ledger["adjustment"] == f"({IMPORTER.ledger['billed']}) < 0"
    assert "billed_credit" not in base.credits_by_sign({"input_tokens": '"n"'})  # nothing billed: nothing to say
    with pytest.raises(TypeError, match="adjustment"):
        base.credits_by_sign({"billed": '"cost"', "billed_credit": '"cost"'})


@pytest.mark.parametrize(
    ("credit_type", "part"),
    [("FREE_TIER", "credits"), ("PROMOTION", "credits"), ("", "credits"), ("SUSTAINED_USAGE_DISCOUNT", "discount")],
)
def test_google_cloud_credits_netted_into_a_line_are_split_by_their_type(
    tmp_path: Path, credit_type: str, part: str
) -> None:
    """Google Cloud nets a line's credits into it (cost + credits); each credit's type says whether it is a credit
    or a discount, and the line's cost stays what was charged."""
    source = SAMPLES / "gcp_billing_csv" / "gcp_billing_export_2026-09.csv"
    text = source.read_text(encoding="utf-8")
    assert text.count('""type"":""FREE_TIER""') == 1, "the premise: one typed credit"
    typed = f',""type"":""{credit_type}""' if credit_type else ""
    changed = tmp_path / source.name
    changed.write_text(text.replace(',""type"":""FREE_TIER""', typed), encoding="utf-8")
    (row,) = [r for r in csv_rows(changed) if r["credits"] not in ("", "[]")]
    amount = Decimal(str(json.loads(row["credits"])[0]["amount"]))
    month = row["usage_start_time"][:7]
    result = _audit(changed)
    (line,) = [r for r in result.reconciliation if r.month == month and r.model_raw == "gemini-2.5-flash"]
    other = "discount" if part == "credits" else "credits"
    assert getattr(line, part) == amount and getattr(line, other) == 0
    assert line.coverage == 0
    plain = _row(_audit(source), month, "gemini-2.5-flash")
    assert line.billed_cost == plain.billed_cost and line.unexplained == plain.unexplained
    # The negotiation brief's rate: the token lines' cost net of their discounts, before their credits.
    ai = ("Vertex AI", "Gemini API")
    tokens = [r for r in csv_rows(changed) if r["service.description"] in ai and r["usage.unit"] == "count"]
    gross = sum((Decimal(r["cost"]) for r in tokens if r["cost_type"] == "regular"), Decimal(0))
    assert result.plan is not None
    (google,) = [v for v in result.plan.negotiation.vendors if v.vendor == "google"]
    assert google.billed_cost == gross + (amount if part == "discount" else 0)


def test_google_cloud_cost_at_list_is_the_list_price_the_bill_states(tmp_path: Path) -> None:
    """An account with contract prices: `cost` is 20% under `cost_at_list` on the Gemini 2.5 Pro lines. The
    difference is a discount, compared as a cost export's `cost_usd` against its `list_price_usd`."""
    source = SAMPLES / "gcp_billing_csv" / "gcp_billing_export_2026-09.csv"
    rows = csv_rows(source)
    for row in rows:
        listed = Decimal(row["cost"])
        row["cost_at_list"] = str(listed)
        if row["sku.description"].startswith("Gemini 2.5 Pro"):
            row["cost"] = str(listed * Decimal("0.8"))
    contract = tmp_path / source.name
    with contract.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    pro = [r for r in rows if r["sku.description"].startswith("Gemini 2.5 Pro")]
    assert pro, "the premise: contract-priced lines"
    result = _audit(contract)
    line = _row(result, pro[0]["usage_start_time"][:7], "gemini-2.5-pro")
    assert line.billed_cost == sum((Decimal(r["cost"]) for r in pro), Decimal(0))
    assert line.source_list_cost == sum((Decimal(r["cost_at_list"]) for r in pro), Decimal(0))
    assert line.discount == sum((Decimal(r["cost"]) - Decimal(r["cost_at_list"]) for r in pro), Decimal(0))
    assert line.discount < 0 and line.unexplained == line.coverage == 0
    # Where the list equals the cost, the line states its list price and nothing else changes.
    plain = _row(_audit(source), line.month, "gemini-2.5-flash")
    flash = _row(result, line.month, "gemini-2.5-flash")
    assert flash.source_list_cost is not None and plain.source_list_cost is None
    assert flash.model_copy(update={"source_list_cost": None}) == plain


def test_inference_billed_upstream_through_your_own_key_explains_the_variance(tmp_path: Path) -> None:
    """An OpenRouter request served through the customer's own key (BYOK): OpenRouter bills nothing for it
    (`cost_total` 0; its first BYOK requests of a month are free), the upstream vendor bills the inference
    (`byok_usage_inference`). openai/gpt-4.1 costs $2 / $8 per MTok (input / output), so 1M prompt and 100k
    completion tokens are $2.80 at list: billed $0, the whole variance is the upstream's, nothing unexplained."""
    source = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
    header = list(csv_rows(source)[0])
    line = dict.fromkeys(header, "")
    line.update({
        "generation_id": "gen-1791000000-Byok0000000000000001", "created_at": "2026-10-12 09:15:00.000",
        "cost_total": "0", "cost_web_search": "0", "cost_cache": "0", "cost_file_processing": "0",
        "byok_usage_inference": "2.8", "tokens_prompt": "1000000", "tokens_completion": "100000",
        "tokens_reasoning": "0", "tokens_cached": "0", "model_permaslug": "openai/gpt-4.1", "provider_name": "OpenAI",
        "variant": "standard", "cancelled": "false", "streamed": "true", "finish_reason_raw": "stop",
        "finish_reason_normalized": "stop", "generation_time_ms": "5210", "time_to_first_token_ms": "410",
        "api_key_disabled": "false", "api_key_name": "byok-key",
    })  # fmt: skip
    path = tmp_path / "openrouter_logs_2026-10.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerow(line)
    (row,) = _audit(path).reconciliation
    assert (row.billed_cost, row.list_cost, row.variance) == (0, Decimal("2.8"), Decimal("-2.8"))
    assert (row.byok_upstream, row.unexplained, row.rounding) == (Decimal("-2.8"), 0, 0)
    assert row.explanation == "BYOK upstream -2.80"


def test_charges_of_a_priced_model_in_a_month_without_its_tokens_say_so() -> None:
    """A catalog model billed in a month the inputs give none of its tokens (the samples' OpenAI cost export of
    2026-08; the usage exports cover days of 2025-09 and 2026-10) has no list cost that month because it has no
    tokens, not because the model has no price; a line the catalog cannot price (a fine-tuned model, a tax) has no
    list price."""
    result = _audit(SAMPLES)
    gpt4o = _row(result, "2026-08", "gpt-4o-2024-08-06")
    assert gpt4o.model == "openai:gpt-4o" and gpt4o.list_cost is None and gpt4o.unpriced == gpt4o.billed_cost
    assert gpt4o.explanation == "no tokens of this model this month: the billed cost cannot be compared"
    tax = _row(result, "2026-09", "Tax")
    assert tax.model is None and tax.explanation == "no list price: the billed cost cannot be compared"
