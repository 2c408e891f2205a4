"""Property-based fuzzing of every registered importer (hypothesis).

Rows are made from the importer's own sample (its real columns and values) recombined with hostile values
of each column's declared type (negative, fractional, huge and non-numeric counts, malformed money and
times, quotes, commas, newlines), under random orders of the header; and files of random bytes under the
importer's header. Whatever the input, the invariants hold:

- no crash: a run returns, or refuses the file with an `AuditorError` (one line, exit 2);
- every row is accounted for: rows read = used + skipped + rejected = the records written;
- the totals of the used rows are the sums of their lines: the usage table (by day and model) and the shape
  table (by half hour and request size) are two groupings of the same used rows, so every token class and
  the requests sum the same in both, and the usage table holds one ledger line per used row.

Examples are few (the suite stays fast) and derandomized (CI is reproducible); the sample makes most rows
recognisable, so the cases explored are used, skipped and rejected rows, not only refusals.
"""

from __future__ import annotations

import copy
import csv
import io
import itertools
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from auditor.errors import AuditorError
from auditor.importers import IMPORTERS
from auditor.importers.base import Importer
from auditor.ingest import ingest_file, survey_file
from auditor.scan import scan_connection
from auditor.sources import open_sources
from auditor.workload import Pricebook
from tests.conftest import SAMPLES

# Examples per importer and test; raise it for a longer search (`AUDIT_FUZZ_EXAMPLES=200 pytest tests/test_fuzz_*`).
EXAMPLES = int(os.environ.get("AUDIT_FUZZ_EXAMPLES", "8"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: a failure is shown as found, at once
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TOKEN_SUMS = (
    "requests",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
)
_TABLE_INDEX = itertools.count(10_000)

_COUNTS = st.one_of(
    st.integers(0, 10**7).map(str),
    st.integers(-(10**6), -1).map(str),
    st.integers(10**15, 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "12k", "1e3", "3.0", "3.5", "0x10", "NaN", "-0", "1,000", "null"]),
)
_MONEY = st.one_of(
    st.decimals(min_value=-(10**6), max_value=10**6, places=9, allow_nan=False).map(str),
    st.sampled_from(["", "$1.00", "1,5", "1e-3", "-0.000000001", "12345678901234567890.5", "NaN", "free"]),
)
_TIMES = st.one_of(
    st.integers(1_500_000_000, 2_000_000_000).map(lambda s: datetime.fromtimestamp(s, UTC).isoformat()),
    st.integers(1_500_000_000, 2_000_000_000).map(lambda s: datetime.fromtimestamp(s, UTC).strftime("%Y-%m-%d %H:%M")),
    st.sampled_from(["", "yesterday", "2026-13-01", "2026-02-30 10:00", "1790812800", "2026-10-01T25:00:00Z"]),
)
_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(['a,"b"', "line\nbreak", "=1+1", "\\", "'", "\ufeff", "\u202e", "\x00"]),
)


def _samples(importer: Importer) -> list[Path]:
    return sorted(p for p in (SAMPLES / importer.name).rglob("*") if p.suffix != ".parquet" and p.is_file())


def _csv_template(importer: Importer) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of the importer's CSV samples (the first sample's header; rows of all)."""
    header: list[str] = []
    rows: list[dict[str, str]] = []
    for path in _samples(importer):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = header or list(reader.fieldnames or [])
            rows += [dict(r) for r in reader if set(r) <= set(header)]
    return header, rows


def _json_template(importer: Importer) -> list[dict[str, Any]]:
    """The records of the importer's samples as its engine reads them (documents flattened to lines)."""
    records: list[dict[str, Any]] = []
    for path in _samples(importer):
        with open_sources((path,), importer.name) as (sources, _):
            for source in sources:
                with source.sniffed.open_text() as handle:
                    for line in handle:
                        try:
                            value = json.loads(line)
                        except ValueError:
                            continue
                        if isinstance(value, dict):
                            records.append(value)
    return records


def _typed(importer: Importer, column: str) -> st.SearchStrategy[str]:
    if column in importer.count_columns:
        return _COUNTS
    if column in importer.money_columns:
        return _MONEY
    if column in importer.time_columns:
        return _TIMES
    return _TEXT


CSV_IMPORTERS = [i for i in IMPORTERS if not i.is_json_lines]
JSON_IMPORTERS = [i for i in IMPORTERS if i.is_json_lines]


def _check(path: Path, importer: Importer, records: int | None) -> None:
    """Ingest `path` as `importer` would be chosen for it; assert the invariants."""
    try:
        with open_sources((path,), importer.name) as (sources, _), scan_connection() as con:
            (source,) = sources
            survey = survey_file(con, source.sniffed, source.importer)
            ingested = ingest_file(con, source.sniffed, source.importer, Pricebook(), next(_TABLE_INDEX), survey)
    except AuditorError as exc:
        assert "\n" not in exc.message, exc.message  # a refusal is one line
        return
    account = ingested.account
    assert account.rows_read == account.rows_used + account.rows_skipped + account.rows_rejected
    if records is not None:
        assert account.rows_read == records
    assert account.rows_rejected >= len(account.rejected), (account.rejected, path.read_text())
    usage, shape = ingested.usage, ingested.shape
    assert int(usage["lines"].sum()) == account.rows_used
    for column in TOKEN_SUMS:
        assert int(usage[column].sum()) == int(shape[column].sum()), column
        assert int(usage[column].sum()) >= 0, column


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        # CRLF ends a record, so a field holding a CR or an LF is quoted (a bare CR would end a line).
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows([[row.get(c, "") for c in header] for row in rows])


@pytest.mark.parametrize("importer", CSV_IMPORTERS, ids=lambda i: i.name)
@FUZZ
@given(data=st.data())
def test_csv_importer_random_rows_and_header_orders(importer: Importer, data: st.DataObject) -> None:
    header, template = _csv_template(importer)
    order = data.draw(st.permutations(header), label="header order")
    rows = []
    for _ in range(data.draw(st.integers(1, 6), label="rows")):
        row = dict(data.draw(st.sampled_from(template), label="sample row"))
        for column in data.draw(st.lists(st.sampled_from(header), max_size=4, unique=True), label="changed"):
            row[column] = data.draw(_typed(importer, column), label=column)
        rows.append(row)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        _write_csv(path, list(order), rows)
        _check(path, importer, len(rows))


def _set(record: dict[str, Any], path: str, value: object) -> None:
    """Set a `$.a.b.c` field of a record (missing objects made); other path syntax is left alone."""
    keys = path.removeprefix("$.").split(".")
    if not path.startswith("$.") or any(not k or "[" in k or "*" in k for k in keys):
        return
    node = record
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[keys[-1]] = value


def _json_value(importer: Importer, column: str) -> st.SearchStrategy[object]:
    typed = _typed(importer, column)
    return st.one_of(
        typed,
        typed.filter(lambda t: t.lstrip("-").isdigit()).map(int),
        st.none(),
        st.just({"nested": [1, 2]}),
        st.floats(allow_nan=False, allow_infinity=False),
    )


@pytest.mark.parametrize("importer", JSON_IMPORTERS, ids=lambda i: i.name)
@FUZZ
@given(data=st.data())
def test_json_importer_random_records(importer: Importer, data: st.DataObject) -> None:
    template = _json_template(importer)
    fields = list(importer.json_fields.items())
    lines = []
    for _ in range(data.draw(st.integers(1, 6), label="records")):
        record = copy.deepcopy(data.draw(st.sampled_from(template), label="sample record"))
        for column, path in data.draw(st.lists(st.sampled_from(fields), max_size=4, unique=True), label="changed"):
            _set(record, path, data.draw(_json_value(importer, column), label=column))
        lines.append(json.dumps(record, ensure_ascii=data.draw(st.booleans(), label="ascii")))
    if data.draw(st.booleans(), label="a broken line"):
        lines.insert(data.draw(st.integers(1, len(lines)), label="where"), lines[0][: len(lines[0]) // 2])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        _check(path, importer, len(lines))


def _header_line(importer: Importer) -> bytes:
    if importer.is_json_lines:
        return b""
    header, _ = _csv_template(importer)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(header)
    return out.getvalue().encode()


@pytest.mark.parametrize("importer", IMPORTERS, ids=lambda i: i.name)
@settings(FUZZ, max_examples=max(2, EXAMPLES // 3))
@given(body=st.binary(min_size=1, max_size=3000))
def test_random_bytes_under_the_importers_header(importer: Importer, body: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        path.write_bytes(_header_line(importer) + body)
        _check(path, importer, None)
