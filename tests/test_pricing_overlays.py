"""Price overlays against genai_prices.calc_price, request by request, and hand-computed vendor tables.

The expected value of a request an overlay touches is computed from the overlay's rule as written here, not
from the code: DeepSeek's peak windows count Monday to Friday only from 2026-08-23 and not before 2026-08-17
(such a request costs what genai-prices charges at 12:00 UTC that day, an off-peak hour); batch lines before
the catalog's batch prices (2026-10-14) cost half of genai-prices' standard price, for models whose catalog
batch price halves every class (claude-sonnet-4-5, gpt-5).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from genai_prices import Usage, calc_price
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.costing import total_cost
from auditor.ingest import ingest_ledger
from auditor.ledger import SIZE_BASIS_REQUEST, ledger_frame
from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.result import money
from auditor.scan import scan_connection
from auditor.workload import Pricebook
from pricing.catalog import lookup_candidate
from pricing.overlays import overlays
from pricing.rates import class_rates
from tests.conftest import AS_OF, SAMPLES

WINDOWS_FROM = date(2026, 8, 17)
WEEKDAYS_FROM = date(2026, 8, 23)
CATALOG_BATCH_FROM = date(2026, 10, 14)
MTOK = Decimal(1_000_000)

request = st.fixed_dictionaries(
    {
        "model": st.sampled_from(
            [
                ("deepseek", "deepseek-flash"),
                ("deepseek", "deepseek-v4-flash"),
                ("deepseek", "deepseek-v4-pro"),
                ("anthropic", "claude-sonnet-4-5"),
                ("openai", "gpt-5"),
            ]
        ),
        "day": st.dates(min_value=date(2026, 8, 1), max_value=date(2026, 11, 27)),
        "minute": st.integers(0, 24 * 60 - 1),
        "input": st.one_of(st.integers(0, 20_000), st.integers(190_000, 260_000)),
        "read": st.integers(0, 50_000),
        "write_5m": st.integers(0, 10_000),
        "write_1h": st.integers(0, 10_000),
        "output": st.integers(0, 10_000),
        "reasoning_share": st.sampled_from([0, 0.5]),
        "tier": st.sampled_from(["standard", "batch"]),
    }
)


def _usage(r: dict[str, object]) -> Usage:
    provider = r["model"][0]  # type: ignore[index]
    writes = (int(r["write_5m"]) + int(r["write_1h"])) if provider == "anthropic" else 0  # type: ignore[call-overload]
    reasoning = int(int(r["output"]) * float(r["reasoning_share"]))  # type: ignore[call-overload, arg-type]
    return Usage(
        input_tokens=int(r["input"]) + int(r["read"]) + writes,  # type: ignore[call-overload]
        cache_read_tokens=r["read"],
        cache_write_tokens=writes,
        cache_write_5m_tokens=r["write_5m"] if writes else 0,
        cache_write_1h_tokens=r["write_1h"] if writes else 0,
        output_tokens=r["output"],
        output_reasoning_tokens=reasoning,
    )


def _expected(r: dict[str, object]) -> Decimal:
    provider, model = r["model"]  # type: ignore[misc]
    day = r["day"]
    assert isinstance(day, date)
    at = datetime.combine(day, time(0), tzinfo=UTC) + timedelta(minutes=int(r["minute"]))  # type: ignore[call-overload]
    if provider == "deepseek":
        weekend = day.weekday() >= 5
        if day < WINDOWS_FROM or (day >= WEEKDAYS_FROM and weekend):
            at = datetime.combine(day, time(12, 0), tzinfo=UTC)  # off-peak on every day in the catalog
        return calc_price(_usage(r), model, provider_id=provider, genai_request_timestamp=at).total_price
    if r["tier"] == "batch" and day < CATALOG_BATCH_FROM:
        standard = calc_price(_usage(r), model, provider_id=provider, genai_request_timestamp=at).total_price
        return standard / 2
    context = {"processing": "batch"} if r["tier"] == "batch" else None
    return calc_price(
        _usage(r), model, provider_id=provider, genai_request_timestamp=at, price_context=context
    ).total_price


@settings(max_examples=20, deadline=None)
@given(requests=st.lists(request, min_size=1, max_size=30))
def test_overlaid_prices_equal_the_rule_applied_to_genai_prices(requests: list[dict[str, object]]) -> None:
    def column(f):  # type: ignore[no-untyped-def]
        return [f(r) for r in requests]

    deepseek = column(lambda r: r["model"][0] == "deepseek")
    no_writes = column(lambda r: r["model"][0] != "anthropic")  # only Anthropic bills cache writes here
    lines = ledger_frame(
        len(requests),
        provider=column(lambda r: r["model"][0]),
        model_raw=column(lambda r: r["model"][1]),
        day=column(lambda r: r["day"].isoformat()),
        size_basis=SIZE_BASIS_REQUEST,
        # DeepSeek has no batch API: its lines are standard.
        service_tier=[("standard" if d else r["tier"]) for d, r in zip(deepseek, requests, strict=True)],
        time_slot=column(lambda r: int(r["minute"]) // 30),
        requests=1,
        input_tokens=column(lambda r: r["input"]),
        cache_read_tokens=column(lambda r: r["read"]),
        cache_write_tokens=[0 if n else r["write_5m"] for n, r in zip(no_writes, requests, strict=True)],
        cache_write_1h_tokens=[0 if n else r["write_1h"] for n, r in zip(no_writes, requests, strict=True)],
        output_tokens=column(lambda r: r["output"]),
        reasoning_tokens=column(lambda r: int(int(r["output"]) * float(r["reasoning_share"]))),
    )
    for d, r in zip(deepseek, requests, strict=True):
        if d:
            r["tier"] = "standard"
    pricebook = Pricebook()
    with scan_connection() as con:
        usage, _ = ingest_ledger(con, lines, pricebook, 0)
    actual = total_cost(usage, usage["list_rate_id"].to_numpy(), pricebook.rates.rates)
    assert money(actual) == money(sum((_expected(r) for r in requests), Decimal(0)))


def _per_mtok(ref: str, day: date, slot: int, tier: str = "standard", floor: int = 0) -> dict[str, Decimal]:
    rates = class_rates(lookup_candidate(ref), day, slot, tier, floor)
    names = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "reasoning")
    return {n: (r * MTOK).normalize() for n, r in zip(names, rates.per_token, strict=True)}


# USD per million tokens, copied from the vendors' pricing pages (classes a vendor does not bill separately are
# billed as its input or output price there).
HAND_TABLES = [
    # platform.claude.com/docs/en/about-claude/pricing: Sonnet 4.5 $3 input, $3.75 5m write, $6 1h write,
    # $0.30 cache hit, $15 output; > 200k input tokens: $6 / $7.50 / $12 / $0.60 / $22.50. Batch: 50%.
    ("anthropic:claude-sonnet-4-5", date(2026, 11, 25), 0, "standard", 0, ("3", "0.3", "3.75", "6", "15", "15")),
    (
        "anthropic:claude-sonnet-4-5",
        date(2026, 3, 2),
        0,
        "standard",
        200_000,
        ("6", "0.6", "7.5", "12", "22.5", "22.5"),
    ),
    ("anthropic:claude-sonnet-4-5", date(2026, 3, 2), 0, "batch", 0, ("1.5", "0.15", "1.875", "3", "7.5", "7.5")),
    # openai.com/api/pricing: gpt-5 $1.25 input, $0.125 cached input, $10 output (reasoning billed as output);
    # Batch API: $0.625 / $0.0625 / $5.
    ("openai:gpt-5", date(2026, 11, 25), 0, "standard", 0, ("1.25", "0.125", "1.25", "1.25", "10", "10")),
    ("openai:gpt-5", date(2025, 9, 1), 0, "batch", 0, ("0.625", "0.0625", "0.625", "0.625", "5", "5")),
    # api-docs.deepseek.com/quick_start/pricing: deepseek-flash off-peak $0.15 miss / $0.003 hit / $0.60 output,
    # peak (Mon-Fri 01:00-04:00 and 06:00-10:00 UTC) 2x: $0.30 / $0.006 / $1.20; no cache-write charge.
    ("deepseek:deepseek-flash", date(2026, 11, 27), 14, "standard", 0, ("0.3", "0.006", "0.3", "0.3", "1.2", "1.2")),
    ("deepseek:deepseek-flash", date(2026, 11, 28), 14, "standard", 0, ("0.15", "0.003", "0.15", "0.15", "0.6", "0.6")),
    ("deepseek:deepseek-flash", date(2026, 11, 27), 24, "standard", 0, ("0.15", "0.003", "0.15", "0.15", "0.6", "0.6")),
]


@pytest.mark.parametrize(("ref", "day", "slot", "tier", "floor", "table"), HAND_TABLES)
def test_hand_computed_vendor_tables(
    ref: str, day: date, slot: int, tier: str, floor: int, table: tuple[str, ...]
) -> None:
    names = ("input", "cache_read", "cache_write_5m", "cache_write_1h", "output", "reasoning")
    assert _per_mtok(ref, day, slot, tier, floor) == {
        n: Decimal(v).normalize() for n, v in zip(names, table, strict=True)
    }


def test_every_overlay_is_sourced_and_dated() -> None:
    data = overlays()
    assert data.weekday_windows and data.early_batch
    for o in (*data.weekday_windows, *data.early_batch):
        assert o.source.strip() and o.checked <= date.today()
    for w in data.weekday_windows:
        for model in w.models:
            lookup_candidate(f"{w.provider}:{model}")  # every model named is in the catalog


def test_weekend_peak_hour_is_off_peak_at_deepseek() -> None:
    # The same request on a Friday and on a Saturday at 07:00 UTC (inside a peak window).
    sat = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
    fri = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
    lines = ledger_frame(
        2,
        provider="deepseek",
        model_raw="deepseek-flash",
        day=[sat.date().isoformat(), fri.date().isoformat()],
        size_basis=SIZE_BASIS_REQUEST,
        service_tier="standard",
        time_slot=14,
        requests=1,
        input_tokens=1_000_000,
        output_tokens=1_000_000,
    )
    pricebook = Pricebook()
    with scan_connection() as con:
        usage, _ = ingest_ledger(con, lines, pricebook, 0)
    costs = dict(
        zip(
            usage["day"].astype(str),
            [
                total_cost(usage.iloc[[i]], usage["list_rate_id"].to_numpy()[[i]], pricebook.rates.rates)
                for i in range(len(usage))
            ],
            strict=True,
        )
    )
    # 1M input + 1M output: peak $0.30 + $1.20 on Friday; off-peak $0.15 + $0.60 on Saturday (vendor page).
    assert money(costs["2026-11-20"]) == money(Decimal("1.5"))
    assert money(costs["2026-11-21"]) == money(Decimal("0.75"))
    # The catalog alone charges the peak price on Saturday too: the overlay is what changed it.
    assert calc_price(
        Usage(input_tokens=1_000_000, output_tokens=1_000_000),
        "deepseek-flash",
        provider_id="deepseek",
        genai_request_timestamp=sat,
    ).total_price == Decimal("1.5")
    assert pricebook.rates.overlays_used == {"deepseek-weekday-peak"}


def test_batch_overlay_named_in_result_notes() -> None:
    # Anthropic Message Batches results dated before the catalog's batch prices.
    path = next((SAMPLES / "anthropic_batch_results_jsonl").iterdir())
    result = run_audit(AuditOptions(inputs=(path,), as_of=AS_OF, batch_dates=(f"{path}=2026-06-01",)))
    assert any(
        "anthropic-batch-since-launch" in n and "anthropic.com/news/message-batches-api" in n for n in result.notes
    )
    later = run_audit(AuditOptions(inputs=(path,), as_of=AS_OF, batch_dates=(f"{path}=2026-11-02",)))
    assert not any("anthropic-batch-since-launch" in n for n in later.notes)
