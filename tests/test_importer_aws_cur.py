"""AWS CUR (legacy and 2.0 headers): Bedrock lines to tokens and money, the rest skipped; meters, aliases, detection.

Expected sums are computed here with the csv module and a hand-written table of the samples' usage
types (model as the importer names it, token class), independently of the importer's SQL.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from pydantic import ValidationError

from auditor.importers import IMPORTERS
from auditor.importers.aws_cur2_csv import BedrockMeter
from auditor.importers.reader import detect, sniff
from pricing.aliases import load_alias_file, load_aliases
from pricing.catalog import find_model
from pricing.resolve import resolve_model
from tests.conftest import AS_OF, GOLDENS, ROOT, SAMPLES, ingest_one
from tests.conftest import csv_rows as _rows

NANO = Decimal("1e9")
BEDROCK = {"AmazonBedrock", "AmazonBedrockService", "AmazonBedrockFoundationModels"}
USAGE_TYPES = {"Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"}
DISCOUNT_TYPES = {"EdpDiscount", "PrivateRateDiscount", "BundledDiscount", "SppDiscount", "DistributorDiscount",
                  "RiVolumeDiscount", "SavingsPlanNegation"}  # fmt: skip
TOKENS_PER_UNIT = {"1K tokens": 1000, "Units": 1_000_000}

# The two header variants: field → column.
LEGACY = {
    "type": "lineItem/LineItemType",
    "product": "lineItem/ProductCode",
    "usage_type": "lineItem/UsageType",
    "amount": "lineItem/UsageAmount",
    "unit": "pricing/unit",
    "cost": "lineItem/UnblendedCost",
    "currency": "lineItem/CurrencyCode",
    "start": "lineItem/UsageStartDate",
}
CUR2 = {
    "type": "line_item_line_item_type",
    "product": "line_item_product_code",
    "usage_type": "line_item_usage_type",
    "amount": "line_item_usage_amount",
    "unit": "pricing_unit",
    "cost": "line_item_unblended_cost",
    "currency": "line_item_currency_code",
    "start": "line_item_usage_start_date",
}
SAMPLE_FILES = [
    (SAMPLES / "aws_cur_legacy_csv" / "cur-2026-10-00001.csv", LEGACY),
    (SAMPLES / "aws_cur2_csv" / "cur2-2026-10-00001.csv", CUR2),
]

# Every Bedrock usage type of the samples, read by hand from the reference's grammar: (model_raw, ledger
# column of its tokens or None). `global.` marks global routing; marketplace (MP:) lines take the product name.
METERS: dict[str, tuple[str, str | None]] = {
    "USE1-Claude3.5Sonnet-input-tokens": ("Claude3.5Sonnet", "input_tokens"),
    "USE1-Claude3.5Sonnet-output-tokens": ("Claude3.5Sonnet", "output_tokens"),
    "USE1-Claude4.5Haiku-input-tokens-cross-region-global": ("global.Claude4.5Haiku", "input_tokens"),
    "USE1-Claude4.5Haiku-output-tokens-cross-region-global": ("global.Claude4.5Haiku", "output_tokens"),
    "USE1-Claude4.5Haiku-cache-read-input-token-count-cross-region-global": (
        "global.Claude4.5Haiku",
        "cache_read_tokens",
    ),
    "USE1-Claude4.5Haiku-cache-write-input-token-count-global": ("global.Claude4.5Haiku", "cache_write_tokens"),
    "USE1-Claude4.6Sonnet-input-tokens": ("Claude4.6Sonnet", "input_tokens"),
    "USE1-Claude4.6Sonnet-output-tokens": ("Claude4.6Sonnet", "output_tokens"),
    "USE1-Claude4.6Sonnet-cache-read-input-token-count": ("Claude4.6Sonnet", "cache_read_tokens"),
    "USE1-NovaPro-input-tokens": ("NovaPro", "input_tokens"),
    "USE1-NovaPro-output-tokens": ("NovaPro", "output_tokens"),
    "USE1-Nova2.0Lite-input-tokens-flex": ("Nova2.0Lite", "input_tokens"),
    "USE1-Llama3-1-405B-output-tokens-batch": ("Llama3-1-405B", "output_tokens"),
    "USE1-MP:USE1_InputTokenCount-Units": ("Claude Sonnet 4.6", "input_tokens"),
    "USE1-MP:USE1_OutputTokenCount_Global-Units": ("global.Claude Sonnet 4.6", "output_tokens"),
    "USE1-Bedrock-Websearch-Queries": ("Bedrock-Websearch-Queries", None),
    "USE1-anthropic.claude-opus-5-mantle-input-tokens": ("anthropic.claude-opus-5", "input_tokens"),
    "USE1-anthropic.claude-opus-5-mantle-output-tokens-global-standard": (
        "global.anthropic.claude-opus-5",
        "output_tokens",
    ),
    "USE1-anthropic.claude-opus-5-mantle-cache-read-tokens-global-standard": (
        "global.anthropic.claude-opus-5",
        "cache_read_tokens",
    ),
    "USE1-anthropic.claude-haiku-4-5-mantle-cache-write-tokens-1h-standard": (
        "anthropic.claude-haiku-4-5",
        "cache_write_1h_tokens",
    ),
    "USE1-gpt-oss-120b-input-tokens": ("gpt-oss-120b", "input_tokens"),
    "USE1-gpt-oss-120b-output-tokens-priority": ("gpt-oss-120b", "output_tokens"),
    "USE1-Claude4Sonnet-output-tokens-long-context-cross-region-global": (
        "global.Claude4Sonnet (long-context)",
        "output_tokens",
    ),
    "USE1-Knowledge-Base:Consumption-based:Storage": ("Knowledge-Base:Consumption-based:Storage", None),
}


def _golden(path: Path) -> dict[str, object]:
    return json.loads((GOLDENS / path.parent.name / (path.name + ".json")).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _is_ai(row: dict[str, str], cols: dict[str, str]) -> bool:
    return row[cols["product"]] in BEDROCK and row[cols["type"]] != "Tax"


@pytest.mark.parametrize(("path", "cols"), SAMPLE_FILES, ids=lambda p: getattr(p, "name", ""))
def test_tokens_and_money_per_model_match_golden(path: Path, cols: dict[str, str]) -> None:
    expected: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    billed: dict[str, Decimal] = defaultdict(Decimal)
    non_token: dict[str, Decimal] = defaultdict(Decimal)
    for row in _rows(path):
        if not _is_ai(row, cols):
            continue
        usage_type = row[cols["usage_type"]]
        model, column = METERS[usage_type] if usage_type else ("", None)
        key = f"aws|{model}"
        cost = Decimal(row[cols["cost"]])
        billed[key] += cost
        expected[key]["lines"] += 1
        if row[cols["type"]] in USAGE_TYPES and column is not None:
            # Usage amounts are in the pricing unit: 1K tokens, or marketplace Units of a million.
            expected[key][column] += int(Decimal(row[cols["amount"]]) * TOKENS_PER_UNIT[row[cols["unit"]]])
        elif not (row[cols["type"]] in DISCOUNT_TYPES and column is not None):
            # Credits, refunds and non-token meters: money only. A discount of a token meter lowers the tokens'
            # charges: it is part of them.
            non_token[key] += cost
    models = _golden(path)["models"]
    assert isinstance(models, dict)
    assert set(models) == set(billed)
    for key, sums in expected.items():
        for column, value in sums.items():
            assert models[key].get(column, 0) == value, (key, column)
        assert Decimal(models[key].get("billed_nanos", 0)) / NANO == billed[key], key
        assert Decimal(models[key].get("billed_non_token_nanos", 0)) / NANO == non_token[key], key


@pytest.mark.parametrize(("path", "cols"), SAMPLE_FILES, ids=lambda p: getattr(p, "name", ""))
def test_every_other_line_is_skipped(path: Path, cols: dict[str, str]) -> None:
    rows = _rows(path)
    not_ai = sum(1 for r in rows if r[cols["product"]] not in BEDROCK)
    tax = sum(1 for r in rows if r[cols["product"]] in BEDROCK and r[cols["type"]] == "Tax")
    golden = _golden(path)
    assert not_ai and tax, "the sample mixes AI and non-AI lines"
    assert golden["rows"] == {
        "read": len(rows),
        "used": len(rows) - not_ai - tax,
        "skipped": not_ai + tax,
        "rejected": 0,
    }
    assert golden["skipped_reasons"] == {"not AI usage": not_ai, "tax": tax}
    kinds = {r[cols["type"]] for r in rows if r[cols["product"]] in BEDROCK}
    assert kinds & {"Credit", "Refund", "EdpDiscount"}, "the sample holds a credit line"


@pytest.mark.parametrize(("path", "cols"), SAMPLE_FILES, ids=lambda p: getattr(p, "name", ""))
def test_billed_total_equals_the_cost_column_of_the_ai_lines(run_cli, path: Path, cols: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    data = run_cli(str(path), "--as-of", AS_OF.isoformat(), "--json", "-").json()
    ai_cost = sum((Decimal(r[cols["cost"]]) for r in _rows(path) if _is_ai(r, cols)), Decimal(0))
    assert Decimal(data["totals"]["billed_cost"]) == ai_cost
    assert sum((Decimal(u["billed_cost"]) for u in data["usage"]), Decimal(0)) == ai_cost


def test_unknown_meter_is_unpriced_with_its_tokens(run_cli) -> None:  # type: ignore[no-untyped-def]
    data = run_cli(str(SAMPLE_FILES[0][0]), "--as-of", AS_OF.isoformat(), "--json", "-").json()
    llama = next(u for u in data["usage"] if u["model_raw"] == "Llama3-1-405B")
    assert llama["model"] is None and llama["list_cost"] is None, "an unknown meter is never priced at $0"
    assert llama["output_tokens"] == 12500
    assert Decimal(llama["billed_cost"]) == Decimal("0.06")
    assert any("Llama3-1-405B" in w for w in data["warnings"])
    priced = {u["model_raw"]: u["model"] for u in data["usage"] if u["model"]}
    assert priced["global.Claude4.5Haiku"] == "aws:global.anthropic.claude-haiku-4-5-20251001-v1:0"
    assert priced["Claude4.6Sonnet"] == "aws:regional.anthropic.claude-sonnet-4-6-v1:0"


def test_global_lines_are_list_priced_at_the_global_rates(run_cli) -> None:  # type: ignore[no-untyped-def]
    """The sample's global Haiku meters bill the catalog's global rates: list cost = billed before credits (not
    the tokens' charges) and discounts (part of them)."""
    path, cols = SAMPLE_FILES[0]
    data = run_cli(str(path), "--as-of", AS_OF.isoformat(), "--json", "-").json()
    haiku = next(u for u in data["usage"] if u["model_raw"] == "global.Claude4.5Haiku")
    rows = [r for r in _rows(path) if "Claude4.5Haiku" in r[cols["usage_type"]]]
    discounts = sum((Decimal(r[cols["cost"]]) for r in rows if r[cols["type"]] in DISCOUNT_TYPES), Decimal(0))
    assert discounts < 0, "the premise: a discount line"
    before_credits = Decimal(haiku["billed_cost"]) - Decimal(haiku["billed_non_token_cost"])
    assert Decimal(haiku["list_cost"]) == before_credits - discounts


@pytest.mark.parametrize(("path", "cols"), SAMPLE_FILES, ids=lambda p: getattr(p, "name", ""))
def test_detected_from_the_header(path: Path, cols: dict[str, str], tmp_path: Path) -> None:
    assert detect(sniff(path), IMPORTERS).name == path.parent.name
    # The columns the importer needs suffice, in any order.
    minimal = tmp_path / "minimal.csv"
    minimal.write_text(",".join(reversed(list(cols.values()))) + "\n", encoding="utf-8")
    assert detect(sniff(minimal), IMPORTERS).name == path.parent.name


def _cur2(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    header = [*CUR2.values(), "line_item_line_item_description"]
    path = tmp_path / "cur2.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        for row in rows:
            writer.writerow({CUR2.get(k, k): v for k, v in row.items()})
    return path


def _line(usage_type: str, amount: str, unit: str, cost: str, **extra: str) -> dict[str, str]:
    return {
        "type": "Usage",
        "product": "AmazonBedrockService",
        "usage_type": usage_type,
        "amount": amount,
        "unit": unit,
        "cost": cost,
        "currency": "USD",
        "start": "2026-10-05T00:00:00Z",
        **extra,
    }


def test_units_convert_to_whole_tokens_or_leave_money_only(tmp_path: Path) -> None:
    meter = "USE1-Claude4.5Haiku-input-tokens"
    path = _cur2(
        tmp_path,
        [
            _line(meter, "1.0005", "1K tokens", "0.0011"),  # 1000.5 tokens: rounded to a whole token
            _line(meter, "2", "1M tokens", "2.2"),
            _line(meter, "3", "tokens", "0.0000033"),
            # No unit: the description tells it.
            _line(meter, "5", "", "0.0055", line_item_line_item_description="$0.0011 per 1K input tokens"),
            # A token meter priced per capacity: money, not tokens.
            _line(meter, "7", "1K TPM Hour", "1.26"),
        ],
    )
    _, ingested = ingest_one(path)
    usage = ingested.usage.set_index("model_raw")
    assert usage.loc["Claude4.5Haiku", "input_tokens"] == 1001 + 2_000_000 + 3 + 5000
    assert usage.loc["Claude4.5Haiku", "billed_non_token_nanos"] == int(Decimal("1.26") * NANO)


def test_rows_that_cannot_be_read_as_tokens_are_rejected(tmp_path: Path) -> None:
    meter = "USE1-Claude4.5Haiku-output-tokens"
    path = _cur2(
        tmp_path,
        [
            _line(meter, "12", "", "0.06"),
            _line(meter, "twelve", "1K tokens", "0.06"),
            _line(meter, "-1", "1K tokens", "-0.005"),
            _line(meter, "1", "1K tokens", "0.005", currency=""),
            _line(meter, "1", "1K tokens", "0.005"),
        ],
    )
    _, ingested = ingest_one(path)
    a = ingested.account
    assert (a.rows_read, a.rows_used, a.rows_rejected) == (5, 1, 4)
    assert [(r.line, r.column) for r in a.rejected] == [
        (2, "pricing_unit"),
        (3, "line_item_usage_amount"),
        (4, "line_item_usage_amount"),
        (5, "line_item_currency_code"),
    ]


def test_amounts_keep_their_billing_currency(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _cur2(tmp_path, [_line("USE1-Claude4.5Haiku-input-tokens", "1000", "1K tokens", "1", currency="EUR")])
    _, ingested = ingest_one(path)
    assert list(ingested.usage["currency"]) == ["EUR"]
    assert run_cli(str(path), "--json", "-").status != 0, "no EUR rate given: the audit stops"
    data = run_cli(str(path), "--json", "-", "--fx", "EUR=1.1").json()
    assert Decimal(data["totals"]["billed_cost"]) == Decimal("1.1")


# Usage types → (model_raw, token class, service tier), as the reference and observed offers write them.
GRAMMAR = [
    ("USE1-Claude3.5Sonnet-input-tokens", "Claude3.5Sonnet", "input", "standard"),
    ("EU-Claude4.5Sonnet-output-tokens", "Claude4.5Sonnet", "output", "standard"),
    (
        "USE1-Claude4.5Haiku-cache-read-input-token-count-cross-region-global",
        "global.Claude4.5Haiku",
        "cache_read",
        "standard",
    ),
    ("USE1-Claude4.5Haiku-cache-write-input-token-count-global", "global.Claude4.5Haiku", "cache_write", "standard"),
    ("EUC1-Claude3.5Haiku-cache-write-input-token-count-cross-region-geo", "Claude3.5Haiku", "cache_write", "standard"),
    ("USE1-Nova2.0Lite-input-tokens-flex", "Nova2.0Lite", "input", "flex"),
    ("USE1-gpt-oss-120b-output-tokens-priority", "gpt-oss-120b", "output", "priority"),
    ("USE1-Claude4Sonnet-input-tokens-cross-region-global-batch", "global.Claude4Sonnet", "input", "batch"),
    (
        "USE1-anthropic.claude-opus-5-mantle-output-tokens-global-standard",
        "global.anthropic.claude-opus-5",
        "output",
        "standard",
    ),
    (
        "USE1-anthropic.claude-haiku-4-5-mantle-cache-write-tokens-1h-standard",
        "anthropic.claude-haiku-4-5",
        "cache_write_1h",
        "standard",
    ),
    (
        "USE1-openai.gpt-5.6-luna-mantle-cache-write-tokens-5m-long-ctx-flex",
        "openai.gpt-5.6-luna (long-ctx)",
        "cache_write",
        "flex",
    ),
    ("USE1-NovaPro-input-tokens-latency-optimized", "NovaPro (latency-optimized)", "input", "standard"),
    ("USE1-NovaLite-input-tokens-custom-model", "NovaLite (custom-model)", "input", "standard"),
    ("USE1-MP:USE1_CacheWrite1hInputTokenCount_Global-Units", "global.Claude Opus 4.6", "cache_write_1h", "standard"),
    ("USE1-MP:USE1_CacheReadInputTokenCount-Units", "Claude Opus 4.6", "cache_read", "standard"),
    ("USE1-MP:USE1_InputTokenCount_Batch-Units", "Claude Opus 4.6", "input", "batch"),
    ("USE1-MP:USE1_input_tokens_global_standard-Units", "global.Claude Opus 4.6", "input", "standard"),
    ("USE1-MP:USE1_MillionBatchInputTokens-Units", "Claude Opus 4.6", "input", "batch"),
    ("USE1-Bedrock-Websearch-Queries", "Bedrock-Websearch-Queries", "", "standard"),
    ("USE1-Nova2.0Omni-input-audio-token-count", "Nova2.0Omni-input-audio-token-count", "", "standard"),
    ("", "", "", "standard"),
]


def test_meter_grammar() -> None:
    meter = BedrockMeter('"u"', '"p"')
    query = f"SELECT {meter.model_raw}, {meter.token_class}, {meter.service_tier} FROM t"
    with duckdb.connect() as con:
        con.execute("CREATE TABLE t (u VARCHAR, p VARCHAR)")
        for usage_type, *expected in GRAMMAR:
            con.execute("DELETE FROM t")
            con.execute("INSERT INTO t VALUES (?, 'Claude Opus 4.6 (Amazon Bedrock Edition)')", [usage_type])
            assert con.execute(query).fetchone() == tuple(expected), usage_type


def test_every_alias_resolves_to_its_model() -> None:
    """An alias is consulted after the catalog's own names: none may be shadowed by another catalog match."""
    for (provider, name), model in load_aliases().items():
        found, meant = resolve_model(provider, name).model, find_model(provider, model)
        assert found is not None and meant is not None and found.ref == meant.ref, name


def test_alias_file_errors_say_how_to_fix_them() -> None:
    entry = '[[alias]]\nname = "X"\nmodel = "{}"\nsource = "s"\nchecked = 2026-11-28\n'
    with pytest.raises(ValidationError, match=r"lacks at aws: use a catalog id; did you mean .*nova-"):
        load_alias_file('provider = "aws"\n' + entry.format("amazon.nova-ultra-v9"))
    with pytest.raises(ValidationError, match="listed twice"):
        load_alias_file('provider = "aws"\n' + entry.format("amazon.nova-pro-v1:0") * 2)
    with pytest.raises(ValidationError, match="checked"):
        load_alias_file('provider = "aws"\n[[alias]]\nname = "X"\nmodel = "amazon.nova-pro-v1:0"\nsource = "s"\n')


def test_alias_file_ships_with_the_package() -> None:
    assert (ROOT / "pricing" / "data" / "bedrock_meters.toml").is_file()
    assert (ROOT / "pricing" / "data" / "azure_meters.toml").is_file()
    assert ("aws", "Claude4.5Haiku") in load_aliases()
    assert ("azure", "gpt-4o-0806") in load_aliases()


def test_a_report_split_in_parts_counts_every_part(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = SAMPLE_FILES[0][0]
    header, *lines = path.read_text(encoding="utf-8").splitlines()
    half = len(lines) // 2
    for part, chunk in (("00001", lines[:half]), ("00002", lines[half:])):
        (tmp_path / f"cur-2026-10-{part}.csv").write_text("\n".join([header, *chunk]) + "\n", encoding="utf-8")
    whole = run_cli(str(path), "--as-of", AS_OF.isoformat(), "--json", "-").json()
    parts = run_cli(str(tmp_path), "--as-of", AS_OF.isoformat(), "--json", "-").json()
    assert parts["totals"]["billed_cost"] == whole["totals"]["billed_cost"]


@pytest.mark.parametrize(("path", "cols"), SAMPLE_FILES, ids=lambda p: getattr(p, "name", ""))
def test_the_negotiation_rate_counts_discounts_and_not_credits(path: Path, cols: dict[str, str]) -> None:
    """The negotiation brief's billed cost of AWS is what its token meters were charged net of their discount lines
    (an EDP discount lowers the price), and before its credits and refunds (money given back, not a price)."""
    from auditor.options import AuditOptions
    from auditor.pipeline import run_audit

    result = run_audit(AuditOptions(inputs=(path,), as_of=AS_OF))
    assert result.plan is not None
    (aws,) = [v for v in result.plan.negotiation.vendors if v.vendor == "aws"]
    token_rows = [r for r in _rows(path) if _is_ai(r, cols) and METERS[r[cols["usage_type"]]][1] is not None]
    charged = [r for r in token_rows if r[cols["type"]] in USAGE_TYPES | DISCOUNT_TYPES]
    assert any(r[cols["type"]] in ("Credit", "Refund") for r in token_rows), "the premise: a credit on a token meter"
    assert aws.billed_cost == sum((Decimal(r[cols["cost"]]) for r in charged), Decimal(0))
