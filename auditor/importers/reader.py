"""Sniffing and detection: refuse empty and binary files, find a file's encoding and header, pick its importer."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from auditor.errors import InputFileError, UnknownFormatError
from auditor.importers.base import Importer

SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class Sniffed:
    """What the first bytes of a file say: its text encoding and header."""

    path: Path
    encoding: str
    header: tuple[str, ...]
    bytes_per_row: float = 100.0
    """Average length of the first rows, to estimate row counts from bytes (progress only)."""


def sniff(path: Path) -> Sniffed:
    """Read a file's first bytes: refuse empty and binary files, find the encoding and the header."""
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise InputFileError(str(path), f"cannot be read ({exc.strerror})", "check the path and permissions") from exc
    if not head.strip(b"\xef\xbb\xbf \r\n\t"):
        raise InputFileError(str(path), "the file is empty", "export the data again; the download may have failed")
    encoding = _encoding_of(path, head)
    text = head.decode(encoding, errors="replace")
    if _looks_binary(text):
        raise InputFileError(
            str(path),
            "not a text file (it holds binary data)",
            "give the CSV export itself, not a spreadsheet, archive or PDF",
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    first_line = next(csv.reader(io.StringIO(text.splitlines()[0] if text else "")), [])
    header = tuple(name.strip() for name in first_line)
    return Sniffed(path, encoding, header, len(head) / max(1, head.count(b"\n")))


def _looks_binary(text: str) -> bool:
    odd = sum(1 for ch in text if (ch < " " and ch not in "\t\r\n") or ch == "\ufffd")
    return odd > max(2, len(text) // 50)


def _encoding_of(path: Path, head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    nul_at = head.find(b"\x00")
    if nul_at >= 0:
        raise InputFileError(
            str(path),
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
                str(sniffed.path),
                f"is not a {importer.name} file: missing column(s) {', '.join(missing)}",
                f"the header of {importer.title} is: {importer.example_header}",
                line=1,
            )
        return importer
    matching = [i for i in importers if all(c in header for c in i.required_columns)]
    if matching:
        return max(matching, key=lambda i: (len(header & i.known_columns), len(i.required_columns)))
    ranked = sorted(importers, key=lambda i: -len(header & i.known_columns))[:2]
    closest = "; ".join(
        f"{i.name} (missing {', '.join(c for c in i.required_columns if c not in header)})" for i in ranked
    )
    shown = ",".join(sniffed.header[:8]) + (",…" if len(sniffed.header) > 8 else "")
    raise UnknownFormatError(
        str(sniffed.path),
        f"not a format the auditor knows (header: {shown}); closest: {closest}",
        "supported formats: " + ", ".join(i.name for i in importers) + "; force one with --format NAME",
        line=1,
    )
