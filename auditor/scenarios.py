"""The workload re-priced on each candidate at the as-of date, beside the same workload on its own models."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from auditor.assumptions import Assumption, candidate_parts, cost_range, is_neutral
from auditor.costing import total_cost
from auditor.ledger import TOKEN_COLUMNS
from auditor.result import Driver, Scenario, money
from auditor.workload import MODEL_REF, Pricebook
from pricing.catalog import CatalogModel


def priced_shape(shape: pd.DataFrame) -> pd.DataFrame:
    """Shape rows that have tokens and a catalog model: the workload scenarios re-price."""
    # Reasoning tokens are inside output tokens: they never make a row priced on their own.
    counted = ["requests", *(c for c in TOKEN_COLUMNS if c != "reasoning_tokens")]
    return shape[(shape[MODEL_REF] != "") & (shape[counted].sum(axis=1) > 0)].reset_index(drop=True)


def build_scenarios(
    shape: pd.DataFrame,
    pricebook: Pricebook,
    candidates: list[CatalogModel],
    as_of: date,
    assumptions: Sequence[Assumption] | None = None,
) -> list[Scenario]:
    """Each candidate's cost for the whole priced workload at as-of prices, ranked by savings.

    With `assumptions`, each also gets its low..high range and drivers; the projected cost is the base of the
    range, and with every assumption unchanged it is the observed tokens priced exactly as without them.
    """
    priced = priced_shape(shape)
    if priced.empty:
        return []
    # At one date, only the time of day, tier and request size move a price: sum everything else away
    # first, so re-pricing costs the same whatever the number of rows, keys or projects.
    price_keys = ["time_slot", "service_tier", "request_size_floor_tokens"]
    sums = ["requests", *TOKEN_COLUMNS]
    by_model = priced.groupby([MODEL_REF, *price_keys], sort=True)[sums].sum().reset_index()
    workload = by_model.groupby(price_keys, sort=True)[sums].sum().reset_index()
    book = pricebook.rates
    baseline = money(total_cost(by_model, book.rate_ids(by_model, pricebook.models, on_day=as_of), book.rates))
    scenarios = []
    for candidate in candidates:
        ids = book.rate_ids(workload, {}, fixed=candidate, on_day=as_of)
        projected = money(total_cost(workload, ids, book.rates))
        low = high = None
        drivers: list[Driver] = []
        if assumptions is not None:
            span = cost_range(candidate_parts(workload, candidate, as_of, book), assumptions)
            if not is_neutral(assumptions):
                projected = money(span.base)
            low, high = min(money(span.low), projected), max(money(span.high), projected)
            drivers = [Driver(assumption=name, effect=money(effect)) for name, effect in span.drivers]
        savings = baseline - projected
        scenarios.append(
            Scenario(
                candidate=candidate.ref,
                candidate_name=candidate.display_name,
                baseline_cost=baseline,
                projected_cost=projected,
                savings=savings,
                savings_pct=round(float(savings / baseline * 100), 2) if baseline else None,
                context_window=candidate.model.context_window,
                low_cost=low,
                high_cost=high,
                drivers=drivers,
            )
        )
    return sorted(scenarios, key=lambda s: (-s.savings, s.candidate))
