"""The DuckDB connection a run scans its files with: UTC, bounded memory, spill files in a private temp dir.

DuckDB's memory is bounded (`memory_limit`) so that a run's peak stays flat whatever the size of its files. What
a query needs beyond what DuckDB can spill to disk grows with its threads (each reads its own blocks of a file)
and with the number of distinct keys (grouping sets are held in memory): `scanning` runs the work again, on a
fresh connection with half as much again (`RETRY_GROWTH`), when DuckDB runs out, up to half the machine's memory.

A streamed file's scan table goes into a database file in the same private directory (`SCANS`), not into memory:
DuckDB stores it compressed there and can evict it, where a temporary table stays whole in memory (over 100 API
keys, a million requests give 483,000 rows: 155 MiB in memory, 9 MiB in the file)."""

from __future__ import annotations

import os
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeVar

import duckdb

from auditor.errors import AuditorError
from auditor.importers.engine import JSON_LINES_BUFFER_BYTES, literal
from auditor.importers.reader import MIB
from auditor.scratch import private_dir, working_files_error

MAX_THREADS = 4
"""DuckDB's threads at most: each holds its own read blocks and hash tables, so memory grows with them."""
BASE_MEMORY_MIB = 96
THREAD_MEMORY_MIB = 32
READ_BLOCKS_MIB = 64
"""What the threads' CSV read blocks come to together (a thread may hold its block and the next)."""
MIN_BLOCK_MIB, MAX_BLOCK_MIB = 8, 32
GZIP_BLOCK_BYTES = 8 * MIB
"""Bytes per block of a gzip file, whatever the threads: DuckDB holds a stream's blocks until they are used (it
cannot read them again), and a 20M-line gzip log read in 32 MiB blocks needed twice the first limit."""
_FALLBACK_MACHINE_MIB = 4096
RETRY_GROWTH = Fraction(3, 2)
"""How much a run that ran out raises DuckDB's memory limit. DuckDB fills the limit it is given (with blocks it keeps
to read again), so the step is what a run past its need can hold: 5M requests over 1,000 API keys of one application
need about 200 MiB; read again with twice the first limit (320 MiB), the run peaked at 480-560 MiB, with 240 MiB at
460-480 MiB, in the same time. A run that needs much more is read one time more than with twice the limit."""
CTRL_C_MESSAGE = "Query interrupted"
"""What DuckDB raises (a RuntimeError, where `interrupt()` gives an `InterruptException`) when Ctrl-C ends a query."""
SCANS = "scans"
"""The database (a file in the connection's private directory) that holds streamed files' scan tables."""

T = TypeVar("T")


def scan_threads() -> int:
    return max(1, min(os.cpu_count() or 1, MAX_THREADS))


def default_memory_mib(threads: int, json_lines: bool = False) -> int:
    """DuckDB's first memory limit: 160 MiB on two threads, 224 MiB on four. Reading JSON lines, each thread holds
    a buffer of two of the longest lines allowed besides (64 MiB: 288 MiB on two threads, 480 MiB on four): within
    160 MiB, a 5M-line log ran out, and was read again with twice the limit, every time."""
    buffers = threads * JSON_LINES_BUFFER_BYTES // MIB if json_lines else 0
    return BASE_MEMORY_MIB + THREAD_MEMORY_MIB * threads + buffers


def default_block_bytes(threads: int) -> int:
    """Bytes DuckDB reads per CSV block: 32 MiB on one or two threads, 16 MiB on four.

    DuckDB keeps some blocks it has read until its memory is needed, more of them the smaller they are: with 8 MiB
    blocks a long file's peak kept rising until about 20M rows, with 32 MiB ones it is reached within the first
    few million (`docs/benchmarks.md`). The blocks a run holds at once grow with the threads (on four threads
    32 MiB blocks ran out of the first limit), so the threads share `READ_BLOCKS_MIB`."""
    return max(MIN_BLOCK_MIB, min(READ_BLOCKS_MIB // threads, MAX_BLOCK_MIB)) * MIB


@dataclass(frozen=True)
class ReadBlocks:
    """Bytes DuckDB reads per CSV block: of plain files, and of gzip files."""

    plain: int
    gzip: int

    def of(self, gzip: bool) -> int:
        return self.gzip if gzip else self.plain


def read_blocks(plain: int, longest_line_bytes: int | None = None) -> ReadBlocks:
    """The blocks of a run reading plain files in `plain` bytes: gzip files in `GZIP_BLOCK_BYTES` unless a block
    must hold two of the longest lines allowed, never more than `plain`."""
    floor = 2 * longest_line_bytes if longest_line_bytes else 0
    return ReadBlocks(plain, min(plain, max(GZIP_BLOCK_BYTES, floor)))


def machine_memory_mib() -> int | None:
    """The machine's memory, where the system says (POSIX)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // MIB
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        return None


def most_memory_mib() -> int:
    """The highest limit a run raises DuckDB's to: half the machine's memory."""
    machine = machine_memory_mib() or _FALLBACK_MACHINE_MIB
    return max(machine // 2, default_memory_mib(MAX_THREADS))


class OutOfMemoryError(AuditorError):
    def __init__(self, limit_mib: int) -> None:
        super().__init__(
            f"the inputs need more memory than this machine allows the scan ({limit_mib:,} MiB, half its memory)",
            "audit the files in smaller parts (by month or by key), or on a machine with more memory",
        )


def scanning(
    work: Callable[[duckdb.DuckDBPyConnection], T],
    on_retry: Callable[[int], None] | None = None,
    memory_mib: int | None = None,
    most_mib: int | None = None,
    json_lines: bool = False,
) -> T:
    """`work` on a scan connection (that reads `json_lines` or not); when DuckDB runs out of memory, again on a new
    one with half as much again (`RETRY_GROWTH`; `on_retry` is told the new limit), up to `most_mib` (half the
    machine's memory): past it, a one-line error. Ctrl-C during a query is a `KeyboardInterrupt`, as anywhere else."""
    threads = scan_threads()
    limit = memory_mib or default_memory_mib(threads, json_lines)
    most = most_mib or most_memory_mib()
    ctrl_c = threading.Event()
    while True:
        try:
            with scan_connection(limit, threads) as con, _ctrl_c_interrupts(con, ctrl_c):
                return work(con)
        except duckdb.InterruptException:
            if ctrl_c.is_set():  # our watcher ended the query for the user's Ctrl-C
                raise KeyboardInterrupt from None
            raise
        except duckdb.OutOfMemoryException:
            if limit >= most:
                raise OutOfMemoryError(limit) from None
            limit = min(int(limit * RETRY_GROWTH), most)
            if on_retry is not None:
                on_retry(limit)
        except duckdb.IOException as exc:
            own = working_files_error(exc)  # its spill files or scan tables, outside the reading of a file
            if own is not None:
                raise own from None
            raise
        except RuntimeError as exc:
            if str(exc) == CTRL_C_MESSAGE:  # DuckDB caught the user's Ctrl-C itself, and ended its query
                raise KeyboardInterrupt from None
            raise


@contextmanager
def _ctrl_c_interrupts(con: duckdb.DuckDBPyConnection, seen: threading.Event) -> Iterator[None]:
    """While the block runs: Ctrl-C interrupts `con`'s query at once (and sets `seen`).

    DuckDB's client looks for signals only between the tasks the calling thread runs, and that thread can take one
    long task. Python's own handler writes each signal's number to a wakeup pipe as it arrives, in whatever thread
    gets it: a thread reading that pipe interrupts the query. POSIX only, from the main thread (elsewhere the
    client's own check stands)."""
    if os.name != "posix" or threading.current_thread() is not threading.main_thread():
        yield
        return
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():  # each read waits for a signal, or for the byte the block's end writes
            if signal.SIGINT in os.read(read_end, 64):
                seen.set()
                with suppress(duckdb.Error):
                    con.interrupt()

    previous = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    watcher = threading.Thread(target=watch, name="ctrl-c", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        done.set()
        with suppress(BlockingIOError):  # a full pipe wakes it anyway
            os.write(write_end, b"\0")  # wakes the watcher, which then ends
        watcher.join()
        os.close(read_end)
        os.close(write_end)


@contextmanager
def scan_connection(memory_mib: int | None = None, threads: int | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    threads = threads or scan_threads()
    spill = str(private_dir("spill"))
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"SET threads = {int(threads)}")
        con.execute(f"SET memory_limit = {literal(f'{memory_mib or default_memory_mib(threads)}MiB')}")
        con.execute(f"SET temp_directory = {literal(spill)}")
        con.execute(f"ATTACH {literal(os.path.join(spill, SCANS + '.duckdb'))} AS {SCANS}")
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
