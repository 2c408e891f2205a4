"""The workbook's cells, written straight to each sheet's XML, are the cells openpyxl writes for the same values:
the same XML (but for the numbering of styles and the formulas' cached values), values, types and styles."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font

from auditor.report import xlsx_table
from auditor.report.xlsx_table import (
    COUNT_FORMAT,
    DATE_FORMAT,
    FACTOR_FORMAT,
    INPUT_FILL,
    INPUT_FONT,
    MONEY_FORMAT,
    PERCENT_FORMAT,
    RATE_FORMAT,
    Cells,
    Formula,
    Input,
    Row,
    Value,
    finish,
    write_table,
)

HEADERS = ["text", "number", "other", "override"]
ROWS: list[Row] = [
    ["plain", 7, Decimal("1234.5678"), Decimal("0.25")],
    [" padded ", -3, Decimal("0.000000001"), 12],
    ["", 10**17, 0.125, "n/a"],
    ["=1+2", True, date(2026, 1, 2), None],
    ["a & <b> \"c\" 'd'", None, Formula("=1+1", Decimal("2.50")), Decimal("-7")],
    ["x" * 70, 0, Formula('=IF(1,"a<b","c")', "a<b", None), 1.5],
    ["y" * 1500, Decimal("0"), Formula("=A1&B1", None, COUNT_FORMAT), None],
    ["line one\nline two\n", 5, Formula("=2*3", 6, RATE_FORMAT), None],
    ["ctrl\x01char\x7f", 1, Input(None), None],
    ["z" * 40000, 2, Input(Decimal("0.5"), RATE_FORMAT), None],
    ["-minus", 3, Input(4, FACTOR_FORMAT), None],
    [],
    [None, None, None, None],
    # Texts met again, as the header's and the note's (other fonts) and the rows' own: each cell its own style.
    ["x" * 70, "A note.", "text", " padded "],
    ["=1+2", "plain", "text", "ctrl\x01char\x7f"],
    ["A note.", "=not a formula", "line one\nline two\n", "plain"],
]
NOTES = ["A note.", "=not a formula"]
FORMATS = {4: FACTOR_FORMAT}


def _ours() -> bytes:
    book = Workbook()
    sheet = book.active
    cells = Cells(book)
    write_table(sheet, HEADERS, ROWS, cells, NOTES, widths={1: 30}, formats=FORMATS)
    buffer = io.BytesIO()
    book.save(buffer)
    return finish(buffer.getvalue(), book.sheetnames, cells, datetime(2026, 11, 28))


def _openpyxl_cell(sheet: Any, row: int, column: int, value: Value, override: str | None = None) -> Any:
    """The value written through an openpyxl cell, as the workbook wrote every cell before."""
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        text = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", "\ufffd", value)
        cell.value, cell.data_type = text, "s"
        if text.startswith(("=", "+", "-", "@", "\t", "\r")):
            cell.quotePrefix = True
    elif isinstance(value, Formula):
        cell.value = value.text
        if value.number_format:
            cell.number_format = value.number_format
    elif isinstance(value, Input):
        cell.value = value.value
        cell.fill, cell.font, cell.number_format = INPUT_FILL, INPUT_FONT, value.number_format
    else:
        cell.value = value
        formats = {Decimal: MONEY_FORMAT, int: COUNT_FORMAT, float: PERCENT_FORMAT, date: DATE_FORMAT}
        number_format = formats.get(type(value))
        if number_format:
            cell.number_format = override or number_format
    return cell


def _theirs() -> bytes:
    book = Workbook()
    sheet = book.active
    for c, header in enumerate(HEADERS, start=1):
        _openpyxl_cell(sheet, 1, c, header).font = Font(bold=True)
    for r, row in enumerate(ROWS, start=2):
        for c, value in enumerate(row, start=1):
            cell = _openpyxl_cell(sheet, r, c, value, FORMATS.get(c))
            if isinstance(value, str) and max(map(len, value.splitlines()), default=0) > 60 and len(value) <= 1000:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for n, note in enumerate(NOTES, start=len(ROWS) + 3):
        _openpyxl_cell(sheet, n, 1, note).font = Font(italic=True)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _sheet_data(data: bytes) -> str:
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    cells = re.search("<sheetData>.*</sheetData>", xml, re.S)
    assert cells is not None
    plain = re.sub(r' s="\d+"', "", cells.group(0))
    plain = re.sub(r"<c ([^>]*?)(?: t=\"str\")?><f>(.*?)</f><v>[^<]*</v>", r"<c \1><f>\2</f><v />", plain)
    plain = re.sub(r"&#(\d+);", lambda m: chr(int(m.group(1))), plain)  # lxml writes U+FFFD as &#65533;
    plain = re.sub(r"<(\w+)([^<>]*?)\s*(?:/>|></\1>)", r"<\1\2 />", plain)  # <v></v> (with lxml), <v/>: <v />
    return re.sub(r'<row r="\d+" />', "", plain)  # an empty row is no cell


def _facts(data: bytes) -> dict[str, tuple[object, ...]]:
    sheet = load_workbook(io.BytesIO(data)).active
    return {cell.coordinate: _cell_facts(cell) for row in sheet.iter_rows() for cell in row}


def _cell_facts(cell: Any) -> tuple[object, ...]:
    font, alignment = cell.font, cell.alignment
    style = (font.b, font.i, font.color and font.color.rgb, cell.fill.fgColor.rgb, alignment.wrap_text,
             alignment.vertical, cell.quotePrefix)  # fmt: skip
    return (cell.value, cell.data_type, cell.number_format, *style)


def test_cells_are_the_ones_openpyxl_writes() -> None:
    ours, theirs = _ours(), _theirs()
    assert _sheet_data(ours) == _sheet_data(theirs)
    assert _facts(ours) == _facts(theirs)
    assert 'xml:space="preserve"> padded </t>' in _sheet_data(ours)
    assert load_workbook(io.BytesIO(ours)).active.dimensions == "A1:D20"


def test_formulas_hold_their_cached_values() -> None:
    sheet = load_workbook(io.BytesIO(_ours()), data_only=True).active
    assert [sheet[f"C{r}"].value for r in range(6, 10)] == [2.5, "a<b", None, 6]
    assert sheet["B4"].value == 10**17 and sheet["C4"].value == 0.125 and sheet["A11"].value == "z" * 32767


def test_widths_filter_and_frozen_header() -> None:
    sheet = load_workbook(io.BytesIO(_ours())).active
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCD"}
    assert widths == {"A": 32, "B": 25, "C": 12, "D": 12}  # A given; B: 1e17 as 100,000,000,000,000,000
    assert sheet.auto_filter.ref == "A1:D17" and sheet.freeze_panes == "A2"


def test_texts_kept_or_not_give_the_same_workbook(monkeypatch: pytest.MonkeyPatch) -> None:
    kept = _ours()
    monkeypatch.setattr(xlsx_table, "_KEPT_TEXTS", 0)
    assert _ours() == kept
