"""The rate id of every row of a frame (`RateBook.rate_ids`): the id of the rates its own model (or the fixed one)
has at the row's day, half hour, service tier and request size, or at the week of a projection's day; NO_RATE for a
row whose model the catalog does not price. Ids are given in the order the rows first meet their rates (a run's
rates and its outputs are in that order).

The expected rates are the catalog's, found row by row with `class_rates`, not through the rate book.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from pricing.catalog import CatalogModel, find_model, lookup_candidate
from pricing.ratebook import NO_RATE, RateBook, first_met_codes
from pricing.rates import ClassRates, class_rates, has_time_windows

TIERS = ("standard", "batch", "flex")
FLOORS = (0, 32_000, 200_000)


def _models() -> dict[str, CatalogModel]:
    windowed = find_model("deepseek", "deepseek-v4-flash")
    assert windowed is not None and has_time_windows(windowed), "the premise: a model priced by the time of day"
    plain = lookup_candidate("openai:gpt-5-mini")
    tiered = lookup_candidate("google:gemini-2.5-pro")
    assert not has_time_windows(plain) and not has_time_windows(tiered)
    return {m.ref: m for m in (windowed, plain, tiered)}


def _frame(rows: int, seed: int, refs: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = [date(2026, 8, 28) + timedelta(days=int(n)) for n in rng.integers(0, 90, rows)]  # weekdays and weekends
    return pd.DataFrame(
        {
            "model_ref": rng.choice(refs, rows),
            "day": [d.isoformat() for d in days],
            "time_slot": rng.integers(-1, 48, rows),
            "service_tier": rng.choice(TIERS, rows),
            "request_size_floor_tokens": rng.choice(FLOORS, rows),
        }
    )


def _expected(model: CatalogModel, day: str, slot: int, tier: str, floor: int) -> ClassRates:
    # A model the time of day cannot move is priced at any half hour alike (the book keys it on the first).
    return class_rates(model, date.fromisoformat(day), slot if has_time_windows(model) else 0, tier, floor)


def _week_mean(model: CatalogModel, on_day: date, slot: int, tier: str, floor: int) -> ClassRates:
    days = [on_day + timedelta(days=n) for n in range(7)] if has_time_windows(model) else [on_day]
    each = [_expected(model, d.isoformat(), slot, tier, floor) for d in days]
    if all(r == each[0] for r in each):
        return each[0]
    per_token = tuple(sum(c, Decimal(0)) / len(each) for c in zip(*(r.per_token for r in each), strict=True))
    return ClassRates(per_token, sum((r.per_request for r in each), Decimal(0)) / len(each))


def _assert_first_met_order(ids: np.ndarray) -> None:
    met = list(dict.fromkeys(int(i) for i in ids if i != NO_RATE))
    assert met == list(range(len(met))), "ids in the order the rows first meet their rates"


def test_each_row_has_its_own_models_rates_and_unpriced_rows_none() -> None:
    models = _models()
    frame = _frame(3000, seed=5, refs=[*models, "", "nobody:unknown-model"])
    book = RateBook()
    ids = book.rate_ids(frame, models)
    assert len(ids) == len(frame)
    for row, i in zip(frame.itertuples(index=False), ids, strict=True):
        model = models.get(row.model_ref)
        if model is None:
            assert i == NO_RATE, row
        else:
            assert book.rates[i] == _expected(model, row.day, row.time_slot, row.service_tier,
                                              row.request_size_floor_tokens), row  # fmt: skip
    assert len(set(ids.tolist()) - {NO_RATE}) >= 8, "the premise: many distinct rates"
    _assert_first_met_order(ids)


def test_a_projection_prices_a_windowed_model_over_its_week_and_the_fixed_model_on_every_row() -> None:
    models = _models()
    frame = _frame(2000, seed=6, refs=list(models))
    on_day = date(2026, 11, 27)  # a Friday: the week holds weekday peaks and a weekend
    book = RateBook()
    for fixed in (None, *models.values()):
        ids = book.rate_ids(frame, models, fixed=fixed, on_day=on_day)
        for row, i in zip(frame.itertuples(index=False), ids, strict=True):
            model = fixed if fixed is not None else models[row.model_ref]
            want = _week_mean(model, on_day, row.time_slot, row.service_tier, row.request_size_floor_tokens)
            assert book.rates[i] == want, (model.ref, row)
    windowed = next(m for m in models.values() if has_time_windows(m))
    peak_days = {_expected(windowed, (on_day + timedelta(days=n)).isoformat(), 4, "standard", 0) for n in range(7)}
    assert len(peak_days) > 1, "the premise: the week's days differ for the windowed model"


def test_a_given_tier_prices_every_row_at_that_tier() -> None:
    """`tier` prices each row as if it were served at that tier (the findings price standard traffic at batch)."""
    models = _models()
    frame = _frame(2000, seed=8, refs=list(models))
    on_day = date(2026, 11, 27)
    book = RateBook()
    for tier in TIERS:
        ids = book.rate_ids(frame, models, on_day=on_day, tier=tier)
        for row, i in zip(frame.itertuples(index=False), ids, strict=True):
            want = _week_mean(models[row.model_ref], on_day, row.time_slot, tier, row.request_size_floor_tokens)
            assert book.rates[i] == want, (tier, row)
    at_batch = set(book.rate_ids(frame, models, on_day=on_day, tier="batch").tolist())
    as_served = set(book.rate_ids(frame, models, on_day=on_day).tolist())
    assert at_batch != as_served, "the premise: the tiers' rates differ"


@pytest.mark.parametrize("fixed", [False, True])
def test_an_empty_frame_has_no_ids(fixed: bool) -> None:
    models = _models()
    frame = _frame(0, seed=7, refs=list(models))
    ids = RateBook().rate_ids(frame, models, fixed=next(iter(models.values())) if fixed else None)
    assert ids.shape == (0,)


@pytest.mark.parametrize("rows", [0, 1, 57, 5_000])
def test_first_met_codes_number_the_keys_in_the_order_first_met(rows: int) -> None:
    """Each row's code is its key's, numbered as the keys are first met: the same as pandas' grouping by every
    column in order of appearance, text columns and repeated keys included."""
    rng = np.random.default_rng(rows)
    columns = [
        rng.integers(0, 3, rows),
        rng.integers(-1, 48, rows),
        rng.choice(np.array([0, 32_000, 200_000]), rows),
        rng.choice(np.array(list(TIERS), dtype=object), rows),
        rng.choice(np.array(["2026-09-01", "2026-09-02"], dtype=object), rows),
    ]
    codes = first_met_codes(columns)
    frame = pd.DataFrame({str(i): column for i, column in enumerate(columns)})
    expected = frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy()
    assert codes.tolist() == expected.tolist()
    if rows:
        assert codes[0] == 0 and set(np.diff(np.maximum.accumulate(codes))) <= {0, 1}
