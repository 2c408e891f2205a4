"""PDF building blocks: paragraph styles, and tables whose columns fit the page (fonts: `pdf_fonts`).

Text taken from the result is always escaped (controls replaced, XML escaped): it is data, never markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from auditor.report.formatting import (
    cache_write_total,
    clean_text,
    contract_suffix,
    list_cost_label,
    money,
    tokens,
)
from auditor.report.pdf_fonts import (
    FONT,
    FONT_BOLD,
    drawable,
    markup,
    needs_fallback,
    register_fonts,
    text_width,
    visual,
)
from auditor.result import AuditResult, MonthlyUsage, TokenCounts, Totals, UsageEntry

GREY = colors.HexColor("#666666")
HEAD_BG = colors.HexColor("#e8ebf0")
ZEBRA = colors.HexColor("#f6f7f9")
RULE = colors.HexColor("#c9ced6")

_PAD = 3.0  # left and right cell padding, points
_TOP_PAD, _BOTTOM_PAD = 2.0, 2.5  # top and bottom cell padding, points
_SIZES = (7.5, 7.0, 6.5, 6.0, 5.5)  # table font sizes tried, largest first, until the columns fit
_SUB_SHRINK = 1.5  # the grey second line of a cell is this much smaller
_SQUEEZE = 0.6  # share of their minimum width flex columns keep when a table does not fit
_TALL = 600.0  # a row taller than this (points) may be split across pages
_TALL_CHARS = 300  # fewer characters than this in every cell never make a row that tall
_BREAK_AFTER = re.compile(r"(?<=[/\-_:.@,])")  # where a long word may be broken


@dataclass(frozen=True)
class Mark:
    """A cell drawn bold in a colour (a status or a risk level); its text is escaped like any other."""

    text: str
    colour: str  # "#rrggbb"


# A cell: plain data text, (main text, grey second line), or a coloured mark. All are escaped when laid out.
Cell = str | tuple[str, str] | Mark


def esc(text: str) -> str:
    """Data text made safe for a Paragraph: it shows literally, whatever it contains."""
    return markup(drawable(clean_text(text)))


class Text(Paragraph):  # type: ignore[misc]  # reportlab ships no types
    """A Paragraph that breaks its lines once per width. Reportlab wraps a paragraph again each time its table is
    measured, split or drawn, in every pass of the build; the lines depend on the width alone."""

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        if getattr(self, "_wrapped_at", None) == availWidth and hasattr(self, "blPara"):
            return self.width, self.height
        size: tuple[float, float] = super().wrap(availWidth, availHeight)
        self._wrapped_at = availWidth
        return size


@lru_cache(maxsize=64)
def cell_style(size: float, align: int = TA_LEFT, bold: bool = False) -> ParagraphStyle:
    """Paragraph style for table cells of one size, alignment and weight."""
    return ParagraphStyle(
        f"cell-{size}-{align}-{bold}",
        fontName=FONT_BOLD if bold else FONT,
        fontSize=size,
        leading=size * 1.25,
        alignment=align,
    )


@dataclass(frozen=True)
class Column:
    """A table column. num: right-aligned, as wide as its widest cell; text: left-aligned, measured up to
    `cap` points then wrapped; flex: takes a `weight` share of the width the other columns leave."""

    header: str
    kind: Literal["num", "text", "flex"] = "num"
    cap: float = 120.0
    weight: float = 1.0
    min_width: float = 70.0


def cell_paragraph(
    cell: Cell, size: float, align: int, width: float, bold: bool = False, fitting: bool = True
) -> Flowable:
    """Lay out one cell `width` points wide; a (main, sub) cell gets its sub line smaller and grey. With
    `fitting`, a cell that reportlab would break into lines at spaces only, none drawn with narrowed spaces, is
    drawn as `Lines`, broken as reportlab would (it looks the same, for less work)."""
    font = FONT_BOLD if bold else FONT
    style = cell_style(size, align, bold or isinstance(cell, Mark))
    parts: list[tuple[list[list[str]], float, colors.Color]]  # each part's lines of words, its size and colour
    if isinstance(cell, Mark):
        parts = [(broken_lines(cell.text, FONT_BOLD, size, width), size, colors.HexColor(cell.colour))]
    elif isinstance(cell, str):
        parts = [(broken_lines(cell, font, size, width), size, colors.black)]
    else:  # the sub line is measured in the regular font but drawn in the cell's font (bold in a bold row)
        small = size - _SUB_SHRINK
        parts = [(broken_lines(cell[0], font, size, width), size, colors.black)]
        parts.append((broken_lines(cell[1], FONT, small, width), small, GREY))
    lines = _set_lines(parts, style, width) if fitting else None
    if lines is not None:
        return Lines(lines, style.leading, align)
    markup = [_markup(segments) for segments, _, _ in parts]
    if isinstance(cell, Mark):
        return Text(f'<font color="{cell.colour}">{markup[0]}</font>', style)
    if isinstance(cell, str):
        return Text(markup[0], style)
    return Text(f'{markup[0]}<br/><font size="{parts[1][1]}" color="#666666">{markup[1]}</font>', style)


Line = tuple[str, str, float, colors.Color, float]  # text, font, size, colour, width (its words' and spaces')


def _set_lines(
    parts: Sequence[tuple[Sequence[Sequence[str]], float, colors.Color]], style: ParagraphStyle, width: float
) -> list[Line] | None:
    """The lines a Paragraph of these parts would draw, each line's words filled up to `width` as reportlab fills
    them; None when the text holds what a Paragraph changes (a run of spaces, other white space, an empty line),
    or a line would come within a hair of the width or need its spaces narrowed (reportlab's call, not ours)."""
    font, squeeze = style.fontName, style.spaceShrinkage
    lines: list[Line] = []
    for segments, size, colour in parts:
        space = _text_width(" ", font, size)
        for words in segments:
            text = " ".join(words)
            # (text in two fonts, or with right-to-left runs, is set by a Paragraph, from its markup)
            if not text.isprintable() or text.split() != list(words) or needs_fallback(text) or visual(text) != text:
                return None
            line: list[str] = []
            used = 0.0
            for word in words:
                wide = _text_width(word, font, size)
                if wide > width - 1e-6:
                    return None
                if line:
                    more = used + space + wide
                    if more <= width - 1e-6:
                        line.append(word)
                        used = more
                        continue
                    if more <= width + squeeze * space * (len(line) + 1) + 1e-6:
                        return None  # reportlab may keep the word here, narrowing the spaces
                    lines.append((" ".join(line), font, size, colour, used))
                line, used = [word], wide
            lines.append((" ".join(line), font, size, colour, used))
    return lines


class Lines(Flowable):  # type: ignore[misc]  # reportlab ships no types
    """Cell text that needs no wrapping, drawn where reportlab draws a Paragraph's lines (the first baseline a
    font size below the top, then one leading apart, each line aligned on its own) without parsing markup or
    breaking lines: most cells are a number or a short name."""

    def __init__(self, lines: Sequence[Line], leading: float, align: int) -> None:
        super().__init__()
        self.lines = lines
        self.leading = leading
        self.align = align

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width, self.height = availWidth, len(self.lines) * self.leading
        return self.width, self.height

    def draw(self) -> None:
        self.draw_at(self.canv, 0.0, 0.0, self.width)

    def draw_at(self, canv: Canvas, x: float, y: float, width: float) -> None:
        """Draw the lines in a box `width` points wide whose bottom left corner is (x, y), in one text object.

        Each line is placed at the box's corner, then moved by its offset in the box: the PDF holds the same
        numbers as when the box is drawn as a translated flowable, so text extraction lays it out the same."""
        text = canv.beginText()
        height = len(self.lines) * self.leading
        first = height - self.lines[0][2]
        for i, (line, font, size, colour, wide) in enumerate(self.lines):
            left = width - wide if self.align == TA_RIGHT else 0
            text.setTextOrigin(x, y)
            text.moveCursor(left, -(first - i * self.leading))
            text.setFont(font, size, self.leading)
            text.setFillColor(colour)
            text.textOut(line)
        canv.drawText(text)


class _Table(Table):  # type: ignore[misc]  # reportlab ships no types
    """A Table that draws its `Lines` cells itself, where reportlab would place them, without a flowable's
    saved state and translation for each."""

    def _drawCell(self, cellval: object, cellstyle: Any, pos: tuple[float, float], size: tuple[float, float]) -> None:
        if not isinstance(cellval, Lines):
            super()._drawCell(cellval, cellstyle, pos, size)
            return
        (x, y), (width, height) = pos, size
        lines = len(cellval.lines) * cellval.leading
        # the box's corner in reportlab's own arithmetic (so rounded alike): the top, less the box's height
        if cellstyle.valign == "BOTTOM":
            y = y + cellstyle.bottomPadding + lines - lines
        else:  # TOP
            y = y + height - cellstyle.topPadding - lines
        inner = width - cellstyle.leftPadding - cellstyle.rightPadding
        cellval.draw_at(self.canv, x + cellstyle.leftPadding, y, inner)
        self._curcellstyle = None  # the fill colour and font are no longer the cell style's


def wrap_markup(text: str, font: str, size: float, width: float) -> str:
    """Escaped markup of data `text`, its line breaks kept; a word wider than `width` is broken (after
    / - _ : . @ , where it can) into lines that fit, so nothing is ever drawn past its cell."""
    return _markup(broken_lines(text, font, size, width))


def _markup(segments: Sequence[Sequence[str]]) -> str:
    return "<br/>".join(markup(" ".join(words)) for words in segments)


def broken_lines(text: str, font: str, size: float, width: float) -> list[list[str]]:
    """The words of data `text` on the lines it must start: its own line breaks, and each line of the pieces
    of a word wider than `width` (after / - _ : . @ , where it can)."""
    segments: list[list[str]] = []
    for line in drawable(clean_text(text)).splitlines() or [""]:
        if _text_width(line, font, size) <= width:  # then so is each of its words
            segments.append(line.split(" "))
            continue
        words: list[str] = []
        for word in line.split(" "):
            first, *rest = _word_lines(word, font, size, width)
            words.append(first)
            for piece in rest:
                segments.append(words)
                words = [piece]
        segments.append(words)
    return segments


def _word_lines(word: str, font: str, size: float, width: float) -> list[str]:
    if _text_width(word, font, size) <= width:
        return [word]
    lines = [""]
    for piece in _pieces(word, font, size, width):
        if lines[-1] and _text_width(lines[-1] + piece, font, size) > width:
            lines.append(piece)
        else:
            lines[-1] += piece
    return lines


def _pieces(word: str, font: str, size: float, width: float) -> Iterator[str]:
    """The word cut after separators; a piece still too wide is cut between characters."""
    for piece in _BREAK_AFTER.split(word):
        while len(piece) > 1 and _text_width(piece, font, size) > width:
            low, high = 1, len(piece) - 1  # the longest prefix that fits (at least one character)
            while low < high:
                mid = (low + high + 1) // 2
                low, high = (mid, high) if _text_width(piece[:mid], font, size) <= width else (low, mid - 1)
            cut = low
            yield piece[:cut]
            piece = piece[cut:]
        if piece:
            yield piece


@lru_cache(maxsize=65536)
def _text_width(text: str, font: str, size: float) -> float:
    return text_width(text, font, size)


def _widest_line(text: str, font: str, size: float) -> float:
    return max((_text_width(line, font, size) for line in clean_text(text).splitlines()), default=0.0)


def _chars(cell: Cell) -> int:
    """How much a cell holds: its characters, a line break counted as a line's worth."""
    texts = [cell.text] if isinstance(cell, Mark) else [cell] if isinstance(cell, str) else list(cell)
    return sum(len(text) + 60 * text.count("\n") for text in texts)


def _measure(cell: Cell, size: float, bold: bool = False) -> float:
    font = FONT_BOLD if bold else FONT
    if isinstance(cell, Mark):
        return _widest_line(cell.text, FONT_BOLD, size)
    if isinstance(cell, str):
        return _widest_line(cell, font, size)
    main, sub = cell
    return max(_widest_line(main, font, size), _widest_line(sub, FONT, size - _SUB_SHRINK))


def _header_width(header: str, size: float) -> float:
    """Headers may wrap between words, so only their widest word must fit."""
    return max(_text_width(word, FONT_BOLD, size) for word in header.split(" "))


def _natural(column: Column, index: int, rows: Sequence[Sequence[Cell]], size: float) -> float:
    widest = max([_header_width(column.header, size), *(_measure(row[index], size, True) for row in rows)])
    width = widest + 2 * _PAD + 0.5
    return width if column.kind == "num" else min(width, column.cap)


def _widths(
    columns: Sequence[Column], rows: Sequence[Sequence[Cell]], size: float, width: float
) -> tuple[list[float], bool]:
    """Column widths at one font size, and whether they fit without squeezing.

    Squeezed, flex columns shrink to part of their minimum and the widest other columns are capped at one
    level; cells then wrap (long words split), never clip."""
    flex = [i for i, c in enumerate(columns) if c.kind == "flex"]
    widths = [0.0 if c.kind == "flex" else _natural(c, i, rows, size) for i, c in enumerate(columns)]
    floor = sum(columns[i].min_width for i in flex)
    fits = sum(widths) + floor <= width
    if not fits:
        widths = _level(widths, width - floor * _SQUEEZE)
    left = width - sum(widths)
    weight = sum(columns[i].weight for i in flex)
    for i in flex:
        widths[i] = left * columns[i].weight / weight
    return widths, fits


def _level(widths: list[float], budget: float) -> list[float]:
    """Cap the widest widths at one level so they add up to `budget`; narrower ones keep theirs."""
    ordered = sorted(widths)
    for i, w in enumerate(ordered):
        share = budget / (len(ordered) - i)
        if w > share:
            return [min(x, share) for x in widths]
        budget -= w
    return widths


def _fit(columns: Sequence[Column], rows: Sequence[Sequence[Cell]], width: float) -> tuple[float, list[float]]:
    for size in _SIZES:
        widths, fits = _widths(columns, rows, size, width)
        if fits:
            return size, widths
    return _SIZES[-1], widths


def _table_style(rows: int, has_total: bool, group_starts: Sequence[int], header: bool = True) -> TableStyle:
    """Rules, zebra rows and the header band; `rows` counts the body rows (the total included)."""
    first = 1 if header else 0  # the first body row's index
    commands: list[tuple[object, ...]] = [
        ("FONT", (0, 0), (-1, -1), FONT, 7),  # cells are Paragraphs; this keeps Helvetica out of the PDF
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), _PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), _PAD),
        ("TOPPADDING", (0, 0), (-1, -1), _TOP_PAD),
        ("BOTTOMPADDING", (0, 0), (-1, -1), _BOTTOM_PAD),
        ("ROWBACKGROUNDS", (0, first), (-1, -1), [colors.white, ZEBRA]),
        ("LINEBELOW", (0, first), (-1, -1), 0.25, RULE),
    ]
    if header:
        commands += [
            ("VALIGN", (0, 0), (-1, 0), "BOTTOM"),
            ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ]
    commands += [("LINEABOVE", (0, row + first), (-1, row + first), 0.8, GREY) for row in group_starts if row > 0]
    if has_total:
        last = rows - 1 + first
        commands += [
            ("LINEABOVE", (0, last), (-1, last), 0.8, colors.black),
            ("BACKGROUND", (0, last), (-1, last), HEAD_BG),
        ]
        if last > first:  # the total stays with the row above it: never alone under a repeated header
            commands.append(("NOSPLIT", (0, last - 1), (-1, last)))
    return TableStyle(commands)


def fitted_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    width: float,
    total: Sequence[Cell] | None = None,
    group_starts: Sequence[int] = (),
    header: bool = True,
) -> Table:
    """A table as wide as `width`, header repeated on every page, optional bold totals row last.

    `group_starts` are indexes of `rows` that begin a group (a darker rule is drawn above them). Without
    `header`, the column names are not drawn (a two-column list of facts). A row taller than a page (a
    name thousands of characters long) is split across pages; others stay whole.
    """
    register_fonts()
    every = [*rows, total] if total is not None else list(rows)
    size, widths = _fit(columns, every, width)
    aligns = [TA_RIGHT if c.kind == "num" else TA_LEFT for c in columns]
    inner = [w - 2 * _PAD for w in widths]
    layout = list(zip(aligns, inner, strict=True))

    def lay_out(fitting: bool) -> tuple[list[Flowable], list[list[Flowable]]]:
        made: dict[tuple[Cell, int, float, bool], Flowable] = {}  # a cell repeated in a column is laid out once

        def cell(value: Cell, align: int, inner: float, bold: bool) -> Flowable:
            key = (value, align, inner, bold)
            if key not in made:
                made[key] = cell_paragraph(value, size, align, inner, bold, fitting)
            return made[key]

        head = [cell(c.header, a, w, True) for c, (a, w) in zip(columns, layout, strict=True)]
        return head, [
            [cell(value, a, w, row is total) for value, (a, w) in zip(row, layout, strict=True)] for row in every
        ]

    head, body = lay_out(fitting=True)
    tall = any(
        max(p.wrap(w, _TALL)[1] for p, w in zip(laid, inner, strict=True)) > _TALL
        for row, laid in zip(every, body, strict=True)
        if max(_chars(cell) for cell in row) >= _TALL_CHARS  # shorter text cannot fill a page
    )
    if tall:  # rows are split inside: every cell splits as a Paragraph does
        head, body = lay_out(fitting=False)
    data = [head, *body] if header else body
    # Each row as tall as its tallest cell, as reportlab would find it; given, the heights are not measured again
    # each time the table is split over pages. A table split inside rows measures its own.
    heights = None if tall else [_row_height(row, inner) for row in data]
    table = _Table(
        data, colWidths=widths, rowHeights=heights, repeatRows=1 if header else 0, hAlign="LEFT", splitInRow=int(tall)
    )
    style = _table_style(len(every), total is not None, group_starts, header)
    table.setStyle(style)
    return table


def _row_height(row: Sequence[Flowable], inner: Sequence[float]) -> float:
    tallest: float = max(cell.wrap(width, _TALL)[1] for cell, width in zip(row, inner, strict=True))
    return tallest + (_BOTTOM_PAD + _TOP_PAD)


# --- the report's tables -------------------------------------------------------------------------------

_TOKEN_COLUMNS = [
    Column("requests"),
    Column("input"),
    Column("cache read"),
    Column("cache write (5m+1h)"),
    Column("output"),
]
_MONEY_COLUMNS = [Column("billed"), Column("list cost")]


def _model_cell(model_raw: str, model: str | None, also: Sequence[str] = ()) -> Cell:
    catalog = model if model is not None else "not in the price catalog"
    return (model_raw, catalog + (f"; also written {', '.join(also)}" if also else ""))


def _token_cells(counts: TokenCounts, requests: int | None) -> list[Cell]:
    return [
        tokens(requests),
        tokens(counts.input_tokens),
        tokens(counts.cache_read_tokens),
        tokens(cache_write_total(counts)),
        tokens(counts.output_tokens),
    ]


STATED_MARK = "†"
STATED_NOTE = (
    f"{STATED_MARK} A list price the vendor's export states itself, for a month in which a usage export gives the "
    "vendor's tokens: shown, not counted in the list cost (the same spend may be among those tokens)."
)


def list_cost_text(row: UsageEntry | MonthlyUsage) -> str:
    """List cost of a row: never $0 for usage the catalog cannot price; a stated list price the total sets aside
    shown after it, marked (`STATED_NOTE`)."""
    stated = "" if row.stated_list_cost is None else f"stated {money(row.stated_list_cost)}{STATED_MARK}"
    if row.contract_cost is not None and row.list_cost is None:
        return f"contract {money(row.contract_cost)}"
    if stated and row.list_cost is None:
        return stated
    text = (list_cost_label(row) or money(row.list_cost)) + contract_suffix(row.contract_cost)
    return f"{text} · {stated}" if stated else text


def model_table(result: AuditResult, width: float) -> Table:
    """Spend by model, with the totals of the result (never re-added here)."""
    columns = [
        Column("provider", "text", cap=70),
        Column("model", "flex", min_width=135),
        *_TOKEN_COLUMNS,
        *_MONEY_COLUMNS,
    ]
    rows: list[list[Cell]] = [
        [
            u.provider,
            _model_cell(u.model_raw, u.model, u.also_written_as),
            *_token_cells(u, u.requests),
            money(u.billed_cost),
            list_cost_text(u),
        ]
        for u in result.usage
    ]
    t = result.totals
    list_total = money(t.list_cost) + contract_suffix(t.contract_cost)
    total: list[Cell] = ["Total", "", *_token_cells(t, t.requests), money(t.billed_cost), list_total]
    return fitted_table(columns, rows, width, total)


SPEND_COLUMNS = (
    Column("model lines"),
    Column("requests"),
    Column("tokens"),
    Column("billed"),
    Column("list cost"),
    Column("share of list"),
)
"""The figures of a row of spend by provider, project or key, after its names."""


def spend_total(totals: Totals, *between: Cell, list_suffix: str = "") -> list[Cell]:
    """A spend table's "Total" row: `between` cells, then the run's requests, tokens, billed and list cost."""
    return [
        "Total",
        *between,
        tokens(totals.requests),
        tokens(totals.all_tokens()),
        money(totals.billed_cost),
        money(totals.list_cost) + list_suffix,
    ]


def month_table(result: AuditResult, width: float) -> Table:
    """Spend by calendar month and model; a rule between months."""
    columns = [
        Column("month", "text"),
        Column("provider", "text", cap=70),
        Column("model", "flex"),
        Column("requests"),
        Column("tokens"),
        *_MONEY_COLUMNS,
    ]
    months = [m.month for m in result.usage_by_month]
    starts = [i for i, month in enumerate(months) if i > 0 and month != months[i - 1]]
    rows: list[list[Cell]] = [
        [
            m.month,
            m.provider,
            _model_cell(m.model_raw, m.model),
            tokens(m.requests),
            tokens(m.all_tokens()),
            money(m.billed_cost),
            list_cost_text(m),
        ]
        for m in result.usage_by_month
    ]
    t = result.totals
    total = spend_total(t, "", "", list_suffix=contract_suffix(t.contract_cost))
    return fitted_table(columns, rows, width, total, starts)
