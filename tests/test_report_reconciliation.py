"""Reconciliation and findings in every output: a PDF section each, an XLSX sheet each, a terminal line."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from rich.console import Console

from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.report.formatting import money
from auditor.report.pdf import write_pdf
from auditor.report.terminal import print_summary
from auditor.report.xlsx import MONEY_FORMAT, write_xlsx
from auditor.result import AuditResult
from tests.conftest import AS_OF, SAMPLES


@pytest.fixture(scope="module")
def result() -> AuditResult:
    inputs = (SAMPLES / "anthropic_cost_csv", SAMPLES / "anthropic_usage_csv", SAMPLES / "openai_usage_csv")
    found = run_audit(AuditOptions(inputs=inputs, as_of=AS_OF))
    assert found.reconciliation and found.findings
    return found


def _pdf_text(result: AuditResult, path: Path) -> str:
    write_pdf(result, path)
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(path).pages))


def test_pdf_has_a_section_each_with_every_row(result: AuditResult, tmp_path: Path) -> None:
    text = _pdf_text(result, tmp_path / "r.pdf")
    start = text.index("Billing variances from list cost to billed")  # after the contents
    middle = text.index("Waste and quick wins", start)
    assert start < middle
    reconciliation, findings = text[start:middle], text[middle:]
    for r in result.reconciliation:
        assert money(r.billed_cost) in reconciliation and money(r.unexplained) in reconciliation
    assert "discount -5.19" in reconciliation
    for f in result.findings:
        assert money(f.estimated_savings) in findings


def test_pdf_says_so_when_there_is_nothing(result: AuditResult, tmp_path: Path) -> None:
    empty = result.model_copy(update={"reconciliation": [], "findings": []})
    text = _pdf_text(empty, tmp_path / "e.pdf")
    assert "No input states a billed cost to reconcile." in text
    assert "No finding: no rule matched the priced workload." in text


def test_xlsx_has_a_sheet_each_with_exact_money(result: AuditResult, tmp_path: Path) -> None:
    write_xlsx(result, tmp_path / "r.xlsx")
    book = load_workbook(tmp_path / "r.xlsx")
    sheet = book["Reconciliation"]
    last = int(str(sheet.auto_filter.ref).rsplit(":", 1)[1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    rows = list(sheet.iter_rows(max_row=last, values_only=True))  # the table; its legend is below, outside the filter
    headers = list(rows[0])
    assert len(rows) - 1 == len(result.reconciliation)
    legend = [row[0] for row in sheet.iter_rows(min_row=last + 1, values_only=True) if row[0]]
    assert legend and str(legend[0]).startswith("Variance is billed minus list cost")
    for r, row in zip(result.reconciliation, rows[1:], strict=True):
        cells = dict(zip(headers, row, strict=True))
        assert Decimal(str(cells["billed"])) == r.billed_cost
        assert Decimal(str(cells["discount"])) == r.discount
        assert Decimal(str(cells["unexplained"])) == r.unexplained
        assert cells["explanation"] == r.explanation
    sheet = book["Findings"]
    assert sheet.max_row - 1 == len(result.findings)
    savings = [sheet.cell(row=i + 2, column=5) for i in range(len(result.findings))]
    assert [Decimal(str(c.value)) for c in savings] == [f.estimated_savings for f in result.findings]
    assert all(c.number_format == MONEY_FORMAT for c in savings)


def test_terminal_prints_one_line_of_counts(result: AuditResult) -> None:
    out = io.StringIO()
    print_summary(result, Console(file=out, width=200))
    unexplained = sum(1 for r in result.reconciliation if r.unexplained)
    total = sum((f.estimated_savings for f in result.findings), Decimal(0))
    line = next(t for t in out.getvalue().splitlines() if t.startswith("Reconciliation:"))
    assert f"{len(result.reconciliation)} model-month(s) billed, {unexplained} with unexplained" in line
    assert f"Findings: {len(result.findings)} quick win(s), estimated saving {money(total)}" in line
