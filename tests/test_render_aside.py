"""Rendering the PDF in a child process while the other outputs are written: same bytes, errors raised here."""

from __future__ import annotations

import os
import sys
import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from auditor.options import AuditOptions
from auditor.outputs import OutputPlan, write_outputs
from auditor.pipeline import run_audit
from auditor.report.aside import CHILD_NICENESS, Ahead, child_ahead, render_aside
from auditor.report.pdf import pdf_bytes
from auditor.report.xlsx import xlsx_bytes
from tests.conftest import FORKS, no_children_left

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _pid(_: object) -> bytes:
    return str(os.getpid()).encode()


def test_forks_where_it_can() -> None:
    # On a multi-core Linux machine with one thread the render runs in a child: the test below then covers it.
    assert threading.active_count() == 1
    with render_aside(_pid, None) as collect:
        pid = int(collect())
    assert (pid != os.getpid()) == FORKS
    assert no_children_left()


def test_a_failing_child_is_rendered_again_here() -> None:
    parent = os.getpid()

    def fails_in_a_child(_: object) -> bytes:
        if os.getpid() != parent:
            raise RuntimeError("child")
        return b"rendered here"

    with render_aside(fails_in_a_child, None) as collect:
        assert collect() == b"rendered here"


def test_an_error_of_the_render_is_raised_here() -> None:
    def fails(_: object) -> bytes:
        raise ValueError("bad chart")

    with pytest.raises(ValueError, match="bad chart"), render_aside(fails, None) as collect:
        collect()
    assert no_children_left()


def test_a_child_not_collected_is_ended_with_the_block() -> None:
    with pytest.raises(KeyError), render_aside(lambda _: b"x" * 1_000_000, None):
        raise KeyError("the workbook failed")  # the PDF's bytes are never collected
    assert no_children_left()


def test_the_pdf_written_beside_other_outputs_is_the_one_rendered_alone(tmp_path: Path) -> None:
    result = run_audit(AuditOptions(inputs=(SAMPLES / "openrouter_logs_csv",), as_of=date(2026, 11, 27)))
    written = write_outputs(result, OutputPlan(tmp_path / "r.json", False, tmp_path / "r.xlsx", tmp_path / "r.pdf"))
    assert written == [tmp_path / "r.json", tmp_path / "r.xlsx", tmp_path / "r.pdf"]
    assert (tmp_path / "r.pdf").read_bytes() == pdf_bytes(result)
    assert no_children_left()


@pytest.mark.skipif(not FORKS, reason="the render forks on multi-core Linux only")
def test_on_a_terminal_the_command_still_renders_the_pdf_in_a_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Any
) -> None:
    """What the command shows on a terminal starts no thread before the writers' children are forked (before the
    run): a spinner's refresh thread kept the PDF in the command's own process (after the other outputs, not beside
    them). The progress display is paused while the sections beside the re-pricing are forked. The FOCUS file's bar
    starts once its first day is written."""
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich takes the captured stderr for a terminal
    forked: list[int] = []
    fork = os.fork

    def counted_fork() -> int:
        pid = fork()
        if pid:  # in this process; the child renders and leaves
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counted_fork)
    log = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
    done = run_cli("run", str(log), "--out", str(tmp_path), "--focus", str(tmp_path / "focus.csv"))
    assert done.status == 0, done.err
    assert "writing the reports" in done.err
    # The PDF's child (before the run), the child of the sections computed beside the re-pricing (the display paused
    # while it is forked) and the workbook's (as the files are written).
    assert len(forked) == 3, "the PDF, the workbook or the sections beside were computed in the command's process"
    assert (tmp_path / "audit-report.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "focus.csv").stat().st_size > 0
    assert no_children_left()


@pytest.mark.skipif(not FORKS, reason="the render forks on multi-core Linux only")
def test_the_summary_is_printed_while_the_pdf_renders_in_its_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Any
) -> None:
    """The command prints its terminal summary once the PDF's child has the result, not before: the PDF, the
    longest of the outputs, renders while the summary is printed and the other files are written."""
    import auditor.cli

    events: list[str] = []
    fork = os.fork

    def counted_fork() -> int:
        pid = fork()
        if pid:
            events.append("fork")
        return pid

    def summary(*args: Any, **kwargs: Any) -> None:
        events.append("summary")
        print_summary(*args, **kwargs)

    def sent(self: Ahead[Any], value: bytes) -> bool:
        events.append("result sent")
        return send(self, value)

    print_summary, send = auditor.cli.print_summary, Ahead.send
    monkeypatch.setattr(os, "fork", counted_fork)
    monkeypatch.setattr(Ahead, "send", sent)
    monkeypatch.setattr(auditor.cli, "print_summary", summary)
    log = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
    done = run_cli("run", str(log), "--out", str(tmp_path))
    assert done.status == 0, done.err
    # The PDF's child is forked before the run, and the child of the sections that do not read the scenarios during
    # it; the PDF's is sent the result and the workbook's forked, then the summary is printed.
    assert events == ["fork", "fork", "result sent", "fork", "summary"]
    assert "openrouter" in done.out.lower(), "the summary printed"
    assert (tmp_path / "audit-report.pdf").read_bytes().startswith(b"%PDF")
    assert no_children_left()


@pytest.mark.parametrize("pdf", [True, False])
def test_meanwhile_runs_once_before_any_file_is_written(tmp_path: Path, pdf: bool) -> None:
    result = run_audit(AuditOptions(inputs=(SAMPLES / "openrouter_logs_csv",), as_of=date(2026, 11, 27)))
    seen: list[list[str]] = []
    plan = OutputPlan(tmp_path / "r.json", False, tmp_path / "r.xlsx", tmp_path / "r.pdf" if pdf else None)
    written = write_outputs(result, plan, meanwhile=lambda: seen.append(sorted(p.name for p in tmp_path.iterdir())))
    assert seen == [[]], "called once, before the files"
    assert [p.name for p in written] == ["r.json", "r.xlsx", *(["r.pdf"] if pdf else [])]
    assert no_children_left()


_PREPARED: list[str] = []


def _prepare() -> None:
    _PREPARED.append(f"prepared in {os.getpid()}")


def _prepared_and_value(value: object) -> bytes:
    return f"{','.join(_PREPARED)}; {value}".encode()


@pytest.mark.skipif(not FORKS, reason="the render forks on multi-core Linux only")
def test_a_child_forked_ahead_prepares_then_renders_the_value_sent_later() -> None:
    _PREPARED.clear()
    with child_ahead(_prepare, _prepared_and_value) as ahead:
        assert ahead is not None
        value = {"made": "after the fork", "pid": os.getpid()}
        with render_aside(_prepared_and_value, value, ahead) as collect:
            rendered = collect().decode()
    assert rendered == f"prepared in {ahead.pid}; {value}", "prepared in the child, then sent the value"
    assert _PREPARED == [], "nothing was prepared in this process"
    assert no_children_left()


@pytest.mark.skipif(not FORKS, reason="the render forks on multi-core Linux only")
def test_a_child_ahead_never_sent_a_value_is_gone_with_the_block() -> None:
    with pytest.raises(KeyError), child_ahead(_prepare, _prepared_and_value):
        raise KeyError("the inputs could not be read")  # no result: nothing to send
    assert no_children_left()


@pytest.mark.skipif(not FORKS, reason="the render forks on multi-core Linux only")
def test_a_value_that_cannot_be_sent_is_rendered_by_a_child_forked_then() -> None:
    _PREPARED.clear()
    value = threading.Lock()  # cannot be pickled
    with child_ahead(_prepare, _prepared_and_value) as ahead:
        assert ahead is not None
        with render_aside(_pid, value, ahead) as collect:
            pid = int(collect())
    assert pid not in (os.getpid(), ahead.pid)
    assert no_children_left()


@pytest.mark.skipif(not FORKS, reason="the render forks on multi-core Linux only")
def test_a_child_ahead_that_fails_leaves_the_render_and_its_error_here() -> None:
    def fails(_: object) -> None:
        raise RuntimeError("reportlab is broken")

    parent = os.getpid()

    def renders_here_only(value: object) -> bytes:
        assert os.getpid() == parent
        return f"here: {value}".encode()

    with child_ahead(fails, renders_here_only) as ahead, render_aside(renders_here_only, 7, ahead) as collect:
        assert collect() == b"here: 7"
    with (
        pytest.raises(ValueError, match="bad chart"),
        child_ahead(_prepare, _bad_chart) as ahead,
        render_aside(_bad_chart, 7, ahead) as collect,
    ):
        collect()
    assert no_children_left()


def _bad_chart(_: object) -> bytes:
    raise ValueError("bad chart")


_COMMAND_WITHOUT_WRITERS = """
import sys
from auditor.launch import main
sys.argv = ["audit", "run", sys.argv[1], "--out", sys.argv[2], "--quiet", "--as-of", "2026-11-27"]
try:
    main()
except SystemExit as exit:
    assert not exit.code, exit.code
print(sorted(name for name in sys.modules if name.split(".")[0] in ("reportlab", "openpyxl")))
"""


@pytest.mark.skipif(not FORKS, reason="the render forks on multi-core Linux only")
def test_the_command_leaves_the_writers_to_their_children(tmp_path: Path) -> None:
    """The command's process never imports reportlab or openpyxl, nor reads the fonts: the children forked before
    the run do, while the inputs are read, then render the result they are sent."""
    import subprocess

    log = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
    args = [sys.executable, "-c", _COMMAND_WITHOUT_WRITERS, str(log), str(tmp_path)]
    assert subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip() == "[]"
    result = run_audit(AuditOptions(inputs=(log,), as_of=date(2026, 11, 27)))
    assert (tmp_path / "audit-report.pdf").read_bytes() == pdf_bytes(result)
    assert (tmp_path / "audit-report.xlsx").read_bytes() == xlsx_bytes(result)


def _niceness(_: object) -> bytes:
    return str(os.nice(0)).encode()


@pytest.mark.skipif(not FORKS, reason="the render forks on multi-core Linux only")
def test_a_child_ahead_runs_below_this_process() -> None:
    """Its imports, while the inputs are read, take a core from the scan only where the scan leaves it idle."""
    with child_ahead(lambda: None, _niceness) as ahead, render_aside(_niceness, None, ahead) as collect:
        assert int(collect()) == min(os.nice(0) + CHILD_NICENESS, 19)
