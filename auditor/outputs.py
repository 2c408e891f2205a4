"""Which files a run writes, and writing them from the AuditResult."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from auditor.report.files import all_or_nothing
from auditor.report.json_out import render_json, write_json
from auditor.result import AuditResult

DEFAULT_STEM = "audit-report"


@dataclass(frozen=True)
class OutputPlan:
    json_path: Path | None
    json_to_stdout: bool
    xlsx_path: Path | None
    pdf_path: Path | None

    @classmethod
    def from_flags(cls, json_flag: str | None, xlsx: Path | None, pdf: Path | None, out_dir: Path) -> OutputPlan:
        """Named outputs only; with none named, the PDF and XLSX go into `out_dir`."""
        if json_flag is None and xlsx is None and pdf is None:
            return cls(None, False, out_dir / f"{DEFAULT_STEM}.xlsx", out_dir / f"{DEFAULT_STEM}.pdf")
        to_stdout = json_flag == "-"
        json_path = None if json_flag is None or to_stdout else Path(json_flag)
        return cls(json_path, to_stdout, xlsx, pdf)


def write_outputs(result: AuditResult, plan: OutputPlan) -> list[Path]:
    """Write every planned output; return the paths written (stdout not included)."""
    with all_or_nothing():  # the previous report files stay, all of them, unless every output is written
        return _write_all(result, plan)


def _write_all(result: AuditResult, plan: OutputPlan) -> list[Path]:
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
    return written
