"""OpenAI Codex CLI rollout logs (`~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl`), one JSON object per line.

How it counts: each line is `{"timestamp", "type", "payload"}`. Tokens are only on `event_msg` lines whose
`payload.type` is `token_count`, in `payload.info` (null on some: skipped): `last_token_usage` is the
usage of the API call just made, `total_token_usage` the session's running total. In both,
`input_tokens` INCLUDES `cached_input_tokens` (cache reads; never more than the input) and `output_tokens`
INCLUDES `reasoning_output_tokens`; so input here is `input_tokens - cached_input_tokens`, cache reads are
`cached_input_tokens`, output is `output_tokens`, reasoning the part of it that was reasoning. Codex
writes the same event again without a new call (the running total unchanged): as ccusage does, a token
count whose `total_token_usage` equals the one of the token count before it in the file is skipped, and
one without `last_token_usage` counts the growth of the running total. Each counted token count is one
API call. The model is not on these lines: it is the `payload.model` of the latest `turn_context` line
before it in the file (a session can switch models between turns), or the token count's own
`payload.model` / `payload.info.model` where it has one; a file with neither before its first token count
(older Codex versions) is `gpt-5`, ccusage's fallback. The project is the session's working directory
(`cwd` of `session_meta` and `turn_context` lines). There is no API key, cost or service tier.
"""

from __future__ import annotations

from auditor.importers.base import Importer
from auditor.importers.engine import utc_day, utc_slot

_INFO = "$.payload.info"
_USAGE = ("input", "cached", "output", "reasoning", "total")
_FIELD = {
    "input": "input_tokens",
    "cached": "cached_input_tokens",
    "output": "output_tokens",
    "reasoning": "reasoning_output_tokens",
    "total": "total_tokens",
}

_TOKEN_COUNT = """("type" = 'event_msg' AND "payload_type" = 'token_count')"""
_HAS_USAGE = """("total_usage" <> '' OR "last_usage" <> '')"""
# The running total did not move since the token count before it: the same call written again.
_REPEAT = '"total_usage" <> \'\' AND "prev_input" IS NOT NULL AND ' + " AND ".join(
    f'"total_{u}" = "prev_{u}"' for u in _USAGE
)


def _call(usage: str) -> str:
    """SQL: one class of the call's usage: `last_token_usage`, else the growth of the running total."""
    return f"""(CASE WHEN "last_usage" <> '' THEN "last_{usage}"
                ELSE greatest("total_{usage}" - coalesce("prev_{usage}", 0), 0) END)"""


_CACHED = f"least({_call('cached')}, {_call('input')})"

IMPORTER = Importer(
    name="codex_cli_jsonl",
    title="OpenAI Codex CLI session logs (~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl)",
    kind="requests",
    split_log=True,
    required_columns=("timestamp", "type", "payload"),
    optional_columns=(),
    json_fields={
        "type": "$.type",
        "timestamp": "$.timestamp",
        "payload_type": "$.payload.type",
        "cwd": "$.payload.cwd",
        "model": "$.payload.model",
        "info_model": f"{_INFO}.model",
        "total_usage": f"{_INFO}.total_token_usage",
        "last_usage": f"{_INFO}.last_token_usage",
        **{f"total_{u}": f"{_INFO}.total_token_usage.{_FIELD[u]}" for u in _USAGE},
        **{f"last_{u}": f"{_INFO}.last_token_usage.{_FIELD[u]}" for u in _USAGE if u != "total"},
    },
    count_columns=(*(f"total_{u}" for u in _USAGE), *(f"last_{u}" for u in _USAGE if u != "total")),
    money_columns=(),
    time_columns=("timestamp",),
    carried={
        "turn_model": f"""CASE WHEN "type" = 'turn_context' THEN nullif(trim("model"), '')
                          WHEN {_TOKEN_COUNT} THEN coalesce(nullif(trim("model"), ''), nullif(trim("info_model"), ''))
                          END""",
        "session_cwd": """CASE WHEN "type" IN ('session_meta', 'turn_context') THEN nullif("cwd", '') END""",
    },
    # The running total of the token count before this line (ccusage's `previousTotals`).
    previous={
        f"prev_{u}": f"""CASE WHEN {_TOKEN_COUNT} AND "total_usage" <> '' AND "timestamp" IS NOT NULL
                         THEN "total_{u}" END"""
        for u in _USAGE
    },
    ledger={
        "provider": "'openai'",
        "model_raw": f"""CASE WHEN {_TOKEN_COUNT} AND {_HAS_USAGE} THEN coalesce("turn_model", 'gpt-5') ELSE '' END""",
        "project": """coalesce("session_cwd", '')""",
        "service_tier": "'standard'",
        "day": utc_day('"timestamp"'),
        "time_slot": utc_slot('"timestamp"'),
        "size_basis": "'request'",
        "requests": "1",
        "requests_known": "1",
        "input_tokens": f"{_call('input')} - {_CACHED}",
        "cache_read_tokens": _CACHED,
        "output_tokens": _call("output"),
        "reasoning_tokens": f"least({_call('reasoning')}, {_call('output')})",
    },
    skip_when=(
        (f"NOT {_TOKEN_COUNT}", "not a token count (session meta, turn context, response item or other event)"),
        (f"NOT {_HAS_USAGE}", "token count without usage (info is null)"),
        (_REPEAT, "the running total of the token count before it, written again (no new call)"),
        (
            f"{_call('input')} = 0 AND {_call('output')} = 0 AND {_call('reasoning')} = 0",
            "token count without new tokens",
        ),
    ),
    reject_when=(('"timestamp" IS NULL', "token count without a timestamp", "timestamp"),),
    example_header='{"timestamp":"…","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{…},'
    '"last_token_usage":{"input_tokens":…,"cached_input_tokens":…,"output_tokens":…,"reasoning_output_tokens":…}}}}',
)
