"""Which files a run writes, and writing them from the AuditResult.

Every output but FOCUS is a pure function of the result, so `audit render` can write it again from a saved
JSON (`auditor.report.json_out.load_result` then `write_outputs`). The FOCUS file is the ledger, which the
result does not hold: only a run over the inputs can write it (it hands its `FocusLedger` here).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.errors import OptionError
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
        out_dir: Path,
        csv_dir: Path | None = None,
        focus: Path | None = None,
    ) -> OutputPlan:
        """Named outputs only; with none named, the PDF and XLSX go into `out_dir`."""
        if json_flag is None and xlsx is None and pdf is None and csv_dir is None and focus is None:
            return cls(None, False, out_dir / f"{DEFAULT_STEM}.xlsx", out_dir / f"{DEFAULT_STEM}.pdf")
        to_stdout = json_flag == "-"
        json_path = None if json_flag is None or to_stdout else Path(json_flag)
        return cls(json_path, to_stdout, xlsx, pdf, csv_dir, focus)


def write_outputs(result: AuditResult, plan: OutputPlan, focus: FocusLedger | None = None) -> list[Path]:
    """Write every planned output; return the paths written (stdout not included). The FOCUS file needs the
    run's `focus` ledger (collected by `run_audit(..., on_ledger=focus)`)."""
    if plan.focus_path is not None and focus is None:
        raise OptionError(
            "--focus needs the input files: the FOCUS file is the ledger, which the saved result does not hold",
            "run `audit INPUTS --focus PATH` on the input files",
        )
    written: list[Path] = []
    if plan.json_to_stdout:
        sys.stdout.write(render_json(result))
        sys.stdout.flush()
    if plan.json_path is not None:
        write_json(result, plan.json_path)
        written.append(plan.json_path)
    if plan.xlsx_path is not None:
        from auditor.report.xlsx import write_xlsx

        write_xlsx(result, plan.xlsx_path)
        written.append(plan.xlsx_path)
    if plan.pdf_path is not None:
        from auditor.report.pdf import write_pdf

        write_pdf(result, plan.pdf_path)
        written.append(plan.pdf_path)
    if plan.csv_dir is not None:
        from auditor.report.csv_out import write_csv

        written += write_csv(result, plan.csv_dir)
    if plan.focus_path is not None and focus is not None:
        from auditor.report.focus_out import write_focus

        write_focus(focus, plan.focus_path)
        written.append(plan.focus_path)
    return written
