"""The workload re-priced on each candidate at the as-of date, beside the same workload on its own models."""

from __future__ import annotations

from datetime import date

import pandas as pd

from auditor.costing import total_cost
from auditor.ledger import TOKEN_COLUMNS
from auditor.result import Scenario, money
from auditor.workload import MODEL_REF, Pricebook
from pricing.catalog import CatalogModel


def priced_shape(shape: pd.DataFrame) -> pd.DataFrame:
    """Shape rows that have tokens and a catalog model: the workload scenarios re-price."""
    # Reasoning tokens are inside output tokens: they never make a row priced on their own.
    counted = ["requests", *(c for c in TOKEN_COLUMNS if c != "reasoning_tokens")]
    return shape[(shape[MODEL_REF] != "") & (shape[counted].sum(axis=1) > 0)].reset_index(drop=True)


def build_scenarios(
    shape: pd.DataFrame, pricebook: Pricebook, candidates: list[CatalogModel], as_of: date
) -> list[Scenario]:
    """Each candidate's cost for the whole priced workload at as-of prices, ranked by savings."""
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
            )
        )
    return sorted(scenarios, key=lambda s: (-s.savings, s.candidate))
