"""Anthropic Console cost export (Cost → Export: `usage_date_utc,model,…,cost_usd,list_price_usd,…`).

How it counts: money, not tokens. One row per day × model × key × token type; `cost_usd` is what was
charged (after discounts), `list_price_usd` the list price of the same row. `model` is a display name
(`Claude Sonnet 4.5`). Rows without a token type (web search, code execution) are non-token charges.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.importers.base import Importer
from auditor.importers.times import day_and_slot_from_text
from auditor.ledger import SIZE_BASIS_LABEL, ledger_frame

_CONTEXT_LABEL_FLOORS = {"≤ 200k": 0, "<= 200k": 0, "> 200k": 200_000}


def to_ledger(rows: pd.DataFrame) -> pd.DataFrame:
    n = len(rows)
    dates = rows["usage_date_utc"].str.strip()
    has_time = dates.str.len() > 10
    days, slots, bad_time = day_and_slot_from_text(dates.where(has_time, dates + " 00:00"))
    model = rows["model"].str.strip()
    billed = rows["cost_usd"].to_numpy()
    non_token = (rows["token_type"].str.strip() == "").to_numpy()
    kind = rows["usage_type"].str.strip().str.lower()
    fast = rows["speed"].str.strip().str.lower() == "fast"
    reject = np.where(bad_time != "", bad_time, "")
    reject_column = np.where(bad_time != "", "usage_date_utc", "")
    no_money = ~rows["cost_usd__present"].to_numpy() & (reject == "")
    reject = np.where(no_money, "row has no cost_usd", reject)
    reject_column = np.where(no_money, "cost_usd", reject_column)
    return ledger_frame(
        n,
        provider="anthropic",
        model_raw=model.to_numpy(),
        project=rows["workspace"].to_numpy(),
        api_key=rows["api_key"].to_numpy(),
        service_tier=np.where(kind == "batch", "batch", np.where(fast, "fast", "standard")),
        day=days,
        time_slot=np.where(has_time.to_numpy(), slots, -1),
        size_basis=SIZE_BASIS_LABEL,
        request_size_floor_tokens=rows["context_window"]
        .str.strip()
        .map(_CONTEXT_LABEL_FLOORS)
        .fillna(-1)
        .astype("int64")
        .to_numpy(),
        billed_nanos=billed,
        billed_lines=1,
        billed_non_token_nanos=np.where(non_token, billed, 0),
        source_list_nanos=rows["list_price_usd"].to_numpy(),
        source_list_lines=rows["list_price_usd__present"].to_numpy().astype("int64"),
        reject_reason=reject,
        reject_column=reject_column,
    )


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
    count_columns=(),
    money_columns=("cost_usd", "list_price_usd"),
    to_ledger=to_ledger,
    example_header=(
        "usage_date_utc,model,workspace,api_key,usage_type,context_window,token_type,cost_usd,list_price_usd,"
        "cost_type,inference_geo,speed,api_key_id,api_key_status"
    ),
)
