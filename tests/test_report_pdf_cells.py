"""PDF table cells drawn without a Paragraph (`Lines`) break and stand exactly as reportlab's Paragraph of the
same cell would: same lines, same words on each, same height."""

from __future__ import annotations

import random

import pytest
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.platypus import Paragraph

from auditor.report.pdf_fonts import register_fonts
from auditor.report.pdf_tables import Cell, Lines, Mark, cell_paragraph

WORDS = ["a", "to", "the", "gpt-4o", "anthropic:claude-sonnet-4-5", "$1,234.56", "W", "iiii", "—", "ü", "data/x.csv"]


def _paragraph_lines(p: Paragraph) -> list[str]:
    """The text of each line reportlab broke the paragraph into."""
    bl = p.blPara
    if bl.kind == 0:
        return [" ".join(words) for _, words in bl.lines]
    return [" ".join("".join(getattr(f, "text", "") for f in line.words).split()) for line in bl.lines]


def _cells(seed: int) -> list[Cell]:
    rng = random.Random(seed)

    def text() -> str:
        lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 14))) for _ in range(rng.randint(1, 3))]
        return "\n".join(lines)

    kinds: list[Cell] = []
    for _ in range(60):
        kinds += [text(), (text(), text()), Mark(text(), "#c62828")]
    return kinds


@pytest.mark.parametrize("seed", range(4))
def test_lines_break_and_stand_as_the_paragraph_would(seed: int) -> None:
    register_fonts()
    rng = random.Random(1000 + seed)
    drawn = 0
    for cell in _cells(seed):
        width = rng.uniform(20, 220)
        size = rng.choice([7.5, 7.0, 6.5, 6.0, 5.5])
        align = rng.choice([TA_LEFT, TA_RIGHT])
        bold = rng.random() < 0.2
        fast = cell_paragraph(cell, size, align, width, bold)
        slow = cell_paragraph(cell, size, align, width, bold, fitting=False)
        assert isinstance(slow, Paragraph)
        height = slow.wrap(width, 10_000)[1]
        if not isinstance(fast, Lines):
            continue
        drawn += 1
        assert fast.wrap(width, 10_000)[1] == height
        assert [text for text, *_ in fast.lines] == _paragraph_lines(slow)
        if slow.blPara.kind == 0:
            assert all(extra >= 0 for extra, _ in slow.blPara.lines)  # no line drawn with narrowed spaces
        else:
            assert all(line.extraSpace >= 0 for line in slow.blPara.lines)
    assert drawn > 120  # most cells need no Paragraph


def test_text_a_paragraph_would_change_keeps_the_paragraph() -> None:
    register_fonts()
    for cell in ["two  spaces", " lead", "trail ", "tab\there", "no\u00a0break", "soft\xadhyphen", "", "a\n\nb"]:
        assert not isinstance(cell_paragraph(cell, 7.0, TA_LEFT, 200.0), Lines)
    assert isinstance(cell_paragraph("plain words", 7.0, TA_LEFT, 200.0), Lines)


def test_a_total_row_never_starts_a_page_alone() -> None:
    """Split where every body row fits and the total does not: the total goes over with the row above it, not alone
    under the repeated header (the appendix's month table once ended on a page of its header and "Total")."""
    from auditor.report.pdf_tables import Column, fitted_table

    register_fonts()
    rows: list[list[Cell]] = [[f"row {i}", f"{i:,}"] for i in range(30)]
    table = fitted_table([Column("name", "text"), Column("value")], rows, 300, ["Total", "435"])
    table.wrap(300, 10_000)
    heights = table._rowHeights  # header, 30 rows, total
    first, second = table.split(300, sum(heights[:-1]) + 0.1)
    assert len(first._cellvalues) == 1 + 29  # the header and rows 0 to 28
    assert len(second._cellvalues) == 1 + 2  # the header repeated, row 29 and the total
    texts = [" ".join(line[0] for line in row[0].lines) for row in second._cellvalues]
    assert texts == ["name", "row 29", "Total"]
