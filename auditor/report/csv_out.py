"""CSV outputs (`--csv DIR`): usage by model, by month, by project and by API key, scenarios and rejected rows, one
file each.

Made for machines and spreadsheets alike: UTF-8 without a byte-order mark, a header row, the columns in a
fixed order (the lists below), CRLF line ends as RFC 4180 has them. Money is the exact decimal string of the
JSON (`12.345678901`, never rounded to cents, never exponent notation), in the result's currency; tokens and
requests are integers; an unknown figure is an empty cell (never 0). Text cells go through `safe_text`, so a
name from an input file that begins with `=`, `+`, `-`, `@`, tab or carriage return is stored with a leading
quote and a spreadsheet shows it instead of running it; numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from auditor.report.files import write_bytes_atomically
from auditor.report.formatting import safe_text, token_values, top_driver
from auditor.result import AuditResult, KeyUsage, MonthlyUsage, ProjectUsage, TokenCounts, UsageEntry

Cell = str | int | float | Decimal | date | None

TOKEN_HEADERS = [
    "input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens", "output_tokens",
    "reasoning_tokens",
]  # fmt: skip
USAGE_HEADERS = [
    "provider", "model_raw", "model", "requests", *TOKEN_HEADERS, "billed_cost", "billed_non_token_cost",
    "byok_upstream_cost", "list_cost", "list_cost_basis", "stated_list_cost", "contract_cost", "size_basis",
    "unpriced_reason", "also_written_as", "token_files", "billed_files",
]  # fmt: skip
MONTH_HEADERS = [
    "month", "provider", "model_raw", "model", "requests", *TOKEN_HEADERS, "billed_cost", "list_cost",
    "stated_list_cost", "contract_cost",
]  # fmt: skip
ATTRIBUTED_HEADERS = [
    "attributed", "month", "provider", "model_raw", "model", "requests", *TOKEN_HEADERS, "billed_cost", "list_cost",
]  # fmt: skip
PROJECT_HEADERS = ["project", *ATTRIBUTED_HEADERS]
KEY_HEADERS = ["api_key", *ATTRIBUTED_HEADERS]
SCENARIO_HEADERS = [
    "rank", "candidate", "candidate_name", "kind", "baseline_cost", "projected_cost", "savings", "savings_pct",
    "low_cost", "high_cost", "top_driver", "context_window", "baseline_basis", "projected_basis", "risk_level",
]  # fmt: skip
REJECTED_HEADERS = ["file", "line", "numbered_by", "where", "column", "reason"]

FILES = (
    "usage.csv", "usage_by_month.csv", "usage_by_project.csv", "usage_by_key.csv", "scenarios.csv", "rejected_rows.csv"
)  # fmt: skip
"""The files `write_csv` writes into its directory, in this order."""


def cell_text(value: Cell) -> str:
    """A cell as written: money (Decimal) exact in plain notation, ints as digits, floats in their shortest
    round-trip form, days ISO, None empty, text neutralised against formulas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    return safe_text(value)


def _tokens(counts: TokenCounts) -> list[Cell]:
    return list(token_values(counts))


def _joined(names: list[str]) -> str | None:
    return "; ".join(names) or None


def usage_rows(result: AuditResult) -> list[list[Cell]]:
    return [_usage_row(u) for u in result.usage]


def _usage_row(u: UsageEntry) -> list[Cell]:
    return [
        u.provider, u.model_raw, u.model, u.requests, *_tokens(u), u.billed_cost, u.billed_non_token_cost,
        u.byok_upstream_cost, u.list_cost, u.list_cost_basis, u.stated_list_cost, u.contract_cost, u.size_basis,
        u.unpriced_reason, _joined(u.also_written_as), _joined(u.token_files), _joined(u.billed_files),
    ]  # fmt: skip


def month_rows(result: AuditResult) -> list[list[Cell]]:
    return [_month_row(m) for m in result.usage_by_month]


def _month_row(m: MonthlyUsage) -> list[Cell]:
    return [m.month, m.provider, m.model_raw, m.model, m.requests, *_tokens(m), m.billed_cost, m.list_cost,
            m.stated_list_cost, m.contract_cost]  # fmt: skip


def project_rows(result: AuditResult) -> list[list[Cell]]:
    return [_attributed_row(p.project, p) for p in result.usage_by_project]


def key_rows(result: AuditResult) -> list[list[Cell]]:
    return [_attributed_row(k.api_key, k) for k in result.usage_by_key]


def _attributed_row(name: str, p: ProjectUsage | KeyUsage) -> list[Cell]:
    return [name, p.attributed, p.month, p.provider, p.model_raw, p.model, p.requests, *_tokens(p), p.billed_cost,
            p.list_cost]  # fmt: skip


def scenario_rows(result: AuditResult) -> list[list[Cell]]:
    """Scenarios in the result's order (savings, largest first), ranked from 1."""
    return [
        [
            rank, s.candidate, s.candidate_name, s.kind, s.baseline_cost, s.projected_cost, s.savings, s.savings_pct,
            s.low_cost, s.high_cost, top_driver(s, "") or None, s.context_window, s.baseline_basis,
            s.projected_basis, s.risk.level if s.risk else None,
        ]
        for rank, s in enumerate(result.scenarios, start=1)
    ]  # fmt: skip


def rejected_rows(result: AuditResult) -> list[list[Cell]]:
    """Every listed rejected row, by file in the result's order; `line` 0 (empty) when it could not be located."""
    return [
        [f.path, r.line or None, f.numbered_by, r.where or None, r.column, r.reason]
        for f in result.inputs
        for r in f.rejected
    ]


def render_csv(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    """The CSV text of a table (header row first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"a row of {len(row)} cells under {len(headers)} headers")
        writer.writerow([cell_text(value) for value in row])
    return buffer.getvalue()


def tables(result: AuditResult) -> dict[str, str]:
    """File name → CSV text, in `FILES` order."""
    return {
        "usage.csv": render_csv(USAGE_HEADERS, usage_rows(result)),
        "usage_by_month.csv": render_csv(MONTH_HEADERS, month_rows(result)),
        "usage_by_project.csv": render_csv(PROJECT_HEADERS, project_rows(result)),
        "usage_by_key.csv": render_csv(KEY_HEADERS, key_rows(result)),
        "scenarios.csv": render_csv(SCENARIO_HEADERS, scenario_rows(result)),
        "rejected_rows.csv": render_csv(REJECTED_HEADERS, rejected_rows(result)),
    }


def write_csv(result: AuditResult, directory: Path) -> list[Path]:
    """Write the CSV files into `directory` (created if needed), each atomically; return their paths."""
    written = []
    for name, text in tables(result).items():
        path = directory / name
        write_text_atomically(path, text)
        written.append(path)
    return written


def write_text_atomically(path: Path, text: str) -> None:
    """UTF-8 text, newlines as given (no translation), through a temporary file renamed into place."""
    write_bytes_atomically(path, text.encode("utf-8"))
