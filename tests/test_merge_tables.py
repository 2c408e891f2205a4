"""Merging the files' workload tables: the same sums and order whether a table is taken as it is (its keys already
in order, each once) or summed by the group-by; the rank that decides it orders rows as sorting does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from auditor.workload import KEY_USAGE_KEYS, SHAPE_KEYS, USAGE_KEYS, key_rank, merge_tables
from bench.generate import generate
from tests.conftest import ingest_one

KEYS = ("provider", "model_raw", "day", "time_slot")
SUMS = ("requests", "input_tokens")


def _table(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[*KEYS, *SUMS])
    return frame.astype({"provider": "str", "model_raw": "str", "day": "str", "time_slot": "int32"})


def _group_by(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The reference: pandas' sorted group-by of all the rows."""
    return pd.concat(parts, ignore_index=True).groupby(list(KEYS), sort=True)[list(SUMS)].sum().reset_index()


ROWS = [
    ("anthropic", "claude-haiku", "2026-09-01", 0, 3, 300),
    ("openai", "gpt-5", "2026-09-01", 0, 1, 10),
    ("openai", "gpt-5", "2026-09-01", 17, 2, 20),
    ("openai", "gpt-5", "2026-09-02", 0, 4, 40),
    ("openai", "gpt-5-mini", "2026-09-01", 0, 5, 50),
    ("openai", "o3", "2026-09-01", 0, 6, 60),
    ("qwen", "qwen3-max-ü", "2026-09-01", 0, 7, 70),  # beyond ASCII: code-point order, as the sort
]


def test_a_table_in_key_order_is_its_own_merge() -> None:
    table = _table(ROWS)
    merged = merge_tables([table], KEYS, SUMS)
    pd.testing.assert_frame_equal(merged, _group_by([table]))
    pd.testing.assert_frame_equal(merged, table)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rows_out_of_order_are_sorted_as_the_group_by_sorts(seed: int) -> None:
    shuffled = _table(ROWS).sample(frac=1, random_state=seed).reset_index(drop=True)
    pd.testing.assert_frame_equal(merge_tables([shuffled], KEYS, SUMS), _group_by([shuffled]))
    pd.testing.assert_frame_equal(merge_tables([shuffled], KEYS, SUMS), _table(ROWS))


def test_keys_met_twice_are_summed() -> None:
    one, other = _table(ROWS[:4]), _table(ROWS[2:])  # two files sharing rows 2 and 3
    merged = merge_tables([one, other], KEYS, SUMS)
    pd.testing.assert_frame_equal(merged, _group_by([one, other]))
    assert merged.loc[(merged["model_raw"] == "gpt-5") & (merged["time_slot"] == 17), "requests"].tolist() == [4]
    assert int(merged["requests"].sum()) == sum(r[4] for r in ROWS[:4]) + sum(r[4] for r in ROWS[2:])


def test_a_missing_key_is_left_to_the_group_by() -> None:
    table = _table(ROWS)
    table.loc[3, "day"] = np.nan
    assert key_rank(table, KEYS) is None
    pd.testing.assert_frame_equal(merge_tables([table], KEYS, SUMS), _group_by([table]))


def test_sums_that_are_not_whole_numbers_go_through_the_group_by() -> None:
    table = _table(ROWS).astype({"requests": "float64"})
    table.loc[2, "requests"] = np.nan  # the group-by counts a missing sum as 0
    merged = merge_tables([table], KEYS, SUMS)
    pd.testing.assert_frame_equal(merged, _group_by([table]))
    assert merged.loc[2, "requests"] == 0


def test_the_rank_orders_rows_as_sorting_on_the_keys_does() -> None:
    rng = np.random.default_rng(7)
    names = np.array(["a", "B", "b", "é", "z", "Zeta", "ä", ""], dtype=object)
    frame = pd.DataFrame(
        {
            "text": pd.Series(names[rng.integers(0, len(names), 2000)], dtype="str"),
            "number": rng.integers(-5, 5, 2000),
            "other": pd.Series(names[rng.integers(0, len(names), 2000)], dtype="str"),
        }
    )
    keys = ("text", "number", "other")
    rank = key_rank(frame, keys)
    assert rank is not None
    by_rank = frame.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)
    by_sort = frame.sort_values(list(keys), kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(by_rank, by_sort)
    # Equal keys, equal ranks; different keys, different ranks.
    assert len(np.unique(rank)) == len(frame.drop_duplicates(list(keys)))


def test_too_many_distinct_values_give_no_rank() -> None:
    many = pd.DataFrame({f"k{i}": np.arange(100_000) for i in range(4)})  # 100,000⁴ > 2⁶³
    assert key_rank(many, tuple(many.columns)) is None


def test_a_scanned_file_s_tables_come_in_key_order(tmp_path: Path) -> None:
    """The scan sorts in DuckDB; its order must be pandas' for text beyond ASCII and of mixed case too, or every
    run would pay for the group-by (the merge would still be right, only slower)."""
    log = tmp_path / "openrouter.csv"
    generate("openrouter", 3_000, log, keys=6)
    names = ["Ünïcode", "alpha", "Beta", "beta", "zeta-key", "Äpfel"]
    text = log.read_text(encoding="utf-8")
    for i, name in enumerate(names):
        text = text.replace(f",key-{i:05d},", f",{name},")
    log.write_text(text, encoding="utf-8")
    _, ingested = ingest_one(log)
    assert set(ingested.key_usage["api_key"]) == set(names)
    tables = ((ingested.usage, USAGE_KEYS), (ingested.key_usage, KEY_USAGE_KEYS), (ingested.shape, SHAPE_KEYS))
    for table, keys in tables:
        rank = key_rank(table, keys)
        assert rank is not None
        assert bool((np.diff(rank) > 0).all())
        pd.testing.assert_frame_equal(table, table.sort_values(list(keys), kind="stable").reset_index(drop=True))
