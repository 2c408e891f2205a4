"""The DuckDB connection a run scans its files with: UTC, bounded memory, spill files in a private temp dir."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from auditor.importers.engine import literal

# DuckDB's share of the process's memory; it spills to disk beyond it.
MEMORY_LIMIT = "160MB"


@contextmanager
def scan_connection() -> Iterator[duckdb.DuckDBPyConnection]:
    spill = tempfile.mkdtemp(prefix="audit-spill-")
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"SET memory_limit = {literal(MEMORY_LIMIT)}")
        con.execute(f"SET temp_directory = {literal(spill)}")
        con.execute("SET preserve_insertion_order = false")
        _session(con)
        yield con
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def session_cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of the connection (for another thread) with the settings DuckDB keeps per connection."""
    cursor = con.cursor()
    _session(cursor)
    return cursor


def _session(con: duckdb.DuckDBPyConnection) -> None:
    # The other settings above are the database's; these are each connection's and cursor's own.
    con.execute("SET TimeZone = 'UTC'")
    # Progress is tracked (for our own bar) but never printed by DuckDB itself.
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
