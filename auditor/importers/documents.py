"""JSON documents (API pages saved to a file, JSON arrays of records) turned into JSON lines, one record a line.

The usage and cost APIs answer in pages: `{"data": [bucket, …], "has_more": …}`, each bucket holding its
time (`start_time`/`end_time` or `starting_at`/`ending_at`) and a `results` list. A saved file holds one
page, several pages (concatenated, one per line, or in a JSON array), or, from gateways and tracing tools,
a JSON array of records (or `{"data": [record, …]}`). Each result becomes one line carrying its bucket's
fields (the result's own fields win), so the JSON-lines engine reads it like any log; a bucket without
results becomes one line of only its bucket fields (an empty bucket, which importers skip and count).
Each line's place in the document (`page 1, bucket 3 (2026-10-01T00:00:00Z), result 2`) is kept, so a
rejected record is named where the user can find it.

A document of records (an array of them, as gateways and tracers export, the large ones; or several arrays, or
records one after another) streams: it is read a piece at a time and decoded one record at a time
(`_streamed_records`), so it may be of any size. A document holding pages is read whole, as text, so it is limited
in size (`MAX_DOCUMENT_BYTES`).
"""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, NoReturn, TextIO, cast

from auditor.errors import InputFileError

# An API page is kilobytes: a document holding pages (one of records streams) is held whole as text.
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
_BUCKET_TIME_KEYS = ("start_time_iso", "starting_at", "start_time")
_SPACE = re.compile(r"[ \t\r\n]*")


@dataclass(frozen=True)
class Flattened:
    records: int
    locators: tuple[str, ...]
    """Where each line of the flattened file was in the document (empty for a plain array of records)."""


def looks_like_document(text: str) -> bool:
    """Whether the start of a text file is a JSON document rather than JSON lines (or CSV)."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("["):
        return True
    if not stripped.startswith("{"):
        return False
    lines = [line for line in stripped.splitlines() if line.strip()]
    first = _parsed(lines[0])
    if isinstance(first, dict):
        return _is_page(first)
    # The first line is not a whole JSON value: a pretty-printed document, or a log whose first line broke.
    return len(lines) < 2 or not isinstance(_parsed(lines[1]), dict)


def _parsed(line: str) -> object:
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return None


def _is_page(value: dict[str, object]) -> bool:
    return isinstance(value.get("data"), list)


def flatten(
    path: Path,
    compressed: bool,
    encoding: str,
    target: Path,
    shown: str,
    on_read: Callable[[int, int], None] | None = None,
) -> Flattened:
    """Write the document's records to `target` as JSON lines. While a document of records is read, `on_read` is told
    the bytes read from the file so far (compressed ones for gzip) and the records written."""
    locators: list[str] = []
    with target.open("w", encoding="utf-8") as out:
        with _opened(path, compressed, encoding, on_read) as pieces:
            records = _streamed_records(pieces, out, shown)
        if records is None:  # pages of an API response (or a syntax error): the document read whole
            out.seek(0)
            out.truncate()
            records = 0
            for record, where in _records(_values(_read(path, compressed, encoding, shown), shown)):
                out.write(_line(record))
                locators.append(where)
                records += 1
    if not records:
        raise InputFileError(shown, "holds no records (an empty JSON document)", "save the API response again")
    paged = any(w.startswith("page") for w in locators)
    return Flattened(records, tuple(locators) if paged else ())


def _streamed_records(pieces: _Pieces, out: TextIO, shown: str) -> int | None:
    """How many records a document of records holds (an array of them, or several, or records one after another),
    written to `out` one by one as each is decoded from the text, read a piece at a time: such a document (a
    gateway's or tracer's export, the large ones) is never held whole, so it may be of any size. None, having
    written what it may have, when the text is not that: it holds a page of an API response, or a syntax error.
    Reading the document whole then reports it, as it always has; one larger than `MAX_DOCUMENT_BYTES` is refused
    here instead, where its problem is."""
    try:
        return _records_one_by_one(pieces, out, json.JSONDecoder(), shown)
    except _NotStreamed as found:
        pieces.refuse_past_limit(shown, found)
        return None


class _NotStreamed(Exception):
    """What shows a document is not only records (`what`), and where (`at`, in the text held)."""

    def __init__(self, what: str, at: int) -> None:
        super().__init__(what)
        self.what, self.at = what, at


def _records_one_by_one(pieces: _Pieces, out: TextIO, decoder: json.JSONDecoder, shown: str) -> int:
    """`_streamed_records`, raising `_NotStreamed` where it returns None. The records are those reading the document
    whole gives when it holds no page (`_records`): each value of an array, and each value outside one."""
    while not pieces.at_end():
        if not pieces.starts_with("["):
            _write_record(pieces, out, decoder, shown)
            continue
        pieces.at += 1
        if pieces.starts_with("]"):
            pieces.at += 1
            continue
        while True:
            _write_record(pieces, out, decoder, shown)
            if pieces.starts_with(","):
                pieces.at += 1
            elif pieces.starts_with("]"):
                pieces.at += 1
                break
            else:
                raise _NotStreamed(_MISSING_DELIMITER, pieces.at)
    return pieces.records


def _write_record(pieces: _Pieces, out: TextIO, decoder: json.JSONDecoder, shown: str) -> None:
    value = pieces.decode(decoder, shown)
    if value is _NOT_WHOLE:
        raise _NotStreamed("a value that is not whole", pieces.value_at)
    if isinstance(value, dict) and _is_page(value):
        raise _NotStreamed("a page of an API response", pieces.value_at)
    out.write(_line(value))
    pieces.records += 1


_MISSING_DELIMITER = "Expecting ',' delimiter"
READ_CHARS = 1024 * 1024
"""Characters of a document read at a time while its records are decoded."""
_NOT_WHOLE = object()
"""What `_Pieces.decode` gives for text that is not a whole JSON value."""


@contextmanager
def _opened(
    path: Path, compressed: bool, encoding: str, on_read: Callable[[int, int], None] | None
) -> Iterator[_Pieces]:
    with gzip.open(path, "rb") if compressed else path.open("rb") as handle:
        yield _Pieces(cast(IO[bytes], handle), encoding, on_read)


class _Pieces:
    """A document's text read a piece at a time (`READ_CHARS`): the part held (`text`), where decoding is in it
    (`at`), where the text held starts in the document (`line` and `column`, for errors), and the records written
    (`records`, for `on_read`). Text is dropped once decoded (`_drop_decoded`), only as whitespace is skipped."""

    def __init__(self, handle: IO[bytes], encoding: str, on_read: Callable[[int, int], None] | None) -> None:
        self._handle = handle
        self._raw: IO[bytes] = getattr(handle, "fileobj", handle)  # a gzip file's compressed stream, or the file
        self._decoded = io.TextIOWrapper(handle, encoding=encoding, errors="replace", newline="")
        self._on_read = on_read
        self._started = False
        self.text, self.at, self.ended, self.records = "", 0, False, 0
        self.value_at = 0
        """Where the value `decode` gave last starts in the text held."""
        self.line, self.column = 1, 1

    def more(self, least: int = 0) -> bool:
        """Read at least `least` more characters (a piece at least), or to the end; False at the end."""
        if self.ended:
            return False
        piece = self._decoded.read(max(least, READ_CHARS))
        if self._on_read is not None:
            self._on_read(self._raw.tell(), self.records)
        if not piece:
            self.ended = True
            return False
        if not self._started:  # byte-order marks before the document, which reading it whole drops too
            piece, self._started = piece.lstrip("\ufeff"), True
        self.text += piece
        return True

    def skip_space(self) -> None:
        """Past JSON whitespace, reading on as needed."""
        while True:
            self.at = _skip_space(self.text, self.at)
            self._drop_decoded()
            if self.at < len(self.text) or not self.more():
                return

    def starts_with(self, mark: str) -> bool:
        """Whether the next character that is not whitespace is `mark`."""
        self.skip_space()
        return self.text.startswith(mark, self.at)

    def at_end(self) -> bool:
        self.skip_space()
        return self.at == len(self.text)

    def decode(self, decoder: json.JSONDecoder, shown: str) -> object:
        """The next JSON value, read on until it is whole; `_NOT_WHOLE` when it never is. A document larger than
        `MAX_DOCUMENT_BYTES` (which cannot be read whole instead) is then refused: for its syntax error, or for a value
        still not whole past that many characters."""
        self.skip_space()
        self.value_at = self.at
        while True:
            try:
                value, end = decoder.raw_decode(self.text, self.at)
            except json.JSONDecodeError as exc:
                if len(self.text) - self.at <= MAX_DOCUMENT_BYTES and self.more(len(self.text) - self.at):
                    continue
                if self.bytes_read <= MAX_DOCUMENT_BYTES:
                    return _NOT_WHOLE
                if self.ended:
                    self._refuse_syntax(exc, shown)
                self._refuse_long(shown)
            except RecursionError:
                raise _nested_too_deeply(shown) from None
            if end < len(self.text) or not self.more():  # a number at the piece's end may go on in the next
                self.at = end
                return value

    def refuse_past_limit(self, shown: str, found: _NotStreamed) -> None:
        """Refuse a document found not to be only records once past `MAX_DOCUMENT_BYTES`, where it was found not to
        be (smaller ones are read whole)."""
        if self.bytes_read <= MAX_DOCUMENT_BYTES:
            return
        line, column = self._place(found.at)
        if found.what == _MISSING_DELIMITER:  # as reading it whole would say
            raise _not_valid_json(shown, found.what, line, column)
        raise InputFileError(
            shown,
            f"is a JSON document larger than {MAX_DOCUMENT_BYTES // 1024**2} MiB that is not only records "
            f"({found.what}, character {column}); such documents are read whole",
            "write it as JSON lines, one record a line (e.g. `jq -c '.[]' file.json > file.jsonl`), which stream",
            line=line,
        )

    @property
    def bytes_read(self) -> int:
        """Bytes of the document (inflated) read so far."""
        return self._handle.tell()

    def _place(self, at: int) -> tuple[int, int]:
        """The document's line and column (from 1) of the character at `at` in the text held."""
        lines = self.text.count("\n", 0, at)
        if not lines:
            return self.line, self.column + at
        return self.line + lines, at - self.text.rfind("\n", 0, at)

    def _drop_decoded(self) -> None:
        """Forget the text decoded, once it is a piece long."""
        if self.at >= READ_CHARS:
            self.line, self.column = self._place(self.at)
            self.text, self.at = self.text[self.at :], 0

    def _refuse_long(self, shown: str) -> NoReturn:
        line, column = self._place(self.at)
        raise InputFileError(
            shown,
            f"holds a value longer than {MAX_DOCUMENT_BYTES // 1024**2} MiB from character {column}, "
            "or one that is not valid JSON",
            "check the file; write it as JSON lines, one record a line, if its records are that large",
            line=line,
        )

    def _refuse_syntax(self, problem: json.JSONDecodeError, shown: str) -> NoReturn:
        line, column = self._place(problem.pos)
        raise _not_valid_json(shown, problem.msg, line, column)


def _skip_space(text: str, at: int) -> int:
    """The index of the first character at or after `at` that is not JSON whitespace (`len(text)`: none)."""
    return cast(re.Match[str], _SPACE.match(text, at)).end()  # the pattern matches everywhere, if only ""


def _not_valid_json(shown: str, problem: str, line: int, column: int) -> InputFileError:
    hint = "save the API response again; it may be cut short"
    return InputFileError(shown, f"is not valid JSON ({problem}, character {column})", hint, line=line)


def _nested_too_deeply(shown: str) -> InputFileError:
    return InputFileError(
        shown, "is a JSON document nested too deeply to read", "check that the file is an API response"
    )


def _line(record: object) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def _read(path: Path, compressed: bool, encoding: str, shown: str) -> str:
    with gzip.open(path, "rb") if compressed else path.open("rb") as handle:
        data = handle.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InputFileError(
            shown,
            f"is a JSON document larger than {MAX_DOCUMENT_BYTES // 1024**2} MiB (documents are read whole)",
            "write it as JSON lines, one record a line (e.g. `jq -c '.[]' file.json > file.jsonl`), which stream",
        )
    return data.decode(encoding, errors="replace").lstrip("\ufeff")


def _values(text: str, shown: str) -> list[object]:
    """The JSON values of the text: one document, or several written one after another."""
    decoder = json.JSONDecoder()
    values: list[object] = []
    at = 0
    while True:
        at = _skip_space(text, at)
        if at >= len(text):
            return values
        try:
            value, at = decoder.raw_decode(text, at)
        except RecursionError:
            raise _nested_too_deeply(shown) from None
        except json.JSONDecodeError as exc:
            raise _not_valid_json(shown, exc.msg, exc.lineno, exc.colno) from None
        values.append(value)


def _records(values: list[object]) -> Iterator[tuple[object, str]]:
    pages = [v for v in values if isinstance(v, dict) and _is_page(v)]
    for value in values:
        if isinstance(value, list) and any(isinstance(v, dict) and _is_page(v) for v in value):
            pages.extend(v for v in value if isinstance(v, dict) and _is_page(v))
    if not pages:
        # An array of records (or records one after another).
        for value in values:
            for item in value if isinstance(value, list) else [value]:
                yield item, ""
        return
    for page_number, page in enumerate(pages, start=1):
        data = page["data"]
        assert isinstance(data, list)
        for bucket_number, item in enumerate(data, start=1):
            if isinstance(item, dict) and isinstance(item.get("results"), list):
                yield from _bucket_records(item, f"page {page_number}, bucket {bucket_number}")
            else:
                yield item, f"page {page_number}, record {bucket_number}"


def _bucket_records(bucket: dict[str, object], where: str) -> Iterator[tuple[object, str]]:
    fields = {k: v for k, v in bucket.items() if k not in ("results", "object") and not isinstance(v, list | dict)}
    when = next((_time_text(bucket[k]) for k in _BUCKET_TIME_KEYS if bucket.get(k) is not None), "")
    where = f"{where} ({when})" if when else where
    results = bucket["results"]
    assert isinstance(results, list)
    if not results:
        yield fields, where
    for number, result in enumerate(results, start=1):
        yield ({**fields, **result} if isinstance(result, dict) else result), f"{where}, result {number}"


def _time_text(value: object) -> str:
    """A bucket's start as people read it (Unix seconds become ISO 8601 UTC)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 10**11:
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)
