"""Names in other scripts in the PDF: drawn as they read, never as code points or boxes.

Projects and keys of an OpenRouter export are named in Chinese, Japanese and Korean, Arabic and Hebrew, alone and
beside Latin text. The PDF must hold each name as text, embed the fallback font's glyphs (no font of the reading
machine needed), and lay the CJK names out in the fallback's own widths: a CJK ideograph, kana or Hangul syllable
is one em wide (the font's design, and the reason a table measured in DejaVu's missing-glyph width would
overflow). Right-to-left names are handed to reportlab in visual order (it draws strings left to right) and Arabic
in its joined letter forms; a PDF reader's text extraction turns right-to-left runs back into reading order, so the
PDF's text gives each name back as written, in those forms.
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
NAMES = ["批处理", "研发部-密钥", "テスト用キー", "한국어 키", "team-批处理-01", "مفتاح", "עברית", "key مفتاح 12"]
CJK = NAMES[:5]
# Right-to-left names as drawn, left to right, worked out by hand from Unicode's rules:
# - "مفتاح" (meem feh teh alef hah): meem initial U+FEE3, feh medial U+FED4, teh medial U+FE98, alef final U+FE8E
#   (it joins to the teh before it and never to the letter after), hah isolated U+FEA1; right to left, so reversed.
# - "עברית": Hebrew has no joined forms; reversed.
# - "key مفتاح 12": the number after Arabic letters is an Arabic number (rule W2) and the space between them takes
#   their right-to-left direction (N1): "مفتاح 12" is one right-to-left run, drawn "12" then the word reversed.
JOINED = "\ufee3\ufed4\ufe98\ufe8e\ufea1"  # "مفتاح" in joined forms, in reading order
DRAWN = {"مفتاح": JOINED[::-1], "עברית": "תירבע", "key مفتاح 12": "key 12 " + JOINED[::-1]}


@pytest.fixture(scope="module")
def script_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from auditor.cli import main

    tmp = tmp_path_factory.mktemp("scripts")
    rows = list(csv.reader(io.StringIO(OPENROUTER.read_text(encoding="utf-8"))))
    header = rows[0]
    for i, row in enumerate(rows[1:]):
        row[header.index("app_name")] = NAMES[i % len(NAMES)]
        row[header.index("api_key_name")] = NAMES[(i + 2) % len(NAMES)]
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    source = tmp / "openrouter_logs_scripts.csv"
    source.write_text(text.getvalue(), encoding="utf-8")
    pdf = tmp / "audit.pdf"
    assert main([str(source), "--as-of", AS_OF.isoformat(), "--pdf", str(pdf), "--quiet"]) == 0
    return pdf


def test_names_are_text_in_the_pdf(script_pdf: Path) -> None:
    with script_pdf.open("rb") as handle:
        pages = [page.extract_text() or "" for page in PdfReader(handle).pages]
    text = re.sub(r"[ \t]+", " ", "\n".join(pages))
    assert "[U+" not in text  # no character was shown as its code point
    assert "\x00" not in text  # nor drawn as a font's empty box
    # Each name is a project and a key: in the spend tables by project and by key, and their two charts each (the
    # migration plan's phases name some of them too).
    for name in CJK:
        assert text.count(name) >= 4, name
    # Read back in reading order: drawn in logical order (as before), extraction reverses the run and gives "حاتفم";
    # drawn in loose letters, it gives the letters U+0645… and not their joined forms.
    assert text.count(JOINED) >= 4
    assert "مفتاح" not in text
    assert text.count("עברית") >= 4 and "תירבע" not in text


def test_the_fallback_font_is_embedded(script_pdf: Path) -> None:
    with script_pdf.open("rb") as handle:
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


def test_right_to_left_text_is_handed_over_in_visual_order() -> None:
    """What reportlab is given to draw, left to right: cells (as Paragraph markup) and chart labels."""
    from auditor.report.pdf_charts import label
    from auditor.report.pdf_tables import wrap_markup

    for name, drawn in DRAWN.items():
        assert wrap_markup(name, "DejaVuSans", 7, 300) == drawn, name
        assert "".join(part.text for part in label(0, 0, name, 300).contents) == drawn, name
    # Brackets around an Arabic word after Latin text take the Latin direction (rule N0) and stay as they are; the
    # word "عربي" (ain initial, reh final, beh initial, yeh final: reh never joins the letter after it) is reversed.
    assert wrap_markup("team (عربي)", "DejaVuSans", 7, 300) == "team (\ufef2\ufe91\ufeae\ufecb)"
    # A right-to-left override is shown, not obeyed: the text after it keeps its order.
    assert wrap_markup("\u202etxt.exe", "DejaVuSans", 7, 300) == "[U+202E]txt.exe"
