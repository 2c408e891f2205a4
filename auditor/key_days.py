"""The usage by API key and day (a FOCUS file's rows), kept on disk and read back a UTC day at a time.

Over many keys it is the largest table a run makes (1M requests over 1,000 keys: 845,000 rows), and only the FOCUS
file reads it. So the scan's query writes it to a Parquet file in a private directory of the run (`ingest`), sorted
by UTC day, rather than into memory: held as a frame, with DuckDB's group-by and its Arrow copy beside it, it took
that run from about 475 to 715 MiB. The FOCUS file reads it one day at a time (`by_day`), each day's amounts
converted by the run's exchange rates as the report's are. The directory goes when the object does, or at exit.
"""

from __future__ import annotations

import shutil
import weakref
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from auditor.importers.engine import FILE_COLUMN
from auditor.scratch import private_dir
from auditor.summary import SOURCE_FILE
from pricing.fx import FxRate, convert_to_usd

_FILE_NAME = "key_days.parquet"
_BATCH_ROWS = 65_536


def _parquet() -> Any:  # pyarrow ships no types
    """`pyarrow.parquet`, imported when the file is read: only a run writing a FOCUS file reads it, and the module
    (with the file systems and TLS it loads) is a hundredth of a second of every other run's start."""
    import pyarrow.parquet

    return pyarrow.parquet


class KeyDays:
    """The file of the usage by API key and day, its rows sorted by UTC day (`day`, text; none last), each with its
    input file's index (`__file`: the index of the run's inputs, which is the file's index among the ingested files)."""

    def __init__(self, rates: list[FxRate] | None = None) -> None:
        self.folder = private_dir("ledger")
        self.path = self.folder / _FILE_NAME
        self.rates = list(rates or [])
        self._removal = weakref.finalize(self, shutil.rmtree, self.folder, ignore_errors=True)

    def close(self) -> None:
        """Remove the file and its directory now."""
        self._removal()

    def days(self) -> int:
        """The UTC days the file holds (rows without a day are in none)."""
        if not self.path.exists():
            return 0
        pq = _parquet()
        return int(pc.count_distinct(pq.read_table(self.path, columns=["day"])["day"]).as_py())

    def by_day(self) -> Iterator[pd.DataFrame]:
        """Each UTC day's rows in the file's order, days in order, with the input file's index as `source_file`
        and amounts in USD (`--fx`, row by row). A row without a day is in none, as a group-by on the day leaves it."""
        if not self.path.exists():
            return
        held: list[pa.RecordBatch] = []
        held_day: object = None
        for batch in _parquet().ParquetFile(self.path).iter_batches(batch_size=_BATCH_ROWS):
            days = batch.column("day")
            for day in pc.unique(days).to_pylist():  # in the order met: the file is sorted by day
                if day is None:
                    continue
                if held and day != held_day:
                    yield self._frame(held)
                    held = []
                held.append(batch.filter(pc.equal(days, day)))
                held_day = day
        if held:
            yield self._frame(held)

    def _frame(self, batches: list[pa.RecordBatch]) -> pd.DataFrame:
        frame = pa.Table.from_batches(batches).to_pandas()
        frame = frame.rename(columns={FILE_COLUMN: SOURCE_FILE}).astype({SOURCE_FILE: "int64"})
        return convert_to_usd(frame, self.rates)[0]
