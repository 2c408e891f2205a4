"""OpenAI Batch API output: chat and Responses usage in one file, priced at batch prices as genai-prices does."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from genai_prices import Usage, calc_price

from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from tests.conftest import AS_OF, SAMPLES

SAMPLE = SAMPLES / "openai_batch_jsonl" / "batch_6790a1b7_output.jsonl"


def _lines() -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]


def batch_sample_requests() -> list[tuple[str, Usage, datetime]]:
    """The sample's successful requests read with the json module: model, usage in genai-prices' terms, time."""
    out = []
    for line in _lines():
        if line["error"]:
            continue
        body = line["response"]["body"]
        u = body["usage"]
        details = u.get("prompt_tokens_details") or u.get("input_tokens_details") or {}
        out_details = u.get("completion_tokens_details") or u.get("output_tokens_details") or {}
        usage = Usage(
            input_tokens=u.get("prompt_tokens", u.get("input_tokens")),
            cache_read_tokens=details.get("cached_tokens", 0),
            output_tokens=u.get("completion_tokens", u.get("output_tokens")),
            output_reasoning_tokens=out_details.get("reasoning_tokens", 0),
        )
        out.append((body["model"], usage, datetime.fromtimestamp(body.get("created") or body["created_at"], UTC)))
    return out


def test_list_cost_equals_genai_prices_at_batch_prices_line_by_line() -> None:
    result = run_audit(AuditOptions(inputs=(SAMPLE,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    expected: dict[str, Decimal] = {}
    for model, usage, at in batch_sample_requests():
        # Before the catalog's batch prices (2026-10-14), batch was already 50% (price overlay
        # `openai-batch-since-launch`); these models' standard prices did not change in between.
        at = max(at, datetime(2026, 10, 14, tzinfo=UTC))
        price = calc_price(usage, model, provider_id="openai", genai_request_timestamp=at,
                           price_context={"processing": "batch"})  # fmt: skip
        expected[model] = expected.get(model, Decimal(0)) + price.total_price
    assert {u.model_raw: u.list_cost for u in result.usage} == {
        m: cost.quantize(Decimal("1e-9")) for m, cost in expected.items()
    }
    entry = result.inputs[0]
    assert (entry.rows_read, entry.rows_used, entry.rows_skipped) == (10, 9, 1)
    assert all(u.reasoning_tokens <= u.output_tokens for u in result.usage)
