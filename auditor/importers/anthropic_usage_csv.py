"""Anthropic Console usage export (Usage → Export: `usage_date_utc,model_version,…`).

How it counts: `usage_input_tokens_no_cache` is uncached input only; 5-minute and 1-hour cache
writes and cache reads are separate columns (an older variant has one `usage_input_tokens_cache_write`
column, taken as 5-minute writes); output includes thinking. There are no request counts, so long-context
tiers follow the row's `context_window` label (`≤ 200k` / `> 200k`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.importers.base import Importer
from auditor.importers.times import day_and_slot_from_text
from auditor.ledger import SIZE_BASIS_LABEL, ledger_frame

# Request-size floor that each context-window label guarantees (tiers apply to input > threshold).
_CONTEXT_LABEL_FLOORS = {"≤ 200k": 0, "<= 200k": 0, "> 200k": 200_000}


def _service_tier(usage_type: pd.Series, speed: pd.Series) -> np.ndarray:
    kind = usage_type.str.strip().str.lower()
    fast = speed.str.strip().str.lower() == "fast"
    return np.where(kind == "batch", "batch", np.where(fast, "fast", "standard"))


def to_ledger(rows: pd.DataFrame) -> pd.DataFrame:
    n = len(rows)
    dates = rows["usage_date_utc"].str.strip()
    has_time = dates.str.len() > 10
    days, slots, bad_time = day_and_slot_from_text(dates.where(has_time, dates + " 00:00"))
    model = rows["model_version"].str.strip()
    label = rows["context_window"].str.strip()
    floors = label.map(_CONTEXT_LABEL_FLOORS).fillna(-1).astype("int64")
    reject = np.where(bad_time != "", bad_time, np.where(model == "", "usage without a model name", ""))
    reject_column = np.where(bad_time != "", "usage_date_utc", np.where(model == "", "model_version", ""))
    return ledger_frame(
        n,
        provider="anthropic",
        model_raw=model.to_numpy(),
        project=rows["workspace"].to_numpy(),
        api_key=rows["api_key"].to_numpy(),
        service_tier=_service_tier(rows["usage_type"], rows["speed"]),
        day=days,
        time_slot=np.where(has_time.to_numpy(), slots, -1),
        size_basis=SIZE_BASIS_LABEL,
        request_size_floor_tokens=floors.to_numpy(),
        input_tokens=rows["usage_input_tokens_no_cache"].to_numpy(),
        cache_read_tokens=rows["usage_input_tokens_cache_read"].to_numpy(),
        cache_write_tokens=rows["usage_input_tokens_cache_write_5m"].to_numpy()
        + rows["usage_input_tokens_cache_write"].to_numpy(),
        cache_write_1h_tokens=rows["usage_input_tokens_cache_write_1h"].to_numpy(),
        output_tokens=rows["usage_output_tokens"].to_numpy(),
        reject_reason=reject,
        reject_column=reject_column,
    )


IMPORTER = Importer(
    name="anthropic_usage_csv",
    title="Anthropic Console usage export (usage_date_utc,model_version,…)",
    kind="usage",
    required_columns=(
        "usage_date_utc",
        "model_version",
        "usage_input_tokens_no_cache",
        "usage_output_tokens",
    ),
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
    to_ledger=to_ledger,
    example_header=(
        "usage_date_utc,model_version,api_key,workspace,usage_type,context_window,usage_input_tokens_no_cache,"
        "usage_input_tokens_cache_write_5m,usage_input_tokens_cache_write_1h,usage_input_tokens_cache_read,"
        "usage_output_tokens,web_search_count,inference_geo,speed"
    ),
)
