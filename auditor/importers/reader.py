"""Sniffing and detection: refuse empty and binary files, find a file's encoding and header, pick its importer.

A Parquet file is recognised by its magic bytes; its header is its schema's column names."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import threading
import zlib
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, NoReturn, TextIO, cast

from auditor.errors import DamagedFileError, InputFileError, InputLimitError, UnknownFormatError
from auditor.importers.base import Importer
from auditor.importers.documents import looks_like_document
from auditor.importers.parquet import is_parquet, read_schema

SNIFF_BYTES = 64 * 1024


GZIP_MAGIC = b"\x1f\x8b"
MIB = 1024**2


@dataclass(frozen=True)
class InputLimits:
    """Limits that protect the machine from a hostile or broken file; each refusal names its flag."""

    max_decompressed_bytes: int = 16 * 1024**3
    """Bytes the members of the run's archives (and each gzip file) may inflate to, in all."""
    max_compression_ratio: int = 200
    """How many times its compressed size a member (or gzip file) may inflate to, past 1 MiB."""
    max_field_bytes: int = 4 * MIB
    """The longest line of a delimited file (a row holding one huge field)."""


DEFAULT_LIMITS = InputLimits()
_RATIO_FLOOR = MIB
"""Members inflating to less than this are never refused for their ratio (a small file of zeros is harmless)."""


def inflation_limit(compressed: int, limits: InputLimits) -> int:
    """Bytes a member of `compressed` bytes may inflate to under the ratio limit."""
    return max(compressed * limits.max_compression_ratio, _RATIO_FLOOR)


def raise_limit(shown: str, problem: str, flag: str) -> NoReturn:
    raise InputLimitError(shown, problem, flag)


class CheckCancelled(Exception):
    """`check_stream` stopped by its caller (the run ended first)."""


class Digest:
    """The sha256 a report gives for a file, when it does not come from reading `Sniffed.path` apart: of a file the
    run does not read as the user gave it (a ZIP member read in place, a JSON document or a workbook read from a
    copy), or of a large plain file its check reads whole anyway. Given at once, or by the pass that reads the file
    (`check_stream`), which may still be running; `hexdigest` waits for it."""

    def __init__(self, hexdigest: str | None = None) -> None:
        self._hexdigest = hexdigest
        self._known = threading.Event()
        if hexdigest is not None:
            self._known.set()

    @property
    def known(self) -> bool:
        return self._known.is_set()

    def give(self, hexdigest: str | None) -> None:
        """The digest, or None: the pass ended before the end of the file (it refused it, or was stopped)."""
        self._hexdigest = hexdigest
        self._known.set()

    def hexdigest(self) -> str:
        self._known.wait()
        if self._hexdigest is None:  # the pass's own error (a refusal, Ctrl-C) is the one the run reports
            raise CheckCancelled
        return self._hexdigest


def sha256_of(path: Path, read: list[int] | None = None) -> str:
    """The file's sha256; `read[0]`, if given, counts the bytes read so far (a progress bar leaves them out)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(MIB), b""):
            digest.update(block)
            if read is not None:
                read[0] += len(block)
    return digest.hexdigest()


def check_stream(
    sniffed: Sniffed,
    limits: InputLimits,
    line_limit: bool,
    cancelled: threading.Event | None = None,
    on_read: Callable[[int], None] | None = None,
) -> int | None:
    """One streaming pass over a file (decompressed) that refuses what the reader must not meet; returns the bytes it
    inflated to, or None when no pass was needed.

    A gzip file: refused when it inflates past the size or ratio limit (a gzip bomb; stopped as soon as
    it passes, so it costs no more than the limit) or when its stream ends early (cut short). With
    `line_limit`: a line longer than the field limit, named by its number. The scan engine's reader
    cannot hold a line longer than its buffer and may drop one silently: a row must be read or refused,
    never lost. Blocks are as long as the field limit (at most 4 MiB): a line longer than the limit
    spans blocks, so two searches a block find it; its number is counted only then. `cancelled`, once set, stops
    the pass (`CheckCancelled`) at its next block; `on_read` is told the bytes read from the file (compressed ones
    for gzip) after each block. A ZIP member read in place is refused past what its archive declares, and its
    digest (`Sniffed.digest`) is the one this pass reads."""
    steps = check_steps(sniffed, limits, line_limit, cancelled, on_read)
    return None if steps is None else run_steps(steps)


def check_steps(
    sniffed: Sniffed,
    limits: InputLimits,
    line_limit: bool,
    cancelled: threading.Event | None = None,
    on_read: Callable[[int], None] | None = None,
) -> Generator[None, None, int] | None:
    """`check_stream`'s pass a block at a time: each `next()` reads and checks one block (the threads that run it may
    take turns, one at a time); it returns the bytes inflated to (`run_steps`). None when no pass is needed."""
    if not (sniffed.gzip or line_limit):
        return None
    return _checked_steps(sniffed, limits, line_limit, cancelled, on_read)


def run_steps(steps: Generator[None, None, int]) -> int:
    """The pass of `check_steps` run to its end in this thread: the bytes inflated to."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return cast(int, done.value)


def _checked_steps(
    sniffed: Sniffed,
    limits: InputLimits,
    line_limit: bool,
    cancelled: threading.Event | None,
    on_read: Callable[[int], None] | None,
) -> Generator[None, None, int]:
    pending = sniffed.digest if sniffed.digest is not None and not sniffed.digest.known else None
    digest = hashlib.sha256() if pending is not None else None
    whole = False
    try:
        inflated = yield from _checked_pass(sniffed, limits, line_limit, cancelled, on_read, digest)
        whole = True
        return inflated
    finally:
        if pending is not None:  # its waiters go on, with the digest or to the pass's own error
            pending.give(digest.hexdigest() if digest is not None and whole else None)


def _checked_pass(
    sniffed: Sniffed,
    limits: InputLimits,
    line_limit: bool,
    cancelled: threading.Event | None,
    on_read: Callable[[int], None] | None,
    digest: hashlib._Hash | None,
) -> Generator[None, None, int]:
    compressed = sniffed.path.stat().st_size
    most = min(limits.max_decompressed_bytes, inflation_limit(compressed, limits))
    field = limits.max_field_bytes if line_limit else None
    size = min(limits.max_field_bytes, 4 * MIB)
    declared = sniffed.member_bytes
    inflated, run = 0, 0
    try:
        with sniffed.open_bytes() as handle:
            raw, read = getattr(handle, "fileobj", handle), 0  # a gzip file's compressed stream, or the file
            # A member is read no further than a byte past what it declares (where its trailer would be checked).
            while block := handle.read(size if declared is None else min(size, declared + 1 - inflated)):
                if cancelled is not None and cancelled.is_set():
                    raise CheckCancelled
                if on_read is not None:
                    read = _tell_read(on_read, raw, read)
                inflated += len(block)
                if inflated > most:
                    _refuse_inflation(sniffed.name, inflated, compressed, limits)
                if declared is not None and inflated > declared:
                    _refuse_forged(sniffed.name, declared)
                if digest is not None:
                    digest.update(block)
                if field is not None:
                    first = block.find(b"\n")
                    if (run + len(block) if first < 0 else run + first) > field:
                        _refuse_line(sniffed, inflated - len(block) - run, field)
                    run = run + len(block) if first < 0 else len(block) - 1 - block.rfind(b"\n")
                yield
            if on_read is not None:
                _tell_read(on_read, raw, read)
    except (EOFError, OSError, zlib.error) as exc:
        raise _cut_short(sniffed.name, exc, DamagedFileError) from None
    return inflated


def _tell_read(on_read: Callable[[int], None], raw: IO[bytes], told: int) -> int:
    """Tell `on_read` the bytes read from `raw` since `told` of them were; return how many now are."""
    now = raw.tell()
    on_read(now - told)
    return now


def gzip_ratio(path: Path) -> float:
    """How many times its size a gzip file inflates to, as its first MiB does (at least 1)."""
    with path.open("rb") as handle:
        head = handle.read(MIB)
    inflater = zlib.decompressobj(wbits=31)
    try:
        inflated = len(inflater.decompress(head, 64 * MIB))
    except zlib.error:
        return 1.0
    used = len(head) - len(inflater.unconsumed_tail) - len(inflater.unused_data)
    return max(inflated / used, 1.0) if used > 0 else 1.0


def _cut_short(shown: str, exc: Exception, error: type[InputFileError] = InputFileError) -> InputFileError:
    return error(shown, f"is cut short or damaged ({exc})", "download or copy the file again")


def _refuse_inflation(shown: str, inflated: int, compressed: int, limits: InputLimits) -> NoReturn:
    if inflated > limits.max_decompressed_bytes:
        raise_limit(
            shown,
            f"inflates past {limits.max_decompressed_bytes:,} bytes, the limit",
            "--max-decompressed-bytes",
        )
    raise_limit(
        shown,
        f"inflates more than {limits.max_compression_ratio:,} times its size of {compressed:,} bytes, the limit "
        "(a compression bomb?)",
        "--max-compression-ratio",
    )


def _refuse_forged(shown: str, declared: int) -> NoReturn:
    raise DamagedFileError(
        shown,
        f"inflates past the {declared:,} bytes its archive declares (a damaged or forged archive)",
        "download it again",
    )


def _refuse_line(sniffed: Sniffed, start: int, field: int) -> NoReturn:
    """Refuse the file for the line starting at byte `start` (of the decompressed text), named by its number."""
    line, read = 1, 0
    with sniffed.open_bytes() as handle:
        while read < start and (block := handle.read(min(MIB, start - read))):
            line += block.count(b"\n")
            read += len(block)
    raise_limit(
        sniffed.name,
        f"line {line + sniffed.line_offset} is longer than {field:,} bytes, the limit of a row's fields",
        "--max-field-bytes",
    )


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
    kind: Literal["csv", "json_lines", "json_document"] = "csv"
    """Delimited text, JSON lines, or a JSON document (read after flattening into JSON lines)."""
    locators: tuple[str, ...] = ()
    """For JSON lines flattened from a document: where each line was in it (`page 1, bucket 2, result 3`)."""

    column_types: tuple[str, ...] = ()
    """A Parquet file's column types, as DuckDB reads them; empty for a text file."""
    file_header: tuple[str, ...] = ()
    """The header as the file writes it, when `header` holds the importer's names for it (empty: the same)."""
    member_bytes: int | None = None
    """A ZIP member read in place (its deflated bytes as a gzip file): the bytes its archive declares it inflates to,
    past which its check refuses it."""
    digest: Digest | None = None
    """The sha256 of the file as the user gave it, when `path` is not that file's bytes or its check computes it;
    None: read from `path` apart."""

    def where(self, line: int) -> str:
        """How reports name a line: its place in the original document, when the file was one."""
        return self.locators[line - 1] if 0 < line <= len(self.locators) else ""

    @property
    def is_parquet(self) -> bool:
        return bool(self.column_types)

    @property
    def name(self) -> str:
        return self.label or str(self.path)

    def sha256(self, read: list[int] | None = None) -> str:
        """The sha256 reports give for the file: of its bytes as the user gave them (`read` as in `sha256_of`)."""
        return self.digest.hexdigest() if self.digest is not None else sha256_of(self.path, read)

    def open_bytes(self) -> IO[bytes]:
        """The file's bytes, decompressed."""
        return cast(IO[bytes], gzip.open(self.path, "rb")) if self.gzip else self.path.open("rb")

    def open_text(self) -> TextIO:
        """The file's text, decompressed (for the rare second reads)."""
        if self.gzip:
            return gzip.open(self.path, "rt", encoding=self.encoding, newline="", errors="replace")
        return self.path.open(encoding=self.encoding, newline="", errors="replace")


def sniff(path: Path, label: str = "", line_offset: int = 0) -> Sniffed:
    """Read a file's first bytes: refuse empty and binary files, find the encoding and the header."""
    shown = label or str(path)
    if is_parquet(path):
        schema = read_schema(path, shown)
        size = path.stat().st_size
        return Sniffed(
            path, "utf-8", schema.names, size / max(1, schema.rows), False, label, 0, column_types=schema.types
        )
    try:
        with path.open("rb") as handle:
            compressed = handle.read(2) == GZIP_MAGIC
        with gzip.open(path, "rb") if compressed else path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise _cut_short(shown, exc) from None
    except OSError as exc:
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
    kind: Literal["csv", "json_lines", "json_document"] = "csv"
    header: tuple[str, ...]
    if looks_like_document(text):
        kind, header = "json_document", ()
    elif text.lstrip().startswith("{"):
        kind, header = "json_lines", _json_keys(text)
    else:
        first_line = next(csv.reader(io.StringIO(text.splitlines()[0] if text else "")), [])
        header = tuple(name.strip() for name in first_line)
    bytes_per_row = len(head) / max(1, head.count(b"\n"))
    return Sniffed(path, encoding, header, bytes_per_row, compressed, label, line_offset, kind)


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
    # A few NUL bytes are damage in a text file (kept in their fields); many are a binary file's.
    nul_at = head.find(b"\x00")
    if head.count(b"\x00") > max(16, len(head) // 1000):
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
    first_line = None if sniffed.is_parquet else 1 + sniffed.line_offset
    if sniffed.is_parquet:  # a table, not JSON lines
        importers = [i for i in importers if not i.is_json_lines]
        if forced is not None and all(i.name != forced for i in importers):
            raise InputFileError(sniffed.name, f"is a Parquet file, not {forced}'s JSON lines", "give the JSONL file")
    if forced is not None:
        importer = next(i for i in importers if i.name == forced)
        header = set(importer.canonical_header(sniffed.header))
        if importer.is_json_lines != (sniffed.kind != "csv"):
            given = "delimited text (CSV)" if sniffed.kind == "csv" else "JSON"
            raise InputFileError(
                sniffed.name,
                f"is not a {importer.name} file: it holds {given}",
                f"{importer.title} looks like: {importer.example_header}",
            )
        missing = [c for c in importer.required_columns if c not in header]
        if missing:
            raise InputFileError(
                sniffed.name,
                f"is not a {importer.name} file: missing column(s) {', '.join(missing)}",
                f"the header of {importer.title} is: {importer.example_header}",
                line=first_line,
            )
        return importer
    # A JSON file is read by a JSON importer, a delimited one by a CSV importer.
    importers = [i for i in importers if i.is_json_lines == (sniffed.kind != "csv")]
    headers = {i.name: set(i.canonical_header(sniffed.header)) for i in importers}
    matching = [i for i in importers if all(c in headers[i.name] for c in i.required_columns)]
    if matching:
        return max(matching, key=lambda i: (len(headers[i.name] & i.known_columns), len(i.required_columns)))
    if len(sniffed.header) == 1 and sniffed.header[0].count(";") >= 2:
        raise UnknownFormatError(
            sniffed.name,
            "uses ';' between fields (a spreadsheet's regional CSV, often with decimal commas), not ','",
            "export the CSV again with commas, or save it as XLSX and give the workbook",
            line=first_line,
        )
    if len(sniffed.header) == 1 and sniffed.header[0].count("\t") >= 2:
        raise UnknownFormatError(
            sniffed.name,
            "uses tabs between fields (a spreadsheet's \"Unicode text\"), not ','",
            'save it from the spreadsheet as "CSV UTF-8 (comma delimited)" or as XLSX, and give that file',
            line=first_line,
        )
    ranked = sorted(importers, key=lambda i: -len(headers[i.name] & i.known_columns))[:2]
    closest = "; ".join(
        f"{i.name} (missing {', '.join(c for c in i.required_columns if c not in headers[i.name])})" for i in ranked
    )
    shown = ",".join(sniffed.header[:8]) + (",…" if len(sniffed.header) > 8 else "")
    what = "header" if sniffed.kind == "csv" else "fields"
    raise UnknownFormatError(
        sniffed.name,
        f"not a format the auditor knows ({what}: {shown}); closest: {closest}",
        "supported formats: " + ", ".join(i.name for i in importers) + "; force one with --format NAME",
        line=first_line,
    )
