"""The importer contract: an importer declares its columns and maps a batch of rows to ledger lines.

Reading, decoding, detection, number parsing and row accounting are shared (see `reader.py`);
an importer owns only its column map, unit conversions and the quirks of its source.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import pandas as pd

# A batch handed to `to_ledger`: the source's columns as strings ("" when empty), except
# `count_columns` (int64, empty = 0) and `money_columns` (int64 nano-USD, with a boolean
# `<name>__present` column). `to_ledger` returns one ledger line per input row, in order,
# with `skip_reason` / `reject_reason` set ("" when the row is used).
ToLedger = Callable[[pd.DataFrame], pd.DataFrame]


@dataclass(frozen=True)
class Importer:
    """A source format: what identifies it and how its rows become ledger lines."""

    name: str
    """Module name, samples folder and `--format` value, e.g. `openai_usage_csv`."""
    title: str
    """What a user calls this file, e.g. "OpenAI platform usage export (completions_usage_*.csv)"."""
    kind: Literal["usage", "cost", "requests"]
    """usage: bucketed token counts; cost: billed money by line item; requests: one row per request."""
    required_columns: tuple[str, ...]
    """Columns that must all be present for the file to be this format."""
    optional_columns: tuple[str, ...]
    """Columns the importer uses when present (variants of the export differ)."""
    count_columns: tuple[str, ...]
    """Token and request counts: non-negative whole numbers, possibly printed as floats (`31422.0`)."""
    money_columns: tuple[str, ...]
    """Money columns: exact decimals, parsed into integer nano-units."""
    to_ledger: ToLedger
    example_header: str
    """The header line of a real export, for `audit formats` and error hints."""
    unused_columns: tuple[str, ...] = ()
    """Known columns `to_ledger` never reads: they count for detection but are not loaded."""

    @property
    def known_columns(self) -> frozenset[str]:
        return frozenset(self.required_columns) | frozenset(self.optional_columns)

    @property
    def read_columns(self) -> frozenset[str]:
        return self.known_columns - frozenset(self.unused_columns)
