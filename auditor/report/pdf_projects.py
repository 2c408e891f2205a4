"""The spend section's "By project" part: billed and list cost per project, from the result's `usage_by_project`.

Shares of list and billed cost by project (bars, as by provider), then one row per project with its vendors, model
lines, requests, tokens, billed and list cost; the rows add up to the totals (the largest projects are listed, the
others summed on one row).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from reportlab.platypus import Flowable, Table, TableStyle

from auditor.report.formatting import money, percent, tokens
from auditor.report.pdf_charts import share_chart, top_shares
from auditor.report.pdf_layout import WIDTH, block, note, para, subsection
from auditor.report.pdf_tables import FONT, Cell, Column, fitted_table, spend_total
from auditor.result import AuditResult, ProjectUsage

SHOWN = 25
"""Projects listed one by one; the others share an "other" row."""
_CHARTED = 7


@dataclass
class ProjectSpend:
    """One project's rows of `usage_by_project`, summed."""

    name: str
    providers: set[str] = field(default_factory=set)
    lines: set[tuple[str, str]] = field(default_factory=set)
    requests: int | None = None
    tokens: int = 0
    billed: Decimal | None = None
    listed: Decimal | None = None
    unpriced: bool = False

    def add(self, row: ProjectUsage) -> None:
        self.providers.add(row.provider)
        self.lines.add((row.provider, row.model_raw))
        if row.requests is not None:
            self.requests = (self.requests or 0) + row.requests
        self.tokens += row.all_tokens()
        if row.billed_cost is not None:
            self.billed = (self.billed or Decimal(0)) + row.billed_cost
        if row.list_cost is not None:
            self.listed = (self.listed or Decimal(0)) + row.list_cost
        self.unpriced |= row.model is None and row.list_cost is None and bool(row.requests or row.all_tokens())

    def size(self) -> Decimal:
        return max(self.billed or Decimal(0), self.listed or Decimal(0))


def project_spend(rows: Sequence[ProjectUsage]) -> list[ProjectSpend]:
    """Per project (usage with no project last), largest billed or list cost first."""
    by_name: dict[tuple[bool, str], ProjectSpend] = {}
    for row in rows:
        by_name.setdefault((row.attributed, row.project), ProjectSpend(row.project)).add(row)
    ranked = sorted(by_name.items(), key=lambda kv: (not kv[0][0], -kv[1].size(), kv[0][1]))
    return [spend for _, spend in ranked]


def _shares(projects: Sequence[ProjectSpend], basis: str) -> dict[str, Decimal]:
    amounts: dict[str, Decimal] = {}
    for p in projects:
        value = p.listed if basis == "list" else p.billed
        if value is not None:
            amounts[p.name] = amounts.get(p.name, Decimal(0)) + value
    return amounts


def _row(p: ProjectSpend, total_list: Decimal | None) -> list[Cell]:
    return [
        p.name,
        ", ".join(sorted(p.providers)),
        f"{len(p.lines):,}",
        tokens(p.requests),
        tokens(p.tokens),
        money(p.billed),
        money(p.listed, "unpriced" if p.unpriced else "n/a"),
        percent(float(p.listed / total_list * 100) if p.listed is not None and total_list else None),
    ]


def _other(rest: Sequence[ProjectSpend]) -> ProjectSpend:
    other = ProjectSpend(f"other ({len(rest)} projects)")
    for p in rest:
        other.providers |= p.providers
        other.lines |= p.lines
        if p.requests is not None:
            other.requests = (other.requests or 0) + p.requests
        other.tokens += p.tokens
        if p.billed is not None:
            other.billed = (other.billed or Decimal(0)) + p.billed
        if p.listed is not None:
            other.listed = (other.listed or Decimal(0)) + p.listed
        other.unpriced |= p.unpriced
    return other


def project_table(result: AuditResult) -> Table:
    """One row per project (the SHOWN largest, then the rest on one row, then usage with no project), with the
    totals as the last row."""
    named = project_spend([r for r in result.usage_by_project if r.attributed])
    unnamed = project_spend([r for r in result.usage_by_project if not r.attributed])
    t = result.totals
    shown = named if len(named) <= SHOWN + 1 else [*named[:SHOWN], _other(named[SHOWN:])]
    shown += unnamed
    columns = [
        Column("project", "flex", weight=1.4),
        Column("vendors", "flex"),
        Column("model lines"),
        Column("requests"),
        Column("tokens"),
        Column("billed"),
        Column("list cost"),
        Column("share of list"),
    ]
    total = [*spend_total(t, "", ""), "100.0%" if t.list_cost else "n/a"]
    return fitted_table(columns, [_row(p, t.list_cost) for p in shown], WIDTH, total)


_PLAIN = TableStyle(
    [("FONT", (0, 0), (-1, -1), FONT, 7), ("LEFTPADDING", (0, 0), (-1, -1), 0), ("VALIGN", (0, 0), (-1, -1), "TOP")]
)


def project_story(result: AuditResult) -> list[Flowable]:
    """The "By project" subsection: share charts, the table and what the figures are."""
    head = subsection("By project", "spend-project")
    rows = result.usage_by_project
    if not rows:
        return block([head], para("The result carries no usage by project."))
    if not any(r.attributed for r in rows):
        return block([head], para("The inputs do not attribute usage to projects: all of it is “(no project)”."))
    projects = project_spend(rows)
    half = (WIDTH - 12) / 2
    charts = Table(
        [
            [
                share_chart("Share of list cost by project", top_shares(_shares(projects, "list"), _CHARTED), half),
                share_chart("Share of billed cost by project", top_shares(_shares(projects, "billed"), _CHARTED), half),
            ]
        ],
        colWidths=[half + 12, half],
        hAlign="LEFT",
    )
    charts.setStyle(_PLAIN)
    text = (
        "Projects as the sources name them (an OpenAI project, an Anthropic workspace, a cloud account or "
        "subscription, a gateway's app or team, a coding agent's folder); “(no project)”: usage whose source names "
        "none. Billed: what the sources state was charged; list cost: the priced usage at catalog list prices on the "
        "day of use. The projects add up to the totals; the workbook's “Usage by project” sheet has them by vendor, "
        "model and month."
    )
    if result.contract_file:
        text += " Contract prices are not split by project."
    return [*block([head, charts], project_table(result)), note(text)]
