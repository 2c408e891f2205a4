"""Writing one table to a sheet: typed, formatted cells, neutralised text, formulas with their cached values.

Every text cell is stored as a string (never a formula), exactly as given, control characters replaced; text
that begins like a formula (`=`, `+`, `-`, `@`, tab, CR) also gets the quote prefix, so it stays text when a user
edits the cell. Formulas are only ever written from `Formula` values this package builds; each carries the value
the engine computed, saved as the formula's cached value.

A table's cells are written straight to the XML of its sheet (the `<sheetData>` part, as openpyxl writes cells:
inline strings, numbers as `%.16g`, days as serial numbers), which `finish` puts into the file openpyxl saved:
building an openpyxl cell per value and serialising it costs ten times as much. Cell styles (fonts, fills, number
formats, alignment, quote prefix) are still openpyxl's, one per combination, registered with the workbook.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from openpyxl.cell.cell import Cell
from openpyxl.compat import safe_string
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from auditor.report.formatting import FORMULA_STARTS, clean_text

MONEY_FORMAT = '"$"#,##0.00'
RATE_FORMAT = '"$"#,##0.00####'
COUNT_FORMAT = "#,##0"
PERCENT_FORMAT = "0.0%"
FACTOR_FORMAT = "0.0000"
DATE_FORMAT = "yyyy-mm-dd"
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")  # the input cells: light yellow, blue text
INPUT_FONT = Font(color="1F4E79", bold=True)
_MIN_WIDTH, _MAX_WIDTH = 8, 60
_WRAP = Alignment(wrap_text=True, vertical="top")
_WRAP_UP_TO = 1000  # longer text (a 5,000-character model name) stays on one line rather than a wall-high row
_MAX_TEXT = 32767  # the most characters a cell holds (longer text is cut, as openpyxl cuts it)
_FONTS = {"header": Font(bold=True), "note": Font(italic=True), "input": INPUT_FONT}
_KEPT_TEXTS = 100_000


@dataclass(frozen=True)
class Formula:
    """A formula (`text` starts with '=') and the value it gives on the result's own figures."""

    text: str
    cached: Decimal | int | str | None
    number_format: str | None = MONEY_FORMAT


@dataclass(frozen=True)
class Input:
    """An input cell: a value (or None: empty) the user may change, shown in the input style."""

    value: Decimal | int | None
    number_format: str = FACTOR_FORMAT


# What a cell may hold. The type decides the format: Decimal is money, int a count, float a fraction shown as a
# percentage, date a day.
Value = str | int | float | Decimal | date | Formula | Input | None
Row = Sequence[Value]
# A cell's style: number format, font ("header", "note", "input" or None), wrapped, quote-prefixed.
_Style = tuple[str | None, str | None, bool, bool]


@dataclass
class Cells:
    """The cells of a workbook's sheets as XML (sheet title -> its dimension and the `<row>` elements of its
    `<sheetData>`, one string a row), and the `s="N"` attribute of each cell style used, registered with the
    workbook."""

    book: Workbook
    sheets: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    _styles: dict[_Style, str] = field(default_factory=dict)
    # A text cell's XML after its reference, and its width, by (text, font): a plan over 1,000 segments has
    # 540,000 text cells of 7,600 distinct texts. Up to `_KEPT_TEXTS` of them.
    _texts: dict[tuple[str, str | None], tuple[str, int]] = field(default_factory=dict)

    def style(self, key: _Style) -> str:
        found = self._styles.get(key)
        if found is None:
            number_format, font, wrap, quote = key
            cell = Cell(self.book.worksheets[0])  # stands for every cell of this style
            if font == "input":
                cell.fill = INPUT_FILL
            if font is not None:
                cell.font = _FONTS[font]
            if number_format is not None:
                cell.number_format = number_format
            if wrap:
                cell.alignment = _WRAP
            if quote:
                cell.quotePrefix = True
            found = self._styles[key] = f' s="{cell.style_id}"' if cell.has_style else ""
        return found

    def cell(
        self, ref: str, value: Value, font: str | None = None, number_format: str | None = None
    ) -> tuple[str, int]:
        """The XML of one cell ("": none) and roughly how many characters it shows; `number_format` replaces the
        format of a number."""
        if value is None:
            return "", 0
        if isinstance(value, str):
            known = self._texts.get((value, font))
            if known is None:
                known = self._text(value, font)
                if len(self._texts) < _KEPT_TEXTS:
                    self._texts[(value, font)] = known
            return f'<c r="{ref}"{known[0]}', known[1]
        if isinstance(value, Formula):
            s = self.style((value.number_format, font, False, False))
            formula = _escape(value.text[1:])
            cached = value.cached
            if cached is None:
                return f'<c r="{ref}"{s}><f>{formula}</f><v /></c>', 0
            if isinstance(cached, str):
                return f'<c r="{ref}"{s} t="str"><f>{formula}</f><v>{_escape(cached)}</v></c>', _shown_width(cached)
            number = format(cached, "f") if isinstance(cached, Decimal) else str(cached)
            shown = _shown_width(cached, value.number_format)
            return f'<c r="{ref}"{s}><f>{formula}</f><v>{number}</v></c>', shown
        if isinstance(value, Input):
            s = self.style((value.number_format, "input", False, False))
            if value.value is None:
                return f'<c r="{ref}"{s} t="n" />', 0
            shown = _shown_width(value.value, value.number_format)
            return f'<c r="{ref}"{s} t="n"><v>{float(value.value):.16g}</v></c>', shown
        if isinstance(value, bool):
            return f'<c r="{ref}"{self.style((None, font, False, False))} t="b"><v>{int(value)}</v></c>', 1
        shown_format = number_format or _number_format(value)
        s = self.style((shown_format, font, False, False))
        # numbers as openpyxl writes them: '%.16g' of the float (a Decimal's own format would differ)
        if isinstance(value, int):
            return f'<c r="{ref}"{s} t="n"><v>{float(value):.16g}</v></c>', len(f"{value:,}")
        if isinstance(value, Decimal):
            return f'<c r="{ref}"{s} t="n"><v>{float(value):.16g}</v></c>', _shown_width(value, shown_format)
        if isinstance(value, date):
            return f'<c r="{ref}"{s} t="n"><v>{safe_string(to_excel(value))}</v></c>', 10
        return f'<c r="{ref}"{s} t="n"><v>{safe_string(value)}</v></c>', _shown_width(value)

    def _text(self, value: str, font: str | None) -> tuple[str, int]:
        """A text cell's XML after its reference (`<c r="A1"` comes before), and its width."""
        text = clean_text(value)[:_MAX_TEXT]
        width = max(len(line) for line in value.splitlines() or [""])
        wrap = font is None and width > _MAX_WIDTH and len(value) <= _WRAP_UP_TO
        s = self.style((None, font, wrap, text.startswith(FORMULA_STARTS)))
        if not text:
            return f'{s} t="inlineStr" />', width
        stripped = text.strip()
        space = ' xml:space="preserve"' if stripped and stripped != text else ""
        return f'{s} t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>', width


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _number_format(value: Value) -> str | None:
    if isinstance(value, (Formula, Input)):
        return value.number_format
    if isinstance(value, Decimal):
        return MONEY_FORMAT
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return COUNT_FORMAT
    if isinstance(value, float):
        return PERCENT_FORMAT
    if isinstance(value, date):
        return DATE_FORMAT
    return None


def _shown_width(value: Value, number_format: str | None = None) -> int:
    """Roughly how many characters the cell shows (a rate's up to six decimals: a column cut narrower shows ###)."""
    if isinstance(value, Formula):
        value = value.cached
    if isinstance(value, Input):
        value = value.value
    if value is None:
        return 0
    if isinstance(value, Decimal) and number_format == RATE_FORMAT:
        whole, _, decimals = f"{value:,.6f}".partition(".")
        return len(whole) + 1 + max(len(decimals.rstrip("0")), 2) + 1
    if isinstance(value, Decimal):
        return len(f"{value:,.2f}") + 1
    if isinstance(value, int):
        return len(f"{value:,}")
    if isinstance(value, float):
        return len(f"{value:.1%}")
    if isinstance(value, date):
        return 10
    return max(len(line) for line in str(value).splitlines() or [""])


def write_table(
    sheet: Worksheet,
    headers: Sequence[str],
    rows: Sequence[Row],
    cells: Cells,
    notes: Sequence[str] = (),
    widths: dict[int, int] | None = None,
    formats: Mapping[int, str] | None = None,
) -> None:
    """Bold frozen header, typed and formatted cells, autofilter, column widths from the content; `notes` below
    the table, after an empty row (outside the filter). `formats`: column -> the number format of its numbers
    (in place of the one their type gives)."""
    letters = [get_column_letter(c) for c in range(1, len(headers) + 1)]
    overrides = [(formats or {}).get(c) for c in range(1, len(headers) + 1)]
    header = (cells.cell(f"{x}1", h, "header")[0] for x, h in zip(letters, headers, strict=True))
    # One string a row: over 1,000 segments the Plan sheet has 1.1 million cells, a string each until its row is
    # joined.
    xml = [f'<row r="1">{"".join(header)}</row>']
    shown = [len(h) + 2 for h in headers]  # +2 leaves room for the filter button
    for r, row in enumerate(rows, start=2):
        parts = [f'<row r="{r}">']
        for c, value in enumerate(row):
            cell, width = cells.cell(f"{letters[c]}{r}", value, number_format=overrides[c])
            parts.append(cell)
            if width > shown[c]:
                shown[c] = width
        parts.append("</row>")
        xml.append("".join(parts))
    for n, note in enumerate(notes, start=len(rows) + 3):
        xml.append(f'<row r="{n}">{cells.cell(f"A{n}", note, "note")[0]}</row>')
    last_row = len(rows) + 2 + len(notes) if notes else len(rows) + 1
    cells.sheets[sheet.title] = (f"A1:{letters[-1]}{last_row}", xml)
    for c, width in enumerate(shown, start=1):
        width = (widths or {}).get(c, width)
        sheet.column_dimensions[get_column_letter(c)].width = min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{letters[-1]}{len(rows) + 1}"


_EMPTY_DIMENSION = re.compile(r'<dimension ref="A1:A1"\s*/>')
_EMPTY_SHEET_DATA = re.compile(r"<sheetData\s*/>|<sheetData></sheetData>")


def finish(data: bytes, titles: Sequence[str], cells: Cells, stamp: datetime) -> bytes:
    """The workbook openpyxl saved with each sheet's cells written in (sheet N of `titles` is the part
    xl/worksheets/sheetN.xml, as openpyxl writes them), and every timestamp (the archive's entries, the document's
    created and modified dates) set to `stamp`, so the same result gives the same bytes."""
    parts = {f"xl/worksheets/sheet{n}.xml": cells.sheets.get(title) for n, title in enumerate(titles, start=1)}
    when = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _CORE_DATE.sub(lambda m: f"{m.group(1)}{when}{m.group(2)}", content.decode("utf-8")).encode()
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            sheet = parts.get(info.filename)
            # A sheet's rows are compressed into the archive as they are encoded, never made one string.
            pieces = [content] if sheet is None else _with_cells(content.decode("utf-8"), *sheet)
            with target.open(entry, "w") as written:
                for piece in pieces:
                    written.write(piece)
    return out.getvalue()


_CORE_DATE = re.compile(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


_ROWS_A_PIECE = 1000


def _with_cells(xml: str, dimension: str, rows: list[str]) -> Iterator[bytes]:
    """The sheet as saved, its dimension and rows written in, in UTF-8 pieces of up to `_ROWS_A_PIECE` rows."""
    xml, found = _EMPTY_DIMENSION.subn(lambda _: f'<dimension ref="{dimension}" />', xml, count=1)
    empty = _EMPTY_SHEET_DATA.search(xml)
    if not (found and empty):
        raise ValueError("a sheet as saved has no empty <dimension> or <sheetData> to write its cells into")
    yield f"{xml[: empty.start()]}<sheetData>".encode()
    for start in range(0, len(rows), _ROWS_A_PIECE):
        yield "".join(rows[start : start + _ROWS_A_PIECE]).encode()
    yield f"</sheetData>{xml[empty.end() :]}".encode()
