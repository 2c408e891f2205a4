"""Which files a run writes, and writing them from the AuditResult.

Every output but FOCUS is a pure function of the result, so `audit render` can write it again from a saved
JSON (`auditor.report.json_out.load_result` then `write_outputs`). The FOCUS file is the ledger, which the
result does not hold: only a run over the inputs can write it (it hands its `FocusLedger` here).
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.errors import AuditorError, OptionError
from auditor.report.aside import Ahead, child_ahead, render_aside
from auditor.report.files import all_or_nothing, is_special, write_bytes_atomically
from auditor.report.json_out import render_json, write_json
from auditor.result import AuditResult

if TYPE_CHECKING:
    from auditor.report.focus_out import FocusLedger

DEFAULT_STEM = "audit-report"
_REPORTS = {f"{DEFAULT_STEM}.{kind}" for kind in ("json", "xlsx", "pdf")}  # the names of the reports `--out` writes


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

    def _files(self) -> list[Path]:
        """The files named (the CSV folder aside)."""
        return [p for p in (self.json_path, self.xlsx_path, self.pdf_path, self.focus_path) if p is not None]

    def refuse_unwritable(self) -> None:
        """Before the run: each output has a place it can be written to, so that a long audit does not end in an
        error it could have given first. A file's path is not a directory, a folder's is not a file, and the
        nearest of its folders that exists is a directory this process can write in (the others are made)."""
        for path in self._files():
            refuse_unwritable_file(path)
        if self.csv_dir is not None:
            if self.csv_dir.exists() and not self.csv_dir.is_dir():
                raise AuditorError(f"cannot write {self.csv_dir}: it is a file, not a directory", "name a directory")
            _refuse_unwritable_folder(self.csv_dir, self.csv_dir)

    def refuse_writing_over(self, inputs: Sequence[Path]) -> None:
        """Before the run: no output goes over a file the run is given, or one under a directory it is given
        (`audit export.csv --json export.csv` wrote the result over the export), except an earlier run's report
        of the default name (`audit .` run again where it wrote its reports)."""
        written = self._files()
        if self.csv_dir is not None:
            from auditor.report.csv_out import FILES

            written += [self.csv_dir / name for name in FILES]
        for path in written:
            if not path.is_file():
                continue
            real = path.resolve()
            for given in inputs:
                if given.is_file() and path.samefile(given):
                    where = "it is one of the inputs"
                elif given.is_dir() and real.is_relative_to(given.resolve()) and path.name not in _REPORTS:
                    where = f"it is in {given}, a directory given as input"
                else:
                    continue
                raise AuditorError(
                    f"cannot write {path}: {where}; the audit never writes over its inputs",
                    "write the outputs elsewhere, e.g. with --out reports/",
                )


Aheads = dict[str, Ahead[AuditResult]]
"""The children forked ahead to render (`writers_ahead`), by writer: "pdf"."""


def _prepare_pdf() -> None:
    from auditor.report.pdf_fonts import load_fonts

    importlib.import_module("auditor.report.pdf")
    load_fonts()


def _pdf_bytes(result: AuditResult) -> bytes:
    from auditor.report.pdf import pdf_bytes

    return pdf_bytes(result)


def _xlsx_bytes(result: AuditResult) -> bytes:
    from auditor.report.xlsx import xlsx_bytes

    return xlsx_bytes(result)


_RENDERED_ASIDE = {"pdf": _pdf_bytes, "xlsx": _xlsx_bytes}
"""The writers rendered in a child process."""

_PREPARED_AHEAD = {"pdf": _prepare_pdf}
"""The writers whose child is forked before the run, with what it prepares while the inputs are read: the PDF's
imports and fonts (0.3 s of CPU), its render being the samples' longest. The workbook's child is forked when the
files are written and imports openpyxl then (0.1 s, beside the PDF's longer render); prepared ahead as well, it
took the core DuckDB's scan uses (the samples' whole run was 0.09–0.16 s slower, 14 pairs twice)."""


def _rendered(plan: OutputPlan) -> dict[str, Path]:
    """The files of `plan` rendered in a child process, by writer."""
    paths = {"pdf": plan.pdf_path, "xlsx": plan.xlsx_path}
    return {name: path for name, path in paths.items() if path is not None}


@contextmanager
def writers_ahead(plan: OutputPlan) -> Iterator[Aheads]:
    """For the PDF `plan` has, a child forked now: it imports its writer and reads the fonts while the inputs are
    read, then renders the result `write_outputs` sends it (`report.aside.child_ahead`). Left out where the child
    cannot be forked."""
    with ExitStack() as stack:
        aheads: Aheads = {}
        for name in [name for name in _rendered(plan) if name in _PREPARED_AHEAD]:
            ahead = stack.enter_context(child_ahead(_PREPARED_AHEAD[name], _RENDERED_ASIDE[name]))
            if ahead is not None:
                aheads[name] = ahead
        yield aheads


def import_writers_aside(plan: OutputPlan, aheads: Aheads) -> threading.Thread:
    """Where no child was forked ahead (`writers_ahead`: none is where a fork was not safe when the run began, and
    a plan without a PDF has none), start importing the writers `plan` needs (reportlab, openpyxl: a fifth of a
    second) in a thread, to run on the other core while the inputs are read (DuckDB releases the GIL as it works);
    join it before writing. A writer rendered by a child forked as the files are written is then imported by the
    child's parent already (the fork copies it)."""
    names = [] if aheads else list(_rendered(plan))

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
    aheads: Aheads | None = None,
) -> list[Path]:
    """Write every planned output; return the paths written (stdout not included). The FOCUS file needs the
    run's `focus` ledger (collected by `run_audit(..., on_ledger=focus)`). The outputs replace the previous files
    only when every one is written: a file that cannot be written is a one-line error naming it, and the previous
    report files stay as they were, all of them. `meanwhile` (the command's terminal summary) is called once, before
    the files are written and after the PDF has begun to render in its child process (`report.aside`), which it
    would otherwise wait for. `aheads` (`writers_ahead`) are the children forked before to render the PDF and the
    workbook."""
    if plan.focus_path is not None and focus is None:
        raise OptionError(
            "--focus needs the input files: the FOCUS file is the ledger, which the saved result does not hold",
            "run `audit INPUTS --focus PATH` on the input files",
        )
    with all_or_nothing():
        return _write_all(result, plan, focus, meanwhile or (lambda: None), aheads or {})


def _write_all(
    result: AuditResult, plan: OutputPlan, focus: FocusLedger | None, meanwhile: Callable[[], object], aheads: Aheads
) -> list[Path]:
    if plan.json_to_stdout:
        sys.stdout.write(render_json(result))
        sys.stdout.flush()
    # The PDF and the workbook render in child processes (two cores: the PDF takes as long as all the rest) while
    # this one does the rest: `meanwhile`, then the other files. Their writers are imported here only if this
    # process renders them after all.
    rendered = _rendered(plan)
    with ExitStack() as stack:
        collect = {
            name: stack.enter_context(render_aside(_RENDERED_ASIDE[name], result, aheads.get(name)))
            for name in rendered
        }
        meanwhile()
        # This process's own files first, while the children render; the paths in the order the files are named.
        json = writing(plan.json_path, lambda path: write_json(result, path)) if plan.json_path else []
        csv: list[Path] = []
        if plan.csv_dir is not None:
            from auditor.report.csv_out import FILES, write_csv

            csv = writing(plan.csv_dir, lambda path: write_csv(result, path), FILES)
        focus_file: list[Path] = []
        if plan.focus_path is not None and focus is not None:
            from auditor.report.focus_out import write_focus

            ledger = focus
            focus_file = writing(plan.focus_path, lambda path: write_focus(ledger, path))
        files = {name: writing(path, partial(_write_collected, collect[name])) for name, path in rendered.items()}
        return json + files.get("xlsx", []) + csv + focus_file + files.get("pdf", [])


def _write_collected(collect: Callable[[], bytes], path: Path) -> None:
    write_bytes_atomically(path, collect())


_UNWRITABLE_HINT = "check that its directory exists and can be written to"


def refuse_unwritable_file(path: Path) -> None:
    """A file cannot be written at `path`: it is a directory, or the nearest of its folders that exists is not a
    directory this process can write in. A device or a pipe (`/dev/stdout`) is written to as it is: its folder
    is not written in."""
    if is_special(path):
        return
    if path.is_dir():
        raise AuditorError(f"cannot write {path}: it is a directory", "name a file, or the folder with --out")
    _refuse_unwritable_folder(path, path.parent)


def _refuse_unwritable_folder(path: Path, folder: Path) -> None:
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise AuditorError(f"cannot write {path}: {existing} is not a directory", _UNWRITABLE_HINT)
    if not os.access(existing, os.W_OK | os.X_OK):
        raise AuditorError(f"cannot write {path}: {existing} cannot be written to", _UNWRITABLE_HINT)


def writing(path: Path, write: Callable[[Path], object], names: tuple[str, ...] = ()) -> list[Path]:
    """Call `write(path)`; the paths written (`path`, or the `names` inside it); an OSError as a one-line error."""
    try:
        write(path)
    except OSError as exc:
        raise AuditorError(f"cannot write {path}: {exc.strerror or exc}", _UNWRITABLE_HINT) from None
    return [path / name for name in names] if names else [path]
