"""Streaming aggregation of ledger lines into the workload; memory grows with distinct keys, never with rows.

Two tables are kept, each summed batch by batch:
- usage: attribution × day × the id of the list rates in force when used (reports and list cost);
- shape: attribution × time-of-day slot × request-size bucket (re-pricing on candidates at a date).
Summing on rate ids instead of on (day, slot, size) keys keeps the usage table small on request logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from auditor.ledger import SIZE_BASIS_LABEL, SUM_COLUMNS, TOKEN_COLUMNS
from pricing.catalog import CatalogModel
from pricing.ratebook import RateBook
from pricing.rates import size_bucket_floors
from pricing.resolve import resolve_model

MODEL_REF = "model_ref"
RATE_ID = "list_rate_id"
ATTRIBUTION_KEYS: tuple[str, ...] = ("provider", "model_raw", MODEL_REF, "project", "api_key", "service_tier")
USAGE_KEYS: tuple[str, ...] = (*ATTRIBUTION_KEYS, "day", "size_basis", RATE_ID)
SHAPE_KEYS: tuple[str, ...] = (*ATTRIBUTION_KEYS, "time_slot", "request_size_floor_tokens")
SHAPE_SUMS: tuple[str, ...] = ("requests", *TOKEN_COLUMNS)
# Partial sums are merged when they outgrow twice the merged table plus this many rows.
_COMPACT_SLACK_ROWS = 50_000


def request_size_input_tokens(lines: pd.DataFrame) -> pd.Series:
    """Total input per line (what long-context tiers key on): plain input plus cache reads and writes."""
    return (
        lines["input_tokens"]
        + lines["cache_read_tokens"]
        + lines["cache_write_tokens"]
        + lines["cache_write_1h_tokens"]
    )


def assign_size_floors(lines: pd.DataFrame) -> None:
    """Set each line's request-size bucket floor from its (average) request size, in place.

    Lines sized by a context-window label keep the floor their importer set.
    """
    floors = np.asarray(size_bucket_floors(), dtype=np.float64)
    requests = lines["requests"].to_numpy()
    sized = (lines["size_basis"] != SIZE_BASIS_LABEL).to_numpy() & (requests > 0)
    if not sized.any():
        return
    mean_size = request_size_input_tokens(lines).to_numpy()[sized] / requests[sized]
    # A tier applies when a request's input is > its start: the floor is the largest start below the size.
    index = np.searchsorted(floors, mean_size, side="left") - 1
    column = lines["request_size_floor_tokens"].to_numpy().copy()
    column[sized] = floors[np.clip(index, 0, len(floors) - 1)].astype(np.int64)
    lines["request_size_floor_tokens"] = column


class _Sums:
    """Sums of some columns by some keys, compacted as batches arrive."""

    def __init__(self, keys: tuple[str, ...], sums: tuple[str, ...]) -> None:
        self.keys, self.sums = list(keys), list(sums)
        self._parts: list[pd.DataFrame] = []
        self._rows = 0
        self._merged_rows = 0

    def add(self, lines: pd.DataFrame) -> None:
        part = lines.groupby(self.keys, sort=False, observed=True)[self.sums].sum()
        self._parts.append(part)
        self._rows += len(part)
        if self._rows > 2 * self._merged_rows + _COMPACT_SLACK_ROWS:
            self._compact()

    def _compact(self) -> None:
        merged = pd.concat(self._parts).groupby(level=list(range(len(self.keys))), sort=False).sum()
        self._parts, self._rows, self._merged_rows = [merged], len(merged), len(merged)

    def table(self) -> pd.DataFrame:
        if not self._parts:
            return _empty(self.keys, self.sums)
        self._compact()
        return self._parts[0].reset_index().sort_values(self.keys, kind="stable").reset_index(drop=True)


def _empty(keys: list[str], sums: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({k: pd.Series(dtype="object") for k in keys})
    for k in (*sums, *(k for k in keys if k in ("time_slot", "request_size_floor_tokens", RATE_ID))):
        frame[k] = pd.Series(dtype="int64")
    return frame


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


class WorkloadAccumulator:
    """The usage and shape tables of one file, built batch by batch."""

    def __init__(self, pricebook: Pricebook) -> None:
        self.pricebook = pricebook
        self._usage = _Sums(USAGE_KEYS, SUM_COLUMNS)
        self._shape = _Sums(SHAPE_KEYS, SHAPE_SUMS)

    def add(self, lines: pd.DataFrame) -> None:
        if lines.empty:
            return
        assign_size_floors(lines)
        lines[MODEL_REF] = self.pricebook.model_refs(lines)
        lines[RATE_ID] = self.pricebook.rates.rate_ids(lines, self.pricebook.models)
        self._usage.add(lines)
        self._shape.add(lines)

    def usage(self) -> pd.DataFrame:
        return self._usage.table()

    def shape(self) -> pd.DataFrame:
        return self._shape.table()


def merge_tables(parts: list[pd.DataFrame], keys: tuple[str, ...], sums: tuple[str, ...]) -> pd.DataFrame:
    """Several files' tables as one, summed on their keys."""
    parts = [p for p in parts if not p.empty]
    if not parts:
        return _empty(list(keys), list(sums))
    merged = pd.concat(parts, ignore_index=True)
    return merged.groupby(list(keys), sort=True)[list(sums)].sum().reset_index()
