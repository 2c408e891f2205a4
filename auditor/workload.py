"""The workload: the tables re-pricing works on, and the catalog models and rate ids they refer to.

Each scanned file gives three tables (see `ingest.py`):
- usage: attribution but the API key × UTC day × local day × the id of the list rates in force when used
  (reports and list cost; the local day is the UTC day unless `--tz` names another zone);
- key usage: API key × model × UTC month × local month × list rates (the usage by API key);
- shape: attribution × time-of-day slot × request-size bucket (re-pricing on candidates at a date).
Summing on rate ids instead of on (day, slot, size) keys keeps the usage table small on request logs. The API key
is kept by month only (the key usage): by day, its rows grow with the log (a gateway's 1,000 keys × models × days:
845,000 rows of 1M requests, 2.4M of 5M), by month they stay few; the scan sums it by price period
(`engine.key_day_sql`). A FOCUS file, whose rows are by key and day, asks the scan for that table too
(`KEY_DAY_KEYS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from auditor.importers.engine import PriceShape, model_key
from auditor.ledger import TOKEN_COLUMNS
from pricing.catalog import CatalogModel
from pricing.ratebook import RateBook, has_size_tiers, price_change_days
from pricing.rates import has_time_windows
from pricing.resolve import resolve_model

MODEL_REF = "model_ref"
RATE_ID = "list_rate_id"
# The day in the report's time zone (`--tz`); `day` stays the UTC day, as list rates and exchange rates use it.
LOCAL_DAY = "local_day"
ATTRIBUTION_KEYS: tuple[str, ...] = ("provider", "model_raw", MODEL_REF, "project", "api_key", "service_tier")
USAGE_KEYS: tuple[str, ...] = (
    *(k for k in ATTRIBUTION_KEYS if k != "api_key"),
    "day",
    LOCAL_DAY,
    "size_basis",
    RATE_ID,
    "currency",
)
# The months of the usage by key: the UTC month (exchange rates and list cost count by it) and the local one.
UTC_MONTH = "month"
LOCAL_MONTH = "local_month"
KEY_USAGE_KEYS: tuple[str, ...] = (
    "provider",
    "model_raw",
    MODEL_REF,
    "api_key",
    UTC_MONTH,
    LOCAL_MONTH,
    RATE_ID,
    "currency",
)
KEY_DAY_KEYS: tuple[str, ...] = (*ATTRIBUTION_KEYS, "day", LOCAL_DAY, "size_basis", RATE_ID, "currency")
# REQUESTS_KNOWN: 1 where the rows' source counts requests, 0 where it does not (a cost export): figures per request
# are of the rows that count them, whatever else the segment holds.
REQUESTS_KNOWN = "requests_known"
SHAPE_KEYS: tuple[str, ...] = (*ATTRIBUTION_KEYS, "time_slot", "request_size_floor_tokens", REQUESTS_KNOWN)
SHAPE_SUMS: tuple[str, ...] = ("requests", *TOKEN_COLUMNS)


@dataclass
class Pricebook:
    """Catalog models met so far (by ref) and the rate book their list prices live in; shared by all files."""

    models: dict[str, CatalogModel] = field(default_factory=dict)
    rates: RateBook = field(default_factory=RateBook)
    _ref_of: dict[tuple[str, str], str] = field(default_factory=dict)

    def model_refs(self, lines: pd.DataFrame) -> np.ndarray:
        pairs = lines[["provider", "model_raw"]].drop_duplicates()
        for provider, model_raw in pairs.itertuples(index=False):
            key = (str(provider), str(model_raw))
            if key not in self._ref_of:
                found = resolve_model(*key).model
                self._ref_of[key] = found.ref if found else ""
                if found:
                    self.models[found.ref] = found
        refs = pd.Series(list(zip(lines["provider"], lines["model_raw"], strict=True))).map(self._ref_of)
        return refs.to_numpy(dtype=object)

    def price_shape(
        self, pairs: pd.DataFrame, mapping: Mapping[str, str] | None, keyed: bool = True, by_period: bool = True
    ) -> PriceShape:
        """Which of these (provider, model_raw) pairs have prices that the time of day or request size moves, and
        on which days their list prices can change (`PriceShape.key_periods`, where the usage by API key is summed
        `by_period`; a model without a list price has none). `keyed`: the shape set keeps the API key."""
        slot, size = set(), set()
        periods: dict[str, tuple[date, ...]] = {}
        for (provider, model_raw), ref in zip(
            pairs[["provider", "model_raw"]].itertuples(index=False), self.model_refs(pairs), strict=True
        ):
            key = model_key(str(provider), str(model_raw), mapping)
            if not ref:
                periods[key] = ()
                continue
            if has_time_windows(self.models[ref]):
                slot.add(key)
            if has_size_tiers(self.models[ref]):
                size.add(key)
            days = price_change_days(self.models[ref])
            if days is not None:
                periods[key] = days
        key_periods = tuple(sorted(periods.items())) if by_period else None
        return PriceShape(frozenset(slot), frozenset(size), keyed, key_periods)


def _empty(keys: list[str], sums: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({k: pd.Series(dtype="object") for k in keys})
    for k in (*sums, *(k for k in keys if k in ("time_slot", "request_size_floor_tokens", REQUESTS_KNOWN, RATE_ID))):
        frame[k] = pd.Series(dtype="int64")
    return frame


def merge_tables(parts: list[pd.DataFrame], keys: tuple[str, ...], sums: tuple[str, ...]) -> pd.DataFrame:
    """Several files' tables as one, summed on their keys, in key order."""
    parts = [p for p in parts if not p.empty]
    if not parts:
        return _empty(list(keys), list(sums))
    merged = pd.concat(parts, ignore_index=True)
    if len(parts) == 1 and _in_order_once(merged, keys, sums):
        # One file's table, as the scan sorts it: its own sum, which the group-by would only copy (1.3 s over 1,000
        # API keys). Several files' tables run into each other: their rows are summed.
        return merged[[*keys, *sums]]
    return merged.groupby(list(keys), sort=True)[list(sums)].sum().reset_index()


def _in_order_once(table: pd.DataFrame, keys: tuple[str, ...], sums: tuple[str, ...]) -> bool:
    """Keys in sort order, each once, and sums in whole numbers (no NaN for the group-by to skip)."""
    if not all(pd.api.types.is_integer_dtype(table[c].dtype) for c in sums):
        return False
    rank = key_rank(table, keys)
    return rank is not None and bool((np.diff(rank) > 0).all())


def key_rank(frame: pd.DataFrame, keys: tuple[str, ...]) -> np.ndarray | None:
    """One integer per row that orders the rows as sorting on `keys` does (equal keys, equal ranks); None where a key
    is missing (NaN) or the keys' distinct values are too many to number in 63 bits."""
    rank = np.zeros(len(frame), dtype=np.int64)
    span = 1
    for key in keys:
        codes, uniques = pd.factorize(frame[key], sort=True)
        distinct = max(len(uniques), 1)
        if (codes < 0).any() or span > (2**62) // distinct:
            return None
        rank = rank * distinct + codes
        span *= distinct
    return rank
