"""The PDF report: an executive summary page, then spend, scenarios, unpriced models, inputs and notes.

A pure function of one AuditResult; `invariant` mode makes the same result give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
)

from auditor.report.files import write_atomically
from auditor.report.forecast_tables import forecast_month_table, forecast_total_table, price_change_table
from auditor.report.formatting import (
    best_scenario,
    money,
    percent,
    period_text,
    reasons_text,
    tokens,
)
from auditor.report.pdf_tables import (
    FONT,
    FONT_BOLD,
    GREY,
    Cell,
    Column,
    esc,
    fitted_table,
    model_table,
    month_table,
    register_fonts,
    scenario_table,
)
from auditor.report.plan_sections import plan_story
from auditor.report.reconciliation import findings_table, reconciliation_table
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

TITLE = "AI spend audit"
MARGIN = 15 * mm
WIDTH = A4[0] - 2 * MARGIN
_KEEP_MAX = 250.0  # a heading and a body up to this tall are kept on one page
_MIN_START = 110.0  # a taller body starts only with this much room left

_BODY = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12, spaceAfter=4)
_NOTE = ParagraphStyle("note", parent=_BODY, fontSize=7.5, leading=9.5, textColor=GREY, spaceBefore=3)
_BULLET = ParagraphStyle("bullet", parent=_BODY, leftIndent=12, bulletIndent=2, spaceAfter=2, bulletFontName=FONT)
_FILE = ParagraphStyle("file", parent=_BODY, fontName=FONT_BOLD)
_TITLE = ParagraphStyle("title", fontName=FONT_BOLD, fontSize=22, leading=28, spaceAfter=4)
_H1 = ParagraphStyle("h1", fontName=FONT_BOLD, fontSize=14, leading=18, spaceBefore=14, spaceAfter=6)
_H2 = ParagraphStyle("h2", fontName=FONT_BOLD, fontSize=10.5, leading=14, spaceBefore=8, spaceAfter=4)


class _Heading(Paragraph):  # type: ignore[misc]  # reportlab ships no types
    """A heading that becomes a PDF bookmark and outline entry where it lands."""

    def __init__(self, text: str, style: ParagraphStyle, level: int, key: str) -> None:
        super().__init__(esc(text), style)
        self.outline_title = text
        self.outline_level = level
        self.outline_key = key


class _AuditDoc(BaseDocTemplate):  # type: ignore[misc]
    """A4 document with one frame, a footer, and the outline built from `_Heading`s."""

    def __init__(self, path: Path, result: AuditResult) -> None:
        super().__init__(
            str(path),
            pagesize=A4,
            invariant=1,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=MARGIN + 4 * mm,
            title=TITLE,
            author="ai-spend-auditor " + result.tool_version,
            subject=f"AI spend {period_text(result.period)}, prices as of {result.as_of.isoformat()}",
            creator="ai-spend-auditor",
            initialFontName=FONT,
            initialFontSize=9,
        )
        as_of = result.as_of.isoformat()
        self._footer_text = f"{TITLE} · {period_text(result.period)} · prices as of {as_of}"
        frame = Frame(MARGIN, self.bottomMargin, WIDTH, A4[1] - self.topMargin - self.bottomMargin, id="body")
        self.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=self._footer)])

    def _footer(self, canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, MARGIN, self._footer_text)
        canvas.drawRightString(A4[0] - MARGIN, MARGIN, f"page {doc.page}")
        canvas.restoreState()

    def afterFlowable(self, flowable: Flowable) -> None:
        if isinstance(flowable, _Heading):
            self.canv.showOutline()
            self.canv.bookmarkPage(flowable.outline_key)
            self.canv.addOutlineEntry(flowable.outline_title, flowable.outline_key, flowable.outline_level)


def _section(title: str, key: str) -> _Heading:
    return _Heading(title, _H1, 0, key)


def _sub(title: str, key: str) -> _Heading:
    return _Heading(title, _H2, 1, key)


def _note(text: str) -> Paragraph:
    return Paragraph(esc(text), _NOTE)


def _summary_rows(result: AuditResult) -> list[list[str]]:
    t = result.totals
    best = best_scenario(result)
    best_text = "no scenarios were computed"
    if best is not None:
        best_text = f"{best.candidate_name} ({best.candidate}): {money(best.savings)}"
        best_text += f" ({percent(best.savings_pct)})"
        if best.savings <= 0:
            best_text += ", no candidate is cheaper"
    return [
        ["Period", period_text(result.period)],
        ["Days and months in", result.timezone],
        ["Prices as of", result.as_of.isoformat()],
        ["Price catalog", result.catalog],
        ["Billed total", money(t.billed_cost)],
        ["List cost total (priced usage)", money(t.list_cost)],
        *([["Cost at contract prices", money(t.contract_cost)]] if t.contract_cost is not None else []),
        *(
            [f"Commitment {c.vendor} {c.period_start} – {c.period_end}", _commitment_text(c)]
            for c in result.commitments
        ),
        ["Best saving", best_text],
        ["Unpriced models", f"{t.unpriced_models:,} ({tokens(t.unpriced_tokens)} tokens)"],
        ["Requests", tokens(t.requests)],
        ["Input files", f"{len(result.inputs):,}"],
        ["Tool version", result.tool_version],
    ]


def _commitment_text(c: CommitmentPeriod) -> str:
    seen = "" if c.complete else f" ({c.days_observed} of {c.days_in_period} days observed)"
    gap = f"shortfall {money(c.shortfall)}" if c.shortfall else f"overage {money(c.overage)}"
    return f"{money(c.spend)} of {money(c.committed)} ({percent(c.used_pct)}), {gap}{seen}"


def _summary(result: AuditResult) -> list[Flowable]:
    columns = [Column("figure", "text", cap=150), Column("value", "flex")]
    story: list[Flowable] = [
        Paragraph(TITLE, _TITLE),
        _Heading("Executive summary", _H2, 0, "summary"),
        fitted_table(columns, _summary_rows(result), WIDTH),
    ]
    if result.warnings:
        story.append(Spacer(1, 8))
        story.append(Paragraph(esc(f"{len(result.warnings)} warning(s): see Notes and warnings."), _BODY))
    story.append(PageBreak())
    return story


def _block(heads: Sequence[Flowable], body: Flowable) -> list[Flowable]:
    """Headings with what follows them, never a heading alone at a page foot: a short block moves whole to
    the next page; a long one starts only with room for its first rows, and its table repeats its header."""
    if body.wrap(WIDTH, A4[1])[1] <= _KEEP_MAX:
        return [KeepTogether([*heads, body])]
    return [CondPageBreak(_MIN_START), *heads, body]


def _spend(result: AuditResult) -> list[Flowable]:
    text = "Cache write counts 5-minute and 1-hour writes. Unpriced models have no list cost; the list cost "
    text += "total covers priced usage only. n/a: the source does not state the figure."
    if result.totals.reasoning_tokens:
        text += f" Output includes {tokens(result.totals.reasoning_tokens)} reasoning tokens."
    return [
        *_block([_section("Spend by model", "spend-model")], model_table(result, WIDTH)),
        _note(text),
        *_block([_section("Spend by month", "spend-month")], month_table(result, WIDTH)),
        _note(
            f"Months are calendar months in {result.timezone} (daily buckets keep their day). "
            "Tokens: every token class (input, cache read and write, output), counted once."
        ),
    ]


def _scenarios(result: AuditResult) -> list[Flowable]:
    heads = [_section("Scenarios", "scenarios")]
    if not result.scenarios:
        return _block(heads, Paragraph("No scenarios were computed.", _BODY))
    text = "The priced workload re-priced on each candidate at the as-of date. A negative saving is a cost "
    text += "increase. Low – high: every migration assumption at the end of its range that lowers or raises the "
    text += "cost; top driver: the assumption that moves it most (defaults, ranges and sources in the notes and JSON)."
    return [*_block(heads, scenario_table(result, WIDTH)), _note(text)]


def _forecast(result: AuditResult) -> list[Flowable]:
    heads = [_section("Forecast and scheduled price changes", "forecast")]
    if not result.forecast:
        story = _block(heads, Paragraph("No forecast: there is no priced usage.", _BODY))
    else:
        story = [
            *_block([*heads, _sub("Next 12 months", "forecast-months")], forecast_month_table(result, WIDTH)),
            _note(
                "Baseline: the workload on its current models; beside it the scenarios cheapest over the 12 months. "
                "Each month at the list prices in force then; the method is in the notes."
            ),
            *_block([_sub("12 months by scenario", "forecast-totals")], forecast_total_table(result, WIDTH)),
        ]
    changes = result.price_changes
    body = price_change_table(changes, WIDTH) if changes else Paragraph("None in the catalog.", _BODY)
    story += _block([_sub("Scheduled price changes and deprecations", "price-changes")], body)
    story.append(_note("USD per million tokens, at the smallest request size; only changes after the as-of date."))
    return story


def _unpriced_table(usage: Sequence[UsageEntry], width: float) -> Table:
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
    return fitted_table(columns, rows, width)


def _input_table(inputs: Sequence[InputFile], width: float) -> Table:
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
    return fitted_table(columns, rows, width)


def _file_period(f: InputFile) -> str:
    return period_text(Period(start=f.period_start, end=f.period_end)) if f.period_start else "no dated rows"


def _rejected_table(rejected: Sequence[RejectedRowOut], width: float, numbered_by: str = "line") -> Table:
    """The listed rejected rows of one file: by line, by row (a Parquet file) or by place (a JSON document)."""
    columns = [Column("where", "text", cap=170), Column("column", "text", cap=130), Column("reason", "flex")]
    rows: list[list[Cell]] = [[r.location(numbered_by), r.column or "(row)", r.reason] for r in rejected]
    return fitted_table(columns, rows, width)


def _skipped_files_table(files: Sequence[SkippedFile], width: float) -> Table:
    """Files no importer recognised."""
    rows: list[list[Cell]] = [[f.path, f.reason] for f in files]
    return fitted_table([Column("file", "flex"), Column("reason", "flex")], rows, width)


def _unpriced(result: AuditResult) -> list[Flowable]:
    unpriced = [u for u in result.usage if is_unpriced(u)]
    if not unpriced:
        body: Flowable = Paragraph("Every model was priced: all usage has a list cost.", _BODY)
    else:
        body = _unpriced_table(unpriced, WIDTH)
    return _block([_section("Unpriced models", "unpriced")], body)


def _rejected(inputs: Sequence[InputFile]) -> list[Flowable]:
    heads: list[Flowable] = [_sub("Rejected rows", "rejected")]
    with_rejects = [f for f in inputs if f.rows_rejected or f.rejected]
    if not with_rejects:
        return _block(heads, Paragraph("No row was rejected.", _BODY))
    story: list[Flowable] = []
    for f in with_rejects:
        heads.append(Paragraph(esc(f.path), _FILE))
        body = _rejected_table(f.rejected, WIDTH, f.numbered_by) if f.rejected else _note("No rejected row is listed.")
        story += _block(heads, body)
        heads = []
        if len(f.rejected) < f.rows_rejected:
            story.append(_note(f"{len(f.rejected):,} of {f.rows_rejected:,} rejected rows are listed."))
        story.append(Spacer(1, 6))
    return story


def _inputs(result: AuditResult) -> list[Flowable]:
    heads = [_section("Inputs and row accounting", "inputs")]
    body = _input_table(result.inputs, WIDTH) if result.inputs else Paragraph("No input file.", _BODY)
    story = [*_block(heads, body), *_rejected(result.inputs)]
    if result.skipped_files:
        skipped = _skipped_files_table(result.skipped_files, WIDTH)
        story += _block([_sub("Skipped files", "skipped-files")], skipped)
    return story


def _bullets(heads: Sequence[Flowable], items: Sequence[str], empty: str) -> list[Flowable]:
    """A bullet list under its headings; the headings stay with the first item."""
    paragraphs = [Paragraph(esc(item), _BULLET, bulletText="•") for item in items]
    paragraphs = paragraphs or [Paragraph(esc(empty), _BODY)]
    return [*_block(heads, paragraphs[0]), *paragraphs[1:]]


def _notes(result: AuditResult) -> list[Flowable]:
    return [
        *_bullets([_section("Notes and warnings", "notes"), _sub("Notes", "notes-notes")], result.notes, "No notes."),
        *_bullets([_sub("Warnings", "notes-warnings")], result.warnings, "No warnings."),
    ]


def build_story(result: AuditResult) -> list[Flowable]:
    """Every flowable of the report, in order."""
    return [
        *_summary(result),
        *_spend(result),
        *_scenarios(result),
        *plan_story(result, WIDTH, _section, _sub, _block),
        *_forecast(result),
        *_reconciliation_and_findings(result),
        *_unpriced(result),
        *_inputs(result),
        *_notes(result),
    ]


def _reconciliation_and_findings(result: AuditResult) -> list[Flowable]:
    heads = [_section("Reconciliation: billed against list", "reconciliation")]
    story = _block(heads, reconciliation_table(result.reconciliation, WIDTH)) if result.reconciliation else []
    if story:
        story.append(
            _note(
                "Variance is billed minus list cost. Discount, batch and tier: billed below the list price "
                "the bill states itself; coverage: charges and tokens of different days; rounding: within "
                "half a cent per billed line (at most 0.1% of billed). What no part explains is shown as unexplained."
            )
        )
    else:
        story = _block(heads, Paragraph("No input states a billed cost to reconcile.", _BODY))
    heads = [_section("Waste and quick wins", "findings")]
    if not result.findings:
        return [*story, *_block(heads, Paragraph("No finding: no rule matched the priced workload.", _BODY))]
    text = "Savings over the audited period at the catalog's rates on the as-of date; each finding states its rule "
    text += "and assumption (grey). They overlap: do not add them up as one plan."
    return [*story, *_block(heads, findings_table(result.findings, WIDTH)), _note(text)]


def write_pdf(result: AuditResult, path: Path) -> None:
    """Render the PDF report of `result` to `path` (written atomically)."""
    register_fonts()

    def write(tmp: Path) -> None:
        doc = _AuditDoc(tmp, result)
        doc.build(build_story(result))

    write_atomically(path, write)
