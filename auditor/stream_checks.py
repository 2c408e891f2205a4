"""Checking a large gzip or delimited file while the run reads it, instead of before.

Every gzip file is read once, decompressed, for the input limits (`reader.check_stream`: a compression bomb, a
file cut short, a line longer than the field limit) before anything read from it may count. Decompressing runs on
one core (600 MB/s here), and DuckDB decompresses the file again to scan it, so checking first made a large gzip
file take the two passes one after the other: 7.7 s, then 11.1 s, for 20M requests (820 MB). A large one (at least
`CHECKED_ASIDE_BYTES`) is now checked in a thread while the run reads it. The check still decides: a run waits for
it before it uses anything, and a refusal is the run's error, whatever the scan gave; as soon as the check refuses
the file, the run's scan is interrupted (a bomb is not read on to its end). Smaller gzip files are checked first, as
before: they are read on other cursors, and take little time.

A large plain delimited file gets the same: its pass for the field limit (reading the file in Python, 0.77 s for
3.5 GB) ran before the scan; beside it, the 5M-request log audits 0.1–0.2 s sooner (at 20M, within the noise).
Its check reads the file as it is, so it computes the file's sha256 too (`Sniffed.digest`): one read fewer. It
cannot be a bomb, so on Linux its thread runs at the lowest priority: on two cores it took CPU from DuckDB's scan,
and now runs mostly where a core is idle, the stages after the scan (single-threaded Python) among them.

Checks are waited for (`decided`) when the run has its result, before it is used (a gzip file's check interrupts
the scan as soon as it refuses, as before). On two cores the 5M-request log audits 0.2–0.5 s sooner; at 20M the
scan is 1 s shorter, and the run waits about as long for the check at its end (two cores are busy throughout).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress

import duckdb

from auditor.errors import InputFileError
from auditor.importers.reader import MIB, CheckCancelled, InputLimits, Sniffed, check_stream
from auditor.progress import count_read_aside

CHECKED_ASIDE_BYTES = 16 * MIB
"""Gzip and delimited files of at least this many bytes (compressed ones for gzip) are checked while the run reads
them."""
INTERRUPT_EVERY_SECONDS = 0.05


class StreamCheck:
    """`check_stream` of a file in a thread of its own. `wait` returns when it is done and raises what it refused;
    callbacks given to `on_failure` run as soon as it refuses the file."""

    def __init__(self, sniffed: Sniffed, limits: InputLimits, line_limit: bool) -> None:
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._error: BaseException | None = None
        self._callbacks: list[Callable[[], None]] = []
        self._thread = threading.Thread(
            target=self._run, args=(sniffed, limits, line_limit), name=f"check {sniffed.name}", daemon=True
        )
        self._thread.start()

    def _run(self, sniffed: Sniffed, limits: InputLimits, line_limit: bool) -> None:
        if not sniffed.gzip:  # not a bomb: nothing to stop early
            _lowest_priority()
        try:
            check_stream(sniffed, limits, line_limit, self._cancelled, count_read_aside)
        except CheckCancelled:
            return
        except BaseException as exc:  # handed to the thread that waits, which raises it
            with self._lock:
                self._error = exc
                callbacks = list(self._callbacks)
            for callback in callbacks:
                callback()

    def on_failure(self, callback: Callable[[], None]) -> None:
        with self._lock:
            failed = self._error is not None
            if not failed:
                self._callbacks.append(callback)
        if failed:
            callback()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error

    def cancel(self) -> None:
        """Stop the check (at its next block) and wait for its thread."""
        self._cancelled.set()
        self._thread.join()


def _lowest_priority() -> None:
    """This thread at the lowest priority, where the system gives each thread its own (Linux)."""
    if sys.platform == "linux":
        with suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


@contextmanager
def checks_decide(checks: Sequence[StreamCheck]) -> Iterator[Callable[[duckdb.DuckDBPyConnection], None]]:
    """The block reads the files of `checks`; it tells the yielded function each connection it reads them on (a run
    that needs more memory starts another). A check that refuses its file interrupts that connection. When the
    block fails, every check is waited for (in order), and the first refusal is raised in place of the block's error
    (a file cut short fails DuckDB's read too, less clearly); when it ends, the checks may still run: `decided` waits
    for them. Ctrl-C stops the checks."""
    reading: list[duckdb.DuckDBPyConnection] = []
    ended = threading.Event()

    def interrupt() -> None:
        # Again and again until the block ends: DuckDB drops an interrupt that comes between two queries, and a check
        # may refuse its file before the block is told of its connection (a bomb is seen in its first blocks).
        def keep_interrupting() -> None:
            while not ended.is_set():
                for con in reading[-1:]:
                    with suppress(duckdb.Error):
                        con.interrupt()
                ended.wait(INTERRUPT_EVERY_SECONDS)

        threading.Thread(target=keep_interrupting, name="interrupt the read", daemon=True).start()

    def read_on(con: duckdb.DuckDBPyConnection) -> None:
        reading[:] = [con]

    for check in checks:
        check.on_failure(interrupt)
    try:
        with _refusal_first(checks):
            yield read_on
    finally:
        ended.set()
        reading.clear()


@contextmanager
def decided(
    checks: Sequence[StreamCheck], while_waiting: Callable[[], AbstractContextManager[None]] | None = None
) -> Iterator[None]:
    """The block runs while the checks may still run (the stages after the scan); when it ends, every check is
    waited for (in order), inside `while_waiting()` if one still runs (a line on the terminal), and the first refusal
    raised, also in place of an error of the block's. Ctrl-C stops the checks."""
    with _refusal_first(checks):
        yield
    running = any(check.running for check in checks)
    try:
        with while_waiting() if running and while_waiting is not None else nullcontext():
            for check in checks:
                check.wait()
    except BaseException:
        _cancel(checks)
        raise


@contextmanager
def _refusal_first(checks: Sequence[StreamCheck]) -> Iterator[None]:
    """When the block fails, the first refusal of the checks (waited for in order) is raised in its place; Ctrl-C
    stops them."""
    try:
        yield
    except Exception as exc:
        for check in checks:
            try:
                check.wait()
            except InputFileError as refused:
                raise refused from exc
        raise
    except BaseException:
        _cancel(checks)
        raise


def _cancel(checks: Sequence[StreamCheck]) -> None:
    for check in checks:
        check.cancel()
