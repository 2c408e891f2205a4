"""DuckDB's memory: bounded, scaled with its threads, and raised (the work run again) when the inputs need more."""

from __future__ import annotations

import ctypes
import io
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from auditor import ingest, pipeline, scan
from auditor.errors import ExitStatus
from auditor.importers.engine import MAX_JSON_LINE_BYTES
from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.progress import ScanProgress
from auditor.report.json_out import render_json
from auditor.scan import OutOfMemoryError, scan_connection, scanning
from bench.generate import generate
from tests.conftest import SAMPLES

# 2,000,000 numbers in two grouping sets: (a, b) takes every pair of residues of 200,003 and 7 (coprime, so
# 1,400,021 pairs: the numbers wrap past 200,003 × 7) and (b) its 7 residues; every number is counted once per set.
GROUPED = (
    "SELECT count(*), sum(n) FROM (SELECT i % 200003 AS a, i % 7 AS b, count(*) AS n FROM range(2000000) t(i) "
    "GROUP BY GROUPING SETS ((a, b), (b)))"
)
EXPECTED = [(1_400_021 + 7, 2 * 2_000_000)]


def _limit_mib(con: duckdb.DuckDBPyConnection) -> float:
    text = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]  # type: ignore[index]
    number, unit = text.split()
    return float(number) * {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024}[unit]


def test_a_query_out_of_memory_runs_again_with_half_as_much_again() -> None:
    with scan_connection(4) as con, pytest.raises(duckdb.OutOfMemoryException):
        con.execute(GROUPED).fetchall()  # the premise: 4 MiB is too little for this query
    retried: list[int] = []
    limits: list[float] = []

    def work(con: duckdb.DuckDBPyConnection) -> list[tuple[int, int]]:
        limits.append(_limit_mib(con))
        return con.execute(GROUPED).fetchall()  # type: ignore[return-value]

    assert scanning(work, retried.append, memory_mib=4, most_mib=4096) == EXPECTED
    assert retried[0] == 6 and all(b == a * 3 // 2 for a, b in zip([4, *retried], retried, strict=False))
    assert limits == [4, *retried], "each run had the limit it was told of"


def test_past_the_most_memory_the_run_stops_with_a_clear_error() -> None:
    retried: list[int] = []
    with pytest.raises(OutOfMemoryError) as caught:
        scanning(lambda con: con.execute(GROUPED).fetchall(), retried.append, memory_mib=3, most_mib=5)
    assert retried == [4, 5], "the last run has the most memory allowed, not less"
    assert caught.value.exit_status == ExitStatus.INPUT_ERROR
    assert "need more memory" in caught.value.message and "(5 MiB, half its memory)" in caught.value.message
    assert "smaller parts" in caught.value.hint


def test_the_first_limit_grows_with_the_threads_and_the_threads_are_bounded() -> None:
    assert scan.default_memory_mib(2) == 160 and scan.default_memory_mib(4) == 224
    assert 1 <= scan.scan_threads() <= scan.MAX_THREADS
    with scan_connection(threads=3) as con:
        assert con.execute("SELECT current_setting('threads')").fetchone() == (3,)
        assert _limit_mib(con) == scan.default_memory_mib(3)


def test_reading_json_lines_the_first_limit_holds_each_thread_s_buffer_of_two_of_the_longest_lines() -> None:
    for threads in range(1, scan.MAX_THREADS + 1):
        more = scan.default_memory_mib(threads, json_lines=True) - scan.default_memory_mib(threads)
        assert more * scan.MIB == threads * 2 * MAX_JSON_LINE_BYTES
    assert scan.default_memory_mib(2, json_lines=True) == 288


def test_a_run_asks_for_the_json_lines_limit_only_when_it_reads_json_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[bool] = []
    original = scan.scanning

    def scanning(work, on_retry, **kw):  # type: ignore[no-untyped-def]
        asked.append(kw["json_lines"])
        return original(work, on_retry, **kw)

    monkeypatch.setattr(pipeline, "scanning", scanning)
    csv_log, json_log = tmp_path / "openrouter.csv", tmp_path / "responses.jsonl"
    generate("openrouter", 100, csv_log)
    generate("openai-response", 100, json_log)
    for inputs in ((csv_log,), (json_log,), (csv_log, json_log)):
        run_audit(AuditOptions(inputs=inputs, as_of=date(2026, 11, 28)))
    assert asked == [False, True, True]


def test_the_read_blocks_shrink_with_the_threads_and_fit_the_first_limit() -> None:
    mib = {threads: scan.default_block_bytes(threads) // scan.MIB for threads in range(1, scan.MAX_THREADS + 1)}
    assert mib == {1: 32, 2: 32, 3: 21, 4: 16}
    for threads, block in mib.items():  # each thread holds its block and the next, besides its hash tables
        assert 2 * threads * block <= scan.default_memory_mib(threads) - 32
    options = AuditOptions(inputs=(SAMPLES,), as_of=date(2026, 11, 28))
    assert options.block_bytes == scan.default_block_bytes(scan.scan_threads()), "a run reads in this machine's"


def test_gzip_files_are_read_in_smaller_blocks_that_still_hold_two_of_the_longest_lines() -> None:
    mib = scan.MIB
    assert scan.read_blocks(32 * mib) == scan.ReadBlocks(plain=32 * mib, gzip=8 * mib)
    assert scan.read_blocks(16 * 1024).gzip == 16 * 1024, "never more than the plain files' block"
    options = AuditOptions(inputs=(SAMPLES,), as_of=date(2026, 11, 28))
    assert options.read_blocks.gzip == 8 * mib and options.read_blocks.of(gzip=False) == options.block_bytes
    long_lines = AuditOptions(inputs=(SAMPLES,), as_of=date(2026, 11, 28), max_field_bytes=12 * mib)
    assert long_lines.block_bytes >= 24 * mib and long_lines.read_blocks.gzip == 24 * mib


def test_a_log_of_many_keys_gives_the_same_audit_when_the_first_limit_is_too_small(
    run_cli,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = tmp_path / "openrouter.csv"
    generate("openrouter", 20_000, log, keys=500)  # keys × apps × models × half hours: groups held in memory
    as_of = ["--as-of", date(2026, 11, 28).isoformat(), "--quiet"]
    plenty = run_cli(str(log), "--json", str(tmp_path / "plenty.json"), *as_of)
    assert plenty.status == 0, plenty.err

    monkeypatch.setattr(scan, "default_memory_mib", lambda threads, json_lines=False: 4)
    monkeypatch.setattr(scan, "most_memory_mib", lambda: 4)
    short = run_cli(str(log), "--json", str(tmp_path / "short.json"), *as_of)
    assert short.status == ExitStatus.INPUT_ERROR, "the premise: this log does not fit in 4 MiB"
    assert "error: the inputs need more memory" in short.err and "cannot be read" not in short.err
    assert "Traceback" not in short.err

    monkeypatch.setattr(scan, "most_memory_mib", lambda: 4096)
    again = run_cli(str(log), "--json", str(tmp_path / "again.json"), *as_of)
    assert again.status == 0, again.err
    assert (tmp_path / "again.json").read_bytes() == (tmp_path / "plenty.json").read_bytes()


def test_a_terminal_is_told_when_the_inputs_are_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "openrouter.csv"
    generate("openrouter", 5_000, log, keys=200)
    monkeypatch.setattr(scan, "default_memory_mib", lambda threads, json_lines=False: 4)
    shown = io.StringIO()
    with ScanProgress(Console(file=shown, width=120)) as progress:
        result = run_audit(AuditOptions(inputs=(log,), as_of=date(2026, 11, 28)), progress=progress)
    assert "note: more memory needed: reading the inputs again with 6 MiB" in shown.getvalue()
    assert sum(f.rows_used for f in result.inputs) == 5_000


def test_small_files_read_again_with_more_memory_give_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """The samples' files of every format, read in batches on two cursors: out of memory in any of them (a batch, a
    cursor's thread, a file read alone to name it) reads everything again, to the same result."""
    options = AuditOptions(inputs=(SAMPLES,), as_of=date(2026, 11, 28))
    plenty = render_json(run_audit(options))
    monkeypatch.setattr(scan, "default_memory_mib", lambda threads, json_lines=False: 4)
    retried: list[int] = []
    original = scan.scanning
    monkeypatch.setattr(pipeline, "scanning", lambda work, on_retry, **kw: original(work, retried.append, **kw))
    assert render_json(run_audit(options)) == plenty
    assert retried[:2] == [6, 9], "the premise: 4 MiB is too little for the samples"


def test_a_streamed_file_s_scan_table_is_kept_in_the_scans_file_not_whole_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over many keys, for a FOCUS file (whose rows are by key and day), a scan table has a row per key, app, model
    and day: in DuckDB's memory it stays whole (a temporary table cannot be evicted); in the scans database file it
    is compressed, and evictable. (DuckDB writes a table of more than a row group, 122,880 rows, to the file as it
    goes; a smaller one waits in memory for the next checkpoint.) Without, the usage by key is summed by price
    period, not by day: here, with 75 requests a key, fewer than half the rows."""
    log = tmp_path / "openrouter.csv"
    generate("openrouter", 150_000, log, keys=2_000)
    seen: list[tuple[list[tuple[str, str, bool]], int, int]] = []
    original = ingest._ingested

    def ingested(con, files, scanned, *args):  # type: ignore[no-untyped-def]
        tables = con.execute(
            "SELECT database_name, table_name, temporary FROM duckdb_tables() WHERE table_name LIKE 'scan%'"
        ).fetchall()
        rows = sum(con.execute(f"SELECT count(*) FROM {s.table}").fetchone()[0] for s in scanned)
        in_memory = con.execute(
            "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'"
        ).fetchone()[0]
        seen.append((tables, rows, in_memory))
        return original(con, files, scanned, *args)

    monkeypatch.setattr(ingest, "_ingested", ingested)
    options = AuditOptions(inputs=(log,), as_of=date(2026, 11, 28))
    result = run_audit(options, on_ledger=lambda *_: None)
    assert sum(f.rows_used for f in result.inputs) == 150_000
    ((tables, rows, in_memory),) = seen
    assert tables == [(scan.SCANS, "scan_0", False)]
    assert rows > 122_880, "the premise: a scan table of more than a row group"
    assert in_memory < 1 << 20, "no table held whole in memory"
    run_audit(options)
    assert seen[1][1] < rows / 2


# In a child process (its own heap): malloc's bytes in use (glibc) held by `ingest._grouped`'s frame of a table of
# text keys and counts, against the frame's own size.
_FRAME_HELD = """
import ctypes, json
import pyarrow as pa
from auditor import ingest
from auditor.scan import scan_connection
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks "
                                              "keepcost".split()]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
def in_use():
    info = libc.mallinfo2()
    return info.uordblks + info.hblkhd
pa.set_memory_pool(pa.system_memory_pool())  # as a run does
with scan_connection(160) as con:
    con.execute("CREATE TABLE t AS SELECT 'openrouter' AS p, 'anthropic/claude-' || (i % 8) AS m, "
                "'key-' || (i % 1000) AS k, i AS a, 2 * i AS b, 3 * i AS c, 4 * i AS d FROM range(600000) r(i)")
    before = in_use()
    frame = ingest._grouped(con, "FROM t s", ("p", "m", "k", "a"), ("b", "c", "d"))
    held = in_use() - before
print(json.dumps({"held": held, "size": int(frame.memory_usage(deep=True).sum()), "rows": len(frame)}))
"""


def _has_mallinfo2() -> bool:
    try:
        return hasattr(ctypes.CDLL("libc.so.6"), "mallinfo2")
    except OSError:
        return False


@pytest.mark.skipif(not _has_mallinfo2(), reason="measured with glibc's mallinfo2")
def test_a_workload_frame_holds_its_own_copy_of_duckdb_s_result_not_its_batches() -> None:
    """DuckDB frees a batch of a result whole, once no column of it is used, and pandas keeps a batch's text bytes
    as they are (it copies the counts): a frame made straight from DuckDB's result held every batch whole beside its
    own copies, about twice its size. It now holds a copy of its own, and the batches are let go."""
    done = subprocess.run([sys.executable, "-c", _FRAME_HELD], capture_output=True, text=True, check=True)
    measured = json.loads(done.stdout)
    assert measured["rows"] == 600_000
    assert measured["held"] <= 1.25 * measured["size"], measured
