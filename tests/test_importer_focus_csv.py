"""FOCUS 1.0–1.3 exports: AI and ML rows to money and (where the meter tells the class) tokens; the rest skipped.

Expected sums are computed here with the csv module and a hand-written table of the samples' meters
(model as the importer names it, token class or None when the meter cannot tell), independently of
the importer's SQL.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from auditor.importers import IMPORTERS
from auditor.importers.reader import detect, sniff
from tests.conftest import AS_OF, GOLDENS, SAMPLES, ingest_one
from tests.conftest import csv_rows as _rows

NANO = Decimal("1e9")
FOLDER = SAMPLES / "focus_csv"
SAMPLE_FILES = sorted(FOLDER.glob("*.csv"))
AI = "AI and Machine Learning"
PROVIDERS = {"AWS": "aws", "Microsoft": "azure"}

# Meter text of every AI row (SkuMeter, else x_SkuMeterName, else ChargeDescription) → (model_raw, token
# column or None). AWS meters are Bedrock usage types (as in the CUR); an Azure meter with a class word names its
# model as in the Azure cost details (a snapshot date without a family stays as written), others keep their text.
METERS: dict[str, tuple[str, str | None]] = {
    "USE1-Claude4.5Haiku-input-tokens-cross-region-global": ("global.Claude4.5Haiku", "input_tokens"),
    "USE1-Claude4.5Haiku-output-tokens-cross-region-global": ("global.Claude4.5Haiku", "output_tokens"),
    "USE1-Claude4.5Haiku-cache-read-input-token-count-cross-region-global": (
        "global.Claude4.5Haiku",
        "cache_read_tokens",
    ),
    "USE1-Claude4.6Sonnet-input-tokens": ("Claude4.6Sonnet", "input_tokens"),
    "USE1-Claude4.6Sonnet-output-tokens": ("Claude4.6Sonnet", "output_tokens"),
    "USE1-Nova2.0Lite-input-tokens-flex": ("Nova2.0Lite", "input_tokens"),
    "USE1-anthropic.claude-opus-5-mantle-input-tokens": ("anthropic.claude-opus-5", "input_tokens"),
    "USE1-gpt-oss-120b-output-tokens-priority": ("gpt-oss-120b", "output_tokens"),
    "USE1-Claude9Opus-input-tokens": ("Claude9Opus", "input_tokens"),
    "USE1-Bedrock-Websearch-Queries": ("Bedrock-Websearch-Queries", None),
    "USE1-Notebook:ml.g5.xlarge": ("Notebook:ml.g5.xlarge", None),
    "GPT 5 Mini Inpt Glbl 1M Tokens": ("gpt-5-mini", "input_tokens"),
    "GPT 5 Mini cchd Inpt Glbl 1M Tokens": ("gpt-5-mini", "cache_read_tokens"),
    "GPT 5 Mini outpt Glbl 1M Tokens": ("gpt-5-mini", "output_tokens"),
    "gpt-4o-0806-Inp-glbl Tokens": ("gpt-4o-0806", "input_tokens"),
    "gpt-4o-0806-Outp-glbl Tokens": ("gpt-4o-0806", "output_tokens"),
    # Audio tokens are not text tokens: the class is not told, the money is kept.
    "gpt-4o-mini-tts-aud-out-glbl": ("gpt-4o-mini-tts-aud-out-glbl", None),
    "Speech to Text Standard Audio Hours": ("Speech to Text Standard Audio Hours", None),
    "Azure OpenAI Provisioned Managed reservation": ("Azure OpenAI Provisioned Managed reservation", None),
}


def _golden(path: Path) -> dict[str, object]:
    return json.loads((GOLDENS / "focus_csv" / (path.name + ".json")).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _is_ai(row: dict[str, str]) -> bool:
    return row["ServiceCategory"] == AI and row["ChargeCategory"] != "Tax"


def _meter(row: dict[str, str]) -> str:
    return row.get("SkuMeter") or row.get("x_SkuMeterName") or row["ChargeDescription"]


def _provider(row: dict[str, str]) -> str:
    return PROVIDERS[row.get("ServiceProviderName") or row["ProviderName"]]


def test_versions_are_sampled() -> None:
    headers = {p.name: set(p.read_text(encoding="utf-8").splitlines()[0].split(",")) for p in SAMPLE_FILES}
    assert any("SkuMeter" not in h for h in headers.values()), "a 1.0 export (no SkuMeter)"
    assert any("PricingCurrency" in h and "ServiceProviderName" not in h for h in headers.values()), "a 1.2 export"
    assert any("ServiceProviderName" in h for h in headers.values()), "a 1.3 export"


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_money_and_tokens_per_model_match_golden(path: Path) -> None:
    expected: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    billed: dict[str, Decimal] = defaultdict(Decimal)
    non_token: dict[str, Decimal] = defaultdict(Decimal)
    listed: dict[str, Decimal] = defaultdict(Decimal)
    credited: dict[str, Decimal] = defaultdict(Decimal)
    for row in _rows(path):
        if not _is_ai(row):
            continue
        model, column = METERS[_meter(row)]
        key = f"{_provider(row)}|{model}"
        cost = Decimal(row["BilledCost"])
        billed[key] += cost
        # A credit, or an adjustment or correction below zero (a refund): its ListCost is no list price of usage.
        gives_back = row["ChargeCategory"] == "Adjustment" or row["ChargeClass"] == "Correction"
        if row["ChargeCategory"] == "Credit" or (gives_back and cost < 0):
            credited[key] += cost
            expected[key]["adjustment_lines"] += 1
        else:
            listed[key] += Decimal(row["ListCost"] or 0)
        expected[key]["lines"] += 1
        # Tokens only for usage (not corrections) counted in tokens, of a meter that tells the class.
        if row["ChargeCategory"] == "Usage" and row["ChargeClass"] != "Correction" and column is not None:
            assert row["ConsumedUnit"] == "Tokens"
            expected[key][column] += int(row["ConsumedQuantity"])
        else:
            non_token[key] += cost
    models = _golden(path)["models"]
    assert isinstance(models, dict)
    assert set(models) == set(billed)
    for key, sums in expected.items():
        for column, value in sums.items():
            assert models[key].get(column, 0) == value, (key, column)
        assert Decimal(models[key].get("billed_nanos", 0)) / NANO == billed[key], key
        assert Decimal(models[key].get("billed_non_token_nanos", 0)) / NANO == non_token[key], key
        assert Decimal(models[key].get("source_list_nanos", 0)) / NANO == listed[key], key
        assert Decimal(models[key].get("billed_credit_nanos", 0)) / NANO == credited[key], key


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_rows_outside_ai_are_skipped(path: Path) -> None:
    rows = _rows(path)
    not_ai = sum(1 for r in rows if r["ServiceCategory"] != AI)
    tax = sum(1 for r in rows if r["ServiceCategory"] == AI and r["ChargeCategory"] == "Tax")
    golden = _golden(path)
    assert not_ai, "the sample mixes AI and non-AI rows"
    assert golden["rows"] == {
        "read": len(rows),
        "used": len(rows) - not_ai - tax,
        "skipped": not_ai + tax,
        "rejected": 0,
    }
    assert golden["skipped_reasons"] == {"not AI usage": not_ai, **({"tax": tax} if tax else {})}
    assert any(r["ChargeCategory"] in ("Credit", "Adjustment") for r in rows if r["ServiceCategory"] == AI)


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_billed_total_equals_billed_cost_of_the_ai_rows(run_cli, path: Path) -> None:  # type: ignore[no-untyped-def]
    data = run_cli(str(path), "--as-of", AS_OF.isoformat(), "--json", "-").json()
    ai_cost = sum((Decimal(r["BilledCost"]) for r in _rows(path) if _is_ai(r)), Decimal(0))
    assert Decimal(data["totals"]["billed_cost"]) == ai_cost
    assert sum((Decimal(u["billed_cost"]) for u in data["usage"]), Decimal(0)) == ai_cost


def test_bedrock_and_azure_meters_are_priced_and_others_stay_unpriced(run_cli) -> None:  # type: ignore[no-untyped-def]
    data = run_cli(*map(str, SAMPLE_FILES), "--as-of", AS_OF.isoformat(), "--json", "-").json()
    by_name = {(u["provider"], u["model_raw"]): u for u in data["usage"]}
    haiku = by_name[("aws", "global.Claude4.5Haiku")]
    assert haiku["model"] == "aws:global.anthropic.claude-haiku-4-5-20251001-v1:0"
    unknown = by_name[("aws", "Claude9Opus")]
    assert (unknown["model"], unknown["list_cost"], unknown["input_tokens"]) == (None, None, 10000)
    # 1,203,300 output tokens at gpt-5-mini's Azure price; its credit (-2.00) is money only.
    mini = by_name[("azure", "gpt-5-mini")]
    assert mini["output_tokens"] == 1203300 and mini["model"] == "azure:gpt-5-mini"
    # The catalog's list ($0.25 in, $0.025 cached, $2.00 out per million) equals the export's own ListCost.
    catalog_list = Decimal("12.4471") * Decimal("0.25") + Decimal("40.1022") * Decimal("0.025") + Decimal("1.2033") * 2
    assert Decimal(mini["list_cost"]) == catalog_list == Decimal("6.52093")
    # A bare month-day snapshot is the dated model of the curated list (pricing/data/azure_meters.toml).
    snapshot = by_name[("azure", "gpt-4o-0806")]
    assert (snapshot["model"], snapshot["input_tokens"]) == ("azure:gpt-4o", 2120500)
    from genai_prices import Usage, calc_price

    dated = calc_price(
        Usage(input_tokens=snapshot["input_tokens"], output_tokens=snapshot["output_tokens"]),
        "gpt-4o-2024-08-06",
        provider_id="azure",
    ).total_price
    assert Decimal(snapshot["list_cost"]) == dated.quantize(Decimal("1e-9"))


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_detected_from_the_header(path: Path, tmp_path: Path) -> None:
    assert detect(sniff(path), IMPORTERS).name == "focus_csv"
    minimal = tmp_path / "minimal.csv"
    minimal.write_text("ServiceName,ServiceCategory,ChargePeriodStart,ChargeCategory,BillingCurrency,BilledCost\n")
    assert detect(sniff(minimal), IMPORTERS).name == "focus_csv"


def _focus(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    header = [
        "BilledCost",
        "BillingCurrency",
        "ChargeCategory",
        "ChargeClass",
        "ChargeDescription",
        "ChargePeriodStart",
    ]
    header += ["ConsumedQuantity", "ConsumedUnit", "ProviderName", "ServiceCategory", "ServiceName", "SkuMeter"]
    path = tmp_path / "focus.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        base = {"ChargeCategory": "Usage", "ChargePeriodStart": "2026-10-01T00:00:00Z", "ServiceCategory": AI}
        writer.writerows({**base, **row} for row in rows)
    return path


def test_class_and_unit_decide_tokens(tmp_path: Path) -> None:
    azure = {"ProviderName": "Microsoft", "ServiceName": "Azure OpenAI Service", "BillingCurrency": "USD"}
    path = _focus(
        tmp_path,
        [
            # Both directions named: the class is unknown, tokens go nowhere.
            {
                **azure,
                "SkuMeter": "gpt-5 input and output",
                "ConsumedQuantity": "10",
                "ConsumedUnit": "Tokens",
                "BilledCost": "1",
            },
            # Counted in 1K tokens.
            {
                **azure,
                "SkuMeter": "o3 mini 0131 input glbl",
                "ConsumedQuantity": "2.5",
                "ConsumedUnit": "1K Tokens",
                "BilledCost": "2",
            },
            # Not tokens.
            {
                **azure,
                "SkuMeter": "gpt-4 Inp PTU",
                "ConsumedQuantity": "24",
                "ConsumedUnit": "Hours",
                "BilledCost": "3",
            },
            # FOCUS 1.0 AWS row: no SkuMeter, the description tells the class.
            {
                "ProviderName": "AWS",
                "ServiceName": "Amazon Bedrock",
                "BillingCurrency": "EUR",
                "ChargeDescription": "$0.0001 per 1K cache read input tokens for Claude Haiku 4.5",
                "ConsumedQuantity": "1000",
                "ConsumedUnit": "Tokens",
                "BilledCost": "0.0001",
            },
        ],
    )
    _, ingested = ingest_one(path)
    usage = ingested.usage.set_index("model_raw")
    assert ingested.account.rows_used == 4
    assert usage.loc["gpt-5 input and output", "input_tokens"] == 0
    assert usage.loc["gpt-5 input and output", "billed_non_token_nanos"] == NANO
    assert usage.loc["o3-mini-0131", "input_tokens"] == 2500  # the Azure meter names its model
    assert usage.loc["gpt-4 Inp PTU", "input_tokens"] == 0
    aws = usage.loc["$0.0001 per 1K cache read input tokens for Claude Haiku 4.5"]
    assert (aws["cache_read_tokens"], aws["currency"], aws["provider"]) == (1000, "EUR", "aws")


def test_rows_that_cannot_be_read_are_rejected(tmp_path: Path) -> None:
    row = {"ProviderName": "AWS", "ServiceName": "Amazon Bedrock", "SkuMeter": "USE1-NovaPro-input-tokens"}
    path = _focus(
        tmp_path,
        [
            {**row, "BillingCurrency": "USD", "ConsumedQuantity": "many", "ConsumedUnit": "Tokens", "BilledCost": "1"},
            {**row, "BillingCurrency": "USD", "ConsumedQuantity": "-5", "ConsumedUnit": "Tokens", "BilledCost": "1"},
            {**row, "BillingCurrency": "", "ConsumedQuantity": "5", "ConsumedUnit": "Tokens", "BilledCost": "1"},
            {**row, "BillingCurrency": "USD", "ConsumedQuantity": "5", "ConsumedUnit": "Tokens", "BilledCost": ""},
        ],
    )
    _, ingested = ingest_one(path)
    assert [(r.line, r.column) for r in ingested.account.rejected] == [
        (2, "ConsumedQuantity"),
        (3, "ConsumedQuantity"),
        (4, "BillingCurrency"),
        (5, "BilledCost"),
    ]
