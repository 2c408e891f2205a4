"""Reconciliation and findings as the reports show them: PDF tables and XLSX rows."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from reportlab.platypus import Table

from auditor.report.formatting import money
from auditor.report.pdf_tables import Cell, Column, fitted_table
from auditor.result import AuditResult, Finding, ReconciliationRow

RECONCILIATION_HEADERS = [
    "month",
    "provider",
    "model",
    "catalog id",
    "billed",
    "list cost",
    "source list",
    "variance",
    "discount",
    "credits",
    "tier",
    "batch",
    "BYOK upstream",
    "unpriced",
    "coverage",
    "rounding",
    "unexplained",
    "tolerance",
    "explanation",
]
VARIANCE_LEGEND = (
    "Variance is billed minus list cost (below zero: billed below list), split into parts that add up to it. "
    "Credits: the bill's credit and refund lines (by their type where the bill says it, else lines below zero). "
    "Discount: its discount lines, and with batch and tier, billed below the list price the bill states itself "
    "(source list); BYOK upstream: inference billed by its vendor through your own key, which the gateway's bill "
    "leaves out; unpriced: billed with no list price to compare; coverage: charges and tokens of different days; "
    "rounding: within the tolerance, half a cent per billed line (at most 0.1% of billed). What no part explains is "
    "unexplained."
)
"""What the reconciliation's parts mean: the report's note under its bridge, the workbook's under its sheet."""
FINDING_HEADERS = ["kind", "provider", "model", "target", "estimated savings", "evidence", "assumption"]
_PARTS = ("discount", "credits", "tier", "batch", "byok_upstream", "unpriced", "coverage", "rounding")
KIND_TEXT = {
    "cache_not_used": "cache not used",
    "batch_eligible": "batch-eligible",
    "premium_small_requests": "premium model, small requests",
    "peak_shift": "peak-hour traffic",
}


def evidence_text(finding: Finding) -> str:
    """The evidence as a reader takes it: amounts (`_usd`) in dollars and cents, shares (`_share`) in percent."""
    said = []
    for key, value in finding.evidence.items():
        if key.endswith("_usd"):
            key, value = key.removesuffix("_usd"), money(Decimal(value))
        elif key.endswith("_share"):
            value = f"{Decimal(value) * 100:.1f}%"
        elif value.isdigit():
            value = f"{int(value):,}"
        said.append(f"{key.replace('_', ' ')} {value}")
    return "; ".join(said)


def reconciliation_rows(result: AuditResult) -> list[list[str | Decimal | None]]:
    """XLSX rows (money as Decimal, None where there is no figure)."""
    return [
        [
            r.month,
            r.provider,
            r.model_raw,
            r.model,
            r.billed_cost,
            r.list_cost,
            r.source_list_cost,
            r.variance,
            *(getattr(r, p) for p in _PARTS),
            r.unexplained,
            r.tolerance,
            r.explanation,
        ]
        for r in result.reconciliation
    ]


def finding_rows(result: AuditResult) -> list[list[str | Decimal | None]]:
    return [
        [f.kind, f.provider, f.model, f.target, f.estimated_savings, evidence_text(f), f.assumption]
        for f in result.findings
    ]


def reconciliation_table(rows: Sequence[ReconciliationRow], width: float) -> Table:
    """Billed against list per month and model, with what explains the variance."""
    columns = [
        Column("month", "text"),
        Column("model", "flex", min_width=110),
        Column("billed"),
        Column("list cost"),
        Column("variance"),
        Column("explained by", "flex", weight=1.4, min_width=110),
        Column("unexplained"),
    ]
    cells: list[list[Cell]] = [
        [
            r.month,
            (r.model_raw, r.model or f"{r.provider}, not in the price catalog"),
            money(r.billed_cost),
            money(r.list_cost, "no list price"),
            money(r.variance, "—"),
            r.explanation,
            money(r.unexplained),
        ]
        for r in rows
    ]
    return fitted_table(columns, cells, width)


def findings_table(findings: Sequence[Finding], width: float) -> Table:
    """Each finding with its evidence, saving and assumption, largest saving first."""
    columns = [
        Column("finding", "text", cap=90),
        Column("model", "flex", min_width=100),
        Column("evidence", "flex", weight=1.3, min_width=110),
        Column("estimated saving"),
    ]
    cells: list[list[Cell]] = [
        [
            KIND_TEXT[f.kind],
            (f.model, f"to {f.target}") if f.target else f.model,
            (evidence_text(f), f.assumption),
            money(f.estimated_savings),
        ]
        for f in findings
    ]
    return fitted_table(columns, cells, width)


_PART_TEXT = {
    "discount": "discount (discount lines, or below the bill's own list price)",
    "credits": "credits and refunds",
    "tier": "flex, priority or fast tier",
    "batch": "batch tier",
    "byok_upstream": "billed upstream through your own key (BYOK)",
    "unpriced": "billed with no list price to compare",
    "coverage": "coverage (charges and tokens of different days)",
    "rounding": "rounding",
    "unexplained": "unexplained",
}


def variance_bridge_table(rows: Sequence[ReconciliationRow], width: float) -> Table:
    """From list cost to billed: list cost + each part of the variance = billed, over every reconciled line."""
    listed = sum((r.list_cost for r in rows if r.list_cost is not None), Decimal(0))
    billed = sum((r.billed_cost for r in rows), Decimal(0))
    cells: list[list[Cell]] = [
        ["list cost of the billed lines", money(listed), f"{sum(1 for r in rows if r.list_cost is not None):,}"]
    ]
    for part in (*_PARTS, "unexplained"):
        amount = sum((getattr(r, part) for r in rows), Decimal(0))
        count = sum(1 for r in rows if getattr(r, part))
        cells.append([f"+ {_PART_TEXT[part]}", money(amount), f"{count:,}"])
    total: list[Cell] = ["= billed", money(billed), f"{len(rows):,}"]
    columns = [Column("from list cost to billed", "flex"), Column("amount"), Column("model-months")]
    return fitted_table(columns, cells, width, total)


def findings_groups(findings: Sequence[Finding], width: float) -> list[tuple[str, str, Table]]:
    """Findings grouped by kind and assumption (stated once per group), each group's table largest saving first."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in sorted(findings, key=lambda f: (-f.estimated_savings, f.provider, f.model)):
        groups.setdefault((f.kind, f.assumption), []).append(f)
    order = sorted(groups.items(), key=lambda kv: -sum((f.estimated_savings for f in kv[1]), Decimal(0)))
    columns = [
        Column("model", "flex", min_width=100),
        Column("evidence", "flex", weight=1.4, min_width=110),
        Column("estimated saving"),
    ]
    out = []
    for (kind, assumption), members in order:
        total = sum((f.estimated_savings for f in members), Decimal(0))
        rows: list[list[Cell]] = [
            [(f.model, f"to {f.target}") if f.target else f.model, evidence_text(f), money(f.estimated_savings)]
            for f in members
        ]
        title = f"{KIND_TEXT[kind]}: {len(members)} finding(s), {money(total)}"
        out.append((title, assumption, fitted_table(columns, rows, width)))
    return out
