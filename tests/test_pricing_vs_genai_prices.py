"""Segment pricing equals genai_prices.calc_price summed request by request (list cost and scenarios)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from genai_prices import Usage, calc_price
from hypothesis import HealthCheck, given, settings
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
from tests.conftest import AS_OF

OPENROUTER_HEADER = (
    "generation_id,created_at,cost_total,cost_web_search,cost_cache,cost_file_processing,byok_usage_inference,"
    "tokens_prompt,tokens_completion,tokens_reasoning,tokens_cached,model_permaslug,provider_name,variant,"
    "cancelled,streamed,user,finish_reason_raw,finish_reason_normalized,generation_time_ms,"
    "time_to_first_token_ms,api_key_disabled,api_key_name,app_name"
)
# Models with long-context tiers (gemini-2.5-pro > 200k, qwen3.7-plus > 256k) and flat ones.
SLUGS = ("google/gemini-2.5-pro", "qwen/qwen3.7-plus", "openai/gpt-4.1", "anthropic/claude-sonnet-4.5")
# Candidates with peak windows (deepseek), a > 512k tier (minimax), cache writes (anthropic), 272k (openai).
CANDIDATES = (
    "deepseek:deepseek-flash",
    "minimax:minimax-m3",
    "anthropic:claude-sonnet-4-5",
    "openai:gpt-5.4",
)

request = st.fixed_dictionaries(
    {
        "slug": st.sampled_from(SLUGS),
        "at": st.datetimes(min_value=datetime(2026, 9, 1), max_value=datetime(2026, 11, 20)),
        "prompt": st.one_of(st.integers(0, 5_000), st.integers(190_000, 290_000), st.integers(500_000, 700_000)),
        "cached_share": st.sampled_from([0, 0.5, 0.9]),
        "completion": st.integers(0, 20_000),
        "reasoning_share": st.sampled_from([0, 0.3]),
    }
)


def _write_log(path: Path, requests: list[dict[str, object]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OPENROUTER_HEADER.split(","))
    for i, r in enumerate(requests):
        at = r["at"]
        assert isinstance(at, datetime)
        cached = int(int(r["prompt"]) * float(r["cached_share"]))  # type: ignore[arg-type]
        reasoning = int(int(r["completion"]) * float(r["reasoning_share"]))  # type: ignore[arg-type]
        writer.writerow(
            [
                f"gen-{i}",
                at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
                "0.01",
                "0",
                "0",
                "0",
                "0",
                r["prompt"],
                r["completion"],
                reasoning,
                cached,
                r["slug"],
                "X",
                "standard",
                "false",
                "true",
                "",
                "stop",
                "stop",
                "1",
                "1",
                "false",
                "key",
                "app",
            ]
        )
    path.write_text(out.getvalue(), encoding="utf-8")


def _usage(r: dict[str, object]) -> Usage:
    cached = int(int(r["prompt"]) * float(r["cached_share"]))  # type: ignore[arg-type]
    reasoning = int(int(r["completion"]) * float(r["reasoning_share"]))  # type: ignore[arg-type]
    return Usage(
        input_tokens=r["prompt"],
        cache_read_tokens=cached,
        output_tokens=r["completion"],
        output_reasoning_tokens=reasoning,
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requests=st.lists(request, min_size=1, max_size=30))
def test_request_log_priced_exactly_as_genai_prices(tmp_path: Path, requests: list[dict[str, object]]) -> None:
    path = tmp_path / "log.csv"
    _write_log(path, requests)
    # Observed tokens: per-model-family defaults of the assumptions would change them (tests/test_model_families.py).
    result = run_audit(AuditOptions(inputs=(path,), as_of=AS_OF, candidates=CANDIDATES, assume=("neutral",)))

    expected_list: dict[str, Decimal] = {}
    for r in requests:
        at = r["at"].replace(tzinfo=UTC)  # type: ignore[attr-defined]
        price = calc_price(_usage(r), str(r["slug"]), provider_id="openrouter", genai_request_timestamp=at)
        expected_list[str(r["slug"])] = expected_list.get(str(r["slug"]), Decimal(0)) + price.total_price
    actual_list = {u.model_raw: u.list_cost for u in result.usage}
    assert actual_list == {k: money(v) for k, v in expected_list.items()}

    for scenario in (s for s in result.scenarios if s.kind == "single"):
        provider_id, model_id = scenario.candidate.split(":", 1)
        expected = Decimal(0)
        for r in requests:
            at = r["at"]  # the request's time of day, on the as-of date
            when = datetime.combine(AS_OF, time(at.hour, at.minute, at.second), tzinfo=UTC)  # type: ignore[attr-defined]
            if provider_id == "deepseek":
                # Peak windows hold on weekdays only (pricing/data/price_overlays.toml): a projection spreads the
                # traffic evenly over the seven days from as-of, a weekend day at the off-peak (noon UTC) price.
                days = [when + timedelta(days=n) for n in range(7)]
                prices = [
                    calc_price(
                        _usage(r),
                        model_id,
                        provider_id=provider_id,
                        genai_request_timestamp=d if d.weekday() < 5 else d.replace(hour=12, minute=0, second=0),
                    ).total_price
                    for d in days
                ]
                expected += sum(prices, Decimal(0)) / 7
                continue
            expected += calc_price(
                _usage(r), model_id, provider_id=provider_id, genai_request_timestamp=when
            ).total_price
        assert scenario.projected_cost == money(expected), scenario.candidate


anthropic_request = st.fixed_dictionaries(
    {
        "input": st.one_of(st.integers(0, 50_000), st.integers(150_000, 260_000)),
        "read": st.integers(0, 100_000),
        "write_5m": st.integers(0, 30_000),
        "write_1h": st.integers(0, 30_000),
        "output": st.integers(0, 10_000),
        "tier": st.sampled_from(["standard", "batch"]),
        "minute": st.integers(0, 24 * 60 - 1),
    }
)


@settings(max_examples=40, deadline=None)
@given(
    requests=st.lists(anthropic_request, min_size=1, max_size=40),
    ref=st.sampled_from(
        [
            "anthropic:claude-sonnet-4-5",
            "anthropic:claude-haiku-5-5",
            "openai:gpt-5.4",
            "deepseek:deepseek-flash",
            "google:gemini-2.5-pro",
        ]
    ),
)
def test_cache_classes_tiers_and_batch_priced_exactly(requests: list[dict[str, int | str]], ref: str) -> None:
    """All token classes, tier cliffs, batch variants and time slots, through the same segment path."""
    day = date(2026, 11, 25)
    lines = ledger_frame(
        len(requests),
        provider="anthropic",
        model_raw="m",
        day=day.isoformat(),
        size_basis=SIZE_BASIS_REQUEST,
        service_tier=[r["tier"] for r in requests],
        time_slot=[int(r["minute"]) // 30 for r in requests],
        requests=1,
        input_tokens=[r["input"] for r in requests],
        cache_read_tokens=[r["read"] for r in requests],
        cache_write_tokens=[r["write_5m"] for r in requests],
        cache_write_1h_tokens=[r["write_1h"] for r in requests],
        output_tokens=[r["output"] for r in requests],
    )
    pricebook = Pricebook()
    with scan_connection() as con:
        _, shape = ingest_ledger(con, lines, pricebook, 0)
    model = lookup_candidate(ref)
    # Priced on that one day (a Wednesday): `on_day` would spread a projection over the week.
    ids = pricebook.rates.rate_ids(shape.assign(day=day.isoformat()), {}, fixed=model)
    actual = total_cost(shape, ids, pricebook.rates.rates)

    expected = Decimal(0)
    for r in requests:
        writes = int(r["write_5m"]) + int(r["write_1h"])
        usage = Usage(
            input_tokens=int(r["input"]) + int(r["read"]) + writes,
            cache_read_tokens=r["read"],
            cache_write_tokens=writes,
            cache_write_5m_tokens=r["write_5m"],
            cache_write_1h_tokens=r["write_1h"],
            output_tokens=r["output"],
        )
        at = datetime.combine(day, time(0), tzinfo=UTC) + timedelta(minutes=int(r["minute"]))
        context = {"processing": "batch"} if r["tier"] == "batch" else None
        expected += calc_price(
            usage,
            model.model.id,
            provider_id=model.provider.id,
            genai_request_timestamp=at,
            price_context=context,
        ).total_price
    assert money(actual) == money(expected)
