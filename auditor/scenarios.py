"""The workload re-priced: list cost when used (baseline) and on each candidate at the as-of date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pandas as pd

from auditor.costing import cost_by_group
from auditor.result import Scenario
from pricing.catalog import CatalogModel, lookup_candidate

MODEL_REF = "model_ref"


@dataclass(frozen=True)
class PricedWorkload:
    """Segments that have tokens and a catalog model (`model_ref` column), and the models by ref."""

    segments: pd.DataFrame
    models: dict[str, CatalogModel]


def list_cost_when_used(workload: PricedWorkload, group_by: list[str]) -> dict[tuple[object, ...], Decimal]:
    """List cost at the prices in force on each segment's day and time of day, per group."""
    return cost_by_group(workload.segments, group_by, model_of_ref=workload.models, model_column=MODEL_REF)


def build_scenarios(workload: PricedWorkload, candidate_refs: list[str], as_of: date) -> list[Scenario]:
    """Each candidate's cost for the whole priced workload at as-of prices, ranked by savings."""
    candidates = [lookup_candidate(ref) for ref in candidate_refs]
    if workload.segments.empty:
        return []
    baseline = sum(
        cost_by_group(workload.segments, [], model_of_ref=workload.models, model_column=MODEL_REF,
                      on_day=as_of).values(),
        Decimal(0),
    )
    scenarios = []
    for candidate in candidates:
        projected = sum(cost_by_group(workload.segments, [], fixed_model=candidate, on_day=as_of).values(),
                        Decimal(0))
        savings = baseline - projected
        scenarios.append(Scenario(
            candidate=candidate.ref,
            candidate_name=candidate.display_name,
            baseline_cost=baseline,
            projected_cost=projected,
            savings=savings,
            savings_pct=round(float(savings / baseline * 100), 2) if baseline else None,
            context_window=candidate.model.context_window,
        ))
    return sorted(scenarios, key=lambda s: (-s.savings, s.candidate))
