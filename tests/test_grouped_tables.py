"""The workload tables' group-by (`ingest._grouped`): sums by key in the order pandas sorts the keys, whatever DuckDB
groups and sorts them as: text, or (`coded`, over many rows) codes of the text's sorted values."""

from __future__ import annotations

import pandas as pd
import pytest

from auditor import ingest
from auditor.scan import scan_connection

# Text that sorts otherwise by code point than by any locale or case rule, a key missing (NULL), and the same key
# on several rows (summed).
ROWS = [
    ("openrouter", "zeta", "key-b", 1, 10),
    ("openrouter", "Zeta", "key-a", 2, 20),
    ("openrouter", "éclair", "key-a", 3, 30),
    ("openrouter", "eclair", None, 4, 40),
    ("anthropic", "zeta", "key-b", 5, 50),
    ("openrouter", "zeta", "key-b", 6, 60),
    ("openrouter", "Ω-model", "key-a", 7, 70),
    ("openrouter", "a'quote", "key-c", 8, 80),
]


def _expected(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["p", "m", "k", "n", "t"])
    # dropna=False: a missing key is a group of its own, as in SQL; NULL sorts after every value (na_position).
    summed = frame.groupby(["p", "m", "k", "n"], dropna=False)["t"].sum().reset_index()
    return summed.sort_values(["p", "m", "k", "n"], na_position="last", kind="stable").reset_index(drop=True)


@pytest.fixture
def con():  # type: ignore[no-untyped-def]
    with scan_connection(160) as con:
        yield con


def _table(con, rows: list[tuple[object, ...]]) -> None:  # type: ignore[no-untyped-def]
    con.execute("CREATE TABLE t (p VARCHAR, m VARCHAR, k VARCHAR, n BIGINT, t BIGINT)")
    if rows:
        con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)", rows)


@pytest.mark.parametrize("coded", [True, False])
def test_text_keys_are_summed_and_sorted_by_code_point_as_pandas_sorts_them(con, coded: bool) -> None:  # type: ignore[no-untyped-def]
    _table(con, ROWS)
    frame = ingest._grouped(con, "FROM t s", ("p", "m", "k", "n"), ("t",), coded=coded)
    expected = _expected(ROWS)
    assert frame["m"].tolist() == expected["m"].tolist()  # 'Zeta' < 'a'quote' < 'eclair' < 'zeta' < 'éclair' < 'Ω…'
    assert frame["k"].isna().sum() == 1
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False)
    assert all(pd.api.types.is_string_dtype(frame[c].dtype) for c in ("p", "m", "k"))


def test_the_text_keys_types_are_gone_after_the_query(con) -> None:  # type: ignore[no-untyped-def]
    _table(con, ROWS)
    ingest._grouped(con, "FROM t s", ("p", "m", "k"), ("t",))
    made = con.execute("SELECT type_name FROM duckdb_types() WHERE type_name LIKE '_text_codes_%'").fetchall()
    assert made == []


@pytest.mark.parametrize("coded", [True, False])
def test_an_empty_source_and_a_key_that_is_always_missing_give_the_plain_result(con, coded: bool) -> None:  # type: ignore[no-untyped-def]
    _table(con, [])
    empty = ingest._grouped(con, "FROM t s", ("p", "m"), ("t",), coded=coded)
    assert empty.empty and list(empty.columns) == ["p", "m", "t"]
    rows = [("openrouter", "m", None, 1, 1), ("openrouter", "m", None, 1, 2)]
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)", rows)
    frame = ingest._grouped(con, "FROM t s", ("p", "k"), ("t",), coded=coded)
    assert frame["p"].tolist() == ["openrouter"] and frame["k"].isna().all() and frame["t"].tolist() == [3]


@pytest.mark.parametrize("coded", [True, False])
def test_a_key_given_by_an_expression_is_coded_from_its_own_values(con, coded: bool) -> None:  # type: ignore[no-untyped-def]
    _table(con, ROWS)
    expressions = {"mk": "s.m || '/' || coalesce(s.k, '-')"}
    frame = ingest._grouped(con, "FROM t s", ("p", "mk"), ("t",), expressions, coded)
    expected = pd.DataFrame(ROWS, columns=["p", "m", "k", "n", "t"])
    expected["mk"] = expected["m"] + "/" + expected["k"].fillna("-")
    summed = expected.groupby(["p", "mk"])["t"].sum().reset_index()
    pd.testing.assert_frame_equal(frame, summed, check_dtype=False)
