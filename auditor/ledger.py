"""The canonical ledger: the columns every importer maps its source into, and per-file row accounting.

Token classes never overlap, so summing them is always right and pricing never double-counts:
`input_tokens` excludes cache reads and writes; `output_tokens` includes reasoning, and
`reasoning_tokens` is the part of it that was reasoning (information only, never added again).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

# Token classes, in the order reports show them. `reasoning_tokens` is inside `output_tokens`.
TOKEN_COLUMNS: tuple[str, ...] = (
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
)

# Attribution and time keys a ledger line carries (strings; "" when the source has none).
KEY_COLUMNS: tuple[str, ...] = (
    "provider",
    "model_raw",
    "project",
    "api_key",
    "service_tier",
    "day",  # UTC calendar day of the line, YYYY-MM-DD
)

# time_slot: UTC half hour of the day, 0..47 (every time-of-day price in the catalog starts and
#   ends on a half hour), or -1 when the source has only daily (or longer) buckets.
# request_size_floor_tokens: floor of the request-size bucket the line's requests fall in
#   (see pricing.rates.size_bucket_floors); -1 when unknown.
INT_KEY_COLUMNS: tuple[str, ...] = ("time_slot", "request_size_floor_tokens")
# size_basis (a key too): how the request size was known: "request", "average" or "context_label".

SIZE_BASIS_REQUEST = "request"
SIZE_BASIS_AVERAGE = "average"
SIZE_BASIS_LABEL = "context_label"

# Sums carried per line besides the tokens. Money is held in integer nano-units of USD (exact).
# requests_known counts the requests of lines whose source reports a request count.
SUM_COLUMNS: tuple[str, ...] = (
    "requests",
    "requests_known_lines",
    "lines",
    *TOKEN_COLUMNS,
    "billed_nanos",
    "billed_lines",
    "billed_non_token_nanos",
    "source_list_nanos",
    "source_list_lines",
    "byok_upstream_nanos",
)

NANOS_PER_UNIT = 1_000_000_000

# What every importer's `to_ledger` returns besides the key and sum columns: why a row is
# skipped (not AI usage, an empty bucket) or rejected, "" when the row is used.
STATUS_COLUMNS: tuple[str, ...] = ("skip_reason", "reject_reason", "reject_column")


def ledger_frame(n: int, **columns: object) -> pd.DataFrame:
    """A ledger batch of n lines: the given columns, every other ledger column at its neutral value."""
    data: dict[str, object] = {}
    for name in (*KEY_COLUMNS, "size_basis", *STATUS_COLUMNS):
        data[name] = columns.pop(name, "")
    for name in INT_KEY_COLUMNS:
        data[name] = columns.pop(name, -1)
    data["lines"] = columns.pop("lines", 1)
    for name in SUM_COLUMNS:
        if name not in data:
            data[name] = columns.pop(name, 0)
    if columns:
        raise TypeError(f"not ledger columns: {sorted(columns)}")
    frame = pd.DataFrame(data, index=pd.RangeIndex(n))
    for name in (*INT_KEY_COLUMNS, *SUM_COLUMNS):
        frame[name] = frame[name].astype("int64")
    return frame


@dataclass(frozen=True)
class RejectedRow:
    """One input row that could not be used, with where it is and why."""

    line: int
    reason: str
    column: str | None = None


@dataclass
class FileAccount:
    """Row accounting of one input file: read = used + skipped + rejected."""

    path: str
    format: str
    sha256: str
    rows_read: int = 0
    rows_used: int = 0
    rows_skipped: int = 0
    skipped_reasons: Counter[str] = field(default_factory=Counter)
    rejected: list[RejectedRow] = field(default_factory=list)
    rows_rejected: int = 0
    period_start: str | None = None
    period_end: str | None = None

    def is_balanced(self) -> bool:
        return self.rows_read == self.rows_used + self.rows_skipped + self.rows_rejected
