"""A table of several files' rows (a `__file` column) split into one table per file (`ingest._split`): each file's
rows in the table's order, the column dropped, an empty table for a file without rows, and a row without a file in
none. The expected tables are taken row by row from the frame, not through the split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.importers.engine import FILE_COLUMN
from auditor.ingest import _split


def _table(files: list[int | None], seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(files)
    return pd.DataFrame(
        {
            FILE_COLUMN: pd.array(files, dtype="Int64"),
            "model_raw": pd.array([f"model-{v}" for v in rng.integers(0, 5, n)], dtype="str"),
            "day": pd.array([f"2026-10-{d:02d}" for d in rng.integers(1, 29, n)], dtype="str"),
            "input_tokens": rng.integers(0, 10**12, n),
            "row": np.arange(n),
        }
    )


def _expected(table: pd.DataFrame, file: int) -> pd.DataFrame:
    rows = [i for i, f in enumerate(table[FILE_COLUMN].tolist()) if f is not pd.NA and f == file]
    return table.drop(columns=FILE_COLUMN).iloc[rows].reset_index(drop=True)


@pytest.mark.parametrize(
    "files",
    [
        [3, 3, 3, 3],  # one file's table (a large file's): its rows, no copy needed
        [0, 0, 1, 1, 1, 4],  # files in runs, as small files' tables are queried
        [2, 0, 2, 1, 0, 0, 2, 1],  # files interleaved
        [1, None, 0, 1, None],  # rows without a file
        [],
    ],
)
def test_each_file_gets_its_rows_in_the_tables_order(files: list[int | None]) -> None:
    table = _table(files, seed=len(files))
    members = [0, 1, 2, 3, 4, 9]  # 9: a file with no row
    parts = _split(table, members)
    assert list(parts) == members
    for file in members:
        want = _expected(table, file)
        pd.testing.assert_frame_equal(parts[file], want)
        assert FILE_COLUMN not in parts[file].columns
    placed = sum(len(p) for p in parts.values())
    assert placed == sum(f is not None for f in files), "every row with a file in one part, once"


def test_a_large_interleaved_table_splits_as_a_group_by_does() -> None:
    rng = np.random.default_rng(11)
    files = rng.integers(0, 40, 20_000).tolist()
    table = _table(files, seed=11)
    parts = _split(table, list(range(40)))
    groups = table.groupby(FILE_COLUMN, sort=False)
    for file, group in groups:
        want = group.drop(columns=FILE_COLUMN).reset_index(drop=True)
        pd.testing.assert_frame_equal(parts[int(str(file))], want)
