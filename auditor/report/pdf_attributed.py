"""The spend section's "By project" and "By API key" parts: billed and list cost per project (`usage_by_project`)
and per API key (`usage_by_key`).

Each: shares of list and billed cost (bars, as by provider), then one row per project or key with its vendors, model
lines, requests, tokens, billed and list cost; the rows add up to the totals (the largest are listed, the others
summed on one row).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from reportlab.platypus import Flowable, Table, TableStyle

from auditor.report.formatting import money, percent, tokens
from auditor.report.pdf_charts import share_chart, top_shares
from auditor.report.pdf_fonts import FONT
from auditor.report.pdf_layout import WIDTH, block, note, para, subsection
from auditor.report.pdf_tables import SPEND_COLUMNS, Cell, Column, fitted_table, spend_total
from auditor.result import NO_KEY, NO_PROJECT, AuditResult, KeyUsage, ProjectUsage

SHOWN = 25
"""Projects (or keys) listed one by one; the others share an "other" row."""
_CHARTED = 7
Attributed = ProjectUsage | KeyUsage


@dataclass(frozen=True)
class Attribution:
    """What a part is by: its rows in the result, and the words for it."""

    title: str
    anchor: str
    singular: str
    plural: str
    rows: Callable[[AuditResult], Sequence[Attributed]]
    field: str
    """The rows' field that names the project or key."""
    none_named: str
    about: str
    sheet: str


@dataclass
class Spend:
    """One project's (or key's) rows of `usage_by_project` (or `usage_by_key`), summed."""

    name: str
    providers: set[str] = field(default_factory=set)
    lines: set[tuple[str, str]] = field(default_factory=set)
    requests: int | None = None
    tokens: int = 0
    billed: Decimal | None = None
    listed: Decimal | None = None
    unpriced: bool = False

    def add(self, row: Attributed) -> None:
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


def spend_by(rows: Sequence[Attributed], by: Attribution) -> list[Spend]:
    """Per project or key (usage with none last), largest billed or list cost first."""
    by_name: dict[tuple[bool, str], Spend] = {}
    for row in rows:
        name = str(getattr(row, by.field))
        by_name.setdefault((row.attributed, name), Spend(name)).add(row)
    ranked = sorted(by_name.items(), key=lambda kv: (not kv[0][0], -kv[1].size(), kv[0][1]))
    return [spend for _, spend in ranked]


def _shares(projects: Sequence[Spend], basis: str) -> dict[str, Decimal]:
    amounts: dict[str, Decimal] = {}
    for p in projects:
        value = p.listed if basis == "list" else p.billed
        if value is not None:
            amounts[p.name] = amounts.get(p.name, Decimal(0)) + value
    return amounts


def _row(p: Spend, total_list: Decimal | None) -> list[Cell]:
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


def _other(rest: Sequence[Spend], by: Attribution) -> Spend:
    other = Spend(f"other ({len(rest):,} {by.plural})")
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


def attributed_table(result: AuditResult, by: Attribution) -> Table:
    """One row per project or key (the SHOWN largest, then the rest on one row, then usage with none), with the
    totals as the last row."""
    rows = by.rows(result)
    named = spend_by([r for r in rows if r.attributed], by)
    unnamed = spend_by([r for r in rows if not r.attributed], by)
    t = result.totals
    shown = named if len(named) <= SHOWN + 1 else [*named[:SHOWN], _other(named[SHOWN:], by)]
    shown += unnamed
    columns = [Column(by.singular, "flex", weight=1.4), Column("vendors", "flex"), *SPEND_COLUMNS]
    total = [*spend_total(t, "", ""), "100.0%" if t.list_cost else "n/a"]
    return fitted_table(columns, [_row(p, t.list_cost) for p in shown], WIDTH, total)


_PLAIN = TableStyle(
    [("FONT", (0, 0), (-1, -1), FONT, 7), ("LEFTPADDING", (0, 0), (-1, -1), 0), ("VALIGN", (0, 0), (-1, -1), "TOP")]
)


def attributed_story(result: AuditResult, by: Attribution) -> list[Flowable]:
    """The "By project" or "By API key" subsection: share charts, the table and what the figures are."""
    head = subsection(by.title, by.anchor)
    rows = by.rows(result)
    if not rows:
        return block([head], para(f"The result carries no usage by {by.singular}."))
    if not any(r.attributed for r in rows):
        return block([head], para(f"The inputs do not attribute usage to {by.plural}: all of it is “{by.none_named}”."))
    spends = spend_by(rows, by)
    half = (WIDTH - 12) / 2
    charts = Table(
        [
            [
                share_chart(
                    f"Share of {basis} cost by {by.singular}", top_shares(_shares(spends, basis), _CHARTED), half
                )
                for basis in ("list", "billed")
            ]
        ],
        colWidths=[half + 12, half],
        hAlign="LEFT",
    )
    charts.setStyle(_PLAIN)
    text = (
        f"{by.about} Billed: what the sources state was charged; list cost: the priced usage at catalog list prices "
        f"on the day of use. The {by.plural} add up to the totals; the workbook's “{by.sheet}” sheet has them by "
        "vendor, model and month."
    )
    if result.contract_file:
        text += f" Contract prices are not split by {by.singular}."
    return [*block([head, charts], attributed_table(result, by)), note(text)]


BY_PROJECT = Attribution(
    title="By project",
    anchor="spend-project",
    singular="project",
    plural="projects",
    rows=lambda result: result.usage_by_project,
    field="project",
    none_named=NO_PROJECT,
    about="Projects as the sources name them (an OpenAI project, an Anthropic workspace, a cloud account or "
    "subscription, a gateway's app or team, a coding agent's folder); “(no project)”: usage whose source names none.",
    sheet="Usage by project",
)
BY_KEY = Attribution(
    title="By API key",
    anchor="spend-key",
    singular="key",
    plural="keys",
    rows=lambda result: result.usage_by_key,
    field="api_key",
    none_named=NO_KEY,
    about="Keys as the sources name them: an API key's name or id (OpenAI, Anthropic, OpenRouter, DeepSeek; a "
    "LiteLLM key's alias, else its hash), or the identity a cloud bill names instead (an AWS IAM principal, an Azure "
    "OpenAI resource, a FOCUS resource, a DeepSeek wallet); “(no key)”: usage whose source names none.",
    sheet="Usage by key",
)
