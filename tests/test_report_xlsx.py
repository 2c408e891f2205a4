"""The XLSX workbook: sheets, exact totals, money and token formats, unpriced cells, formula neutralising."""

from __future__ import annotations

import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from auditor.report.xlsx import COUNT_FORMAT, MONEY_FORMAT, PERCENT_FORMAT, cell_text, write_xlsx
from auditor.result import AuditResult

FIXTURE = Path(__file__).parent / "fixtures" / "result_small.json"
SHEETS = ["Summary", "Assumptions", "Scenarios", "Prices", "Scenario lines", "Baseline lines", "Usage by model",
          "Usage by month", "Usage by project", "Usage by key", "Spend by month", "Risk", "Checklist", "Sources",
          "Inputs", "Rejected rows"]  # fmt: skip


@pytest.fixture(scope="module")
def result() -> AuditResult:
    return AuditResult.model_validate_json(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def xlsx(result: AuditResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("xlsx") / "report.xlsx"
    write_xlsx(result, path)
    return path


@pytest.fixture(scope="module")
def book(xlsx: Path) -> Workbook:
    return load_workbook(xlsx)


def _records(sheet: Worksheet) -> list[dict[str, Any]]:
    """The table's rows by header: those its filter covers (its notes come after an empty row, outside it)."""
    last = int(str(sheet.auto_filter.ref).rsplit(":", 1)[1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    rows = list(sheet.iter_rows(max_row=last))
    headers = [cell.value for cell in rows[0]]
    return [{str(h): cell for h, cell in zip(headers, row, strict=True)} for row in rows[1:]]


def _summary(book: Workbook) -> dict[str, Any]:
    return {str(row[0].value): row[1] for row in book["Summary"].iter_rows(min_row=2) if row[0].value}


def test_sheets_in_order(book: Workbook) -> None:
    assert book.sheetnames[: len(SHEETS)] == SHEETS


def test_summary_totals_equal_the_result_exactly(book: Workbook, xlsx: Path, result: AuditResult) -> None:
    summary = _summary(book)
    for label, total in [
        ("Billed total", result.totals.billed_cost),
        ("List cost total (priced usage)", result.totals.list_cost),
    ]:
        cell = summary[label]
        assert total is not None
        assert Decimal(repr(cell.value)) == total
        assert cell.number_format == MONEY_FORMAT
    with zipfile.ZipFile(xlsx) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    for total in (result.totals.list_cost, result.totals.billed_cost):
        assert f"<v>{total}</v>" in sheet_xml  # the exact decimal digits, not a rounded float
    assert summary["Unpriced models"].value == 2
    assert summary["Best saving: candidate"].value == "DeepSeek Chat"
    assert summary["Period start"].value.date().isoformat() == "2025-01-01"


def test_usage_money_and_token_cells(book: Workbook, result: AuditResult) -> None:
    records = _records(book["Usage by model"])
    assert len(records) == len(result.usage)
    for record, entry in zip(records, result.usage, strict=True):
        list_cost, tokens = record["list cost"], record["input"]
        assert tokens.value == entry.input_tokens and tokens.number_format == COUNT_FORMAT
        if entry.list_cost is None:
            assert list_cost.value == "unpriced" and list_cost.data_type == "s"
        else:
            assert Decimal(repr(list_cost.value)) == entry.list_cost
            assert list_cost.number_format == MONEY_FORMAT


def test_month_sheet_marks_unpriced(book: Workbook, result: AuditResult) -> None:
    records = _records(book["Usage by month"])
    assert len(records) == len(result.usage_by_month)
    unpriced = [r for r in records if r["list cost"].value == "unpriced"]
    assert len(unpriced) == sum(1 for m in result.usage_by_month if m.list_cost is None)


def test_hostile_text_never_becomes_a_formula(book: Workbook) -> None:
    """Text that begins like a formula is stored as text, exactly as written, with the quote prefix (it stays text
    when edited); the only formulas are the workbook's own, in the live sheets (none in this result, which has no
    cost model, but the rank, savings and savings % of Scenarios)."""
    models = [r["model"] for r in _records(book["Usage by model"])]
    hostile = next(c for c in models if "HYPERLINK" in str(c.value))
    assert hostile.value == '=HYPERLINK("http://x")'
    assert hostile.data_type == "s" and hostile.quotePrefix
    reasons = [r["reason"] for r in _records(book["Rejected rows"])]
    cmd = next(c for c in reasons if str(c.value).startswith("=cmd"))
    assert cmd.value == "=cmd|' /C calc'!A0 is not a model name" and cmd.data_type == "s" and cmd.quotePrefix
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    assert sheet.title in ("Scenarios", "Assumptions"), (sheet.title, cell.coordinate, cell.value)
                    assert "HYPERLINK" not in str(cell.value) and "cmd" not in str(cell.value)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_is_stored_as_quoted_text(start: str, tmp_path: Path, result: AuditResult) -> None:
    hostile = result.usage[0].model_copy(update={"model_raw": start + "1+1"})
    write_xlsx(result.model_copy(update={"usage": [hostile]}), tmp_path / "h.xlsx")
    cell = load_workbook(tmp_path / "h.xlsx")["Usage by model"]["B2"]
    # XML reads a raw carriage return back as a line feed (end-of-line normalisation): still text, never a formula.
    assert (cell.value, cell.data_type, cell.quotePrefix) == ((start + "1+1").replace("\r", "\n"), "s", True)
    assert cell_text(start + "1+1") == start + "1+1"


def test_cell_text_leaves_plain_text_and_replaces_controls() -> None:
    assert cell_text("claude-sonnet-4") == "claude-sonnet-4"
    assert cell_text("a\x00b\x1fc") == "a\ufffdb\ufffdc"


def test_every_sheet_has_frozen_bold_header_and_filter(book: Workbook) -> None:
    assert set(SHEETS) <= set(book.sheetnames)
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref is not None and sheet.auto_filter.ref.startswith("A1:")
        assert all(cell.font.b for cell in sheet[1])
        assert all(sheet.column_dimensions[c.column_letter].width >= 8 for c in sheet[1])


def test_scenarios_ranked_with_fraction_percent(xlsx: Path) -> None:
    """Without a cost model the figures are the result's (fixed, and so labelled); savings, savings % and rank are
    still formulas, cached with the result's values."""
    cached = load_workbook(xlsx, data_only=True)
    records = [r for r in _records(cached["Scenarios"]) if r["candidate"].value]
    savings = [Decimal(repr(r["savings"].value)) for r in records]
    assert savings == sorted(savings, reverse=True)
    first = records[0]
    assert first["name"].value == "DeepSeek Chat" and first["rank"].value == 1
    assert first["savings %"].number_format == PERCENT_FORMAT
    assert abs(first["savings %"].value - 0.8632) < 1e-4
    assert all(str(r["how computed"].value).startswith("fixed") for r in records)


def test_inputs_and_rejected_rows(book: Workbook, result: AuditResult) -> None:
    inputs = _records(book["Inputs"])
    assert [r["rows read"].value for r in inputs] == [f.rows_read for f in result.inputs]
    rejected = _records(book["Rejected rows"])
    assert len(rejected) == sum(len(f.rejected) for f in result.inputs)
    assert rejected[-1]["line"].value == "unknown"


def test_a_parquet_files_rejects_are_numbered_by_row(result: AuditResult, tmp_path: Path) -> None:
    parquet = result.inputs[0].model_copy(update={"path": "cur2-00001.snappy.parquet", "numbered_by": "row"})
    write_xlsx(result.model_copy(update={"inputs": [parquet]}), tmp_path / "parquet.xlsx")
    rejected = _records(load_workbook(tmp_path / "parquet.xlsx")["Rejected rows"])
    expected = [f"row {r.line}" if r.line > 0 else "unknown" for r in parquet.rejected]
    assert [r["line"].value for r in rejected] == expected and expected[0].startswith("row ")


def test_an_empty_result_gives_header_only_sheets(result: AuditResult, tmp_path: Path) -> None:
    empty = result.model_copy(
        update={
            "inputs": [],
            "usage": [],
            "usage_by_month": [],
            "scenarios": [],
            "skipped_files": [],
            "notes": [],
            "warnings": [],
        }
    )
    write_xlsx(empty, tmp_path / "empty.xlsx")
    book = load_workbook(tmp_path / "empty.xlsx")
    assert book["Usage by model"].max_row == 1 and book["Risk"].auto_filter.ref == "A1:J1"
    assert book["Rejected rows"].auto_filter.ref == "A1:E1"
    assert _summary(book)["Best saving"].value == "no scenarios were computed"


HOSTILE = [
    '=HYPERLINK("http://evil.example","click")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "<font color='red'>x</font>",
    "model-" + "x" * 5000,
    "gpt-4o 🚀 模型",
    "نموذج-عربي \u202egpt",
]


def test_hostile_names_are_stored_literally_in_every_sheet(result: AuditResult, tmp_path: Path) -> None:
    """Names from inputs reach the usage sheets, the month sheet and the rejected rows: each cell holds the text
    exactly (5,000 characters included), as a string, and no formula anywhere holds any of it."""
    usage = [result.usage[0].model_copy(update={"model_raw": name, "provider": name}) for name in HOSTILE]
    months = [result.usage_by_month[0].model_copy(update={"model_raw": name}) for name in HOSTILE]
    write_xlsx(result.model_copy(update={"usage": usage, "usage_by_month": months}), tmp_path / "h.xlsx")
    book = load_workbook(tmp_path / "h.xlsx")
    for title, column in (("Usage by model", "model"), ("Usage by model", "provider"), ("Usage by month", "model")):
        cells = [r[column] for r in _records(book[title])]
        assert [c.value for c in cells] == HOSTILE
        assert all(c.data_type == "s" for c in cells)
        assert [bool(c.quotePrefix) for c in cells] == [n.startswith(("=", "+", "-", "@")) for n in HOSTILE]
    assert book["Usage by model"].column_dimensions["B"].width <= 62  # a long name does not make a wall-wide column
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    assert not any(name[:8] in str(cell.value) for name in HOSTILE)


def test_two_renderings_hold_identical_cell_values(result: AuditResult, tmp_path: Path) -> None:
    for name in ("a.xlsx", "b.xlsx"):
        write_xlsx(result, tmp_path / name)
    books = [load_workbook(tmp_path / name) for name in ("a.xlsx", "b.xlsx")]
    assert books[0].sheetnames == books[1].sheetnames
    for title in books[0].sheetnames:
        assert list(books[0][title].values) == list(books[1][title].values), title


def test_rate_columns_are_wide_enough_for_their_decimals(tmp_path: Path) -> None:
    """A number shown with up to six decimals (rates, a line's exact cost) fits its column: a spreadsheet shows a
    number too wide for its column as ### (on the samples, the baseline's largest lines, $118.596718, were).
    Formulas are read as the values they were saved with."""
    from auditor.options import AuditOptions
    from auditor.pipeline import run_audit
    from tests.conftest import AS_OF, SAMPLES

    write_xlsx(run_audit(AuditOptions(inputs=(SAMPLES,), as_of=AS_OF)), tmp_path / "samples.xlsx")
    checked = 0
    for sheet in load_workbook(tmp_path / "samples.xlsx", data_only=True).worksheets:
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                value = cell.value
                if cell.number_format != '"$"#,##0.00####' or not isinstance(value, (int, float)):
                    continue
                whole, _, decimals = f"{abs(value):,.6f}".partition(".")
                shown = len(whole) + 1 + max(len(decimals.rstrip("0")), 2) + 1 + (value < 0)
                width = sheet.column_dimensions[cell.column_letter].width
                assert width >= shown + 1, (sheet.title, cell.coordinate, value, width)
                checked += 1
    assert checked > 100  # the premise: the workbook has such cells


def test_spend_by_month_has_no_figure_where_there_is_none(tmp_path: Path) -> None:
    """Spend by month (the chart's table) adds up to the list cost total; a vendor with no priced usage in a month
    has an empty cell and a month no source states billing for reads n/a, never $0.00 (the samples' 2025-09 is
    tokens only; OpenAI's 2026-08 is charges without list price)."""
    from decimal import Decimal

    from auditor.options import AuditOptions
    from auditor.pipeline import run_audit
    from tests.conftest import AS_OF, SAMPLES

    result = run_audit(AuditOptions(inputs=(SAMPLES,), as_of=AS_OF))
    write_xlsx(result, tmp_path / "samples.xlsx")
    rows = list(load_workbook(tmp_path / "samples.xlsx")["Spend by month"].iter_rows(values_only=True))
    header, body = rows[0], [r for r in rows[1:] if r[0] and str(r[0])[:2] == "20"]
    vendors = [str(h).removeprefix("list cost: ") for h in header[1:-1]]
    total = Decimal(0)
    for row in body:
        month = row[0]
        for vendor, cell in zip(vendors, row[1:-1], strict=True):
            lines = [m for m in result.usage_by_month if (m.month, m.provider) == (month, vendor)]
            priced = [m.list_cost for m in lines if m.list_cost is not None]
            assert (cell is None) == (not priced), (month, vendor, cell)
            total += sum(priced, Decimal(0))
        billed = [m.billed_cost for m in result.usage_by_month if m.month == month and m.billed_cost is not None]
        assert (row[-1] == "n/a") == (not billed), (month, row[-1])
    assert total == result.totals.list_cost
    assert any(r[-1] == "n/a" for r in body) and any(c is None for r in body for c in r[1:-1])  # the premise
