"""The XLSX workbook for finance: one table a sheet, with scenarios as live formulas over its inputs.

Summary; Assumptions and Prices (the inputs, in the input style, each a defined name); Scenarios, whose baseline
and projected costs are formulas over Scenario lines and Baseline lines (tokens per source model and price row),
Prices and Assumptions (`auditor/report/xlsx_live.py`); Usage by model, month, project and API key, Spend by month
(chart); Risk; Checklist (status drop-down); Sources; then inputs, rejected rows, notes, forecast, reconciliation and
findings.
Every formula cell is saved with the engine's figure as its cached value. Money is written as Decimal numbers;
text from inputs is always stored as text (`auditor/report/xlsx_table.py`), never as a formula.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook, load_workbook

from auditor.report import xlsx_live as live
from auditor.report.files import write_bytes_atomically
from auditor.report.forecast_tables import (
    PRICE_CHANGE_HEADERS,
    PRICE_CHANGE_RATE_COLUMNS,
    forecast_sheet,
    price_change_rows,
)
from auditor.report.formatting import (
    FORMULA_STARTS,
    NOT_STATED,
    UNPRICED,
    best_scenario,
    clean_text,
    fraction,
    list_cost_label,
    reasons_text,
    token_values,
)
from auditor.report.plan_sections import plan_sheet
from auditor.report.reconciliation import (
    FINDING_HEADERS,
    RECONCILIATION_HEADERS,
    VARIANCE_LEGEND,
    finding_rows,
    reconciliation_rows,
)
from auditor.report.xlsx_compliance import checklist_sheet, risk_sheet, sources_sheet, spend_by_month
from auditor.report.xlsx_table import (
    COUNT_FORMAT,
    MONEY_FORMAT,
    PERCENT_FORMAT,
    RATE_FORMAT,
    Cells,
    Row,
    Value,
    finish,
    write_table,
)
from auditor.result import (
    NO_KEY,
    NO_PROJECT,
    AuditResult,
    KeyUsage,
    MonthlyUsage,
    ProjectUsage,
    TokenCounts,
    UsageEntry,
)

__all__ = ["COUNT_FORMAT", "FORMULA_STARTS", "MONEY_FORMAT", "PERCENT_FORMAT", "build_workbook", "cell_text",
           "write_xlsx"]  # fmt: skip

_TOKEN_HEADERS = ["input", "cache read", "cache write 5m", "cache write 1h", "output", "reasoning (in output)"]
STATED_HEADER = "stated list (not in total)"
"""A list price a vendor's export states itself for a month in which a usage export gives the vendor's tokens: the
list cost total sets it aside (the same spend may be among those tokens)."""
_USAGE_HEADERS = [
    "provider",
    "model",
    "catalog id",
    "requests",
    *_TOKEN_HEADERS,
    "billed",
    "billed non-token",
    "BYOK upstream",
    "list cost",
    "list cost basis",
    STATED_HEADER,
    "size basis",
    "unpriced reason",
    "suggestions",
    "also written as",
    "files (tokens)",
    "files (billed)",
    "contract cost",
    "contract terms",
]
_MONTH_HEADERS = [
    "month", "provider", "model", "catalog id", "requests", *_TOKEN_HEADERS, "billed", "list cost", STATED_HEADER,
    "contract cost",
]  # fmt: skip
_ATTRIBUTED_HEADERS = [
    "month", "provider", "model", "catalog id", "requests", *_TOKEN_HEADERS, "billed", "list cost"
]  # fmt: skip
_PROJECT_NOTES = [
    "Projects as the sources name them (an OpenAI project, an Anthropic workspace, a cloud account or subscription, "
    f"a gateway's app or team, a coding agent's folder); {NO_PROJECT}: usage whose source names none. The rows add "
    "up to the Summary's billed and list cost totals.",
]
_KEY_NOTES = [
    "API keys as the sources name them (an API key's name or id; a LiteLLM key's alias, else its hash), or the "
    "identity a cloud bill names instead (an AWS IAM principal, an Azure OpenAI resource, a FOCUS resource, a "
    f"DeepSeek wallet); {NO_KEY}: usage whose source names none. The rows add up to the Summary's billed and list "
    "cost totals.",
]
_SCENARIO_HEADERS = [
    "rank", "candidate", "name", "baseline", "projected", "savings", "savings %", "context window",
    "baseline basis", "projected basis", "low", "high", "top driver", "kind",
]  # fmt: skip
_COMMITMENT_HEADERS = [
    "vendor", "period start", "period end", "committed", "spend at contract prices", "used %", "shortfall",
    "overage", "days observed", "days in period", "complete", "term",
]  # fmt: skip
_INPUT_HEADERS = [
    "path",
    "format",
    "sha256",
    "rows read",
    "rows used",
    "rows skipped",
    "rows rejected",
    "rejected rows listed",
    "skipped reasons",
    "period start",
    "period end",
]


def cell_text(text: str) -> str:
    """Text as a cell stores it: control characters replaced (it is always stored as a string cell, with the
    quote prefix when it begins like a formula: `xlsx_table.set_text`)."""
    return clean_text(text)


def _money_or(value: Decimal | None, missing: str) -> Value:
    return missing if value is None else value


def _fraction(percent: float | None) -> Value:
    value = fraction(percent)
    return NOT_STATED if value is None else value


def _token_values(counts: TokenCounts) -> list[Value]:
    return list(token_values(counts))


def _summary_rows(result: AuditResult) -> list[Row]:
    t = result.totals
    best = best_scenario(result)
    rows: list[Row] = [
        ["Period start", result.period.start],
        ["Period end", result.period.end],
        ["Days and months in", result.timezone],
        ["Prices as of", result.as_of],
        ["Currency", result.currency],
        ["Price catalog", result.catalog],
        ["Tool version", result.tool_version],
        ["Billed total", _money_or(t.billed_cost, NOT_STATED)],
        ["List cost total (priced usage)", _money_or(t.list_cost, NOT_STATED)],
        *_contract_summary(result),
        ["Requests", t.requests],
        *([f"Tokens: {name}", value] for name, value in zip(_TOKEN_HEADERS, _token_values(t), strict=True)),
        ["Unpriced models", t.unpriced_models],
        ["Unpriced tokens", t.unpriced_tokens],
        ["Unpriced requests", t.unpriced_requests],
    ]
    if best is None:
        return [*rows, ["Best saving", "no scenarios were computed"]]
    return [
        *rows,
        ["Best saving: candidate", best.candidate_name],
        ["Best saving: candidate id", best.candidate],
        ["Best saving", best.savings],
        ["Best saving %", _fraction(best.savings_pct)],
    ]


def _contract_summary(result: AuditResult) -> list[Row]:
    if not result.contract_file:
        return []
    return [["Contract file", result.contract_file], ["Cost at contract prices", result.totals.contract_cost]]


def _usage_row(u: UsageEntry) -> Row:
    return [
        u.provider,
        u.model_raw,
        u.model,
        NOT_STATED if u.requests is None else u.requests,
        *_token_values(u),
        _money_or(u.billed_cost, NOT_STATED),
        _money_or(u.billed_non_token_cost, NOT_STATED),
        _money_or(u.byok_upstream_cost, NOT_STATED),
        _money_or(u.list_cost, list_cost_label(u) or UNPRICED),
        u.list_cost_basis,
        u.stated_list_cost,
        u.size_basis,
        u.unpriced_reason,
        "; ".join(u.suggestions) or None,
        "; ".join(u.also_written_as) or None,
        "; ".join(u.token_files) or None,
        "; ".join(u.billed_files) or None,
        u.contract_cost,
        "; ".join(u.contract_terms) or None,
    ]


def _month_row(m: MonthlyUsage) -> Row:
    return [
        m.month,
        m.provider,
        m.model_raw,
        m.model,
        NOT_STATED if m.requests is None else m.requests,
        *_token_values(m),
        _money_or(m.billed_cost, NOT_STATED),
        _money_or(m.list_cost, list_cost_label(m) or UNPRICED),
        m.stated_list_cost,
        m.contract_cost,
    ]


def _attributed_row(name: str, p: ProjectUsage | KeyUsage) -> Row:
    unpriced = p.model is None and p.list_cost is None and bool(p.requests or p.all_tokens())
    return [
        name,
        p.month,
        p.provider,
        p.model_raw,
        p.model,
        NOT_STATED if p.requests is None else p.requests,
        *_token_values(p),
        _money_or(p.billed_cost, NOT_STATED),
        _money_or(p.list_cost, UNPRICED if unpriced else NOT_STATED),
    ]


def _input_rows(result: AuditResult) -> list[Row]:
    return [
        [
            f.path,
            f.format,
            f.sha256,
            f.rows_read,
            f.rows_used,
            f.rows_skipped,
            f.rows_rejected,
            len(f.rejected),
            reasons_text(f.skipped_reasons) or None,
            f.period_start,
            f.period_end,
        ]
        for f in result.inputs
    ]


def _rejected_rows(result: AuditResult) -> list[Row]:
    """One row per listed reject; a Parquet file's rows are numbered `row N` (it has no lines), a JSON
    document's records also named by their place in it."""
    return [
        [f.path, _position(r.line, f.numbered_by), r.where, r.column, r.reason]
        for f in result.inputs
        for r in f.rejected
    ]


def _position(line: int, numbered_by: str) -> int | str:
    if line <= 0:
        return "unknown"
    return line if numbered_by == "line" else f"{numbered_by} {line}"


def _note_rows(result: AuditResult) -> list[Row]:
    return [*(["note", n] for n in result.notes), *(["warning", w] for w in result.warnings)]


def _commitment_rows(result: AuditResult) -> list[Row]:
    return [
        [
            c.vendor, c.period_start, c.period_end, c.committed, c.spend, _fraction(c.used_pct), c.shortfall,
            c.overage, c.days_observed, c.days_in_period, "yes" if c.complete else "no", c.term,
        ]
        for c in result.commitments
    ]  # fmt: skip


def build_workbook(result: AuditResult) -> Workbook:
    """The workbook of `result`, as a reader of the file sees it (every cell, formulas with cached values)."""
    return load_workbook(io.BytesIO(xlsx_bytes(result)))


def build_with_cells(result: AuditResult) -> tuple[Workbook, Cells]:
    """The workbook of `result` without its cells, and the cells of each sheet (`finish` writes them in)."""
    book = Workbook()
    book.remove(book.active)
    model = result.cost_model
    summary = _summary_rows(result)
    baseline_row = len(summary) + 2 if model is not None else None
    baseline_cell = f"$B${baseline_row}" if baseline_row is not None else None
    titles = ["Summary", live.ASSUMPTIONS, live.SCENARIOS, live.PRICES, live.LINES, live.BASELINE_LINES]
    sheets = {title: book.create_sheet(title) for title in titles}
    cells = Cells(book)
    inputs = live.assumptions_sheet(book, sheets[live.ASSUMPTIONS], result, cells)
    total = Decimal(0)
    if model is not None:
        live.prices_sheet(book, sheets[live.PRICES], model, cells)
        live.lines_sheet(book, sheets[live.LINES], model, inputs, cells)
        total = live.baseline_sheet(book, sheets[live.BASELINE_LINES], model, cells)
        live.name_baseline(book, "Summary", str(baseline_cell))
    else:
        for empty, columns in ((live.PRICES, live.PRICE_HEADERS), (live.LINES, live.LINE_HEADERS),
                               (live.BASELINE_LINES, live.BASELINE_HEADERS)):  # fmt: skip
            write_table(sheets[empty], columns, [], cells, ["The result carries no cost model: nothing was priced."])
    live_rows: list[Row] = []
    if model is not None:
        live_rows = [["Baseline at as-of list prices (live)", live.baseline_formula(total)]]
        live_rows += live.summary_live_rows(result, baseline_cell, len(result.scenarios))
    write_table(sheets["Summary"], ["item", "value"], [*summary, *live_rows], cells, _SUMMARY_NOTES)
    live.scenarios_sheet(book, sheets[live.SCENARIOS], result, cells, model is not None, baseline_cell)
    tables: list[tuple[str, Sequence[str], Sequence[Row]]] = [
        ("Usage by model", _USAGE_HEADERS, [_usage_row(u) for u in result.usage]),
        ("Usage by month", _MONTH_HEADERS, [_month_row(m) for m in result.usage_by_month]),
    ]
    for title, headers, rows in tables:
        _sheet(book, title, headers, rows, cells)
    project_rows = [_attributed_row(p.project, p) for p in result.usage_by_project]
    write_table(book.create_sheet("Usage by project"), ["project", *_ATTRIBUTED_HEADERS], project_rows, cells,
                _PROJECT_NOTES)  # fmt: skip
    key_rows = [_attributed_row(k.api_key, k) for k in result.usage_by_key]
    write_table(book.create_sheet("Usage by key"), ["API key", *_ATTRIBUTED_HEADERS], key_rows, cells, _KEY_NOTES)
    spend_by_month(book.create_sheet("Spend by month"), result, cells)
    risk_sheet(book.create_sheet("Risk"), result, cells)
    checklist_sheet(book.create_sheet("Checklist"), result, cells)
    sources_sheet(book.create_sheet("Sources"), result, cells)
    tables = [
        ("Inputs", _INPUT_HEADERS, _input_rows(result)),
        ("Rejected rows", ["file", "line", "where in the document", "column", "reason"], _rejected_rows(result)),
        ("Skipped files", ["path", "reason"], [[f.path, f.reason] for f in result.skipped_files]),
        ("Notes", ["kind", "text"], _note_rows(result)),
        ("Forecast", *forecast_sheet(result)),
        ("Price changes", PRICE_CHANGE_HEADERS, price_change_rows(result)),
        ("Reconciliation", RECONCILIATION_HEADERS, reconciliation_rows(result)),
        ("Findings", FINDING_HEADERS, finding_rows(result)),
        ("Plan", *plan_sheet(result)),
    ]
    if result.contract_file:
        tables.append(("Commitments", _COMMITMENT_HEADERS, _commitment_rows(result)))
    for title, headers, rows in tables:
        _sheet(book, title, headers, rows, cells)
    book.properties.creator = "ai-spend-auditor " + result.tool_version
    book.properties.title = "AI spend audit"
    book.calculation.fullCalcOnLoad = True  # spreadsheet programs recompute on open
    return book, cells


_USAGE_NOTES = [
    "billed: what the sources state was charged (n/a: no source states it); billed non-token: the part of it that is "
    "not the tokens' charges (tools, storage, fees, credits); BYOK upstream: inference billed by its vendor through "
    "your own key, not in billed; list cost: the tokens at the catalog's list price on the day of use (unpriced: a "
    "model the catalog cannot price, never $0), or a cost export's own list price (basis: source); "
    f"{STATED_HEADER}: a list price a cost export states for a month in which a usage export gives the vendor's "
    "tokens, not counted (the same spend may be among those tokens); size basis: how request sizes are known (per "
    "request, as a bucket's average, or from a label), which chooses long-context tiers. Mtok: a million tokens.",
]
_SHEET_NOTES = {
    "Usage by model": _USAGE_NOTES,
    "Usage by month": _USAGE_NOTES,
    "Reconciliation": [VARIANCE_LEGEND, "Amounts in USD; tolerance: the rounding allowed on the row."],
}
_SHEET_FORMATS = {"Price changes": dict.fromkeys(PRICE_CHANGE_RATE_COLUMNS, RATE_FORMAT)}


def _sheet(book: Workbook, title: str, headers: Sequence[str], rows: Sequence[Row], cells: Cells) -> None:
    """A sheet of one table, with its legend (`_SHEET_NOTES`, when it has rows) and column formats."""
    notes = _SHEET_NOTES.get(title, ()) if rows else ()
    write_table(book.create_sheet(title), headers, rows, cells, notes, formats=_SHEET_FORMATS.get(title))


_SUMMARY_NOTES = [
    "Yellow cells on Assumptions and Prices are inputs: Scenarios, the live rows above and the cost lines "
    "recompute from them. Rows marked (live) are formulas; every other figure is the audit's own.",
]


def xlsx_bytes(result: AuditResult) -> bytes:
    """The workbook file's bytes, each formula cell holding the engine's figure as its cached value."""
    book, cells = build_with_cells(result)
    buffer = io.BytesIO()
    book.save(buffer)
    stamp = datetime.combine(result.as_of, time())  # the as-of day, not the clock: the same result, the same bytes
    return finish(buffer.getvalue(), book.sheetnames, cells, stamp)


def write_xlsx(result: AuditResult, path: Path) -> None:
    """Write the XLSX workbook of `result` to `path` (written atomically)."""
    write_bytes_atomically(path, xlsx_bytes(result))
