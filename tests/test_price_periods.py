"""The days on which a model's list price can change (`ratebook.price_change_days`), against the rates themselves.

The usage by API key sums a key's days between two of them as one (`engine.key_day_sql`): that is only right if the
rates of every day are those of the last change day before it, for every service tier and request size. Checked for
every model of the catalog, on the days around each change and on days far from any.
"""

from __future__ import annotations

from datetime import date, timedelta

from genai_prices.types import ModelPrice, TieredPrices

from pricing.catalog import CatalogModel, find_model, providers_by_id
from pricing.ratebook import price_change_days
from pricing.rates import class_rates, has_time_windows

TIERS = ("standard", "batch", "flex", "priority", "fast")
FAR_DAYS = (date(2023, 3, 15), date(2024, 2, 29), date(2025, 7, 31), date(2026, 9, 1), date(2026, 11, 28))
BEFORE_ANY = date(2020, 1, 1)
"""A day before every change in the catalog: the rates of a day before a model's first change are this day's."""


def _largest_tier_start(model: CatalogModel) -> int:
    prices = (
        [model.model.prices] if isinstance(model.model.prices, ModelPrice) else [c.prices for c in model.model.prices]
    )
    prices += [v.prices for v in model.model.price_variants or ()]
    starts = [t.start for p in prices for v in p.__dict__.values() if isinstance(v, TieredPrices) for t in v.tiers]
    return max(starts, default=0)


def test_between_two_change_days_every_day_has_the_rates_of_the_first() -> None:
    checked = changing = 0
    for provider in providers_by_id().values():
        for info in provider.models:
            model = CatalogModel(provider, info)
            changes = price_change_days(model)
            if changes is None:
                assert has_time_windows(model), f"{model.ref}: only a time-of-day price changes on any day"
                continue
            assert list(changes) == sorted(set(changes))
            assert all(change > BEFORE_ANY for change in changes)
            changing += bool(changes)
            probes = {d + timedelta(days=n) for d in changes for n in (-1, 0, 1)} | set(FAR_DAYS)
            for day in sorted(probes):
                start = max((c for c in changes if c <= day), default=BEFORE_ANY)
                for floor in {0, _largest_tier_start(model)}:
                    for tier in TIERS:
                        assert class_rates(model, day, 0, tier, floor) == class_rates(model, start, 0, tier, floor), (
                            f"{model.ref} {tier} {floor}: {day} against {start}"
                        )
                        checked += 1
    assert changing > 100 and checked > 50_000, "the premise: the catalog's dated prices"


def test_a_price_that_starts_on_a_day_is_a_change_day_and_weekday_peaks_change_any_day() -> None:
    """The rates do change on a change day (for a model of the catalog with a dated price), and the models whose peak
    price holds on weekdays only (an overlay) can change on any day."""
    found = 0
    for provider in providers_by_id().values():
        for info in provider.models:
            model = CatalogModel(provider, info)
            for change in price_change_days(model) or ():
                before, on = (class_rates(model, change - timedelta(days=n), 0, "standard", 0) for n in (1, 0))
                found += before != on
    assert found > 0, "some dated price changes the standard rates on its day"
    weekday_peak = find_model("deepseek", "deepseek-v4-flash")
    assert weekday_peak is not None and price_change_days(weekday_peak) is None
