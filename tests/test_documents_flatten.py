"""A JSON document that is one array of records is flattened record by record, as it is read a piece at a time: the
same lines as reading it whole, without holding it whole, so it may be larger than a document read whole may be."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from auditor.errors import InputFileError, InputLimitError
from auditor.importers import documents
from auditor.importers.documents import _records, _values, flatten
from auditor.importers.reader import InputLimits
from auditor.sources import open_sources

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DOCUMENTS = sorted(
    p for p in (ROOT / "samples").rglob("*.json") if p.is_file()
)  # pages, arrays of records, reports

RECORD = {"request_id": "r1", "model": "gpt-4o", "spend": 0.0062375, "nested": [1, {"data": []}], "note": "é\u2028"}
PAGE = {"object": "page", "data": [{"start_time": 0, "results": [{"input_tokens": 1}]}], "has_more": False}
EDGES = {
    "array of records": json.dumps([RECORD, {**RECORD, "request_id": "r2"}]),
    "pretty, CRLF and tabs": json.dumps([RECORD] * 3, indent="\t").replace("\n", "\r\n"),
    "BOM first": "\ufeff" + json.dumps([RECORD]),
    "values that are not objects": json.dumps([1, "two", [3], None, RECORD]),
    "a page among the records": json.dumps([RECORD, PAGE]),
    "an array of pages": json.dumps([PAGE, PAGE]),
    "another array after it": json.dumps([RECORD]) + "\n" + json.dumps([RECORD]),
    "a record after it": json.dumps([RECORD]) + json.dumps(RECORD),
    "one record": json.dumps(RECORD),
    "pages one per line": json.dumps(PAGE) + "\n" + json.dumps(PAGE),
    "whitespace inside": "[ \n" + json.dumps(RECORD) + " ,\r\n\t" + json.dumps(RECORD) + " \n] \n",
}
BROKEN = {
    "empty array": "[]",
    "empty array with space": "[ \n ]",
    "trailing comma": "[" + json.dumps(RECORD) + ",]",
    "missing comma": "[" + json.dumps(RECORD) + json.dumps(RECORD) + "]",
    "cut short": json.dumps([RECORD, RECORD])[:-20],
    "no closing bracket": "[" + json.dumps(RECORD),
    "garbage after": json.dumps([RECORD]) + " x",
}


def _read_whole(text: str) -> tuple[list[str], list[str]]:
    """The lines and locators of the document read whole, as flatten always read it."""
    pairs = list(_records(_values(text.lstrip("\ufeff"), "doc")))
    lines = [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r, _ in pairs]
    return lines, [w for _, w in pairs]


def _flattened(path: Path, tmp_path: Path) -> tuple[list[str], list[str]]:
    target = tmp_path / "flat.jsonl"
    flat = flatten(path, False, "utf-8", target, "doc")
    lines = target.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""
    locators = list(flat.locators) or [""] * flat.records
    return lines[:-1], locators


# Pieces of one and seven characters: every value and every mark is cut between two pieces somewhere.
PIECES = pytest.mark.parametrize(
    "piece_chars", [1, 7, documents.READ_CHARS], indirect=True, ids=lambda n: f"pieces of {n}"
)


@pytest.fixture
def piece_chars(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    chars: int = request.param
    monkeypatch.setattr(documents, "READ_CHARS", chars)
    return chars


@PIECES
@pytest.mark.parametrize("path", SAMPLE_DOCUMENTS, ids=lambda p: p.name)
def test_every_sample_document_flattens_as_read_whole(path: Path, tmp_path: Path, piece_chars: int) -> None:
    text = path.read_text(encoding="utf-8")
    assert _flattened(path, tmp_path) == _read_whole(text)


@PIECES
@pytest.mark.parametrize("name", EDGES)
def test_edge_documents_flatten_as_read_whole(name: str, tmp_path: Path, piece_chars: int) -> None:
    path = tmp_path / "doc.json"
    path.write_text(EDGES[name], encoding="utf-8", newline="")
    assert _flattened(path, tmp_path) == _read_whole(EDGES[name])


@PIECES
@pytest.mark.parametrize("name", BROKEN)
def test_broken_documents_give_the_error_of_the_whole_read(name: str, tmp_path: Path, piece_chars: int) -> None:
    path = tmp_path / "doc.json"
    path.write_text(BROKEN[name], encoding="utf-8")
    with pytest.raises(InputFileError) as raised:
        flatten(path, False, "utf-8", tmp_path / "flat.jsonl", "doc")
    if BROKEN[name].strip("[ \n]"):
        with pytest.raises(InputFileError) as whole:
            _values(BROKEN[name], "doc")
        assert str(raised.value) == str(whole.value)
    else:
        assert "holds no records" in str(raised.value)


# The encodings the reader finds (`reader._encoding_of`), and bytes that are not UTF-8: a character may be cut between
# two pieces, and is decoded as reading the document whole decodes it.
ENCODED = {
    "utf-16": ("utf-16", json.dumps([RECORD] * 3, ensure_ascii=False).encode("utf-16")),
    "cp1252": ("cp1252", json.dumps([{"note": "café – €"}] * 3, ensure_ascii=False).encode("cp1252")),
    "bytes not utf-8": ("utf-8", b'[{"note": "a\xffb"}, {"note": "\xc3\xa9t\xe9"}, {"note": "\xe2\x82"}]'),
}


@PIECES
@pytest.mark.parametrize("name", ENCODED)
def test_a_document_in_another_encoding_flattens_as_read_whole(name: str, tmp_path: Path, piece_chars: int) -> None:
    encoding, data = ENCODED[name]
    path = tmp_path / "doc.json"
    path.write_bytes(data)
    target = tmp_path / "flat.jsonl"
    flat = flatten(path, False, encoding, target, "doc")
    lines = target.read_text(encoding="utf-8").split("\n")[:-1]
    assert (lines, [""] * flat.records) == _read_whole(data.decode(encoding, errors="replace"))


# Past the size a document read whole may have (300 bytes here; each document is larger, each record smaller): a
# document of records streams all the same; a syntax error is the whole read's; one holding a page is refused where the
# page is.
LARGE = 300
THREE = [RECORD] * 3
LARGE_EDGES = {
    "array of records": json.dumps([RECORD] * 4),
    "pretty, CRLF and tabs": json.dumps(THREE, indent="\t").replace("\n", "\r\n"),
    "BOM first": "\ufeff" + json.dumps([RECORD] * 4),
    "values that are not objects": json.dumps([1, "two", [3], None, *THREE]),
    "whitespace inside": "[ \n" + " ,\r\n\t".join([json.dumps(RECORD)] * 4) + " \n] \n",
    "another array after it": json.dumps(THREE) + "\n" + json.dumps([RECORD]),
    "a record after it": json.dumps(THREE) + json.dumps(RECORD),
    "records one per line": "\n".join([json.dumps(RECORD)] * 4),
    "empty arrays among them": "[] " + json.dumps(THREE) + " [ ]",
}
PAST_THE_LIMIT = {  # each document holding a page, and the line and character of its first
    "a page among the records": (json.dumps([*THREE, PAGE]), 1, 344),
    "an array of pages": (json.dumps([PAGE] * 3), 1, 2),
    "pages one per line": ("\n".join([json.dumps(PAGE)] * 3), 1, 1),
    "a page after the records": (json.dumps(THREE) + "\n" + json.dumps(PAGE), 2, 1),
}
LARGE_BROKEN = {
    "trailing comma": json.dumps(THREE)[:-1] + ",]",
    "missing comma": json.dumps(THREE).replace("}, {", "} {", 1),
    "cut short": json.dumps(THREE)[:-20],
    "no closing bracket": json.dumps(THREE)[:-1],
    "garbage after": json.dumps(THREE) + " x",
    "cut short, pretty": json.dumps([RECORD] * 5, indent=1)[:-30],
    "missing comma, pretty": json.dumps(THREE, indent=1).replace("},", "}", 1),
}


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_DOCUMENT_BYTES", LARGE)


@PIECES
@pytest.mark.parametrize("name", LARGE_EDGES)
def test_an_array_of_records_past_the_limit_streams(
    name: str, tmp_path: Path, piece_chars: int, small_limit: None
) -> None:
    path = tmp_path / "doc.json"
    path.write_text(LARGE_EDGES[name], encoding="utf-8", newline="")
    assert path.stat().st_size > LARGE, "the premise: past the limit"
    assert _flattened(path, tmp_path) == _read_whole(LARGE_EDGES[name])


@PIECES
@pytest.mark.parametrize("name", LARGE_BROKEN)
def test_a_broken_array_past_the_limit_gives_the_error_of_the_whole_read(
    name: str, tmp_path: Path, piece_chars: int, small_limit: None
) -> None:
    path = tmp_path / "doc.json"
    path.write_text(LARGE_BROKEN[name], encoding="utf-8")
    assert path.stat().st_size > LARGE, "the premise: past the limit"
    with pytest.raises(InputFileError) as raised:
        flatten(path, False, "utf-8", tmp_path / "flat.jsonl", "doc")
    with pytest.raises(InputFileError) as whole:
        _values(LARGE_BROKEN[name], "doc")
    assert str(raised.value) == str(whole.value)


@PIECES
@pytest.mark.parametrize("name", PAST_THE_LIMIT)
def test_a_document_of_pages_past_the_limit_is_refused_where_the_first_is(
    name: str, tmp_path: Path, piece_chars: int, small_limit: None
) -> None:
    text, line, character = PAST_THE_LIMIT[name]
    path = tmp_path / "doc.json"
    path.write_text(text, encoding="utf-8", newline="")
    assert path.stat().st_size > LARGE, "the premise: past the limit"
    assert _read_whole(text)[0], "the premise: read whole, it gives records"
    with pytest.raises(InputFileError) as raised:
        flatten(path, False, "utf-8", tmp_path / "flat.jsonl", "doc")
    assert str(raised.value) == (
        f"doc, line {line}: is a JSON document larger than 0 MiB that is not only records "
        f"(a page of an API response, character {character}); such documents are read whole"
    )


def test_a_value_longer_than_the_limit_is_refused_where_it_starts(
    tmp_path: Path, small_limit: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read on until it is whole, a value is held: past the limit (twice it at most: the text held grows by doubling),
    it is refused."""
    monkeypatch.setattr(documents, "READ_CHARS", 7)
    path = tmp_path / "doc.json"
    path.write_text('[\n {"a": 1},\n {"note": "' + "x" * 1000 + '"}\n]', encoding="utf-8")
    assert path.stat().st_size > LARGE, "the premise: past the limit"
    with pytest.raises(InputFileError) as raised:
        flatten(path, False, "utf-8", tmp_path / "flat.jsonl", "doc")
    assert str(raised.value).startswith("doc, line 3: holds a value longer than 0 MiB from character 2")


def test_a_gzip_array_past_the_limit_streams_within_the_inflation_limits(tmp_path: Path, small_limit: None) -> None:
    """A gzip document is no longer bounded by the size read whole: its inflation is checked before it streams."""
    text = json.dumps([{**RECORD, "request_id": f"r{i}"} for i in range(20_000)])
    packed = tmp_path / "spend_logs.json.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    flat = flatten(packed, True, "utf-8", tmp_path / "flat.jsonl", "doc")
    assert flat.records == 20_000
    assert len(text) > 1024**2, "the premise: past the size never refused for its ratio"
    assert len(text) / packed.stat().st_size > 20, "the premise: it inflates more than the limit below allows"
    with (
        pytest.raises(InputLimitError, match="compression bomb"),
        open_sources((packed,), None, limits=InputLimits(max_compression_ratio=20)),
    ):
        pass


# The peak from /proc (VmHWM, this process's own): `ru_maxrss` keeps the forking parent's peak across exec.
_MEASURE = """
import sys
from pathlib import Path
from auditor.importers.documents import flatten
def status(name):
    for line in open('/proc/self/status'):
        if line.startswith(name + ':'):
            return int(line.split()[1]) * 1024
before = status('VmRSS')
flatten(Path(sys.argv[1]), False, 'utf-8', Path(sys.argv[2]), 'doc')
print((status('VmHWM') - before) / Path(sys.argv[1]).stat().st_size)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="RSS is read from /proc")
def test_an_array_of_records_is_not_held_whole(tmp_path: Path) -> None:
    """A few pieces of its text (0.15 of its size here); its bytes and text held whole came to 2.0 times its size, and
    the records held as objects besides, read whole, to 5.5 times."""
    path = tmp_path / "spend_logs.json"
    path.write_text(json.dumps([{**RECORD, "request_id": f"r{i}"} for i in range(200_000)], indent=2))
    assert path.stat().st_size > 30e6, "the premise: large enough to measure"
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), str(tmp_path / "flat.jsonl")],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=True,
    )  # fmt: skip
    assert float(done.stdout) < 0.3
