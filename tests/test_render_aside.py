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
from auditor.report.aside import render_aside
from auditor.report.pdf import pdf_bytes

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
FORKS = sys.platform == "linux" and (os.cpu_count() or 1) > 1


def _pid(_: object) -> bytes:
    return str(os.getpid()).encode()


def _no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_forks_where_it_can() -> None:
    # On a multi-core Linux machine with one thread the render runs in a child: the test below then covers it.
    assert threading.active_count() == 1
    with render_aside(_pid, None) as collect:
        pid = int(collect())
    assert (pid != os.getpid()) == FORKS
    assert _no_children_left()


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
    assert _no_children_left()


def test_a_child_not_collected_is_ended_with_the_block() -> None:
    with pytest.raises(KeyError), render_aside(lambda _: b"x" * 1_000_000, None):
        raise KeyError("the workbook failed")  # the PDF's bytes are never collected
    assert _no_children_left()


def test_the_pdf_written_beside_other_outputs_is_the_one_rendered_alone(tmp_path: Path) -> None:
    result = run_audit(AuditOptions(inputs=(SAMPLES / "openrouter_logs_csv",), as_of=date(2026, 11, 27)))
    written = write_outputs(result, OutputPlan(tmp_path / "r.json", False, tmp_path / "r.xlsx", tmp_path / "r.pdf"))
    assert written == [tmp_path / "r.json", tmp_path / "r.xlsx", tmp_path / "r.pdf"]
    assert (tmp_path / "r.pdf").read_bytes() == pdf_bytes(result)
    assert _no_children_left()


@pytest.mark.skipif(not FORKS, reason="the render forks on multi-core Linux only")
def test_on_a_terminal_the_command_still_renders_the_pdf_in_a_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Any
) -> None:
    """What the command shows on a terminal while it writes starts no thread before the PDF's fork: a spinner's
    refresh thread kept the PDF in the command's own process (after the other outputs, not beside them). The FOCUS
    file's bar starts once its first day is written, after the fork."""
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
    assert len(forked) == 1, "the PDF was rendered in the command's own process"
    assert (tmp_path / "audit-report.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "focus.csv").stat().st_size > 0
    assert _no_children_left()


@pytest.mark.skipif(not FORKS, reason="the render forks on multi-core Linux only")
def test_the_summary_is_printed_while_the_pdf_renders_in_its_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Any
) -> None:
    """The command prints its terminal summary once the PDF's child is forked, not before: the PDF, the longest of
    the outputs, renders while the summary is printed and the other files are written."""
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

    print_summary = auditor.cli.print_summary
    monkeypatch.setattr(os, "fork", counted_fork)
    monkeypatch.setattr(auditor.cli, "print_summary", summary)
    log = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
    done = run_cli("run", str(log), "--out", str(tmp_path))
    assert done.status == 0, done.err
    assert events == ["fork", "summary"]
    assert "openrouter" in done.out.lower(), "the summary printed"
    assert (tmp_path / "audit-report.pdf").read_bytes().startswith(b"%PDF")
    assert _no_children_left()


@pytest.mark.parametrize("pdf", [True, False])
def test_meanwhile_runs_once_before_any_file_is_written(tmp_path: Path, pdf: bool) -> None:
    result = run_audit(AuditOptions(inputs=(SAMPLES / "openrouter_logs_csv",), as_of=date(2026, 11, 27)))
    seen: list[list[str]] = []
    plan = OutputPlan(tmp_path / "r.json", False, tmp_path / "r.xlsx", tmp_path / "r.pdf" if pdf else None)
    written = write_outputs(result, plan, meanwhile=lambda: seen.append(sorted(p.name for p in tmp_path.iterdir())))
    assert seen == [[]], "called once, before the files"
    assert [p.name for p in written] == ["r.json", "r.xlsx", *(["r.pdf"] if pdf else [])]
    assert _no_children_left()
