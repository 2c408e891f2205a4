"""Which files a run writes, and writing them from the AuditResult.

Every output but FOCUS is a pure function of the result, so `audit render` can write it again from a saved
JSON (`auditor.report.json_out.load_result` then `write_outputs`). The FOCUS file is the ledger, which the
result does not hold: only a run over the inputs can write it (it hands its `FocusLedger` here).
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.errors import AuditorError, OptionError
from auditor.report.aside import render_aside
from auditor.report.files import all_or_nothing
from auditor.report.json_out import render_json, write_json
from auditor.result import AuditResult

if TYPE_CHECKING:
    from auditor.report.focus_out import FocusLedger

DEFAULT_STEM = "audit-report"


@dataclass(frozen=True)
class OutputPlan:
    json_path: Path | None
    json_to_stdout: bool
    xlsx_path: Path | None
    pdf_path: Path | None
    csv_dir: Path | None = None
    focus_path: Path | None = None

    @classmethod
    def from_flags(
        cls,
        json_flag: str | None,
        xlsx: Path | None,
        pdf: Path | None,
        out_dir: Path | None,
        csv_dir: Path | None = None,
        focus: Path | None = None,
    ) -> OutputPlan:
        """The outputs named; and the PDF and XLSX not named, into `out_dir` when it is given (`--out`), or into the
        current directory when no output is named (`audit FILE` writes the reports where it runs)."""
        named = any(flag is not None for flag in (json_flag, xlsx, pdf, csv_dir, focus))
        if out_dir is not None or not named:
            folder = out_dir if out_dir is not None else Path(".")
            xlsx = xlsx if xlsx is not None else folder / f"{DEFAULT_STEM}.xlsx"
            pdf = pdf if pdf is not None else folder / f"{DEFAULT_STEM}.pdf"
        to_stdout = json_flag == "-"
        json_path = None if json_flag is None or to_stdout else Path(json_flag)
        return cls(json_path, to_stdout, xlsx, pdf, csv_dir, focus)


def import_writers_aside(plan: OutputPlan) -> threading.Thread:
    """Start importing the writers `plan` needs (reportlab, openpyxl: a fifth of a second) in a thread, to run on
    the other core while the inputs are read (DuckDB releases the GIL as it works); join it before writing."""
    names = [name for name, path in (("pdf", plan.pdf_path), ("xlsx", plan.xlsx_path)) if path is not None]

    def load() -> None:
        for name in names:
            with suppress(Exception):  # a broken install fails again, with its message, when the writer is used
                importlib.import_module(f"auditor.report.{name}")

    thread = threading.Thread(target=load, name="import-writers", daemon=True)
    thread.start()
    return thread


def write_outputs(
    result: AuditResult,
    plan: OutputPlan,
    focus: FocusLedger | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> list[Path]:
    """Write every planned output; return the paths written (stdout not included). The FOCUS file needs the
    run's `focus` ledger (collected by `run_audit(..., on_ledger=focus)`). The outputs replace the previous files
    only when every one is written: a file that cannot be written is a one-line error naming it, and the previous
    report files stay as they were, all of them. `meanwhile` (the command's terminal summary) is called once, before
    the files are written and after the PDF has begun to render in its child process (`report.aside`), which it
    would otherwise wait for."""
    if plan.focus_path is not None and focus is None:
        raise OptionError(
            "--focus needs the input files: the FOCUS file is the ledger, which the saved result does not hold",
            "run `audit INPUTS --focus PATH` on the input files",
        )
    with all_or_nothing():
        return _write_all(result, plan, focus, meanwhile or (lambda: None))


def _write_all(
    result: AuditResult, plan: OutputPlan, focus: FocusLedger | None, meanwhile: Callable[[], object]
) -> list[Path]:
    if plan.json_to_stdout:
        sys.stdout.write(render_json(result))
        sys.stdout.flush()
    if plan.pdf_path is None:
        meanwhile()
        return _write_files(result, plan, focus)
    from auditor.report.pdf import pdf_bytes, write_pdf

    pdf_path = plan.pdf_path
    # The PDF renders in a child process while this one does the rest: `meanwhile`, then the other files.
    others = replace(plan, json_to_stdout=False, pdf_path=None)
    with render_aside(pdf_bytes, result) as collect_pdf:
        meanwhile()
        written = _write_files(result, others, focus)
        return written + _writing(pdf_path, lambda path: write_pdf(result, path, collect_pdf()))


def _write_files(result: AuditResult, plan: OutputPlan, focus: FocusLedger | None) -> list[Path]:
    """Every file of `plan` but the PDF, which `_write_all` writes."""
    written: list[Path] = []
    if plan.json_path is not None:
        written += _writing(plan.json_path, lambda path: write_json(result, path))
    if plan.xlsx_path is not None:
        from auditor.report.xlsx import write_xlsx

        written += _writing(plan.xlsx_path, lambda path: write_xlsx(result, path))
    if plan.csv_dir is not None:
        from auditor.report.csv_out import FILES, write_csv

        written += _writing(plan.csv_dir, lambda path: write_csv(result, path), FILES)
    if plan.focus_path is not None and focus is not None:
        from auditor.report.focus_out import write_focus

        ledger = focus
        written += _writing(plan.focus_path, lambda path: write_focus(ledger, path))
    return written


def _writing(path: Path, write: Callable[[Path], object], names: tuple[str, ...] = ()) -> list[Path]:
    """Call `write(path)`; the paths written (`path`, or the `names` inside it); an OSError as a one-line error."""
    try:
        write(path)
    except OSError as exc:
        raise AuditorError(
            f"cannot write {path}: {exc.strerror or exc}", "check that its directory exists and can be written to"
        ) from None
    return [path / name for name in names] if names else [path]
