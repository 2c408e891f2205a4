"""The PDF's fonts, and data text as they can draw it.

The report is set in the bundled DejaVu Sans (regular and bold). Chinese, Japanese and Korean characters, which
DejaVu has no glyphs for, are set in the bundled Droid Sans Fallback: a key named `批处理` shows as itself, never
as boxes, whatever fonts the reading machine has (the PDF embeds the glyphs it uses of both). A character neither
font can draw (an emoji) is shown as its code point, `[U+1F916]`.

Right-to-left text is drawn as it reads: Arabic letters in their joined forms (arabic-reshaper), and each line of
text in visual order by the Unicode bidirectional algorithm (python-bidi), in the report's own left-to-right
direction: `مفتاح` is drawn as its five joined letters, right to left. The invisible controls that would reorder
text (a right-to-left override, which can make `exe.txt` of `txt.exe`) are shown as their code points, never
obeyed: text from inputs is data.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from arabic_reshaper import ArabicReshaper
from bidi import get_display
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
FALLBACK = "DroidSansFallback"
"""Chinese, Japanese and Korean text, regular and bold alike (the font has one weight)."""
FONT_DIR = Path(__file__).with_name("fonts")

# Explicit bidirectional formatting: marks, embeddings, overrides, isolates (Unicode bidi classes LRM, RLM, ALM,
# LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI).
BIDI_CONTROLS = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Joined forms only: the harakat (vowel marks) and tatweel are kept, as written.
_RESHAPER = ArabicReshaper(configuration={"delete_harakat": False, "delete_tatweel": False})

Run = tuple[str, bool]
"""A stretch of drawable text, and whether it is set in `FALLBACK` (else in the text's own font)."""


def register_fonts() -> None:
    """Register the bundled DejaVu Sans once (the fallback is registered when a text first needs it: reading it
    takes 0.07 s); the PDF embeds the glyphs it uses."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


@lru_cache(maxsize=1)
def _main_glyphs() -> frozenset[int]:
    register_fonts()
    return frozenset(pdfmetrics.getFont(FONT).face.charToGlyph)


@lru_cache(maxsize=1)
def _fallback_glyphs() -> frozenset[int]:
    """The characters set in the fallback, which this registers: only what DejaVu lacks (the fallback's Latin
    letters and digits are never used)."""
    pdfmetrics.registerFont(TTFont(FALLBACK, str(FONT_DIR / "DroidSansFallback.ttf")))
    # Inside bold text (a table's head, a total) the fallback stays the one weight it has.
    pdfmetrics.registerFontFamily(FALLBACK, normal=FALLBACK, bold=FALLBACK, italic=FALLBACK, boldItalic=FALLBACK)
    return frozenset(pdfmetrics.getFont(FALLBACK).face.charToGlyph) - _main_glyphs()


def load_fonts() -> None:
    """Register both fonts and read the characters each can draw: what the first text drawn would otherwise do
    (about 0.1 s), done ahead by the PDF's child while the inputs are read (`outputs.writers_ahead`)."""
    _main_glyphs()
    _fallback_glyphs()


def drawable(text: str) -> str:
    """`text` as the fonts can draw it, in logical order: Arabic letters in their joined forms; each bidi control,
    and each character neither font can draw, shown as its code point, `[U+1F916]`, rather than obeyed or drawn as
    an empty box that the PDF's text would not hold. Lines are put in visual order when drawn (`visual`)."""
    if text.isascii():
        return text
    if not BIDI_CONTROLS.isdisjoint(text):
        text = "".join(f"[U+{ord(ch):04X}]" if ch in BIDI_CONTROLS else ch for ch in text)
    if any(unicodedata.bidirectional(ch) == "AL" for ch in text):
        text = _RESHAPER.reshape(text)
    main = _main_glyphs()
    if all(ord(ch) in main or ch in "\n\t" for ch in text):
        return text
    fallback = _fallback_glyphs()
    return "".join(
        ch if ord(ch) in main or ord(ch) in fallback or ch in "\n\t" else f"[U+{ord(ch):04X}]" for ch in text
    )


def visual(text: str) -> str:
    """Drawable `text` with each line in the order it is drawn, left to right (the bidirectional algorithm, the
    paragraph's direction left to right): a right-to-left run is reversed, the numbers and Latin in it are not."""
    if text.isascii() or not any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text):
        return text
    return "\n".join(get_display(line, base_dir="L") for line in text.split("\n"))


def needs_fallback(text: str) -> bool:
    """Whether drawable `text` holds a character set in the fallback font."""
    if text.isascii():
        return False
    main = _main_glyphs()
    if all(ord(ch) in main for ch in text):
        return False
    fallback = _fallback_glyphs()
    return any(ord(ch) in fallback for ch in text)


def runs(text: str) -> list[Run]:
    """Drawable `text` cut where its font changes."""
    if not needs_fallback(text):
        return [(text, False)]
    fallback = _fallback_glyphs()
    found: list[Run] = []
    for ch in text:
        in_fallback = ord(ch) in fallback
        if found and found[-1][1] == in_fallback:
            found[-1] = (found[-1][0] + ch, in_fallback)
        else:
            found.append((ch, in_fallback))
    return found


def markup(text: str) -> str:
    """Drawable `text` as Paragraph markup: in visual order, escaped (data, never markup), the fallback's stretches
    in its font."""
    return "".join(f'<font face="{FALLBACK}">{escape(s)}</font>' if fb else escape(s) for s, fb in runs(visual(text)))


def text_width(text: str, font: str, size: float) -> float:
    """Width in points of drawable `text` set in `font` (its Chinese, Japanese and Korean in the fallback)."""
    return float(sum(pdfmetrics.stringWidth(s, FALLBACK if fb else font, size) for s, fb in runs(text)))
