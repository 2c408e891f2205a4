"""Reading one input file into workload tables, with its row accounting: read = used + skipped + rejected.

The file is scanned once by DuckDB (`importers/engine.py`) into a table of ledger sums by status and
segment key; the usage and shape tables and the accounting are queried from it. Only when rows were
rejected by the importer's rules is the file read a second time, to find their line numbers.
"""

from __future__ import annotations

import csv
import queue
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from auditor.errors import InputFileError
from auditor.importers.base import Importer
from auditor.importers.engine import (
    FILE_COLUMN,
    GIVEN_DAY_VARIABLE,
    CsvSource,
    FilesSource,
    PriceShape,
    ScanSource,
    aggregate_sql,
    column_type,
    given_day,
    head_projects_sql,
    head_survey_of,
    head_survey_sql,
    ident,
    json_fields_relation,
    lines_keys_sql,
    lines_scan_sql,
    lines_sql,
    lines_survey_sql,
    literal,
    mapped_sql,
    record_keys_sql,
    scan_sql,
    survey_of,
    survey_sql,
)
from auditor.importers.parquet import ParquetSource
from auditor.importers.reader import Sniffed, sha256_of
from auditor.ledger import COUNTED_TOKENS, SUM_COLUMNS, FileAccount, RejectedRow
from auditor.localtime import day_starts, local_days
from auditor.overlaps import OverlapPlan, families_in_several_files, plan_overlaps
from auditor.progress import ScanProgress, display_name
from auditor.scan import SCANS, ReadBlocks, default_block_bytes, read_blocks, scan_threads, session_cursor
from auditor.scratch import working_files_error
from auditor.workload import (
    KEY_DAY_KEYS,
    KEY_USAGE_KEYS,
    LOCAL_DAY,
    LOCAL_MONTH,
    MODEL_REF,
    RATE_ID,
    REQUESTS_KNOWN,
    SHAPE_KEYS,
    SHAPE_SUMS,
    USAGE_KEYS,
    UTC_MONTH,
    Pricebook,
)

# Rows the survey reads of a file no other file overlaps; a model first seen later is caught after the scan.
SURVEY_HEAD_ROWS = 200_000
# Rejected rows listed one by one (with line numbers) per file; the rest are counted.
MAX_LISTED_REJECTS = 1000
DEFAULT_BLOCK_BYTES = default_block_bytes(scan_threads())
DEFAULT_BLOCKS = read_blocks(DEFAULT_BLOCK_BYTES)
_LOCATE_CHUNK_ROWS = 50_000
_DUCKDB_ENCODINGS = {"utf-8": "utf-8", "utf-16": "utf-16", "cp1252": "latin-1"}
# A file smaller than this is read once, with the other small files of its format whatever their headers (up to
# BATCH_MAX_BYTES a query), into a table of ledger lines that the survey and the scan read: planning a query
# costs more than reading such files. Larger files are streamed, each alone, with their progress bar.
SMALL_FILE_BYTES = 1024 * 1024
BATCH_MAX_BYTES = 16 * 1024 * 1024
# Threads running DuckDB work at once (reading small files' batches, numbering rejected rows), each on a cursor of
# its own: DuckDB plans and runs a query without holding the GIL, and planning is most of a small batch's time.
_THREADS = min(2, scan_threads())
# The most tables of small files' lines one query unites (the survey, the scan): DuckDB's memory for a union grows
# with its tables, and 200 files read alone (Claude Code sessions) ran out of the scan's limit twice in one query.
UNION_MOST_TABLES = 32
# When two files of a family hold a day equally, the more detailed one counts it.
_DETAIL = {"requests": 2, "usage": 1, "cost": 0}


_T = TypeVar("_T")

# Files by their index among the run's inputs.
_Files = Mapping[int, tuple[Sniffed, Importer]]


@dataclass
class IngestedFile:
    """A file's accounting and workload tables (see `workload.py`); `key_shape` only where a stage reads the shape
    by API key (see `_workload_tables`)."""

    account: FileAccount
    usage: pd.DataFrame
    key_usage: pd.DataFrame
    shape: pd.DataFrame
    key_shape: pd.DataFrame | None = None


def _sources(sniffed: Sniffed, blocks: ReadBlocks, rejects: str | None) -> ScanSource:
    if sniffed.is_parquet:
        return ParquetSource(str(sniffed.path), sniffed.header, sniffed.column_types, file_names=sniffed.file_header)
    encoding = _DUCKDB_ENCODINGS[sniffed.encoding]
    return CsvSource(str(sniffed.path), sniffed.header, encoding, blocks.of(sniffed.gzip), rejects, sniffed.gzip)


def _read_error(sniffed: Sniffed, exc: duckdb.Error) -> InputFileError:
    """The error naming the file DuckDB could not read. Running out of memory is not the file's fault: raised as it
    is (`scan.scanning` runs the work again with more); nor is a full temporary directory (`WorkingFilesError`)."""
    if isinstance(exc, duckdb.OutOfMemoryException):
        raise exc
    own = working_files_error(exc)  # DuckDB's own files, not the input
    if own is not None:
        raise own from exc
    message = str(exc).strip().splitlines()[0]
    kind = "Parquet" if sniffed.is_parquet else "CSV"
    return InputFileError(
        sniffed.name, f"cannot be read as {kind} ({message})", "check that it is the vendor's export, complete"
    )


def survey_file(
    con: duckdb.DuckDBPyConnection,
    sniffed: Sniffed,
    importer: Importer,
    blocks: ReadBlocks = DEFAULT_BLOCKS,
    progress: ScanProgress | None = None,
    keys_table: str | None = None,
    head_table: str | None = None,
) -> pd.DataFrame:
    """First pass: the file's (provider, model_raw, day) and their weight, converting only those columns.

    It tells which models' prices move with the time of day or request size (so the second pass keys on
    those only where needed) and which days overlap with other files. With `keys_table`, every row's record
    key is kept there too, for files that may share records with others. Otherwise only the file's head is read;
    with `head_table`, its models and projects are kept there (`engine.head_survey_sql`, for `_projects_in_heads`).
    """
    shown = (
        progress.scanning(sniffed.path, display_name(sniffed.name), sniffed.bytes_per_row, "survey", lambda: _done(con))
        if progress
        else nullcontext()
    )
    source = _sources(sniffed, blocks, None)
    with shown:
        try:
            if keys_table is not None:
                con.execute(f"CREATE TEMP TABLE {keys_table} AS {record_keys_sql(importer, source)}")
                return con.execute(survey_of(keys_table)).df()
            # Days are not needed and models show early: the head of the file is enough (checked after the scan).
            if head_table is not None:
                con.execute(f"CREATE TEMP TABLE {head_table} AS {head_survey_sql(importer, source, SURVEY_HEAD_ROWS)}")
                return con.execute(head_survey_of(head_table)).df()
            return con.execute(survey_sql(importer, source, with_days=False, head_rows=SURVEY_HEAD_ROWS)).df()
        except duckdb.Error as exc:
            raise _read_error(sniffed, exc) from exc


def duplicates_table(con: duckdb.DuckDBPyConnection, name: str, owners: dict[int, list[str]], labels: list[str]) -> str:
    """A table of (day, __key, owner) of the records other files own on the given days (by owner index)."""
    parts = [
        f"SELECT day, __key, {literal(labels[owner])} AS owner FROM keys_{owner} "
        f"WHERE strftime(day, '%Y-%m-%d') IN ({', '.join(literal(d) for d in days)})"
        for owner, days in sorted(owners.items())
    ]
    con.execute(f"CREATE TEMP TABLE {name} AS SELECT DISTINCT ON (day, __key) * FROM ({' UNION ALL '.join(parts)})")
    return name


def ingest_all(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[tuple[Sniffed, Importer]],
    pricebook: Pricebook,
    blocks: ReadBlocks = DEFAULT_BLOCKS,
    progress: ScanProgress | None = None,
    given: Sequence[date | None] | None = None,
    zone: ZoneInfo | None = None,
    key_days: Path | None = None,
    keys_named: bool = False,
) -> list[IngestedFile]:
    """Survey every file, settle what overlapping files leave to each other, then scan every file; with `key_days`
    (a path), the files' usage by API key and day (a FOCUS file's rows) is written there too, as Parquet sorted by
    day (`key_days.KeyDays` reads it); with `keys_named` (a policy file names API keys), the shape table keeps its
    keys (`_workload_tables`).

    A small file is read once, into a table of its ledger lines that both passes read, with the other small
    files of its format (`SMALL_FILE_BYTES`, `BATCH_MAX_BYTES`, `engine.FilesSource`): planning a query costs
    more than reading such files. Each line keeps its file's index, so the accounting and rejected rows stay
    per file. `given` is the day given for each file whose lines carry no time (`engine.given_day()`)."""
    given = list(given) if given is not None else [None] * len(files)
    by_index = dict(enumerate(files))
    families = [importer.usage_family for _, importer in files]
    labels = [sniffed.name for sniffed, _ in files]
    shared = families_in_several_files(families)
    batches = _batches(files)
    day = _GivenDay(con)
    surveys: dict[int, pd.DataFrame] = {}
    heads: dict[int, str | None] = {}  # each streamed file's table of its head's models and projects, if it has one
    read: dict[int, _Scanned] = {}
    with _Cursors(con) as cursors:
        reading = {
            number: cursors.submit(_read_lines, by_index, members, number, blocks, given[members[0]])
            for number, (members, small) in enumerate(batches)
            if small
        }
        for number, (members, small) in enumerate(batches):  # an error is the first batch's that fails
            if small:
                read[number] = reading[number].result()
            else:
                i = members[0]
                keys = f"keys_{i}" if families[i] in shared else None
                heads[i] = None if keys else f"head_{i}"
                day.give(given[i])
                surveys[i] = survey_file(con, *files[i], blocks, progress, keys, heads[i])
    in_shared = {i for i, family in enumerate(families) if family in shared}
    surveys.update(_survey_lines(con, by_index, list(read.values()), in_shared))
    in_order = [surveys[i] for i in range(len(files))]
    formats = [importer.name for _, importer in files]
    detail = [_DETAIL[importer.kind] for _, importer in files]
    plans = plan_overlaps(families, formats, labels, in_order, detail)
    settled: dict[str, tuple[str | None, dict[int, dict[str, str]]]] = {}
    streamed: list[tuple[int, list[int], str | None, dict[int, dict[str, str]]]] = []
    for number, (members, small) in enumerate(batches):
        duplicates = _duplicates(con, number, members, plans, labels, by_file=small)
        counted = {i: plans[i].skip_days for i in members}
        if small:
            settled[read[number].table] = (duplicates, counted)
        else:
            streamed.append((number, members, duplicates, counted))

    def scan_all(keyed: bool, attempt: str = "") -> list[_Scanned]:
        scanned = []
        for number, members, duplicates, counted in streamed:
            day.give(given[members[0]])
            scan = (con, by_index, members, number, surveys, counted, duplicates)
            scanned.append(_scan_batch(*scan, blocks, progress, zone, pricebook, keyed, attempt, key_days is None))
        lines = list(read.values())
        scan_lines = (con, by_index, lines, surveys, settled, zone, pricebook)
        return scanned + _scan_lines(*scan_lines, keyed, attempt, key_days is None)

    # The shape set leaves the API key out when the workload names projects (the hybrid then segments by project):
    # over many keys it is most of what the scan holds. Guessed from the files' heads, checked on the scan tables;
    # a wrong guess scans again with the keys.
    head_of = [(by_index[members[0]], heads[members[0]]) for _, members, _, _ in streamed]
    keyed = keys_named or _projects_in_heads(con, head_of, [r.table for r in read.values()], blocks, pricebook) < 2
    for table in filter(None, heads.values()):
        con.execute(f"DROP TABLE {table}")
    scanned = scan_all(keyed)
    shape_keys = keys_named or _priced_projects(con, _scanned_view(con, scanned), pricebook) < 2
    if shape_keys and not keyed:
        for table in dict.fromkeys(s.table for s in scanned):
            con.execute(f"DROP TABLE {table}")
        scanned = scan_all(True, "_keyed")
    ingested = _ingested(con, by_index, scanned, pricebook, zone, dict(enumerate(given)), key_days, shape_keys)
    for lines in read.values():
        con.execute(f"DROP TABLE {lines.table}")
    return ingested


def _batches(files: Sequence[tuple[Sniffed, Importer]]) -> list[tuple[list[int], bool]]:
    """Indexes of the files read in one query, in the order of their first file, and whether they are small."""
    batches: dict[object, tuple[list[int], bool]] = {}
    size: dict[object, int] = {}
    for i, (sniffed, importer) in enumerate(files):
        bytes_ = sniffed.path.stat().st_size
        small = bytes_ < SMALL_FILE_BYTES
        alone = importer.in_line_order or importer.dedupe_within_file or importer.day_option
        key: object = i if alone or not small else id(importer)
        if key in size and size[key] + bytes_ > BATCH_MAX_BYTES:
            # A full batch: the next files of its kind start another.
            batches[(key, i)] = batches.pop(key)
            del size[key]
        batches.setdefault(key, ([], small))[0].append(i)
        size[key] = size.get(key, 0) + bytes_
    return sorted(batches.values(), key=lambda batch: batch[0][0])


class _Cursors:
    """Threads running DuckDB work at once (`submit(work, *args)` runs `work(cursor, *args)`), each on a cursor of
    the run's connection set up as the connection is (`scan.session_cursor`). The caller takes the results in its
    own order, so that the outcome, or the error, is the one of running the work in that order."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._idle: queue.SimpleQueue[duckdb.DuckDBPyConnection] = queue.SimpleQueue()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._pool = ThreadPoolExecutor(max_workers=_THREADS)

    def __enter__(self) -> _Cursors:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for cursor in self._cursors:
            cursor.close()

    def submit(self, work: Callable[..., _T], *args: object) -> Future[_T]:
        if len(self._cursors) < _THREADS:
            self._cursors.append(session_cursor(self._con))
            self._idle.put(self._cursors[-1])
        return self._pool.submit(self._run, work, *args)

    def _run(self, work: Callable[..., _T], *args: object) -> _T:
        cursor = self._idle.get()
        try:
            return work(cursor, *args)
        finally:
            self._idle.put(cursor)


class _GivenDay:
    """The day SQL reads for the file being read (`engine.given_day()`), set only when it changes."""

    _UNSET = date.min

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._day: date | None = self._UNSET

    def give(self, day: date | None) -> None:
        if day == self._day:
            return
        if day is None:
            self._con.execute(f"RESET VARIABLE {GIVEN_DAY_VARIABLE}")
        else:
            self._con.execute(f"SET VARIABLE {GIVEN_DAY_VARIABLE} = DATE '{day.isoformat()}'")
        self._day = day


def _batch_source(files: _Files, members: list[int], blocks: ReadBlocks, rejects: str | None) -> FilesSource:
    """Files of one importer as one source: those of one header, encoding and compression in one reading."""
    alike: dict[object, list[int]] = {}
    for i in members:
        sniffed, importer = files[i]
        header = () if importer.is_json_lines else sniffed.header
        alike.setdefault(i if sniffed.is_parquet else (header, sniffed.encoding, sniffed.gzip), []).append(i)
    parts: list[tuple[ScanSource, int | None]] = []
    for same in alike.values():
        first = files[same[0]][0]
        if len(same) == 1:
            parts.append((_sources(first, blocks, rejects), same[0]))
            continue
        encoding = _DUCKDB_ENCODINGS[first.encoding]
        paths = tuple((str(files[i][0].path), i) for i in same)
        source = CsvSource(str(first.path), first.header, encoding, blocks.of(first.gzip), rejects, first.gzip, paths)
        parts.append((source, None))
    return FilesSource(tuple(parts))


def _split(frame: pd.DataFrame, members: Sequence[int]) -> dict[int, pd.DataFrame]:
    """A frame with a `__file` column as one frame per file (in the frame's order), without that column.

    Each file's rows are a slice of the frame, sorted by file first (stably) unless they already run together (a
    single file's, or small files' tables queried file by file): slicing costs nothing, where taking each file's rows
    copied them (the workload tables of many files, or those of a large one)."""
    codes, files = pd.factorize(frame[FILE_COLUMN], sort=False)
    body = frame.drop(columns=FILE_COLUMN)
    if len(codes) > 1 and bool((codes[1:] < codes[:-1]).any()):
        order = np.argsort(codes, kind="stable")
        body, codes = body.take(order), codes[order]
    bounds = np.searchsorted(codes, np.arange(len(files) + 1))  # a row without a file (code -1) is in none
    parts = {int(str(f)): body.iloc[bounds[k] : bounds[k + 1]].reset_index(drop=True) for k, f in enumerate(files)}
    empty = body.iloc[0:0].reset_index(drop=True)
    return {i: parts.get(i, empty) for i in members}


def _batch_failed(files: _Files, members: list[int], exc: duckdb.Error) -> InputFileError:
    """The error of a batch's query, naming the file that causes it (each file read alone to find it)."""
    for i in members:
        sniffed, importer = files[i]
        try:
            with duckdb.connect(":memory:") as alone:
                alone.execute("SET TimeZone = 'UTC'")
                alone.execute(
                    f"SELECT count(*) FROM ({lines_sql(importer, _sources(sniffed, read_blocks(1 << 20), None))})"
                )
        except duckdb.Error as error:
            return _read_error(sniffed, error)
    return _read_error(files[members[0]][0], exc)


@dataclass
class _Scanned:
    """A batch's table (its rows carry `__file`), the rows its reader rejected and each file's sha256, by file.

    The reader's rejects are read where it ran: DuckDB keeps them in the connection's (or cursor's) own tables."""

    members: list[int]
    table: str
    reader_rejects: dict[int, list[RejectedRow]]
    sha256: Mapping[int, str | None]
    """None: given by the file's check, later (see `_scan`)."""


def _read_lines(
    con: duckdb.DuckDBPyConnection, files: _Files, members: list[int], number: int, blocks: ReadBlocks, day: date | None
) -> _Scanned:
    """Small files' one read: their ledger lines (`engine.lines_sql`) into a table; their sha256 meanwhile.

    The table is the database's, not temporary, for other cursors of the connection to read (`_Cursors`).
    `day` is the day given for files whose lines carry no time."""
    _GivenDay(con).give(day)
    sniffed, importer = files[members[0]]
    table, rejects = f"lines_{number}", f"rejects_{number}"
    if len(members) == 1:
        one = lines_sql(importer, _sources(sniffed, blocks, rejects))
        query = f"SELECT {members[0]} AS {FILE_COLUMN}, * FROM ({one})"
    else:
        query = lines_sql(importer, _batch_source(files, members, blocks, rejects), by_file=True)
    with ThreadPoolExecutor(max_workers=1) as pool:
        digests = pool.submit(lambda: {i: files[i][0].sha256() for i in members})
        try:
            with _unoptimized(con):
                con.execute(f"CREATE TABLE {table} AS {query}")
        except duckdb.Error as exc:
            raise (_read_error(sniffed, exc) if len(members) == 1 else _batch_failed(files, members, exc)) from exc
        reader_rejects = _reader_rejects(con, rejects, {i: files[i] for i in members})
        return _Scanned(members, table, reader_rejects, digests.result())


@contextmanager
def _unoptimized(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Within the block, `con`'s queries are run as planned, not optimized: a batch of small files' query is mostly
    planning (its SQL maps every column), a third of which was the optimizer's, for nothing on so few rows."""
    con.execute("PRAGMA disable_optimizer")
    try:
        yield
    finally:
        con.execute("PRAGMA enable_optimizer")


def _survey_lines(
    con: duckdb.DuckDBPyConnection, files: _Files, batches: list[_Scanned], shared: set[int]
) -> dict[int, pd.DataFrame]:
    """`survey_file` of small files, from their lines (a query per `UNION_MOST_TABLES` tables); each file of
    `shared` (a family that several files hold) with its days, and its record keys as `keys_<index>`."""
    if not batches:
        return {}
    parts = []
    for lines in batches:
        importer = files[lines.members[0]][1]
        with_days = lines.members[0] in shared
        parts.append(lines_survey_sql(importer, lines.table, with_days))
        for i in lines.members if with_days else ():
            con.execute(f"CREATE TEMP VIEW keys_{i} AS {lines_keys_sql(importer, lines.table, i)}")
    unions = [" UNION ALL ".join(f"({part})" for part in parts[at : at + UNION_MOST_TABLES])
              for at in range(0, len(parts), UNION_MOST_TABLES)]  # fmt: skip
    frame = pd.concat([con.execute(union).df() for union in unions], ignore_index=True)
    return _split(frame, [i for lines in batches for i in lines.members])


def _scan_lines(
    con: duckdb.DuckDBPyConnection,
    files: _Files,
    batches: list[_Scanned],
    surveys: Mapping[int, pd.DataFrame],
    settled: Mapping[str, tuple[str | None, Mapping[int, Mapping[str, str]]]],
    zone: ZoneInfo | None,
    pricebook: Pricebook,
    keyed: bool = True,
    attempt: str = "",
    by_period: bool = True,
) -> list[_Scanned]:
    """Second pass of small files: their lines summed as `scan_sql` sums a file's (the survey saw every line), with
    their `duplicates` tables and the days other files count (`settled`, by table of lines). The tables whose
    columns unite without loss are summed in one query (`engine.lines_scan_sql`), into one scan table (its shape
    set by API key where `keyed`; the usage by API key summed `by_period`, see `engine.PriceShape`)."""
    if not batches:
        return []
    known = pd.concat([surveys[i][["provider", "model_raw"]] for lines in batches for i in lines.members])
    shape = pricebook.price_shape(known.drop_duplicates(), None, keyed, by_period)
    starts = day_starts(zone) if zone is not None else ()
    scanned = []
    for number, group in enumerate(_united(con, batches)):
        table = f"scan_lines_{number}{attempt}"
        query = lines_scan_sql({lines.table: settled[lines.table] for lines in group}, shape, starts)
        try:
            con.execute(f"CREATE TEMP TABLE {table} AS {query}")
        except duckdb.Error as exc:
            for lines in group:  # the error named by the first file of the table that causes it
                try:
                    con.execute(f"SELECT count(*) FROM ({lines_scan_sql({lines.table: settled[lines.table]}, shape)})")
                except duckdb.Error as error:
                    raise _read_error(files[lines.members[0]][0], error) from error
            raise _read_error(files[group[0].members[0]][0], exc) from exc
        scanned += [replace(lines, table=table) for lines in group]
    return scanned


def _united(con: duckdb.DuckDBPyConnection, batches: list[_Scanned]) -> list[list[_Scanned]]:
    """Tables of lines in groups whose union changes no value: a column of one type in all, or of integers and
    decimals whose union (of the most digits before the point and the most after) still fits DECIMAL(38); at most
    `UNION_MOST_TABLES` a group."""
    types: dict[str, dict[str, str]] = {lines.table: {} for lines in batches}
    # Every column read, the tables chosen here: DuckDB filters on a list of 1,000 names in seconds.
    columns = con.execute("SELECT table_name, column_name, data_type FROM duckdb_columns()").fetchall()
    for table, column, kind in columns:
        if table in types:
            types[table][column] = kind
    groups: list[tuple[list[_Scanned], dict[str, str]]] = []
    for lines in batches:
        own = types[lines.table]
        group = next((g for g in groups if len(g[0]) < UNION_MOST_TABLES and _all_unite(g[1], own)), None)
        if group is None:
            groups.append(([lines], dict(own)))
            continue
        group[0].append(lines)
        for column, kind in own.items():
            group[1][column] = _union_type(group[1].get(column, kind), kind)
    return [members for members, _ in groups]


_INTEGER_DIGITS = {"TINYINT": 3, "SMALLINT": 5, "INTEGER": 10, "BIGINT": 19}
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


def _digits(kind: str) -> tuple[int, int] | None:
    """Digits before and after the point of an integer or decimal type."""
    if kind in _INTEGER_DIGITS:
        return _INTEGER_DIGITS[kind], 0
    found = _DECIMAL.fullmatch(kind)
    return (int(found[1]) - int(found[2]), int(found[2])) if found else None


def _union_type(a: str, b: str) -> str:
    """The type holding every value of both (`_unites`), as digits: DECIMAL(p, s) or the wider integer."""
    if a == b:
        return a
    da, db = _digits(a), _digits(b)
    assert da is not None and db is not None
    if da[1] == db[1] == 0:
        return a if da[0] >= db[0] else b
    before, after = max(da[0], db[0]), max(da[1], db[1])
    return f"DECIMAL({before + after},{after})"


def _all_unite(united: dict[str, str], own: dict[str, str]) -> bool:
    return all(_unites(united.get(column, kind), kind) for column, kind in own.items())


def _unites(a: str, b: str) -> bool:
    if a == b:
        return True
    da, db = _digits(a), _digits(b)
    return da is not None and db is not None and max(da[0], db[0]) + max(da[1], db[1]) <= 38


def _duplicates(
    con: duckdb.DuckDBPyConnection,
    number: int,
    members: list[int],
    plans: list[OverlapPlan],
    labels: list[str],
    by_file: bool,
) -> str | None:
    """The table of records other files own (`duplicates_table`) for a batch's files; `by_file`: with `__file`."""
    owners_of: dict[int, dict[int, list[str]]] = {}
    for i in members:
        for day, owner in plans[i].shared_days.items():
            owners_of.setdefault(i, {}).setdefault(owner, []).append(day)
    if not owners_of:
        return None
    if not by_file:
        return duplicates_table(con, f"duplicates_{members[0]}", owners_of[members[0]], labels)
    parts = []
    for i, owners in owners_of.items():
        parts.append(f"SELECT {i} AS {FILE_COLUMN}, * FROM {duplicates_table(con, f'duplicates_{i}', owners, labels)}")
    name = f"duplicates_batch_{number}"
    con.execute(f"CREATE TEMP TABLE {name} AS {' UNION ALL '.join(parts)}")
    return name


def _scan_batch(
    con: duckdb.DuckDBPyConnection,
    files: _Files,
    members: list[int],
    number: int,
    surveys: Mapping[int, pd.DataFrame],
    counted: Mapping[int, Mapping[str, str]],
    duplicates: str | None,
    blocks: ReadBlocks,
    progress: ScanProgress | None,
    zone: ZoneInfo | None,
    pricebook: Pricebook,
    keyed: bool = True,
    attempt: str = "",
    by_period: bool = True,
) -> _Scanned:
    """Second pass of a file streamed (not small): scan it into a table of the `SCANS` database file (its shape set
    by API key where `keyed`; its usage by API key summed `by_period`, see `engine.PriceShape`; `attempt` tells a
    second scan's tables apart).

    If the scan meets a model the survey did not (it may read only the head of a file) whose price moves
    with the time of day or request size, the file is scanned again with that model keyed too."""
    (i,) = members
    sniffed, importer = files[i]
    table, rejects = f"{SCANS}.scan_{number}{attempt}", f"rejects_{number}{attempt}"
    known = surveys[i][["provider", "model_raw"]].drop_duplicates()
    shape = pricebook.price_shape(known, importer.ledger, keyed, by_period)
    starts = day_starts(zone) if zone is not None else ()
    scan = (con, sniffed, importer, i, table)
    sha256 = _scan(*scan, rejects, shape, counted[i], duplicates, blocks, progress, starts)
    seen = con.execute(f"SELECT DISTINCT provider, model_raw FROM {table} WHERE status = ''").df()
    fuller = pricebook.price_shape(pd.concat([known, seen]).drop_duplicates(), importer.ledger, keyed, by_period)
    # A model the survey did not see keeps its usage by API key by day (correct whatever its prices): not scanned again.
    if shape.moves_rates(fuller):
        con.execute(f"DROP TABLE {table}")
        rejects = f"{rejects}_again"
        _scan(*scan, rejects, fuller, counted[i], duplicates, blocks, progress, starts)
    return _Scanned(members, table, _reader_rejects(con, rejects, {i: files[i] for i in members}), {i: sha256})


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    sniffed: Sniffed,
    importer: Importer,
    pricebook: Pricebook,
    index: int,
    survey: pd.DataFrame,
    counted_elsewhere: dict[str, str] | None = None,
    blocks: ReadBlocks = DEFAULT_BLOCKS,
    progress: ScanProgress | None = None,
    duplicates: str | None = None,
    zone: ZoneInfo | None = None,
) -> IngestedFile:
    """Scan one file (surveyed by `survey_file`) into its workload tables and account for every row.

    With a `zone`, the usage table's `local_day` is the day in that zone (else the UTC day)."""
    files = {index: (sniffed, importer)}
    counted = {index: counted_elsewhere or {}}
    scan = (con, files, [index], index, {index: survey}, counted, duplicates)
    scanned = _scan_batch(*scan, blocks, progress, zone, pricebook)
    day = con.execute(f"SELECT {given_day()}").fetchone()  # the day the caller gave the connection, if any
    shape_keys = _priced_projects(con, _scanned_view(con, [scanned]), pricebook) < 2
    return _ingested(con, files, [scanned], pricebook, zone, {index: day[0] if day else None}, shape_keys=shape_keys)[0]


def _scan(
    con: duckdb.DuckDBPyConnection,
    sniffed: Sniffed,
    importer: Importer,
    index: int,
    table: str,
    rejects: str,
    shape: PriceShape,
    counted_elsewhere: Mapping[str, str],
    duplicates: str | None,
    blocks: ReadBlocks,
    progress: ScanProgress | None,
    day_starts: tuple[int, ...] = (),
) -> str | None:
    """Scan the file into `table` (its rows with the file's index); return its sha256, read meanwhile, or None for a
    file whose digest comes from elsewhere (`Sniffed.digest`: given at once, or by its check, perhaps still running):
    the run takes those when it has waited for the checks (`pipeline.run_audit`)."""
    hashed = [0]
    shown = (
        progress.scanning(
            sniffed.path,
            display_name(sniffed.name),
            sniffed.bytes_per_row,
            "scan",
            lambda: _done(con),
            lambda: hashed[0],
        )
        if progress
        else nullcontext()
    )
    # The digest is read in a thread while DuckDB scans: hashlib and DuckDB both release the GIL. A file read from a
    # copy has its digest from elsewhere, given at once or by its check (not waited for here: the scan goes on).
    with ThreadPoolExecutor(max_workers=1) as pool, shown:
        digest = pool.submit(sha256_of, sniffed.path, hashed) if sniffed.digest is None else None
        source = _sources(sniffed, blocks, rejects)
        query = scan_sql(importer, source, shape, counted_elsewhere, duplicates, day_starts)
        try:
            con.execute(f"CREATE TABLE {table} AS SELECT {index} AS {FILE_COLUMN}, * FROM ({query})")
        except duckdb.Error as exc:
            raise _read_error(sniffed, exc) from exc
        return digest.result() if digest is not None else None


def _done(con: duckdb.DuckDBPyConnection) -> float:
    """DuckDB's own fraction done (only where the system does not count reads: see `auditor.progress`)."""
    return max(con.query_progress(), 0.0) / 100


def _ingested(
    con: duckdb.DuckDBPyConnection,
    files: _Files,
    scanned: list[_Scanned],
    pricebook: Pricebook,
    zone: ZoneInfo | None,
    given: dict[int, date | None],
    key_days: Path | None = None,
    shape_keys: bool = True,
) -> list[IngestedFile]:
    """Every scanned file's accounting and workload tables, queried from all scan tables at once (the shape by API
    key where `shape_keys`). `given` is each file's given day (for lines that carry no time), with which its rejected
    rows are read again. With `key_days` (a path), the usage by API key and day is written there (`ingest_all`)."""
    tables = list(dict.fromkeys(s.table for s in scanned))  # small files share theirs
    _scanned_view(con, scanned)
    members = [i for s in scanned for i in s.members]
    accounts: dict[int, FileAccount] = {}
    for s in scanned:
        for i in s.members:
            sniffed, importer = files[i]
            # A digest from elsewhere (`Sniffed.digest`) is filled in when the run has waited for the checks.
            accounts[i] = FileAccount(path=sniffed.name, format=importer.name, sha256=s.sha256[i] or "")
            accounts[i].numbered_by = "row" if sniffed.is_parquet else "line"
    counts = con.execute(
        f"SELECT {FILE_COLUMN}, status, CAST(sum(lines) AS BIGINT) FROM scanned WHERE NOT in_shape AND NOT in_keys "
        f"GROUP BY ALL ORDER BY {FILE_COLUMN}, status"
    ).fetchall()
    rule_rejects = dict.fromkeys(members, 0)
    for file, status, lines in counts:
        account = accounts[int(file)]
        if status == "":
            account.rows_used += lines
        elif status.startswith("S:"):
            account.rows_skipped += lines
            account.skipped_reasons[status.split(":", 2)[2]] += lines
        else:
            rule_rejects[int(file)] += lines
    with _Cursors(con) as cursors:
        # Files whose rows the rules rejected are read again to number them, meanwhile the workload is queried.
        to_locate = [i for i in members if rule_rejects[i]]
        locating = {i: cursors.submit(_locate_given, given[i], *files[i]) for i in to_locate}
        workload = _workload_tables(con, "scanned", pricebook, zone, key_days, shape_keys)
        for s in scanned:
            for i in s.members:
                sniffed, importer = files[i]
                account = accounts[i]
                account.rows_rejected = rule_rejects[i] + len(s.reader_rejects[i])
                account.rows_read = account.rows_used + account.rows_skipped + account.rows_rejected
                listed = s.reader_rejects[i][:MAX_LISTED_REJECTS]
                # A line the reader rejected never reached the rules (read again, it may look otherwise).
                if rule_rejects[i]:
                    read_lines = {r.line for r in listed}  # those numbered by their line
                    listed += [r for r in locating[i].result() if r.line not in read_lines]
                first_listed = sorted(listed, key=lambda r: r.line)[:MAX_LISTED_REJECTS]
                account.rejected = [replace(r, where=sniffed.where(r.line)) for r in first_listed]
    con.execute("DROP VIEW scanned")
    for table in tables:
        con.execute(f"DROP TABLE {table}")
    usages, keys, shapes = (_split(t, members) for t in (workload.usage, workload.key_usage, workload.shape))
    by_key_shape = _split(workload.key_shape, members) if workload.key_shape is not None else {}
    ingested = []
    for i in sorted(members):
        if not usages[i].empty:  # the first and last day of used rows, in the zone
            accounts[i].period_start = str(usages[i][LOCAL_DAY].min())
            accounts[i].period_end = str(usages[i][LOCAL_DAY].max())
        ingested.append(IngestedFile(accounts[i], usages[i], keys[i], shapes[i], by_key_shape.get(i)))
    return ingested


_CONVERT = re.compile(r'Could not convert string "(?P<value>.*)" to \'(?P<type>[^\']+)\'', re.S)
_COLUMNS = re.compile(r"Expected Number of Columns: (?P<expected>\d+) Found: (?P<found>\d+)")
_TYPE_WORDS = {"DOUBLE": "a number", "TIMESTAMP WITH TIME ZONE": "a timestamp"}


def _reader_rejects(
    con: duckdb.DuckDBPyConnection, rejects: str, files: Mapping[int, tuple[Sniffed, Importer]]
) -> dict[int, list[RejectedRow]]:
    """Rows DuckDB's reader could not take (a value of the wrong type, the wrong number of fields), one per line,
    per file (by index)."""
    columns = "e.line, e.line_byte_position, e.column_name, e.error_type, e.error_message"
    if len(files) == 1:
        query = f"SELECT NULL, {columns} FROM {rejects} e ORDER BY e.line"
    else:
        query = (
            f"SELECT s.file_path, {columns} FROM {rejects} e "
            f"JOIN {rejects}_scan s ON e.scan_id = s.scan_id AND e.file_id = s.file_id ORDER BY s.file_path, e.line"
        )
    try:
        rows = con.execute(query).fetchall()
    except duckdb.CatalogException:
        return {i: [] for i in files}
    index_of = {str(sniffed.path): i for i, (sniffed, _) in files.items()}
    only = next(iter(files))
    per_file: dict[int, list[tuple[int, int, str | None, str, str]]] = {i: [] for i in files}
    for path, *rest in rows:
        per_file[only if len(files) == 1 else index_of[str(path)]].append(tuple(rest))
    return {i: _file_reader_rejects(per_file[i], *files[i]) for i in files}


def _file_reader_rejects(
    rows: list[tuple[int, int, str | None, str, str]], sniffed: Sniffed, importer: Importer
) -> list[RejectedRow]:
    # DuckDB numbers records, not lines: a quoted field holding a newline shifts every later number. The
    # listed ones are numbered by their line, found from where each starts (the rest are only counted).
    listed = sorted({int(r[1]) for r in rows})[:MAX_LISTED_REJECTS]
    lines = {} if importer.is_json_lines or sniffed.is_parquet or not rows else _lines_at(sniffed, listed)
    by_record: dict[int, RejectedRow] = {}
    for record, position, column, kind, message in rows:
        if int(record) not in by_record:
            line = lines.get(int(position), int(record)) + sniffed.line_offset
            by_record[int(record)] = RejectedRow(line, _reader_reason(str(kind), str(message)), column)
    return list(by_record.values())


def _lines_at(sniffed: Sniffed, positions: list[int]) -> dict[int, int]:
    """The line of each of DuckDB's row positions: bytes into the file's text as UTF-8, the BOM included."""
    wanted, found = list(positions), {}
    line, offset = 1, 3 if sniffed.encoding == "utf-16" else 0  # Python's UTF-16 codec drops the BOM
    with sniffed.open_text() as handle:
        while wanted and (chunk := handle.read(1 << 20)):
            data = chunk.encode("utf-8", errors="replace")
            while wanted and wanted[0] <= offset + len(data):
                # The position is just past the row's first byte (LF files) or at it (CRLF: just past the
                # LF before it): the newlines before it are the row's line's.
                found[wanted[0]] = line + data[: max(wanted[0] - offset, 0)].count(b"\n")
                wanted.pop(0)
            line += data.count(b"\n")
            offset += len(data)
    return found


def _reader_reason(kind: str, message: str) -> str:
    converted = _CONVERT.search(message)
    if converted:
        value, type_name = converted["value"][:40], converted["type"]
        what = _TYPE_WORDS.get(type_name, "an amount" if type_name.startswith("DECIMAL") else type_name.lower())
        return f"'{value}' is not {what}"
    columns = _COLUMNS.search(message)
    if columns:
        return f"expected {columns['expected']} fields, found {columns['found']}"
    return f"{kind.lower()}: {message.splitlines()[0][:120]}"


def _locate_given(
    con: duckdb.DuckDBPyConnection, day: date | None, sniffed: Sniffed, importer: Importer
) -> list[RejectedRow]:
    """`_locate_rule_rejects` on a cursor, given the day files whose lines carry no time are read with."""
    _GivenDay(con).give(day)
    return _locate_rule_rejects(con, sniffed, importer, MAX_LISTED_REJECTS)


def _locate_rule_rejects(
    con: duckdb.DuckDBPyConnection, sniffed: Sniffed, importer: Importer, limit: int
) -> list[RejectedRow]:
    """Line numbers of rows the importer's rules reject: the file read again, in chunks, with the same SQL."""
    if importer.is_json_lines:
        return _locate_json_rejects(con, sniffed, importer, limit)
    if sniffed.is_parquet:
        return _locate_parquet_rejects(con, sniffed, importer, limit)
    present = [h for h in dict.fromkeys(sniffed.header) if h in importer.read_columns]
    typed = ", ".join(_try_cast(importer, name) for name in present)
    cast_failed = (
        " OR ".join(
            f"(NULLIF(trim({ident(n)}), '') IS NOT NULL AND {_try_cast(importer, n, named=False)} IS NULL)"
            for n in present
            if column_type(importer, n) != "VARCHAR"
        )
        or "false"
    )
    source = f"(SELECT {typed}, __line, ({cast_failed}) AS __cast_failed FROM chunk)"
    query = (
        f"SELECT __line, status FROM ({mapped_sql(importer, source, set(present), ('__line', '__cast_failed'))}) "
        f"WHERE NOT __cast_failed AND status LIKE 'R:%' ORDER BY __line"
    )
    return _rejects_in_chunks(con, query, _csv_chunks(sniffed, present), sniffed.line_offset, limit)


def _locate_json_rejects(
    con: duckdb.DuckDBPyConnection, sniffed: Sniffed, importer: Importer, limit: int
) -> list[RejectedRow]:
    source = json_fields_relation(importer, "chunk", ("__line",))
    mapped = mapped_sql(importer, source, set(importer.read_columns), ("__line",))
    query = f"SELECT __line, status FROM ({mapped}) WHERE status LIKE 'R:%' ORDER BY __line"
    chunks: Iterator[pd.DataFrame | pa.RecordBatchReader] = _json_chunks(sniffed)
    if importer.in_line_order:
        # Values carried from earlier lines must see the whole file: its chunks as one Arrow stream.
        batches = (pa.RecordBatch.from_pandas(c, schema=_JSON_LINES, preserve_index=False) for c in chunks)
        chunks = iter([pa.RecordBatchReader.from_batches(_JSON_LINES, batches)])
    return _rejects_in_chunks(con, query, chunks, sniffed.line_offset, limit)


_JSON_LINES = pa.schema([("json", pa.string()), ("__line", pa.int64())])


def _locate_parquet_rejects(
    con: duckdb.DuckDBPyConnection, sniffed: Sniffed, importer: Importer, limit: int
) -> list[RejectedRow]:
    """A Parquet file's rejected rows (problems of its values and the importer's rules), numbered from 1."""
    source = ParquetSource(
        str(sniffed.path), sniffed.header, sniffed.column_types, row_numbers=True, file_names=sniffed.file_header
    )
    present = set(sniffed.header) & set(importer.read_columns)
    mapped = mapped_sql(importer, source.relation(importer), present, ("__line",), read_problem="__read_problem")
    query = f"SELECT __line, status FROM ({mapped}) WHERE status LIKE 'R:%' ORDER BY __line LIMIT {int(limit)}"
    try:
        rows = con.execute(query).fetchall()
    except duckdb.Error as exc:
        raise _read_error(sniffed, exc) from exc
    found = []
    for line, status in rows:
        _, column, reason = status.split(":", 2)
        found.append(RejectedRow(int(line), reason, column or None))
    return found


def _rejects_in_chunks(
    con: duckdb.DuckDBPyConnection,
    query: str,
    chunks: Iterator[pd.DataFrame | pa.RecordBatchReader],
    line_offset: int,
    limit: int,
) -> list[RejectedRow]:
    """The rows `query` finds rejected in each chunk (registered as `chunk`), until `limit` are found."""
    found: list[RejectedRow] = []
    for chunk in chunks:
        con.register("chunk", chunk)
        try:
            for line, status in con.execute(query).fetchall():
                _, column, reason = status.split(":", 2)
                found.append(RejectedRow(int(line) + line_offset, reason, column or None))
        finally:
            con.unregister("chunk")
        if len(found) >= limit:
            break
    return found[:limit]


def _json_chunks(sniffed: Sniffed) -> Iterator[pd.DataFrame]:
    """Lines as (json, __line) frames; an empty line is a null document."""
    with sniffed.open_text() as handle:
        rows: list[tuple[str | None, int]] = []
        for number, line in enumerate(handle, start=1):
            rows.append((line.rstrip("\r\n") or None, number))
            if len(rows) >= _LOCATE_CHUNK_ROWS:
                yield pd.DataFrame(rows, columns=["json", "__line"])
                rows = []
        if rows:
            yield pd.DataFrame(rows, columns=["json", "__line"])


def _try_cast(importer: Importer, name: str, named: bool = True) -> str:
    kind = column_type(importer, name)
    cast = ident(name) if kind == "VARCHAR" else f"TRY_CAST(NULLIF(trim({ident(name)}), '') AS {kind})"
    return f"{cast} AS {ident(name)}" if named else cast


def _csv_chunks(sniffed: Sniffed, present: list[str]) -> Iterator[pd.DataFrame]:
    """Well-formed records as string frames with their first line number (a record may span lines)."""
    with sniffed.open_text() as handle:
        reader = csv.reader(handle)
        header = [h.lstrip("\ufeff").strip() for h in next(reader, [])]
        positions = [header.index(name) for name in present]
        rows: list[list[str]] = []
        start_line = reader.line_num + 1
        for fields in reader:
            if len(fields) == len(header):
                rows.append([*(fields[i] for i in positions), str(start_line)])
            start_line = reader.line_num + 1
            if len(rows) >= _LOCATE_CHUNK_ROWS:
                yield pd.DataFrame(rows, columns=[*present, "__line"], dtype=object)
                rows = []
        if rows:
            yield pd.DataFrame(rows, columns=[*present, "__line"], dtype=object)


@dataclass
class WorkloadTables:
    """The workload tables of scanned files (by `__file`)."""

    usage: pd.DataFrame
    key_usage: pd.DataFrame
    shape: pd.DataFrame
    key_shape: pd.DataFrame | None = None


def _workload_tables(
    con: duckdb.DuckDBPyConnection,
    table: str,
    pricebook: Pricebook,
    zone: ZoneInfo | None = None,
    key_days: Path | None = None,
    shape_keys: bool = True,
) -> WorkloadTables:
    """The usage, key usage and shape tables of scanned files (by `__file`), with catalog models and list-rate ids.
    The key usage is the scan's set by price period (`engine.PriceShape.key_periods`); with `key_days` (a path) the
    scan kept the usage set by API key and day instead (a FOCUS file's rows, written there: `_write_key_days`), and
    the key usage is summed from it.

    The shape table has no API key (''). The shape by API key (`key_shape`, its half hours summed by the same
    prices, see `engine.aggregate_sql`) is made only where a stage reads the keys (`shape_keys`, decided by the
    caller): the route-by-segment scenario segments by key where the priced workload names fewer than two projects
    (`hybrid.segmentation`), and the data profile reads the keys a policy file names.

    List rates are those of the UTC day and half hour; with a `zone`, each line's `local_day` is its day
    in that zone, from its UTC day and part of the day (kept by the scan), else the UTC day."""
    pairs = con.execute(f"SELECT DISTINCT provider, model_raw FROM {table} WHERE status = ''").df()
    pairs[MODEL_REF] = pricebook.model_refs(pairs)
    con.register("models", pairs)
    # The rows of the usage set and of the usage by API key.
    usage_rows = (
        f"(SELECT s.*, m.{MODEL_REF}, strftime(s.day, '%Y-%m-%d') AS rate_day FROM {table} s "
        f"JOIN models m USING (provider, model_raw) WHERE s.status = '' AND NOT s.in_shape)"
    )
    local_day = "s.rate_day"
    if zone is not None:
        parts = con.execute(f"SELECT DISTINCT rate_day, day_part FROM {usage_rows}").df()
        parts[LOCAL_DAY] = local_days(parts["rate_day"], parts["day_part"], zone)
        con.register("local_days", parts)
        usage_rows = (
            f"(SELECT u.*, l.{LOCAL_DAY} FROM {usage_rows} u "
            f"JOIN local_days l ON l.rate_day = u.rate_day AND l.day_part = u.day_part)"
        )
        local_day = f"s.{LOCAL_DAY}"
    combos = con.execute(
        f"SELECT DISTINCT {MODEL_REF}, rate_day AS day, rate_slot AS time_slot, service_tier, "
        f"rate_floor AS request_size_floor_tokens FROM {usage_rows}"
    ).df()
    combos[RATE_ID] = pricebook.rates.rate_ids(combos, pricebook.models)
    con.register("rates", combos)
    coded = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] >= CODED_ROWS
    joined = (
        f"FROM {usage_rows} s JOIN rates r ON r.{MODEL_REF} = s.{MODEL_REF} AND r.day = s.rate_day "
        f"AND r.time_slot = s.rate_slot AND r.service_tier = s.service_tier "
        f"AND r.request_size_floor_tokens = s.rate_floor"
    )
    shape_rows = (
        f"FROM (SELECT s.*, m.{MODEL_REF} FROM {table} s JOIN models m USING (provider, model_raw) "
        f"WHERE s.status = '' AND s.in_shape) s"
    )
    shape_exprs = {REQUESTS_KNOWN: f"CAST(s.{REQUESTS_KNOWN} AS BIGINT)"}
    days = {"day": "s.rate_day", LOCAL_DAY: local_day, RATE_ID: f"r.{RATE_ID}"}
    months = {UTC_MONTH: "left(s.rate_day, 7)", LOCAL_MONTH: f"left({local_day}, 7)", RATE_ID: f"r.{RATE_ID}"}
    usage_joined = f"{joined} WHERE NOT s.in_keys"
    keys_joined = usage_joined if key_days is not None else f"{joined} WHERE s.in_keys"
    tables = WorkloadTables(
        usage=_grouped(con, usage_joined, (FILE_COLUMN, *USAGE_KEYS), SUM_COLUMNS, days, coded=coded),
        key_usage=_grouped(con, keys_joined, (FILE_COLUMN, *KEY_USAGE_KEYS), SUM_COLUMNS, months, coded=coded),
        shape=_grouped(
            con,
            f"{shape_rows} WHERE NOT s.in_key_shape",
            (FILE_COLUMN, *SHAPE_KEYS),
            SHAPE_SUMS,
            {**shape_exprs, "api_key": "''"},
            coded=coded,
        ),
        key_shape=_grouped(
            con, f"{shape_rows} WHERE s.in_key_shape", (FILE_COLUMN, *SHAPE_KEYS), SHAPE_SUMS, shape_exprs, coded=coded
        )
        if shape_keys
        else None,
    )
    if key_days is not None:
        _write_key_days(con, usage_joined, days, coded, key_days)
    for name in ("rates", "models", *(["local_days"] if zone is not None else [])):
        con.unregister(name)
    return tables


def _scanned_view(con: duckdb.DuckDBPyConnection, scanned: list[_Scanned]) -> str:
    """The view `scanned` of all scan tables (small files share theirs). A view, not a copy: over many keys the scan
    tables hold millions of rows."""
    tables = dict.fromkeys(s.table for s in scanned)
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW scanned AS {' UNION ALL BY NAME '.join(f'SELECT * FROM {t}' for t in tables)}"
    )
    return "scanned"


def _projects_in_heads(
    con: duckdb.DuckDBPyConnection,
    streamed: list[tuple[tuple[Sniffed, Importer], str | None]],
    lines_tables: list[str],
    blocks: ReadBlocks,
    pricebook: Pricebook,
) -> int:
    """Projects of catalog models in the streamed files' heads and the small files' lines: a guess at what
    `_priced_projects` will count. A streamed file's head is its survey's table where it has one (`survey_file`),
    else read (a head that cannot be read guesses nothing)."""
    found: list[pd.DataFrame] = []
    tables = lines_tables + [table for _, table in streamed if table is not None]
    if tables:  # one query for all the tables: a query's planning costs more than reading them
        union = " UNION ALL ".join(f"SELECT provider, model_raw, project FROM {t}" for t in tables)
        found.append(con.execute(f"SELECT DISTINCT provider, model_raw, project FROM ({union})").df())
    for (sniffed, importer), table in streamed:
        if table is not None:
            continue
        with suppress(duckdb.Error):
            query = head_projects_sql(importer, _sources(sniffed, blocks, None), SURVEY_HEAD_ROWS)
            found.append(con.execute(query).df())
    if not found:
        return 0
    seen = pd.concat(found, ignore_index=True)
    return int(seen.loc[pricebook.model_refs(seen) != "", "project"].nunique())


def _priced_projects(con: duckdb.DuckDBPyConnection, table: str, pricebook: Pricebook) -> int:
    """Projects the priced workload names (`scenarios.priced_shape`: shape rows with a catalog model and requests or
    tokens besides reasoning), as `hybrid.segmentation` counts them. No count is below 0, so a row of the shape
    table has some where one of its lines has."""
    pairs = con.execute(f"SELECT DISTINCT provider, model_raw FROM {table} WHERE status = '' AND in_shape").df()
    priced = pairs[pricebook.model_refs(pairs) != ""]
    if priced.empty:
        return 0
    counted = " + ".join(f"s.{c}" for c in ("requests", *COUNTED_TOKENS))
    con.register("priced_models", priced)
    try:
        found = con.execute(
            f"SELECT count(DISTINCT s.project) FROM {table} s JOIN priced_models USING (provider, model_raw) "
            f"WHERE s.status = '' AND s.in_shape AND {counted} > 0"
        )
        return int(found.fetchall()[0][0])
    finally:
        con.unregister("priced_models")


def _grouped(
    con: duckdb.DuckDBPyConnection,
    joined: str,
    keys: tuple[str, ...],
    sums: tuple[str, ...],
    expressions: dict[str, str] | None = None,
    coded: bool = True,
) -> pd.DataFrame:
    """Sums by keys, in key order; a key is the column of the same name in `s` unless `expressions` gives another.

    DuckDB sorts (text in code-point order, as pandas does: `workload.merge_tables` then finds one file's table in
    order and takes it as it is). Over 1,000 API keys, sorting in pandas took 1.3 s and 260 MiB more at the peak.
    With `coded`, text keys are grouped and sorted as the codes of their sorted values (`_text_codes`)."""
    with _grouped_sql(con, joined, keys, sums, expressions, coded) as query:
        # Through Arrow: its strings go into pandas' Arrow-backed columns without a Python object each (a usage table
        # of 279,000 rows, 100 API keys, took 480 MiB more and 0.5 s longer through `.df()`).
        table = con.sql(f"{query} ORDER BY {', '.join(keys)}").to_arrow_table()
    return _frame_of(table)


@contextmanager
def _grouped_sql(
    con: duckdb.DuckDBPyConnection,
    joined: str,
    keys: tuple[str, ...],
    sums: tuple[str, ...],
    expressions: dict[str, str] | None,
    coded: bool,
) -> Iterator[str]:
    """The query of `_grouped`, unsorted; with `coded`, its text keys' types live while the block runs."""
    exprs = {k: (expressions or {}).get(k, f"s.{k}") for k in keys}
    select_sums = ", ".join(f"CAST(sum(s.{c}) AS BIGINT) AS {c}" for c in sums)
    text_codes: AbstractContextManager[dict[str, str]] = _text_codes(con, joined, exprs) if coded else nullcontext({})
    with text_codes as codes:
        select_keys = ", ".join(f"{codes.get(k, e)} AS {k}" for k, e in exprs.items())
        yield f"SELECT {select_keys}, {select_sums} {joined} GROUP BY ALL"


def _write_key_days(con: duckdb.DuckDBPyConnection, joined: str, days: dict[str, str], coded: bool, path: Path) -> None:
    """The usage by API key and day (a FOCUS file's rows, `KEY_DAY_KEYS` by file) written to `path` as Parquet,
    sorted by UTC day, then by its keys (`key_days.KeyDays` reads it a day at a time). Over 1,000 keys it is 845,000
    rows: kept in memory beside DuckDB's group-by and its Arrow copy, it took the run from about 475 to 715 MiB."""
    keys = (FILE_COLUMN, *KEY_DAY_KEYS)
    with _grouped_sql(con, joined, keys, SUM_COLUMNS, days, coded) as query:
        order = ", ".join(["day", *(k for k in keys if k != "day")])
        # A disk full or gone is the run's working files' error (`scan.scanning`, `scratch.working_files_error`).
        con.execute(f"COPY ({query} ORDER BY {order}) TO {literal(str(path))} (FORMAT parquet)")


def _frame_of(table: pa.Table) -> pd.DataFrame:
    """`table` as a frame of text and count columns, made a column at a time: each column's codes as their text, and
    its counts copied into Arrow's own buffers in one piece (and DuckDB's let go), then into pandas, the table's
    column dropped before the next is made. DuckDB frees a batch of its result whole, once no column of it is used,
    and pandas keeps a batch's text bytes as they are (it widens their offsets, and copies the counts), so a frame
    made of the batches held every batch whole beside its own copies (over 1,000 API keys the usage table held 475
    MiB, not 271). Made all columns at once (the codes' text, one table of one piece, then pandas), the usage table
    of 1M requests over 1,000 keys took the process from 545 to 1,119 MiB; a column at a time, to 892 MiB."""
    columns: dict[str, pd.Series] = {}
    for name in table.column_names:
        column = table.column(name)
        table = table.drop_columns([name])
        if pa.types.is_dictionary(column.type):
            column = column.cast(pa.string())
        columns[name] = column.combine_chunks().to_pandas()
    return pd.DataFrame(columns, copy=False)


_TEXT_CODES = "_text_codes_"
CODED_ROWS = 100_000
"""Scan rows from which the workload tables' text keys leave DuckDB as codes (`_text_codes`): their first pass pays
over many rows (1M requests over 1,000 API keys, 1.6M rows: 0.6 s saved), not over few (5M requests over 4 keys,
51,000 rows: 0.04 s more; the samples, 1,000 rows: 0.04 s more)."""


@contextmanager
def _text_codes(con: duckdb.DuckDBPyConnection, joined: str, exprs: dict[str, str]) -> Iterator[dict[str, str]]:
    """For each text key that has values: its expression cast to an ENUM of its values in sorted order, whose
    codes group, sort and leave DuckDB as integers, each value once (a dictionary). Over 1,000 API keys the usage
    table's query took 0.9 s, not 1.2, and the shape table's 0.4 s, not 0.7: DuckDB hashed, sorted and copied each
    row's text. The types live while the block runs."""
    relation = con.sql(f"SELECT {', '.join(f'{e} AS {k}' for k, e in exprs.items())} {joined}")
    text = [k for k, kind in zip(exprs, relation.types, strict=True) if str(kind) == "VARCHAR"]
    if not text:
        yield {}
        return
    lists = con.execute(f"SELECT {', '.join(f'list(DISTINCT {exprs[k]})' for k in text)} {joined}").fetchall()[0]
    made: list[str] = []
    try:
        for key, values in zip(text, lists, strict=True):
            present = sorted(v for v in values or () if v is not None)  # code-point order, as DuckDB sorts text
            if not present:
                continue
            name = f"{_TEXT_CODES}{key}"
            con.register(name, pa.table({"value": pa.array(present, pa.string())}))
            try:
                con.execute(f"CREATE OR REPLACE TYPE {name} AS ENUM (SELECT value FROM {name})")
            finally:
                con.unregister(name)
            made.append(key)
        yield {k: f"CAST({exprs[k]} AS {_TEXT_CODES}{k})" for k in made}
    finally:
        for key in made:
            con.execute(f"DROP TYPE {_TEXT_CODES}{key}")


def ingest_ledger(
    con: duckdb.DuckDBPyConnection, lines: pd.DataFrame, pricebook: Pricebook, index: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Usage and shape tables of ledger lines built in Python (LEDGER_COLUMNS), all used."""
    table = f"scan_{index}"
    con.register("ledger_lines", lines.assign(status=""))
    typed = "(SELECT * REPLACE (CAST(day AS DATE) AS day) FROM ledger_lines)"
    shape = pricebook.price_shape(lines[["provider", "model_raw"]].drop_duplicates(), None)
    con.execute(f"CREATE TEMP TABLE {table} AS SELECT 0 AS {FILE_COLUMN}, * FROM ({aggregate_sql(typed, None, shape)})")
    con.unregister("ledger_lines")
    tables = _workload_tables(con, table, pricebook, shape_keys=_priced_projects(con, table, pricebook) < 2)
    con.execute(f"DROP TABLE {table}")
    return _split(tables.usage, [0])[0], _split(tables.shape, [0])[0]
