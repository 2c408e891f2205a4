"""OpenAI response log: chat completions, stream usage chunks and Responses objects, priced as genai-prices does."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from genai_prices import Usage, calc_price

from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from bench.generate import generate
from tests.conftest import AS_OF, SAMPLES

SAMPLE = SAMPLES / "openai_response_jsonl" / "responses-2026-10.jsonl"
BATCH_SAMPLE = SAMPLES / "openai_batch_jsonl" / "batch_6790a1b7_output.jsonl"
# The served tier → genai-prices' price context; default, auto and scale are list (standard) prices.
_CONTEXT = {"flex": {"service_tier": "flex"}, "priority": {"service_tier": "priority"}}


def _audit(path: Path):  # type: ignore[no-untyped-def]
    return run_audit(AuditOptions(inputs=(path,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))


def _counted(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines that are requests with usage, read with the json module only."""
    return [
        line
        for line in lines
        if line.get("object") in ("chat.completion", "chat.completion.chunk", "response") and line.get("usage")
    ]


def _expected(lines: list[dict[str, Any]]) -> tuple[dict[str, tuple[int, ...]], dict[str, Decimal]]:
    tokens: dict[str, list[int]] = defaultdict(lambda: [0] * 6)
    cost: dict[str, Decimal] = defaultdict(Decimal)
    for line in _counted(lines):
        u = line["usage"]
        details = u.get("prompt_tokens_details") or u.get("input_tokens_details") or {}
        out_details = u.get("completion_tokens_details") or u.get("output_tokens_details") or {}
        prompt = u.get("prompt_tokens", u.get("input_tokens"))
        completion = u.get("completion_tokens", u.get("output_tokens"))
        cached, written = details.get("cached_tokens", 0), details.get("cache_write_tokens", 0)
        reasoning = out_details.get("reasoning_tokens", 0)
        t = tokens[line["model"]]
        for i, n in enumerate((1, prompt - cached - written, cached, written, completion, reasoning)):
            t[i] += n
        usage = Usage(
            input_tokens=prompt,
            cache_read_tokens=cached,
            cache_write_tokens=written,
            output_tokens=completion,
            output_reasoning_tokens=reasoning,
        )
        at = datetime.fromtimestamp(line.get("created") or line["created_at"], UTC)
        price = calc_price(usage, line["model"], provider_id="openai", genai_request_timestamp=at,
                           price_context=_CONTEXT.get(line["service_tier"]))  # fmt: skip
        cost[line["model"]] += price.total_price
    return {m: tuple(t) for m, t in tokens.items()}, dict(cost)


def _tokens_of(result: Any) -> dict[str, tuple[int, ...]]:
    """Each model's requests and tokens by class, as the audit counted them (in `_expected`'s order)."""
    return {
        u.model_raw: (
            u.requests,
            u.input_tokens,
            u.cache_read_tokens,
            u.cache_write_tokens,
            u.output_tokens,
            u.reasoning_tokens,
        )
        for u in result.usage
    }


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_tokens_and_list_cost_equal_genai_prices_line_by_line() -> None:
    result = _audit(SAMPLE)
    tokens, cost = _expected(_lines(SAMPLE))
    assert _tokens_of(result) == tokens
    assert {u.model_raw: u.list_cost for u in result.usage} == {m: c.quantize(Decimal("1e-9")) for m, c in cost.items()}
    entry = result.inputs[0]
    assert (entry.rows_read, entry.rows_used, entry.rows_skipped, entry.rows_rejected) == (12, 9, 3, 0)
    assert set(entry.skipped_reasons) == {
        "an API error, not a response",
        "a streaming chunk without usage (a stream's usage is on its last chunk)",
        "a response without usage (failed, cancelled or not finished)",
    }


def test_flex_and_priority_are_priced_as_served() -> None:
    """gpt-5-mini served at flex, priority and flex (incomplete response): three different price regimes."""
    lines = [line for line in _counted(_lines(SAMPLE)) if line["model"] == "gpt-5-mini-2025-08-07"]
    assert sorted(line["service_tier"] for line in lines) == ["flex", "flex", "priority"]
    standard = Decimal(0)
    for line in lines:
        u = line["usage"]
        usage = Usage(
            input_tokens=u.get("prompt_tokens", u.get("input_tokens")),
            cache_read_tokens=(u.get("prompt_tokens_details") or u.get("input_tokens_details"))["cached_tokens"],
            output_tokens=u.get("completion_tokens", u.get("output_tokens")),
        )
        at = datetime.fromtimestamp(line.get("created") or line["created_at"], UTC)
        standard += calc_price(usage, line["model"], provider_id="openai", genai_request_timestamp=at).total_price
    (entry,) = [u for u in _audit(SAMPLE).usage if u.model_raw == "gpt-5-mini-2025-08-07"]
    assert entry.list_cost is not None and entry.list_cost != standard.quantize(Decimal("1e-9"))


def test_a_response_log_and_a_batch_output_are_each_detected_from_their_content(tmp_path: Path) -> None:
    for sample, expected in ((SAMPLE, "openai_response_jsonl"), (BATCH_SAMPLE, "openai_batch_jsonl")):
        copy = tmp_path / f"{expected}-renamed.txt"
        copy.write_bytes(sample.read_bytes())
        assert _audit(copy).inputs[0].format == expected


def test_a_broken_line_is_rejected_with_its_number_and_the_rest_counts(tmp_path: Path) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    broken = [*lines[:3], '{"id":"chatcmpl-CR1","object":"chat.completion","created":17', *lines[3:]]
    path = tmp_path / "responses.jsonl"
    path.write_text("\n".join(broken) + "\n", encoding="utf-8")
    result = _audit(path)
    entry = result.inputs[0]
    assert (entry.rows_read, entry.rows_used, entry.rows_rejected) == (len(lines) + 1, 9, 1)
    assert [(r.line, r.reason) for r in entry.rejected] == [(4, "not valid JSON")]
    assert {u.model_raw: u.output_tokens for u in result.usage} == {
        m: t[4] for m, t in _expected(_lines(SAMPLE))[0].items()
    }


def test_impossible_lines_are_rejected_with_their_reason(tmp_path: Path) -> None:
    good = json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[0])
    no_usage = {**good, "usage": None}
    too_cached = {**good, "usage": {**good["usage"], "prompt_tokens_details": {"cached_tokens": 9999}}}
    no_time = {k: v for k, v in good.items() if k != "created"}
    path = tmp_path / "responses.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in (good, no_usage, too_cached, no_time)) + "\n", encoding="utf-8")
    entry = _audit(path).inputs[0]
    assert (entry.rows_used, entry.rows_rejected) == (1, 3)
    assert [(r.line, r.reason) for r in entry.rejected] == [
        (2, "response without usage"),
        (3, "cached tokens exceed the input tokens"),
        (4, "response without a creation time"),
    ]


def test_the_benchmark_s_response_log_reads_as_the_json_module_reads_it(tmp_path: Path) -> None:
    """`bench/generate.py openai-response` writes what this importer reads, every line used; gzip reads the same."""
    log = tmp_path / "responses.jsonl"
    generate("openai-response", 600, log)
    tokens, cost = _expected(_lines(log))
    assert len(tokens) == 4
    packed = tmp_path / "responses.jsonl.gz"
    packed.write_bytes(gzip.compress(log.read_bytes()))
    for path in (log, packed):
        result = _audit(path)
        assert _tokens_of(result) == tokens
        assert {u.model_raw: u.list_cost for u in result.usage} == {
            m: c.quantize(Decimal("1e-9")) for m, c in cost.items()
        }
        entry = result.inputs[0]
        assert (entry.format, entry.rows_read, entry.rows_used) == ("openai_response_jsonl", 600, 600)


def test_broken_lines_anywhere_in_a_long_log_are_each_rejected_and_the_rest_counts(tmp_path: Path) -> None:
    """Invalid lines among thousands (DuckDB reads 2,048 at a time): each is rejected with its number, in whichever
    block it falls, and every valid line still counts, as the json module reads them."""
    log = tmp_path / "generated.jsonl"
    generate("openai-response", 10_000, log)
    lines = log.read_text(encoding="utf-8").splitlines()
    broken = {  # line number (from 1) → what is written there instead
        1: lines[0][:40],  # cut short
        2048: lines[2047] + " x",  # a value after the object
        2049: lines[2048].replace('"', "'"),  # single quotes
        5000: lines[4999].replace('"model":"', '"model":"a\tb'),  # a raw tab inside a string
        9999: "{" + lines[9998],  # unbalanced
        10_000: lines[9999][:-1],  # the last line, cut short and without its newline
    }
    written = [broken.get(n, line) for n, line in enumerate(lines, start=1)]
    path = tmp_path / "responses.jsonl"
    path.write_text("\n".join(written), encoding="utf-8")  # no newline after the last line
    tokens, _ = _expected([json.loads(line) for n, line in enumerate(lines, start=1) if n not in broken])
    result = _audit(path)
    entry = result.inputs[0]
    assert (entry.rows_read, entry.rows_used, entry.rows_rejected) == (10_000, 10_000 - len(broken), len(broken))
    assert [(r.line, r.reason) for r in entry.rejected] == [(n, "not valid JSON") for n in sorted(broken)]
    assert _tokens_of(result) == tokens
