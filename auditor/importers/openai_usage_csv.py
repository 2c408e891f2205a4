"""OpenAI platform usage export (Usage → Activity → Export: `completions_usage_<from>_<to>.csv`).

How it counts: `input_tokens` INCLUDES cached and cache-write tokens, `input_uncached_tokens` is the
rest; `output_tokens` INCLUDES reasoning (there is no reasoning column); per-modality columns are
breakdowns, never added. Numbers are printed as floats (`31422.0`), `batch` as `True`/`False`; every
empty time bucket is a row with only its four time columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.importers.base import Importer
from auditor.importers.times import day_from_unix_seconds, slot_from_unix_seconds
from auditor.ledger import SIZE_BASIS_AVERAGE, ledger_frame
from pricing.rates import SLOT_MINUTES

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
_SERVICE_TIERS = {"default": "standard", "": "standard", "auto": "standard"}


def to_ledger(rows: pd.DataFrame) -> pd.DataFrame:
    n = len(rows)
    start = rows["start_time"].to_numpy()
    width_seconds = rows["end_time"].to_numpy() - start
    model = rows["model"].str.strip()
    cached = rows["input_cached_tokens"].to_numpy()
    cache_write = rows["input_cache_write_tokens"].to_numpy()
    # OpenAI counts cached and cache-write tokens inside input_tokens; the ledger does not.
    uncached = rows["input_tokens"].to_numpy() - cached - cache_write
    batch = rows["batch"].str.strip().str.lower() == "true"
    tier = rows["service_tier"].str.strip().str.lower().replace(_SERVICE_TIERS)
    tokens_total = rows["input_tokens"].to_numpy() + rows["output_tokens"].to_numpy()
    requests = rows["num_model_requests"].to_numpy()

    skip = np.where((model == "").to_numpy() & (tokens_total == 0) & (requests == 0), "empty time bucket", "")
    reject = np.full(n, "", dtype=object)
    reject_column = np.full(n, "", dtype=object)
    no_model = (model == "").to_numpy() & (skip == "")
    reject[no_model] = "usage without a model name"
    reject_column[no_model] = "model"
    overlap = (uncached < 0) & (reject == "")
    reject[overlap] = "input_cached_tokens + input_cache_write_tokens exceed input_tokens"
    reject_column[overlap] = "input_cached_tokens"

    return ledger_frame(
        n,
        provider="openai",
        model_raw=model.to_numpy(),
        project=rows["project_id"].to_numpy(),
        api_key=rows["api_key_id"].to_numpy(),
        service_tier=np.where(batch, "batch", tier.to_numpy()),
        day=day_from_unix_seconds(start),
        # Buckets of an hour or less keep their time of day; daily buckets do not have one.
        time_slot=np.where(width_seconds <= 2 * SLOT_MINUTES * 60, slot_from_unix_seconds(start), -1),
        size_basis=SIZE_BASIS_AVERAGE,
        requests=requests,
        requests_known_lines=1,
        input_tokens=np.maximum(uncached, 0),
        cache_read_tokens=cached,
        cache_write_tokens=cache_write,
        output_tokens=rows["output_tokens"].to_numpy(),
        skip_reason=skip,
        reject_reason=reject,
        reject_column=reject_column,
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
    to_ledger=to_ledger,
    unused_columns=("start_time_iso", "end_time_iso", "user_id", "input_uncached_tokens", *_MODALITY_COLUMNS),
    example_header=(
        "start_time,end_time,start_time_iso,end_time_iso,project_id,num_model_requests,user_id,api_key_id,"
        "model,batch,service_tier,compute_units,input_tokens,output_tokens,input_cached_tokens,"
        "input_cache_write_tokens,input_uncached_tokens,input_text_tokens,output_text_tokens,"
        "input_cached_text_tokens,input_audio_tokens,input_cached_audio_tokens,output_audio_tokens,"
        "input_image_tokens,input_cached_image_tokens,output_image_tokens"
    ),
)
