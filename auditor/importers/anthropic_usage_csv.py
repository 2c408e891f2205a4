"""Anthropic Console usage export (Usage → Export: `usage_date_utc,model_version,…`).

How it counts: `usage_input_tokens_no_cache` is uncached input only; 5-minute and 1-hour cache
writes and cache reads are separate columns (an older variant has one `usage_input_tokens_cache_write`
column, taken as 5-minute writes, the default TTL); output includes thinking. There are no request
counts, so long-context tiers follow the row's `context_window` label (`≤ 200k` / `> 200k`).
"""

from __future__ import annotations

from auditor.importers.base import Importer
from auditor.importers.engine import utc_day, utc_slot

# Request-size floor each context-window label guarantees (a tier applies to input > its threshold).
CONTEXT_LABEL_FLOOR = """CASE trim("context_window") WHEN '≤ 200k' THEN 0 WHEN '<= 200k' THEN 0
                         WHEN '> 200k' THEN 200000 ELSE -1 END"""
USAGE_DAY = """TRY_CAST(trim("usage_date_utc") AS TIMESTAMPTZ)"""
# Hourly exports write a time after the date; daily ones have none.
USAGE_SLOT = f"""CASE WHEN length(trim("usage_date_utc")) > 10 THEN {utc_slot(USAGE_DAY)} ELSE -1 END"""
SERVICE_TIER = """CASE WHEN lower(trim("usage_type")) = 'batch' THEN 'batch'
                  WHEN lower(trim("speed")) = 'fast' THEN 'fast' ELSE 'standard' END"""
# What the Console's usage and cost exports share: attribution, time and the context-window label.
CONSOLE_KEYS = {
    "provider": "'anthropic'",
    "project": '"workspace"',
    "api_key": '"api_key"',
    "service_tier": SERVICE_TIER,
    "day": utc_day(USAGE_DAY),
    "time_slot": USAGE_SLOT,
    "size_basis": "'context_label'",
    "request_size_floor_tokens": CONTEXT_LABEL_FLOOR,
}

IMPORTER = Importer(
    name="anthropic_usage_csv",
    title="Anthropic Console usage export (usage_date_utc,model_version,…)",
    kind="usage",
    required_columns=("usage_date_utc", "model_version", "usage_input_tokens_no_cache", "usage_output_tokens"),
    optional_columns=(
        "api_key",
        "workspace",
        "usage_type",
        "context_window",
        "usage_input_tokens_cache_write_5m",
        "usage_input_tokens_cache_write_1h",
        "usage_input_tokens_cache_write",
        "usage_input_tokens_cache_read",
        "web_search_count",
        "inference_geo",
        "speed",
    ),
    record_key=("usage_date_utc", "model_version", "api_key", "workspace", "usage_type", "context_window", "speed"),
    unused_columns=("inference_geo",),
    count_columns=(
        "usage_input_tokens_no_cache",
        "usage_input_tokens_cache_write_5m",
        "usage_input_tokens_cache_write_1h",
        "usage_input_tokens_cache_write",
        "usage_input_tokens_cache_read",
        "usage_output_tokens",
        "web_search_count",
    ),
    money_columns=(),
    ledger={
        **CONSOLE_KEYS,
        "model_raw": 'trim("model_version")',
        "input_tokens": '"usage_input_tokens_no_cache"',
        "cache_read_tokens": '"usage_input_tokens_cache_read"',
        "cache_write_tokens": '"usage_input_tokens_cache_write_5m" + "usage_input_tokens_cache_write"',
        "cache_write_1h_tokens": '"usage_input_tokens_cache_write_1h"',
        "output_tokens": '"usage_output_tokens"',
    },
    reject_when=(
        (f"{USAGE_DAY} IS NULL", "not a date", "usage_date_utc"),
        ("""trim("model_version") = ''""", "usage without a model name", "model_version"),
    ),
    example_header=(
        "usage_date_utc,model_version,api_key,workspace,usage_type,context_window,usage_input_tokens_no_cache,"
        "usage_input_tokens_cache_write_5m,usage_input_tokens_cache_write_1h,usage_input_tokens_cache_read,"
        "usage_output_tokens,web_search_count,inference_geo,speed"
    ),
)
