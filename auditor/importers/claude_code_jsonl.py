"""Claude Code session logs (`~/.claude/projects/<project>/<session>.jsonl`), one JSON object per line.

How it counts: only `assistant` lines with `message.usage` are API calls. `input_tokens` is uncached
input only; `cache_read_input_tokens` and `cache_creation_input_tokens` are separate, the latter split
into 5-minute and 1-hour writes by `cache_creation.ephemeral_5m/1h_input_tokens` where the log has it
(older logs: all 5-minute); output includes thinking. Claude Code writes one API message on several
lines (one per content block) with the same `message.id` and `requestId`: only the first counts, as
ccusage does; the same message in two session files (a resumed session) counts once too. Lines missing
either id are each their own message. There is no API key or cost: the project is the working directory.
"""

from __future__ import annotations

from auditor.importers.base import Importer
from auditor.importers.engine import utc_day, utc_slot

_USAGE = "$.message.usage"

IMPORTER = Importer(
    name="claude_code_jsonl",
    title="Claude Code session logs (~/.claude/projects/<project>/<session>.jsonl)",
    kind="requests",
    split_log=True,
    required_columns=("sessionId", "timestamp", "type"),
    optional_columns=(
        "message",
        "requestId",
        "version",
        "cwd",
        "uuid",
        "parentUuid",
        "costUSD",
        "isApiErrorMessage",
        "isSidechain",
        "userType",
        "gitBranch",
        "summary",
        "leafUuid",
    ),
    json_fields={
        "type": "$.type",
        "timestamp": "$.timestamp",
        "cwd": "$.cwd",
        "request_id": "$.requestId",
        "message_id": "$.message.id",
        "model": "$.message.model",
        "usage": _USAGE,
        "input_tokens": f"{_USAGE}.input_tokens",
        "output_tokens": f"{_USAGE}.output_tokens",
        "cache_creation_input_tokens": f"{_USAGE}.cache_creation_input_tokens",
        "cache_read_input_tokens": f"{_USAGE}.cache_read_input_tokens",
        "cache_write_5m": f"{_USAGE}.cache_creation.ephemeral_5m_input_tokens",
        "cache_write_1h": f"{_USAGE}.cache_creation.ephemeral_1h_input_tokens",
        "speed": f"{_USAGE}.speed",
    },
    count_columns=(
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "cache_write_5m",
        "cache_write_1h",
    ),
    money_columns=(),
    time_columns=("timestamp",),
    record_key=("message_id", "request_id"),
    dedupe_within_file='"timestamp"',
    ledger={
        "provider": "'anthropic'",
        "model_raw": 'trim("model")',
        "project": '"cwd"',
        "service_tier": """CASE WHEN "speed" = 'fast' THEN 'fast' ELSE 'standard' END""",
        "day": utc_day('"timestamp"'),
        "time_slot": utc_slot('"timestamp"'),
        "size_basis": "'request'",
        "requests": "1",
        "requests_known": "1",
        "input_tokens": '"input_tokens"',
        "cache_read_tokens": '"cache_read_input_tokens"',
        # The 5m/1h split where the log has it; older logs write only the total (5-minute writes).
        "cache_write_tokens": """CASE WHEN "cache_write_5m" + "cache_write_1h" > 0 THEN "cache_write_5m"
                                 ELSE "cache_creation_input_tokens" END""",
        "cache_write_1h_tokens": """CASE WHEN "cache_write_5m" + "cache_write_1h" > 0 THEN "cache_write_1h"
                                    ELSE 0 END""",
        "output_tokens": '"output_tokens"',
    },
    skip_when=(
        (""""type" <> 'assistant'""", "not an API call (a user, summary or system line)"),
        (""""usage" = ''""", "assistant line without usage"),
        (""""model" = '<synthetic>'""", "a message Claude Code made itself, not an API call"),
    ),
    reject_when=(('"timestamp" IS NULL', "line without a timestamp", "timestamp"),),
    example_header='{"type":"assistant","sessionId":"…","timestamp":"…","requestId":"req_…","message":{"id":"msg_…",'
    '"model":"claude-sonnet-4-20250514","usage":{…}}}',
)
