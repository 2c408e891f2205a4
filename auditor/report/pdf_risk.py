"""The PDF's risk register (per candidate: level, scores, findings with their inputs and sources) and the
compliance checklists with tick boxes (met / to verify / blocking, each with its source and as-of date).

Vendor facts are printed as the result states them: with their source and checked date, or as
"unknown: request from vendor" when the profile does not document them.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.platypus import Flowable

from auditor.report.formatting import money, ranked_scenarios
from auditor.report.pdf_layout import (
    LEVEL_COLOURS,
    LEVEL_TEXT,
    WIDTH,
    block,
    candidate_label,
    hex_colour,
    level_of,
    minor,
    note,
    para,
    section,
)
from auditor.report.pdf_tables import Cell, Column, Mark, fitted_table
from auditor.result import AuditResult, ChecklistItem, RiskFinding, Scenario

UNKNOWN = "unknown: request from vendor"
BOXES = {"met": "☑", "verify": "☐", "blocking": "☒"}
STATUS_TEXT = {"met": "met", "verify": "to verify", "blocking": "blocking"}
STATUS_COLOURS = {"met": "#2e7d32", "verify": "#c77700", "blocking": "#c62828"}
SEVERITY_COLOURS = {"blocking": "#4a148c", "red": "#c62828", "amber": "#c77700", "info": "#546e7a"}


def level_mark(s: Scenario) -> Mark:
    level = level_of(s.risk.level if s.risk else None)
    return Mark(LEVEL_TEXT[level], hex_colour(LEVEL_COLOURS[level]))


def _score(value: float | None) -> str:
    return "not assessed" if value is None else f"{value:g}"


def _input_value(value: str | int | float | None) -> str:
    if value is None:
        return "none"
    if isinstance(value, (bool, str)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:g}"


def _severity_counts(findings: Sequence[RiskFinding]) -> str:
    parts = [f"{sum(1 for f in findings if f.severity == s)} {s}" for s in ("blocking", "red", "amber", "info")]
    return ", ".join(p for p in parts if not p.startswith("0 ")) or "none"


def _checklist_counts(items: Sequence[ChecklistItem]) -> str:
    if not items:
        return "none"
    return ", ".join(f"{sum(1 for c in items if c.status == s)} {STATUS_TEXT[s]}" for s in BOXES)


def register_table(ranked: Sequence[Scenario]) -> Flowable:
    """One line per candidate: level, scores, findings and checklist counts, savings."""
    columns = [
        Column("#"),
        Column("candidate", "flex"),
        Column("level", "text", cap=60),
        Column("compliance"),
        Column("operational"),
        Column("findings", "text", cap=80),
        Column("checklist", "text", cap=80),
        Column("savings"),
    ]
    rows: list[list[Cell]] = []
    for rank, s in enumerate(ranked, start=1):
        risk = s.risk
        rows.append(
            [
                str(rank),
                (s.candidate_name, s.candidate),
                level_mark(s),
                _score(risk.compliance_score) if risk else "n/a",
                _score(risk.operational_score) if risk else "n/a",
                _severity_counts(risk.findings) if risk else "n/a",
                _checklist_counts(s.checklist),
                money(s.savings),
            ]
        )
    return fitted_table(columns, rows, WIDTH)


def findings_table(findings: Sequence[RiskFinding]) -> Flowable:
    """Each finding: severity, message (rule code in grey), the inputs it used and its sources."""
    columns = [
        Column("severity", "text", cap=60),
        Column("finding", "flex", weight=1.2),
        Column("inputs and vendor facts (source; as of)", "flex", weight=1.3),
        Column("sources", "flex", weight=1.0),
    ]
    rows: list[list[Cell]] = [
        [
            Mark(f.severity, SEVERITY_COLOURS[f.severity]),
            (f.message, f"rule {f.code}"),
            "\n".join(f"{key}: {_input_value(value)}" for key, value in f.inputs.items()) or "none",
            "\n".join(dict.fromkeys(f.sources)) or "none stated",
        ]
        for f in findings
    ]
    return fitted_table(columns, rows, WIDTH)


def risk_register(result: AuditResult) -> list[Flowable]:
    """The register: a line per candidate, then each candidate's findings."""
    heads: list[Flowable] = [section("Risk register", "risk")]
    ranked = ranked_scenarios(result)
    if not ranked:
        return block(heads, para("No scenarios were computed."))
    profile = result.data_profile
    intro = (
        f"Data profile: {', '.join(profile.data_classes)}"
        + (
            f"; allowed jurisdictions {', '.join(profile.allowed_jurisdictions)}"
            if profile.allowed_jurisdictions
            else ""
        )
        + (f"; banned providers {', '.join(profile.banned_providers)}" if profile.banned_providers else "")
        + "."
        if profile
        else "No data profile was given (--data): no compliance gate ran; levels rest on operational factors only."
    )
    story = [*block([*heads, para(intro)], register_table(ranked))]
    story.append(
        note(
            "Levels: Blocked (a hard gate, citing its rule), Red, Amber, Green. Scores run from 0 (nothing found) to "
            "100. Candidates in the order of the scenario comparison."
        )
    )
    for rank, s in enumerate(ranked, start=1):
        level = LEVEL_TEXT[level_of(s.risk.level if s.risk else None)]
        head = minor(f"{rank}. {candidate_label(s)}: {level}", f"risk-{rank}")
        if s.risk is None:
            story += block([head], para("Not rated."))
            continue
        scores = (
            f"Compliance {_score(s.risk.compliance_score)}, operational {_score(s.risk.operational_score)}; "
            f"savings {money(s.savings)}."
        )
        body = findings_table(s.risk.findings) if s.risk.findings else para("No finding.")
        story += block([head, para(scores)], body)
    story.append(
        note(f"A vendor fact the endpoint profile does not document is printed as “{UNKNOWN}” and scores as adverse.")
    )
    return story


def _same_checklist_groups(ranked: Sequence[Scenario]) -> list[tuple[list[tuple[int, Scenario]], list[ChecklistItem]]]:
    """Candidates whose checklists are identical share one table, in ranking order."""
    groups: dict[tuple[ChecklistItem, ...], list[tuple[int, Scenario]]] = {}
    for rank, s in enumerate(ranked, start=1):
        if s.checklist:
            groups.setdefault(tuple(s.checklist), []).append((rank, s))
    return [(members, list(items)) for items, members in groups.items()]


def checklist_table(items: Sequence[ChecklistItem]) -> Flowable:
    """Tick boxes grouped by regime: ☑ met, ☐ to verify, ☒ blocking, with the source and as-of date."""
    columns = [
        Column("status", "text", cap=70),
        Column("regime", "text", cap=110),
        Column("item", "flex", weight=1.0),
        Column("source", "flex", weight=1.4),
        Column("as of", "text", cap=60),
    ]
    rows: list[list[Cell]] = []
    starts: list[int] = []
    previous = None
    for i, c in enumerate(items):
        if c.regime != previous:
            starts.append(i)
        rows.append(
            [
                Mark(f"{BOXES[c.status]} {STATUS_TEXT[c.status]}", STATUS_COLOURS[c.status]),
                c.regime if c.regime != previous else "",
                c.item,
                c.source,
                c.as_of.isoformat() if c.as_of else "no vendor fact",
            ]
        )
        previous = c.regime
    return fitted_table(columns, rows, WIDTH, group_starts=starts)


def checklists(result: AuditResult) -> list[Flowable]:
    """Each candidate's checklist; candidates with identical checklists share one."""
    heads: list[Flowable] = [section("Compliance checklists", "checklists")]
    groups = _same_checklist_groups(ranked_scenarios(result))
    if not groups:
        why = "no data profile was given (--data)" if result.data_profile is None else "no regime is triggered"
        return block(heads, para(f"No checklist: {why}."))
    legend = (
        "☑ met by a documented vendor fact · ☐ to verify (the fact is unknown or partial, or it is your own step) · "
        "☒ blocking (a documented fact shows it cannot be met). Sources name the rule and the vendor fact; "
        "the as-of date is the day the vendor fact was checked."
    )
    story: list[Flowable] = []
    for n, (members, items) in enumerate(groups, start=1):
        (rank, first), others = members[0], members[1:]
        title = f"{rank}. {candidate_label(first)}"
        head = minor(title, f"checklist-{n}")
        lead = [head]
        if others:
            lead.append(para("Same checklist for " + "; ".join(f"{r}. {candidate_label(s)}" for r, s in others) + "."))
        lead.append(para(_checklist_counts(items) + "."))
        story += block([*heads, para(legend), *lead] if n == 1 else lead, checklist_table(items))
    return story
