"""The PDF report for a CFO, a CTO and legal: cover, one-page executive summary, contents, spend, audit
findings, scenario comparison, risk register, compliance checklists, forecast, methodology and appendix.

A pure function of one AuditResult. Built in passes until the contents and the "page N of M" footers agree;
reportlab's invariant mode and a creation date taken from the as-of date make the same result give the same
bytes.
"""

from __future__ import annotations

import calendar
import io
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.tableofcontents import TableOfContents

from auditor.forecast import CAUTION, VOLUME_NOTE
from auditor.report.files import write_bytes_atomically
from auditor.report.forecast_tables import forecast_month_table, forecast_total_table, price_change_table
from auditor.report.formatting import (
    contract_basis,
    cost_range,
    money,
    percent,
    period_text,
    ranked_scenarios,
    reasons_text,
    tokens,
    top_driver,
)
from auditor.report.pdf_attributed import BY_KEY, BY_PROJECT, attributed_story
from auditor.report.pdf_charts import provider_colours, savings_risk_chart, share_chart, stacked_month_chart, top_shares
from auditor.report.pdf_fonts import FONT, register_fonts
from auditor.report.pdf_layout import (
    H1,
    HEIGHT,
    LABEL,
    MARGIN,
    TITLE,
    WIDTH,
    Heading,
    block,
    bullets,
    note,
    para,
    section,
    subsection,
)
from auditor.report.pdf_risk import checklists, level_mark, risk_register
from auditor.report.pdf_summary import cover, executive_summary
from auditor.report.pdf_tables import (
    GREY,
    SPEND_COLUMNS,
    STATED_NOTE,
    Cell,
    Column,
    esc,
    fitted_table,
    model_table,
    month_table,
    spend_total,
)
from auditor.report.plan_sections import plan_story
from auditor.report.reconciliation import (
    VARIANCE_LEGEND,
    findings_groups,
    reconciliation_table,
    variance_bridge_table,
)
from auditor.result import (
    AuditResult,
    CommitmentPeriod,
    InputFile,
    Period,
    RejectedRowOut,
    SkippedFile,
    UsageEntry,
    is_unpriced,
)

__all__ = ["WIDTH", "build_story", "pdf_bytes", "write_pdf"]


class _Frame(Frame):  # type: ignore[misc]  # reportlab ships no types
    """The body frame; while `sketch` is set it places flowables without drawing them."""

    sketch = False

    def add(self, flowable: Flowable, canv: Canvas, trySplit: int = 0) -> int:
        if not self.sketch:
            return int(super().add(flowable, canv, trySplit))
        own = vars(flowable)  # not setattr: a chart's Drawing accepts only its declared attributes
        own["drawOn"] = _no_drawing  # shadows the method for this call only
        try:
            return int(super().add(flowable, canv, trySplit))
        finally:
            del own["drawOn"]


def _no_drawing(*args: object, **kwargs: object) -> None:
    return None


class _Contents(TableOfContents):  # type: ignore[misc]  # reportlab ships no types
    """The table of contents, given its lines before the first pass (their page numbers are not known yet) so that
    it takes its final room from the start."""

    def expect(self, story: Sequence[Flowable]) -> None:
        """Take the lines of the headings in `story`, page 0 each, as those of a pass before the first."""
        self.addEntries((h.outline_level, h.contents_text, 0, h.outline_key) for h in _headings(story) if h.in_contents)

    def same_lines(self) -> bool:
        """The lines of this pass are those the contents was laid out with, page numbers aside."""
        return [e[:2] + e[3:] for e in self._entries] == [e[:2] + e[3:] for e in self._lastEntries]


def _headings(flowables: Sequence[Flowable]) -> Iterator[Heading]:
    """The headings of a story in order, those kept together with what follows them included."""
    for f in flowables:
        if isinstance(f, Heading):
            yield f
        yield from _headings(getattr(f, "_content", ()))


class _AuditDoc(BaseDocTemplate):  # type: ignore[misc]  # reportlab ships no types
    """A4 with one frame, a "page N of M" footer, the outline and contents built from `Heading`s.

    The pages depend on the lines of the contents only (a heading's page number does not change its height). The
    first passes lay them out without drawing until the contents' lines are those found; the next pass draws them,
    and the build ends when the contents' page numbers and the page count are those of the pass before."""

    def __init__(self, out: io.BytesIO, result: AuditResult) -> None:
        super().__init__(
            out,
            pagesize=A4,
            invariant=1,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=A4[1] - MARGIN - HEIGHT,
            title=TITLE,
            author="ai-spend-auditor " + result.tool_version,
            subject=f"AI spend {period_text(result.period)}, prices as of {result.as_of.isoformat()}",
            creator="ai-spend-auditor",
            initialFontName=FONT,
            initialFontSize=9,
        )
        self._as_of = result.as_of
        self._footer_text = f"{TITLE} · {period_text(result.period)} · prices as of {result.as_of.isoformat()}"
        self._pages_before = 0  # page count of the previous pass: the M of "page N of M"
        self._pages = 0
        self._frame = _Frame(MARGIN, self.bottomMargin, WIDTH, HEIGHT, id="body", leftPadding=0, rightPadding=0)
        self._frame.sketch = True
        self.addPageTemplates([PageTemplate(id="page", frames=[self._frame], onPage=self._footer)])

    def beforeDocument(self) -> None:
        """A new pass: the creation date is the as-of date (00:00 UTC), whatever the clock says."""
        self._pages_before, self._pages = self._pages, 0
        stamp = self.canv._doc._timeStamp
        day = self._as_of
        stamp.YMDhms = (day.year, day.month, day.day, 0, 0, 0)
        stamp.dhh = stamp.dmm = 0
        stamp.t = float(calendar.timegm(day.timetuple()))

    def multiBuild(self, story: list[Flowable]) -> int:
        for f in story:
            if isinstance(f, _Contents):
                f.expect(story)
        return int(super().multiBuild(story))

    def _allSatisfied(self) -> bool:
        if self._frame.sketch:
            self._frame.sketch = not all(f.same_lines() for f in self._indexingFlowables if isinstance(f, _Contents))
            return False
        return bool(super()._allSatisfied()) and self._pages == self._pages_before

    def _footer(self, canvas: Canvas, doc: BaseDocTemplate) -> None:
        self._pages = doc.page
        if doc.page == 1:
            return
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, MARGIN, self._footer_text)
        total = self._pages_before or "?"
        canvas.drawRightString(A4[0] - MARGIN, MARGIN, f"page {doc.page} of {total}")
        canvas.restoreState()

    def afterFlowable(self, flowable: Flowable) -> None:
        if isinstance(flowable, Heading):
            self.canv.showOutline()
            self.canv.bookmarkPage(flowable.outline_key)
            self.canv.addOutlineEntry(flowable.outline_title, flowable.outline_key, flowable.outline_level)
            if flowable.in_contents:
                entry = (flowable.outline_level, flowable.contents_text, self.page, flowable.outline_key)
                self.notify("TOCEntry", entry)


def _contents(result: AuditResult) -> list[Flowable]:
    toc = _Contents(dotsMinLevel=0)
    toc.tableStyle = TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), FONT, 9),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ]
    )
    toc.levelStyles = [
        ParagraphStyle("toc0", fontName=FONT, fontSize=10, leading=15, leftIndent=0, firstLineIndent=0),
        ParagraphStyle(
            "toc1", fontName=FONT, fontSize=8.5, leading=11.5, leftIndent=16, firstLineIndent=0, textColor=GREY
        ),
    ]
    return [Paragraph("Contents", H1), toc, PageBreak()]


# --- spend ---------------------------------------------------------------------------------------------


def _by_provider(usage: Sequence[UsageEntry], field: str) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for u in usage:
        value = getattr(u, field)
        if value is not None:
            sums[u.provider] = sums.get(u.provider, Decimal(0)) + value
    return sums


def provider_table(result: AuditResult) -> Table:
    """Spend by provider: the sums of the result's model lines (list cost of priced usage only)."""
    providers = sorted({u.provider for u in result.usage})
    billed, listed = _by_provider(result.usage, "billed_cost"), _by_provider(result.usage, "list_cost")
    rows: list[list[Cell]] = []
    for p in providers:
        lines = [u for u in result.usage if u.provider == p]
        requests = [u.requests for u in lines if u.requests is not None]
        rows.append(
            [
                p,
                f"{len(lines):,}",
                tokens(sum(requests) if requests else None),
                tokens(sum(u.all_tokens() for u in lines)),
                money(billed.get(p)),
                money(listed.get(p), "unpriced" if any(is_unpriced(u) for u in lines) else "n/a"),
                percent(
                    float(listed[p] / result.totals.list_cost * 100)
                    if p in listed and result.totals.list_cost
                    else None
                ),
            ]
        )
    t = result.totals
    columns = [Column("provider", "flex"), *SPEND_COLUMNS]
    total = [*spend_total(t, f"{len(result.usage):,}"), "100.0%" if t.list_cost else "n/a"]
    return fitted_table(columns, rows, WIDTH, total)


def month_totals_table(result: AuditResult) -> Table:
    """Spend per calendar month: the sums of the result's month lines."""
    months = sorted({m.month for m in result.usage_by_month})
    rows: list[list[Cell]] = []
    for month in months:
        lines = [m for m in result.usage_by_month if m.month == month]
        billed = [m.billed_cost for m in lines if m.billed_cost is not None]
        listed = [m.list_cost for m in lines if m.list_cost is not None]
        requests = [m.requests for m in lines if m.requests is not None]
        rows.append(
            [
                month,
                f"{len({m.provider for m in lines}):,}",
                f"{len(lines):,}",
                tokens(sum(requests) if requests else None),
                tokens(sum(m.all_tokens() for m in lines)),
                money(sum(billed, Decimal(0)) if billed else None),
                money(sum(listed, Decimal(0)) if listed else None),
            ]
        )
    t = result.totals
    columns = [
        Column("month", "text"),
        Column("providers"),
        Column("model lines"),
        Column("requests"),
        Column("tokens"),
        Column("billed"),
        Column("list cost"),
    ]
    return fitted_table(columns, rows, WIDTH, spend_total(t, "", ""))


def _commitment_table(commitments: Sequence[CommitmentPeriod]) -> Table:
    columns = [
        Column("vendor", "text"),
        Column("period", "text"),
        Column("committed"),
        Column("spend"),
        Column("used"),
        Column("shortfall"),
        Column("overage"),
        Column("term", "flex"),
    ]
    rows: list[list[Cell]] = [
        [
            c.vendor,
            (
                f"{c.period_start} – {c.period_end}",
                "" if c.complete else f"{c.days_observed} of {c.days_in_period} days",
            ),
            money(c.committed),
            money(c.spend),
            percent(c.used_pct),
            money(c.shortfall),
            money(c.overage),
            c.term,
        ]
        for c in commitments
    ]
    return fitted_table(columns, rows, WIDTH)


_PLAIN = TableStyle(
    [("FONT", (0, 0), (-1, -1), FONT, 7), ("LEFTPADDING", (0, 0), (-1, -1), 0), ("VALIGN", (0, 0), (-1, -1), "TOP")]
)


def _spend(result: AuditResult) -> list[Flowable]:
    billed_by = _by_provider(result.usage, "billed_cost")
    listed_by = _by_provider(result.usage, "list_cost")
    colours = provider_colours(result)
    half = (WIDTH - 12) / 2
    shares = Table(
        [
            [
                share_chart("Share of list cost by provider", top_shares(listed_by, 7), half, colours),
                share_chart("Share of billed cost by provider", top_shares(billed_by, 7), half, colours),
            ]
        ],
        colWidths=[half + 12, half],
        hAlign="LEFT",
    )
    shares.setStyle(_PLAIN)
    story: list[Flowable] = [
        *block(
            [section("Spend", "spend"), subsection("By provider", "spend-provider"), shares], provider_table(result)
        ),
        note(
            "List cost: the priced usage at catalog list prices on the day of use; unpriced models are left out, "
            "never counted as $0. Billed: what the sources state was charged (n/a where a source does not say)."
        ),
    ]
    charts = Table(
        [
            [
                stacked_month_chart(result, "list", half, 170, "List cost by month and provider"),
                stacked_month_chart(result, "billed", half, 170, "Billed cost by month and provider"),
            ]
        ],
        colWidths=[half + 12, half],
        hAlign="LEFT",
    )
    charts.setStyle(_PLAIN)
    story += block([subsection("By month", "spend-month"), charts], month_totals_table(result))
    story.append(
        note(
            f"Months are calendar months in {result.timezone} (daily buckets keep their day); the month-by-model "
            "detail is in the appendix."
        )
    )
    text = "Cache write counts 5-minute and 1-hour writes. n/a: the source does not state the figure."
    if result.totals.reasoning_tokens:
        text += f" Output includes {tokens(result.totals.reasoning_tokens)} reasoning tokens."
    if any(u.stated_list_cost is not None for u in result.usage):
        text += " " + STATED_NOTE
    story += [*block([subsection("By model", "spend-model")], model_table(result, WIDTH)), note(text)]
    story += attributed_story(result, BY_PROJECT)
    story += attributed_story(result, BY_KEY)
    if result.commitments:
        story += block([subsection("Committed spend", "commitments")], _commitment_table(result.commitments))
    return story


# --- audit findings ------------------------------------------------------------------------------------


def _unpriced_table(usage: Sequence[UsageEntry]) -> Table:
    """Each unpriced model with its tokens, the reason, and close catalog models."""
    columns = [
        Column("provider", "text", cap=70),
        Column("model", "flex", weight=1.2),
        Column("requests"),
        Column("tokens"),
        Column("billed"),
        Column("reason", "flex", weight=0.8),
        Column("suggestions", "flex", weight=1.2),
    ]
    rows: list[list[Cell]] = [
        [
            u.provider,
            u.model_raw,
            tokens(u.requests),
            tokens(u.all_tokens()),
            money(u.billed_cost),
            u.unpriced_reason or "not stated",
            "\n".join(u.suggestions) or "no close catalog model",
        ]
        for u in usage
    ]
    return fitted_table(columns, rows, WIDTH)


def _audit_findings(result: AuditResult) -> list[Flowable]:
    heads: list[Flowable] = [section("Audit findings", "findings"), subsection("Billing variances", "variances")]
    if not result.reconciliation:
        story = block(heads, para("No input states a billed cost to reconcile."))
    else:
        story = block(heads, variance_bridge_table(result.reconciliation, WIDTH))
        story.append(note(VARIANCE_LEGEND))
        rows = reconciliation_table(result.reconciliation, WIDTH)
        story += block([Paragraph("Billed against list by month and model", LABEL)], rows)
    unpriced = [u for u in result.usage if is_unpriced(u)]
    body: Flowable = (
        _unpriced_table(unpriced) if unpriced else para("Every model was priced: all usage has a list cost.")
    )
    story += block([subsection("Unpriced models", "unpriced")], body)
    heads = [subsection("Waste and quick wins", "quick-wins")]
    if not result.findings:
        return [*story, *block(heads, para("No finding: no rule matched the priced workload."))]
    intro = para(
        "Savings over the audited period at the catalog's rates on the as-of date. They overlap: do not add them "
        "up as one plan."
    )
    heads.append(intro)
    for title, assumption, table in findings_groups(result.findings, WIDTH):
        story += block([*heads, Spacer(1, 6), Paragraph(esc(title), LABEL), note(assumption)], table)
        heads = []
    return story


# --- scenarios -----------------------------------------------------------------------------------------


def scenario_risk_table(result: AuditResult) -> Table:
    """The scenario table with each candidate's risk level."""
    columns = [
        Column("#"),
        Column("candidate", "flex"),
        Column("baseline"),
        Column("projected"),
        Column("savings"),
        Column("savings\u00a0%"),
        Column("low\u00a0–\u00a0high cost"),
        Column("risk", "text", cap=60),
        Column("top\u00a0driver", "text", cap=90),
    ]
    rows: list[list[Cell]] = [
        [
            str(rank),
            (s.candidate_name, s.candidate),
            money(s.baseline_cost) + contract_basis(s.baseline_basis),
            money(s.projected_cost) + contract_basis(s.projected_basis),
            money(s.savings),
            percent(s.savings_pct),
            cost_range(s),
            level_mark(s),
            top_driver(s),
        ]
        for rank, s in enumerate(ranked_scenarios(result), start=1)
    ]
    return fitted_table(columns, rows, WIDTH)


def _scenario_comparison(result: AuditResult) -> list[Flowable]:
    heads: list[Flowable] = [section("Scenario comparison", "scenarios")]
    if not result.scenarios:
        return block(heads, para("No scenarios were computed."))
    story = block(heads, scenario_risk_table(result))
    story.append(
        note(
            "The priced workload re-priced on each candidate at the as-of date; a negative saving is a cost "
            "increase. Low – high: every migration assumption at the end of its range that lowers or raises the "
            "cost; top driver: the assumption that moves it most (values, ranges and sources under Methodology)."
        )
    )
    chart = savings_risk_chart(ranked_scenarios(result), WIDTH)
    story += block([subsection("Savings against risk", "savings-risk")], chart)
    story.append(
        note(
            "Lanes by risk level (B blocked, R red, A amber, G green, n not rated); numbers as in the "
            "table. The line spans the savings at the high-cost and the low-cost ends of the ranges."
        )
    )
    return story


# --- forecast, methodology, appendix -------------------------------------------------------------------


def _forecast(result: AuditResult) -> list[Flowable]:
    heads: list[Flowable] = [section("Forecast and scheduled price changes", "forecast")]
    if not result.forecast:
        story = block(heads, para("No forecast: there is no priced usage."))
    else:
        story = [
            *block([*heads, subsection("Next 12 months", "forecast-months")], forecast_month_table(result, WIDTH)),
            note(
                "Baseline: the workload on its current models; beside it the scenarios cheapest over the 12 months. "
                "Each month at the list prices in force then; the method is under Methodology."
            ),
            *[note(n) for n in result.notes if n.startswith(VOLUME_NOTE) and CAUTION in n],
            *block([subsection("12 months by scenario", "forecast-totals")], forecast_total_table(result, WIDTH)),
        ]
    changes = result.price_changes
    body = price_change_table(changes, WIDTH) if changes else para("None in the catalog.")
    story += block([subsection("Scheduled price changes and deprecations", "price-changes")], body)
    story.append(note("USD per million tokens, at the smallest request size; only changes after the as-of date."))
    return story


def _assumption_table(result: AuditResult) -> Table:
    columns = [
        Column("assumption", "text", cap=110),
        Column("value"),
        Column("range", "text"),
        Column("meaning", "flex", weight=0.7),
        Column("source", "flex", weight=1.3),
    ]
    rows: list[list[Cell]] = [
        [a.name, f"{a.value:g}", f"{a.low:g} – {a.high:g}", a.description or a.name, a.source]
        for a in result.assumptions
    ]
    return fitted_table(columns, rows, WIDTH)


def _methodology(result: AuditResult) -> list[Flowable]:
    facts = [
        ["Price catalog", result.catalog],
        [
            "Prices as of",
            f"{result.as_of.isoformat()} (scenarios and forecast; the baseline list cost uses the "
            "price in force on the day of use)",
        ],
        ["Days and months in", result.timezone],
        ["Currency", result.currency],
        ["Contract prices", result.contract_file or "none: list prices only"],
    ]
    story = block(
        [section("Methodology and assumptions", "method"), subsection("Catalog and rates", "method-catalog")],
        fitted_table([Column("", "text", cap=150), Column("", "flex")], facts, WIDTH, header=False),
    )
    if result.fx_rates:
        rows: list[list[Cell]] = [
            [r.currency, r.month or "every month", f"{r.usd_per_unit.normalize():f}", r.source] for r in result.fx_rates
        ]
        columns = [
            Column("currency", "text"),
            Column("month", "text"),
            Column("USD per unit"),
            Column("source", "flex"),
        ]
        story += block([Paragraph("Exchange rates", LABEL)], fitted_table(columns, rows, WIDTH))
    else:
        story.append(para("Exchange rates: none used (every amount was in USD)."))
    if result.assumptions:
        story += block([subsection("Migration assumptions", "method-assumptions")], _assumption_table(result))
    story += bullets([subsection("Method notes", "method-notes")], result.notes, "No notes.")
    story += bullets([subsection("Warnings", "method-warnings")], result.warnings, "No warnings.")
    return story


def _input_table(inputs: Sequence[InputFile]) -> Table:
    """Row accounting per file: read = used + skipped + rejected."""
    columns = [
        Column("file and sha256", "flex"),
        Column("format", "text", cap=110),
        Column("read"),
        Column("used"),
        Column("skipped"),
        Column("rejected"),
        Column("skipped reasons", "flex", weight=0.7),
    ]
    rows: list[list[Cell]] = [
        [
            (f.path, f"sha256 {f.sha256}"),
            (f.format, _file_period(f)),
            tokens(f.rows_read),
            tokens(f.rows_used),
            tokens(f.rows_skipped),
            tokens(f.rows_rejected),
            reasons_text(f.skipped_reasons) or "none",
        ]
        for f in inputs
    ]
    total: list[Cell] = [
        "Total",
        "",
        *(
            tokens(sum(getattr(f, k) for f in inputs))
            for k in ("rows_read", "rows_used", "rows_skipped", "rows_rejected")
        ),
        "",
    ]
    return fitted_table(columns, rows, WIDTH, total)


def _file_period(f: InputFile) -> str:
    return period_text(Period(start=f.period_start, end=f.period_end)) if f.period_start else "no dated rows"


def _rejected_table(rejected: Sequence[RejectedRowOut], numbered_by: str = "line") -> Table:
    """The listed rejected rows of one file: by line, by row (a Parquet file) or by place (a JSON document)."""
    columns = [Column("where", "text", cap=170), Column("column", "text", cap=130), Column("reason", "flex")]
    rows: list[list[Cell]] = [[r.location(numbered_by), r.column or "(row)", r.reason] for r in rejected]
    return fitted_table(columns, rows, WIDTH)


def _skipped_files_table(files: Sequence[SkippedFile]) -> Table:
    rows: list[list[Cell]] = [[f.path, f.reason] for f in files]
    return fitted_table([Column("file", "flex"), Column("reason", "flex")], rows, WIDTH)


def _rejected(inputs: Sequence[InputFile]) -> list[Flowable]:
    heads: list[Flowable] = [subsection("Rejected rows", "rejected")]
    with_rejects = [f for f in inputs if f.rows_rejected or f.rejected]
    if not with_rejects:
        return block(heads, para("No row was rejected."))
    story: list[Flowable] = []
    for f in with_rejects:
        heads.append(para(f.path, LABEL))
        body = _rejected_table(f.rejected, f.numbered_by) if f.rejected else note("No rejected row is listed.")
        story += block(heads, body)
        heads = []
        if len(f.rejected) < f.rows_rejected:
            story.append(note(f"{len(f.rejected):,} of {f.rows_rejected:,} rejected rows are listed."))
        story.append(Spacer(1, 6))
    return story


GLOSSARY = [
    ("Billed cost", "What a vendor's export says was charged, converted to USD at the stated rates."),
    ("List cost", "The same tokens at the catalog's list prices in force on the day of use."),
    (
        "Variance",
        "Billed minus list cost of a model-month, split into discount, credits, tier, batch, BYOK upstream, "
        "unpriced, coverage, rounding and unexplained parts.",
    ),
    (
        "Unpriced model",
        "A model name the price catalog cannot price; left out of list cost and scenarios, never counted as $0.",
    ),
    ("Scenario", "The priced workload re-priced on one candidate model (or routed per segment) at the as-of date."),
    ("Baseline", "The workload on its current models at the as-of date's prices (a scenario's starting point)."),
    (
        "Low – high",
        "A scenario's cost with every migration assumption at the end of its range that lowers or raises it.",
    ),
    (
        "Best safe saving",
        "The largest saving of a candidate rated Green or Amber; when every candidate is Red or Blocked, the largest "
        "saving not blocked, shown with its Red rating.",
    ),
    (
        "Risk level",
        "Blocked (a hard gate citing its rule), Red, Amber or Green from the compliance and operational scores.",
    ),
    ("Checklist status", "☑ met by a documented vendor fact; ☐ to verify; ☒ blocking."),
    (
        "Vendor fact",
        "A documented fact about an endpoint (jurisdiction, retention, DPA, BAA…) with its source "
        "and checked date; “unknown: request from vendor” when not documented.",
    ),
    ("Token classes", "Input excludes cache reads and writes; output includes reasoning; each token counted once."),
    ("SHA-256", "The fingerprint of an input file as read, to prove which file the figures come from."),
]


def _appendix(result: AuditResult) -> list[Flowable]:
    heads = [section("Appendix", "appendix"), subsection("Inputs and row accounting", "inputs")]
    body = _input_table(result.inputs) if result.inputs else para("No input file.")
    story = [*block(heads, body), note("Each file: rows read = used + skipped + rejected.")]
    story += _rejected(result.inputs)
    if result.skipped_files:
        story += block([subsection("Skipped files", "skipped-files")], _skipped_files_table(result.skipped_files))
    if result.usage_by_month:
        story += block([subsection("Spend by month and model", "month-detail")], month_table(result, WIDTH))
        if any(m.stated_list_cost is not None for m in result.usage_by_month):
            story.append(note(STATED_NOTE))
    rows: list[list[Cell]] = [[term, meaning] for term, meaning in GLOSSARY]
    glossary = fitted_table([Column("term", "text", cap=110), Column("meaning", "flex")], rows, WIDTH)
    story += block([subsection("Glossary", "glossary")], glossary)
    return story


# The report's sections in order; each is a function of the result.
Section = Callable[[AuditResult], list[Flowable]]


def _new_page(build: Section) -> Section:
    """A major section starts on a new page."""
    return lambda result: [PageBreak(), *build(result)]


SECTIONS: tuple[Section, ...] = (
    cover,
    executive_summary,
    _contents,
    _spend,
    _new_page(_audit_findings),
    _new_page(_scenario_comparison),
    _new_page(plan_story),
    _new_page(risk_register),
    _new_page(checklists),
    _new_page(_forecast),
    _new_page(_methodology),
    _new_page(_appendix),
)


def build_story(result: AuditResult) -> list[Flowable]:
    """Every flowable of the report, in order."""
    register_fonts()
    return [flowable for build in SECTIONS for flowable in build(result)]


def pdf_bytes(result: AuditResult) -> bytes:
    """The PDF report of `result`, as the file's bytes."""
    register_fonts()
    buffer = io.BytesIO()
    _AuditDoc(buffer, result).multiBuild(build_story(result))
    return buffer.getvalue()


def write_pdf(result: AuditResult, path: Path) -> None:
    """Write the PDF report of `result` to `path`, atomically."""
    write_bytes_atomically(path, pdf_bytes(result))
