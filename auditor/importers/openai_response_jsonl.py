"""OpenAI response log: one Chat Completions or Responses API response object per line (JSON lines, or .gz).

What a line is: the response body an application (or a gateway) logged as it came back from OpenAI,
`"object": "chat.completion"` (Chat Completions), `"object": "response"` (Responses API), or the last
`"chat.completion.chunk"` of a stream, which carries the stream's `usage` when the request asked for it.
The Batch API output (`openai_batch_jsonl`) wraps the same objects in `response.body`; a line here is the
object itself.

How it counts: Chat Completions write `usage.prompt_tokens`, which INCLUDES
`prompt_tokens_details.cached_tokens` and `cache_write_tokens`, and `completion_tokens`, which INCLUDES
`completion_tokens_details.reasoning_tokens` (and rejected prediction tokens, billed as output). The
Responses API writes `usage.input_tokens` (INCLUDING `input_tokens_details.cached_tokens` and
`cache_write_tokens`) and `output_tokens` (INCLUDING `output_tokens_details.reasoning_tokens`). A line has
one family or the other, so each ledger class is the sum of both: input excludes cache reads and writes,
output includes reasoning. `model` is the snapshot that served the request. The request time is
`created` (chat) or `created_at` (Responses), Unix seconds, UTC. The service tier is the top-level
`service_tier` as served: `default` and `auto` are standard; `flex`, `priority` and `scale` are kept as
written (the catalog has flex and priority prices; scale-tier requests are priced at standard list
prices). There is no project, key or cost in a response.

Skipped with a reason: API error bodies (`{"error": {…}}`), objects of other kinds, streaming chunks
without usage, and Responses objects that carry no usage because they failed, were cancelled or had
not finished. Rejected with their line: a chat completion or finished response without usage, time or
model, and counts that cannot be (cached above input, reasoning above output).
"""

from __future__ import annotations

from auditor.importers.base import Importer
from auditor.importers.openai_batch_jsonl import (
    RESPONSE_COUNT_COLUMNS,
    RESPONSE_LEDGER,
    RESPONSE_REJECTS,
    response_usage_fields,
)

_KINDS = "('chat.completion', 'chat.completion.chunk', 'response')"

IMPORTER = Importer(
    name="openai_response_jsonl",
    title="OpenAI response log (one chat.completion or response object per line, .jsonl)",
    kind="requests",
    split_log=True,
    required_columns=("id", "object", "model", "usage"),
    optional_columns=(
        "created",
        "created_at",
        "service_tier",
        "system_fingerprint",
        "choices",
        "output",
        "status",
        "error",
        "incomplete_details",
        "instructions",
        "metadata",
    ),
    json_fields={
        "id": "$.id",
        "object": "$.object",
        "status": "$.status",
        "error": "$.error",
        "service_tier": "$.service_tier",
        "usage": "$.usage",
        **response_usage_fields("$"),
    },
    count_columns=RESPONSE_COUNT_COLUMNS,
    money_columns=(),
    record_key=("id",),
    ledger={
        "provider": "'openai'",
        **RESPONSE_LEDGER,
        "service_tier": """CASE WHEN lower(trim("service_tier")) IN ('', 'default', 'auto') THEN 'standard'
                           ELSE lower(trim("service_tier")) END""",
    },
    skip_when=(
        (""""object" = '' AND "error" <> ''""", "an API error, not a response"),
        (f""""object" NOT IN {_KINDS}""", "not a chat completion or response object"),
        (
            """"object" = 'chat.completion.chunk' AND "usage" = ''""",
            "a streaming chunk without usage (a stream's usage is on its last chunk)",
        ),
        (
            """"object" = 'response' AND "usage" = '' AND "status" NOT IN ('completed', 'incomplete')""",
            "a response without usage (failed, cancelled or not finished)",
        ),
    ),
    reject_when=(
        (""""usage" = ''""", "response without usage", "usage"),
        *RESPONSE_REJECTS,
        (
            """"chat_reasoning" + "responses_reasoning" > "completion_tokens" + "output_tokens\"""",
            "reasoning tokens exceed the output tokens",
            "reasoning_tokens",
        ),
    ),
    example_header='{"id":"chatcmpl-…","object":"chat.completion","created":1760433123,"model":"gpt-4o-2024-08-06",'
    '"choices":[…],"usage":{"prompt_tokens":…,"completion_tokens":…,…},"service_tier":"default"}',
)
