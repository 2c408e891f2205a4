"""The canonical ledger: the columns every importer maps its source into, and per-file row accounting.

Token classes never overlap, so summing them is always right and pricing never double-counts:
`input_tokens` excludes cache reads and writes; `output_tokens` includes reasoning, and
`reasoning_tokens` is the part of it that was reasoning (information only, never added again).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

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
COUNTED_TOKENS: tuple[str, ...] = tuple(c for c in TOKEN_COLUMNS if c != "reasoning_tokens")
"""Every token once: reasoning tokens are inside output tokens (so they never make a row priced on their own)."""

SIZE_BASIS_REQUEST = "request"
SIZE_BASIS_AVERAGE = "average"
SIZE_BASIS_LABEL = "context_label"

# A ledger line, as an importer's mapping produces it, with the neutral value of each column:
# provider: who served and billed it; model_raw: the model as the source wrote it; project, api_key:
# attribution; service_tier: standard, batch, flex, priority, fast as served; day: UTC YYYY-MM-DD;
# time_slot: UTC half hour of the day 0..47 (every time-of-day price in the catalog starts and ends on
# a half hour) or -1 for daily buckets; size_basis: whether request sizes are known per "request", as an
# "average" of the line's requests, or from a "context_label"; request_size_floor_tokens: the floor of the
# line's request-size bucket (set by label-based importers, computed for the others); requests and
# requests_known (1 when the source counts requests); billed (money the source says was charged),
# billed_non_token (its part that is not the tokens' charges: tools, storage, fees, credits; a discount of token
# charges is part of them), source_list (the source's own list price),
# byok_upstream (bring-your-own-key spend billed by another vendor), with *_present flags; adjustment (the
# line is a credit, refund or discount line, not a charge), billed_credit and billed_discount (the part of billed
# that is a credit or refund, or a discount billed as such: an AWS EdpDiscount line, a Google Cloud discount
# credit netted into a line): an importer whose source types its lines says which are which, for the others a
# line billed below zero is a credit (`base.credits_by_sign`); currency: the ISO code of those amounts
# (converted to the reporting currency before any total is made).
LEDGER_COLUMNS: dict[str, object] = {
    "provider": "", "model_raw": "", "project": "", "api_key": "", "service_tier": "standard",
    "day": None, "time_slot": -1, "size_basis": SIZE_BASIS_AVERAGE, "request_size_floor_tokens": -1,
    "requests": 0, "requests_known": 0, **dict.fromkeys(TOKEN_COLUMNS, 0),
    "billed": 0, "billed_present": False, "billed_non_token": 0, "source_list": 0,
    "source_list_present": False, "byok_upstream": 0, "billed_credit": 0, "billed_discount": 0,
    "adjustment": False, "currency": "USD",
}  # fmt: skip

# Sums kept per segment. Money is integer nano-units of USD (exact).
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
    "billed_credit_nanos",
    "billed_discount_nanos",
    "adjustment_lines",
)

NANOS_PER_UNIT = 1_000_000_000


def ledger_frame(n: int, **columns: object) -> pd.DataFrame:
    """n ledger lines: the given columns, every other at its neutral value (for Python-built sources)."""
    unknown = set(columns) - set(LEDGER_COLUMNS)
    if unknown:
        raise TypeError(f"not ledger columns: {sorted(unknown)}")
    return pd.DataFrame(
        {name: columns.get(name, default) for name, default in LEDGER_COLUMNS.items()}, index=pd.RangeIndex(n)
    )


@dataclass(frozen=True)
class RejectedRow:
    """One input row that could not be used, with where it is and why."""

    line: int
    reason: str
    column: str | None = None
    where: str = ""
    """Its place in a JSON document (`page 1, bucket 2, result 3`) when the file was one; else empty."""


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
    numbered_by: Literal["line", "row"] = "line"
    """What rejected rows' `line` counts: "line" (text files, the header is line 1) or "row" (Parquet, from 1)."""

    def is_balanced(self) -> bool:
        return self.rows_read == self.rows_used + self.rows_skipped + self.rows_rejected
