"""The workbook's Risk, Checklist and Sources sheets, and the spend-by-month table behind its chart."""

from __future__ import annotations

from decimal import Decimal

from openpyxl.chart import BarChart, Reference
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from auditor.report.formatting import NOT_STATED, ranked_scenarios
from auditor.report.xlsx_table import MONEY_FORMAT, Cells, Row, write_table
from auditor.result import AuditResult

RISK_HEADERS = ["candidate", "name", "level", "compliance score", "operational score", "finding", "severity",
                "message", "inputs", "sources"]  # fmt: skip
CHECKLIST_HEADERS = ["candidate", "name", "regime", "item", "status", "source", "as of"]
SOURCE_HEADERS = ["kind", "what", "source", "as of"]
STATUSES = ("met", "verify", "blocking")


def _score(value: float | None) -> Decimal | str:
    return "n/a" if value is None else Decimal(repr(value)).quantize(Decimal("0.1"))


def risk_rows(result: AuditResult) -> list[Row]:
    rows: list[Row] = []
    for s in ranked_scenarios(result):
        if s.risk is None:
            continue
        head: list[object] = [s.candidate, s.candidate_name, s.risk.level, _score(s.risk.compliance_score),
                              _score(s.risk.operational_score)]  # fmt: skip
        if not s.risk.findings:
            rows.append([*head, None, None, "no finding", None, None])  # type: ignore[list-item]
        for f in s.risk.findings:
            inputs = "; ".join(f"{k}={'' if v is None else v}" for k, v in f.inputs.items())
            rows.append([*head, f.code, f.severity, f.message, inputs or None, "; ".join(f.sources) or None])  # type: ignore[list-item]
    return rows


def risk_sheet(sheet: Worksheet, result: AuditResult, cells: Cells) -> None:
    notes = ["Scores run from 0 (no exposure or risk found) to 100; n/a: no data profile was given (--data)."]
    scores = {4: "0.0", 5: "0.0"}
    write_table(sheet, RISK_HEADERS, risk_rows(result), cells, notes, widths={8: 60, 9: 50, 10: 60}, formats=scores)


def checklist_sheet(sheet: Worksheet, result: AuditResult, cells: Cells) -> None:
    """One row per candidate and item; the status is a drop-down (met, verify, blocking) to track the checks."""
    rows: list[Row] = [
        [s.candidate, s.candidate_name, item.regime, item.item, item.status, item.source, item.as_of]
        for s in ranked_scenarios(result)
        for item in s.checklist
    ]
    notes = [
        "status: met = a documented vendor fact shows it; verify = unknown or partial, or your own step; blocking = "
        "a fact shows it cannot be met. The status cells are a drop-down: update them as the checks are done."
    ]
    write_table(sheet, CHECKLIST_HEADERS, rows, cells, notes, widths={4: 60, 6: 60})
    status = DataValidation(type="list", formula1='"' + ",".join(STATUSES) + '"', allow_blank=False)
    status.error, status.errorTitle, status.showErrorMessage = "Choose met, verify or blocking.", "Status", True
    sheet.add_data_validation(status)
    if rows:
        status.add(f"E2:E{len(rows) + 1}")


def source_rows(result: AuditResult) -> list[Row]:
    """Every source the figures rest on, once: catalog, assumptions, rates, vendor facts, rules, input files."""
    seen: set[tuple[str, str, str]] = set()
    rows: list[Row] = []

    def add(kind: str, what: str, source: str, as_of: object = None) -> None:
        key = (kind, what, source)
        if source and key not in seen:
            seen.add(key)
            rows.append([kind, what, source, as_of])  # type: ignore[list-item]

    add("price catalog", "list prices of every model", result.catalog, result.as_of)
    for a in result.assumptions:
        add("assumption", a.name, a.source)
    for s in ranked_scenarios(result):
        for a in s.assumption_values:
            add("assumption", a.name, a.source)
    if result.cost_model is not None:
        for p in result.cost_model.prices:
            if "; corrected by " in p.source:
                add("price correction", p.model, p.source.split("; corrected by ", 1)[1], result.as_of)
    for s in ranked_scenarios(result):
        for f in s.risk.findings if s.risk else ():
            for source in f.sources:
                add("risk rule or vendor fact", f.code, source)
        for item in s.checklist:
            add("checklist", f"{item.regime}: {item.item}", item.source, item.as_of)
    for rate in result.fx_rates:
        add("exchange rate", f"{rate.currency} {rate.month or 'every month'}", rate.source)
    for file in result.inputs:
        add("input file", file.path, f"sha256 {file.sha256}")
    return rows


def sources_sheet(sheet: Worksheet, result: AuditResult, cells: Cells) -> None:
    write_table(sheet, SOURCE_HEADERS, source_rows(result), cells, widths={2: 50, 3: 60})


def spend_by_month(sheet: Worksheet, result: AuditResult, cells: Cells) -> None:
    """List cost by provider and month (priced usage) and the billed total, with a stacked bar chart."""
    months = sorted({m.month for m in result.usage_by_month})
    providers = sorted({m.provider for m in result.usage_by_month if m.list_cost is not None})
    listed: dict[tuple[str, str], Decimal] = {}
    billed: dict[str, Decimal] = {}
    for m in result.usage_by_month:
        if m.list_cost is not None:
            listed[(m.month, m.provider)] = listed.get((m.month, m.provider), Decimal(0)) + m.list_cost
        if m.billed_cost is not None:
            billed[m.month] = billed.get(m.month, Decimal(0)) + m.billed_cost
    headers = ["month", *(f"list cost: {p}" for p in providers), "billed (all sources that state it)"]
    # No figure is no figure: empty where a vendor has no priced usage in the month, n/a where no source states
    # what the month was billed (a $0.00 there read as free).
    rows: list[Row] = [
        [month, *(listed.get((month, p)) for p in providers), billed.get(month, NOT_STATED)] for month in months
    ]
    notes = [
        "List cost of the priced usage by vendor and month, beside what the sources say was billed. Empty: no "
        f"priced usage of the vendor in the month; {NOT_STATED}: no source states what the month was billed."
    ]
    write_table(sheet, headers, rows, cells, notes)
    if rows and providers:
        chart = BarChart()
        chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
        chart.title, chart.y_axis.title, chart.y_axis.numFmt = "List cost by vendor and month", "USD", MONEY_FORMAT
        data = Reference(sheet, min_col=2, max_col=len(providers) + 1, min_row=1, max_row=len(rows) + 1)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=len(rows) + 1))
        chart.height, chart.width = 9, 20
        sheet.add_chart(chart, f"A{len(rows) + 6}")
