"""The PDF report: sections, totals as shown, unpriced models, hostile text, determinism, fonts and layout."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics

from auditor.report.formatting import money, percent, tokens
from auditor.report.pdf import WIDTH, write_pdf
from auditor.report.pdf_tables import FONT, Column, fitted_table, register_fonts, wrap_markup
from auditor.result import AuditResult, Period, Totals

FIXTURE = Path(__file__).parent / "fixtures" / "result_small.json"
SECTIONS = [
    "Spend by model",
    "Spend by month",
    "Scenarios",
    "Forecast and scheduled price changes",
    "Reconciliation: billed against list",
    "Waste and quick wins",
    "Unpriced models",
    "Inputs and row accounting",
    "Rejected rows",
    "Notes and warnings",
]
HOSTILE = ["<font color=red>x</font>", '=HYPERLINK("http://x")']


@pytest.fixture(scope="module")
def result() -> AuditResult:
    return AuditResult.model_validate_json(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pdf(result: AuditResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    write_pdf(result, path)
    return path


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _pages(path: Path) -> list[str]:
    return [_flat(page.extract_text()) for page in PdfReader(path).pages]


def _between(pages: list[str], start: str, end: str) -> str:
    """The text from one heading to the next (page footers included)."""
    text = " ".join(pages)
    first = text.index(start)
    return text[first : text.index(end, first)]


def test_money_tokens_and_percent_formatting() -> None:
    assert money(Decimal("1234.565")) == "$1,234.56"  # half to even
    assert money(Decimal("2.675")) == "$2.68"
    assert money(Decimal("-1216.305")) == "-$1,216.30"
    assert money(Decimal("-0.004")) == "$0.00"
    assert money(None) == "n/a"
    assert tokens(1234567) == "1,234,567"
    assert percent(86.2849) == "86.3%"


def test_every_section_is_present(pdf: Path) -> None:
    text = " ".join(_pages(pdf))
    for section in SECTIONS:
        assert section in text


def test_summary_page_has_the_key_figures(pdf: Path, result: AuditResult) -> None:
    first = _pages(pdf)[0]
    assert "AI spend audit" in first
    assert "2025-01-01 – 2025-03-31" in first
    assert "2025-06-30" in first
    assert "genai-prices 0.2.3" in first
    assert money(result.totals.billed_cost) == "$174.38"
    assert money(result.totals.list_cost) == "$295.01"
    assert "$174.38" in first and "$295.01" in first
    assert "DeepSeek Chat" in first and "$251.57" in first and "86.3%" in first
    assert "Unpriced models 2" in first


def test_model_table_totals_come_from_the_result(pdf: Path, result: AuditResult) -> None:
    page = _between(_pages(pdf), "Spend by model", "Spend by month")
    t = result.totals
    expected = [
        tokens(t.requests),
        tokens(t.input_tokens),
        tokens(t.cache_read_tokens),
        tokens(t.cache_write_tokens + t.cache_write_1h_tokens),
        tokens(t.output_tokens),
        money(t.billed_cost),
        money(t.list_cost),
    ]
    assert "Total " + " ".join(expected) in page


def test_unpriced_models_show_unpriced_never_zero(pdf: Path, result: AuditResult) -> None:
    page = _between(_pages(pdf), "Spend by model", "Spend by month")
    unpriced = [u for u in result.usage if u.list_cost is None]
    assert len(unpriced) == 2
    assert page.count("unpriced") == len(unpriced)  # the list cost of each unpriced row
    assert "$0.00" not in page
    for u in unpriced:
        assert re.search(re.escape(f"{tokens(u.output_tokens)} {money(u.billed_cost)} unpriced"), page)


def test_unpriced_section_lists_reason_and_suggestions(pdf: Path) -> None:
    page = _between(_pages(pdf), "Unpriced models provider", "Inputs and row accounting")
    assert "no catalog model matches this name" in page
    assert "fireworks:llama-v3p1-70b-instruct" in page.replace(" ", "")  # may be wrapped after a "-"
    assert "no close catalog model" in page


def test_hostile_names_appear_literally(pdf: Path) -> None:
    text = " ".join(_pages(pdf))
    for name in HOSTILE:
        assert name in text
    assert "=cmd|' /C calc'!A0 is not a model name" in text
    assert "& has <angle> brackets" in text


def test_rejected_rows_and_accounting_are_listed(pdf: Path, result: AuditResult) -> None:
    text = " ".join(_pages(pdf))
    for f in result.inputs:
        assert f.sha256 in text.replace(" ", "")
        for row in f.rejected:
            assert row.reason in text
    assert "zero usage: 4" in text
    assert "exports/README.txt" in text


def test_scenarios_are_ranked_and_negative_savings_shown(pdf: Path) -> None:
    page = _between(_pages(pdf), "Scenarios #", "Unpriced models provider")
    assert page.index("DeepSeek Chat") < page.index("Gemini 2.5 Flash") < page.index("Claude Opus 4")
    assert "-$1,216.31 -417.3%" in page


def test_footer_page_numbers_and_outline(pdf: Path) -> None:
    reader = PdfReader(pdf)
    for number, page in enumerate(reader.pages, start=1):
        assert f"page {number}" in page.extract_text()
    top = [item.title for item in reader.outline if not isinstance(item, list)]
    assert top == ["Executive summary", *(s for s in SECTIONS if s != "Rejected rows")]
    nested: list[Any] = [item for item in reader.outline if isinstance(item, list)]
    assert any("Rejected rows" in [child.title for child in group] for group in nested)


def test_only_the_bundled_fonts_are_used_and_embedded(pdf: Path) -> None:
    for page in PdfReader(pdf).pages:
        resources: Any = page["/Resources"]
        for font in resources["/Font"].values():
            font = font.get_object()
            assert "DejaVuSans" in font["/BaseFont"]
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            assert "/FontFile2" in descendant["/FontDescriptor"].get_object()


def test_same_result_gives_same_bytes(result: AuditResult, tmp_path: Path) -> None:
    write_pdf(result, tmp_path / "a.pdf")
    write_pdf(result, tmp_path / "b.pdf")
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()


def test_every_model_priced_and_an_empty_result(result: AuditResult, tmp_path: Path) -> None:
    priced = result.model_copy(update={"usage": [u for u in result.usage if u.list_cost is not None]})
    write_pdf(priced, tmp_path / "priced.pdf")
    assert "Every model was priced" in " ".join(_pages(tmp_path / "priced.pdf"))

    empty = AuditResult(
        as_of=date(2025, 6, 30),
        tool_version="0.1.0",
        catalog="genai-prices 0.2.3",
        period=Period(start=None, end=None),
        inputs=[],
        usage=[],
        usage_by_month=[],
        scenarios=[],
        totals=Totals(
            requests=0,
            billed_cost=None,
            list_cost=None,
            unpriced_requests=0,
            unpriced_models=0,
            unpriced_tokens=0,
        ),
    )
    write_pdf(empty, tmp_path / "empty.pdf")
    text = " ".join(_pages(tmp_path / "empty.pdf"))
    assert "no scenarios were computed" in text and "No scenarios were computed." in text


def test_long_words_are_broken_to_fit() -> None:
    register_fonts()
    name = "accounts/fireworks/models/llama-v3p1-405b-instruct-extended-context-preview-2025-04-01" * 3
    for width in (30.0, 80.0, 140.0):
        lines = wrap_markup(name, FONT, 7, width).split("<br/>")
        assert "".join(lines) == name
        assert all(pdfmetrics.stringWidth(line, FONT, 7) <= width for line in lines)


def test_columns_never_exceed_the_page_width() -> None:
    columns = [Column("name", "flex"), *(Column(f"n{i}") for i in range(9))]
    huge = [["x" * 80, *(tokens(10**15 + i) for i in range(9))]]
    table = fitted_table(columns, huge, WIDTH)
    assert sum(table._colWidths) <= WIDTH + 0.01


def test_control_characters_in_data_do_not_break_the_pdf(result: AuditResult, tmp_path: Path) -> None:
    odd = result.usage[0].model_copy(update={"model_raw": "bell\x07and\x00nul & <b>bold</b>"})
    write_pdf(result.model_copy(update={"usage": [odd]}), tmp_path / "odd.pdf")
    assert "bell\ufffdand\ufffdnul & <b>bold</b>" in " ".join(_pages(tmp_path / "odd.pdf"))
