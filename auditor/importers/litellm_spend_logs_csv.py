"""LiteLLM proxy spend logs: a CSV dump of the `LiteLLM_SpendLogs` table (`request_id,call_type,api_key,spend,…`).

How it counts: one row per request, in LiteLLM's OpenAI-style convention for every provider:
`prompt_tokens` includes cache reads and writes (LiteLLM adds Anthropic's into it) and
`completion_tokens` includes reasoning (for Anthropic, LiteLLM's own estimate of it). The split is only
in the `metadata` JSON's `usage_object`: cache reads under two names for the same tokens
(`cache_read_input_tokens`, `prompt_tokens_details.cached_tokens`), writes likewise, their 1-hour part
under `prompt_tokens_details.cache_creation_token_details`, reasoning under `completion_tokens_details`.
A row whose metadata is not JSON (cut or edited) is rejected with its line: used without the split,
its cache reads would be priced as fresh input. Failed requests and responses LiteLLM served from its
own cache are skipped.

`spend` is LiteLLM's estimate from its own price map, not a charge: the vendor bills the usage, and the
map can be stale. It is kept apart as the source's list price, never as `billed`, so a billed total
never mixes estimates with invoices, nor counts usage twice when the vendor's own export is audited too.
"""

from __future__ import annotations

from auditor.importers.base import Importer
from auditor.importers.engine import MONEY_TYPE, literal, utc_day, utc_slot

# LiteLLM's `custom_llm_provider` names that differ from the catalog's provider ids; any other name is
# kept as written (lower-cased), so a provider the catalog lacks shows as unpriced, never as a guess.
_PROVIDER_IDS = {
    "": "unknown",
    "text-completion-openai": "openai",
    "azure_text": "azure",
    "azure_ai": "azure",
    "bedrock": "aws",
    "vertex_ai": "google",
    "vertex_ai_beta": "google",
    "gemini": "google",
    "codestral": "mistral",
    "text-completion-codestral": "mistral",
    "cohere_chat": "cohere",
    "together_ai": "together",
    "fireworks_ai": "fireworks",
    "xai": "x-ai",
    "moonshot": "moonshotai",
    "voyage": "voyageai",
}

# The part of the metadata JSON the mapping reads, parsed once per row into a struct (the derived column
# `__metadata`, which the other expressions read). Counts are DOUBLE: a value of another JSON type
# reads as NULL, i.e. 0. TRY: a row whose metadata is not JSON gets NULL here and is rejected below.
_METADATA_SHAPE = """{
    "user_api_key_alias": "VARCHAR", "user_api_key_team_alias": "VARCHAR", "user_api_key_team_id": "VARCHAR",
    "status": "VARCHAR",
    "usage_object": {
        "cache_read_input_tokens": "DOUBLE", "cache_creation_input_tokens": "DOUBLE", "speed": "VARCHAR",
        "prompt_tokens_details": {
            "cached_tokens": "DOUBLE", "cache_creation_tokens": "DOUBLE",
            "cache_creation_token_details": {"ephemeral_1h_input_tokens": "DOUBLE"}
        },
        "completion_tokens_details": {"reasoning_tokens": "DOUBLE"}
    }
}"""
_METADATA_SQL = f'TRY(from_json("metadata", {literal(" ".join(_METADATA_SHAPE.split()))}))'
_METADATA = '"__metadata"'


def _meta(*path: str) -> str:
    """SQL: a field of the parsed metadata (NULL when absent)."""
    expr = _METADATA
    for key in path:
        expr = f"struct_extract({expr}, {literal(key)})"
    return expr


def _count(*path: str) -> str:
    """SQL: a token count of the metadata's usage object as a BIGINT, 0 when absent."""
    # TRY_CAST: a count too large for a BIGINT reads as 0 rather than stopping the scan.
    return f"coalesce(TRY_CAST({_meta('usage_object', *path)} AS BIGINT), 0)"


def _text(*path: str) -> str:
    """SQL: a text field of the metadata, '' when absent."""
    return f"coalesce({_meta(*path)}, '')"


# The same cache reads are named twice (`cache_read_input_tokens` and OpenAI's `cached_tokens`), as are
# the writes: the larger of the two is the count, never their sum. Each count is a derived column too.
_DERIVED = {
    "__metadata": _METADATA_SQL,
    "__cache_read": (
        f"greatest({_count('cache_read_input_tokens')}, {_count('prompt_tokens_details', 'cached_tokens')})"
    ),
    "__cache_write": (
        f"greatest({_count('cache_creation_input_tokens')}, {_count('prompt_tokens_details', 'cache_creation_tokens')})"
    ),
    "__cache_write_1h": _count("prompt_tokens_details", "cache_creation_token_details", "ephemeral_1h_input_tokens"),
    "__reasoning": _count("completion_tokens_details", "reasoning_tokens"),
}
CACHE_READ, CACHE_WRITE, CACHE_WRITE_1H, REASONING = (
    '"__cache_read"', '"__cache_write"', '"__cache_write_1h"', '"__reasoning"'
)  # fmt: skip

SPEND = f"""TRY_CAST(nullif(trim("spend"), '') AS {MONEY_TYPE})"""

_PROVIDER_RAW = 'lower(trim("custom_llm_provider"))'
PROVIDER = (
    f"CASE {_PROVIDER_RAW} "
    + " ".join(f"WHEN {literal(name)} THEN {literal(pid)}" for name, pid in _PROVIDER_IDS.items())
    + f" ELSE {_PROVIDER_RAW} END"
)

_NOT_READ = (
    "total_tokens", "endTime", "request_duration_ms", "completionStartTime", "model_id", "model_group",
    "api_base", "user", "cache_key", "request_tags", "organization_id", "end_user", "requester_ip_address",
    "messages", "response", "session_id", "mcp_namespaced_tool_name", "agent_id", "proxy_server_request",
)  # fmt: skip

IMPORTER = Importer(
    name="litellm_spend_logs_csv",
    title="LiteLLM proxy spend logs (CSV dump of LiteLLM_SpendLogs: request_id,call_type,api_key,spend,…)",
    kind="requests",
    required_columns=(
        "request_id",
        "call_type",
        "api_key",
        "spend",
        "prompt_tokens",
        "completion_tokens",
        "startTime",
        "model",
        "custom_llm_provider",
        "metadata",
    ),
    # `status` and `cache_hit` are absent from older LiteLLM versions' tables; `status` is then read
    # from the metadata.
    optional_columns=("team_id", "cache_hit", "status", *_NOT_READ),
    record_key=("request_id",),
    unused_columns=_NOT_READ,
    count_columns=("prompt_tokens", "completion_tokens"),
    # `spend` is read as text: it is information only, so a value that is not a number leaves the
    # request's tokens usable (a money column would reject the row), and the format is not taken for
    # one that states charges.
    money_columns=(),
    time_columns=("startTime",),
    derived=_DERIVED,
    ledger={
        "provider": PROVIDER,
        # LiteLLM sometimes writes the model with its own provider prefix (`bedrock/anthropic.claude-…`);
        # that prefix is dropped only when it repeats `custom_llm_provider`, so a model id that holds a
        # slash of its own (`meta-llama/Llama-3.3-70B-Instruct-Turbo`, `anthropic/claude-…` on
        # OpenRouter) stays whole.
        "model_raw": """CASE WHEN "custom_llm_provider" <> '' AND starts_with("model", "custom_llm_provider" || '/')
                        THEN substr("model", length("custom_llm_provider") + 2) ELSE "model" END""",
        # Team and key aliases are what people recognise; the ids and the hashed key are the fallback.
        "project": f"""coalesce(nullif({_text("user_api_key_team_alias")}, ''), nullif("team_id", ''),
                       {_text("user_api_key_team_id")})""",
        "api_key": f"""coalesce(nullif({_text("user_api_key_alias")}, ''), "api_key")""",
        "service_tier": f"""CASE WHEN lower({_text("usage_object", "speed")}) = 'fast' THEN 'fast'
                           ELSE 'standard' END""",
        "day": utc_day('"startTime"'),
        "time_slot": utc_slot('"startTime"'),
        "size_basis": "'request'",
        "requests": "1",
        "requests_known": "1",
        # prompt_tokens holds the cache reads and writes; the ledger's input_tokens does not.
        "input_tokens": f'"prompt_tokens" - {CACHE_READ} - {CACHE_WRITE}',
        "cache_read_tokens": CACHE_READ,
        "cache_write_tokens": f"{CACHE_WRITE} - {CACHE_WRITE_1H}",
        "cache_write_1h_tokens": CACHE_WRITE_1H,
        "output_tokens": '"completion_tokens"',
        "reasoning_tokens": REASONING,
        "source_list": f"coalesce({SPEND}, 0)",
        "source_list_present": f"{SPEND} IS NOT NULL",
    },
    skip_when=(
        (
            f"""lower("status") = 'failure' OR (trim("status") = '' AND {_text("status")} = 'failure')""",
            "failed request",
        ),
        # A response LiteLLM served from its own cache reached no provider: it records the cached
        # response's tokens, which nobody billed.
        ("""lower(trim("cache_hit")) = 'true'""", "served from LiteLLM's response cache (no provider call)"),
    ),
    reject_when=(
        ('"startTime" IS NULL', "request without a time", "startTime"),
        (""""model" = ''""", "request without a model", "model"),
        (
            f"""trim("metadata") NOT IN ('', '{{}}') AND {_METADATA} IS NULL""",
            "metadata is not JSON (cut or edited?): its cache and reasoning counts are unknown",
            "metadata",
        ),
        (
            f"least({CACHE_READ}, {CACHE_WRITE}, {CACHE_WRITE_1H}, {REASONING}) < 0",
            "negative token count in metadata.usage_object",
            "metadata",
        ),
        (
            f'{CACHE_READ} + {CACHE_WRITE} > "prompt_tokens"',
            "cache tokens in metadata exceed prompt_tokens",
            "prompt_tokens",
        ),
        (f"{CACHE_WRITE_1H} > {CACHE_WRITE}", "1-hour cache writes exceed all cache writes", "metadata"),
        (f'{REASONING} > "completion_tokens"', "reasoning tokens exceed completion_tokens", "completion_tokens"),
    ),
    example_header=(
        "request_id,call_type,api_key,spend,total_tokens,prompt_tokens,completion_tokens,startTime,endTime,"
        "request_duration_ms,completionStartTime,model,model_id,model_group,custom_llm_provider,api_base,user,"
        "metadata,cache_hit,cache_key,request_tags,team_id,organization_id,end_user,requester_ip_address,"
        "messages,response,session_id,status,mcp_namespaced_tool_name,agent_id,proxy_server_request"
    ),
)
