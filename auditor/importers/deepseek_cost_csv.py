"""DeepSeek Open Platform usage export, money file (`cost-<range>.csv` in `usage_data_<from>_<to>.zip`).

How it counts: money, not tokens. One row per day (or hour) × model × wallet, `cost` in `currency` (CNY
for mainland accounts, USD for international ones; converted with the user's `--fx` rate). There is no
API-key dimension. `wallet_type` `granted` is spend of free credits granted by DeepSeek: it is kept in
the billed total like paid spend (it is what the usage was charged), and the wallet is the row's key.
Buckets are dated as in the token file.
"""

from __future__ import annotations

from auditor.importers.base import Importer
from auditor.importers.deepseek_amount_csv import DEEPSEEK_DAY, DEEPSEEK_SLOT

IMPORTER = Importer(
    name="deepseek_cost_csv",
    title="DeepSeek usage export, money file (cost-<range>.csv)",
    kind="cost",
    required_columns=("user_id", "model", "cost", "currency"),
    optional_columns=("start_time_iso", "end_time_iso", "utc_date", "wallet_type"),
    count_columns=(),
    money_columns=("cost",),
    time_columns=("start_time_iso", "end_time_iso"),
    record_key=("user_id", "start_time_iso", "end_time_iso", "utc_date", "model", "wallet_type"),
    ledger={
        "provider": "'deepseek'",
        "model_raw": 'trim("model")',
        "project": '"user_id"',
        "api_key": 'lower(trim("wallet_type"))',
        "day": DEEPSEEK_DAY,
        "time_slot": DEEPSEEK_SLOT,
        "size_basis": "'average'",
        "billed": '"cost"',
        "billed_present": '"cost__present"',
        "currency": 'upper(trim("currency"))',
    },
    reject_when=(
        ("day IS NULL", "row without a readable date", "utc_date"),
        ('NOT "cost__present"', "row without a cost", "cost"),
        ("""NOT regexp_matches(upper(trim("currency")), '^[A-Z]{3}$')""", "not a currency code", "currency"),
    ),
    example_header="user_id,start_time_iso,end_time_iso,model,wallet_type,cost,currency",
)
