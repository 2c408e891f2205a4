"""The first half hour of the same prices (`rates.same_price_slots`): the shape by API key sums its half hours by
it, and rate lookups key a model priced by the time of day on it, so every half hour must have the prices of its
first, for every catalog model priced by the time of day, at every service tier, on any day (weekdays and weekends,
before and after the price overlays' days)."""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from genai_prices.types import TimeOfDateConstraint

from pricing import rates
from pricing.catalog import CatalogModel, providers_by_id
from pricing.overlays import _early_batch_rule, _weekday_rule
from pricing.ratebook import price_change_days
from pricing.rates import (
    SLOTS_PER_DAY,
    day_resolved,
    has_time_windows,
    price_conditions,
    same_price_slot_of,
    same_price_slots,
    slot_start,
)

TIERS = ("standard", "batch", "flex", "priority", "fast")
# Every weekday, around the weekday-only peaks' start (2026-09) and far from it, 2025 to 2027.
DAYS = [date(2025, 1, 6) + timedelta(days=n) for n in range(0, 2 * 365, 11)]


def test_every_half_hour_has_the_prices_of_its_first_of_the_same_prices() -> None:
    first = same_price_slots()
    assert len(first) == SLOTS_PER_DAY and all(first[f] == f <= s for s, f in enumerate(first))
    assert 1 < len(set(first)) < SLOTS_PER_DAY, "the premise: half hours both apart and together"
    assert any(first[s] != first[s - 1] and first[s] != s for s in range(1, SLOTS_PER_DAY)), (
        "the premise: half hours apart in the day have the same prices"
    )
    models = [CatalogModel(p, m) for p in providers_by_id().values() for m in p.models]
    windowed = [m for m in models if has_time_windows(m)]
    assert len(windowed) >= 3, "the premise: models priced by the time of day"
    assert {d.weekday() for d in DAYS} == set(range(7))
    moved = 0
    for model in windowed:
        for tier in TIERS:
            for day in DAYS:
                # Each half hour resolved on its own (`day_resolved` resolves each class's first only).
                slots = [rates._resolved(model, slot_start(day, slot), tier) for slot in range(SLOTS_PER_DAY)]
                for slot, (price, applied) in enumerate(slots):
                    first_price, first_applied = slots[first[slot]]
                    assert price is first_price and applied == first_applied, (model.ref, tier, day, slot)
                whole_day = day_resolved(model, day, tier)
                assert all(a[0] is b[0] and a[1] == b[1] for a, b in zip(whole_day, slots, strict=True))
                moved += len({id(p) for p, _ in slots}) > 1
    assert moved, "the premise: some days' prices move with the time of day"


def test_a_daily_bucket_keeps_its_half_hour() -> None:
    slots = np.array([-1, 0, 5, 47], dtype=np.int64)
    first = same_price_slots()
    assert same_price_slot_of(slots).tolist() == [-1, first[0], first[5], first[47]]


def test_a_window_in_a_zone_with_daylight_saving_time_keeps_every_half_hour_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fixed = [TimeOfDateConstraint(time(0, 30, tzinfo=rates.UTC), time(16, 30, tzinfo=rates.UTC))]
    monkeypatch.setattr(rates, "_time_windows", lambda: fixed)
    assert len(set(same_price_slots.__wrapped__())) == 2
    moving = [*fixed, TimeOfDateConstraint(time(9, 0, tzinfo=ZoneInfo("America/Los_Angeles")), time(17, 0))]
    monkeypatch.setattr(rates, "_time_windows", lambda: moving)
    assert same_price_slots.__wrapped__() == tuple(range(SLOTS_PER_DAY))


def test_a_model_without_time_windows_has_the_price_of_its_first_half_hour_all_day() -> None:
    """`day_resolved` resolves such a model's first half hour only (the catalog and the overlays date prices by the
    UTC day): checked against each half hour resolved on its own, for every model whose prices have conditions,
    variants or overlays, on the days its prices change and around them, at every tier."""
    models = [CatalogModel(p, m) for p in providers_by_id().values() for m in p.models]
    dated = [
        m
        for m in models
        if not has_time_windows(m)
        and (
            any(c is not None for c in price_conditions(m.model))
            or m.model.price_variants
            or _weekday_rule(m)
            or _early_batch_rule(m)
        )
    ]
    assert len(dated) > 100, "the premise: models whose prices change by the day, or by the tier"
    # The half hours at a day's edges and across it (all 48 for every model would take half a minute).
    slots = (0, 1, 16, 31, 46, 47)
    checked = 0
    for model in dated:
        days = {d + timedelta(days=n) for d in price_change_days(model) or () for n in (-1, 0)} | {date(2026, 11, 28)}
        for day in sorted(days):
            for tier in TIERS:
                whole_day = day_resolved(model, day, tier)
                assert len(whole_day) == SLOTS_PER_DAY
                for slot in slots:
                    price, applied = rates._resolved(model, slot_start(day, slot), tier)
                    assert price is whole_day[slot][0] and applied == whole_day[slot][1], (model.ref, tier, day, slot)
                    checked += 1
    assert checked > 20_000
