"""The PDF report's first pages: the cover, the one-page executive summary and what it picks from the result
(best safe saving, overall risk, the top three recommendations)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from reportlab.lib import colors
from reportlab.platypus import Flowable, KeepInFrame, PageBreak, Paragraph, Spacer, Table, TableStyle

from auditor.report.formatting import money, percent, period_text, ranked_scenarios, tokens
from auditor.report.pdf_charts import savings_range
from auditor.report.pdf_fonts import FONT, FONT_BOLD
from auditor.report.pdf_layout import (
    ACCENT,
    BODY,
    H1,
    HEIGHT,
    LABEL,
    LEVEL_COLOURS,
    LEVEL_TEXT,
    SMALL,
    SUBTITLE,
    TITLE,
    TITLE_STYLE,
    WIDTH,
    Heading,
    candidate_label,
    hex_colour,
    level_of,
    note,
    para,
)
from auditor.report.pdf_tables import HEAD_BG, Cell, Column, Mark, esc, fitted_table
from auditor.report.reconciliation import KIND_TEXT
from auditor.result import AuditResult, Scenario, is_unpriced

_COVER_FILES = 12  # input files named on the cover; the appendix lists them all


SAFE_LEVELS = ("green", "amber")


def best_safe_scenario(result: AuditResult) -> Scenario | None:
    """The scenario with the largest savings rated green or amber (an unrated one counts as safe); when every
    candidate is red or blocked, the largest saving not blocked (its red rating is shown with it); None when all
    are blocked."""
    ranked = ranked_scenarios(result)
    safe = next((s for s in ranked if s.risk is None or s.risk.level in SAFE_LEVELS), None)
    return safe or next((s for s in ranked if s.risk is not None and s.risk.level != "blocked"), None)


def _safe_title(scenario: Scenario) -> str:
    red = scenario.risk is not None and scenario.risk.level not in SAFE_LEVELS
    return "Best saving not blocked" if red else "Best safe saving"


def level_counts(result: AuditResult) -> str:
    """`3 blocked, 8 red, 5 amber, 2 green` over the rated scenarios."""
    levels = [s.risk.level for s in result.scenarios if s.risk is not None]
    return ", ".join(f"{levels.count(level)} {level}" for level in ("blocked", "red", "amber", "green"))


def billed_vs_list(result: AuditResult) -> tuple[Decimal, Decimal, int] | None:
    """Billed and list cost of the reconciled model-months that have both, and how many there are."""
    rows = [r for r in result.reconciliation if r.list_cost is not None]
    if not rows:
        return None
    billed = sum((r.billed_cost for r in rows), Decimal(0))
    listed = sum((r.list_cost or Decimal(0) for r in rows), Decimal(0))
    return billed, listed, len(rows)


@dataclass(frozen=True)
class Recommendation:
    """One action, the amount it concerns (to rank them) and why."""

    impact: Decimal
    text: str


def recommendations(result: AuditResult) -> list[Recommendation]:
    """Candidate actions ranked by the amount they concern: the best safe move, quick wins, unexplained
    billing variance and unpriced spend; the summary shows the first three."""
    found: list[Recommendation] = []
    safe = best_safe_scenario(result)
    if safe is not None and safe.savings > 0:
        level = LEVEL_TEXT[level_of(safe.risk.level if safe.risk else None)].lower()
        to_verify = sum(1 for c in safe.checklist if c.status != "met")
        text = (
            f"Evaluate moving to {candidate_label(safe)}: it saves {money(safe.savings)} "
            f"({percent(safe.savings_pct)}) of {money(safe.baseline_cost)} over the audited period at as-of prices"
        )
        span = savings_range(safe)
        if span is not None:
            text += f" (range {money(span[0])} to {money(span[1])})"
        text += f"; risk {level}"
        text += f"; {to_verify} checklist item(s) to verify first." if safe.checklist else "."
        found.append(Recommendation(safe.savings, text))
    for f in sorted(result.findings, key=lambda f: (-f.estimated_savings, f.model))[:2]:
        if f.estimated_savings > 0:
            target = f" to {f.target}" if f.target else ""
            found.append(
                Recommendation(
                    f.estimated_savings,
                    f"Quick win, {KIND_TEXT[f.kind]}: {f.model}{target} saves about {money(f.estimated_savings)} "
                    "over the period without changing vendor.",
                )
            )
    unexplained = [r for r in result.reconciliation if r.unexplained]
    if unexplained:
        amount = sum((abs(r.unexplained) for r in unexplained), Decimal(0))
        net = sum((r.unexplained for r in unexplained), Decimal(0))
        found.append(
            Recommendation(
                amount,
                f"Ask the vendors about {money(amount)} of billed-against-list variance no discount, credit, tier "
                f"or coverage explains (each model-month's unexplained part counted whatever its sign; "
                f"{len(unexplained)} model-month(s), net {money(net)}: see Audit findings).",
            )
        )
    unpriced = [u for u in result.usage if is_unpriced(u)]
    if unpriced:
        billed = sum((u.billed_cost or Decimal(0) for u in unpriced), Decimal(0))
        found.append(
            Recommendation(
                billed,
                f"Price {len(unpriced)} unpriced model(s) ({tokens(result.totals.unpriced_tokens)} tokens, "
                f"{money(billed)} billed): they are left out of list cost and scenarios until priced.",
            )
        )
    return sorted(found, key=lambda r: -r.impact)


def _kv_table(rows: Sequence[tuple[str, str]]) -> Table:
    return fitted_table([Column("", "text", cap=150), Column("", "flex")], [list(r) for r in rows], WIDTH, header=False)


def cover(result: AuditResult) -> list[Flowable]:
    """Title, period, as-of date, the inputs and the profile the audit ran on."""
    rows_read = sum(f.rows_read for f in result.inputs)
    formats = sorted({f.format for f in result.inputs})
    profile = result.data_profile
    facts: list[tuple[str, str]] = [
        ("Period", period_text(result.period)),
        ("Days and months in", result.timezone),
        ("Prices as of", result.as_of.isoformat()),
        ("Price catalog", result.catalog),
        ("Input files", f"{len(result.inputs):,} in {len(formats)} format(s), {rows_read:,} rows read"),
        ("Data profile", ", ".join(profile.data_classes) if profile else "none given: compliance gates not run"),
        ("Contract prices", result.contract_file or "none: list prices"),
        ("Currency", result.currency),
        ("Tool version", result.tool_version),
    ]
    story: list[Flowable] = [
        Spacer(1, 40),
        Paragraph(TITLE, TITLE_STYLE),
        Paragraph(esc(f"{period_text(result.period)} · prices as of {result.as_of.isoformat()}"), SUBTITLE),
        Paragraph("Spend, billing audit, cheaper alternatives and migration risk", BODY),
        Spacer(1, 14),
        _kv_table(facts),
        Spacer(1, 16),
        Paragraph("Inputs", LABEL),
    ]
    shown = result.inputs[:_COVER_FILES]
    if shown:
        rows: list[list[Cell]] = [[f.path, f.format, tokens(f.rows_read)] for f in shown]
        story.append(
            fitted_table([Column("file", "flex"), Column("format", "text", cap=150), Column("rows")], rows, WIDTH)
        )
        if len(result.inputs) > len(shown):
            story.append(
                note(f"and {len(result.inputs) - len(shown):,} more: every file, with its SHA-256, is in the appendix.")
            )
    else:
        story.append(para("No input file."))
    return [KeepInFrame(WIDTH, HEIGHT, story, mode="shrink"), PageBreak()]


def _tile(label: str, value: str, detail: str, colour: colors.Color = ACCENT) -> list[Flowable]:
    return [
        Paragraph(esc(label), SMALL),
        Paragraph(f'<font name="{FONT_BOLD}" size="15" color="{colour.hexval()}">{esc(value)}</font>', BODY),
        Spacer(1, 4),
        Paragraph(f'<font color="#666666">{esc(detail)}</font>', SMALL),
    ]


def _tiles(result: AuditResult) -> Table:
    t = result.totals
    bvl = billed_vs_list(result)
    if bvl is None:
        variance_tile = _tile("Billed against list", "n/a", "no input states a charge with a list price to compare")
    else:
        billed, listed, rows = bvl
        share = f" ({(billed - listed) / listed * 100:+.1f}%)" if listed else ""
        variance_tile = _tile(
            "Billed against list",
            money(billed - listed),
            f"{money(billed)} billed vs {money(listed)} list on {rows} model-month(s){share}",
        )
    safe = best_safe_scenario(result)
    if safe is None:
        safe_tile = _tile("Best safe saving", "n/a", "no scenario, or every candidate is blocked")
    else:
        level = level_of(safe.risk.level if safe.risk else None)
        safe_tile = _tile(
            _safe_title(safe),
            money(safe.savings),
            f"{percent(safe.savings_pct)} · {safe.candidate_name} · risk {LEVEL_TEXT[level].lower()}",
            LEVEL_COLOURS[level],
        )
    cells = [
        _tile("Billed total", money(t.billed_cost), "what the sources say was charged"),
        _tile("List cost", money(t.list_cost), f"priced usage at catalog prices; {tokens(t.requests)} requests"),
        variance_tile,
        safe_tile,
    ]
    table = Table([cells], colWidths=[WIDTH / 4] * 4, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 7),
                ("BACKGROUND", (0, 0), (-1, -1), HEAD_BG),
                ("LINEAFTER", (0, 0), (-2, -1), 2, colors.white),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def overall_risk_text(result: AuditResult) -> tuple[str, str]:
    """The level of the recommended move (the best safe saving) and a sentence on all candidates."""
    safe = best_safe_scenario(result)
    if safe is None or safe.risk is None:
        return "none", "No scenario is rated."
    risk = safe.risk
    compliance = (
        "not assessed: no data profile (--data)"
        if risk.compliance_score is None
        else (f"{risk.compliance_score:g} of 100")
    )
    text = (
        f"The recommended move ({safe.candidate_name}) rates {LEVEL_TEXT[risk.level]}: compliance {compliance}, "
        f"operational {risk.operational_score:g} of 100. All candidates: {level_counts(result)}."
    )
    best = ranked_scenarios(result)[0]
    if best is not safe and best.risk is not None and best.risk.level in ("red", "blocked"):
        worst = "blocking" if best.risk.level == "blocked" else "red"
        codes = sorted({f.code for f in best.risk.findings if f.severity == worst})
        why = f" by {', '.join(codes)}" if codes else ""
        rated = "is blocked" if best.risk.level == "blocked" else "rates Red"
        text += f" The largest saving, {best.candidate_name} ({money(best.savings)}), {rated}{why}."
    return risk.level, text


_TOP = 6  # candidates the summary shows


def _top_candidates(result: AuditResult) -> list[Flowable]:
    ranked = ranked_scenarios(result)[:_TOP]
    if not ranked:
        return []
    columns = [
        Column("#"),
        Column("candidate", "flex"),
        Column("savings"),
        Column("savings\u00a0%"),
        Column("savings low – high", "text", cap=140),
        Column("risk", "text", cap=60),
    ]
    rows: list[list[Cell]] = []
    for rank, s in enumerate(ranked, start=1):
        span = savings_range(s)
        level = level_of(s.risk.level if s.risk else None)
        rows.append(
            [
                str(rank),
                (s.candidate_name, s.candidate),
                money(s.savings),
                percent(s.savings_pct),
                f"{money(span[0])} – {money(span[1])}" if span else "n/a",
                Mark(LEVEL_TEXT[level], hex_colour(LEVEL_COLOURS[level])),
            ]
        )
    more = len(result.scenarios) - len(ranked)
    title = f"Largest savings ({more} more candidate(s) in the scenario comparison)" if more else "Candidates"
    return [Paragraph(esc(title), LABEL), fitted_table(columns, rows, WIDTH), Spacer(1, 8)]


def executive_summary(result: AuditResult) -> list[Flowable]:
    """One page: the four key figures, the overall risk, the top three recommendations and key facts."""
    level, risk_text = overall_risk_text(result)
    colour = LEVEL_COLOURS[level]
    badge = Table(
        [[Paragraph(f'<font color="white"><b>{LEVEL_TEXT[level]}</b></font>', BODY), para(risk_text, SMALL)]],
        colWidths=[62, WIDTH - 62],
        hAlign="LEFT",
    )
    badge.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 7),
                ("BACKGROUND", (0, 0), (0, 0), colour),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BOX", (0, 0), (-1, -1), 0.6, colour),
            ]
        )
    )
    recs = recommendations(result)[:3]
    rec_flow: list[Flowable] = [Paragraph(f"<b>{i}.</b> {esc(r.text)}", BODY) for i, r in enumerate(recs, start=1)] or [
        para("No action found: no cheaper safe candidate, quick win or unexplained variance.")
    ]
    t = result.totals
    findings_total = sum((f.estimated_savings for f in result.findings), Decimal(0))
    facts: list[tuple[str, str]] = [
        ("Period", f"{period_text(result.period)} ({result.timezone}); prices as of {result.as_of.isoformat()}"),
        ("Usage", f"{tokens(t.requests)} requests, {tokens(t.all_tokens())} tokens, {len(result.usage)} model lines"),
        ("Cost at contract prices", money(t.contract_cost)) if t.contract_cost is not None else ("", ""),
        ("Unpriced models", f"{t.unpriced_models:,} ({tokens(t.unpriced_tokens)} tokens), not counted as $0"),
        ("Quick wins", f"{len(result.findings)} finding(s), up to {money(findings_total)} (they overlap)"),
        ("Candidates", f"{len(result.scenarios)} scenario(s); {level_counts(result) or 'not rated'}"),
        ("Warnings", f"{len(result.warnings)} (see Methodology and assumptions)"),
    ]
    story: list[Flowable] = [
        _tiles(result),
        Spacer(1, 10),
        Paragraph("Overall risk", LABEL),
        badge,
        Spacer(1, 10),
        Paragraph("Top three recommendations", LABEL),
        *rec_flow,
        Spacer(1, 8),
        *_top_candidates(result),
        Paragraph("Key facts", LABEL),
        _kv_table([f for f in facts if f[0]]),
        note(
            "Savings are over the audited period at the as-of date's list prices; the range puts every migration "
            "assumption at the end that lowers or raises the cost. Best safe saving: the largest saving of a "
            "candidate rated Green or Amber; when every candidate is Red or Blocked, the largest saving not blocked, "
            "shown with its Red rating."
        ),
    ]
    heading = Heading("Executive summary", H1, 0, "summary")
    room = HEIGHT - heading.wrap(WIDTH, HEIGHT)[1] - H1.spaceBefore - H1.spaceAfter
    return [heading, KeepInFrame(WIDTH, room, story, mode="shrink"), PageBreak()]
