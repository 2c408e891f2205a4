"""JSON documents (API pages saved to a file, JSON arrays of records) turned into JSON lines, one record a line.

The usage and cost APIs answer in pages: `{"data": [bucket, …], "has_more": …}`, each bucket holding its
time (`start_time`/`end_time` or `starting_at`/`ending_at`) and a `results` list. A saved file holds one
page, several pages (concatenated, one per line, or in a JSON array), or, from gateways and tracing tools,
a JSON array of records (or `{"data": [record, …]}`). Each result becomes one line carrying its bucket's
fields (the result's own fields win), so the JSON-lines engine reads it like any log; a bucket without
results becomes one line of only its bucket fields (an empty bucket, which importers skip and count).
Each line's place in the document (`page 1, bucket 3 (2026-10-01T00:00:00Z), result 2`) is kept, so a
rejected record is named where the user can find it.

Documents are read whole, as text, so they are limited in size (`MAX_DOCUMENT_BYTES`); JSON lines stream. A
document that is one array of records (a gateway's or tracer's export, the large ones) is decoded one record at a
time from that text (`_array_records`); any other is parsed whole.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from auditor.errors import InputFileError

# An API page is kilobytes; an export of records as one JSON array may be larger, but is held whole as text.
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


def flatten(path: Path, compressed: bool, encoding: str, target: Path, shown: str) -> Flattened:
    """Write the document's records to `target` as JSON lines."""
    text = _read(path, compressed, encoding, shown)
    locators: list[str] = []
    with target.open("w", encoding="utf-8") as out:
        records = _array_records(text, out)
        if records is None:  # not one array of records: the document read whole
            out.seek(0)
            out.truncate()
            records = 0
            for record, where in _records(_values(text, shown)):
                out.write(_line(record))
                locators.append(where)
                records += 1
    if not records:
        raise InputFileError(shown, "holds no records (an empty JSON document)", "save the API response again")
    paged = any(w.startswith("page") for w in locators)
    return Flattened(records, tuple(locators) if paged else ())


def _array_records(text: str, out: TextIO) -> int | None:
    """How many records a document that is one JSON array of records holds, written to `out` one by one as each is
    decoded: a large export of records is held once, as its text, not also as objects (a 194 MB array of 80,000
    spend-log records took 663 MiB read whole). None, having written what it may have, when the text is not that:
    an empty array, a page among its values, another value after it, or a syntax error (which reading the document
    whole then reports, as it always has)."""
    decoder = json.JSONDecoder()
    at = _skip_space(text, 0)
    if not text.startswith("[", at) or text.startswith("]", _skip_space(text, at + 1)):
        return None
    at += 1
    records = 0
    while True:
        try:
            value, at = decoder.raw_decode(text, _skip_space(text, at))
        except (json.JSONDecodeError, RecursionError):
            return None
        if isinstance(value, dict) and _is_page(value):
            return None
        out.write(_line(value))
        records += 1
        at = _skip_space(text, at)
        if text.startswith(",", at):
            at += 1
            continue
        at = _skip_space(text, at + 1) if text.startswith("]", at) else -1
        return records if at == len(text) else None


def _skip_space(text: str, at: int) -> int:
    """The index of the first character at or after `at` that is not JSON whitespace (`len(text)`: none)."""
    space = _SPACE.match(text, at)
    return space.end() if space else at


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
        while at < len(text) and text[at] in " \t\r\n":
            at += 1
        if at >= len(text):
            return values
        try:
            value, at = decoder.raw_decode(text, at)
        except RecursionError:
            raise InputFileError(
                shown, "is a JSON document nested too deeply to read", "check that the file is an API response"
            ) from None
        except json.JSONDecodeError as exc:
            raise InputFileError(
                shown,
                f"is not valid JSON ({exc.msg}, character {exc.colno})",
                "save the API response again; it may be cut short",
                line=exc.lineno,
            ) from None
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
