"""Chinese, Japanese and Korean names in the PDF: drawn in the bundled fallback font, never as code points or boxes.

Projects and keys of an OpenRouter export are named in Chinese, Japanese and Korean, alone and beside Latin text.
The PDF must hold each name as text (extracted whole), embed the fallback font's glyphs (no font of the reading
machine needed), and lay the names out in the fallback's own widths: a CJK ideograph, kana or Hangul syllable is
one em wide (the font's design, and the reason a table measured in DejaVu's missing-glyph width would overflow).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import AS_OF, SAMPLES

OPENROUTER = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
NAMES = ["批处理", "研发部-密钥", "テスト用キー", "한국어 키", "team-批处理-01"]


@pytest.fixture(scope="module")
def cjk_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from auditor.cli import main

    tmp = tmp_path_factory.mktemp("cjk")
    rows = list(csv.reader(io.StringIO(OPENROUTER.read_text(encoding="utf-8"))))
    header = rows[0]
    for i, row in enumerate(rows[1:]):
        row[header.index("app_name")] = NAMES[i % len(NAMES)]
        row[header.index("api_key_name")] = NAMES[(i + 2) % len(NAMES)]
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    source = tmp / "openrouter_logs_cjk.csv"
    source.write_text(text.getvalue(), encoding="utf-8")
    pdf = tmp / "audit.pdf"
    assert main([str(source), "--as-of", AS_OF.isoformat(), "--pdf", str(pdf), "--quiet"]) == 0
    return pdf


def test_names_are_text_in_the_pdf(cjk_pdf: Path) -> None:
    with cjk_pdf.open("rb") as handle:
        pages = [page.extract_text() or "" for page in PdfReader(handle).pages]
    text = re.sub(r"[ \t]+", " ", "\n".join(pages))
    assert "[U+" not in text  # no character was shown as its code point
    assert "\x00" not in text  # nor drawn as a font's empty box
    for name in NAMES:
        # In the spend tables by project and by key, their two charts each, and the migration plan's phases.
        assert text.count(name) >= 5, name


def test_the_fallback_font_is_embedded(cjk_pdf: Path) -> None:
    with cjk_pdf.open("rb") as handle:
        reader = PdfReader(handle)
        fonts = {}
        for page in reader.pages:
            for font in (page["/Resources"].get("/Font") or {}).values():
                font = font.get_object()
                fonts[str(font["/BaseFont"])] = "/FontFile2" in font["/FontDescriptor"]
    embedded = {name.split("+", 1)[-1] for name, has_file in fonts.items() if has_file}
    assert {"DejaVuSans", "DejaVuSans-Bold", "DroidSansFallback"} <= embedded
    assert all(fonts.values()), fonts  # every font the PDF uses is in it: none is the reading machine's


def test_a_chart_label_sets_each_run_in_its_font() -> None:
    from reportlab.pdfbase import pdfmetrics

    from auditor.report.pdf_charts import label
    from auditor.report.pdf_fonts import FALLBACK, FONT, register_fonts

    register_fonts()
    parts = label(10, 5, "team-批处理-01", width=200).contents
    assert [(p.text, p.fontName) for p in parts] == [("team-", FONT), ("批处理", FALLBACK), ("-01", FONT)]
    team = pdfmetrics.stringWidth("team-", FONT, 6.5)
    # Each run starts where the one before ends: three ideographs of one em each at 6.5 points.
    assert [p.x for p in parts] == pytest.approx([10, 10 + team, 10 + team + 3 * 6.5])


def test_a_chart_label_is_cut_in_the_fallback_widths() -> None:
    from reportlab.pdfbase import pdfmetrics

    from auditor.report.pdf_charts import fit_text
    from auditor.report.pdf_fonts import FONT, register_fonts

    register_fonts()
    ellipsis = pdfmetrics.stringWidth("…", FONT, 10)
    # Ten ideographs are 100 points at 10 points; 45 points hold four of them and the ellipsis, not five.
    assert fit_text("研发部研发部研发部研", FONT, 10, 40 + ellipsis + 1) == "研发部研…"
    assert fit_text("研发部研发部研发部研", FONT, 10, 100) == "研发部研发部研发部研"


def test_a_long_name_in_a_narrow_cell_breaks_in_the_fallback_widths() -> None:
    from auditor.report.pdf_fonts import FALLBACK, register_fonts
    from auditor.report.pdf_tables import broken_lines, wrap_markup

    register_fonts()
    name = "研发部" * 8  # 24 ideographs: 168 points at 7 points
    lines = broken_lines(name, "DejaVuSans", 7, 50)
    assert ["".join(words) for words in lines] == [name[i : i + 7] for i in range(0, 24, 7)]  # 7 × 7 = 49 points
    assert wrap_markup("批处理 <b>", "DejaVuSans", 7, 200) == f'<font face="{FALLBACK}">批处理</font> &lt;b&gt;'
