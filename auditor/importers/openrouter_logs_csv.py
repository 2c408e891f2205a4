"""OpenRouter per-request logs export (openrouter.ai/logs: `generation_id,created_at,cost_total,…`).

How it counts: one row per request. `tokens_cached` is inside `tokens_prompt`; `tokens_reasoning` is
inside `tokens_completion`; no cache-write count. `cost_total` (USD credits) is what OpenRouter charged,
web-search and file-processing costs included; on bring-your-own-key rows `byok_usage_inference` is
spend billed by the upstream vendor, not by OpenRouter. Columns are read by name (tools reorder them).
"""

from __future__ import annotations

from auditor.importers.base import Importer
from auditor.importers.engine import utc_day, utc_slot

# Columns of the export that detection counts but the mapping does not need (the request's id, latency,
# finish reason, the upstream host, …), so they are never converted.
_NOT_READ = (
    "generation_id", "cost_cache", "provider_name", "cancelled", "streamed", "user", "finish_reason_raw",
    "finish_reason_normalized", "generation_time_ms", "time_to_first_token_ms", "api_key_disabled",
    "num_search_results",
)  # fmt: skip

IMPORTER = Importer(
    name="openrouter_logs_csv",
    title="OpenRouter per-request logs export (generation_id,created_at,cost_total,…)",
    kind="requests",
    required_columns=(
        "generation_id",
        "created_at",
        "cost_total",
        "tokens_prompt",
        "tokens_completion",
        "model_permaslug",
    ),
    optional_columns=(
        "cost_web_search",
        "cost_file_processing",
        "byok_usage_inference",
        "tokens_reasoning",
        "tokens_cached",
        "variant",
        "api_key_name",
        "app_name",
        *_NOT_READ,
    ),
    record_key=("generation_id",),
    unused_columns=_NOT_READ,
    count_columns=("tokens_prompt", "tokens_completion", "tokens_reasoning", "tokens_cached"),
    money_columns=("cost_total", "cost_web_search", "cost_file_processing", "byok_usage_inference"),
    time_columns=("created_at",),
    # The Activity export aggregates the same requests.
    family="openrouter_requests",
    ledger={
        "provider": "'openrouter'",
        # A `free` (or other non-standard) variant is its own catalog entry: `author/model:free`. The common
        # case is tested first, without string functions: this runs on every request of the log.
        "model_raw": """CASE WHEN "variant" = 'standard' OR "variant" = '' THEN "model_permaslug"
                        WHEN lower(trim("variant")) IN ('', 'standard') OR contains("model_permaslug", ':')
                        THEN trim("model_permaslug")
                        ELSE trim("model_permaslug") || ':' || lower(trim("variant")) END""",
        "project": '"app_name"',
        "api_key": '"api_key_name"',
        "day": utc_day('"created_at"'),
        "time_slot": utc_slot('"created_at"'),
        "size_basis": "'request'",
        "requests": "1",
        "requests_known": "1",
        # OpenRouter counts cached tokens inside tokens_prompt; the ledger does not.
        "input_tokens": 'greatest("tokens_prompt" - "tokens_cached", 0)',
        "cache_read_tokens": '"tokens_cached"',
        "output_tokens": '"tokens_completion"',
        "reasoning_tokens": '"tokens_reasoning"',
        "billed": '"cost_total"',
        "billed_present": "true",
        "billed_non_token": '"cost_web_search" + "cost_file_processing"',
        "byok_upstream": '"byok_usage_inference"',
    },
    reject_when=(
        ('"created_at" IS NULL', "request without a time", "created_at"),
        (""""model_permaslug" = ''""", "request without a model", "model_permaslug"),
        ('"tokens_cached" > "tokens_prompt"', "tokens_cached exceeds tokens_prompt", "tokens_cached"),
        ('"tokens_reasoning" > "tokens_completion"', "tokens_reasoning exceeds tokens_completion", "tokens_reasoning"),
        ('NOT "cost_total__present"', "row has no cost_total", "cost_total"),
    ),
    example_header=(
        "generation_id,created_at,cost_total,cost_web_search,cost_cache,cost_file_processing,"
        "byok_usage_inference,tokens_prompt,tokens_completion,tokens_reasoning,tokens_cached,model_permaslug,"
        "provider_name,variant,cancelled,streamed,user,finish_reason_raw,finish_reason_normalized,"
        "generation_time_ms,time_to_first_token_ms,api_key_disabled,api_key_name,app_name"
    ),
)
