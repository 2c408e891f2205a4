"""OpenRouter per-request logs export (openrouter.ai/logs: `generation_id,created_at,cost_total,…`).

How it counts: one row per request. `tokens_cached` is inside `tokens_prompt`; `tokens_reasoning` is
inside `tokens_completion`; no cache-write count. `cost_total` (USD credits) is what OpenRouter charged,
web-search and file-processing costs included; on bring-your-own-key rows `byok_usage_inference` is
spend billed by the upstream vendor, not by OpenRouter. Columns are read by name (tools reorder them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.importers.base import Importer
from auditor.importers.times import day_and_slot_from_text
from auditor.ledger import SIZE_BASIS_REQUEST, ledger_frame


def to_ledger(rows: pd.DataFrame) -> pd.DataFrame:
    n = len(rows)
    days, slots, bad_time = day_and_slot_from_text(rows["created_at"])
    variant = rows["variant"].str.strip().str.lower()
    slug = rows["model_permaslug"].str.strip()
    # A `free` (or other non-standard) variant is its own catalog entry: `author/model:free`.
    model = np.where(
        (variant == "") | (variant == "standard") | slug.str.contains(":"), slug, slug + ":" + variant
    )
    prompt = rows["tokens_prompt"].to_numpy()
    cached = rows["tokens_cached"].to_numpy()
    completion = rows["tokens_completion"].to_numpy()
    reasoning = rows["tokens_reasoning"].to_numpy()
    reject = np.where(bad_time != "", bad_time, "")
    reject_column = np.where(bad_time != "", "created_at", "")
    for bad, reason, column in (
        (slug == "", "request without a model", "model_permaslug"),
        (cached > prompt, "tokens_cached exceeds tokens_prompt", "tokens_cached"),
        (reasoning > completion, "tokens_reasoning exceeds tokens_completion", "tokens_reasoning"),
        (~rows["cost_total__present"].to_numpy(), "row has no cost_total", "cost_total"),
    ):
        fresh = np.asarray(bad) & (reject == "")
        reject = np.where(fresh, reason, reject)
        reject_column = np.where(fresh, column, reject_column)
    return ledger_frame(
        n,
        provider="openrouter",
        model_raw=model,
        project=rows["app_name"].to_numpy(),
        api_key=rows["api_key_name"].to_numpy(),
        service_tier="standard",
        day=days,
        time_slot=slots,
        size_basis=SIZE_BASIS_REQUEST,
        requests=1,
        requests_known_lines=1,
        # OpenRouter counts cached tokens inside tokens_prompt; the ledger does not.
        input_tokens=np.maximum(prompt - cached, 0),
        cache_read_tokens=cached,
        output_tokens=completion,
        reasoning_tokens=reasoning,
        billed_nanos=rows["cost_total"].to_numpy(),
        billed_lines=1,
        billed_non_token_nanos=rows["cost_web_search"].to_numpy() + rows["cost_file_processing"].to_numpy(),
        byok_upstream_nanos=rows["byok_usage_inference"].to_numpy(),
        reject_reason=reject,
        reject_column=reject_column,
    )


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
        "cost_cache",
        "cost_file_processing",
        "byok_usage_inference",
        "tokens_reasoning",
        "tokens_cached",
        "provider_name",
        "variant",
        "cancelled",
        "streamed",
        "user",
        "finish_reason_raw",
        "finish_reason_normalized",
        "generation_time_ms",
        "time_to_first_token_ms",
        "api_key_disabled",
        "api_key_name",
        "app_name",
        "num_search_results",
    ),
    count_columns=("tokens_prompt", "tokens_completion", "tokens_reasoning", "tokens_cached"),
    money_columns=("cost_total", "cost_web_search", "cost_file_processing", "byok_usage_inference"),
    to_ledger=to_ledger,
    unused_columns=(
        "generation_id",
        "cost_cache",
        "provider_name",
        "cancelled",
        "streamed",
        "user",
        "finish_reason_raw",
        "finish_reason_normalized",
        "generation_time_ms",
        "time_to_first_token_ms",
        "api_key_disabled",
        "num_search_results",
    ),
    example_header=(
        "generation_id,created_at,cost_total,cost_web_search,cost_cache,cost_file_processing,"
        "byok_usage_inference,tokens_prompt,tokens_completion,tokens_reasoning,tokens_cached,model_permaslug,"
        "provider_name,variant,cancelled,streamed,user,finish_reason_raw,finish_reason_normalized,"
        "generation_time_ms,time_to_first_token_ms,api_key_disabled,api_key_name,app_name"
    ),
)
