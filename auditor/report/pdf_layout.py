"""The PDF report's page geometry, typography and building blocks shared by its sections.

Headings become bookmarks, outline entries and table-of-contents lines where they land. Every text from the
result goes through `esc` (or a fitted table): it is data, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Paragraph

from auditor.report.pdf_fonts import FONT, FONT_BOLD
from auditor.report.pdf_tables import GREY, esc
from auditor.result import Scenario

TITLE = "AI spend audit"
MARGIN = 15 * mm
WIDTH = A4[0] - 2 * MARGIN
HEIGHT = A4[1] - 2 * MARGIN - 8 * mm  # the body frame (room for the footer)
KEEP_MAX = 250.0  # a heading and a body up to this tall are kept on one page
MIN_START = 110.0  # a taller body starts only with this much room left

INK = colors.HexColor("#1b2430")
ACCENT = colors.HexColor("#2f5d8a")
# Risk levels and checklist statuses: one colour each, everywhere in the report.
LEVEL_COLOURS = {
    "green": colors.HexColor("#2e7d32"),
    "amber": colors.HexColor("#c77700"),
    "red": colors.HexColor("#c62828"),
    "blocked": colors.HexColor("#4a148c"),
    "none": colors.HexColor("#78909c"),
}
LEVEL_TEXT = {"green": "Green", "amber": "Amber", "red": "Red", "blocked": "Blocked", "none": "not rated"}

BODY = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12, spaceAfter=4, textColor=INK)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8, leading=10.5, spaceAfter=2)
NOTE = ParagraphStyle("note", parent=BODY, fontSize=7.5, leading=9.5, textColor=GREY, spaceBefore=3)
BULLET = ParagraphStyle("bullet", parent=BODY, leftIndent=12, bulletIndent=2, spaceAfter=2, bulletFontName=FONT)
LABEL = ParagraphStyle("label", parent=BODY, fontName=FONT_BOLD)
TITLE_STYLE = ParagraphStyle("title", fontName=FONT_BOLD, fontSize=26, leading=32, spaceAfter=6, textColor=INK)
SUBTITLE = ParagraphStyle("subtitle", parent=BODY, fontSize=12, leading=16, textColor=GREY, spaceAfter=18)
H1 = ParagraphStyle("h1", fontName=FONT_BOLD, fontSize=15, leading=19, spaceBefore=4, spaceAfter=8, textColor=ACCENT)
H2 = ParagraphStyle("h2", fontName=FONT_BOLD, fontSize=11, leading=14, spaceBefore=10, spaceAfter=4, textColor=INK)
H3 = ParagraphStyle("h3", fontName=FONT_BOLD, fontSize=9.5, leading=12, spaceBefore=6, spaceAfter=3, textColor=INK)


class Heading(Paragraph):  # type: ignore[misc]  # reportlab ships no types
    """A heading that becomes a bookmark, an outline entry and, if `toc`, a line of the contents."""

    def __init__(self, text: str, style: ParagraphStyle, level: int, key: str, toc: bool = True) -> None:
        super().__init__(esc(text), style)
        self.outline_title = text
        self.contents_text = esc(text)  # the contents draws its lines as Paragraph markup: data text escaped there too
        self.outline_level = level
        self.outline_key = key
        self.in_contents = toc


def section(title: str, key: str) -> Heading:
    """A top-level section heading (outline level 0)."""
    return Heading(title, H1, 0, key)


def subsection(title: str, key: str) -> Heading:
    """A heading inside a section (outline level 1)."""
    return Heading(title, H2, 1, key)


def minor(title: str, key: str) -> Heading:
    """A smaller heading inside a section: in the outline (level 1), not in the contents."""
    return Heading(title, H3, 1, key, toc=False)


def para(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    """A paragraph of data text, shown literally."""
    return Paragraph(esc(text), style)


def note(text: str) -> Paragraph:
    """A grey explanatory note under a table or chart."""
    return Paragraph(esc(text), NOTE)


def block(heads: Sequence[Flowable], body: Flowable) -> list[Flowable]:
    """Headings with what follows them, never a heading alone at a page foot: a short block moves whole to
    the next page; a long one starts only with room for its first rows, and its table repeats its header."""
    if body.wrap(WIDTH, A4[1])[1] <= KEEP_MAX:
        return [KeepTogether([*heads, body])]
    return [CondPageBreak(MIN_START), *heads, body]


def bullets(heads: Sequence[Flowable], items: Sequence[str], empty: str) -> list[Flowable]:
    """A bullet list under its headings; the headings stay with the first item."""
    paragraphs = [Paragraph(esc(item), BULLET, bulletText="•") for item in items]
    paragraphs = paragraphs or [Paragraph(esc(empty), BODY)]
    return [*block(heads, paragraphs[0]), *paragraphs[1:]]


def level_of(level: str | None) -> str:
    """A risk level as the report keys it: `none` when the scenario was not rated."""
    return level if level in LEVEL_COLOURS else "none"


def hex_colour(colour: colors.Color) -> str:
    """`#rrggbb` of a colour, for markup."""
    return "#" + str(colour.hexval())[2:]


def candidate_label(s: Scenario) -> str:
    """`Name (provider:model)`; a route-by-segment scenario by its name alone."""
    return s.candidate_name if s.kind == "hybrid" else f"{s.candidate_name} ({s.candidate})"
