"""Exact prices of workload segments: per-token rates of each ledger token class, resolved from the catalog.

A segment is many requests that share a model, a price regime (date, time-of-day slot, service tier)
and a request-size bucket. Bucket floors sit on every long-context tier threshold of the catalog, so
every request of a bucket falls in the same tier of every model, and the cost of a segment is exactly
the sum of genai-prices' per-request costs: each token class times its rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache

import numpy as np
from genai_prices import Usage
from genai_prices.types import ConditionalPrice, ModelInfo, ModelPrice, TieredPrices, TimeOfDateConstraint

from auditor.ledger import TOKEN_COLUMNS
from pricing.catalog import CatalogModel, providers_by_id
from pricing.overlays import resolve as resolve_with_overlays

SLOT_MINUTES = 30
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES
REQUEST_PRICE_KEY = "requests_kcount"

# The genai-prices usage that one token of each ledger class is, in genai-prices' terms:
# its `input_tokens` is the total input (cache reads and writes included) and its
# `output_tokens` includes reasoning.
_ONE_TOKEN_OF_CLASS: dict[str, dict[str, int]] = {
    "input_tokens": {"input_tokens": 1},
    "cache_read_tokens": {"input_tokens": 1, "cache_read_tokens": 1},
    "cache_write_tokens": {"input_tokens": 1, "cache_write_tokens": 1, "cache_write_5m_tokens": 1},
    "cache_write_1h_tokens": {"input_tokens": 1, "cache_write_tokens": 1, "cache_write_1h_tokens": 1},
    "output_tokens": {"output_tokens": 1},
    "reasoning_tokens": {"output_tokens": 1, "output_reasoning_tokens": 1},
}
assert tuple(_ONE_TOKEN_OF_CLASS) == TOKEN_COLUMNS


@dataclass(frozen=True)
class ClassRates:
    """USD per token of each ledger token class (aligned with TOKEN_COLUMNS), and USD per request.

    The `output_tokens` rate applies to non-reasoning output only: a segment's cost is
    `output_rate * (output - reasoning) + reasoning_rate * reasoning`.
    """

    per_token: tuple[Decimal, ...]
    per_request: Decimal


def price_context_for(service_tier: str) -> dict[str, str] | None:
    """The genai-prices price context selecting the variant a row was served at."""
    return {
        "batch": {"processing": "batch"},
        "flex": {"service_tier": "flex"},
        "priority": {"service_tier": "priority"},
        "fast": {"speed": "fast"},
    }.get(service_tier)


def _tier_starts(value: object) -> list[int]:
    return [t.start for t in value.tiers] if isinstance(value, TieredPrices) else []


def _model_prices(model_prices: object) -> list[ModelPrice]:
    if isinstance(model_prices, ModelPrice):
        return [model_prices]
    return [c.prices for c in model_prices if isinstance(c, ConditionalPrice)]  # type: ignore[attr-defined]


@cache
def size_bucket_floors() -> tuple[int, ...]:
    """0 and every long-context tier threshold in the catalog, ascending."""
    starts = {0}
    for provider in providers_by_id().values():
        for model in provider.models:
            prices = _model_prices(model.prices)
            prices += [v.prices for v in model.price_variants or ()]
            for mp in prices:
                for value in mp.__dict__.values():
                    starts.update(_tier_starts(value))
    return tuple(sorted(starts))


def price_conditions(info: ModelInfo) -> list[object]:
    """The conditions of a catalog model's prices and price variants (None: a price without one)."""
    conditions: list[object] = [] if isinstance(info.prices, ModelPrice) else [c.constraint for c in info.prices]
    return conditions + [v.constraint for v in info.price_variants or ()]


def has_time_windows(model: CatalogModel) -> bool:
    """Whether the time of day can change this model's price (peak / off-peak windows)."""
    return any(isinstance(c, TimeOfDateConstraint) for c in price_conditions(model.model))


def _time_windows() -> list[TimeOfDateConstraint]:
    """Every catalog time-of-day price condition (of a model's prices and of its price variants)."""
    return [
        c
        for provider in providers_by_id().values()
        for info in provider.models
        for c in price_conditions(info)
        if isinstance(c, TimeOfDateConstraint)
    ]


@cache
def same_price_slots() -> tuple[int, ...]:
    """For each half hour of the UTC day, the first half hour whose prices are its own for every catalog model, at
    every service tier, on any day: the one where the same time-of-day conditions of the catalog hold. A half hour
    is priced at its start; what else moves a price (the catalog's start dates, the price overlays' days and
    weekdays) is the same all day (a UTC day). Over DeepSeek's windows, four classes: neither window, the 00:30-16:30
    one alone, and with each of the other model's two.

    Every half hour is its own where a window is in a zone whose offset from UTC moves (daylight saving time): when
    it holds in UTC then differs between days."""
    windows = _time_windows()
    times = [t for w in windows for t in (w.start_time, w.end_time)]
    if any(t.tzinfo is not None and t.tzinfo.utcoffset(None) is None for t in times):
        return tuple(range(SLOTS_PER_DAY))
    any_day = date(2000, 1, 1)
    first: dict[tuple[bool, ...], int] = {}
    held = (tuple(w.active(slot_start(any_day, slot)) for w in windows) for slot in range(SLOTS_PER_DAY))
    return tuple(first.setdefault(conditions, slot) for slot, conditions in enumerate(held))


def same_price_slot_of(slots: np.ndarray) -> np.ndarray:
    """Each half hour's first half hour of the same prices (`same_price_slots`); a daily bucket's (-1) stays
    itself."""
    first = np.asarray(same_price_slots(), dtype=np.int64)
    return np.where(slots >= 0, first[np.clip(slots, 0, SLOTS_PER_DAY - 1)], slots)


def slot_start(day: date, slot: int) -> datetime:
    """The UTC instant a time-of-day slot of a day begins."""
    return datetime.combine(day, time(0), tzinfo=UTC) + timedelta(minutes=slot * SLOT_MINUTES)


def _flatten(model_price: ModelPrice, size_floor_tokens: int) -> ModelPrice:
    """The model price with each tiered price replaced by the rate of the bucket's tier."""
    flat: dict[str, Decimal] = {}
    for key, value in model_price.__dict__.items():
        if value is None or key.startswith("_"):
            continue
        if isinstance(value, TieredPrices):
            rate = value.base
            for tier in reversed(value.tiers):
                # genai-prices applies a tier when the request's input is > start; a bucket whose
                # floor is >= start holds only such requests, because starts are bucket floors.
                if size_floor_tokens >= tier.start:
                    rate = tier.price
                    break
            flat[key] = rate
        else:
            flat[key] = value
    return ModelPrice(**flat)


# Resolved prices by (provider, model, instant, tier): the same instants recur across days' slots, request sizes,
# findings and scenarios. The catalog objects are kept in the value, so their ids cannot be reused.
_resolved_cache: dict[tuple[int, int, datetime, str], tuple[object, object, tuple[ModelPrice, tuple[str, ...]]]] = {}


def _resolved(model: CatalogModel, at: datetime, service_tier: str) -> tuple[ModelPrice, tuple[str, ...]]:
    key = (id(model.provider), id(model.model), at, service_tier)
    cached = _resolved_cache.get(key)
    if cached is None:
        price, applied = _resolve(model, at, service_tier)
        # Equal prices (every field) are one object, so their rates are found by identity for every request size.
        price = _canonical.setdefault(_price_key(price), price)
        cached = _resolved_cache[key] = (model.provider, model.model, (price, applied))
    return cached[2]


_canonical: dict[tuple[tuple[str, str], ...], ModelPrice] = {}


def _resolve(model: CatalogModel, at: datetime, service_tier: str) -> tuple[ModelPrice, tuple[str, ...]]:
    context = price_context_for(service_tier)
    # genai-prices ignores price variants when the model is reached through a fallback provider.
    if context and not model.is_own:
        context = None
    return resolve_with_overlays(model, at, service_tier, context)


def _resolved_price(model: CatalogModel, at: datetime, service_tier: str) -> ModelPrice:
    return _resolved(model, at, service_tier)[0]


def day_resolved(model: CatalogModel, day: date, service_tier: str) -> tuple[tuple[ModelPrice, tuple[str, ...]], ...]:
    """The price and the overlays applied at each half hour of a day (asked again for every request size, for the
    overlays and for the half hours of the same prices of a run's models, `ratebook.same_rate_slots`): equal prices
    are one object (one `id`) while the run lasts."""
    key = (id(model.provider), id(model.model), day, service_tier)
    cached = _day_cache.get(key)
    if cached is None:
        # The half hours of a class of `same_price_slots` have one price: each class is resolved at its first half
        # hour. Without time windows the day is one class (the catalog and the overlays date prices by the UTC day).
        first = same_price_slots() if has_time_windows(model) else _ONE_CLASS
        by_first = {slot: _resolved(model, slot_start(day, slot), service_tier) for slot in sorted(set(first))}
        slots = tuple(by_first[slot] for slot in first)
        cached = _day_cache[key] = (model.provider, model.model, slots)
    return cached[2]


_ONE_CLASS = (0,) * SLOTS_PER_DAY
_day_cache: dict[tuple[int, int, date, str], tuple[object, object, tuple[tuple[ModelPrice, tuple[str, ...]], ...]]] = {}


def applied_overlays(model: CatalogModel, day: date, slot: int, service_tier: str) -> tuple[str, ...]:
    """Ids of the price overlays (`pricing/overlays.py`) that change the price on `day` at `slot` (-1: any)."""
    resolved = (
        day_resolved(model, day, service_tier) if slot < 0 else (_resolved(model, slot_start(day, slot), service_tier),)
    )
    found: dict[str, None] = {}
    for _, applied in resolved:
        found.update(dict.fromkeys(applied))
    return tuple(found)


def _price_key(mp: ModelPrice) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in mp.__dict__.items() if v is not None))


_rates_cache: dict[tuple[tuple[tuple[str, str], ...], int], ClassRates] = {}


# The same resolved price objects recur (`_resolved` keeps them): their rates by identity, the object kept alive.
_rates_by_id: dict[tuple[int, int], tuple[ModelPrice, ClassRates]] = {}


def _rates_of_price(mp: ModelPrice, size_floor_tokens: int) -> ClassRates:
    known = _rates_by_id.get((id(mp), size_floor_tokens))
    if known is not None and known[0] is mp:
        return known[1]
    rates = _rates_of_new_price(mp, size_floor_tokens)
    _rates_by_id[(id(mp), size_floor_tokens)] = (mp, rates)
    return rates


def _rates_of_new_price(mp: ModelPrice, size_floor_tokens: int) -> ClassRates:
    # Request sizes with the same tier starts of this price at or below them get the same tier of every price: the
    # largest such start stands for them all.
    starts = [s for value in mp.__dict__.values() for s in _tier_starts(value) if s <= size_floor_tokens]
    floor = max(starts, default=0)
    key = (_price_key(mp), floor)
    cached = _rates_cache.get(key)
    if cached is not None:
        return cached
    flat = _flatten(mp, floor)
    per_request = Decimal(0)
    request_price = flat.__dict__.pop(REQUEST_PRICE_KEY, None)
    if request_price is not None:
        per_request = request_price / 1000
    per_token = tuple(flat.calc_price(Usage(**_ONE_TOKEN_OF_CLASS[c]))["total_price"] for c in TOKEN_COLUMNS)
    rates = ClassRates(per_token, per_request)
    _rates_cache[key] = rates
    return rates


def class_rates(model: CatalogModel, day: date, slot: int, service_tier: str, size_floor_tokens: int) -> ClassRates:
    """Rates in force on `day` at time-of-day `slot` (-1: unknown, the mean over the day's slots)."""
    floor = max(size_floor_tokens, 0)
    if slot >= 0:
        return _rates_of_price(_resolved_price(model, slot_start(day, slot), service_tier), floor)
    per_slot = [_rates_of_price(price, floor) for price, _ in day_resolved(model, day, service_tier)]
    n = Decimal(SLOTS_PER_DAY)
    return ClassRates(
        tuple(sum((r.per_token[i] for r in per_slot), Decimal(0)) / n for i in range(len(TOKEN_COLUMNS))),
        sum((r.per_request for r in per_slot), Decimal(0)) / n,
    )


def cost_of(rates: ClassRates, tokens: dict[str, int], requests: int) -> Decimal:
    """Exact USD cost of a token mix at the given rates (reasoning is inside output)."""
    total = Decimal(0)
    for rate, column in zip(rates.per_token, TOKEN_COLUMNS, strict=True):
        count = tokens[column]
        if column == "output_tokens":
            count -= tokens["reasoning_tokens"]
        total += rate * count
    return total + rates.per_request * requests
