"""A JSON document that is one array of records is flattened record by record, as it is decoded: the same lines as
reading it whole, without holding every record as an object at once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from auditor.errors import InputFileError
from auditor.importers.documents import _records, _values, flatten

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


@pytest.mark.parametrize("path", SAMPLE_DOCUMENTS, ids=lambda p: p.name)
def test_every_sample_document_flattens_as_read_whole(path: Path, tmp_path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert _flattened(path, tmp_path) == _read_whole(text)


@pytest.mark.parametrize("name", EDGES)
def test_edge_documents_flatten_as_read_whole(name: str, tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_text(EDGES[name], encoding="utf-8", newline="")
    assert _flattened(path, tmp_path) == _read_whole(EDGES[name])


@pytest.mark.parametrize("name", BROKEN)
def test_broken_documents_give_the_error_of_the_whole_read(name: str, tmp_path: Path) -> None:
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
def test_an_array_of_records_is_not_held_as_objects(tmp_path: Path) -> None:
    """Its bytes and its text, about twice its size (2.00 here); read whole, the records held as objects besides came
    to 5.5 times its size on this document."""
    path = tmp_path / "spend_logs.json"
    path.write_text(json.dumps([{**RECORD, "request_id": f"r{i}"} for i in range(200_000)], indent=2))
    assert path.stat().st_size > 30e6, "the premise: large enough to measure"
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), str(tmp_path / "flat.jsonl")],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=True,
    )  # fmt: skip
    assert float(done.stdout) < 2.4
