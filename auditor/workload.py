"""Streaming aggregation of ledger lines into workload segments; memory grows with segments, not rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.ledger import SEGMENT_KEYS, SIZE_BASIS_LABEL, SUM_COLUMNS, TOKEN_COLUMNS
from pricing.rates import size_bucket_floors

_COMPACT_AT_ROWS = 500_000


def request_size_input_tokens(lines: pd.DataFrame) -> pd.Series:
    """Total input per line (what long-context tiers key on): plain input plus cache reads and writes."""
    return (lines["input_tokens"] + lines["cache_read_tokens"] + lines["cache_write_tokens"]
            + lines["cache_write_1h_tokens"])


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
    computed = floors[np.clip(index, 0, len(floors) - 1)].astype(np.int64)
    column = lines["request_size_floor_tokens"].to_numpy().copy()
    column[sized] = computed
    lines["request_size_floor_tokens"] = column


class SegmentAccumulator:
    """Sums of ledger lines by segment key, compacted as batches arrive."""

    def __init__(self) -> None:
        self._parts: list[pd.DataFrame] = []
        self._rows = 0

    def add(self, lines: pd.DataFrame) -> None:
        if lines.empty:
            return
        part = lines.groupby(list(SEGMENT_KEYS), sort=False, observed=True)[list(SUM_COLUMNS)].sum()
        self._parts.append(part)
        self._rows += len(part)
        if self._rows > _COMPACT_AT_ROWS:
            self._compact()

    def _compact(self) -> None:
        merged = pd.concat(self._parts).groupby(level=list(range(len(SEGMENT_KEYS))), sort=False).sum()
        self._parts = [merged]
        self._rows = len(merged)

    def segments(self) -> pd.DataFrame:
        """One row per segment: SEGMENT_KEYS then SUM_COLUMNS, sorted by key for determinism."""
        if not self._parts:
            return empty_segments()
        self._compact()
        out = self._parts[0].reset_index().sort_values(list(SEGMENT_KEYS), kind="stable")
        return out.reset_index(drop=True)


def empty_segments() -> pd.DataFrame:
    frame = pd.DataFrame({k: pd.Series(dtype="object") for k in SEGMENT_KEYS})
    for k in ("time_slot", "request_size_floor_tokens", *SUM_COLUMNS):
        frame[k] = pd.Series(dtype="int64")
    return frame


def token_sums(frame: pd.DataFrame) -> dict[str, int]:
    return {c: int(frame[c].sum()) for c in TOKEN_COLUMNS}
