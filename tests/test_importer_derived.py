"""An importer's derived columns: shared SQL computed once a line, read by name, never pasted into each use."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from auditor.importers.base import Importer
from auditor.importers.engine import lines_sql, mapped_sql
from auditor.ingest import DEFAULT_BLOCKS, _sources
from auditor.sources import open_sources
from tests.conftest import SAMPLES

_WORDS_SQL = "regexp_split_to_array(lower(\"meter\"), '[^a-z]+')"
_CLASS_SQL = (
    "CASE WHEN list_has_any(__words, ['cached']) THEN 'cache_read' "
    "WHEN list_has_any(__words, ['input']) THEN 'input' "
    "WHEN list_has_any(__words, ['output']) THEN 'output' ELSE '' END"
)


def _importer(token_class: str, derived: dict[str, str]) -> Importer:
    def tokens(cls: str) -> str:
        return f"CASE WHEN {token_class} = '{cls}' THEN \"quantity\" ELSE 0 END"

    return Importer(
        name="meters",
        title="meters",
        kind="usage",
        required_columns=("meter", "quantity"),
        optional_columns=(),
        count_columns=("quantity",),
        money_columns=(),
        derived=derived,
        ledger={
            "model_raw": "'m'",
            "input_tokens": tokens("input"),
            "cache_read_tokens": tokens("cache_read"),
            "output_tokens": tokens("output"),
        },
        skip_when=((f"{token_class} = ''", "not a token meter"),),
        reject_when=((f"{token_class} = 'output' AND \"quantity\" > 100", "too much output", "quantity"),),
        example_header="meter,quantity",
    )


_ROWS = [("Input Tokens", 10), ("Cached Input", 20), ("Output tokens", 30), ("Output tokens", 300), ("Storage", 5)]
_SOURCE = "(SELECT * FROM (VALUES " + ", ".join(f"('{m}', {q})" for m, q in _ROWS) + ") AS t(meter, quantity))"


def _mapped(importer: Importer) -> list[tuple[object, ...]]:
    query = mapped_sql(importer, _SOURCE, {"meter", "quantity"})
    with duckdb.connect(":memory:") as con:
        return con.execute(f"SELECT input_tokens, cache_read_tokens, output_tokens, status FROM ({query})").fetchall()


def test_derived_columns_map_as_the_pasted_sql_does() -> None:
    # The class reads the words, an earlier derived column; the ledger, the skip and the reject rules read the class.
    layered = _importer('"__class"', {"__words": _WORDS_SQL, "__class": _CLASS_SQL.replace("__words", '"__words"')})
    pasted = _importer(f"({_CLASS_SQL.replace('__words', _WORDS_SQL)})", {})
    assert (
        _mapped(layered)
        == _mapped(pasted)
        == [
            (10, 0, 0, ""),
            (0, 20, 0, ""),
            (0, 0, 30, ""),
            (0, 0, 300, "R:quantity:too much output"),
            (0, 0, 0, "S::not a token meter"),
        ]
    )
    # Once each, however many expressions read it.
    query = mapped_sql(layered, _SOURCE, {"meter", "quantity"})
    assert query.count("regexp_split_to_array") == 1
    assert query.count("'cached'") == 1


def test_a_derived_column_is_named_apart_from_the_source_and_the_ledger() -> None:
    with pytest.raises(TypeError, match="meter_class"):
        _importer('"meter_class"', {"meter_class": _CLASS_SQL})


def _lines_sql_sizes() -> dict[Path, int]:
    with open_sources((SAMPLES,), None) as (sources, _):
        return {s.sniffed.path: len(lines_sql(s.importer, _sources(s.sniffed, DEFAULT_BLOCKS, None))) for s in sources}


def test_no_importer_pastes_its_mapping_into_itself() -> None:
    # DuckDB's planning time grows with the query's text, about 1.6 ms a KiB here: a small file costs what its
    # mapping costs to plan. The FOCUS mapping pasted whole was 47 KiB (75 ms), the CUR's 32 KiB, LiteLLM's and
    # Langfuse's 25 KiB; with their shared expressions derived the largest is a JSON log's (17 fields cleaned and
    # checked one by one, 15 KiB).
    sizes = _lines_sql_sizes()
    assert len(sizes) > 40
    too_large = {path.name: size for path, size in sizes.items() if size > 16 * 1024}
    assert not too_large
