"""The rate book: one id per distinct set of class rates, so workloads aggregate on price regimes.

Many (model, day, time slot, service tier, request size) keys share the same rates; giving each key
the id of its rates lets usage be summed per regime instead of per key, and priced exactly afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
from genai_prices.types import ModelPrice, StartDateConstraint, TieredPrices

from pricing.catalog import CatalogModel
from pricing.overlays import overlay_change_days
from pricing.rates import (
    SLOTS_PER_DAY,
    ClassRates,
    applied_overlays,
    class_rates,
    day_resolved,
    has_time_windows,
    price_conditions,
    same_price_slot_of,
)
from pricing.schedule import start_dates

NO_RATE = -1
WEEK_OF = "week of "
"""Prefix of a rate key's day that stands for the seven days from that day (projections)."""


def _mean(rates: list[ClassRates]) -> ClassRates:
    """The mean of class rates (exact when they are equal; else to Decimal's 28 significant digits)."""
    if all(r == rates[0] for r in rates):
        return rates[0]
    n = len(rates)
    per_token = tuple(sum(column, Decimal(0)) / n for column in zip(*(r.per_token for r in rates), strict=True))
    return ClassRates(per_token, sum((r.per_request for r in rates), Decimal(0)) / n)


def has_size_tiers(model: CatalogModel) -> bool:
    """Whether the request size can change this model's price (long-context tiers)."""
    prices = (
        [model.model.prices] if isinstance(model.model.prices, ModelPrice) else [c.prices for c in model.model.prices]
    )
    prices += [v.prices for v in model.model.price_variants or ()]
    return any(isinstance(value, TieredPrices) for mp in prices for value in mp.__dict__.values())


def price_change_days(model: CatalogModel) -> tuple[date, ...] | None:
    """The UTC days on which the model's list price can change (for every service tier and request size), sorted:
    from one of them up to the next, a day's rates are those of the first day. None: they can change on any day
    (time-of-day windows, which may hold on some weekdays only).

    The catalog dates a price by its start day (UTC), and so do the price overlays; nothing else moves a price."""
    if has_time_windows(model):
        return None
    overlay_days = overlay_change_days(model)
    if overlay_days is None:
        return None
    if not all(c is None or isinstance(c, StartDateConstraint) for c in price_conditions(model.model)):
        return None  # a kind of condition this code does not know: any day may differ
    return tuple(sorted({*start_dates(model), *overlay_days}))


def same_rate_slots(models: Iterable[CatalogModel], on_day: date, tiers: Iterable[str]) -> list[int]:
    """For each half hour of the day (0-47), the first half hour with the same prices (and the same price overlays
    applied) for every one of `models` and `tiers`, on each of the seven days from `on_day`: the week a projection
    prices at (`RateBook.rate_ids` with `on_day`). Half hours of one class have the same rates, whatever the request
    size; a model without time windows prices every half hour alike."""
    windowed = [m for m in models if has_time_windows(m)]
    days = [on_day + timedelta(days=n) for n in range(7)]
    by_day = [day_resolved(m, d, t) for m in windowed for d in days for t in sorted(set(tiers))]
    first: dict[tuple[object, ...], int] = {}
    return [
        first.setdefault(tuple((id(day[slot][0]), day[slot][1]) for day in by_day), slot)
        for slot in range(SLOTS_PER_DAY)
    ]


def first_met_codes(columns: list[np.ndarray]) -> np.ndarray:
    """A code per row for its key (its values in `columns`, arrays of one length), numbered 0, 1, ... in the order
    the keys are first met. One column at a time, with the codes so far: the numbers never exceed the rows squared
    (a table of many columns each with many values would overflow one number holding them all)."""
    codes = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        column_codes, uniques = pd.factorize(column, use_na_sentinel=False)
        codes = pd.factorize(codes * len(uniques) + column_codes.astype(np.int64), use_na_sentinel=False)[0]
    return codes.astype(np.int64, copy=False)


class RateBook:
    """Rates by id, and the id of every (model, day, slot, tier, size) key seen so far."""

    def __init__(self) -> None:
        self.rates: list[ClassRates] = []
        self._id_of_rates: dict[ClassRates, int] = {}
        self._id_of_key: dict[tuple[str, str, int, str, int], int] = {}
        self._windows: dict[str, bool] = {}
        self.overlays_used: set[str] = set()
        """Ids of the price overlays that changed a rate looked up here (`pricing/overlays.py`)."""

    def _has_windows(self, model: CatalogModel) -> bool:
        if model.ref not in self._windows:
            self._windows[model.ref] = has_time_windows(model)
        return self._windows[model.ref]

    def _id_for(self, model: CatalogModel, day: str, slot: int, tier: str, floor: int) -> int:
        if not self._has_windows(model):
            slot = 0  # the time of day cannot change this model's price
        key = (model.ref, day, slot, tier, floor)
        found = self._id_of_key.get(key)
        if found is None:
            days = [date.fromisoformat(day.removeprefix(WEEK_OF))]
            if day.startswith(WEEK_OF) and self._windows[model.ref]:
                # Peak windows may hold on weekdays only: the week's seven days, traffic spread evenly over them.
                days = [days[0] + timedelta(days=n) for n in range(7)]
            rates = _mean([class_rates(model, d, slot, tier, floor) for d in days])
            for d in days:
                self.overlays_used.update(applied_overlays(model, d, slot, tier))
            found = self._id_of_rates.setdefault(rates, len(self.rates))
            if found == len(self.rates):
                self.rates.append(rates)
            self._id_of_key[key] = found
        return found

    def rate_ids(
        self,
        frame: pd.DataFrame,
        models: dict[str, CatalogModel],
        *,
        model_column: str = "model_ref",
        fixed: CatalogModel | None = None,
        on_day: date | None = None,
        tier: str | None = None,
    ) -> np.ndarray:
        """Rate id per row of `frame` (columns day, time_slot, service_tier, request_size_floor_tokens).

        Each row is priced at its own model (`model_column`, "" = unpriced → NO_RATE) or at `fixed`, on its own
        day or at `on_day`, at its own service tier or at `tier`. A projection `on_day` prices a model whose time
        of day moves its price over the seven days from `on_day`, evenly: its peak windows may hold on weekdays
        only (a price overlay), and a projection's traffic falls on every day of the week, not only on the weekday
        of `on_day`. Other models are priced on `on_day` itself.
        """
        n = len(frame)
        slots = frame["time_slot"].to_numpy(dtype=np.int64)
        floors = frame["request_size_floor_tokens"].to_numpy(dtype=np.int64)
        tiers = frame["service_tier"].to_numpy() if tier is None else np.full(n, tier, dtype=object)
        days = frame["day"].to_numpy() if on_day is None else None
        if fixed is None:
            ref_codes, ref_names = pd.factorize(frame[model_column].to_numpy(), use_na_sentinel=False)
            ref_models = [models.get(str(ref)) for ref in ref_names]
        else:
            ref_codes, ref_models = np.zeros(n, dtype=np.int64), [fixed]
        # The time of day cannot change the price of a model without time windows (`_id_for` keys it on 0); a model
        # with them is keyed on the first half hour of the same prices (`same_price_slots`).
        windowed = np.array([m is not None and self._has_windows(m) for m in ref_models], dtype=bool)
        slot_keys = np.where(windowed[ref_codes], same_price_slot_of(slots), 0)
        # Rows of one key share their id: each distinct key is looked up once, in the order it first appears.
        codes = first_met_codes([ref_codes, slot_keys, floors, tiers, *([days] if days is not None else [])])
        firsts = np.unique(codes, return_index=True)[1]
        week = WEEK_OF + on_day.isoformat() if on_day is not None else ""
        found = np.empty(len(firsts), dtype=np.int64)
        for group, row in enumerate(firsts):
            model = ref_models[ref_codes[row]]
            day = week if days is None else str(days[row])
            found[group] = (
                NO_RATE
                if model is None
                else self._id_for(model, day, int(slot_keys[row]), str(tiers[row]), int(floors[row]))
            )
        ids: np.ndarray = found[codes]
        return ids
