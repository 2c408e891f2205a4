"""Progress of long scans on a terminal: bytes read, estimated rows, rate and time left (rich, on stderr).

The bytes are those the process reads while the scan runs (Linux counts them, page cache included, in
`/proc/self/io`), less those its other readers of the file say they read: DuckDB's own progress figure for a
query of two grouping sets stops near a quarter when the scan is done, so it is used only where the system does
not count reads. Other reads at the same time (small files read beside a large one, modules imported) put the bar
ahead, never past the file's size."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

# Files smaller than this scan in well under a second: no bar.
MIN_BYTES_FOR_PROGRESS = 32 * 1024 * 1024
_POLL_SECONDS = 0.2


def process_bytes_read() -> int | None:
    """Bytes this process has read so far, from disk or the page cache (Linux's `rchar`); None where not counted."""
    try:
        with open("/proc/self/io", "rb") as counters:
            for line in counters:
                if line.startswith(b"rchar:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


_READ_ASIDE = [0]
_READ_ASIDE_LOCK = threading.Lock()


def count_read_aside(count: int) -> None:
    """Count bytes that a reader beside the scans read (a large file's check, in its own thread): every bar
    leaves them out."""
    with _READ_ASIDE_LOCK:
        _READ_ASIDE[0] += count


def _read_aside() -> int:
    with _READ_ASIDE_LOCK:
        return _READ_ASIDE[0]


def read_besides_aside() -> Callable[[], int | None] | None:
    """The bytes the process reads from now on, less those counted aside meanwhile (`count_read_aside`): None where
    the system does not count reads (the function's own None: where it no longer does)."""
    start, start_aside = process_bytes_read(), _read_aside()
    if start is None:
        return None

    def read() -> int | None:
        now = process_bytes_read()
        return None if now is None else now - start - (_read_aside() - start_aside)

    return read


def read_fraction(size: int, fallback: Callable[[], float], others: Callable[[], int]) -> Callable[[], float]:
    """The fraction of `size` bytes the process reads from now on, less the bytes `others` read meanwhile and those
    counted aside (`count_read_aside`); `fallback` where the system does not count reads."""
    read = read_besides_aside()
    if read is None or size <= 0:
        return fallback

    def fraction() -> float:
        now = read()
        return fallback() if now is None else max(now - others(), 0) / size

    return fraction


def display_name(name: str) -> str:
    """A file's name on a bar: as the user gave it (an archive member: `archive.zip!member.csv`), not the name of a
    copy the run reads, and without the folders of the file given."""
    given, bang, member = name.partition("!")
    return Path(given).name + bang + member


class _SizeColumn(DownloadColumn):
    """Bytes read of the file's size; a file prepared without a measure (`preparing`): its size; work that is not a
    file's (`working`): nothing."""

    def render(self, task: Task) -> Text:
        if task.total is None:
            size = task.fields.get("size")
            return Text("" if size is None else f"{size / 1e6:,.1f} MB", style="progress.download")
        return super().render(task)


class _SpeedColumn(TransferSpeedColumn):
    def render(self, task: Task) -> Text:
        return Text("") if task.total is None else super().render(task)


class _TimeColumn(ProgressColumn):
    """Time left; for a file prepared without a measure, the time it has taken so far."""

    def __init__(self) -> None:
        super().__init__()
        self._left, self._taken = TimeRemainingColumn(), TimeElapsedColumn()

    def render(self, task: Task) -> Text:
        return self._taken.render(task) if task.total is None else self._left.render(task)


class ScanProgress:
    """One bar per large input file, driven by the bytes the process reads (see the module's note)."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            _SizeColumn(),
            TextColumn("{task.fields[rows]}"),
            _SpeedColumn(),
            _TimeColumn(),
            console=console,
            transient=True,
        )

    def __enter__(self) -> ScanProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Within the block, the display is gone and its refresh thread with it; then it is shown again. The run
        forks a child there (`report.aside.computed_aside`), which a process with other threads does not do."""
        self._stop()
        try:
            yield
        finally:
            self._progress.start()

    def _stop(self) -> None:
        # rich tells its refresh thread to stop but does not wait for it. A thread still running keeps the process
        # from forking (`report.aside`: the writers' children, where they were not forked before the run; the
        # sections computed beside the re-pricing), so it is waited for here.
        refresh = getattr(self._progress.live, "_refresh_thread", None)
        self._progress.stop()
        if isinstance(refresh, threading.Thread):
            refresh.join()

    def more_memory(self, limit_mib: int) -> None:
        """Say that the inputs are read again with more memory (DuckDB ran out: many keys, or many threads)."""
        self._progress.console.print(
            f"note: more memory needed: reading the inputs again with {limit_mib:,} MiB", highlight=False
        )

    @contextmanager
    def scanning(
        self,
        path: Path,
        name: str,
        bytes_per_row: float,
        stage: str,
        fallback: Callable[[], float],
        others: Callable[[], int] = lambda: 0,
    ) -> Iterator[None]:
        """Show a bar, named `name`, while the body reads `path`: the bytes read from the bar's start, less those
        `others` (other readers of the process, such as a digest) read; `fallback` gives the fraction done where
        reads are not counted (0..1, or below 0 for not known)."""
        size = path.stat().st_size
        if size < MIN_BYTES_FOR_PROGRESS:
            yield
            return
        poll = read_fraction(size, fallback, others)
        task = self._progress.add_task(f"{name} ({stage})", total=size, rows="≈0 rows")
        stop = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(task, size, bytes_per_row, poll, stop), daemon=True)
        watcher.start()
        try:
            yield
        finally:
            stop.set()
            watcher.join()
            self._progress.remove_task(task)

    @contextmanager
    def preparing(
        self, path: Path, name: str, stage: str, measured: bool = False, inflated_bytes: int | None = None
    ) -> Iterator[Callable[[int, int], None] | None]:
        """Show a bar, named `name`, while the body prepares a large file before any scan (a JSON document
        flattened, a workbook's table copied out): a second or more on a file this size. `measured`: the body is
        given a function to tell the bar the bytes read of the file so far and the records written (a document of
        records, read a piece at a time); else the bar has no measure, and shows the file's size and the time
        taken. A gzip file is shown by what it inflates to (`inflated_bytes`), however small it is."""
        size = path.stat().st_size
        if (inflated_bytes or size) < MIN_BYTES_FOR_PROGRESS:
            yield None
            return
        task = self._progress.add_task(f"{name} ({stage})", total=size if measured else None, rows="", size=size)

        def told(done: int, records: int) -> None:
            self._progress.update(task, completed=min(done, size), rows=f"{records:,} records")

        try:
            yield told if measured else None
        finally:
            self._progress.remove_task(task)

    @contextmanager
    def working(self, what: str) -> Iterator[None]:
        """Show a line without a measure, saying `what` the run works on (not a file: the stages after the scan,
        seconds over many keys), and the time taken."""
        task = self._progress.add_task(what, total=None, rows="", size=None)
        try:
            yield
        finally:
            self._progress.remove_task(task)

    def _watch(
        self, task: TaskID, size: int, bytes_per_row: float, poll: Callable[[], float], stop: threading.Event
    ) -> None:
        while not stop.wait(_POLL_SECONDS):
            fraction = poll()
            if fraction >= 0:
                done = int(size * min(fraction, 1.0))
                self._progress.update(task, completed=done, rows=f"≈{int(done / max(bytes_per_row, 1)):,} rows")


class FocusProgress:
    """A bar for the FOCUS file as it is written, a UTC day at a time (`FocusLedger.on_day`): days written of the
    ledger's days, rows, time taken and left; gone when the block ends.

    It starts at the first day written, not before: the report's PDF is forked into a child process first
    (`report.aside`), which a display's refresh thread would prevent (a fork copies only the calling thread)."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> FocusProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, days_written: int, days: int, rows: int) -> None:
        if self._progress is None:
            self._progress = Progress(
                TextColumn("[bold]FOCUS file"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("days, {task.fields[rows]} rows"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self._console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("focus", total=days, rows="0")
        assert self._task is not None
        self._progress.update(self._task, completed=days_written, rows=f"{rows:,}", refresh=True)
