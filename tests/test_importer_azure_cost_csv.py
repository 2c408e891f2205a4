"""Azure cost details: AI meters audited (tokens from 1K/1M blocks), other services skipped, money to the cent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from genai_prices import Usage, calc_price

from tests.conftest import AS_OF, SAMPLES
from tests.conftest import csv_rows as _rows

SAMPLE = SAMPLES / "azure_cost_csv" / "cost-details-2026-09.csv"
AI = {"Microsoft.CognitiveServices"}


def test_ai_lines_billed_as_their_cost_column_and_the_rest_skipped(run_cli) -> None:  # type: ignore[no-untyped-def]
    data = run_cli(str(SAMPLE), "--as-of", AS_OF.isoformat(), "--json", "-").json()
    rows = _rows(SAMPLE)
    ai = [r for r in rows if r["consumedService"] in AI]
    entry = data["inputs"][0]
    assert (entry["rows_read"], entry["rows_used"], entry["rows_skipped"]) == (len(rows), len(ai), len(rows) - len(ai))
    assert entry["skipped_reasons"] == {"not AI usage": len(rows) - len(ai)}
    assert Decimal(data["totals"]["billed_cost"]) == sum(Decimal(r["costInBillingCurrency"]) for r in ai)


def test_token_meters_in_1m_and_1k_blocks_and_refunds_carry_no_tokens(run_cli) -> None:  # type: ignore[no-untyped-def]
    data = run_cli(str(SAMPLE), "--as-of", AS_OF.isoformat(), "--json", "-").json()
    usage = {u["model_raw"]: u for u in data["usage"]}
    mini = usage["gpt-5-mini"]
    # 12.4471 blocks of 1M input, 40.1022 of 1M cached input, 1.8302 of 1M output; the refund line adds none.
    assert (mini["input_tokens"], mini["cache_read_tokens"], mini["output_tokens"]) == (
        12_447_100,
        40_102_200,
        1_830_200,
    )
    expected = calc_price(
        Usage(input_tokens=12_447_100 + 40_102_200, cache_read_tokens=40_102_200, output_tokens=1_830_200),
        "gpt-5-mini", provider_id="openai", genai_request_timestamp=datetime(2026, 9, 14, 12, tzinfo=UTC),
    ).total_price  # fmt: skip
    assert Decimal(mini["list_cost"]) == expected.quantize(Decimal("1e-9"))
    assert (usage["gpt-4.1-mini"]["input_tokens"], usage["gpt-4.1-mini"]["cache_read_tokens"]) == (812_250, 3_120_500)
    # A snapshot written as a bare month-day is the one gpt-4o version with that date (pricing/data/azure_meters.toml).
    snapshot = usage["gpt-4o-0806"]
    assert snapshot["model"] == "azure:gpt-4o" and snapshot["input_tokens"] == 2_120_500
    at_list = calc_price(
        Usage(input_tokens=snapshot["input_tokens"], output_tokens=snapshot["output_tokens"]),
        "gpt-4o-2024-08-06", provider_id="azure", genai_request_timestamp=datetime(2026, 9, 15, 12, tzinfo=UTC),
    ).total_price  # fmt: skip
    assert Decimal(snapshot["list_cost"]) == at_list.quantize(Decimal("1e-9"))


def test_a_meter_snapshot_not_in_the_curated_list_stays_unpriced(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = SAMPLE.read_text(encoding="utf-8-sig").replace("gpt-4o-0806", "gpt-4o-0101")
    path = tmp_path / "cost-details.csv"
    path.write_text(text, encoding="utf-8-sig")
    usage = {u["model_raw"]: u for u in run_cli(str(path), "--json", "-").json()["usage"]}
    assert usage["gpt-4o-0101"]["list_cost"] is None and usage["gpt-4o-0101"]["input_tokens"] == 2_120_500


EA = SAMPLES / "azure_cost_csv" / "ea-cost-details-2026-10.csv"


def test_the_ea_export_in_pascal_case_reads_as_the_mca_export(run_cli) -> None:  # type: ignore[no-untyped-def]
    """The EA / pay-as-you-go cost details write `MeterName`, `Quantity`, `CostInBillingCurrency`: the same rows
    (a month later) give the same tokens and charges as the MCA sample."""
    ea = run_cli(str(EA), "--as-of", AS_OF.isoformat(), "--json", "-").json()
    mca = run_cli(str(SAMPLE), "--as-of", AS_OF.isoformat(), "--json", "-").json()
    assert ea["inputs"][0]["format"] == "azure_cost_csv"
    fields = ("model_raw", "input_tokens", "cache_read_tokens", "output_tokens", "billed_cost")
    assert [[u[f] for f in fields] for u in ea["usage"]] == [[u[f] for f in fields] for u in mca["usage"]]
    rows = _rows(EA)
    ai = [r for r in rows if r["ConsumedService"] in AI]
    assert Decimal(ea["totals"]["billed_cost"]) == sum(Decimal(r["CostInBillingCurrency"]) for r in ai)


def test_the_legacy_usage_details_without_a_currency_are_refused(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    legacy = tmp_path / "usage-details-v1.csv"
    legacy.write_text(
        "DepartmentName,AccountName,AccountOwnerId,SubscriptionGuid,SubscriptionName,ResourceGroup,ResourceLocation,"
        "UsageDateTime,ProductName,MeterCategory,MeterSubcategory,MeterId,MeterName,MeterRegion,UnitOfMeasure,"
        "UsageQuantity,ResourceRate,PreTaxCost,CostCenter,ConsumedService,ResourceType,InstanceId,Tags,OfferId,"
        "AdditionalInfo,ServiceInfo1,ServiceInfo2\r\n"
        "AI,acme,owner@acme.example,9f1c2d3e-0000-4000-8000-1234567890ab,prod-ai,rg-ai,swedencentral,2026-09-14,"
        "Azure OpenAI,Cognitive Services,Azure OpenAI,00000000-0000-0000-0000-000000000000,gpt-4o-0806-Inp-glbl Tokens,"
        "Sweden Central,1K,1200,0.0025,3.0,,Microsoft.CognitiveServices,accounts,/subscriptions/x/resourceGroups/rg-ai/"
        "providers/Microsoft.CognitiveServices/accounts/aoai-prod,,MS-AZR-0017P,,,\r\n",
        encoding="utf-8",
    )
    outcome = run_cli(str(legacy), "--json", "-")
    assert outcome.status == 2
    first = outcome.err.splitlines()[0]
    assert str(legacy) in first and "azure_cost_csv (missing billingCurrency)" in first
