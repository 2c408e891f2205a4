"""Atomic, idempotent runs: an interrupted run leaves the previous report files as they were.

A first run writes the JSON, XLSX and PDF. A second run, over other data and to the same paths, is
interrupted while it writes its PDF (its JSON and XLSX are complete by then, held back): with Ctrl-C
(SIGINT) nothing of it remains; killed (SIGKILL) it can remove nothing, so at most hidden temporary
files named after it remain, and the next run removes them. Either way the previous files are unchanged.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import openpyxl
import pytest
from pypdf import PdfReader

from auditor.scan import _ctrl_c_interrupts, scanning
from tests.conftest import AS_OF, ROOT, SAMPLES

FIRST = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
SECOND = SAMPLES / "openai_usage_csv" / "completions_usage_2026-10-01_2026-10-14.csv"
NAMES = ("report.json", "report.xlsx", "report.pdf")


@pytest.fixture(autouse=True)
def ctrl_c_handled() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt here and in the runs started here, however the tests were started: a shell
    that starts a command in the background (`cmd &`) has it ignore SIGINT, which its processes then inherit (a
    handler set here is not inherited past exec: they start with the default, and Python's own handler)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _command(source: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "auditor",
        str(source),
        "--as-of",
        AS_OF.isoformat(),
        "--quiet",
        "--json",
        str(out / "report.json"),
        "--xlsx",
        str(out / "report.xlsx"),
        "--pdf",
        str(out / "report.pdf"),
    ]


def _digests(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())}


def _interrupt_while_writing(source: Path, out: Path, sig: signal.Signals) -> int:
    """Start a run; send `sig` as soon as its first temporary file appears (its outputs are being written: the files
    written wait for the PDF, which renders meanwhile); return its exit status."""
    process = subprocess.Popen(_command(source, out), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while not list(out.glob(".report.*.partial")):
            assert process.poll() is None, "the run ended before it wrote its outputs: nothing was interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.002)
        process.send_signal(sig)
        return process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def previous(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    out = tmp_path / "out"
    subprocess.run(_command(FIRST, out), cwd=ROOT, check=True, capture_output=True, timeout=300)
    digests = _digests(out)
    assert sorted(digests) == sorted(NAMES)
    return out, digests


def test_sigkill_while_writing_leaves_the_previous_reports(previous: tuple[Path, dict[str, str]]) -> None:
    out, before = previous
    status = _interrupt_while_writing(SECOND, out, signal.SIGKILL)
    assert status == -signal.SIGKILL
    assert {n: d for n, d in _digests(out).items() if not n.startswith(".")} == before
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert all(p.endswith(".partial") for p in leftovers)
    # The next run completes, replaces all three and removes what the killed one left.
    subprocess.run(_command(SECOND, out), cwd=ROOT, check=True, capture_output=True, timeout=300)
    after = _digests(out)
    assert sorted(after) == sorted(NAMES)
    assert all(after[name] != before[name] for name in NAMES)


def test_sigint_while_writing_leaves_the_previous_reports_and_nothing_else(
    previous: tuple[Path, dict[str, str]],
) -> None:
    out, before = previous
    status = _interrupt_while_writing(SECOND, out, signal.SIGINT)
    assert status == 2
    assert _digests(out) == before  # no temporary file either


def _cells(path: Path) -> list[list[tuple[object, ...]]]:
    book = openpyxl.load_workbook(path)
    return [list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets]


def _pdf_text(path: Path) -> list[str]:
    with path.open("rb") as handle:  # closed here, not when collected
        return [page.extract_text() for page in PdfReader(handle).pages]


def test_a_run_is_idempotent(previous: tuple[Path, dict[str, str]]) -> None:
    """Run again, the same inputs and options give the same JSON byte for byte, the same cells in every sheet
    and the same text on every page (the XLSX and PDF files also hold the time they were written)."""
    out, before = previous
    cells, text = _cells(out / "report.xlsx"), _pdf_text(out / "report.pdf")
    subprocess.run(_command(FIRST, out), cwd=ROOT, check=True, capture_output=True, timeout=300)
    assert _digests(out)["report.json"] == before["report.json"]
    assert _cells(out / "report.xlsx") == cells
    assert _pdf_text(out / "report.pdf") == text


@pytest.mark.skipif(not hasattr(os, "kill"), reason="needs os.kill")
def test_orphans_of_a_live_process_are_left_alone(tmp_path: Path) -> None:
    from auditor.report.files import write_atomically

    mine = tmp_path / f".report.json.{os.getpid()}.abc.partial"
    gone = tmp_path / ".report.json.999999999.abc.partial"
    mine.write_text("x")
    gone.write_text("x")
    write_atomically(tmp_path / "report.json", lambda tmp: tmp.write_text("{}"))
    assert mine.exists() and not gone.exists()
    assert (tmp_path / "report.json").read_text() == "{}"


def test_ctrl_c_just_after_the_temporary_file_is_made_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C can come between any two steps: here as soon as the temporary file exists, before the writer has its
    name (the run interrupted as soon as its first temporary file appears, below, hit that window once, leaving an
    empty `.report.json.<pid>.<random>.partial`). The previous file stays, and no temporary file is left."""
    import tempfile

    from auditor.report.files import write_atomically

    made = tempfile.mkstemp

    def interrupted(**kwargs: object) -> tuple[int, str]:
        handle, _ = made(**kwargs)  # type: ignore[call-overload]
        os.close(handle)
        raise KeyboardInterrupt

    target = tmp_path / "report.json"
    target.write_text("previous")
    monkeypatch.setattr(tempfile, "mkstemp", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, lambda tmp: tmp.write_text("{}"))
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
    assert target.read_text() == "previous"


def test_ctrl_c_during_a_duckdb_query_is_a_keyboard_interrupt() -> None:
    """Ctrl-C while a query runs (DuckDB ends it with a RuntimeError where it sees the signal itself): the run must
    see the user's Ctrl-C at once (the command then says it aborted, exit 2), not an internal error."""

    def long_query(con: duckdb.DuckDBPyConnection) -> object:
        # On two threads DuckDB's client alone saw the signal at the query's end in 1 run of 6 (it looks between the
        # tasks the calling thread runs, and that thread can take one long task): `scan._ctrl_c_interrupts` does not
        # wait for it.
        con.execute("SET threads = 2")
        threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
        # About 90 s here unless interrupted; hashing every number leaves DuckDB no shortcut.
        return con.execute("SELECT sum(hash(i) % 7) FROM range(20000000000) t(i)").fetchall()

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        scanning(long_query)
    assert time.monotonic() - started < 30, "the query was interrupted, not run to its end"


def test_the_ctrl_c_watcher_interrupts_a_query_duckdb_does_not_check_itself() -> None:
    """A query run outside the main thread: DuckDB's client cannot see the signal there, only the watcher can."""
    seen, failed = threading.Event(), []
    previous = signal.signal(signal.SIGINT, lambda *_: None)  # this test's own Ctrl-C must not stop the session
    try:
        with duckdb.connect() as con, _ctrl_c_interrupts(con, seen):
            con.execute("SET enable_progress_bar = false")

            def run() -> None:
                try:
                    con.execute("SELECT sum(hash(i) % 7) FROM range(20000000000) t(i)").fetchall()  # about 90 s
                except duckdb.Error as exc:
                    failed.append(exc)

            query = threading.Thread(target=run)
            query.start()
            time.sleep(0.5)
            os.kill(os.getpid(), signal.SIGINT)
            query.join(30)
            assert not query.is_alive(), "the query was not interrupted"
    finally:
        signal.signal(signal.SIGINT, previous)
    assert seen.is_set() and isinstance(failed[0], duckdb.InterruptException)
