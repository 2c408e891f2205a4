"""A large gzip file checked for the input limits while the run reads it: the check still decides, and a refusal
stops the read."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import sys
import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from auditor import ingest, pipeline, sources, stream_checks
from auditor.errors import ExitStatus, InputLimitError
from auditor.importers.reader import MIB, InputLimits, Sniffed, sniff
from auditor.ingest import SMALL_FILE_BYTES
from auditor.options import AuditOptions
from auditor.pipeline import CHECKS_STILL_RUNNING, STAGES_AFTER_SCAN, run_audit
from auditor.progress import ScanProgress
from auditor.report.json_out import render_json
from auditor.stream_checks import StreamCheck, checks_decide
from bench.generate import generate

AS_OF = ["--as-of", date(2026, 11, 28).isoformat()]


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A gzip'd request log large enough to be scanned on the run's connection (not read as a small file)."""
    folder = tmp_path_factory.mktemp("packed")
    plain = folder / "openrouter.csv"
    generate("openrouter", 100_000, plain)
    path = folder / "openrouter.csv.gz"
    with plain.open("rb") as source, gzip.open(path, "wb", compresslevel=6) as target:
        shutil.copyfileobj(source, target)
    assert path.stat().st_size >= SMALL_FILE_BYTES, "the premise: a streamed file"
    return path


@pytest.fixture
def plain(packed: Path, tmp_path: Path) -> Path:
    """The same request log, not compressed: a plain file, checked while read when large."""
    path = tmp_path / "openrouter.csv"
    path.write_bytes(gzip.decompress(packed.read_bytes()))
    return path


@pytest.fixture
def aside(monkeypatch: pytest.MonkeyPatch) -> list[StreamCheck]:
    """Every gzip file checked aside (the threshold lowered to 1 KiB); the checks made, for the premise."""
    made: list[StreamCheck] = []

    class Recorded(StreamCheck):
        def __init__(self, *args) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args)
            made.append(self)

    monkeypatch.setattr(sources, "CHECKED_ASIDE_BYTES", 1024)
    monkeypatch.setattr(sources, "StreamCheck", Recorded)
    return made


def test_checked_aside_or_first_the_audit_is_the_same(packed: Path, aside: list[StreamCheck]) -> None:
    options = AuditOptions(inputs=(packed,), as_of=date(2026, 11, 28))
    checked_aside = render_json(run_audit(options))
    assert len(aside) == 1, "the premise: checked while read"
    with pytest.MonkeyPatch.context() as first:
        first.setattr(sources, "CHECKED_ASIDE_BYTES", 1 << 62)
        assert render_json(run_audit(options)) == checked_aside
    assert len(aside) == 1


def test_a_file_cut_short_is_refused_as_when_checked_first(
    packed: Path,
    tmp_path: Path,
    run_cli,  # type: ignore[no-untyped-def]
    aside: list[StreamCheck],
) -> None:
    cut = tmp_path / "openrouter.csv.gz"
    cut.write_bytes(packed.read_bytes()[: packed.stat().st_size * 2 // 3])
    refused = run_cli(str(cut), "--json", str(tmp_path / "out.json"), *AS_OF)
    assert len(aside) == 1, "the premise: checked while read"
    assert refused.status == ExitStatus.INPUT_ERROR
    assert "is cut short or damaged" in refused.err and "cannot be read" not in refused.err
    assert "Traceback" not in refused.err and not (tmp_path / "out.json").exists()


def test_a_file_past_the_ratio_limit_is_refused_while_read(
    packed: Path,
    tmp_path: Path,
    run_cli,  # type: ignore[no-untyped-def]
    aside: list[StreamCheck],
) -> None:
    refused = run_cli(str(packed), "--max-compression-ratio", "2", "--json", str(tmp_path / "out.json"), *AS_OF)
    assert len(aside) == 1, "the premise: checked while read"
    assert refused.status == ExitStatus.INPUT_ERROR
    assert "--max-compression-ratio" in refused.err and "Traceback" not in refused.err


def test_a_plain_file_with_a_line_past_the_field_limit_is_refused_while_read(
    packed: Path,
    tmp_path: Path,
    run_cli,  # type: ignore[no-untyped-def]
    aside: list[StreamCheck],
) -> None:
    """A large delimited file's line check runs beside the read too: a line longer than the limit, far into the
    file, still refuses the run with its number, whatever DuckDB made of it."""
    lines = gzip.decompress(packed.read_bytes()).split(b"\n")
    lines[90_000] = lines[90_000] + b"x" * (2 << 20)
    plain = tmp_path / "openrouter.csv"
    plain.write_bytes(b"\n".join(lines))
    refused = run_cli(str(plain), "--max-field-bytes", str(1 << 20), "--json", str(tmp_path / "out.json"), *AS_OF)
    assert len(aside) == 1, "the premise: checked while read"
    assert refused.status == ExitStatus.INPUT_ERROR
    assert refused.err.splitlines()[0] == (
        f"error: {plain}: line 90001 is longer than 1,048,576 bytes, the limit of a row's fields"
    )
    assert "Traceback" not in refused.err and not (tmp_path / "out.json").exists()


def test_a_plain_file_checked_while_read_has_its_sha256_from_the_check(plain: Path, aside: list[StreamCheck]) -> None:
    """The check reads a plain file as it is: the digest comes from its pass, not from another read of the file."""

    def read_apart(*args: object) -> str:
        raise AssertionError("the file was read again for its digest")

    with pytest.MonkeyPatch.context() as no_second_read:
        no_second_read.setattr(ingest, "sha256_of", read_apart)
        result = run_audit(AuditOptions(inputs=(plain,), as_of=date(2026, 11, 28)))
    assert len(aside) == 1, "the premise: checked while read"
    assert [i.sha256 for i in result.inputs] == [hashlib.sha256(plain.read_bytes()).hexdigest()]
    with pytest.MonkeyPatch.context() as first:
        first.setattr(sources, "CHECKED_ASIDE_BYTES", 1 << 62)
        assert render_json(run_audit(AuditOptions(inputs=(plain,), as_of=date(2026, 11, 28)))) == render_json(result)


def test_a_refusal_interrupts_the_query_reading_the_file(packed: Path) -> None:
    """The check refuses the file (ratio limit 2) while a long query runs on the connection it was told of."""
    check = StreamCheck(sniff(packed), InputLimits(max_compression_ratio=2), line_limit=True)
    with duckdb.connect() as con, pytest.raises(InputLimitError) as refused, checks_decide([check]) as read_on:
        con.execute("SET enable_progress_bar = false")
        read_on(con)
        # About 90 s here unless interrupted; hashing every number leaves DuckDB no shortcut.
        con.execute("SELECT sum(hash(i) % 7) FROM range(20000000000) t(i)").fetchall()
    assert refused.value.flag == "--max-compression-ratio"
    assert isinstance(refused.value.__cause__, duckdb.InterruptException)


def test_a_refusal_before_the_read_begins_interrupts_it_too(packed: Path) -> None:
    """A check may refuse its file (a bomb shows in its first blocks) before the block is told of its connection:
    the query read on it is interrupted all the same, not left to read the whole file."""
    check = StreamCheck(sniff(packed), InputLimits(max_compression_ratio=2), line_limit=True)
    with pytest.raises(InputLimitError):
        check.wait()  # the premise: refused before the query starts
    with duckdb.connect() as con, pytest.raises(InputLimitError) as refused, checks_decide([check]) as read_on:
        con.execute("SET enable_progress_bar = false")
        read_on(con)
        # About 90 s here unless interrupted.
        con.execute("SELECT sum(hash(i) % 7) FROM range(20000000000) t(i)").fetchall()
    assert isinstance(refused.value.__cause__, duckdb.InterruptException)


def test_a_check_left_running_is_stopped_with_the_sources(packed: Path, aside: list[StreamCheck]) -> None:
    with sources.open_sources((packed,), None, check_aside=True) as (found, _):
        assert found[0].check is not None
        # The progress bar counts compressed bytes: its rows are estimated from how the first MiB inflates.
        estimated = packed.stat().st_size / found[0].sniffed.bytes_per_row
        assert 0.8 * 100_000 <= estimated <= 1.2 * 100_000
    assert not aside[0]._thread.is_alive()


def _slow_check(monkeypatch: pytest.MonkeyPatch, until: threading.Event, order: list[str], refuse: bool) -> None:
    """A plain file's check held back until `until` is set (or 10 s pass), then run (or refusing the file)."""
    steps_of = stream_checks.check_steps

    def held_back(sniffed: Sniffed, *args: object, **kwargs: object) -> Generator[None, None, int] | None:
        steps = steps_of(sniffed, *args, **kwargs)  # type: ignore[arg-type]
        assert steps is not None, "the premise: a pass is needed"

        def held() -> Generator[None, None, int]:
            until.wait(10)
            order.append("check done")
            if refuse:  # as a refusing pass does, it gives no digest
                steps.close()
                raise InputLimitError(sniffed.name, "refused late, for the test", "--max-field-bytes")
            return (yield from steps)

        return held()

    monkeypatch.setattr(stream_checks, "check_steps", held_back)


@pytest.mark.parametrize("refuse", [False, True], ids=["digest", "refusal"])
def test_a_plain_files_check_is_waited_for_when_the_run_has_its_result(
    plain: Path, aside: list[StreamCheck], monkeypatch: pytest.MonkeyPatch, refuse: bool
) -> None:
    """The scan does not wait for a plain file's check: the stages after it run meanwhile, and the run waits for the
    check before it builds its result. Its digest is then the check's; its refusal, the run's error."""
    stages_done, order = threading.Event(), []

    def on_stage(name: str, seconds: float) -> None:
        order.append(name)
        if name == "plan":  # the last stage before the result
            stages_done.set()

    _slow_check(monkeypatch, stages_done, order, refuse)
    options = AuditOptions(inputs=(plain,), as_of=date(2026, 11, 28))
    if refuse:
        with pytest.raises(InputLimitError, match="refused late"):
            run_audit(options, on_stage=on_stage)
    else:
        result = run_audit(options, on_stage=on_stage)
        assert [i.sha256 for i in result.inputs] == [hashlib.sha256(plain.read_bytes()).hexdigest()]
    assert len(aside) == 1, "the premise: checked while read"
    assert order.index("ingest and aggregate") < order.index("plan") < order.index("check done")
    assert order[-1] == ("check done" if refuse else "cost model and result")


@pytest.mark.skipif(sys.platform != "linux", reason="threads have their own priority on Linux")
def test_a_plain_files_check_starts_at_the_lowest_priority_a_gzip_files_does_not(
    plain: Path, packed: Path, aside: list[StreamCheck], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plain file cannot be a bomb: its check takes first what the scan leaves of the cores. A gzip file's check
    keeps pace with the scan, to stop a bomb early."""
    checked, steps_of, niceness = stream_checks.check_stream, stream_checks.check_steps, {}

    def observed(sniffed: Sniffed, *args: object, **kwargs: object) -> int | None:
        niceness[sniffed.path.name] = _priority()
        return checked(sniffed, *args, **kwargs)  # type: ignore[arg-type]

    def observed_steps(sniffed: Sniffed, *args: object, **kwargs: object) -> Generator[None, None, int] | None:
        steps = steps_of(sniffed, *args, **kwargs)  # type: ignore[arg-type]
        assert steps is not None, "the premise: a pass is needed"

        def first_observed() -> Generator[None, None, int]:
            niceness[sniffed.path.name] = _priority()
            return (yield from steps)

        return first_observed()

    monkeypatch.setattr(stream_checks, "check_stream", observed)
    monkeypatch.setattr(stream_checks, "check_steps", observed_steps)
    run_audit(AuditOptions(inputs=(plain, packed), as_of=date(2026, 11, 28)))
    assert len(aside) == 2, "the premise: both checked while read"
    assert niceness == {"openrouter.csv": 19, "openrouter.csv.gz": os.getpriority(os.PRIO_PROCESS, 0)}


def _priority() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


class _Run:
    """What the scan has read (`scanned`), moved by the test, and who took each step of a pass of `blocks` blocks
    of 1 MiB: the thread's priority and how far the check trailed the scan before it."""

    def __init__(self, blocks: int) -> None:
        self.scanned, self.blocks = 0, blocks
        self.taken: list[int] = []
        self.before_each: Callable[[int], None] = lambda step: None

    def steps(self, on_read: Callable[[int], None]) -> Generator[None, None, int]:
        for step in range(self.blocks):
            self.before_each(step)
            self.taken.append(_priority())
            on_read(MIB)
            yield
        return self.blocks * MIB


@pytest.mark.skipif(sys.platform != "linux", reason="threads have their own priority on Linux")
def test_a_plain_files_check_takes_the_normal_priority_while_it_trails_the_scan() -> None:
    """`_Relay`: the pass's blocks are taken at the lowest priority while the check trails the scan by no more than
    the lag; at the normal priority once it trails by more, until it is back within half of it; and at the normal
    priority once the run has done reading. One pass, its blocks in order, whoever takes them."""
    normal, done = os.getpriority(os.PRIO_PROCESS, 0), threading.Event()
    run = _Run(blocks=12)

    def scan(step: int) -> None:
        if step == 2:
            run.scanned = 10 * MIB  # the check (2 MiB read) trails by 8 MiB: more than the lag of 4
        if step == 9:
            done.set()

    run.before_each = scan
    relay = stream_checks._Relay(done, lag_bytes=4 * MIB)
    result: list[BaseException | None] = []
    thread = threading.Thread(target=lambda: result.append(_ran(relay, run)))
    thread.start()
    thread.join(10)
    assert result == [None]
    # Steps 0-2 trail by no more than 4 MiB after them (3 MiB read at step 2's end, 7 MiB behind: it takes over),
    # steps 3-7 at the normal priority until within 2 MiB (8 MiB read after step 7), 8 low again, then reading done.
    assert run.taken == [19, 19, 19, normal, normal, normal, normal, normal, 19, 19, normal, normal], run.taken


def _ran(relay: stream_checks._Relay, run: _Run) -> BaseException | None:
    try:
        relay.run("check", run.steps, lambda: run.scanned)
    except BaseException as exc:
        return exc
    return None


def test_a_relayed_pass_raises_its_error_in_the_thread_that_waits_for_it() -> None:
    run = _Run(blocks=6)

    def refuse(step: int) -> None:
        run.scanned = 100 * MIB  # far behind: the normal priority's thread takes the blocks
        if step == 4:
            raise InputLimitError("openrouter.csv", "refused in the helper, for the test", "--max-field-bytes")

    run.before_each = refuse
    error = _ran(stream_checks._Relay(threading.Event(), lag_bytes=MIB), run)
    assert isinstance(error, InputLimitError) and "refused in the helper" in str(error)
    assert len(run.taken) == 4


def test_a_late_refusal_replaces_an_error_of_the_stages_after_the_scan(
    plain: Path, aside: list[StreamCheck], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As it replaces an error of the read: what the stages made of a refused file is not the run's error."""
    failed, order = threading.Event(), []

    def failing(*args: object) -> None:
        failed.set()
        raise RuntimeError("a stage failed on what the scan read")

    monkeypatch.setattr(pipeline, "build_forecast", failing)
    _slow_check(monkeypatch, failed, order, refuse=True)
    with pytest.raises(InputLimitError, match="refused late") as refused:
        run_audit(AuditOptions(inputs=(plain,), as_of=date(2026, 11, 28)))
    assert isinstance(refused.value.__cause__, RuntimeError)
    assert len(aside) == 1, "the premise: checked while read"


class _Lines(ScanProgress):
    """The lines a terminal is shown while the run works on what is not a file, in order; `on_line` is told each."""

    def __init__(self, on_line: Callable[[str], None]) -> None:
        super().__init__(Console(file=io.StringIO()))
        self.lines: list[str] = []
        self._on_line = on_line

    @contextmanager
    def working(self, what: str) -> Iterator[None]:
        with super().working(what):
            self.lines.append(what)
            self._on_line(what)
            yield


def test_while_the_run_waits_for_a_check_the_terminal_says_so(
    plain: Path, aside: list[StreamCheck], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Up to a second at 20M requests, once the stages after the scan are done: not a blank screen."""
    waiting, order = threading.Event(), []
    _slow_check(monkeypatch, waiting, order, refuse=False)  # held back until the terminal says the run waits for it
    shown = _Lines(lambda what: waiting.set() if what == CHECKS_STILL_RUNNING else None)
    with shown:
        run_audit(AuditOptions(inputs=(plain,), as_of=date(2026, 11, 28)), progress=shown)
    assert len(aside) == 1, "the premise: checked while read"
    assert shown.lines == [STAGES_AFTER_SCAN, CHECKS_STILL_RUNNING]
    assert order == ["check done"]


def test_a_check_done_before_the_stages_end_shows_no_line(
    plain: Path, aside: list[StreamCheck], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No line flashes up when there is nothing to wait for: the check ended while the stages ran."""
    forecast = pipeline.build_forecast

    def after_the_checks(*args: object) -> object:
        for check in aside:
            check.wait()
        return forecast(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "build_forecast", after_the_checks)
    shown = _Lines(lambda what: None)
    with shown:
        run_audit(AuditOptions(inputs=(plain,), as_of=date(2026, 11, 28)), progress=shown)
    assert len(aside) == 1, "the premise: checked while read"
    assert shown.lines == [STAGES_AFTER_SCAN]
