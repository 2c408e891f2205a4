"""Anthropic Console cost export (Cost → Export: `usage_date_utc,model,…,cost_usd,list_price_usd,…`).

How it counts: money, not tokens. One row per day × model × key × token type; `cost_usd` is what was
charged (after discounts), `list_price_usd` the list price of the same row. `model` is a display name
(`Claude Sonnet 4.5`). Rows without a token type (web search, code execution) are non-token charges.
"""

from __future__ import annotations

from auditor.importers.anthropic_usage_csv import CONSOLE_KEYS, USAGE_DAY
from auditor.importers.base import Importer

IMPORTER = Importer(
    name="anthropic_cost_csv",
    title="Anthropic Console cost export (usage_date_utc,model,…,cost_usd,list_price_usd,…)",
    kind="cost",
    required_columns=("usage_date_utc", "model", "token_type", "cost_usd", "list_price_usd"),
    optional_columns=(
        "workspace",
        "api_key",
        "usage_type",
        "context_window",
        "cost_type",
        "inference_geo",
        "speed",
        "api_key_id",
        "api_key_status",
    ),
    record_key=(
        "usage_date_utc",
        "model",
        "workspace",
        "api_key",
        "usage_type",
        "context_window",
        "token_type",
        "cost_type",
        "speed",
    ),
    unused_columns=("cost_type", "inference_geo", "api_key_id", "api_key_status"),
    count_columns=(),
    money_columns=("cost_usd", "list_price_usd"),
    ledger={
        **CONSOLE_KEYS,
        "model_raw": 'trim("model")',
        "billed": '"cost_usd"',
        "billed_present": "true",
        "billed_non_token": """CASE WHEN trim("token_type") = '' THEN "cost_usd" ELSE 0 END""",
        "source_list": '"list_price_usd"',
        "source_list_present": '"list_price_usd__present"',
    },
    reject_when=(
        (f"{USAGE_DAY} IS NULL", "not a date", "usage_date_utc"),
        ('NOT "cost_usd__present"', "row has no cost_usd", "cost_usd"),
    ),
    example_header=(
        "usage_date_utc,model,workspace,api_key,usage_type,context_window,token_type,cost_usd,list_price_usd,"
        "cost_type,inference_geo,speed,api_key_id,api_key_status"
    ),
)
