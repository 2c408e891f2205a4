"""Scheduled price changes and deprecations of catalog models, as the pinned catalog states them.

A price change is a `StartDateConstraint` on one of a model's conditional prices or price variants (batch,
flex, priority, fast): from that UTC day the prices of the constraint apply. A change is reported when the
prices resolved (genai-prices' own `get_prices`) on the day differ from those of the day before, for a
service tier the workload uses, at the first half hour of any class of the same prices (`rates.same_price_slots`);
old and new are the per-token rates of each ledger class there (USD per million tokens, at the smallest request
size: a long-context tier that moves alone is detected, and its base rates shown).

Deprecation: the catalog only flags a model `deprecated` (no date). Its comment sometimes names the day
("Deprecated 2026-05-22", "Retires on 2026-10-30"); that day is taken when an ISO date follows the word
closely (no other number or full stop between), and is otherwise unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from genai_prices.types import ModelPrice, StartDateConstraint

from auditor.ledger import TOKEN_COLUMNS
from pricing.catalog import CatalogModel
from pricing.rates import (
    ClassRates,
    _resolved_price,
    class_rates,
    same_price_slots,
    slot_start,
)

MILLION = Decimal(1_000_000)
# The ledger class → the name of its rate in a price change (USD per million tokens; per thousand requests).
RATE_NAMES = {
    "input_tokens": "input_mtok",
    "cache_read_tokens": "cache_read_mtok",
    "cache_write_tokens": "cache_write_mtok",
    "cache_write_1h_tokens": "cache_write_1h_mtok",
    "output_tokens": "output_mtok",
    "reasoning_tokens": "reasoning_mtok",
}
_DEPRECATION_WORDS = re.compile(r"deprecat|retire|shut down|shutdown|sunset", re.IGNORECASE)
# "Deprecated 2026-05-22", "Retires on 2026-10-30", "Deprecated by Cerebras on 2026-08-17": the day that
# follows the word closely, with no other number or sentence end between them.
_DEPRECATION_DAY = re.compile(
    r"(?:deprecated|retired?|retires|shut down|sunset)\b[^.\d]{0,25}?(\d{4})-(\d{2})-(\d{2})\b", re.IGNORECASE
)


@dataclass(frozen=True)
class PriceChange:
    model: CatalogModel
    day: date
    service_tier: str
    old: dict[str, Decimal]
    new: dict[str, Decimal]


@dataclass(frozen=True)
class Deprecation:
    model: CatalogModel
    day: date | None
    note: str


def start_dates(model: CatalogModel) -> list[date]:
    """Every day on which one of the model's dated prices (standard or a variant) starts, ascending."""
    days: set[date] = set()
    prices = model.model.prices
    if not isinstance(prices, ModelPrice):
        days.update(c.constraint.start_date for c in prices if isinstance(c.constraint, StartDateConstraint))
    for variant in model.model.price_variants or ():
        if isinstance(variant.constraint, StartDateConstraint):
            days.add(variant.constraint.start_date)
    return sorted(days)


def rates_per_million(rates: ClassRates) -> dict[str, Decimal]:
    """Class rates as USD per million tokens of each ledger class (and per thousand requests, when priced)."""
    out = {RATE_NAMES[c]: rate * MILLION for c, rate in zip(TOKEN_COLUMNS, rates.per_token, strict=True)}
    if rates.per_request:
        out["requests_kcount"] = rates.per_request * 1000
    return out


def _probe_slots() -> list[int]:
    """The first half hour of each class of the same prices (`rates.same_price_slots`): on a given day every half
    hour of a class has its first's prices, so a change shows there."""
    return sorted(set(same_price_slots()))


def price_changes(model: CatalogModel, after: date, service_tiers: list[str]) -> list[PriceChange]:
    """The model's scheduled price changes on days after `after`, for each of the given service tiers."""
    changes = []
    for day in start_dates(model):
        if day <= after:
            continue
        before = day - timedelta(days=1)
        for tier in sorted(set(service_tiers)):
            for slot in _probe_slots():
                old_price = _resolved_price(model, slot_start(before, slot), tier)
                new_price = _resolved_price(model, slot_start(day, slot), tier)
                if old_price is not new_price:  # equal prices are one object (`rates._resolved`)
                    old = rates_per_million(class_rates(model, before, slot, tier, 0))
                    new = rates_per_million(class_rates(model, day, slot, tier, 0))
                    changes.append(PriceChange(model, day, tier, old, new))
                    break
    return changes


def deprecation(model: CatalogModel) -> Deprecation | None:
    """The model's deprecation as the catalog states it, or None when it is not deprecated."""
    if not model.model.deprecated:
        return None
    comment = " ".join(filter(None, (model.model.price_comments, model.model.description)))
    for sentence in re.split(r"(?<=[.;])\s+", comment):
        if _DEPRECATION_WORDS.search(sentence):
            found = _DEPRECATION_DAY.search(sentence)
            day = None
            if found is not None:
                try:
                    day = date(*(int(x) for x in found.groups()))
                except ValueError:
                    day = None
            return Deprecation(model, day, sentence.strip())
    return Deprecation(model, None, "marked deprecated in the catalog, with no date")
