"""The migration plan as report sections: PDF flowables and the rows of the XLSX "Plan" sheet.

Kept apart from the other renderers; `pdf.py` and `xlsx.py` only place them. The PDF shows the recommendations,
the phases of the segments with the largest savings, the benchmark plan, the negotiation brief and the portfolio
before and after; the sheet holds every segment and phase.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from reportlab.platypus import Flowable, Paragraph

from auditor.plan import segment_label
from auditor.report.formatting import RECOMMENDATION_TEXT, fraction, money, percent, rate_per_mtok, tokens
from auditor.report.pdf_layout import BODY, BULLET, NOTE, WIDTH, block, section, subsection
from auditor.report.pdf_tables import Cell, Column, esc, fitted_table
from auditor.result import AuditResult, Plan, PlanSegment, PortfolioShare

# A sheet cell: Decimal is money, int a count, float a fraction shown as a percentage (as `xlsx.py` formats them).
SheetValue = str | int | float | Decimal | None

PDF_PHASED_SEGMENTS = 5  # segments whose phases the PDF shows (largest savings first); all are in the XLSX
PDF_LISTED_SEGMENTS = 25
"""Segments the PDF's recommendation and benchmark tables list one by one: past this, those with the largest savings
(captured or forgone), the others summed on one row. Every segment is in the XLSX (sheet Plan) and the JSON."""
_BODY, _NOTE, _BULLET = BODY, NOTE, BULLET


def _with_models(segment: str, models: Sequence[str], by: str | None) -> Cell:
    """The segment, with its current models below unless it is one of them (segments by model)."""
    if list(models) == [segment]:
        return segment
    return (segment_label(segment, by), ", ".join(models))


def _note(text: str) -> Paragraph:
    return Paragraph(esc(text), _NOTE)


def _listed(plan: Plan) -> set[str]:
    """The segments the PDF's tables list one by one (`PDF_LISTED_SEGMENTS`)."""
    ranked = sorted(plan.segments, key=lambda s: (-(s.savings + s.savings_forgone), s.segment))
    return {s.segment for s in ranked[:PDF_LISTED_SEGMENTS]}


def _others(count: int) -> str:
    return f"{count:,} other segment" + ("" if count == 1 else "s")


def plan_story(result: AuditResult) -> list[Flowable]:
    """The plan's PDF section, in the report's headings and styles."""
    width, sub = WIDTH, subsection
    plan = result.plan
    if plan is None:  # nothing is priced: the scenarios section already says so
        return []
    heads = [section("Migration plan", "plan")]
    story: list[Flowable] = []
    if plan.segments:
        story += block([*heads, sub("Recommendations", "plan-recommendations")], recommendation_table(plan, width))
        story.append(_note(_savings_text(plan)))
        if len(plan.segments) > PDF_LISTED_SEGMENTS:
            story.append(
                _note(
                    f"The {PDF_LISTED_SEGMENTS} segments with the largest savings (captured or forgone) are listed, "
                    f"the other {len(plan.segments) - PDF_LISTED_SEGMENTS:,} summed on one row; every segment is in "
                    "the XLSX (sheet Plan) and the JSON (plan.segments)."
                )
            )
    else:
        story += block(heads, Paragraph("No route-by-segment scenario: no segment to plan.", _BODY))
    shown = sorted(plan.segments, key=lambda s: (-s.savings, s.segment))[:PDF_PHASED_SEGMENTS]
    for i, s in enumerate(shown):
        if s.phases:
            title = f"Phases: {segment_label(s.segment, plan.segmented_by)} to {s.candidate}"
            story += block([sub(title, f"plan-phases-{i}")], phase_table(s, width))
            if s.evaluation_required:
                story.append(_note(s.evaluation_required))
    phased = sum(1 for s in plan.segments if s.phases)
    if phased > PDF_PHASED_SEGMENTS:
        story.append(_note(f"{phased - PDF_PHASED_SEGMENTS} more segments' phases are in the XLSX (sheet Plan)."))
    bench = plan.benchmark_plan
    body: Flowable = benchmark_table(plan, width) if bench.segments else Paragraph("No segment to benchmark.", _BODY)
    story += block([sub("Benchmark plan", "plan-benchmark")], body)
    story.append(_note(f"Sample size: {bench.rule}."))
    story += [Paragraph(esc(c), _BULLET, bulletText="•") for c in bench.compare]
    if plan.negotiation.vendors:
        story += block([sub("Negotiation brief", "plan-negotiation")], negotiation_table(plan, width))
        story += [Paragraph(esc(v.message), _BULLET, bulletText="•") for v in plan.negotiation.vendors]
        story.append(_note(plan.negotiation.basis))
    story += block([sub("Portfolio before and after", "plan-portfolio")], portfolio_table(plan, width))
    story.append(_note(plan.portfolio.basis))
    return story


def _savings_text(plan: Plan) -> str:
    text = f"The plan is built on the {plan.scenario} scenario (savings {money(plan.scenario_savings)}); "
    text += f"it captures {money(plan.savings)}"
    if plan.savings_forgone:
        text += f" and gives up {money(plan.savings_forgone)} on segments that stay"
    return text + ". The rules are in the notes."


def _quality_cell(s: PlanSegment) -> Cell:
    q = s.quality
    return (q.status, q.message)


def recommendation_table(plan: Plan, width: float) -> Flowable:
    columns = [
        Column("segment", "flex", weight=1.2),
        Column("recommendation", "text", cap=80),
        Column("candidate", "flex"),
        Column("risk", "text", cap=45),
        Column("requests"),
        Column("savings"),
        Column("forgone"),
        Column("quality evidence", "flex"),
    ]
    listed = _listed(plan)
    rows: list[list[Cell]] = [
        [
            _with_models(s.segment, s.current_models, plan.segmented_by),
            RECOMMENDATION_TEXT[s.recommendation],
            (s.candidate_name, s.candidate) if s.candidate_name and s.candidate else "none cheaper",
            s.rating or "—",
            tokens(s.requests),
            money(s.savings),
            money(s.savings_forgone),
            _quality_cell(s),
        ]
        for s in plan.segments
        if s.segment in listed
    ]
    others = [s for s in plan.segments if s.segment not in listed]
    if others:
        counts = {r: sum(1 for s in others if s.recommendation == r) for r in RECOMMENDATION_TEXT}
        rows.append(
            [
                _others(len(others)),
                ", ".join(f"{n:,} {RECOMMENDATION_TEXT[r]}" for r, n in counts.items() if n),
                "",
                "",
                tokens(sum(s.requests for s in others)),
                money(sum((s.savings for s in others), Decimal(0))),
                money(sum((s.savings_forgone for s in others), Decimal(0))),
                "",
            ]
        )
    total: list[Cell] = ["Total", "", "", "", "", money(plan.savings), money(plan.savings_forgone), ""]
    return fitted_table(columns, rows, width, total)


def _common(lists: Sequence[Sequence[str]]) -> list[str]:
    """The items every list holds, in the first list's order."""
    return [x for x in lists[0] if all(x in other for other in lists[1:])] if lists else []


def phase_table(segment: PlanSegment, width: float) -> Flowable:
    """One row a phase with what is its own; what every phase watches and rolls back on is in `phase_common`."""
    metrics = _common([p.metrics for p in segment.phases])
    triggers = _common([p.rollback_triggers for p in segment.phases])
    columns = [
        Column("phase", "text", cap=70),
        Column("traffic"),
        Column("at least", "text", cap=90),
        Column("entry criteria", "flex", weight=1.2),
        Column("this phase", "flex"),
    ]
    rows: list[list[Cell]] = [
        [
            p.name,
            percent(p.traffic_share_pct) if p.name != "shadow" else "mirrored",
            f"{p.min_days} days" + (f", {p.min_requests:,} requests" if p.min_requests else ""),
            "\n".join(f"• {c}" for c in p.entry_criteria),
            "\n".join(f"• {x}" for x in [*p.metrics, *p.rollback_triggers] if x not in metrics and x not in triggers),
        ]
        for p in segment.phases
    ]
    total: list[Cell] = [
        "every phase",
        "",
        "",
        "watch:\n" + "\n".join(f"• {m}" for m in metrics),
        "roll back when:\n" + "\n".join(f"• {t}" for t in triggers),
    ]
    return fitted_table(columns, rows, width, total)


def benchmark_table(plan: Plan, width: float) -> Flowable:
    columns = [
        Column("segment", "flex"),
        Column("candidate", "flex"),
        Column("requests in period"),
        Column("sample"),
        Column("sample cost on candidate"),
    ]
    listed = _listed(plan)
    rows: list[list[Cell]] = [
        [
            _with_models(b.segment, b.current_models, plan.segmented_by),
            b.candidate,
            tokens(b.population_requests) if b.population_requests else "not counted",
            tokens(b.sample_requests),
            money(b.shadow_cost),
        ]
        for b in plan.benchmark_plan.segments
        if b.segment in listed
    ]
    others = [b for b in plan.benchmark_plan.segments if b.segment not in listed]
    if others:
        counted = sum(b.population_requests for b in others)
        costed = [b.shadow_cost for b in others if b.shadow_cost is not None]
        uncosted = len(others) - len(costed)
        rows.append(
            [
                _others(len(others)),
                "",
                tokens(counted) if counted else "not counted",
                tokens(sum(b.sample_requests for b in others)),
                money(sum(costed, Decimal(0)) if costed else None)
                + (f" ({uncosted:,} without request counts)" if costed and uncosted else ""),
            ]
        )
    return fitted_table(columns, rows, width)


def negotiation_table(plan: Plan, width: float) -> Flowable:
    columns = [
        Column("vendor", "text", cap=90),
        Column("billed per Mtok"),
        Column("list per Mtok"),
        Column("below list"),
        Column("best alternatives per Mtok of the same mix", "flex"),
        Column("cut to match"),
    ]
    rows: list[list[Cell]] = [
        [
            v.vendor,
            rate_per_mtok(v.effective_rate),
            rate_per_mtok(v.list_rate),
            percent(v.discount_vs_list_pct),
            "\n".join(
                f"{a.candidate}: {rate_per_mtok(a.rate_per_mtok)} ({a.rating or 'unrated'})" for a in v.alternatives
            )
            or "none",
            percent(v.price_cut_to_match_pct, "—"),
        ]
        for v in plan.negotiation.vendors
    ]
    return fitted_table(columns, rows, width)


def _share_rows(kind: str, shares: Sequence[PortfolioShare]) -> list[list[Cell]]:
    return [
        [kind, s.name, money(s.before_cost), percent(s.before_pct), money(s.after_cost), percent(s.after_pct)]
        for s in shares
    ]


def portfolio_table(plan: Plan, width: float) -> Flowable:
    columns = [
        Column("by", "text", cap=70),
        Column("name", "flex"),
        Column("before"),
        Column("before share"),
        Column("after"),
        Column("after share"),
    ]
    by_provider = _share_rows("provider", plan.portfolio.by_provider)
    rows = by_provider + _share_rows("jurisdiction", plan.portfolio.by_jurisdiction)
    return fitted_table(columns, rows, width, group_starts=[len(by_provider)] if by_provider else [])


# --- the XLSX sheet ------------------------------------------------------------------------------------

PLAN_HEADERS = [
    "section", "segment or vendor", "candidate", "recommendation", "risk", "phase", "item", "amount", "count",
    "share", "text",
]  # fmt: skip


def plan_sheet(result: AuditResult) -> tuple[list[str], list[list[SheetValue]]]:
    """The "Plan" sheet: one long table (a section column to filter on) of every part of the plan."""
    plan = result.plan
    if plan is None:
        return PLAN_HEADERS, []
    rows: list[list[SheetValue]] = [
        ["plan", None, plan.scenario, None, None, None, "scenario savings", plan.scenario_savings, None, None, None],
        ["plan", None, plan.scenario, None, None, None, "savings captured", plan.savings, None, None, None],
        ["plan", None, plan.scenario, None, None, None, "savings forgone", plan.savings_forgone, None, None, None],
    ]
    for s in plan.segments:
        head: list[SheetValue] = [segment_label(s.segment, plan.segmented_by), s.candidate, s.recommendation, s.rating]
        rows.append(["segment", *head, None, "savings", s.savings, s.requests, None, " ".join(s.reasons)])
        rows.append(["segment", *head, None, "savings forgone", s.savings_forgone, None, None, None])
        rows.append(["segment", *head, None, "baseline cost", s.baseline_cost, None, None, None])
        rows.append(["quality", *head, None, s.quality.status, None, None, fraction(s.quality.coverage_pct),
                     s.quality.message])  # fmt: skip
        if s.evaluation_required:
            rows.append(["quality", *head, None, "evaluation required", None, None, None, s.evaluation_required])
        for p in s.phases:
            at = [*head, p.name]
            share = fraction(p.traffic_share_pct)
            rows.append(["phase", *at, "duration (days)", None, p.min_days, share, None])
            if p.min_requests is not None:
                rows.append(["phase", *at, "requests", None, p.min_requests, share, None])
            rows += [["phase", *at, "entry criterion", None, None, None, c] for c in p.entry_criteria]
            rows += [["phase", *at, "metric", None, None, None, m] for m in p.metrics]
            rows += [["phase", *at, "rollback trigger", None, None, None, t] for t in p.rollback_triggers]
    bench = plan.benchmark_plan
    for b in bench.segments:
        population = (
            f"of {b.population_requests:,} requests in the period"
            if b.population_requests
            else "the data counts no requests of the segment: the sample size is the rule's for an unknown number"
        )
        name = segment_label(b.segment, plan.segmented_by)
        rows.append(["benchmark", name, b.candidate, None, None, None, "sample requests",
                     b.shadow_cost, b.sample_requests, None, population])  # fmt: skip
    rows.append(["benchmark", None, None, None, None, None, "sample-size rule", None, None, None, bench.rule])
    rows += [["benchmark", None, None, None, None, None, "compare", None, None, None, c] for c in bench.compare]
    for v in plan.negotiation.vendors:
        rows.append(["negotiation", v.vendor, None, None, None, None, "effective rate per Mtok", v.effective_rate,
                     v.billed_tokens, fraction(v.discount_vs_list_pct), v.message])  # fmt: skip
        rows.append(["negotiation", v.vendor, None, None, None, None, "list rate per Mtok", v.list_rate,
                     v.list_tokens, None, None])  # fmt: skip
        for a in v.alternatives:
            rows.append(["negotiation", v.vendor, a.candidate, None, a.rating, None, "alternative rate per Mtok",
                         a.rate_per_mtok, v.priced_tokens, fraction(v.price_cut_to_match_pct)
                         if a is v.alternatives[0] else None, a.candidate_name])  # fmt: skip
    for kind, shares in (("provider", plan.portfolio.by_provider), ("jurisdiction", plan.portfolio.by_jurisdiction)):
        for sh in shares:
            rows.append(["portfolio", sh.name, None, None, None, None, f"{kind} before", sh.before_cost, None,
                         fraction(sh.before_pct), None])  # fmt: skip
            rows.append(["portfolio", sh.name, None, None, None, None, f"{kind} after", sh.after_cost, None,
                         fraction(sh.after_pct), None])  # fmt: skip
    return PLAN_HEADERS, rows
