"""Small files of one format are read in one query: each file's accounting and rejected lines stay its own."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path

import duckdb
import pytest

from auditor import ingest, pipeline
from auditor.errors import InputFileError
from auditor.ingest import _batches
from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.report.json_out import render_json
from auditor.result import InputFile
from auditor.sources import open_sources
from bench.generate import SESSION, claude_code_sessions
from tests.conftest import AS_OF, SAMPLES
from tests.test_bad_input import damaged_parquet

LOG = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
HEADER = LOG.read_text(encoding="utf-8").splitlines()[0].split(",")


def _copy(target: Path, prefix: str, changes: dict[int, dict[str, str]]) -> int:
    """The sample log with its own request ids and some fields changed (by line number); returns its rows."""
    lines = LOG.read_text(encoding="utf-8").splitlines()
    out = [lines[0]]
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split(",")
        fields[0] = prefix + fields[0]
        for name, value in changes.get(number, {}).items():
            fields[HEADER.index(name)] = value
        out.append(",".join(fields))
    target.write_text("\n".join(out) + "\n", encoding="utf-8")
    return len(out) - 1


def _accounting(entry: InputFile) -> tuple[object, ...]:
    rejected = [(r.line, r.column, r.reason) for r in entry.rejected]
    return (entry.rows_read, entry.rows_used, entry.rows_skipped, entry.rows_rejected, rejected, entry.sha256)


def test_rejected_lines_and_accounting_are_per_file_in_a_batch(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    rows_a = _copy(folder / "a.csv", "a-", {3: {"tokens_prompt": "x12"}})
    rows_b = _copy(folder / "b.csv", "b-", {2: {"tokens_completion": "abc"}, 5: {"tokens_cached": "99999999"}})
    with open_sources((folder,), None, ()) as (sources, _):
        assert [members for members, _ in _batches([(s.sniffed, s.importer) for s in sources])] == [[0, 1]]

    together = {Path(f.path).name: f for f in run_audit(AuditOptions(inputs=(folder,), as_of=AS_OF)).inputs}
    a, b = together["a.csv"], together["b.csv"]
    assert (a.rows_read, a.rows_rejected, [(r.line, r.column) for r in a.rejected]) == (
        rows_a,
        1,
        [(3, "tokens_prompt")],
    )
    assert (b.rows_read, b.rows_rejected, [(r.line, r.column) for r in b.rejected]) == (
        rows_b,
        2,
        [(2, "tokens_completion"), (5, "tokens_cached")],
    )
    # Read alone, each file gives the same accounting (their request ids differ: nothing is counted twice).
    for name, entry in together.items():
        (alone,) = run_audit(AuditOptions(inputs=(folder / name,), as_of=AS_OF)).inputs
        assert _accounting(alone) == _accounting(entry)


def test_files_of_one_format_with_other_headers_or_parquet_are_read_together_as_alone(tmp_path: Path) -> None:
    """A file whose header orders its columns otherwise, lacks optional columns (cached tokens, BYOK cost) or is
    Parquet is read in one query with the others of its format: each file's accounting is the one it has alone."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    _copy(folder / "a.csv", "a-", {3: {"tokens_prompt": "x12"}})
    dropped = ("tokens_cached", "byok_usage_inference")
    order = [h for h in reversed(HEADER) if h not in dropped]
    rows = [
        dict(zip(HEADER, line.split(","), strict=True)) for line in LOG.read_text(encoding="utf-8").splitlines()[1:]
    ]
    text = [",".join(order)] + [",".join("b-" + r[h] if h == "generation_id" else r[h] for h in order) for r in rows]
    (folder / "b.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    workload = SAMPLES / "workload_csv"
    (folder / "workload.csv").write_bytes((workload / "workload_2026-09.csv").read_bytes())
    # The Parquet sample holds the CSV's records: its copy names other projects, so no record is counted twice.
    parquet = workload / "workload_2026-09.parquet"
    other = f"SELECT * REPLACE ('other-' || coalesce(project, '') AS project) FROM read_parquet('{parquet}')"
    duckdb.execute(f"COPY ({other}) TO '{folder / 'workload.parquet'}' (FORMAT parquet)")
    with open_sources((folder,), None, ()) as (sources, _):
        assert [members for members, _ in _batches([(s.sniffed, s.importer) for s in sources])] == [[0, 1], [2, 3]]

    together = {Path(f.path).name: f for f in run_audit(AuditOptions(inputs=(folder,), as_of=AS_OF)).inputs}
    assert together["a.csv"].rows_rejected == 1
    for name, entry in together.items():
        (alone,) = run_audit(AuditOptions(inputs=(folder / name,), as_of=AS_OF)).inputs
        assert _accounting(alone) == _accounting(entry)
        assert (alone.period_start, alone.period_end) == (entry.period_start, entry.period_end)


def test_batches_read_at_once_fail_with_the_first_failing_batch_in_order(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Batches are read by several threads at once: the error is still the first failing batch's, every time."""
    monkeypatch.setattr(ingest, "BATCH_MAX_BYTES", 1)  # each file its own batch
    folder = tmp_path / "logs"
    folder.mkdir()
    _copy(folder / "a.csv", "a-", {})
    damaged_parquet(folder / "b.parquet")
    _copy(folder / "c.csv", "c-", {})
    damaged_parquet(folder / "d.parquet")
    with open_sources((folder,), None, ()) as (sources, _):
        files = [(s.sniffed, s.importer) for s in sources]
        assert [Path(s.sniffed.name).name for s in sources] == ["a.csv", "b.parquet", "c.csv", "d.parquet"]
        assert [members for members, _ in _batches(files)] == [[0], [1], [2], [3]]
        assert all(small for _, small in _batches(files))
    for _ in range(5):
        with pytest.raises(InputFileError) as failed:
            run_audit(AuditOptions(inputs=(folder,), as_of=AS_OF))
        assert failed.value.path.endswith("b.parquet") and "cannot be read as Parquet" in failed.value.message
    (folder / "b.parquet").unlink()
    with pytest.raises(InputFileError) as failed:
        run_audit(AuditOptions(inputs=(folder,), as_of=AS_OF))
    assert failed.value.path.endswith("d.parquet")


def _optimizer(con: duckdb.DuckDBPyConnection) -> str:
    return str(con.execute("SELECT current_setting('enable_optimizer')").fetchall()[0][0]).lower()


def test_a_batch_is_planned_without_the_optimizer_and_it_is_on_again_after() -> None:
    """The cursor goes on to other queries (numbering a large file's rejected rows): the optimizer must be back on,
    whether the batch's query succeeded or failed."""
    con = duckdb.connect()
    with ingest._unoptimized(con):
        assert _optimizer(con) == "false"
    assert _optimizer(con) == "true"
    with pytest.raises(duckdb.Error), ingest._unoptimized(con):
        con.execute("SELECT * FROM read_csv('no such file.csv')")
    assert _optimizer(con) == "true"


def test_the_samples_batches_read_the_same_lines_unoptimized(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each batch's table of lines, planned without the optimizer, holds the same rows as planned with it."""
    compared: list[int] = []
    read = ingest._read_lines

    def both_ways(con: duckdb.DuckDBPyConnection, files: ingest._Files, members: list[int], number: int, *rest: object):
        scanned = read(con, files, members, number, *rest)  # type: ignore[arg-type]
        unoptimized = ingest._unoptimized
        monkeypatch.setattr(ingest, "_unoptimized", lambda _: nullcontext())
        optimized = read(con, files, members, number + 1000, *rest)  # type: ignore[arg-type]
        monkeypatch.setattr(ingest, "_unoptimized", unoptimized)
        a, b = scanned.table, optimized.table
        only_a, only_b = (
            f"SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b}",
            f"SELECT * FROM {b} EXCEPT ALL SELECT * FROM {a}",
        )
        differ = f"({only_a}) UNION ALL ({only_b})"
        assert con.execute(f"SELECT count(*) FROM ({differ})").fetchall() == [(0,)], files[members[0]][1].name
        assert scanned.reader_rejects == optimized.reader_rejects
        con.execute(f"DROP TABLE {b}")
        compared.append(number)
        return scanned

    monkeypatch.setattr(ingest, "_read_lines", both_ways)
    monkeypatch.setattr(ingest, "_THREADS", 1)  # one batch at a time: `_unoptimized` is swapped while one is read
    run_audit(AuditOptions(inputs=(SAMPLES,), as_of=AS_OF))
    assert len(compared) >= 20, "the samples' small files are read in about thirty batches"


def test_many_files_read_alone_are_united_a_few_tables_a_query_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "projects"
    claude_code_sessions(folder, 40)
    groups: list[int] = []
    united = ingest._united

    def recorded(con, batches):  # type: ignore[no-untyped-def]
        out = united(con, batches)
        groups.extend(len(group) for group in out)
        return out

    monkeypatch.setattr(ingest, "_united", recorded)
    options = AuditOptions(inputs=(folder,), as_of=AS_OF)
    whole = render_json(run_audit(options))
    assert groups == [32, 8], "the 40 files' tables: 32 in one query, the other 8 in another"
    groups.clear()
    monkeypatch.setattr(ingest, "UNION_MOST_TABLES", 3)
    assert render_json(run_audit(options)) == whole
    assert groups == [3] * 13 + [1]
    one = run_audit(AuditOptions(inputs=(SESSION,), as_of=AS_OF)).totals.requests
    assert json.loads(whole)["totals"]["requests"] == 40 * one > 0, "every file's requests counted once"


def test_two_hundred_sessions_are_scanned_within_the_first_memory_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All 200 files' tables in one query ran out of the scan's memory twice, so the whole ingest ran three times
    (22 s instead of 6 s on two cores)."""
    folder = tmp_path / "projects"
    claude_code_sessions(folder, 200)
    runs: list[int] = []
    ingest_all = pipeline.ingest_all

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        runs.append(1)
        return ingest_all(*args, **kwargs)

    monkeypatch.setattr(pipeline, "ingest_all", counted)
    result = run_audit(AuditOptions(inputs=(folder,), as_of=AS_OF))
    assert len(result.inputs) == 200 and runs == [1]
