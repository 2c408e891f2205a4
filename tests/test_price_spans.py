"""Spans of the day of the same prices (`rates.same_price_spans`): the shape by API key sums its half hours by span,
so every half hour of a span must have the prices of the span's first, for every catalog model priced by the time
of day, at every service tier, on any day (weekdays and weekends, before and after the price overlays' days)."""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from pricing import rates
from pricing.catalog import CatalogModel, providers_by_id
from pricing.ratebook import has_time_windows
from pricing.rates import SLOTS_PER_DAY, day_resolved, same_price_spans

TIERS = ("standard", "batch", "flex", "priority", "fast")
# Every weekday, around the weekday-only peaks' start (2026-09) and far from it, 2025 to 2027.
DAYS = [date(2025, 1, 6) + timedelta(days=n) for n in range(0, 2 * 365, 11)]


def test_every_half_hour_of_a_span_has_the_prices_of_its_first() -> None:
    spans = same_price_spans()
    assert 1 < len(spans) < SLOTS_PER_DAY, "the premise: the day has spans of several half hours"
    first_of = [max(s for s in spans if s <= slot) for slot in range(SLOTS_PER_DAY)]
    models = [CatalogModel(p, m) for p in providers_by_id().values() for m in p.models]
    windowed = [m for m in models if has_time_windows(m)]
    assert len(windowed) >= 3, "the premise: models priced by the time of day"
    assert {d.weekday() for d in DAYS} == set(range(7))
    moved = 0
    for model in windowed:
        for tier in TIERS:
            for day in DAYS:
                slots = day_resolved(model, day, tier)
                for slot, (price, applied) in enumerate(slots):
                    start_price, start_applied = slots[first_of[slot]]
                    assert price is start_price and applied == start_applied, (model.ref, tier, day, slot)
                moved += len({id(p) for p, _ in slots}) > 1
    assert moved, "the premise: some days' prices move with the time of day"


def test_a_window_in_a_zone_with_daylight_saving_time_keeps_every_half_hour_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fixed = [time(0, 30, tzinfo=rates.UTC), time(16, 30, tzinfo=rates.UTC)]
    monkeypatch.setattr(rates, "_time_window_times", lambda: fixed)
    assert len(same_price_spans.__wrapped__()) < SLOTS_PER_DAY
    moving = [*fixed, time(9, 0, tzinfo=ZoneInfo("America/Los_Angeles"))]
    monkeypatch.setattr(rates, "_time_window_times", lambda: moving)
    assert same_price_spans.__wrapped__() == tuple(range(SLOTS_PER_DAY))


def test_the_catalog_has_its_windows_on_half_hours() -> None:
    """The spans' bounds are the half hours holding a boundary; where every boundary is on a half hour, the first
    half hour of each span starts exactly at a boundary."""
    assert all(m % rates.SLOT_MINUTES == 0 for m in rates.time_window_boundaries_minutes())
    assert set(same_price_spans()) == {0, *(m // rates.SLOT_MINUTES for m in rates.time_window_boundaries_minutes())}
