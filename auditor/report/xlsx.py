"""The XLSX workbook: one table a sheet (summary, usage by model and month, scenarios, inputs, rejected rows).

Money is written as Decimal numbers; any text that could start a formula is stored with a leading quote.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from auditor.report.files import write_atomically
from auditor.report.forecast_tables import PRICE_CHANGE_HEADERS, forecast_sheet, price_change_rows
from auditor.report.formatting import (
    NOT_STATED,
    UNPRICED,
    best_scenario,
    list_cost_label,
    ranked_scenarios,
    reasons_text,
    safe_text,
    top_driver,
)
from auditor.report.reconciliation import (
    FINDING_HEADERS,
    RECONCILIATION_HEADERS,
    finding_rows,
    reconciliation_rows,
)
from auditor.result import AuditResult, MonthlyUsage, TokenCounts, UsageEntry

MONEY_FORMAT = '"$"#,##0.00'
COUNT_FORMAT = "#,##0"
PERCENT_FORMAT = "0.0%"
DATE_FORMAT = "yyyy-mm-dd"

# What a cell may hold. The type decides the format: Decimal is money, int a count, float a fraction
# shown as a percentage, date a day.
Value = str | int | float | Decimal | date | None
Row = Sequence[Value]

_TOKEN_HEADERS = ["input", "cache read", "cache write 5m", "cache write 1h", "output", "reasoning (in output)"]
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
    "month", "provider", "model", "catalog id", "requests", *_TOKEN_HEADERS, "billed", "list cost", "contract cost"
]  # fmt: skip
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
_MIN_WIDTH, _MAX_WIDTH = 8, 60


def _money_or(value: Decimal | None, missing: str) -> Value:
    return missing if value is None else value


def _fraction(percent: float | None) -> Value:
    """A percentage as the fraction a percent-formatted cell holds (86.3159 -> 0.863159, no float noise)."""
    return NOT_STATED if percent is None else float(Decimal(repr(percent)) / 100)


def _token_values(counts: TokenCounts) -> list[Value]:
    return [
        counts.input_tokens,
        counts.cache_read_tokens,
        counts.cache_write_tokens,
        counts.cache_write_1h_tokens,
        counts.output_tokens,
        counts.reasoning_tokens,
    ]


def _number_format(value: Value) -> str | None:
    if isinstance(value, Decimal):
        return MONEY_FORMAT
    if isinstance(value, int):
        return COUNT_FORMAT
    if isinstance(value, float):
        return PERCENT_FORMAT
    if isinstance(value, date):
        return DATE_FORMAT
    return None


def _shown_width(value: Value) -> int:
    """Roughly how many characters the cell shows."""
    if value is None:
        return 0
    if isinstance(value, Decimal):
        return len(f"{value:,.2f}") + 1
    if isinstance(value, int):
        return len(f"{value:,}")
    if isinstance(value, float):
        return len(f"{value:.1%}")
    if isinstance(value, date):
        return 10
    return max(len(line) for line in str(value).splitlines() or [""])


def _write_table(sheet: Worksheet, headers: Sequence[str], rows: Sequence[Row]) -> None:
    """Bold frozen header, typed and formatted cells, autofilter, column widths from the content."""
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [len(h) + 2 for h in headers]  # +2 leaves room for the filter button
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c, value=safe_text(value) if isinstance(value, str) else value)
            number_format = _number_format(value)
            if number_format is not None:
                cell.number_format = number_format
            widths[c - 1] = max(widths[c - 1], _shown_width(value))
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"


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
        m.contract_cost,
    ]


def _scenario_rows(result: AuditResult) -> list[Row]:
    return [
        [
            rank,
            s.candidate,
            s.candidate_name,
            s.baseline_cost,
            s.projected_cost,
            s.savings,
            _fraction(s.savings_pct),
            s.context_window,
            s.baseline_basis,
            s.projected_basis,
            s.low_cost,
            s.high_cost,
            top_driver(s, ""),
            s.kind,
        ]
        for rank, s in enumerate(ranked_scenarios(result), start=1)
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
    """The workbook of `result`, one table a sheet."""
    sheets: list[tuple[str, Sequence[str], Sequence[Row]]] = [
        ("Summary", ["item", "value"], _summary_rows(result)),
        ("Usage by model", _USAGE_HEADERS, [_usage_row(u) for u in result.usage]),
        ("Usage by month", _MONTH_HEADERS, [_month_row(m) for m in result.usage_by_month]),
        ("Scenarios", _SCENARIO_HEADERS, _scenario_rows(result)),
        ("Inputs", _INPUT_HEADERS, _input_rows(result)),
        ("Rejected rows", ["file", "line", "where in the document", "column", "reason"], _rejected_rows(result)),
        ("Skipped files", ["path", "reason"], [[f.path, f.reason] for f in result.skipped_files]),
        ("Notes", ["kind", "text"], _note_rows(result)),
        ("Forecast", *forecast_sheet(result)),
        ("Price changes", PRICE_CHANGE_HEADERS, price_change_rows(result)),
        ("Reconciliation", RECONCILIATION_HEADERS, reconciliation_rows(result)),
        ("Findings", FINDING_HEADERS, finding_rows(result)),
    ]
    if result.contract_file:
        sheets.append(("Commitments", _COMMITMENT_HEADERS, _commitment_rows(result)))
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, headers, rows in sheets:
        _write_table(workbook.create_sheet(title), headers, rows)
    workbook.properties.creator = "ai-spend-auditor " + result.tool_version
    workbook.properties.title = "AI spend audit"
    return workbook


def write_xlsx(result: AuditResult, path: Path) -> None:
    """Write the XLSX workbook of `result` to `path` (written atomically)."""
    workbook = build_workbook(result)
    write_atomically(path, lambda tmp: workbook.save(tmp))
