"""OpenAI platform usage export (Usage → Activity → Export: `completions_usage_<from>_<to>.csv`).

How it counts: `input_tokens` INCLUDES cached and cache-write tokens, `input_uncached_tokens` is the
rest; `output_tokens` INCLUDES reasoning (there is no reasoning column); per-modality columns are
breakdowns, never added. Numbers are printed as floats (`31422.0`), `batch` as `True`/`False`; every
empty time bucket is a row with only its four time columns.
"""

from __future__ import annotations

from auditor.importers.base import Importer

_MODALITY_COLUMNS = (
    "input_text_tokens",
    "output_text_tokens",
    "input_cached_text_tokens",
    "input_audio_tokens",
    "input_cached_audio_tokens",
    "output_audio_tokens",
    "input_image_tokens",
    "input_cached_image_tokens",
    "output_image_tokens",
    "compute_units",
)

IMPORTER = Importer(
    name="openai_usage_csv",
    title="OpenAI platform usage export (completions_usage_<from>_<to>.csv)",
    kind="usage",
    required_columns=(
        "start_time",
        "end_time",
        "num_model_requests",
        "model",
        "input_tokens",
        "output_tokens",
        "input_cached_tokens",
    ),
    optional_columns=(
        "start_time_iso",
        "end_time_iso",
        "project_id",
        "user_id",
        "api_key_id",
        "batch",
        "service_tier",
        "input_cache_write_tokens",
        "input_uncached_tokens",
        *_MODALITY_COLUMNS,
    ),
    record_key=("start_time", "end_time", "project_id", "api_key_id", "model", "batch", "service_tier"),
    unused_columns=("start_time_iso", "end_time_iso", "user_id", "input_uncached_tokens", *_MODALITY_COLUMNS),
    count_columns=(
        "start_time",
        "end_time",
        "num_model_requests",
        "input_tokens",
        "output_tokens",
        "input_cached_tokens",
        "input_cache_write_tokens",
    ),
    money_columns=(),
    ledger={
        "provider": "'openai'",
        "model_raw": 'trim("model")',
        "project": '"project_id"',
        "api_key": '"api_key_id"',
        "service_tier": """CASE WHEN lower(trim("batch")) = 'true' THEN 'batch'
                           WHEN lower(trim("service_tier")) IN ('', 'default', 'auto') THEN 'standard'
                           ELSE lower(trim("service_tier")) END""",
        "day": """CAST(DATE '1970-01-01' + CAST("start_time" // 86400 AS INTEGER) AS DATE)""",
        # Buckets of an hour or less keep their time of day; daily buckets have none.
        "time_slot": 'CASE WHEN "end_time" - "start_time" <= 3600 THEN ("start_time" % 86400) // 1800 ELSE -1 END',
        "size_basis": "'average'",
        "requests": '"num_model_requests"',
        "requests_known": "1",
        # OpenAI counts cached and cache-write tokens inside input_tokens; the ledger does not.
        "input_tokens": 'greatest("input_tokens" - "input_cached_tokens" - "input_cache_write_tokens", 0)',
        "cache_read_tokens": '"input_cached_tokens"',
        "cache_write_tokens": '"input_cache_write_tokens"',
        "output_tokens": '"output_tokens"',
    },
    skip_when=(
        (
            """trim("model") = '' AND "input_tokens" + "output_tokens" = 0 AND "num_model_requests" = 0""",
            "empty time bucket",
        ),
    ),
    reject_when=(
        ("""trim("model") = ''""", "usage without a model name", "model"),
        (
            '"input_cached_tokens" + "input_cache_write_tokens" > "input_tokens"',
            "input_cached_tokens + input_cache_write_tokens exceed input_tokens",
            "input_cached_tokens",
        ),
    ),
    example_header=(
        "start_time,end_time,start_time_iso,end_time_iso,project_id,num_model_requests,user_id,api_key_id,"
        "model,batch,service_tier,compute_units,input_tokens,output_tokens,input_cached_tokens,"
        "input_cache_write_tokens,input_uncached_tokens,input_text_tokens,output_text_tokens,"
        "input_cached_text_tokens,input_audio_tokens,input_cached_audio_tokens,output_audio_tokens,"
        "input_image_tokens,input_cached_image_tokens,output_image_tokens"
    ),
)
