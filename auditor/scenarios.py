"""The workload re-priced on each candidate at the as-of date, beside the same workload on its own models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from auditor.assumptions import (
    PARTS,
    PRICE_KEYS,
    VARIANTS,
    Assumption,
    CostParts,
    cost_range_of,
    is_neutral,
    parts_by_group,
    variant_rate_ids,
)
from auditor.costing import total_cost
from auditor.families import ScenarioAssumptions, scenario_assumptions, source_sums
from auditor.ledger import TOKEN_COLUMNS
from auditor.result import AssumptionOut, Driver, Scenario, money
from auditor.workload import MODEL_REF, Pricebook
from pricing.catalog import CatalogModel


def priced_shape(shape: pd.DataFrame) -> pd.DataFrame:
    """Shape rows that have tokens and a catalog model: the workload scenarios re-price."""
    # Reasoning tokens are inside output tokens: they never make a row priced on their own.
    counted = ["requests", *(c for c in TOKEN_COLUMNS if c != "reasoning_tokens")]
    return shape[(shape[MODEL_REF] != "") & (shape[counted].sum(axis=1) > 0)].reset_index(drop=True)


@dataclass
class Repricing:
    """The priced workload summed to what moves a price at one date, and each candidate's rate ids on it.

    At one date, only the time of day, tier and request size move a price: everything else is summed away
    first, so re-pricing costs the same whatever the number of rows, keys or projects. The rate ids of each
    candidate's price variants (see `auditor.assumptions`) are looked up once and shared by all scenarios.
    """

    priced: pd.DataFrame
    by_model: pd.DataFrame
    workload: pd.DataFrame
    as_of: date
    variants: dict[str, dict[str, tuple[pd.DataFrame, np.ndarray]]] = field(default_factory=dict)
    _by_model_rows: tuple[np.ndarray, np.ndarray, pd.Index] | None = None
    _one_source: dict[str, pd.DataFrame] | None = None
    _of_source: dict[tuple[int, str, str], ScenarioAssumptions] = field(default_factory=dict)

    @classmethod
    def of(cls, shape: pd.DataFrame, as_of: date) -> Repricing:
        priced = priced_shape(shape)
        sums = ["requests", *TOKEN_COLUMNS]
        by_model = priced.groupby([MODEL_REF, *PRICE_KEYS], sort=True)[sums].sum().reset_index()
        workload = by_model.groupby(PRICE_KEYS, sort=True)[sums].sum().reset_index()
        return cls(priced, by_model, workload, as_of)

    def by_model_rows(self) -> tuple[np.ndarray, np.ndarray, pd.Index]:
        """For the rows of `by_model`: their row in `workload` (the rate ids are of), and their source model (code,
        and the models in code order)."""
        if self._by_model_rows is None:
            keys = self.workload[PRICE_KEYS].reset_index()
            index = self.by_model[PRICE_KEYS].merge(keys, on=PRICE_KEYS, how="left")["index"].to_numpy()
            codes, refs = pd.factorize(self.by_model[MODEL_REF], sort=True)
            self._by_model_rows = (index, codes, refs)
        return self._by_model_rows

    def one_source(self, sources: pd.DataFrame) -> dict[str, pd.DataFrame]:
        """Each source model's own row of `sources` (its weights), as the one-model frame the families read."""
        if self._one_source is None:
            self._one_source = {str(ref): sources.loc[[ref]] for ref in sources.index}
        return self._one_source

    def source_assumptions(
        self, assumptions: Sequence[Assumption], sources: pd.DataFrame, ref: str, candidate_ref: str
    ) -> ScenarioAssumptions:
        """`scenario_assumptions` of one source model on a candidate (the scenarios and the hybrid both ask)."""
        key = (id(assumptions), ref, candidate_ref)
        found = self._of_source.get(key)
        if found is None:
            found = scenario_assumptions(assumptions, self.one_source(sources)[ref], candidate_ref)
            self._of_source[key] = found
        return found

    def on(self, candidate: CatalogModel, pricebook: Pricebook) -> dict[str, tuple[pd.DataFrame, np.ndarray]]:
        """The candidate's price variants of the workload with their rate ids."""
        if candidate.ref not in self.variants:
            self.variants[candidate.ref] = variant_rate_ids(self.workload, candidate, self.as_of, pricebook.rates)
        return self.variants[candidate.ref]


def build_scenarios(
    shape: pd.DataFrame,
    pricebook: Pricebook,
    candidates: list[CatalogModel],
    as_of: date,
    assumptions: Sequence[Assumption] | None = None,
    repricing: Repricing | None = None,
) -> list[Scenario]:
    """Each candidate's cost for the whole priced workload at as-of prices, ranked by savings.

    With `assumptions`, each also gets its low..high range and drivers; the projected cost is the base of the
    range, and with every assumption unchanged it is the observed tokens priced exactly as without them.
    """
    repricing = repricing if repricing is not None else Repricing.of(shape, as_of)
    if repricing.priced.empty:
        return []
    by_model, workload = repricing.by_model, repricing.workload
    book = pricebook.rates
    baseline = money(total_cost(by_model, book.rate_ids(by_model, pricebook.models, on_day=as_of), book.rates))
    scenarios = []
    sources = source_sums(by_model, MODEL_REF) if assumptions is not None else None
    for candidate in candidates:
        if assumptions is None:
            ids = book.rate_ids(workload, {}, fixed=candidate, on_day=as_of)
        else:  # the same ids: the rate book gives one id per key
            ids = repricing.on(candidate, pricebook)["as_served"][1]
        projected = money(total_cost(workload, ids, book.rates))
        low = high = None
        drivers: list[Driver] = []
        used: list[AssumptionOut] = []
        if assumptions is not None:
            assert sources is not None
            mine = scenario_assumptions(assumptions, sources, candidate.ref)
            span = cost_range_of(per_source_model(repricing, candidate, pricebook, assumptions, sources))
            used = assumption_outs(mine.assumptions)
            if not is_neutral(mine.assumptions):
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
                assumption_values=used,
            )
        )
    return sorted(scenarios, key=lambda s: (-s.savings, s.candidate))


def per_source_model(
    repricing: Repricing,
    candidate: CatalogModel,
    pricebook: Pricebook,
    assumptions: Sequence[Assumption],
    sources: pd.DataFrame,
) -> list[tuple[CostParts, Sequence[Assumption]]]:
    """The candidate's exact cost parts per source model of the workload, each with its own assumption values:
    the per-model-family defaults hold per source model, so the cost is exact whatever the mix of sources (one
    average over them would weigh each model's ratio by its tokens, not by what they cost on the candidate)."""
    by_model = repricing.by_model
    index, codes, refs = repricing.by_model_rows()
    variants = repricing.on(candidate, pricebook)
    per_variant = {
        name: parts_by_group(by_model, ids[index], codes, pricebook.rates.rates) for name, (_, ids) in variants.items()
    }
    zero = (Decimal(0),) * len(PARTS)
    groups: list[tuple[CostParts, Sequence[Assumption]]] = []
    for code, ref in enumerate(refs):
        mine = repricing.source_assumptions(assumptions, sources, str(ref), candidate.ref)
        parts = CostParts(
            {name: per_variant[name].get(code, zero) for name in VARIANTS},
            answer_native=mine.answer_native,
            reasoning_native=mine.reasoning_native,
        )
        groups.append((parts, mine.assumptions))
    return groups


def assumption_outs(assumptions: Sequence[Assumption]) -> list[AssumptionOut]:
    """Assumptions as the JSON lists them: value, range, description and source."""
    return [
        AssumptionOut(
            name=a.name,
            value=float(a.value),
            low=float(a.low),
            high=float(a.high),
            description=a.description,
            source=a.source,
        )
        for a in assumptions
    ]
