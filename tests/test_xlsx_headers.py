"""Workbooks reformatted by finance: a title above, header cells merged down, group labels over the header."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from auditor.importers import xlsx
from auditor.sources import open_sources
from tests.conftest import SAMPLES
from tests.test_importers_golden import _summary
from tests.test_physical_formats import _as_cell

SAMPLE = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
HINT = (
    "hint: save the sheet with a one-row header of the export's own column names, or name its columns in a "
    "mapping file and give it with --map mapping.toml"
)


def _sample() -> tuple[list[str], list[list[str]]]:
    with SAMPLE.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def _book(path: Path, header_rows: list[list[object]], merges: list[str], rows: list[list[str]]) -> None:
    """A sheet: a merged title, an empty row, the header rows from row 3 (then merged), then the data."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Export"
    width = len(rows[0])
    sheet.append(["OpenRouter activity, October 2026 (exported by Finance)"])
    sheet.merge_cells(f"A1:{get_column_letter(width)}1")
    sheet.append([])
    for row in header_rows:
        sheet.append(row)
    for ref in merges:
        sheet.merge_cells(ref)
    for row in rows:
        sheet.append([_as_cell(v) for v in row])
    book.save(path)


def _ingest(book: Path):  # type: ignore[no-untyped-def]
    with open_sources((book,), None) as (sources, _):
        (source,) = sources
        return source.sniffed.name, _summary(source.sniffed.path)


def _vertical(header: list[str]) -> tuple[list[list[object]], list[str]]:
    """Every header cell merged over rows 3 and 4."""
    return [list(header), [None] * len(header)], [f"{get_column_letter(c)}3:{get_column_letter(c)}4" for c in
                                                  range(1, len(header) + 1)]  # fmt: skip


def _grouped(header: list[str]) -> tuple[list[list[object]], list[str]]:
    """Row 3: group labels ("Cost (USD)" over the five cost columns, "Tokens" over the four token columns),
    the other names merged down over row 4, except `created_at`, which sits in row 3 over an empty cell.
    Row 4: the export's names under each group."""
    groups = {2: ("Cost (USD)", 7), 7: ("Tokens", 11)}  # first column (0-based) → (label, end)
    top: list[object] = []
    bottom: list[object] = []
    merges = []
    column = 0
    while column < len(header):
        letter = get_column_letter(column + 1)
        if column in groups:
            label, end = groups[column]
            top += [label] + [None] * (end - column - 1)
            bottom += header[column:end]
            merges.append(f"{letter}3:{get_column_letter(end)}3")
            column = end
            continue
        top.append(header[column])
        bottom.append(None)
        if header[column] != "created_at":
            merges.append(f"{letter}3:{letter}4")
        column += 1
    return [top, bottom], merges


def test_header_on_row_3_under_a_merged_title(tmp_path: Path) -> None:
    header, rows = _sample()
    book = tmp_path / "activity.xlsx"
    _book(book, [header], [], rows)
    name, summary = _ingest(book)
    assert name == f"{book} [Export]"
    assert summary == _summary(SAMPLE)
    assert summary["rows"] == {"read": len(rows), "used": 41, "skipped": 0, "rejected": 0}


def test_header_cells_merged_over_two_rows(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    header, rows = _sample()
    rows = [list(r) for r in rows]
    rows[4][header.index("tokens_prompt")] = "n/a"  # the fifth data row: sheet row 9 under a rows 3–4 header
    book = tmp_path / "activity.xlsx"
    _book(book, *_vertical(header), rows)
    result = run_cli(str(book), "--as-of", "2026-11-27", "--json", "-")
    assert result.status == 0, result.err
    (account,) = result.json()["inputs"]
    assert account["path"] == f"{book} [Export]"
    rows_of = {k: account[f"rows_{k}"] for k in ("read", "used", "skipped", "rejected")}
    assert rows_of == {"read": 41, "used": 40, "skipped": 0, "rejected": 1}
    assert account["rejected"] == [
        {"line": 9, "where": "", "column": "tokens_prompt", "reason": "'n/a' is not a number"}
    ]
    # The other rows are read as in the CSV export.
    expected = _summary(SAMPLE)["models"]
    assert {u["model_raw"] for u in result.json()["usage"]} == {k.split("|")[1] for k in expected}


def test_group_labels_over_the_real_header(tmp_path: Path) -> None:
    header, rows = _sample()
    book = tmp_path / "activity.xlsx"
    header_rows, merges = _grouped(header)
    assert header_rows[1][2:11] == header[2:11] and "Tokens" in header_rows[0]
    _book(book, header_rows, merges, rows)
    _, summary = _ingest(book)
    assert summary == _summary(SAMPLE)
    assert summary["rows"] == {"read": 41, "used": 41, "skipped": 0, "rejected": 0}


def test_renamed_sub_headers_are_a_clear_error(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    header, rows = _sample()
    header_rows, merges = _grouped(header)
    header_rows[1][7:9] = ["Input", "Output"]  # tokens_prompt and tokens_completion, renamed by hand
    book = tmp_path / "activity.xlsx"
    _book(book, header_rows, merges, rows)
    result = run_cli(str(book), "--json", "-")
    assert result.status == 2
    error, hint = result.err.strip().splitlines()
    assert error.startswith(f"error: {book} [Export], line 4: not a format the auditor knows (header: ")
    assert "closest: openrouter_logs_csv (missing tokens_prompt, tokens_completion)" in error
    assert hint == HINT


def test_a_sheet_without_a_known_header_is_a_clear_error(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    book = tmp_path / "notes.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.title = "Notes"
    workbook.active.append(["Spend", "Team"])
    workbook.active.append([12.5, "Search"])
    workbook.save(book)
    result = run_cli(str(book), "--json", "-")
    assert result.status == 2
    assert result.err.strip().splitlines() == [
        f"error: {book}: no header the auditor knows in the first 20 rows of sheet(s) 'Notes'",
        HINT,
    ]


@pytest.mark.parametrize("block_bytes", [7, 64, 1 << 20])
def test_merged_ranges_are_read_from_the_sheet_xml_in_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block_bytes: int
) -> None:
    """Ranges of the first rows only, whatever the block size cuts the tags at."""
    book = tmp_path / "merged.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in range(1, 60):
        sheet.append([f"r{row}c{c}" for c in range(1, 6)])
    for ref in ("A1:E1", "B3:B4", "C3:E3", "A40:B41"):
        sheet.merge_cells(ref)
    workbook.save(book)
    monkeypatch.setattr(xlsx, "_BLOCK_BYTES", block_bytes)
    readonly = openpyxl.load_workbook(book, read_only=True)
    try:
        ranges = xlsx.merged_ranges(readonly, readonly.worksheets[0])
    finally:
        readonly.close()
    assert sorted(ranges) == [(1, 1, 5, 1), (2, 3, 2, 4), (3, 3, 5, 3)]
