"""The forecast and the scheduled price changes as report tables: PDF tables and XLSX rows.

Kept apart from the other renderers' tables; `pdf.py` and `xlsx.py` only place them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from reportlab.platypus import Table

from auditor.hybrid import short_name
from auditor.report.formatting import money, tokens
from auditor.report.pdf_tables import Cell, Column, fitted_table
from auditor.result import AuditResult, PriceChangeOut

# An XLSX cell value (the types `xlsx.py` formats).
SheetValue = str | int | Decimal | date | None
# The scenarios shown month by month in the PDF (every scenario is in the 12-month totals and the XLSX).
PDF_MONTHLY_SCENARIOS = 3
_RATES = ("input_mtok", "cache_read_mtok", "cache_write_mtok", "cache_write_1h_mtok", "output_mtok")
_RATE_NAMES = {"input_mtok": "input", "cache_read_mtok": "cache read", "cache_write_mtok": "cache write 5m",
               "cache_write_1h_mtok": "cache write 1h", "output_mtok": "output"}  # fmt: skip


def _names(result: AuditResult) -> dict[str, str]:
    return {s.candidate: s.candidate_name for s in result.scenarios}


def _order(result: AuditResult) -> list[str]:
    """Candidates by their 12-month projected cost, cheapest first (ties by id)."""
    refs = sorted({ref for m in result.forecast for ref in m.projected_cost})
    return sorted(refs, key=lambda ref: _total(result, ref))


def forecast_month_table(result: AuditResult, width: float) -> Table:
    """Month by month: predicted tokens, the baseline and the scenarios cheapest over the 12 months (each column
    named short: the 12-month table below gives the full names)."""
    shown = _order(result)[:PDF_MONTHLY_SCENARIOS]
    names = {s.candidate: short_name(s) for s in result.scenarios}
    columns = [Column("month", "text"), Column("tokens"), Column("baseline")]
    columns += [Column(names.get(ref, ref)) for ref in shown]
    rows: list[list[Cell]] = [
        [m.month, tokens(m.tokens), money(m.baseline_cost), *(money(m.projected_cost.get(ref)) for ref in shown)]
        for m in result.forecast
    ]
    total: list[Cell] = [
        "12 months",
        tokens(sum(m.tokens for m in result.forecast)),
        money(sum((m.baseline_cost for m in result.forecast), Decimal(0))),
        *(money(_total(result, ref)) for ref in shown),
    ]
    return fitted_table(columns, rows, width, total)


def _total(result: AuditResult, ref: str) -> Decimal:
    return sum((m.projected_cost.get(ref, Decimal(0)) for m in result.forecast), Decimal(0))


def forecast_total_table(result: AuditResult, width: float) -> Table:
    """Every scenario over the 12 forecast months."""
    baseline = sum((m.baseline_cost for m in result.forecast), Decimal(0))
    names = _names(result)
    columns = [Column("candidate", "flex"), Column("baseline"), Column("projected"), Column("savings")]
    rows: list[list[Cell]] = [
        [(names.get(ref, ref), ref), money(baseline), money(_total(result, ref)), money(baseline - _total(result, ref))]
        for ref in _order(result)
    ]
    return fitted_table(columns, rows, width)


def _rates_text(rates: dict[str, Decimal] | None) -> str:
    if not rates:
        return ""
    parts = [f"{name.removesuffix('_mtok').replace('_', ' ')} {rates[name].normalize():f}" for name in _RATES]
    return ", ".join(parts)


def price_change_table(changes: Sequence[PriceChangeOut], width: float) -> Table:
    """Each scheduled change (old → new, USD per million tokens) and each deprecation."""
    columns = [
        Column("date", "text"),
        Column("model", "flex", weight=0.8),
        Column("role", "text", cap=80),
        Column("change", "flex", weight=1.4),
    ]
    rows: list[list[Cell]] = []
    for c in changes:
        day = c.date.isoformat() if c.date else "no date"
        if c.kind == "price":
            what: Cell = (f"{c.service_tier}: {_rates_text(c.old)}", f"→ {_rates_text(c.new)}")
        else:
            what = ("deprecated", c.note)
        rows.append([day, (c.model_name, c.model), c.role, what])
    return fitted_table(columns, rows, width)


FORECAST_HEADERS_START = ["month", "tokens", "baseline"]
PRICE_CHANGE_HEADERS = [
    "date",
    "model",
    "catalog id",
    "role",
    "kind",
    "service tier",
    *(f"old {_RATE_NAMES[r]} $/Mtok" for r in _RATES),
    *(f"new {_RATE_NAMES[r]} $/Mtok" for r in _RATES),
    "note",
]
PRICE_CHANGE_RATE_COLUMNS = range(7, 7 + 2 * len(_RATES))
"""The sheet's columns (1-based) holding rates."""


def forecast_sheet(result: AuditResult) -> tuple[list[str], list[list[SheetValue]]]:
    """Headers and rows of the XLSX Forecast sheet: one column per scenario."""
    refs = _order(result)
    headers = [*FORECAST_HEADERS_START, *refs]
    rows: list[list[SheetValue]] = [
        [m.month, m.tokens, m.baseline_cost, *(m.projected_cost.get(r) for r in refs)] for m in result.forecast
    ]
    return headers, rows


def _rate(rates: dict[str, Decimal] | None, name: str) -> Decimal | None:
    """A rate in USD per million tokens (a number, shown with up to six decimals: `PRICE_CHANGE_FORMATS`)."""
    return (rates or {}).get(name)


def price_change_rows(result: AuditResult) -> list[list[SheetValue]]:
    """Rows of the XLSX Price changes sheet (rates as numbers in `PRICE_CHANGE_FORMATS`)."""
    return [
        [
            c.date,
            c.model_name,
            c.model,
            c.role,
            c.kind,
            c.service_tier,
            *(_rate(c.old, r) for r in _RATES),
            *(_rate(c.new, r) for r in _RATES),
            c.note or None,
        ]
        for c in result.price_changes
    ]
