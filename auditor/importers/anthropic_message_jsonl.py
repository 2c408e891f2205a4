"""Anthropic message log: one Messages API `Message` object per line (JSON lines, or .gz), as an application logs it.

How it counts: a line is the response of one request, `{"id": "msg_…", "type": "message", "model": …,
"usage": {…}}`. `usage.input_tokens` is uncached input only; `cache_read_input_tokens` and
`cache_creation_input_tokens` are separate, the latter split into 5-minute and 1-hour writes by
`cache_creation.ephemeral_5m_input_tokens` / `ephemeral_1h_input_tokens` where the log has the split (without
it, every write is a 5-minute write); `output_tokens` includes thinking, and
`output_tokens_details.thinking_tokens`, where present, is the part that was thinking. The service tier is
`usage.service_tier` as served (`standard`, `priority`, `batch`), and `fast` where `usage.speed` is `fast`
(the catalog has batch and fast prices; priority is priced at standard list prices). Web search and fetch
requests (`usage.server_tool_use`) and the inference region are not priced. There is no project, key or cost.

The time: a Message object carries none, so the log must say when the request was made. The importer reads
a top-level `timestamp` (else `created_at`) that the logger wrote beside the Message's own fields: ISO 8601
(UTC when it has no offset) or Unix seconds (or milliseconds). A line without one is rejected with that
reason, never dated by guess; a file with no time at all is better audited from the Console usage export.

Skipped with a reason: API error bodies (`{"type": "error", …}`) and lines that are not whole Messages
(streaming events). Rejected with their line: a Message without usage, model or time, thinking tokens above
the output tokens, and cache writes whose 5-minute and 1-hour parts do not add up to
`cache_creation_input_tokens`.
"""

from __future__ import annotations

from auditor.importers.base import Importer
from auditor.importers.engine import utc_day, utc_slot


def message_fields(message: str) -> dict[str, str]:
    """JSON fields of a Message object found at the path `message` (`$` or `$.result.message`)."""
    usage = f"{message}.usage"
    return {
        "id": f"{message}.id",
        "type": f"{message}.type",
        "model": f"{message}.model",
        "usage": usage,
        "input_tokens": f"{usage}.input_tokens",
        "output_tokens": f"{usage}.output_tokens",
        "cache_creation_input_tokens": f"{usage}.cache_creation_input_tokens",
        "cache_read_input_tokens": f"{usage}.cache_read_input_tokens",
        "cache_write_5m": f"{usage}.cache_creation.ephemeral_5m_input_tokens",
        "cache_write_1h": f"{usage}.cache_creation.ephemeral_1h_input_tokens",
        "usage_service_tier": f"{usage}.service_tier",
        "speed": f"{usage}.speed",
        "thinking_tokens": f"{usage}.output_tokens_details.thinking_tokens",
    }


MESSAGE_COUNTS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "cache_write_5m",
    "cache_write_1h",
    "thinking_tokens",
)

_SPLIT = '"cache_write_5m" + "cache_write_1h"'

# Token classes of a Message's usage (the fields of `message_fields`).
MESSAGE_TOKENS = {
    "input_tokens": '"input_tokens"',
    "cache_read_tokens": '"cache_read_input_tokens"',
    # The 5m/1h split where the log has it; without it every write is a 5-minute write.
    "cache_write_tokens": f'CASE WHEN {_SPLIT} > 0 THEN "cache_write_5m" ELSE "cache_creation_input_tokens" END',
    "cache_write_1h_tokens": f'CASE WHEN {_SPLIT} > 0 THEN "cache_write_1h" ELSE 0 END',
    "output_tokens": '"output_tokens"',
    "reasoning_tokens": '"thinking_tokens"',
}

MESSAGE_REJECTS = (
    (""""usage" = ''""", "message without usage", "usage"),
    (""""model" = ''""", "message without a model", "model"),
    (
        f'{_SPLIT} > 0 AND "cache_creation_input_tokens" > 0 AND {_SPLIT} <> "cache_creation_input_tokens"',
        "5-minute and 1-hour cache writes do not add up to cache_creation_input_tokens",
        "cache_creation",
    ),
    ('"thinking_tokens" > "output_tokens"', "thinking tokens exceed the output tokens", "thinking_tokens"),
)

_RAW_TIME = """coalesce(nullif(trim("timestamp"), ''), trim("created_at"))"""
_NUMBER = f"TRY_CAST({_RAW_TIME} AS DOUBLE)"
# Unix seconds, or milliseconds (a number of seconds that large would be past the year 5000).
_TIME = (
    f"(CASE WHEN regexp_full_match({_RAW_TIME}, '[0-9]+(\\.[0-9]+)?') "
    f"THEN to_timestamp({_NUMBER} / CASE WHEN {_NUMBER} >= 1e11 THEN 1000 ELSE 1 END) "
    f"ELSE TRY_CAST({_RAW_TIME} AS TIMESTAMPTZ) END)"
)

IMPORTER = Importer(
    name="anthropic_message_jsonl",
    title="Anthropic message log (one Messages API Message object per line, with the logger's timestamp)",
    kind="requests",
    split_log=True,
    required_columns=("id", "type", "role", "model", "usage"),
    optional_columns=("content", "stop_reason", "stop_sequence", "container", "timestamp", "created_at", "error"),
    json_fields={
        **message_fields("$"),
        "timestamp": "$.timestamp",
        "created_at": "$.created_at",
    },
    count_columns=MESSAGE_COUNTS,
    money_columns=(),
    record_key=("id",),
    ledger={
        "provider": "'anthropic'",
        "model_raw": 'trim("model")',
        "service_tier": """CASE WHEN lower(trim("speed")) = 'fast' THEN 'fast'
                           WHEN lower(trim("usage_service_tier")) IN ('batch', 'priority')
                           THEN lower(trim("usage_service_tier")) ELSE 'standard' END""",
        "day": utc_day(_TIME),
        "time_slot": utc_slot(_TIME),
        "size_basis": "'request'",
        "requests": "1",
        "requests_known": "1",
        **MESSAGE_TOKENS,
    },
    skip_when=(
        (""""type" = 'error'""", "an API error, not a message"),
        (""""type" <> 'message'""", "not a whole Message object (streaming events are not read)"),
    ),
    reject_when=(
        *MESSAGE_REJECTS,
        (
            f"{_RAW_TIME} = ''",
            "no time: a Message object carries none, and the log wrote no timestamp beside it",
            "timestamp",
        ),
        (f"{_TIME} IS NULL", "timestamp is not a time (ISO 8601 or Unix seconds)", "timestamp"),
    ),
    example_header='{"id":"msg_…","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",'
    '"content":[…],"stop_reason":"end_turn","usage":{"input_tokens":…,…},"timestamp":"2026-10-14T09:12:03Z"}',
)
