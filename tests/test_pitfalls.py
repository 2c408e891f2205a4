"""One test per applicable pitfall of other cost tools (pitfalls-and-asks.md), named after it.

Each runs this tool on a small input in the vendor's real format (or the rate lookup the audit uses) and
computes the expected figure independently: from the vendor's published price or genai_prices.calc_price.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.result import money
from pricing.catalog import lookup_candidate
from pricing.rates import class_rates
from tests.conftest import AS_OF

MTOK = Decimal(1_000_000)
OPENROUTER_HEADER = (
    "generation_id,created_at,cost_total,cost_web_search,cost_cache,cost_file_processing,byok_usage_inference,"
    "tokens_prompt,tokens_completion,tokens_reasoning,tokens_cached,model_permaslug,provider_name,variant,"
    "cancelled,streamed,user,finish_reason_raw,finish_reason_normalized,generation_time_ms,"
    "time_to_first_token_ms,api_key_disabled,api_key_name,app_name"
)


def _openrouter(path: Path, rows: list[tuple[str, str, int, int, int, int, str]]) -> Path:
    """OpenRouter activity rows: (generation_id, created_at, prompt, completion, reasoning, cached, slug)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OPENROUTER_HEADER.split(","))
    for gen, at, prompt, completion, reasoning, cached, slug in rows:
        writer.writerow(
            [
                *(gen, at, "0.01", "0", "0", "0", "0", prompt, completion, reasoning, cached, slug, "X", "standard"),
                *("false", "true", "", "stop", "stop", "1", "1", "false", "key", "app"),
            ]
        )
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _rate(ref: str, day: date, tier: str = "standard", slot: int = 0, floor: int = 0) -> list[Decimal]:
    """USD per million tokens of each ledger class: input, cache read, 5m write, 1h write, output, reasoning."""
    return [r * MTOK for r in class_rates(lookup_candidate(ref), day, slot, tier, floor).per_token]


ANTHROPIC_LINE = {
    "id": "msg_01HcDq8xTzGv5bN3kR7wYp2L",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [{"type": "text", "text": "ok"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 1834,
        "cache_creation_input_tokens": 6400,
        "cache_read_input_tokens": 24160,
        "cache_creation": {"ephemeral_5m_input_tokens": 4096, "ephemeral_1h_input_tokens": 2304},
        "output_tokens": 212,
        "service_tier": "standard",
        "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
        "inference_geo": "global",
    },
    "timestamp": "2026-10-15T08:12:40Z",
}


def _anthropic_result(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "messages.jsonl"
    path.write_text(json.dumps(ANTHROPIC_LINE) + "\n", encoding="utf-8")
    return run_audit(AuditOptions(inputs=(path,), as_of=AS_OF, candidates=("openai:gpt-5",)))


def test_pitfall_01_cache_token_semantics_differ_by_provider(tmp_path: Path) -> None:
    # Anthropic: input_tokens EXCLUDES cache reads and writes.
    (usage,) = _anthropic_result(tmp_path).usage
    assert (usage.input_tokens, usage.cache_read_tokens) == (1834, 24160)
    # OpenRouter / OpenAI-style: tokens_prompt INCLUDES the cached tokens.
    path = _openrouter(
        tmp_path / "or.csv", [("gen-1", "2026-10-15 08:00:00.000", 10_000, 100, 0, 8_000, "openai/gpt-4.1")]
    )
    (row,) = run_audit(AuditOptions(inputs=(path,), as_of=AS_OF, candidates=("openai:gpt-5",))).usage
    assert (row.input_tokens, row.cache_read_tokens) == (2_000, 8_000)
    # gpt-4.1: $2 input, $0.50 cached input, $8 output per MTok (openai.com/api/pricing): never negative.
    assert row.list_cost == money((2_000 * Decimal(2) + 8_000 * Decimal("0.5") + 100 * 8) / MTOK)


def test_pitfall_02_cache_write_ttl(tmp_path: Path) -> None:
    (usage,) = _anthropic_result(tmp_path).usage
    assert (usage.cache_write_tokens, usage.cache_write_1h_tokens) == (4096, 2304)
    # Sonnet 4.5: $3 input, $3.75 5-minute write (1.25x), $6 1-hour write (2x), $0.30 read, $15 output per MTok
    # (platform.claude.com/docs/en/about-claude/pricing).
    hand = (1834 * 3 + 4096 * Decimal("3.75") + 2304 * 6 + 24160 * Decimal("0.3") + 212 * 15) / MTOK
    assert usage.list_cost == money(hand)
    # Pricing every write at the 5-minute rate would have undercounted.
    assert hand > (1834 * 3 + 6400 * Decimal("3.75") + 24160 * Decimal("0.3") + 212 * 15) / MTOK


def test_pitfall_03_cached_tokens_billed_at_full_input() -> None:
    # A Together-hosted model whose catalog entry has no cache-read price: cached tokens cost the input price.
    rates = _rate("together:Austism/chronos-hermes-13b", AS_OF)
    assert rates[1] == rates[0] == Decimal("0.3")


def test_pitfall_03_an_audit_prices_cached_tokens_at_the_input_price(tmp_path: Path) -> None:
    # The same through an audit: an in-house log (read through its mapping) of 1M prompt tokens, 800k of them
    # cached, on that model at $0.30 per MTok (together.ai/pricing): the cached tokens are counted as cache reads
    # and cost what input does, so the whole prompt costs $0.30, not $0.06 (cached tokens priced at nothing).
    log = tmp_path / "gateway.csv"
    log.write_text(
        "ts,vendor,llm,calls,prompt_tokens,cached_tokens,completion_tokens\n"
        "2026-10-05T09:00:00Z,together,Austism/chronos-hermes-13b,1,1000000,800000,0\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "gateway.toml"
    mapping.write_text(
        '[source]\nname = "gateway"\nprovider_column = "vendor"\nmodel_column = "llm"\ntime_column = "ts"\n'
        'requests_column = "calls"\n\n[tokens]\ninput = "prompt_tokens"\ninput_includes_cached = true\n'
        'cached = "cached_tokens"\noutput = "completion_tokens"\n',
        encoding="utf-8",
    )
    result = run_audit(AuditOptions(inputs=(log,), as_of=AS_OF, map_file=mapping, candidates=("openai:gpt-5",)))
    (row,) = result.usage
    assert (row.input_tokens, row.cache_read_tokens) == (200_000, 800_000)
    assert row.list_cost == money(1_000_000 * Decimal("0.30") / MTOK)


def test_pitfall_04_reasoning_tokens_counted_once(tmp_path: Path) -> None:
    # OpenRouter's tokens_reasoning is part of tokens_completion: output 1,000 of which 600 reasoning.
    path = _openrouter(
        tmp_path / "or.csv", [("gen-1", "2026-10-15 08:00:00.000", 1_000, 1_000, 600, 0, "openai/gpt-4.1")]
    )
    (row,) = run_audit(AuditOptions(inputs=(path,), as_of=AS_OF, candidates=("openai:gpt-5",))).usage
    assert (row.output_tokens, row.reasoning_tokens, row.all_tokens()) == (1_000, 600, 2_000)
    assert row.list_cost == money((1_000 * Decimal(2) + 1_000 * Decimal(8)) / MTOK)


def test_pitfall_05_long_context_tier_switches_the_whole_request() -> None:
    # gemini-2.5-pro: $1.25 / $10 per MTok up to 200k prompt tokens, $2.50 / $15 for the WHOLE request above
    # (ai.google.dev/gemini-api/docs/pricing): a request in the >200k bucket has every input token at $2.50.
    small, large = _rate("google:gemini-2.5-pro", AS_OF), _rate("google:gemini-2.5-pro", AS_OF, floor=200_000)
    assert (small[0], small[4]) == (Decimal("1.25"), Decimal(10))
    assert (large[0], large[4]) == (Decimal("2.5"), Decimal(15))


def test_pitfall_06_service_tier_is_what_was_served() -> None:
    # gpt-5 at the standard tier $1.25 / $10; flex $0.625 / $5; priority $2.50 / $20 (openai.com/api/pricing).
    standard, flex, priority = (_rate("openai:gpt-5", AS_OF, tier) for tier in ("standard", "flex", "priority"))
    assert (standard[0], standard[4]) == (Decimal("1.25"), Decimal(10))
    assert (flex[0], flex[4]) == (Decimal("0.625"), Decimal(5))
    assert (priority[0], priority[4]) == (Decimal("2.5"), Decimal(20))


def test_pitfall_07_batch_discount_and_cache_inside_batch() -> None:
    # Message Batches 50%, stacking with caching: Sonnet 4.5 batch $1.50 input, $0.15 cache read, $1.875 5m write,
    # $3 1h write, $7.50 output; also before the catalog's batch prices (2026-10-14), by the price overlay.
    for day in (AS_OF, date(2026, 3, 2)):
        assert _rate("anthropic:claude-sonnet-4-5", day, "batch")[:5] == [
            Decimal("1.5"),
            Decimal("0.15"),
            Decimal("1.875"),
            Decimal("3"),
            Decimal("7.5"),
        ]


def test_pitfall_08_time_of_day_pricing_weekdays_only_utc_windows() -> None:
    # deepseek-flash peak Mon-Fri 01:00-04:00 and 06:00-10:00 UTC at 2x (api-docs.deepseek.com/quick_start/pricing).
    friday, saturday = date(2026, 11, 27), date(2026, 11, 28)
    assert _rate("deepseek:deepseek-flash", friday, slot=2)[0] == Decimal("0.3")  # 01:00 UTC, Friday: peak
    assert _rate("deepseek:deepseek-flash", friday, slot=20)[0] == Decimal("0.15")  # 10:00 UTC: off-peak
    assert _rate("deepseek:deepseek-flash", saturday, slot=2)[0] == Decimal("0.15")  # weekend: off-peak


def test_pitfall_09_stale_or_missing_prices_never_silent_zero(tmp_path: Path) -> None:
    path = _openrouter(
        tmp_path / "or.csv", [("gen-1", "2026-10-15 08:00:00.000", 1_000, 10, 0, 0, "acme/made-up-model-9")]
    )
    result = run_audit(AuditOptions(inputs=(path,), as_of=AS_OF, candidates=("openai:gpt-5",)))
    (row,) = result.usage
    assert row.model is None and row.list_cost is None
    assert (result.totals.unpriced_models, result.totals.unpriced_tokens) == (1, 1_010)


def test_pitfall_10_prices_change_history_does_not() -> None:
    # deepseek-v4-pro: $0.435 input per MTok until 2026-08-16, $0.66 off-peak after (api-docs.deepseek.com;
    # genai-prices history): usage is priced at the price of its own day, whatever the as-of date.
    assert _rate("deepseek:deepseek-v4-pro", date(2026, 7, 1), slot=24)[0] == Decimal("0.435")
    assert _rate("deepseek:deepseek-v4-pro", date(2026, 9, 15), slot=24)[0] == Decimal("0.66")


def test_pitfall_10_an_audit_prices_past_usage_alike_at_any_as_of_date(tmp_path: Path) -> None:
    # The same through audits: an hour of deepseek-v4-pro on 2026-07-01 (20:00 in Beijing, 12:00 UTC), 1M input
    # tokens, in DeepSeek's hourly usage export (a BOM, CRLF lines). Audited as of the next day or as of
    # months later, after the price changed, its list cost is the price of its own hour: $0.435.
    export = tmp_path / "amount-2026-07-01.csv"
    export.write_bytes(
        "\ufeffuser_id,start_time_iso,end_time_iso,model,api_key_name,api_key,type,price,amount\r\n"
        "5f2c1e0a,2026-07-01T20:00:00+08:00,2026-07-01T21:00:00+08:00,deepseek-v4-pro,ops,sk-77e2a****01bd,"
        "input_cache_miss_tokens,0.000000435,1000000\r\n"
        "5f2c1e0a,2026-07-01T20:00:00+08:00,2026-07-01T21:00:00+08:00,deepseek-v4-pro,ops,sk-77e2a****01bd,"
        "request_count,,10\r\n".encode()
    )
    costs = set()
    for as_of in (date(2026, 7, 2), AS_OF):
        (row,) = run_audit(AuditOptions(inputs=(export,), as_of=as_of, candidates=("openai:gpt-5",))).usage
        assert (row.input_tokens, row.requests) == (1_000_000, 10)
        costs.add(row.list_cost)
    assert costs == {money(1_000_000 * Decimal("0.435") / MTOK)}


def test_pitfall_11_duplicate_log_rows(tmp_path: Path) -> None:
    # The same export saved twice: every request counts once.
    first = _openrouter(tmp_path / "a.csv", [("gen-1", "2026-10-15 08:00:00.000", 1_000, 10, 0, 0, "openai/gpt-4.1")])
    second = tmp_path / "copy" / "a (1).csv"
    second.parent.mkdir()
    shutil.copy(first, second)
    result = run_audit(AuditOptions(inputs=(first, second), as_of=AS_OF, candidates=("openai:gpt-5",)))
    assert (result.totals.requests, result.totals.input_tokens) == (1, 1_000)


def test_pitfall_12_daily_buckets_in_the_wrong_timezone(tmp_path: Path) -> None:
    # 2026-10-31 23:30 UTC is 2026-11-01 08:30 in Tokyo: with --tz the request falls in November.
    path = _openrouter(tmp_path / "or.csv", [("gen-1", "2026-10-31 23:30:00.000", 1_000, 10, 0, 0, "openai/gpt-4.1")])
    utc = run_audit(AuditOptions(inputs=(path,), as_of=AS_OF, candidates=("openai:gpt-5",)))
    tokyo = run_audit(AuditOptions(inputs=(path,), as_of=AS_OF, candidates=("openai:gpt-5",), timezone="Asia/Tokyo"))
    assert [m.month for m in utc.usage_by_month] == ["2026-10"]
    assert [m.month for m in tokyo.usage_by_month] == ["2026-11"]
    assert utc.totals.list_cost == tokyo.totals.list_cost  # prices keep the UTC instant


def test_pitfall_13_requested_vs_billed_model_and_provider() -> None:
    """The model a gateway was asked for is not the one that served: LiteLLM's `model_group` is the client's
    alias (`claude-sonnet`, `gpt-4o`), `model` and `custom_llm_provider` the deployment that ran. The audit
    prices what ran, at the provider that ran it (a Bedrock deployment at AWS, not at Anthropic)."""
    from tests.conftest import SAMPLES

    sample = SAMPLES / "litellm_spend_logs_csv" / "litellm_spend_logs_2026-10.csv"
    with sample.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["status"] == "success" and r["cache_hit"] != "True"]
    result = run_audit(AuditOptions(inputs=(sample,), as_of=AS_OF))
    names = {u.model_raw for u in result.usage}
    aliases = {r["model_group"] for r in rows} - {r["model"] for r in rows}
    assert aliases and not names & aliases  # no line is named after what the client asked for
    (bedrock,) = [u for u in result.usage if "claude-3-7-sonnet" in u.model_raw]
    assert bedrock.provider == "aws" and bedrock.model is not None and bedrock.model.startswith("aws:")
    (snapshot,) = [u for u in result.usage if u.model_raw == "gpt-4o-2024-08-06"]
    assert snapshot.provider == "openai"


def test_pitfall_15_currency_rates_are_per_month_and_never_assumed() -> None:
    """Amounts billed in another currency are converted at the rate of their month (a later rate never
    rewrites history), and a month without a rate stops the audit instead of reading the amount as USD."""
    from auditor.errors import OptionError
    from tests.conftest import FIXTURES

    cny = FIXTURES / "deepseek_cny" / "cost-2026-10-01_2026-10-07.csv"
    with cny.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["currency"] for r in rows} == {"CNY"}
    october = run_audit(AuditOptions(inputs=(cny,), as_of=AS_OF, fx=("CNY@2026-10=0.1400", "CNY=0.2")))
    (rate,) = october.fx_rates
    assert (rate.currency, rate.month, rate.usd_per_unit) == ("CNY", "2026-10", Decimal("0.1400"))
    # Every row of the sample is an October day (UTC): each is converted at October's rate, not the general one.
    assert october.totals.billed_cost is not None
    expected = sum((Decimal(r["cost"]) for r in rows), Decimal(0)) * Decimal("0.1400")
    assert abs(october.totals.billed_cost - expected) <= Decimal("1e-9") * len(rows)
    try:
        run_audit(AuditOptions(inputs=(cny,), as_of=AS_OF, fx=("CNY@2026-09=0.14",)))
    except OptionError as exc:
        assert "no exchange rate for CNY in 2026-10" in exc.message
    else:
        raise AssertionError("a CNY amount without its month's rate was read")
