"""Parquet exports (AWS CUR 2.0 and legacy CUR, FOCUS, workload files): read with DuckDB, cleaned like CSV.

A Parquet file's columns are already typed (numbers as integers, DECIMAL or DOUBLE, times as TIMESTAMP,
tags as a MAP), so the relation of a file converts each column to what the importer's SQL sees from a
CSV (`Importer`'s contract): counts as numbers, money as an exact decimal, times as TIMESTAMPTZ in UTC,
any other column as the text a CSV export would hold. A value that cannot be converted (text in a
count column, an amount of a billion or more, NaN) rejects its row, with its reason; rows are numbered
from 1, the first row of data, since a Parquet file has no lines.

Money held as DOUBLE (AWS writes costs so) is converted through the shortest decimal text that reads
back as the same double, then to DECIMAL(18, 9) as a CSV cell would be: the amount the exporter
computed (to the 15 to 17 significant digits a double holds), rounded to the nano-unit, with no binary
fraction noise (0.1 stays 0.1, not 0.1000000000000000055…).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from auditor.errors import InputFileError
from auditor.importers.base import Importer
from auditor.importers.engine import COUNT_TYPE, MONEY_TYPE, TIME_TYPE, column_type, ident, literal

PARQUET_MAGIC = b"PAR1"

_EXACT = re.compile(r"^(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|DECIMAL\(\d+,\s*\d+\))$")
_FLOAT = ("FLOAT", "DOUBLE")
_NESTED = re.compile(r"^(MAP|STRUCT|UNION)\(|\]$")
# Whole floats below this print as integers (an id or a count stored as a float reads as the CSV's text).
_WHOLE_FLOAT_LIMIT = 2**53


def is_parquet(path: Path) -> bool:
    """A file starting with Parquet's magic bytes (its footer is checked when the schema is read)."""
    try:
        with path.open("rb") as handle:
            return handle.read(4) == PARQUET_MAGIC
    except OSError:
        return False


@dataclass(frozen=True)
class ParquetSchema:
    names: tuple[str, ...]
    types: tuple[str, ...]
    """DuckDB's type of each column, e.g. `DOUBLE`, `TIMESTAMP WITH TIME ZONE`, `MAP(VARCHAR, VARCHAR)`."""
    rows: int


@cache
def _footer_reader() -> duckdb.DuckDBPyConnection:
    """The in-memory database that reads Parquet footers (one a cursor of it): opening a database per file
    costs more than reading a footer."""
    return duckdb.connect(":memory:")


def read_schema(path: Path, shown: str) -> ParquetSchema:
    """Column names and types and the row count, from the file's footer; a clear error when it has none."""
    con = _footer_reader().cursor()
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({literal(str(path))})").fetchall()
        rows = con.execute(
            f"SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata({literal(str(path))})"
        ).fetchone()
    except duckdb.Error as exc:
        message = str(exc).strip().splitlines()[0]
        raise InputFileError(
            shown,
            f"is not a readable Parquet file ({message})",
            "download or export it again; the file may be incomplete",
        ) from exc
    finally:
        con.close()
    if not described:
        raise InputFileError(shown, "is a Parquet file without columns", "export the data again")
    return ParquetSchema(
        tuple(str(r[0]) for r in described), tuple(str(r[1]) for r in described), int(rows[0]) if rows else 0
    )


def _as_text(col: str, kind: str) -> str:
    """SQL: a column as the text a CSV export would hold for it."""
    if kind == "VARCHAR":
        return col
    if _NESTED.search(kind):
        return f"CAST(to_json({col}) AS VARCHAR)"
    if kind.startswith("DECIMAL(") and not kind.replace(" ", "").endswith(",0)"):
        # As written, without the scale's padding: DECIMAL(38, 10) 3.1117750000 is the CSV's 3.111775.
        return f"rtrim(rtrim(CAST({col} AS VARCHAR), '0'), '.')"
    if kind in _FLOAT:
        whole = f"({col} = trunc({col}) AND abs({col}) < {_WHOLE_FLOAT_LIMIT})"
        integer = f"CAST(TRY_CAST({col} AS BIGINT) AS VARCHAR)"
        return f"coalesce(CASE WHEN {whole} THEN {integer} END, CAST({col} AS VARCHAR))"
    return f"CAST({col} AS VARCHAR)"


def _converted(name: str, kind: str, target: str) -> tuple[str, str | None]:
    """SQL of a column converted to `target` (the engine's type for it), and of its problem, if it can have one."""
    col = ident(name)
    if target == "VARCHAR":
        return _as_text(col, kind), None
    if target == COUNT_TYPE and (_EXACT.match(kind) or kind in _FLOAT):
        return f"CAST({col} AS DOUBLE)", None
    if target == TIME_TYPE and (kind == "DATE" or kind.startswith("TIMESTAMP")):
        return f"CAST({col} AS {TIME_TYPE})", None
    if target == MONEY_TYPE and _EXACT.match(kind):
        value = f"TRY_CAST({col} AS {MONEY_TYPE})"
        return value, f"{col} IS NOT NULL AND {value} IS NULL"
    if target == MONEY_TYPE and kind in _FLOAT:
        # The shortest text that reads back as the same double: the decimal the exporter computed.
        value = f"TRY_CAST(CAST({col} AS VARCHAR) AS {MONEY_TYPE})"
        return value, f"{col} IS NOT NULL AND {value} IS NULL"
    # Anything else is read as a CSV cell would be: its text, converted (floats through their shortest text).
    text = f"NULLIF(trim({_as_text(col, kind)}), '')"
    value = f"TRY_CAST({text} AS {target})"
    return value, f"{text} IS NOT NULL AND {value} IS NULL"


_WHAT = {COUNT_TYPE: "not a number", MONEY_TYPE: "not an amount", TIME_TYPE: "not a timestamp"}


@dataclass(frozen=True)
class ParquetSource:
    """Where DuckDB reads a Parquet file, and its columns' types."""

    path: str
    header: tuple[str, ...]
    types: tuple[str, ...]
    row_numbers: bool = False
    """Adds `__line`: the row's number in the file, from 1 (for listing rejected rows)."""
    file_names: tuple[str, ...] = ()
    """The columns as the file names them, where the importer reads them under other names (`header`)."""

    def relation(self, importer: Importer) -> str:
        in_file = dict(zip(self.header, self.file_names or self.header, strict=True))
        typed = dict(zip(self.header, self.types, strict=True))
        fields, problems = [], []
        for name in importer.read_columns:
            if name not in typed:
                continue
            target = column_type(importer, name)
            value, problem = _converted(in_file[name], typed[name], target)
            fields.append(f"{value} AS {ident(name)}")
            if problem is not None:
                problems.append(f"CASE WHEN {problem} THEN {literal(f'R:{name}:{_WHAT[target]}')} END")
        problem_sql = f"coalesce({', '.join(problems)})" if problems else "CAST(NULL AS VARCHAR)"
        line = ", file_row_number + 1 AS __line" if self.row_numbers else ""
        options = ", file_row_number = true" if self.row_numbers else ""
        return (
            f"(SELECT {', '.join([*fields, f'{problem_sql} AS __read_problem'])}{line} "
            f"FROM read_parquet({literal(self.path)}{options}))"
        )

    def problem_column(self, importer: Importer) -> str | None:
        return "__read_problem"
