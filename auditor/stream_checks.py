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
and now runs mostly where a core is idle, the stages after the scan (single-threaded Python) among them. A very
large file's check, starved so, was left with most of its pass when the scan ended (at 20M requests the run then
waited 1.4 s for it, on one core): where it trails the run's reads by more than `RELAY_LAG_BYTES`, a thread at the
normal priority takes its pass over until it is back within half of that, then hands it back (`_Relay`: a thread
cannot raise its own priority again). At 20M the run ends 0.6 s sooner; at 1M and 5M as before (within 0.05 s).

Checks are waited for (`decided`) when the run has its result, before it is used (a gzip file's check interrupts
the scan as soon as it refuses, as before). On two cores the 5M-request log audits 0.2–0.5 s sooner; at 20M the
scan is 1 s shorter, and the run waits about as long for the check at its end (two cores are busy throughout).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress

import duckdb

from auditor.errors import InputFileError
from auditor.importers.reader import MIB, CheckCancelled, InputLimits, Sniffed, check_steps, check_stream, run_steps
from auditor.progress import count_read_aside, read_besides_aside

CHECKED_ASIDE_BYTES = 16 * MIB
"""Gzip and delimited files of at least this many bytes (compressed ones for gzip) are checked while the run reads
them."""
INTERRUPT_EVERY_SECONDS = 0.05
RELAY_LAG_BYTES = 768 * MIB
"""How far a plain file's check may trail the scan before it takes the normal priority (`_Relay`): about what it reads
and hashes while the stages after the scan run (0.5 s here)."""


class StreamCheck:
    """`check_stream` of a file in a thread of its own. `wait` returns when it is done and raises what it refused;
    callbacks given to `on_failure` run as soon as it refuses the file."""

    def __init__(self, sniffed: Sniffed, limits: InputLimits, line_limit: bool) -> None:
        self._cancelled = threading.Event()
        self._reading_done = threading.Event()
        self._lock = threading.Lock()
        self._error: BaseException | None = None
        self._callbacks: list[Callable[[], None]] = []
        self._thread = threading.Thread(
            target=self._run, args=(sniffed, limits, line_limit), name=f"check {sniffed.name}", daemon=True
        )
        self._thread.start()

    def _run(self, sniffed: Sniffed, limits: InputLimits, line_limit: bool) -> None:
        try:
            if sniffed.gzip:  # a bomb is stopped as soon as it passes the limits: at the scan's pace
                check_stream(sniffed, limits, line_limit, self._cancelled, count_read_aside)
            else:  # not a bomb: the cores the scan leaves idle first, the others where it falls behind
                _Relay(self._reading_done).run(
                    self._thread.name,
                    lambda on_read: check_steps(sniffed, limits, line_limit, self._cancelled, on_read),
                )
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

    def reading_done(self) -> None:
        """The run has done reading its files: a plain file's check need not leave the cores to the scan."""
        self._reading_done.set()

    def cancel(self) -> None:
        """Stop the check (at its next block) and wait for its thread."""
        self._cancelled.set()
        self._thread.join()


class _Relay:
    """Runs a plain file's check (`reader.check_steps`) in two threads that take turns, a block at a time: this one at
    the lowest priority, which takes only what the scan leaves of the cores, and one at the normal priority, which
    takes the pass over while the check trails the bytes the process read besides the checks by more than
    `RELAY_LAG_BYTES`, until it is back within half of that (while the run reads). So the check ends beside the
    stages after the scan, not long after them, whatever the file's size. Where the system does not count a
    process's reads, the pass runs in this thread alone, at the lowest priority."""

    _LOW, _NORMAL = "low", "normal"

    def __init__(self, reading_done: threading.Event, lag_bytes: int = RELAY_LAG_BYTES) -> None:
        self._reading_done, self._lag = reading_done, lag_bytes
        self._turn, self._finished = self._LOW, False
        self._turns = threading.Condition()
        self._own = 0
        self._error: BaseException | None = None

    def run(
        self,
        name: str,
        steps_of: Callable[[Callable[[int], None]], Generator[None, None, int] | None],
        scanned: Callable[[], int] | None = None,
    ) -> None:
        """The pass `steps_of(on_read)` to its end (its error raised here); `name` names the threads. `scanned` gives
        the bytes the run has read so far (by default, those the process read besides the checks from now on)."""
        if scanned is None:
            read = read_besides_aside()  # besides the checks: they count their reads aside
            scanned = (lambda: read() or 0) if read is not None else None
        steps = steps_of(self._counted)
        if steps is None:
            return
        if scanned is None:
            _lowest_priority()
            run_steps(steps)
            return
        # Started before this thread lowers its priority: a thread starts at the priority of the thread that starts it.
        helper = threading.Thread(
            target=self._take_turns, args=(self._NORMAL, steps, scanned), name=f"{name} (catching up)", daemon=True
        )
        helper.start()
        _lowest_priority()
        try:
            self._take_turns(self._LOW, steps, scanned)
        finally:
            with self._turns:
                self._finished = True
                self._turns.notify_all()
            helper.join()
        if self._error is not None:
            raise self._error

    def _counted(self, count: int) -> None:
        count_read_aside(count)
        self._own += count

    def _take_turns(self, me: str, steps: Generator[None, None, int], scanned: Callable[[], int]) -> None:
        while True:
            with self._turns:
                self._turns.wait_for(lambda: self._turn == me or self._finished)
                if self._finished:
                    return
            try:
                next(steps)
            except BaseException as exc:  # its end (StopIteration), or its error: the pass is over
                with self._turns:
                    self._error = None if isinstance(exc, StopIteration) else exc
                    self._finished = True
                    self._turns.notify_all()
                return
            lag = scanned() - self._own
            behind = lag > (self._lag // 2 if me == self._NORMAL else self._lag) or self._reading_done.is_set()
            turn = self._NORMAL if behind else self._LOW
            if turn != me:
                with self._turns:
                    self._turn = turn
                    self._turns.notify_all()


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
        for check in checks:
            check.reading_done()


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
