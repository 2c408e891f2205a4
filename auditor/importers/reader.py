"""Sniffing and detection: refuse empty and binary files, find a file's encoding and header, pick its importer."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from auditor.errors import InputFileError, UnknownFormatError
from auditor.importers.base import Importer

SNIFF_BYTES = 64 * 1024


GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class Sniffed:
    """What the first bytes of a file say: its text encoding, compression and header."""

    path: Path
    encoding: str
    header: tuple[str, ...]
    bytes_per_row: float = 100.0
    """Average length of the first rows, to estimate row counts from bytes (progress only)."""
    gzip: bool = False
    label: str = ""
    """How reports name the file (an archive member is `archive.zip!member.csv`); the path when empty."""
    line_offset: int = 0
    """Added to line numbers in reports (a workbook's table may start below row 1)."""

    @property
    def name(self) -> str:
        return self.label or str(self.path)

    def open_text(self) -> TextIO:
        """The file's text, decompressed (for the rare second reads)."""
        if self.gzip:
            return gzip.open(self.path, "rt", encoding=self.encoding, newline="", errors="replace")
        return self.path.open(encoding=self.encoding, newline="", errors="replace")


def sniff(path: Path, label: str = "", line_offset: int = 0) -> Sniffed:
    """Read a file's first bytes: refuse empty and binary files, find the encoding and the header."""
    shown = label or str(path)
    try:
        with path.open("rb") as handle:
            compressed = handle.read(2) == GZIP_MAGIC
        with gzip.open(path, "rb") if compressed else path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except (OSError, EOFError) as exc:
        problem = f"cannot be read ({getattr(exc, 'strerror', None) or exc})"
        raise InputFileError(shown, problem, "check the path, permissions and that the file is complete") from exc
    if not head.strip(b"\xef\xbb\xbf \r\n\t"):
        raise InputFileError(shown, "the file is empty", "export the data again; the download may have failed")
    encoding = _encoding_of(shown, head)
    text = head.decode(encoding, errors="replace")
    if _looks_binary(text):
        raise InputFileError(
            shown,
            "not a text file (it holds binary data)",
            "give the CSV export itself (or a .gz or .zip of it), not a spreadsheet or PDF",
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    if text.lstrip().startswith("{"):
        header = _json_keys(text)
    else:
        first_line = next(csv.reader(io.StringIO(text.splitlines()[0] if text else "")), [])
        header = tuple(name.strip() for name in first_line)
    return Sniffed(path, encoding, header, len(head) / max(1, head.count(b"\n")), compressed, label, line_offset)


def _json_keys(text: str) -> tuple[str, ...]:
    """Top-level keys of the first JSON lines (lines of a log differ: a session log starts with a summary)."""
    keys: dict[str, None] = {}
    for line in text.splitlines()[:200]:
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            continue  # a line cut at the end of the sniffed block, a broken one, or one nested too deep
        if isinstance(record, dict):
            keys.update(dict.fromkeys(record))
    return tuple(keys)


def _looks_binary(text: str) -> bool:
    odd = sum(1 for ch in text if (ch < " " and ch not in "\t\r\n") or ch == "\ufffd")
    return odd > max(2, len(text) // 50)


def _encoding_of(shown: str, head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    nul_at = head.find(b"\x00")
    if nul_at >= 0:
        raise InputFileError(
            shown,
            f"not a text file (binary data at byte {nul_at})",
            "give the CSV export itself, not a spreadsheet, archive or PDF",
        )
    try:
        # A multi-byte character may be cut at the end of the sniffed block.
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:
            return "cp1252"
    return "utf-8"


def detect(sniffed: Sniffed, importers: Sequence[Importer], forced: str | None = None) -> Importer:
    """The importer whose required columns the header holds, best overlap first; or a clear error."""
    header = set(sniffed.header)
    if forced is not None:
        importer = next(i for i in importers if i.name == forced)
        missing = [c for c in importer.required_columns if c not in header]
        if missing:
            raise InputFileError(
                sniffed.name,
                f"is not a {importer.name} file: missing column(s) {', '.join(missing)}",
                f"the header of {importer.title} is: {importer.example_header}",
                line=1 + sniffed.line_offset,
            )
        return importer
    matching = [i for i in importers if all(c in header for c in i.required_columns)]
    if matching:
        return max(matching, key=lambda i: (len(header & i.known_columns), len(i.required_columns)))
    if len(sniffed.header) == 1 and sniffed.header[0].count(";") >= 2:
        raise UnknownFormatError(
            sniffed.name,
            "uses ';' between fields (a spreadsheet's regional CSV), not ','",
            "export the CSV again with commas, or save it as XLSX and give the workbook",
            line=1 + sniffed.line_offset,
        )
    ranked = sorted(importers, key=lambda i: -len(header & i.known_columns))[:2]
    closest = "; ".join(
        f"{i.name} (missing {', '.join(c for c in i.required_columns if c not in header)})" for i in ranked
    )
    shown = ",".join(sniffed.header[:8]) + (",…" if len(sniffed.header) > 8 else "")
    raise UnknownFormatError(
        sniffed.name,
        f"not a format the auditor knows (header: {shown}); closest: {closest}",
        "supported formats: " + ", ".join(i.name for i in importers) + "; force one with --format NAME",
        line=1 + sniffed.line_offset,
    )
