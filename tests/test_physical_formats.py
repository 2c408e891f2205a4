"""The same export as CSV, CSV with a BOM and CRLF, gzip, and an XLSX workbook (header on row 3) reads the same."""

from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path

import openpyxl
import pytest

from tests.test_importers_golden import SAMPLE_FILES, _summary

_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _as_cell(text: str) -> object:
    """What a spreadsheet makes of a CSV field: numbers become numbers, the rest stays text."""
    if _NUMBER.fullmatch(text) and not (text.startswith("0") and len(text) > 1 and text[1] != "."):
        return float(text) if "." in text else int(text)
    return text if text else None


def _write_xlsx(source: Path, target: Path) -> None:
    with source.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Export"
    sheet.append([f"Export of {source.name}"])  # a title above the table, as finance teams add
    sheet.append([])
    for row in rows:
        sheet.append([_as_cell(v) for v in row])
    book.save(target)


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_same_export_in_other_physical_formats(path: Path, tmp_path: Path) -> None:
    expected = _summary(path)
    # A sample may itself be gzip (Bedrock's log objects): its other forms are made from its text.
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    text = raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")  # newlines as read_text() reads them

    bom_crlf = tmp_path / path.name.removesuffix(".gz")
    bom_crlf.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    assert _summary(bom_crlf) == expected

    packed = tmp_path / (path.name.removesuffix(".gz") + ".gz")
    packed.write_bytes(gzip.compress(raw))
    assert _summary(packed) == expected

    if path.suffix == ".csv":  # workbooks hold tables, not JSON lines
        book = tmp_path / (path.stem + ".xlsx")
        _write_xlsx(path, book)
        assert _workbook_summary(book, tmp_path) == expected


def _workbook_summary(book: Path, tmp_path: Path) -> dict[str, object]:
    from auditor.sources import open_sources

    with open_sources((book,), None) as (sources, _):
        (source,) = sources
        return _summary(source.sniffed.path)
