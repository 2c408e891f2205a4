"""`costing.cost_by_group`: each group's exact cost, its rows' tokens priced at their own rates, against the same sum
done row by row in plain Python."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from auditor.costing import cost_by_group
from auditor.ledger import TOKEN_COLUMNS
from pricing.ratebook import NO_RATE
from pricing.rates import ClassRates, cost_of

RATES = [
    ClassRates(tuple(Decimal(f"0.00000{i + 1}") for i in range(len(TOKEN_COLUMNS))), Decimal("0.001")),
    ClassRates(tuple(Decimal(f"0.0000{i + 3}7") for i in range(len(TOKEN_COLUMNS))), Decimal(0)),
]


def _frame(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "provider": rng.choice(["openai", "anthropic", "openrouter"], rows),
            "month": rng.choice(["2026-09", "2026-10", "2026-11"], rows),
            **{c: rng.integers(0, 10**9, rows) for c in TOKEN_COLUMNS},
            "requests": rng.integers(1, 1000, rows),
        }
    )
    frame["output_tokens"] += frame["reasoning_tokens"]  # reasoning is inside output
    frame["month"] = frame["month"].astype("str")
    return frame, rng.choice([0, 1], rows)


def _by_row(frame: pd.DataFrame, rate_ids: np.ndarray, group_by: list[str]) -> dict[tuple[object, ...], Decimal]:
    out: dict[tuple[object, ...], Decimal] = defaultdict(Decimal)
    for i, row in enumerate(frame.to_dict("records")):
        group = tuple(row[c] for c in group_by)
        if rate_ids[i] == NO_RATE or any(pd.isna(v) for v in group):
            continue
        out[group] += cost_of(RATES[rate_ids[i]], {c: row[c] for c in TOKEN_COLUMNS}, row["requests"])
    return dict(out)


@pytest.mark.parametrize("group_by", [[], ["provider"], ["provider", "month"]])
def test_every_row_priced_each_group_costs_its_rows_at_their_rates(group_by: list[str]) -> None:
    frame, rate_ids = _frame(500, seed=1)
    got = cost_by_group(frame, rate_ids, RATES, group_by)
    assert got == _by_row(frame, rate_ids, group_by)
    assert list(got) == sorted(got), "in the groups' sorted order"


def test_unpriced_rows_and_rows_missing_a_group_value_are_left_out() -> None:
    frame, rate_ids = _frame(500, seed=2)
    rate_ids[::7] = NO_RATE
    frame.loc[frame.index[::11], "month"] = None
    got = cost_by_group(frame, rate_ids, RATES, ["provider", "month"])
    expected = _by_row(frame, rate_ids, ["provider", "month"])
    assert got == expected
    assert all(not pd.isna(month) for _, month in got)


def test_nothing_priced_is_no_group() -> None:
    frame, _ = _frame(20, seed=3)
    assert cost_by_group(frame, np.full(len(frame), NO_RATE), RATES, ["provider"]) == {}
