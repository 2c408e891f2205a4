"""Writing one table to a sheet: typed, formatted cells, neutralised text, formulas with their cached values.

Every text cell is stored as a string (never a formula), exactly as given, control characters replaced; text
that begins like a formula (`=`, `+`, `-`, `@`, tab, CR) also gets the quote prefix, so it stays text when a user
edits the cell. Formulas are only ever written from `Formula` values this package builds; each carries the value
the engine computed, which `cache_values` writes into the saved file (openpyxl writes formulas without one).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
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
# Cached values of formula cells: sheet title -> coordinate -> value.
Cache = dict[str, dict[str, Decimal | int | str | None]]


def set_text(cell: Cell, text: str) -> None:
    """Store `text` as a string cell, never a formula; quote-prefixed when it begins like one."""
    text = clean_text(text)
    cell.value = text
    cell.data_type = "s"
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True


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


def _shown_width(value: Value) -> int:
    """Roughly how many characters the cell shows."""
    if isinstance(value, Formula):
        value = value.cached
    if isinstance(value, Input):
        value = value.value
    if value is None:
        return 0
    if isinstance(value, Decimal):
        return len(f"{value:,.2f}") + 1
    if isinstance(value, int):
        return len(f"{value:,}")
    if isinstance(value, float):
        return len(f"{value:.1%}")
    if isinstance(value, date):
        return 10
    return max(len(line) for line in str(value).splitlines() or [""])


def write_cell(sheet: Worksheet, row: int, column: int, value: Value, cache: Cache) -> Cell:
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        set_text(cell, value)
    elif isinstance(value, Formula):
        cell.value = value.text
        cache.setdefault(sheet.title, {})[cell.coordinate] = value.cached
    elif isinstance(value, Input):
        cell.value = value.value
        cell.fill, cell.font = INPUT_FILL, INPUT_FONT
    else:
        cell.value = value
    number_format = _number_format(value)
    if number_format is not None:
        cell.number_format = number_format
    return cell


def write_table(
    sheet: Worksheet,
    headers: Sequence[str],
    rows: Sequence[Row],
    cache: Cache,
    notes: Sequence[str] = (),
    widths: dict[int, int] | None = None,
) -> None:
    """Bold frozen header, typed and formatted cells, autofilter, column widths from the content; `notes` below
    the table, after an empty row (outside the filter)."""
    for c, header in enumerate(headers, start=1):
        write_cell(sheet, 1, c, header, cache).font = Font(bold=True)
    shown = [len(h) + 2 for h in headers]  # +2 leaves room for the filter button
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = write_cell(sheet, r, c, value, cache)
            width = _shown_width(value)
            shown[c - 1] = max(shown[c - 1], width)
            if isinstance(value, str) and width > _MAX_WIDTH and len(value) <= _WRAP_UP_TO:
                cell.alignment = _WRAP
    for c, width in enumerate(shown, start=1):
        width = (widths or {}).get(c, width)
        sheet.column_dimensions[get_column_letter(c)].width = min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"
    for n, note in enumerate(notes):
        write_cell(sheet, len(rows) + 3 + n, 1, note, cache).font = Font(italic=True)


_FORMULA_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*)><f>(.*?)</f><v\s*/></c>', re.S)


def cache_values(data: bytes, titles: Sequence[str], cache: Cache, stamp: datetime) -> bytes:
    """The saved workbook with each formula cell's cached value written in (sheet N of `titles` is the part
    xl/worksheets/sheetN.xml, as openpyxl writes them), and every timestamp (the archive's entries, the document's
    created and modified dates) set to `stamp`, so the same result gives the same bytes."""
    parts = {f"xl/worksheets/sheet{n}.xml": cache.get(title, {}) for n, title in enumerate(titles, start=1)}
    when = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            values = parts.get(info.filename)
            if values:
                content = _with_values(content.decode("utf-8"), values).encode("utf-8")
            if info.filename == "docProps/core.xml":
                content = _CORE_DATE.sub(lambda m: f"{m.group(1)}{when}{m.group(2)}", content.decode("utf-8")).encode()
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, content)
    return out.getvalue()


_CORE_DATE = re.compile(r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def _with_values(xml: str, values: dict[str, Decimal | int | str | None]) -> str:
    return _FORMULA_CELL.sub(lambda m: _cached(m, values), xml)


def _cached(match: re.Match[str], values: dict[str, Decimal | int | str | None]) -> str:
    ref, attributes, formula = match.groups()
    value = values.get(ref)
    if value is None:
        return match.group(0)
    if isinstance(value, str):
        text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f'<c r="{ref}"{attributes} t="str"><f>{formula}</f><v>{text}</v></c>'
    number = format(value, "f") if isinstance(value, Decimal) else str(value)
    return f'<c r="{ref}"{attributes}><f>{formula}</f><v>{number}</v></c>'
