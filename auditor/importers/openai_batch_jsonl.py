"""OpenAI Batch API output file (`batch_…_output.jsonl`): one `BatchRequestOutput` per line.

How it counts: each succeeded line carries the endpoint's normal response in `response.body`, with its
`usage`. Chat completions write `prompt_tokens` (INCLUDING `prompt_tokens_details.cached_tokens`) and
`completion_tokens` (INCLUDING `completion_tokens_details.reasoning_tokens`); the Responses API writes
`input_tokens` / `output_tokens` with `input_tokens_details` and `output_tokens_details`. A line has one
family or the other, so each class is the sum of both. Every line was served by the Batch API (half
price), which the line itself does not say: the service tier is `batch`. The request time is the body's
`created` (or `created_at`), Unix seconds. Failed or expired requests (`response` null, `error` set) are
skipped with the error code.
"""

from __future__ import annotations

from auditor.importers.base import Importer
from auditor.importers.engine import utc_day, utc_slot

_BODY = "$.response.body"
_TIME = """to_timestamp(CASE WHEN "created" > 0 THEN "created" ELSE "created_at" END)"""


def response_usage_fields(body: str) -> dict[str, str]:
    """JSON fields of a Chat Completions or Responses object at `body` (`$` for the object itself): its model,
    time and both families' usage counts (a line has one family or the other)."""
    return {
        "model": f"{body}.model",
        "created": f"{body}.created",
        "created_at": f"{body}.created_at",
        "prompt_tokens": f"{body}.usage.prompt_tokens",
        "input_tokens": f"{body}.usage.input_tokens",
        "chat_cached": f"{body}.usage.prompt_tokens_details.cached_tokens",
        "responses_cached": f"{body}.usage.input_tokens_details.cached_tokens",
        "chat_cache_write": f"{body}.usage.prompt_tokens_details.cache_write_tokens",
        "responses_cache_write": f"{body}.usage.input_tokens_details.cache_write_tokens",
        "completion_tokens": f"{body}.usage.completion_tokens",
        "output_tokens": f"{body}.usage.output_tokens",
        "chat_reasoning": f"{body}.usage.completion_tokens_details.reasoning_tokens",
        "responses_reasoning": f"{body}.usage.output_tokens_details.reasoning_tokens",
    }


RESPONSE_COUNT_COLUMNS = tuple(name for name in response_usage_fields("$") if name != "model")
# A response's time, one request, and its tokens: each ledger class is the sum of both families. Chat's
# prompt_tokens and Responses' input_tokens both INCLUDE cached and cache-write tokens; output INCLUDES reasoning.
RESPONSE_LEDGER = {
    "model_raw": 'trim("model")',
    "day": utc_day(_TIME),
    "time_slot": utc_slot(_TIME),
    "size_basis": "'request'",
    "requests": "1",
    "requests_known": "1",
    "input_tokens": """greatest("prompt_tokens" + "input_tokens" - "chat_cached" - "responses_cached"
                                - "chat_cache_write" - "responses_cache_write", 0)""",
    "cache_read_tokens": '"chat_cached" + "responses_cached"',
    "cache_write_tokens": '"chat_cache_write" + "responses_cache_write"',
    "output_tokens": '"completion_tokens" + "output_tokens"',
    "reasoning_tokens": '"chat_reasoning" + "responses_reasoning"',
}
RESPONSE_REJECTS = (
    (""""created" <= 0 AND "created_at" <= 0""", "response without a creation time", "created"),
    (""""model" = ''""", "response without a model", "model"),
    (
        """"chat_cached" + "responses_cached" + "chat_cache_write" + "responses_cache_write"
           > "prompt_tokens" + "input_tokens\"""",
        "cached tokens exceed the input tokens",
        "cached_tokens",
    ),
)

IMPORTER = Importer(
    name="openai_batch_jsonl",
    title="OpenAI Batch API output (batch_<id>_output.jsonl)",
    kind="requests",
    split_log=True,
    required_columns=("id", "custom_id", "response", "error"),
    optional_columns=(),
    json_fields={
        "line_id": "$.id",
        "error_code": "$.error.code",
        "status_code": "$.response.status_code",
        **response_usage_fields(_BODY),
    },
    count_columns=RESPONSE_COUNT_COLUMNS,
    money_columns=(),
    record_key=("line_id",),
    ledger={"provider": "'openai'", **RESPONSE_LEDGER, "service_tier": "'batch'"},
    skip_when=(
        (""""error_code" <> ''""", "the request failed (its error is in the line)"),
        (""""model" = '' AND "status_code" <> '200'""", "the request did not succeed"),
    ),
    reject_when=RESPONSE_REJECTS,
    example_header='{"id":"batch_req_…","custom_id":"…","response":{"status_code":200,"request_id":"…",'
    '"body":{…,"usage":{…}}},"error":null}',
)
