"""The scan engine: one DuckDB query per file reads, types, validates, maps and aggregates it.

DuckDB's CSV reader streams the file in parallel and keeps memory bounded; rows it cannot convert are
rejected with their line (its reject tables). The query then applies the importer's SQL mapping and
sums ledger lines by segment key and status ("" used, "S::reason" skipped, "R:column:reason" rejected),
so every row is accounted for in the same pass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from auditor.importers.base import Importer
from auditor.ledger import LEDGER_COLUMNS, SIZE_BASIS_LABEL, TOKEN_COLUMNS
from pricing.rates import same_price_slots, size_bucket_floors

COUNT_TYPE = "DOUBLE"
# 18 digits hold any single amount below a billion, and sum fast; larger sums widen to 38 digits.
MONEY_TYPE = "DECIMAL(18, 9)"
TIME_TYPE = "TIMESTAMPTZ"
# Counts above 2**53 cannot be whole numbers read from a float: a row holding one is rejected.
MAX_COUNT = 2**53


def _sql_value(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return literal(value)
    return str(value)


def utc_day(timestamp_sql: str) -> str:
    """SQL: the UTC calendar day of a TIMESTAMPTZ, by integer arithmetic (calendar functions are far slower)."""
    return f"CAST(DATE '1970-01-01' + CAST(epoch_us({timestamp_sql}) // 86400000000 AS INTEGER) AS DATE)"


def utc_slot(timestamp_sql: str) -> str:
    """SQL: the UTC half hour of the day (0..47) of a TIMESTAMPTZ."""
    return f"CAST((epoch_us({timestamp_sql}) // 1800000000) % 48 AS INTEGER)"


def ident(name: str) -> str:
    """A SQL identifier for any column name."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


# The day a user gives for a file whose lines carry no time (`Importer.day_option`); the run sets it per file.
GIVEN_DAY_VARIABLE = "audit_given_day"


def given_day() -> str:
    """SQL: the day given for the file being read (`Importer.day_option`), NULL when none was given."""
    return f"CAST(getvariable({literal(GIVEN_DAY_VARIABLE)}) AS DATE)"


# Neutral values of ledger columns an importer does not map.
LEDGER_DEFAULTS: dict[str, str] = {name: _sql_value(v) for name, v in LEDGER_COLUMNS.items()}


# What an absent column reads as, by type.
LEDGER_NEUTRAL = {
    COUNT_TYPE: "CAST(0 AS BIGINT)",
    MONEY_TYPE: f"CAST(0 AS {MONEY_TYPE})",
    TIME_TYPE: f"CAST(NULL AS {TIME_TYPE})",
}


def column_type(importer: Importer, name: str) -> str:
    if name in importer.count_columns:
        return COUNT_TYPE
    if name in importer.money_columns:
        return MONEY_TYPE
    if name in importer.time_columns:
        return TIME_TYPE
    return "VARCHAR"


# The column naming a row's file (its index among the run's inputs) where several files are scanned in one query.
FILE_COLUMN = "__file"


class ScanSource(Protocol):
    """A file as DuckDB reads it: one relation of the importer's columns, by their header names."""

    @property
    def header(self) -> tuple[str, ...]: ...

    def relation(self, importer: Importer) -> str: ...

    def problem_column(self, importer: Importer) -> str | None:
        """A column of the relation naming a row's reading problem (`R:column:reason`), if it has one."""
        ...


@dataclass(frozen=True)
class CsvSource:
    """Where and how DuckDB reads a delimited file."""

    path: str
    header: tuple[str, ...]
    encoding: str
    buffer_bytes: int
    rejects_table: str | None
    """DuckDB's table for the rows it cannot read (with their lines); None: skip them silently."""
    gzip: bool = False
    files: tuple[tuple[str, int], ...] = ()
    """Several files of one format and header read as one: (path, file index); each row carries its file's index
    in `__file` (`path` is then unused). Empty: the one file at `path`."""

    def _paths(self) -> str:
        if not self.files:
            return literal(self.path)
        return "[" + ", ".join(literal(path) for path, _ in self.files) + "], filename = '__path'"

    def _by_file(self, relation: str) -> str:
        """The relation with each row's file index, when several files are read."""
        if not self.files:
            return relation
        cases = " ".join(f"WHEN {literal(path)} THEN {int(index)}" for path, index in self.files)
        return f"(SELECT * EXCLUDE (__path), CASE __path {cases} END AS {FILE_COLUMN} FROM {relation})"

    def relation(self, importer: Importer) -> str:
        if importer.is_json_lines:
            lines = (
                f"read_csv({self._paths()}, header = false, auto_detect = false, columns = {{'json': 'VARCHAR'}}, "
                # Each line is one field: a delimiter that JSON never holds unescaped, no quoting.
                f"delim = {literal(chr(1))}, quote = '', escape = '', encoding = {literal(self.encoding)}, "
                f"max_line_size = {MAX_JSON_LINE_BYTES}, "
                f"buffer_size = {max(int(self.buffer_bytes), JSON_LINES_BUFFER_BYTES)}, "
                f"compression = {literal('gzip' if self.gzip else 'none')}, ignore_errors = true{self._rejects()})"
            )
            if not importer.in_line_order:
                return json_fields_relation(importer, self._by_file(lines), (FILE_COLUMN,) if self.files else ())
            # Line numbers for the importer's windows: DuckDB numbers rows in the order its reader produces
            # them, the file's order (`WITH ORDINALITY` of newer versions is this same streaming window).
            numbered = f"(SELECT json, row_number() OVER () AS __line FROM {lines})"
            return json_fields_relation(importer, numbered, ("__line",))
        used = set(importer.read_columns)
        names = _unique(self.header)
        columns = ", ".join(
            f"{literal(n)}: {literal(column_type(importer, h) if h in used else 'VARCHAR')}"
            for n, h in zip(names, self.header, strict=True)
        )
        return self._by_file(
            f"read_csv({self._paths()}, header = true, auto_detect = false, columns = {{{columns}}}, "
            f"delim = ',', quote = '\"', escape = '\"', encoding = {literal(self.encoding)}, "
            f"buffer_size = {int(self.buffer_bytes)}, compression = {literal('gzip' if self.gzip else 'none')}, "
            f"ignore_errors = true{self._rejects()})"
        )

    def problem_column(self, importer: Importer) -> str | None:
        return "__json_problem" if importer.is_json_lines else None

    def _rejects(self) -> str:
        if self.rejects_table is None:
            return ""
        return (
            f", store_rejects = true, rejects_table = {literal(self.rejects_table)}, "
            f"rejects_scan = {literal(self.rejects_table + '_scan')}"
        )


@dataclass(frozen=True)
class FilesSource:
    """Several files of one importer read in one query, whatever their headers, encodings or formats: the union
    of their sources' relations, each row with its file's index (`__file`) and its record key (`__key`, of the
    columns its own file has, as when the file is read alone). A column a file lacks reads as NULL, which the
    cleaning turns into the value it gives an absent column. Not for importers reading lines in order or folding
    repeated lines (`in_line_order`, `dedupe_within_file`): their files are read alone."""

    parts: tuple[tuple[ScanSource, int | None], ...]
    """Each source with its file's index; None: a `CsvSource` of several files, whose rows carry it."""

    @property
    def header(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for source, _ in self.parts for name in source.header))

    def relation(self, importer: Importer) -> str:
        columns = [c for c in importer.read_columns if c in present_columns(importer, self.header)]
        problems = [source.problem_column(importer) for source, _ in self.parts]
        selects = []
        for (source, file), problem in zip(self.parts, problems, strict=True):
            own = present_columns(importer, source.header)
            fields = [
                ident(c) if c in own else f"CAST(NULL AS {column_type(importer, c)}) AS {ident(c)}" for c in columns
            ]
            if any(problems):
                fields.append(f"{problem or 'CAST(NULL AS VARCHAR)'} AS __read_problem")
            fields.append(f"{record_key_sql(importer, own)} AS __key")
            fields.append(FILE_COLUMN if file is None else f"{int(file)} AS {FILE_COLUMN}")
            selects.append(f"SELECT {', '.join(fields)} FROM {source.relation(importer)}")
        return f"({' UNION ALL '.join(selects)})"

    def problem_column(self, importer: Importer) -> str | None:
        return "__read_problem" if any(source.problem_column(importer) for source, _ in self.parts) else None


# A JSON line longer than this (a session log line holding a large tool result) is rejected with its line.
MAX_JSON_LINE_BYTES = 32 * 1024 * 1024
JSON_LINES_BUFFER_BYTES = 2 * MAX_JSON_LINE_BYTES
"""The least DuckDB reads JSON lines in at once: a buffer holds two of the longest lines allowed."""


def json_fields_relation(importer: Importer, lines: str, carried: tuple[str, ...] = ()) -> str:
    """The importer's JSON fields of each line of `lines` (a relation with a `json` column), typed, with
    `__json_problem`: an invalid line, or a field that is not of its type, rejects the line.

    Each line is parsed once, all fields in one call: a call per field parses the line again for each and
    holds a copy of the lines per field, which took a session log of a few MB past the memory limit. An invalid
    line makes the call fail, and `try` makes that failure NULL: checking each line with `json_valid` first parsed
    every line twice (a third of the read of a 5M-line log)."""
    paths = ", ".join(literal(path) for path in importer.json_fields.values())
    extra = "".join(f", {ident(c)}" for c in carried)
    parsed = f"(SELECT json, try(json_extract_string(json, [{paths}])) AS __fields{extra} FROM {lines})"
    fields, problems = [], ["CASE WHEN json IS NOT NULL AND __fields IS NULL THEN 'R:json:not valid JSON' END"]
    for position, name in enumerate(importer.json_fields, start=1):
        raw = f"__fields[{position}]"
        kind = column_type(importer, name)
        if kind == "VARCHAR":
            fields.append(f"{raw} AS {ident(name)}")
            continue
        fields.append(f"TRY_CAST({raw} AS {kind}) AS {ident(name)}")
        what = {"DOUBLE": "not a number", TIME_TYPE: "not a timestamp"}.get(kind, "not an amount")
        problems.append(
            f"CASE WHEN {raw} IS NOT NULL AND TRY_CAST({raw} AS {kind}) IS NULL THEN {literal(f'R:{name}:{what}')} END"
        )
    return f"(SELECT json, {', '.join(fields)}, coalesce({', '.join(problems)}) AS __json_problem{extra} FROM {parsed})"


def _unique(header: tuple[str, ...]) -> list[str]:
    """Header names made unique (`name`, `name_2`, …): a duplicated name keeps its first column."""
    seen: dict[str, int] = {}
    out = []
    for name in header:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def _clean_columns(importer: Importer, present: set[str]) -> tuple[list[str], str]:
    """Projections of every read column as the importer's SQL sees it, and the row's first problem."""
    projections, checks, problems = [], [], []
    for name in importer.read_columns:
        if name not in present:
            neutral = LEDGER_NEUTRAL.get(column_type(importer, name), "''")
            projections.append(f"{neutral} AS {ident(name)}")
            if name in importer.money_columns:
                projections.append(f"false AS {ident(name + '__present')}")
            continue
        col = ident(name)
        if name in importer.count_columns:
            # NaN compares above every number in DuckDB, so the range test also refuses NaN and inf.
            whole = f"({col} BETWEEN 0 AND {MAX_COUNT} AND {col} = trunc({col}))"
            projections.append(f"CASE WHEN {whole} THEN CAST({col} AS BIGINT) ELSE 0 END AS {ident(name)}")
            checks.append(f"({col} IS NULL OR {whole})")
            problems.append(
                f"CASE WHEN {col} IS NULL OR {whole} THEN NULL "
                f"WHEN isnan({col}) OR isinf({col}) THEN {literal(f'R:{name}:not a number')} "
                f"WHEN {col} < 0 THEN {literal(f'R:{name}:negative count')} "
                f"WHEN {col} <> trunc({col}) THEN {literal(f'R:{name}:count is not a whole number')} "
                f"ELSE {literal(f'R:{name}:count is implausibly large')} END"
            )
        elif name in importer.money_columns:
            projections.append(f"coalesce({col}, 0) AS {ident(name)}")
            projections.append(f"({col} IS NOT NULL) AS {ident(name + '__present')}")
        elif name in importer.time_columns:
            projections.append(f"{col} AS {ident(name)}")
        else:
            projections.append(f"coalesce({col}, '') AS {ident(name)}")
    # Most rows are fine: one cheap test, and the details only for the others.
    problem = (
        f"CASE WHEN {' AND '.join(checks) or 'true'} THEN NULL ELSE coalesce({', '.join([*problems, 'NULL'])}) END"
    )
    return projections, problem


def _status(importer: Importer, read_problem: str | None) -> str:
    """The row's status: a problem of a raw value first, then the importer's skip and reject rules."""
    skips = " ".join(f"WHEN {cond} THEN {literal('S::' + reason)}" for cond, reason in importer.skip_when)
    rejects = " ".join(
        f"WHEN {cond} THEN {literal(f'R:{column}:{reason}')}" for cond, reason, column in importer.reject_when
    )
    parts = [read_problem, "__problem"] if read_problem else ["__problem"]
    if skips or rejects:
        parts.append(f"CASE {skips} {rejects} END")
    parts.append("''")
    return "coalesce(" + ", ".join(parts) + ")"


REQUEST_INPUT = "__request_input_tokens"
"""The column of a ledger line's average request input (all input classes), which `size_floor_sql` reads."""


def request_input_sql() -> str:
    return "CAST(input_tokens + cache_read_tokens + cache_write_tokens + cache_write_1h_tokens AS DOUBLE) / requests"


def size_floor_sql() -> str:
    """Request-size bucket floor: the largest tier threshold below the (average) request's input (`REQUEST_INPUT`,
    computed once a line rather than once a tier)."""
    branches = " ".join(f"WHEN {REQUEST_INPUT} > {t} THEN {t}" for t in reversed(size_bucket_floors()) if t > 0)
    return (
        f"CASE WHEN size_basis = {literal(SIZE_BASIS_LABEL)} OR requests <= 0 "
        f"THEN request_size_floor_tokens ELSE CASE {branches} ELSE 0 END END"
    )


def present_columns(importer: Importer, header: tuple[str, ...]) -> set[str]:
    """The importer's columns a file provides (a JSON-lines source provides every field, maybe null)."""
    return set(importer.read_columns) if importer.is_json_lines else set(header) & set(importer.read_columns)


def record_key_sql(importer: Importer, present: set[str]) -> str:
    """SQL: a 64-bit hash of the columns that identify a record, over the raw values as read.

    Where lines of one record are folded (`dedupe_within_file`), a line missing a key column has no key:
    it is its own record."""
    columns = [c for c in importer.record_key if c in present] or [c for c in importer.read_columns if c in present]
    key = f"hash({', '.join(ident(c) for c in columns)})" if columns else "hash(0)"
    if importer.dedupe_within_file and columns:
        complete = " AND ".join(f"coalesce(CAST({ident(c)} AS VARCHAR), '') <> ''" for c in columns)
        return f"CASE WHEN {complete} THEN {key} END"
    return key


def _unfolded(importer: Importer) -> str:
    # Only where lines are folded is the status needed in the first pass (it converts every column).
    return " WHERE status NOT LIKE 'S:%'" if importer.dedupe_within_file else ""


def _fold_repeated_lines(importer: Importer, mapped: str) -> str:
    """Lines repeating a record already seen in the file are skipped (the first by the importer's order counts)."""
    if not importer.dedupe_within_file:
        return mapped
    repeat = (
        "CASE WHEN status = '' AND __key IS NOT NULL AND row_number() OVER (PARTITION BY __key, status "
        "ORDER BY __order) > 1 THEN 'S::a repeated line of a record already counted' "
        "ELSE status END"
    )
    return f"(SELECT * REPLACE ({repeat} AS status) FROM {mapped})"


def mapped_sql(
    importer: Importer,
    source: str,
    present: set[str],
    extra: tuple[str, ...] = (),
    keyed: bool = False,
    read_problem: str | None = None,
) -> str:
    """Ledger lines with a status, one per source row (`extra` columns of the source are carried;
    `keyed` adds the record key `__key`; `read_problem` names the source's column of reading problems,
    by default JSON lines' `__json_problem`)."""
    read_problem = read_problem or ("__json_problem" if importer.is_json_lines else None)
    projections, problem = _clean_columns(importer, present)
    if keyed:
        projections.append(f"{record_key_sql(importer, present)} AS __key")
        extra = (*extra, "__key")
        if importer.dedupe_within_file:
            projections.append(f"{importer.dedupe_within_file} AS __order")
            extra = (*extra, "__order")
    if importer.in_line_order and "__line" not in extra:
        extra = (*extra, "__line")
    carried = "".join(f", {ident(e)}" for e in extra)
    ledger = ", ".join(
        f"{importer.ledger.get(name, default)} AS {ident(name)}" for name, default in LEDGER_DEFAULTS.items()
    )
    read_problem_carried = f", {read_problem}" if read_problem else ""
    # Problems are judged on the raw values, before cleaning turns a bad count into 0.
    derived, lines = _derived_layers(importer, "in_order" if importer.in_line_order else "clean")
    return (
        f"WITH clean AS (SELECT {', '.join(projections)}, {problem} AS __problem{read_problem_carried}{carried} "
        f"FROM {source}), "
        f"{_in_line_order(importer)}{derived}"
        f"mapped AS (SELECT {ledger}, {_status(importer, read_problem)} AS status{carried} FROM {lines}) "
        f"SELECT * FROM mapped"
    )


def _derived_layers(importer: Importer, lines: str) -> tuple[str, str]:
    """SQL (CTEs, `derived_<n>`): the importer's `derived` columns added to `lines`, one layer each (a layer reads
    the columns before it); and the name of the last layer (`lines` without any)."""
    layers = []
    for number, (name, sql) in enumerate(importer.derived.items()):
        layers.append(f"derived_{number} AS (SELECT *, {sql} AS {ident(name)} FROM {lines}), ")
        lines = f"derived_{number}"
    return "".join(layers), lines


def _in_line_order(importer: Importer) -> str:
    """SQL (a CTE, `in_order`): the cleaned columns with the importer's `carried` and `previous` columns, the
    last value that is not NULL up to this line or up to the line before, in line order (`__line`). The sort
    holds the cleaned columns, not the lines, and spills to disk beyond the memory limit. Empty: none."""
    if not importer.in_line_order:
        return ""
    frames = ((importer.carried, "CURRENT ROW"), (importer.previous, "1 PRECEDING"))
    columns = ", ".join(
        f"last_value(({sql}) IGNORE NULLS) OVER (ORDER BY __line ROWS BETWEEN UNBOUNDED PRECEDING AND {end}) "
        f"AS {ident(name)}"
        for values, end in frames
        for name, sql in values.items()
    )
    return f"in_order AS (SELECT *, {columns} FROM clean), "


# The weight of a row: its requests where the source counts them (a request log and an aggregated export
# of it then compare fairly), else 1; rows without a model (empty buckets) weigh nothing.
_WEIGHT = "CASE WHEN model_raw = '' THEN 0 WHEN requests > 0 THEN requests ELSE 1 END"


def survey_sql(importer: Importer, source: ScanSource, with_days: bool = True, head_rows: int | None = None) -> str:
    """A file's models (and days, with their weight): a first, light pass (only those columns are converted).

    Days matter only where other files may hold the same ones; without them the pass skips the timestamps."""
    day = "day" if with_days else "CAST(NULL AS DATE) AS day"
    return survey_of(
        f"(SELECT provider, model_raw, {day}, {_WEIGHT} AS weight FROM {_surveyed(importer, source, head_rows)})"
    )


def head_survey_sql(importer: Importer, source: ScanSource, head_rows: int) -> str:
    """The models and projects of a file's first rows, with their weight (provider, model_raw, project, weight): read
    once for both the survey of a file no other file overlaps (`head_survey_of`) and the guess at whether the
    workload names projects."""
    rows = f"(SELECT provider, model_raw, project, {_WEIGHT} AS weight FROM {_surveyed(importer, source, head_rows)})"
    return f"SELECT provider, model_raw, project, sum(weight) AS weight FROM {rows} GROUP BY ALL"


def head_survey_of(table: str) -> str:
    """`survey_sql` without days, from a table of `head_survey_sql`."""
    return survey_of(f"(SELECT provider, model_raw, CAST(NULL AS DATE) AS day, weight FROM {table})")


def head_projects_sql(importer: Importer, source: ScanSource, head_rows: int) -> str:
    """The (provider, model_raw, project)s of a file's first rows: a guess at whether the workload names projects."""
    present = present_columns(importer, source.header)
    relation = f"(SELECT * FROM {source.relation(importer)} LIMIT {int(head_rows)})"
    mapped = mapped_sql(importer, relation, present, read_problem=source.problem_column(importer))
    return f"SELECT DISTINCT provider, model_raw, project FROM ({mapped})"


def _surveyed(importer: Importer, source: ScanSource, head_rows: int | None) -> str:
    """The lines a survey counts (of the first `head_rows` rows, if given), with their status; a record's repeated
    lines left out."""
    present = present_columns(importer, source.header)
    keyed = bool(importer.dedupe_within_file)
    relation = source.relation(importer)
    if head_rows is not None:
        relation = f"(SELECT * FROM {relation} LIMIT {int(head_rows)})"
    problem = source.problem_column(importer)
    mapped = _fold_repeated_lines(
        importer, f"({mapped_sql(importer, relation, present, keyed=keyed, read_problem=problem)})"
    )
    return f"{mapped}{_unfolded(importer)}"


def survey_of(rows: str) -> str:
    """Models and days with their weight, from rows of (provider, model_raw, day, weight)."""
    return (
        f"SELECT provider, model_raw, strftime(day, '%Y-%m-%d') AS day, sum(weight) AS lines FROM {rows} GROUP BY ALL"
    )


def record_keys_sql(importer: Importer, source: ScanSource) -> str:
    """Every row's model, day, weight and record key: the first pass of a file that may share records."""
    present = present_columns(importer, source.header)
    relation, problem = source.relation(importer), source.problem_column(importer)
    mapped = _fold_repeated_lines(
        importer, f"({mapped_sql(importer, relation, present, keyed=True, read_problem=problem)})"
    )
    return f"SELECT provider, model_raw, day, {_WEIGHT} AS weight, __key FROM {mapped}{_unfolded(importer)}"


def lines_sql(importer: Importer, source: ScanSource, by_file: bool = False) -> str:
    """Every row as a ledger line with its status and record key: a small file's one pass, kept as a table that
    `lines_survey_sql`, `lines_keys_sql` and `lines_scan_sql` then read instead of the file."""
    present = present_columns(importer, source.header)
    relation, problem = source.relation(importer), source.problem_column(importer)
    extra = (FILE_COLUMN,) if by_file else ()
    # A `FilesSource` carries each file's record key.
    carried = isinstance(source, FilesSource)
    extra = (*extra, "__key") if carried else extra
    mapped = f"({mapped_sql(importer, relation, present, extra, keyed=not carried, read_problem=problem)})"
    return f"SELECT * FROM {_fold_repeated_lines(importer, mapped)}"


def lines_survey_sql(importer: Importer, lines: str, with_days: bool) -> str:
    """`survey_sql` of each file (`__file`) of a table of `lines_sql`."""
    day = "strftime(day, '%Y-%m-%d')" if with_days else "CAST(NULL AS VARCHAR)"
    return (
        f"SELECT {FILE_COLUMN}, provider, model_raw, {day} AS day, sum({_WEIGHT}) AS lines "
        f"FROM {lines}{_unfolded(importer)} GROUP BY ALL"
    )


def lines_keys_sql(importer: Importer, lines: str, file: int) -> str:
    """`record_keys_sql` of one file of a table of `lines_sql`."""
    unfolded = _unfolded(importer).replace(" WHERE ", " AND ")
    return (
        f"SELECT provider, model_raw, day, {_WEIGHT} AS weight, __key FROM {lines} "
        f"WHERE {FILE_COLUMN} = {int(file)}{unfolded}"
    )


def scan_sql(
    importer: Importer,
    source: ScanSource,
    shape: PriceShape,
    counted_elsewhere: Mapping[str, str] | None = None,
    duplicates: str | None = None,
    day_starts: tuple[int, ...] = (),
    counted_by_file: Mapping[int, Mapping[str, str]] | None = None,
) -> str:
    """Sums of ledger lines by status and segment key for one file, in the grouping sets of `aggregate_sql`.

    `counted_elsewhere` maps a day (YYYY-MM-DD) to another file that counts that day: this file's rows of
    that day are skipped. `duplicates` names a table of (day, __key, owner): this file's records found
    there are counted from their owner and skipped here. Either way nothing is counted twice.
    `day_starts` adds the line's part of the day to the usage set (see `aggregate_sql`).

    A source reading several files (`CsvSource.files`) is given `counted_by_file` (file index → its
    `counted_elsewhere`) instead, and a `duplicates` table with a `__file` column; the sums are then per file too.
    """
    by_file = counted_by_file is not None
    present = present_columns(importer, source.header)
    keyed = duplicates is not None or bool(importer.dedupe_within_file)
    relation, problem = source.relation(importer), source.problem_column(importer)
    extra = (FILE_COLUMN,) if by_file else ()
    mapped = _fold_repeated_lines(
        importer, f"({mapped_sql(importer, relation, present, extra, keyed=keyed, read_problem=problem)})"
    )
    counted = _counted_once(mapped, duplicates, counted_by_file, counted_elsewhere)
    return aggregate_sql(counted, importer.ledger, shape, day_starts, by_file)


def lines_scan_sql(
    lines: Mapping[str, tuple[str | None, Mapping[int, Mapping[str, str]]]],
    shape: PriceShape,
    day_starts: tuple[int, ...] = (),
) -> str:
    """`scan_sql` of tables of `lines_sql` (by file, of any formats) in one query: each table with its
    `duplicates` table (or None) and `counted_by_file`; their union is summed once. Keys an importer sets to a
    constant are grouped like the others, and sums of constants summed, so `shape` keys every model by provider
    and name (`model_key` without a mapping). The tables' columns must unite without loss: the same type, or
    integers and decimals whose union holds every value exactly."""
    parts = [f"SELECT * FROM {_counted_once(table, d, counted)}" for table, (d, counted) in lines.items()]
    return aggregate_sql(f"({' UNION ALL BY NAME '.join(parts)})", None, shape, day_starts, by_file=True)


def _counted_once(
    mapped: str,
    duplicates: str | None,
    counted_by_file: Mapping[int, Mapping[str, str]] | None,
    counted_elsewhere: Mapping[str, str] | None = None,
) -> str:
    """The lines (of several files with `counted_by_file`) with those skipped whose record another file owns
    (`duplicates`) or whose day another file counts."""
    by_file = counted_by_file is not None
    if duplicates is not None:
        owned = "'S::the same record is counted from ' || d.owner"
        same_file = f" AND m.{FILE_COLUMN} = d.{FILE_COLUMN}" if by_file else ""
        mapped = (
            f"(SELECT m.* REPLACE (CASE WHEN m.status = '' AND d.owner IS NOT NULL THEN {owned} "
            f"ELSE m.status END AS status) FROM {mapped} m LEFT JOIN {duplicates} d "
            f"ON m.day = d.day AND m.__key = d.__key{same_file})"
        )
    files = {None: counted_elsewhere} if counted_by_file is None else counted_by_file
    cases = " ".join(_counted_cases(file, counted) for file, counted in files.items() if counted)
    if cases:
        status = f"CASE WHEN status = '' THEN CASE {cases} ELSE '' END ELSE status END"
        mapped = f"(SELECT * REPLACE ({status} AS status) FROM {mapped})"
    return mapped


def _counted_cases(file: int | None, counted_elsewhere: Mapping[str, str]) -> str:
    """CASE branches: the rows of days another file counts (of one file of several, when `file` is given)."""
    by_owner: dict[str, list[str]] = {}
    for day, owner in sorted(counted_elsewhere.items()):
        by_owner.setdefault(owner, []).append(f"DATE {literal(day)}")
    of_file = "" if file is None else f"{FILE_COLUMN} = {int(file)} AND "
    return " ".join(
        f"WHEN {of_file}day IN ({', '.join(days)}) THEN {literal(f'S::the same day is counted from {owner}')}"
        for owner, days in by_owner.items()
    )


# Aggregates of the scan table: (output column, ledger column, how it is summed).
_AGGREGATES: tuple[tuple[str, str, str], ...] = (
    ("requests", "requests", "count"),
    ("requests_known_lines", "requests_known", "count"),
    *((c, c, "count") for c in TOKEN_COLUMNS),
    ("billed_nanos", "billed", "money"),
    ("billed_lines", "billed_present", "flag"),
    ("billed_non_token_nanos", "billed_non_token", "money"),
    ("source_list_nanos", "source_list", "money"),
    ("source_list_lines", "source_list_present", "flag"),
    ("byok_upstream_nanos", "byok_upstream", "money"),
    ("billed_credit_nanos", "billed_credit", "adjustment money"),
    ("billed_discount_nanos", "billed_discount", "adjustment money"),
    ("adjustment_lines", "adjustment", "adjustment flag"),
)


def _aggregate(out: str, column: str, how: str, mapping: Mapping[str, str] | None) -> str:
    expr = None if mapping is None else mapping.get(column, LEDGER_DEFAULTS[column])
    # A column the importer leaves at a constant is not summed row by row (a large share of scan time).
    if expr is not None and expr.strip() in ("0", "false"):
        return f"CAST(0 AS BIGINT) AS {out}"
    if expr is not None and expr.strip() in ("1", "true"):
        return f"count(*) AS {out}"
    if how == "money":
        return f"CAST(sum({column}) * 1000000000 AS BIGINT) AS {out}"
    if how == "adjustment money":
        # Few lines hold any: summed over those only (over 1,000 API keys, a sum over every line cost 0.4 s of a
        # million lines' scan, this 0.1 s).
        return f"coalesce(CAST(sum({column}) FILTER (WHERE {column} <> 0) * 1000000000 AS BIGINT), 0) AS {out}"
    if how == "flag":
        return f"sum(CAST({column} AS INTEGER)) AS {out}"
    if how == "adjustment flag":
        return f"count(*) FILTER (WHERE {column}) AS {out}"
    return f"sum({column}) AS {out}"


ATTRIBUTION_KEYS = ("provider", "model_raw", "project", "api_key", "service_tier")
USAGE_SET = (*ATTRIBUTION_KEYS, "day", "size_basis", "rate_slot", "rate_floor", "currency")
SHAPE_SET = (*ATTRIBUTION_KEYS, "time_slot", "request_size_floor_tokens", "requests_known")
# The usage by API key: what its list rates and months depend on (`key_day` besides, see `key_day_sql`).
KEY_SET = ("provider", "model_raw", "api_key", "service_tier", "rate_slot", "rate_floor", "currency")
_ALL_KEYS = tuple(dict.fromkeys((*USAGE_SET, *SHAPE_SET)))


@dataclass(frozen=True)
class PriceShape:
    """Which models' prices the time of day or the request size can change, by model key (see `model_key`); and
    whether the scan also sums the shape by API key (`keyed`; see `ingest.ingest_all` and `aggregate_sql`).

    `key_periods`: where the usage by API key is summed by price period, in a grouping set of its own (the usage set
    then leaves the key out): for each model key whose list price can change only on given days, those days
    (`ratebook.price_change_days`; none for a model without a list price). None: the usage set keeps the API key by
    day (a FOCUS file's rows are by key and day)."""

    slot_models: frozenset[str] = frozenset()
    size_models: frozenset[str] = frozenset()
    keyed: bool = True
    key_periods: tuple[tuple[str, tuple[date, ...]], ...] | None = None

    def moves_rates(self, other: PriceShape) -> bool:
        """Whether the time of day or the request size moves the prices of other models in `other`."""
        return (self.slot_models, self.size_models) != (other.slot_models, other.size_models)


def model_key_sql(mapping: Mapping[str, str] | None) -> str:
    """SQL naming a line's model: its raw name, prefixed by its provider when that varies within a file."""
    return "model_raw" if _constant_expr("provider", mapping) is not None else "provider || chr(31) || model_raw"


def model_key(provider: str, model_raw: str, mapping: Mapping[str, str] | None) -> str:
    """The value `model_key_sql` gives for a line of this provider and model."""
    return model_raw if _constant_expr("provider", mapping) is not None else f"{provider}\x1f{model_raw}"


def _member(key_sql: str, values: frozenset[str]) -> str:
    return f"{key_sql} IN ({', '.join(literal(v) for v in sorted(values))})" if values else "false"


def key_day_sql(key_sql: str, key_periods: tuple[tuple[str, tuple[date, ...]], ...], zoned: bool = False) -> str:
    """SQL: the day a line's usage by API key is summed on (`key_day`). A day of a model of `key_periods` becomes
    the first day of its price period within its UTC month; any other day stays itself. The list rates of that day
    are the line's own, and so is its month. With `zoned` (a report time zone, whose local month may differ), the
    first and last day of a month stay themselves (their local day may fall in the month before or after), and
    the other days' period starts no earlier than the month's second day (so its local day is in the month too,
    whatever the zone: offsets are under a day)."""
    month = "CAST(date_trunc('month', day) AS DATE)"
    second = f"({month} + 1)" if zoned else month
    models: dict[tuple[date, ...], set[str]] = {}
    for model, days in key_periods:
        models.setdefault(days, set()).add(model)
    branches = []
    for days, keys in sorted(models.items()):
        starts = " ".join(
            f"WHEN day >= DATE {literal(d.isoformat())} THEN DATE {literal(d.isoformat())}" for d in reversed(days)
        )
        start = f"greatest({second}, CASE {starts} END)" if days else second
        branches.append(f"WHEN {_member(key_sql, frozenset(keys))} THEN {start}")
    if not branches:
        return "day"
    edges = f"WHEN day = {month} OR day = last_day(day) THEN day " if zoned else ""
    return f"CASE {edges}{' '.join(branches)} ELSE day END"


def aggregate_sql(
    ledger: str,
    mapping: Mapping[str, str] | None = None,
    shape: PriceShape = PriceShape(),
    day_starts: tuple[int, ...] = (),
    by_file: bool = False,
) -> str:
    """Sums of ledger lines (LEDGER_COLUMNS and `status`) in grouping sets, one scan:

    - usage (`in_shape` = 0): status × attribution × day × the keys that can move the model's list
      price (half hour and size bucket, only for the models of `shape`, else 0);
    - shape (`in_shape` = 1): status × attribution × half hour × size bucket × whether the source counts
      requests (`requests_known`), without the day and without the API key (NULL);
    - with `shape.keyed`, the shape by API key (`in_shape` and `in_key_shape` = 1): the same with the API key, and
      the half hour summed to the first half hour of the same prices (`pricing.rates.same_price_slots`: the same
      rates on every day, for every model and tier). By key and half hour, the shape of 1M requests over 1,000
      keys of one application had 406,000 groups, more than DuckDB's first memory limit holds;
    - with `shape.key_periods`, the usage by API key (`in_keys` = 1; the usage set then without the key):
      status × model × API key × service tier × the keys that move list prices × `key_day` (as the row's
      `day`, see `key_day_sql`). Over many keys it stays small where the usage set by key and day would not.

    They stay small on request logs, where the cross product of all keys would not. Keys and sums the
    importer's `mapping` sets to a constant are not hashed or summed row by row. With `day_starts` (the
    half hours at which a day of the report's time zone can start, for `--tz`), the usage set also keeps
    `day_part`: the first half hour of the span between two of them that the line's half hour is in
    (-1 for a daily bucket), which is all its local day depends on besides its UTC day. `by_file`: the lines
    carry their file's index (`__file`), and every set keeps it.
    """
    key = model_key_sql(mapping)
    part = " ".join(f"WHEN time_slot >= {s} THEN {s}" for s in sorted(day_starts, reverse=True))
    day_part = f"CASE {part} ELSE time_slot END AS day_part, " if day_starts else ""
    by_period = shape.key_periods is not None
    key_day = f"{key_day_sql(key, shape.key_periods or (), bool(day_starts))} AS key_day, " if by_period else ""
    slot_class = f"{_same_price_slot_sql()} AS slot_class, " if shape.keyed else ""
    sized = (
        f"(SELECT *, {day_part}{key_day}{slot_class}"
        f"CASE WHEN {_member(key, shape.slot_models)} THEN time_slot ELSE 0 END AS rate_slot, "
        f"CASE WHEN {_member(key, shape.size_models)} THEN request_size_floor_tokens ELSE 0 END AS rate_floor "
        f"FROM (SELECT * EXCLUDE ({REQUEST_INPUT}) REPLACE ({size_floor_sql()} AS request_size_floor_tokens) "
        f"FROM (SELECT *, {request_input_sql()} AS {REQUEST_INPUT} FROM {ledger})))"
    )
    sums = ", ".join(_aggregate(out, col, how, mapping) for out, col, how in _AGGREGATES)
    # The size floor is computed here, so it is never the importer's constant.
    constant = {
        k: e for k in _ALL_KEYS if k != "request_size_floor_tokens" and (e := _constant_expr(k, mapping)) is not None
    }
    parts = ("day_part",) if day_starts else ()
    file = (FILE_COLUMN,) if by_file else ()
    usage_keys = [k for k in USAGE_SET if k not in constant and not (by_period and k == "api_key")]
    shape_keys = [k for k in SHAPE_SET if k not in constant and k != "api_key"]
    sets = [["status", *usage_keys, *parts, *file], ["status", *shape_keys, *file]]
    if by_period:
        sets.append(["status", *(k for k in KEY_SET if k not in constant), "key_day", *parts, *file])
    if shape.keyed:
        by_key = [k for k in SHAPE_SET if k not in constant or k in ("api_key", "time_slot")]
        sets.append(["status", *("slot_class" if k == "time_slot" else k for k in by_key), *file])
    # A row of the key set carries its key day as its day; a row of the shape by key, the first half hour of its prices.
    renamed: dict[str, str] = {}
    if by_period:
        renamed["day"] = "CASE WHEN GROUPING(key_day) = 0 THEN key_day ELSE day END AS day"
    if shape.keyed:
        renamed["time_slot"] = "CASE WHEN GROUPING(slot_class) = 0 THEN slot_class ELSE time_slot END AS time_slot"
    varying = ", ".join([*(renamed.get(k, k) for k in _ALL_KEYS if k not in constant), *parts, *file])
    in_keys = "GROUPING(key_day) = 0" if by_period else "false"
    in_key_shape = "GROUPING(slot_class) = 0" if shape.keyed else "false"
    grouped = (
        f"SELECT GROUPING(rate_slot) > 0 AS in_shape, {in_keys} AS in_keys, {in_key_shape} AS in_key_shape, status, "
        f"{varying}, count(*) AS lines, {sums} FROM {sized} "
        f"GROUP BY GROUPING SETS ({', '.join('(' + ', '.join(keys) + ')' for keys in sets)})"
    )
    if not constant:
        return grouped
    # Keys the importer sets to a constant are added after grouping: hashing them costs time for nothing.
    return f"SELECT {', '.join(f'{e} AS {k}' for k, e in constant.items())}, * FROM ({grouped})"


def _same_price_slot_sql() -> str:
    """SQL: the first half hour of the line's prices (`pricing.rates.same_price_slots`), by the runs of the day's half
    hours that have the same one; a daily bucket's half hour (-1) stays itself."""
    first = same_price_slots()
    runs = [slot for slot in range(len(first)) if slot == 0 or first[slot] != first[slot - 1]]
    cases = " ".join(f"WHEN time_slot >= {slot} THEN {first[slot]}" for slot in reversed(runs))
    return f"CASE {cases} ELSE time_slot END"


_STRING_LITERAL = re.compile(r"^'(?:[^']|'')*'$")


def _constant_expr(key: str, mapping: Mapping[str, str] | None) -> str | None:
    if mapping is None:
        return None
    if key not in LEDGER_DEFAULTS:
        return None
    expr = mapping.get(key, LEDGER_DEFAULTS[key]).strip()
    return expr if _STRING_LITERAL.match(expr) or re.fullmatch(r"-?\d+", expr) else None
