"""A pre-aggregated workload: the ledger's own columns, summed where the data lives (CSV or Parquet).

For logs too big to move, a team runs one GROUP BY in BigQuery, Athena, Spark or DuckDB (the SQL is in
`docs/scale.md`) and gives the auditor the result. Semantics are the ledger's: `input_tokens` EXCLUDES
cache reads and writes; `output_tokens` includes reasoning and `reasoning_tokens` is that part;
`cache_write_tokens` are 5-minute writes, `cache_write_1h_tokens` 1-hour writes. `requests` is required
so that long-context tiers can be chosen: exactly, when rows are grouped by `request_size_floor_tokens`
(the bucket floors of `docs/scale.md`), or from each row's average request otherwise. `half_hour` (0–47,
UTC) keeps time-of-day prices exact; without it they are averaged over the day.
"""

from __future__ import annotations

from auditor.importers.base import Importer

# Read as text: empty means "not known", which differs from 0 (midnight, the smallest requests).
_HALF_HOUR = """TRY_CAST(NULLIF(trim("half_hour"), '') AS INTEGER)"""
_SIZE_FLOOR = """TRY_CAST(NULLIF(trim("request_size_floor_tokens"), '') AS BIGINT)"""

IMPORTER = Importer(
    name="workload_csv",
    title="Pre-aggregated workload (provider,model,day,requests,input_tokens,output_tokens,…) as CSV or Parquet",
    kind="usage",
    required_columns=("provider", "model", "day", "requests", "input_tokens", "output_tokens"),
    optional_columns=(
        "project",
        "api_key",
        "service_tier",
        "half_hour",
        "request_size_floor_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "cache_write_1h_tokens",
        "reasoning_tokens",
        "billed_cost",
        "currency",
    ),
    count_columns=(
        "requests",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "cache_write_1h_tokens",
        "reasoning_tokens",
    ),
    money_columns=("billed_cost",),
    record_key=(
        "provider",
        "model",
        "project",
        "api_key",
        "service_tier",
        "day",
        "half_hour",
        "request_size_floor_tokens",
    ),
    ledger={
        "provider": 'lower(trim("provider"))',
        "model_raw": 'trim("model")',
        "project": '"project"',
        "api_key": '"api_key"',
        "service_tier": """CASE WHEN trim("service_tier") = '' THEN 'standard' ELSE lower(trim("service_tier")) END""",
        "day": 'TRY_CAST(trim("day") AS DATE)',
        "time_slot": f"coalesce({_HALF_HOUR}, -1)",
        # A given size floor makes the tiers exact (the label basis keeps it as given); else the average request.
        "size_basis": f"CASE WHEN {_SIZE_FLOOR} IS NOT NULL THEN 'context_label' ELSE 'average' END",
        "request_size_floor_tokens": f"coalesce({_SIZE_FLOOR}, -1)",
        "requests": '"requests"',
        "requests_known": "1",
        "input_tokens": '"input_tokens"',
        "cache_read_tokens": '"cache_read_tokens"',
        "cache_write_tokens": '"cache_write_tokens"',
        "cache_write_1h_tokens": '"cache_write_1h_tokens"',
        "output_tokens": '"output_tokens"',
        "reasoning_tokens": '"reasoning_tokens"',
        "billed": '"billed_cost"',
        "billed_present": '"billed_cost__present"',
        "currency": """CASE WHEN trim("currency") = '' THEN 'USD' ELSE upper(trim("currency")) END""",
    },
    reject_when=(
        ("""TRY_CAST(trim("day") AS DATE) IS NULL""", "day is not a date (YYYY-MM-DD)", "day"),
        (
            f"""trim("half_hour") <> '' AND coalesce({_HALF_HOUR} NOT BETWEEN 0 AND 47, true)""",
            "half_hour is not a number from 0 to 47",
            "half_hour",
        ),
        (
            f"""trim("request_size_floor_tokens") <> '' AND coalesce({_SIZE_FLOOR} < 0, true)""",
            "request_size_floor_tokens is not a floor from docs/scale.md",
            "request_size_floor_tokens",
        ),
        ("""trim("model") = ''""", "row without a model", "model"),
        (
            '"reasoning_tokens" > "output_tokens"',
            "reasoning_tokens exceed output_tokens (they are part of it)",
            "reasoning_tokens",
        ),
    ),
    example_header=(
        "provider,model,project,api_key,service_tier,day,half_hour,request_size_floor_tokens,requests,"
        "input_tokens,cache_read_tokens,cache_write_tokens,cache_write_1h_tokens,output_tokens,reasoning_tokens,"
        "billed_cost,currency"
    ),
)
