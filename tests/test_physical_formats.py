"""The same export as CSV, with a BOM and CRLF, gzip, an XLSX workbook (header on row 3) and Parquet reads the same."""

from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path

import duckdb
import openpyxl
import pyarrow.parquet as pq
import pytest

from tests.conftest import AS_OF, SAMPLES
from tests.parquet_samples import PARQUET_SAMPLES, ROOT, build
from tests.test_importers_golden import SAMPLE_FILES, _summary

TEXT_SAMPLES = [p for p in SAMPLE_FILES if p.suffix != ".parquet"]

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


@pytest.mark.parametrize("path", TEXT_SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
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


@pytest.mark.parametrize(
    "path", [p for p in TEXT_SAMPLES if p.suffix == ".csv"], ids=lambda p: f"{p.parent.name}/{p.name}"
)
@pytest.mark.parametrize("columns", ["all_varchar = true", "auto_detect = true"], ids=["text", "typed"])
def test_csv_export_as_parquet_reads_the_same(path: Path, columns: str, tmp_path: Path) -> None:
    """Every CSV format as Parquet: with text columns, and with the types DuckDB infers (integers, doubles,
    timestamps with and without a zone, dates), as a warehouse or a script converting the CSV writes them."""
    target = tmp_path / (path.stem + ".parquet")
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{path}', header = true, {columns})) TO '{target}' (FORMAT parquet)")
    assert _summary(target) == _summary(path)


@pytest.mark.parametrize(("csv_name", "parquet_name"), [(c, p) for c, p, _, _ in PARQUET_SAMPLES])
def test_parquet_sample_reads_as_its_csv(csv_name: str, parquet_name: str) -> None:
    """The Parquet samples (the exporters' column types) give the same sums and accounting as their CSV."""
    from_csv, from_parquet = _summary(SAMPLES / csv_name), _summary(ROOT / parquet_name)
    if csv_name.startswith("aws_cur_legacy_csv/"):
        # The legacy CUR's Parquet names its columns as CUR 2.0 does: it reads as that format.
        assert (from_csv.pop("format"), from_parquet.pop("format")) == ("aws_cur_legacy_csv", "aws_cur2_csv")
    assert from_parquet == from_csv


def test_parquet_samples_are_rebuilt_the_same(tmp_path: Path) -> None:
    for built in build(tmp_path):
        committed = pq.read_table(ROOT / built.relative_to(tmp_path))
        assert pq.read_table(built).equals(committed, check_metadata=True)


@pytest.mark.parametrize(
    ("csv_name", "parquet_name"), [(c, p) for c, p, _, _ in PARQUET_SAMPLES if p.startswith("samples/")]
)
def test_an_export_given_as_csv_and_parquet_counts_once(run_cli, csv_name: str, parquet_name: str) -> None:  # type: ignore[no-untyped-def]
    """Their records match (the same values, however typed): the Parquet twin's rows are skipped as counted."""
    args = ("--as-of", AS_OF.isoformat(), "--json", "-", "--to", "openai:gpt-5-mini")
    alone = run_cli(str(SAMPLES / csv_name), *args).json()
    both = run_cli(str(SAMPLES / csv_name), str(ROOT / parquet_name), *args).json()
    assert both["totals"] == alone["totals"]
    twin = both["inputs"][1]
    assert twin["rows_used"] == 0 and twin["rows_read"] == alone["inputs"][0]["rows_read"]
    assert twin["skipped_reasons"].get(f"the same record is counted from {SAMPLES / csv_name}")
