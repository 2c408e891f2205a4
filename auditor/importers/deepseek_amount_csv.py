"""DeepSeek Open Platform usage export, token file (`amount-<range>.csv` in `usage_data_<from>_<to>.zip`).

How it counts: one row per day (or hour) × model × API key × type, the count in `amount`:
`input_cache_miss_tokens` (plain input), `input_cache_hit_tokens` (cache reads), `output_tokens` (reasoning
included; there is no reasoning row) and `request_count`. Buckets are in the account's local time
(`2026-03-01T00:00:00+08:00`): a daily bucket is dated by its middle in UTC, which is its own date for any
offset, so days line up with other vendors. The older header has a `utc_date` column instead. Files
are UTF-8 with a BOM and CRLF line ends; `price` (per token, account currency) is not used: prices come
from the catalog, money from the cost file.
"""

from __future__ import annotations

from auditor.importers.base import Importer
from auditor.importers.engine import utc_day, utc_slot

_START, _END = '"start_time_iso"', '"end_time_iso"'
# The middle of the bucket (an hour if the end is missing), in UTC.
_MIDDLE = f"to_timestamp((epoch({_START}) + coalesce(epoch({_END}), epoch({_START}) + 3600)) / 2)"
DEEPSEEK_DAY = f"""CASE WHEN {_START} IS NOT NULL THEN {utc_day(_MIDDLE)}
                   ELSE CAST(coalesce(try_strptime(trim("utc_date"), '%Y%m%d'), TRY_CAST(trim("utc_date") AS TIMESTAMP))
                             AS DATE) END"""
# Hourly buckets keep their half hour; daily ones have none.
DEEPSEEK_SLOT = f"CASE WHEN epoch({_END}) - epoch({_START}) <= 3600 THEN {utc_slot(_START)} ELSE -1 END"
_TYPE = 'lower(trim("type"))'


def _of_type(kind: str) -> str:
    return f"""CASE WHEN {_TYPE} = '{kind}' THEN "amount" ELSE 0 END"""


IMPORTER = Importer(
    name="deepseek_amount_csv",
    title="DeepSeek usage export, token file (amount-<range>.csv)",
    kind="usage",
    required_columns=("user_id", "model", "type", "amount"),
    optional_columns=("start_time_iso", "end_time_iso", "utc_date", "api_key_name", "api_key", "price"),
    unused_columns=("price",),
    count_columns=("amount",),
    money_columns=(),
    time_columns=("start_time_iso", "end_time_iso"),
    record_key=("user_id", "start_time_iso", "end_time_iso", "utc_date", "model", "api_key", "type"),
    ledger={
        "provider": "'deepseek'",
        "model_raw": 'trim("model")',
        "project": '"user_id"',
        "api_key": """CASE WHEN trim("api_key_name") <> '' THEN trim("api_key_name") ELSE trim("api_key") END""",
        "day": DEEPSEEK_DAY,
        "time_slot": DEEPSEEK_SLOT,
        "size_basis": "'average'",
        "requests": _of_type("request_count"),
        "requests_known": "1",
        "input_tokens": _of_type("input_cache_miss_tokens"),
        "cache_read_tokens": _of_type("input_cache_hit_tokens"),
        "output_tokens": _of_type("output_tokens"),
    },
    reject_when=(
        ("day IS NULL", "row without a readable date", "utc_date"),
        (
            f"{_TYPE} NOT IN ('input_cache_miss_tokens', 'input_cache_hit_tokens', 'output_tokens', 'request_count')",
            "unknown type of amount",
            "type",
        ),
        ("""trim("model") = ''""", "row without a model", "model"),
    ),
    example_header="user_id,start_time_iso,end_time_iso,model,api_key_name,api_key,type,price,amount",
)
