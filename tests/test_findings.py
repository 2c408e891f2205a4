"""Waste and quick wins: each rule fires on the workload it describes, with its saving
recomputed here request by request with genai_prices.calc_price, and stays silent where it should."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
from genai_prices import Usage, calc_price

from auditor.findings import BATCH_SHARE, CACHE_SHARE, PEAK_SHARE, READS_PER_WRITE, build_findings
from auditor.ledger import TOKEN_COLUMNS
from auditor.result import Finding
from auditor.workload import MODEL_REF, SHAPE_KEYS, Pricebook
from tests.conftest import AS_OF

NOON = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 12, tzinfo=UTC)
NANO = Decimal("1e-9")


def _findings(*rows: dict[str, object]) -> tuple[list[Finding], Pricebook]:
    """Findings of a shape table holding `rows` (provider, model_raw, tokens, requests, tier, slot; by default
    from a source that counts requests)."""
    defaults: dict[str, object] = {
        "project": "",
        "api_key": "",
        "service_tier": "standard",
        "time_slot": -1,
        "request_size_floor_tokens": 0,
        "requests_known": 1,
        "requests": 0,
        **dict.fromkeys(TOKEN_COLUMNS, 0),
    }
    shape = pd.DataFrame([{**defaults, **row} for row in rows])
    book = Pricebook()
    shape[MODEL_REF] = book.model_refs(shape)
    shape = shape[[*SHAPE_KEYS, "requests", *TOKEN_COLUMNS]]
    return build_findings(shape, book, AS_OF), book


def _of(findings: list[Finding], kind: str) -> list[Finding]:
    return [f for f in findings if f.kind == kind]


def _price(
    model: str, provider: str, at: datetime = NOON, context: dict[str, str] | None = None, **usage: int
) -> Decimal:
    return calc_price(
        Usage(**usage), model, provider_id=provider, genai_request_timestamp=at, price_context=context
    ).total_price


def test_standard_traffic_on_a_model_with_a_batch_price_is_batch_eligible() -> None:
    found, _ = _findings(
        {
            "provider": "anthropic",
            "model_raw": "claude-sonnet-4-5-20250929",
            "requests": 1000,
            "input_tokens": 1_000_000,
            "output_tokens": 100_000,
        }
    )
    (finding,) = _of(found, "batch_eligible")
    standard = 1000 * _price("claude-sonnet-4-5", "anthropic", input_tokens=1000, output_tokens=100)
    batch = 1000 * _price(
        "claude-sonnet-4-5", "anthropic", NOON, {"processing": "batch"}, input_tokens=1000, output_tokens=100
    )
    assert batch < standard
    assert finding.estimated_savings == (BATCH_SHARE * (standard - batch)).quantize(NANO)
    assert finding.model == "anthropic:claude-sonnet-4-5"
    assert "25%" in finding.assumption


def test_traffic_already_on_batch_is_not_batch_eligible() -> None:
    found, _ = _findings(
        {
            "provider": "anthropic",
            "model_raw": "claude-sonnet-4-5-20250929",
            "requests": 1000,
            "service_tier": "batch",
            "input_tokens": 1_000_000,
            "output_tokens": 100_000,
        }
    )
    assert not _of(found, "batch_eligible")


def test_small_requests_on_a_premium_model_move_to_the_vendors_small_model() -> None:
    found, _ = _findings(
        {
            "provider": "openai",
            "model_raw": "gpt-4o",
            "requests": 1000,
            "input_tokens": 500_000,
            "output_tokens": 50_000,
        }
    )
    (finding,) = _of(found, "premium_small_requests")
    now = 1000 * _price("gpt-4o", "openai", input_tokens=500, output_tokens=50)
    small = 1000 * _price("gpt-5-mini", "openai", input_tokens=500, output_tokens=50)
    assert finding.target == "openai:gpt-5-mini"
    assert finding.estimated_savings == (now - small).quantize(NANO)
    assert finding.evidence["average_input"] == "500" and finding.evidence["average_output"] == "50"


def test_requests_counted_in_rows_of_their_own_average_over_their_sources_tokens() -> None:
    """DeepSeek's usage export counts requests in rows of their own (`request_count`), beside the rows of tokens: the
    averages are of the tokens and requests of the sources that count requests, not of the rows that hold requests
    (those have no tokens: 0 tokens a request). A usage export that counts no requests is left out of them."""
    tokens = {"provider": "openai", "model_raw": "gpt-4o", "input_tokens": 1_500_000, "output_tokens": 90_000}
    requests = {"provider": "openai", "model_raw": "gpt-4o", "requests": 1000}
    uncounted = {**tokens, "requests_known": 0, "input_tokens": 90_000_000, "api_key": "cost export"}
    found, _ = _findings(tokens, requests, uncounted)
    (small,) = _of(found, "premium_small_requests")
    assert small.evidence["average_input"] == "1500" and small.evidence["average_output"] == "90"
    assert small.evidence["requests"] == "1000"
    now = 1000 * _price("gpt-4o", "openai", input_tokens=1500, output_tokens=90)
    target = 1000 * _price("gpt-5-mini", "openai", input_tokens=1500, output_tokens=90)
    assert small.estimated_savings == (now - target).quantize(NANO)
    (cache,) = _of(found, "cache_not_used")
    assert cache.evidence["average_request_input"] == "1500"


def test_large_requests_are_not_flagged_as_small() -> None:
    found, _ = _findings(
        {"provider": "openai", "model_raw": "gpt-4o", "requests": 100, "input_tokens": 500_000, "output_tokens": 50_000}
    )
    assert not _of(found, "premium_small_requests")


def test_large_repeated_input_without_cache_reads_is_cache_not_used() -> None:
    found, _ = _findings(
        {
            "provider": "openai",
            "model_raw": "gpt-4o",
            "requests": 1000,
            "input_tokens": 3_000_000,
            "output_tokens": 100_000,
        }
    )
    (finding,) = _of(found, "cache_not_used")
    per = Decimal(1_000_000)
    plain = _price("gpt-4o", "openai", input_tokens=1_000_000) / per
    read = _price("gpt-4o", "openai", input_tokens=1_000_000, cache_read_tokens=1_000_000) / per
    write = _price("gpt-4o", "openai", input_tokens=1_000_000, cache_write_tokens=1_000_000) / per
    assert read < plain
    cached = CACHE_SHARE * 3_000_000
    expected = cached * plain - cached * (READS_PER_WRITE * read + write) / (READS_PER_WRITE + 1)
    assert finding.estimated_savings == expected.quantize(NANO)
    assert finding.evidence["cache_read_share"] == "0.0000"


def test_traffic_that_reads_its_cache_is_not_flagged() -> None:
    found, _ = _findings(
        {
            "provider": "openai",
            "model_raw": "gpt-4o",
            "requests": 1000,
            "input_tokens": 3_000_000,
            "cache_read_tokens": 3_000_000,
            "output_tokens": 100_000,
        }
    )
    assert not _of(found, "cache_not_used")


def test_peak_hour_traffic_on_a_model_with_time_of_day_prices_could_move_off_peak() -> None:
    # Slot 20 is 10:00-10:30 UTC: DeepSeek's standard hours; 18:00 UTC is in its discount window.
    found, _ = _findings(
        {
            "provider": "deepseek",
            "model_raw": "deepseek-chat",
            "time_slot": 20,
            "requests": 100,
            "input_tokens": 100_000,
            "output_tokens": 20_000,
        }
    )
    (finding,) = _of(found, "peak_shift")
    peak = 100 * _price("deepseek-chat", "deepseek", NOON.replace(hour=10), input_tokens=1000, output_tokens=200)
    off = 100 * _price("deepseek-chat", "deepseek", NOON.replace(hour=18), input_tokens=1000, output_tokens=200)
    assert off < peak
    assert finding.estimated_savings == (PEAK_SHARE * (peak - off)).quantize(NANO)


def test_daily_buckets_and_off_peak_traffic_are_not_peak_shifts() -> None:
    found, _ = _findings(
        {
            "provider": "deepseek",
            "model_raw": "deepseek-chat",
            "time_slot": -1,
            "requests": 100,
            "input_tokens": 100_000,
            "output_tokens": 20_000,
        },
        {
            "provider": "deepseek",
            "model_raw": "deepseek-chat",
            "time_slot": 36,
            "requests": 100,
            "input_tokens": 100_000,
            "output_tokens": 20_000,
        },
    )
    assert not _of(found, "peak_shift")


def test_findings_are_in_the_audit_result_largest_saving_first() -> None:
    from auditor.options import AuditOptions
    from auditor.pipeline import run_audit
    from tests.conftest import SAMPLES

    result = run_audit(AuditOptions(inputs=(SAMPLES / "openai_usage_csv",), as_of=AS_OF))
    assert result.findings
    savings = [f.estimated_savings for f in result.findings]
    assert savings == sorted(savings, reverse=True) and all(s > 0 for s in savings)
