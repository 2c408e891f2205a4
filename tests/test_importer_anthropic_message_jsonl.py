"""Anthropic message log: Message objects with the logger's time, read and priced as genai-prices reads and prices them.

The independent reading is genai-prices' own `extract_usage` of each Message (its Anthropic rules: input
excludes cache reads and writes, the 5m/1h split, thinking inside output) and `calc_price` at the line's time.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from genai_prices import calc_price, extract_usage

from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from tests.conftest import AS_OF, SAMPLES

SAMPLE = SAMPLES / "anthropic_message_jsonl" / "messages-2026-10.jsonl"
_CONTEXT = {"fast": {"speed": "fast"}, "batch": {"processing": "batch"}}


def _audit(path: Path):  # type: ignore[no-untyped-def]
    return run_audit(AuditOptions(inputs=(path,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _time(value: str | float) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    at = datetime.fromisoformat(value)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def expected_usage(
    messages: list[tuple[dict[str, Any], datetime, str]],
) -> tuple[dict[str, tuple[int, ...]], dict[str, Decimal]]:
    """Per model: (requests, input, cache read, 5m writes, 1h writes, output, reasoning) and list cost,
    from (Message, time, served tier) with genai-prices' own reading of the usage."""
    tokens: dict[str, list[int]] = defaultdict(lambda: [0] * 7)
    cost: dict[str, Decimal] = defaultdict(Decimal)
    for message, at, tier in messages:
        usage = extract_usage(message, provider_id="anthropic").usage
        read, written = usage.cache_read_tokens or 0, usage.cache_write_tokens or 0
        one_hour = usage.cache_write_1h_tokens or 0
        counts = (1, (usage.input_tokens or 0) - read - written, read, written - one_hour, one_hour,
                  usage.output_tokens or 0, usage.output_reasoning_tokens or 0)  # fmt: skip
        for i, n in enumerate(counts):
            tokens[message["model"]][i] += n
        price = calc_price(usage, message["model"], provider_id="anthropic", genai_request_timestamp=at,
                           price_context=_CONTEXT.get(tier))  # fmt: skip
        cost[message["model"]] += price.total_price
    return {m: tuple(t) for m, t in tokens.items()}, dict(cost)


def ours(result) -> dict[str, tuple[int | None, ...]]:  # type: ignore[no-untyped-def]
    classes = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens", "output_tokens")
    return {u.model_raw: (u.requests, *(getattr(u, c) for c in classes), u.reasoning_tokens) for u in result.usage}


def _served(line: dict[str, Any]) -> str:
    usage = line["usage"]
    return "fast" if usage.get("speed") == "fast" else usage.get("service_tier", "standard")


def test_tokens_and_list_cost_equal_genai_prices_line_by_line() -> None:
    lines = _lines(SAMPLE)
    messages = [line for line in lines if line["type"] == "message" and "timestamp" in line]
    dated = [(line, _time(line["timestamp"]), _served(line)) for line in messages]
    tokens, cost = expected_usage(dated)
    result = _audit(SAMPLE)
    assert ours(result) == tokens
    assert {u.model_raw: u.list_cost for u in result.usage} == {m: c.quantize(Decimal("1e-9")) for m, c in cost.items()}
    entry = result.inputs[0]
    assert (entry.rows_read, entry.rows_used, entry.rows_skipped, entry.rows_rejected) == (8, 6, 1, 1)
    assert entry.skipped_reasons == {"an API error, not a message": 1}
    undated = next(i for i, line in enumerate(lines, start=1) if line["type"] == "message" and "timestamp" not in line)
    assert [(r.line, r.column, r.reason) for r in entry.rejected] == [
        (undated, "timestamp", "no time: a Message object carries none, and the log wrote no timestamp beside it")
    ]
    # The sample covers what it must: a fast request, 1-hour writes, a priority request, an offset and a Unix time.
    assert {"fast", "priority"} <= {t for _, _, t in dated}
    assert any(u.cache_write_1h_tokens for u in result.usage)
    assert any(isinstance(line.get("timestamp"), int) for line in lines)


def test_times_are_read_from_the_logger_fields_or_the_line_is_rejected(tmp_path: Path) -> None:
    message = next(line for line in _lines(SAMPLE) if line["type"] == "message")
    variants = [
        {**message, "timestamp": "2026-10-15T23:30:00-02:00"},  # 2026-10-16 01:30 UTC
        {**{k: v for k, v in message.items() if k != "timestamp"}, "created_at": "2026-10-16T02:00:00Z"},
        {**message, "timestamp": 1792110600000},  # Unix milliseconds: 2026-10-16 00:30 UTC
        {**message, "timestamp": "yesterday"},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 15}},
    ]
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(json.dumps(v) for v in variants) + "\n", encoding="utf-8")
    result = _audit(path)
    entry = result.inputs[0]
    assert (entry.rows_used, entry.rows_skipped, entry.rows_rejected) == (3, 1, 1)
    assert (entry.period_start, entry.period_end) == (datetime(2026, 10, 16).date(), datetime(2026, 10, 16).date())
    assert [(r.line, r.reason) for r in entry.rejected] == [(4, "timestamp is not a time (ISO 8601 or Unix seconds)")]
    assert entry.skipped_reasons == {"not a whole Message object (streaming events are not read)": 1}


def test_cache_writes_that_do_not_add_up_are_rejected(tmp_path: Path) -> None:
    message = _lines(SAMPLE)[0]
    usage = {**message["usage"], "cache_creation": {"ephemeral_5m_input_tokens": 10, "ephemeral_1h_input_tokens": 10}}
    path = tmp_path / "log.jsonl"
    path.write_text(json.dumps({**message, "usage": usage}) + "\n", encoding="utf-8")
    entry = _audit(path).inputs[0]
    assert [(r.line, r.reason) for r in entry.rejected] == [
        (1, "5-minute and 1-hour cache writes do not add up to cache_creation_input_tokens")
    ]


def test_a_message_log_is_detected_from_its_content(tmp_path: Path) -> None:
    copy = tmp_path / "app-2026-10.log"
    copy.write_bytes(SAMPLE.read_bytes())
    assert _audit(copy).inputs[0].format == "anthropic_message_jsonl"


def test_a_broken_line_is_rejected_with_its_number_and_the_rest_counts(tmp_path: Path) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    broken = [*lines[:2], '{"id":"msg_01Zz","type":"message","role":"assistant","model":"claude-son', *lines[2:]]
    path = tmp_path / "messages.jsonl"
    path.write_text("\n".join(broken) + "\n", encoding="utf-8")
    result = _audit(path)
    entry = result.inputs[0]
    assert (entry.rows_read, entry.rows_used, entry.rows_rejected) == (len(lines) + 1, 6, 2)
    assert (3, "not valid JSON") in [(r.line, r.reason) for r in entry.rejected]
    assert ours(result) == ours(_audit(SAMPLE))
