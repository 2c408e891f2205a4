"""The progress bar of a large file: the bytes DuckDB read (not the digest's), and rows estimated from them."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console
from rich.progress import TaskID

from auditor import ingest
from auditor import progress as progress_module
from auditor.importers import documents
from auditor.importers.reader import DEFAULT_LIMITS, check_stream, sniff
from auditor.options import AuditOptions
from auditor.pipeline import STAGES_AFTER_SCAN, run_audit
from auditor.progress import FocusProgress, ScanProgress, count_read_aside, process_bytes_read, read_fraction
from auditor.sources import open_sources
from bench.generate import generate

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SPEND_LOGS = SAMPLES / "litellm_spend_logs_json" / "spend_logs_2026-10-01_2026-10-11.json"  # a JSON array of records
ROWS = 12_000  # about 2 MB: above the size read with other small files, so streamed with a bar

counted = pytest.mark.skipif(process_bytes_read() is None, reason="the system does not count a process's reads")


class _LastFigure(ScanProgress):
    """The bar's figures as the scan ends (a scan this small ends before the bar's first poll)."""

    def __init__(self) -> None:
        super().__init__(Console(file=io.StringIO()))
        self.at_end: dict[TaskID, tuple[float, float]] = {}
        self.names: list[str] = []

    def _watch(
        self, task: TaskID, size: int, bytes_per_row: float, poll: Callable[[], float], stop: threading.Event
    ) -> None:
        self.names += [t.description for t in self._progress.tasks if t.id == task]
        stop.wait()
        self.at_end[task] = (poll(), size / bytes_per_row)


@counted
def test_the_fraction_counts_the_bytes_read_less_the_other_readers(tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"x" * 1_000_000)
    others = [0]
    fraction = read_fraction(1_000_000, lambda: -1.0, lambda: others[0])
    with data.open("rb", buffering=0) as handle:
        handle.read(400_000)
    assert 0.4 <= fraction() < 0.45
    with data.open("rb", buffering=0) as handle:
        others[0] = len(handle.read())  # another reader of the process, as the digest is
    assert 0.4 <= fraction() < 0.45


@counted
def test_the_fraction_leaves_out_the_bytes_counted_aside(tmp_path: Path) -> None:
    """A large gzip file's check reads it in a thread while DuckDB does (`stream_checks`): its bytes are not the
    scan's. The check tells how many compressed bytes it read, all of the file by its end."""
    log = tmp_path / "openrouter.csv"
    generate("openrouter", ROWS, log)
    packed = tmp_path / "openrouter.csv.gz"
    packed.write_bytes(gzip.compress(log.read_bytes()))
    fraction = read_fraction(packed.stat().st_size, lambda: -1.0, lambda: 0)
    told: list[int] = []
    check_stream(sniff(packed), DEFAULT_LIMITS, True, on_read=told.append)
    assert sum(told) == packed.stat().st_size
    assert fraction() > 0.9, "the premise: the process read the file"
    count_read_aside(sum(told))
    assert fraction() < 0.1


def test_where_reads_are_not_counted_the_engine_figure_is_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "process_bytes_read", lambda: None)
    assert read_fraction(1_000, lambda: 0.25, lambda: 0)() == 0.25


@counted
def test_at_the_end_of_a_scan_the_bar_shows_the_whole_file_and_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "openrouter.csv"
    generate("openrouter", ROWS, log)
    monkeypatch.setattr(progress_module, "MIN_BYTES_FOR_PROGRESS", 0)
    with _LastFigure() as shown:
        result = run_audit(AuditOptions(inputs=(log,), as_of=date(2026, 11, 28)), progress=shown)
    assert sum(f.rows_used for f in result.inputs) == ROWS
    scan_fraction, rows = list(shown.at_end.values())[-1]  # the survey's bar, then the scan's
    # DuckDB's own figure for this query ends near a quarter; the digest read the file once more beside it.
    assert 0.97 <= scan_fraction <= 1.05
    assert 0.8 * ROWS <= rows <= 1.2 * ROWS


def test_a_bar_names_the_file_as_given_not_the_copy_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "openrouter.csv"
    generate("openrouter", ROWS, log)
    with zipfile.ZipFile(tmp_path / "exports.zip", "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(log, "logs/openrouter.csv")
    monkeypatch.setattr(progress_module, "MIN_BYTES_FOR_PROGRESS", 0)
    monkeypatch.setattr(ingest, "SMALL_FILE_BYTES", 0)  # streamed, with its survey and scan bars
    with _LastFigure() as shown:
        run_audit(AuditOptions(inputs=(tmp_path / "exports.zip",), as_of=date(2026, 11, 28)), progress=shown)
    assert shown.names == ["exports.zip!logs/openrouter.csv (survey)", "exports.zip!logs/openrouter.csv (scan)"]


class _Prepared(_LastFigure):
    """Also the bars shown while a file is prepared, as `preparing` shows them, and how each ends: (bytes done,
    total, rows) of a measured bar, None for one without a measure."""

    def __init__(self) -> None:
        super().__init__()
        self.prepared: dict[str, tuple[float, float | None, str] | None] = {}

    @contextmanager
    def preparing(
        self, path: Path, name: str, stage: str, measured: bool = False, inflated_bytes: int | None = None
    ) -> Iterator[Callable[[int, int], None] | None]:
        with super().preparing(path, name, stage, measured, inflated_bytes) as told:
            shown = list(self._progress.tasks)  # none for a small file
            self.names += [task.description for task in shown]
            yield told
            for task in shown:
                measure = (task.completed, task.total, task.fields["rows"]) if task.total is not None else None
                self.prepared[task.description] = measure


def test_a_json_document_or_a_workbook_shows_a_bar_while_it_is_prepared(monkeypatch: pytest.MonkeyPatch) -> None:
    """Flattened or copied out before any scan (seconds on a large file). An array of records is read a piece at a
    time: its bar counts the bytes read and the records, to the whole file. A workbook's sheet has nothing to count:
    a bar without a measure, showing the file's size and the time taken."""
    document = SPEND_LOGS
    workbook = ROOT / "tests" / "hostile" / "header_row_3.xlsx"
    monkeypatch.setattr(progress_module, "MIN_BYTES_FOR_PROGRESS", 0)
    monkeypatch.setattr(documents, "READ_CHARS", 1000)  # several pieces
    with _Prepared() as shown:
        run_audit(AuditOptions(inputs=(document, workbook), as_of=date(2026, 11, 28)), progress=shown)
    named = "spend_logs_2026-10-01_2026-10-11.json (JSON document)"
    assert shown.names == [named, "header_row_3.xlsx (workbook sheet)"]
    records = len(json.loads(document.read_text(encoding="utf-8")))
    size = document.stat().st_size
    assert shown.prepared == {named: (size, size, f"{records:,} records"), "header_row_3.xlsx (workbook sheet)": None}
    monkeypatch.setattr(progress_module, "MIN_BYTES_FOR_PROGRESS", 1 << 40)
    with _Prepared() as quiet:
        run_audit(AuditOptions(inputs=(document,), as_of=date(2026, 11, 28)), progress=quiet)
    assert quiet.names == []


class _Working(_LastFigure):
    """Also the lines shown while the run works on what is not a file, and how each renders."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[str] = []

    @contextmanager
    def working(self, what: str) -> Iterator[None]:
        with super().working(what):
            screen = Console(file=io.StringIO(), width=150, force_terminal=True)
            screen.print(self._progress.make_tasks_table(self._progress.tasks))
            self.shown.append(screen.file.getvalue())  # type: ignore[attr-defined]
            yield
        assert not self._progress.tasks, "the line is gone with the work"


def test_the_stages_after_the_scan_show_a_line_with_the_time_taken() -> None:
    """Seconds over many keys, after the files' bars: a line without a measure, saying what the run does."""
    document = SPEND_LOGS
    with _Working() as shown:
        run_audit(AuditOptions(inputs=(document,), as_of=date(2026, 11, 28)), progress=shown)
    (line,) = shown.shown
    assert STAGES_AFTER_SCAN in line and "0:00:00" in line
    assert "MB" not in line and "rows" not in line


def test_a_gzip_document_shows_its_bar_by_what_it_inflates_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small compressed, large inflated (seconds to flatten): its bar, counting its compressed bytes."""
    document = SPEND_LOGS
    records = json.loads(document.read_text(encoding="utf-8")) * 40
    packed = tmp_path / "spend_logs.json.gz"
    packed.write_bytes(gzip.compress(json.dumps(records, indent=2).encode()))
    monkeypatch.setattr(progress_module, "MIN_BYTES_FOR_PROGRESS", 1024 * 1024)
    assert packed.stat().st_size < 1024 * 1024 < len(gzip.decompress(packed.read_bytes())), "the premise"
    with _Prepared() as shown:
        run_audit(AuditOptions(inputs=(packed,), as_of=date(2026, 11, 28)), progress=shown)
    size = packed.stat().st_size
    assert shown.prepared == {"spend_logs.json.gz (JSON document)": (size, size, f"{len(records):,} records")}


def test_a_gzip_files_rows_are_estimated_from_its_compressed_bytes(tmp_path: Path) -> None:
    plain = tmp_path / "openrouter.csv"
    generate("openrouter", ROWS, plain)
    packed = tmp_path / "openrouter.csv.gz"
    with plain.open("rb") as source, gzip.open(packed, "wb") as target:
        shutil.copyfileobj(source, target)
    with open_sources((packed,), None) as (sources, _):
        estimated = packed.stat().st_size / sources[0].sniffed.bytes_per_row
    assert packed.stat().st_size * 3 < plain.stat().st_size, "the premise: it compresses"
    assert 0.8 * ROWS <= estimated <= 1.2 * ROWS


def test_the_focus_file_bar_starts_at_its_first_day_and_shows_days_and_rows() -> None:
    """No display (and no refresh thread) until the first day is written; then days written of all, and rows."""
    screen = io.StringIO()
    threads = threading.active_count()
    with FocusProgress(Console(file=screen, width=150, force_terminal=True)) as bar:
        assert threading.active_count() == threads and screen.getvalue() == "", "nothing shown before a day is made"
        bar(1, 3, 1_500)
        bar(2, 3, 3_250)
        shown = screen.getvalue()
    assert "FOCUS file" in shown and "2/3" in shown and "3,250 rows" in shown


def test_paused_the_display_runs_no_thread_then_shows_again() -> None:
    """While paused (the run forks a child there) the display's refresh thread is gone; the tasks it shows, the line
    of the stages after the scan among them, are shown again after."""
    progress = ScanProgress(Console(file=io.StringIO(), force_terminal=True))
    with progress, progress.working(STAGES_AFTER_SCAN):
        assert threading.active_count() == 2, "the display refreshes in its own thread"
        with progress.paused():
            assert threading.active_count() == 1
        assert threading.active_count() == 2
        assert [t.description for t in progress._progress.tasks] == [STAGES_AFTER_SCAN]
    assert threading.active_count() == 1
