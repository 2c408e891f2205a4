"""Exports passed around as workbooks: the sheet holding a known header, copied row by row into a CSV.

Finance teams open exports in a spreadsheet and send them on as XLSX. The sheet whose header (within
its first rows: titles above a table are common) matches an importer best is written, streaming, to a
CSV file that the scan engine reads like any export. openpyxl reads the workbook in read-only mode and,
with defusedxml installed, refuses XML entity tricks.

Reformatted headers are recovered from merged cells. A merged cell of the first rows gives its value to
every cell it covers (a header cell merged over two rows, a group label such as "Tokens" over its
columns); a row under a group label row takes the label row's value where it has none of its own; and the
table starts below the lowest row a header cell is merged down to. Cells merged below the header are left
as they are (a value spread over data cells would be counted twice). openpyxl's read-only mode does not
expose merged cells, so their ranges are read from the sheet's XML first: one streaming pass over it in
1 MiB blocks that keeps only the `<mergeCell ref="…">` tags of the first rows, so memory stays bounded.
"""

from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from defusedxml import DefusedXmlException

from auditor.errors import InputFileError
from auditor.importers.base import Importer

if TYPE_CHECKING:  # openpyxl is imported when a workbook is read (most runs read none; the import takes 0.1 s)
    import openpyxl

# How far down a sheet the header may start.
HEADER_SEARCH_ROWS = 20
# How far a header cell may be merged down (a header of up to this many rows).
_HEADER_DEPTH = 3
WORKBOOK_HINT = (
    "save the sheet with a one-row header of the export's own column names, or name its columns in a "
    "mapping file and give it with --map mapping.toml"
)


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


@dataclass(frozen=True)
class _Header:
    score: int
    sheet: str
    names: list[object]
    last_row: int
    """1-based sheet row of the header's last row: the table starts below it."""


def copy_table_to_csv(path: Path, target: Path, importers: Sequence[Importer]) -> SheetCopy:
    """Write the best-matching sheet's table (from its header on) to `target` as UTF-8 CSV."""
    import openpyxl
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:  # a dependency of the auditor: without it openpyxl would expand XML entities
        raise InputFileError(str(path), "cannot be read safely (defusedxml is not installed)", "install defusedxml")
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged or hostile workbook
        raise _unreadable(path, exc) from None
    try:
        return _copy(workbook, path, target, importers)
    except InputFileError:
        raise
    except Exception as exc:  # a sheet's XML is parsed as it is read: damaged or hostile XML shows here
        raise _unreadable(path, exc) from None
    finally:
        workbook.close()


def _unreadable(path: Path, exc: Exception) -> InputFileError:
    """One line on why a workbook cannot be read; XML entity declarations (a billion-laughs bomb) named as such."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, DefusedXmlException):
        cause = cause.__cause__ or cause.__context__
    if cause is not None:
        return InputFileError(
            str(path),
            f"holds XML with a document type or entity declaration ({type(cause).__name__}), refused as a "
            "possible XML bomb; spreadsheets never write one",
            "open and save it again in a spreadsheet, or export CSV",
        )
    message = " ".join(str(exc).split())[:200]
    return InputFileError(
        str(path),
        f"is not a readable workbook ({type(exc).__name__}: {message})",
        "open and save it again in a spreadsheet, or export CSV",
    )


def _copy(workbook: openpyxl.Workbook, path: Path, target: Path, importers: Sequence[Importer]) -> SheetCopy:
    """The best-matching sheet's table, from its header on, written to `target`."""
    best = _best_header(workbook, importers)
    if best is None:
        sheets = ", ".join(f"'{sheet.title}'" for sheet in workbook.worksheets)
        raise InputFileError(
            str(path),
            f"no header the auditor knows in the first {HEADER_SEARCH_ROWS} rows of sheet(s) {sheets}",
            WORKBOOK_HINT,
        )
    rows = workbook[best.sheet].iter_rows(min_row=best.last_row + 1, values_only=True)
    with target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        header = _trim(best.names)
        writer.writerow([_text(v) for v in header])
        for row in rows:
            writer.writerow([_text(v) for v in _fit(row, len(header))])
    return SheetCopy(best.sheet, best.last_row)


def _best_header(workbook: openpyxl.Workbook, importers: Sequence[Importer]) -> _Header | None:
    """The header (sheet, names, last row) that shares most columns with an importer's required ones."""
    best: _Header | None = None
    for sheet in workbook.worksheets:
        depth = HEADER_SEARCH_ROWS + _HEADER_DEPTH
        merges = [m for m in merged_ranges(workbook, sheet) if m[1] <= depth]
        grid = [list(row) for row in sheet.iter_rows(max_row=depth, values_only=True)]
        _fill(grid, merges)
        for number in range(1, min(len(grid), HEADER_SEARCH_ROWS) + 1):
            names = _header_names(grid, number, merges)
            found = tuple(str(v).strip() for v in names if v is not None)
            score = max((len(set(i.canonical_header(found)) & set(i.required_columns)) for i in importers), default=0)
            if score >= 2 and (best is None or score > best.score):
                # A header cell merged down makes the rows it covers part of the header.
                last = max([number, *(m[3] for m in merges if m[1] <= number <= m[3])])
                best = _Header(score, sheet.title, names, last)
    return best


def _fill(grid: list[list[object]], merges: list[tuple[int, int, int, int]]) -> None:
    """Every cell of a merged range (min_col, min_row, max_col, max_row) takes its top-left cell's value."""
    for min_col, min_row, max_col, max_row in merges:
        if min_row > len(grid):
            continue
        top = grid[min_row - 1]
        value = top[min_col - 1] if min_col <= len(top) else None
        for r in range(min_row, min(max_row, len(grid)) + 1):
            row = grid[r - 1]
            row.extend([None] * (max_col - len(row)))
            row[min_col - 1 : max_col] = [value] * (max_col - min_col + 1)


def _header_names(grid: list[list[object]], number: int, merges: list[tuple[int, int, int, int]]) -> list[object]:
    """Row `number` as a header: under a row of labels one of which is a group label (merged across
    columns), a cell with no value of its own takes the label row's. A title (one value, however wide) is
    not a label row."""
    row = list(grid[number - 1])
    above = number - 1
    grouped = above >= 1 and any(m[1] <= above <= m[3] and m[2] > m[0] for m in merges)
    if grouped and len({str(v).strip() for v in grid[above - 1] if v is not None}) >= 2:
        labels = grid[above - 1]
        row.extend([None] * (len(labels) - len(row)))
        row = [labels[i] if v is None and i < len(labels) else v for i, v in enumerate(row)]
    return row


# A merged range's tag in a sheet's XML, with or without a namespace prefix, and its `ref` attribute.
_MERGE_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*>")
_REF = re.compile(rb"""\sref\s*=\s*(["'])([A-Za-z0-9:$]+)\1""")
_BLOCK_BYTES = 1 << 20


def merged_ranges(workbook: openpyxl.Workbook, sheet: object) -> list[tuple[int, int, int, int]]:
    """The merged ranges of a read-only sheet as (min_col, min_row, max_col, max_row), from its XML.

    The XML is streamed in blocks (the ranges come after all the cells); only the `ref` attribute of
    each `mergeCell` tag is taken, so nothing is expanded and memory stays bounded. Ranges starting below
    the first rows are dropped as they are found."""
    from openpyxl.utils.cell import range_boundaries

    part = getattr(sheet, "_worksheet_path", None)
    archive = getattr(workbook, "_archive", None)
    if part is None or archive is None:
        return []
    ranges: list[tuple[int, int, int, int]] = []
    carry = b""
    with archive.open(part) as stream:
        while block := stream.read(_BLOCK_BYTES):
            data = carry + block
            end = 0
            for tag in _MERGE_TAG.finditer(data):
                end = tag.end()
                ref = _REF.search(tag.group())
                if ref is None:
                    continue
                try:
                    left, top, right, bottom = range_boundaries(ref.group(2).decode("ascii").replace("$", ""))
                except (ValueError, TypeError):
                    continue
                if left and top and right and bottom and top <= HEADER_SEARCH_ROWS + _HEADER_DEPTH:
                    ranges.append((left, top, right, bottom))
            # A tag cut at the end of the block is completed by the next one.
            carry = data[max(end, len(data) - 1024) :]
    return ranges


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
