"""Exports passed around as workbooks: the sheet holding a known header, copied row by row into a CSV.

Finance teams open exports in a spreadsheet and send them on as XLSX. The sheet whose header (within
its first rows: titles above a table are common) matches an importer best is written, streaming, to a
CSV file that the scan engine reads like any export. openpyxl reads the workbook in read-only mode and,
with defusedxml installed, refuses XML entity tricks.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import openpyxl

from auditor.errors import InputFileError
from auditor.importers.base import Importer

# How far down a sheet the header may start.
HEADER_SEARCH_ROWS = 20


@dataclass(frozen=True)
class SheetCopy:
    """Where a workbook's table went and how its CSV lines map back to sheet rows."""

    sheet: str
    header_row: int
    """1-based sheet row of the header: CSV line L is sheet row L - 1 + header_row."""


def is_xlsx(path: Path) -> bool:
    """A ZIP whose members make an Excel workbook."""
    try:
        with zipfile.ZipFile(path) as bundle:
            return "xl/workbook.xml" in bundle.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def copy_table_to_csv(path: Path, target: Path, importers: Sequence[Importer]) -> SheetCopy:
    """Write the best-matching sheet's table (from its header row on) to `target` as UTF-8 CSV."""
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged or hostile workbook
        raise InputFileError(
            str(path),
            f"is not a readable workbook ({type(exc).__name__}: {exc})",
            "open and save it again in a spreadsheet, or export CSV",
        ) from exc
    try:
        best = _best_sheet(workbook, importers)
        if best is None:
            raise InputFileError(
                str(path), "holds no sheet with a header the auditor knows", "see the supported formats in the README"
            )
        sheet_name, header_row = best
        rows = workbook[sheet_name].iter_rows(min_row=header_row, values_only=True)
        with target.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            header = _trim(next(rows, ()))
            writer.writerow([_text(v) for v in header])
            for row in rows:
                writer.writerow([_text(v) for v in _fit(row, len(header))])
    finally:
        workbook.close()
    return SheetCopy(sheet_name, header_row)


def _best_sheet(workbook: openpyxl.Workbook, importers: Sequence[Importer]) -> tuple[str, int] | None:
    """(sheet, header row) whose header shares most columns with an importer's required ones."""
    best: tuple[int, str, int] | None = None
    for sheet in workbook.worksheets:
        for number, row in enumerate(sheet.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True), start=1):
            names = tuple(str(v).strip() for v in row if v is not None)
            score = max((len(set(i.canonical_header(names)) & set(i.required_columns)) for i in importers), default=0)
            if score >= 2 and (best is None or score > best[0]):
                best = (score, sheet.title, number)
    return None if best is None else (best[1], best[2])


def _fit(row: Iterable[object], width: int) -> list[object]:
    """A row as wide as the header: empty cells beyond it dropped, missing ones empty (a CSV row has them)."""
    values = list(row)
    if len(values) > width and all(v is None for v in values[width:]):
        values = values[:width]
    return values + [None] * (width - len(values))


def _trim(row: Iterable[object]) -> list[object]:
    values = list(row)
    while values and values[-1] is None:
        values.pop()
    return values


def _text(value: object) -> str:
    """A cell as the CSV export would print it: ISO dates, plain numbers, "" for empty."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f") if value == value else "nan"
    return str(value)
