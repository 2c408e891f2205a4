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
    base_cost,
    cost_range_of,
    is_neutral,
    parts_of_sums,
    variant_rate_ids,
)
from auditor.costing import cost_by_group, sums_by_key, total_cost
from auditor.families import ScenarioAssumptions, Source, assumptions_for, source_rows, source_sums
from auditor.ledger import COUNTED_TOKENS, TOKEN_COLUMNS
from auditor.result import AssumptionOut, Driver, Scenario, money
from auditor.workload import MODEL_REF, Pricebook
from pricing.catalog import CatalogModel
from pricing.rates import same_price_slot_of

_SUMS = ["requests", *TOKEN_COLUMNS]


def priced_shape(shape: pd.DataFrame) -> pd.DataFrame:
    """Shape rows that have tokens and a catalog model: the workload scenarios re-price."""
    counted = ["requests", *COUNTED_TOKENS]
    return shape[(shape[MODEL_REF] != "") & (shape[counted].sum(axis=1) > 0)].reset_index(drop=True)


@dataclass
class Repricing:
    """The priced workload summed to what moves a price at one date, and each candidate's rate ids on it.

    At one date, only the time of day, tier and request size move a price: everything else is summed away
    first, so re-pricing costs the same whatever the number of rows, keys or projects. The rate ids of each
    candidate's price variants (see `auditor.assumptions`) are looked up once and shared by all scenarios.

    `priced` holds the rows the stages that segment read (by project, and by API key where the run has the shape by
    key: its half hours are then the first of the same prices, `pricing.rates.same_price_slots`); `by_model` and
    `workload` are by half hour.
    """

    priced: pd.DataFrame
    by_model: pd.DataFrame
    workload: pd.DataFrame
    as_of: date
    variants: dict[str, dict[str, tuple[pd.DataFrame, np.ndarray]]] = field(default_factory=dict)
    _by_model_rows: tuple[np.ndarray, np.ndarray, pd.Index] | None = None
    _sources: dict[str, Source] | None = None

    @classmethod
    def of(cls, shape: pd.DataFrame, as_of: date, key_shape: pd.DataFrame | None = None) -> Repricing:
        """From the shape table, and the shape by API key where the run has it."""
        priced = priced_shape(shape)
        sums = ["requests", *TOKEN_COLUMNS]
        by_model = priced.groupby([MODEL_REF, *PRICE_KEYS], sort=True)[sums].sum().reset_index()
        workload = by_model.groupby(PRICE_KEYS, sort=True)[sums].sum().reset_index()
        segmented = priced_shape(key_shape) if key_shape is not None else priced
        return cls(segmented, by_model, workload, as_of)

    def by_model_rows(self) -> tuple[np.ndarray, np.ndarray, pd.Index]:
        """For the rows of `by_model`: their row in `workload` (the rate ids are of), and their source model (code,
        and the models in code order)."""
        if self._by_model_rows is None:
            codes, refs = pd.factorize(self.by_model[MODEL_REF], sort=True)
            self._by_model_rows = (self.workload_rows(self.by_model), codes, refs)
        return self._by_model_rows

    def workload_rows(self, frame: pd.DataFrame) -> np.ndarray:
        """For each row of `frame` (priced rows summed on some keys and PRICE_KEYS), its row in `workload`; for a row
        of the shape by API key whose half hour (the first of the same prices) the workload lacks, the first row of
        the same prices, tier and size: the same rates on any model, any day."""
        keys = self.workload[PRICE_KEYS].reset_index()
        rows = frame[PRICE_KEYS].merge(keys, on=PRICE_KEYS, how="left")["index"]
        if not rows.isna().any():
            return rows.to_numpy()
        first = keys.assign(time_slot=same_price_slot_of(keys["time_slot"].to_numpy(dtype=np.int64)))
        first = first.drop_duplicates(PRICE_KEYS)  # the first row of the same prices, tier and size
        missing = frame[PRICE_KEYS][rows.isna().to_numpy()]
        found = missing.assign(time_slot=same_price_slot_of(missing["time_slot"].to_numpy(dtype=np.int64)))
        rows[rows.isna()] = found.merge(first, on=PRICE_KEYS, how="left")["index"].to_numpy()
        return rows.to_numpy(dtype=np.int64)

    def sources(self) -> dict[str, Source]:
        """Each source model's weights (`source_sums` of the whole priced workload) as a plain row, by ref."""
        if self._sources is None:
            self._sources = {row[0]: row for row in source_rows(source_sums(self.by_model, MODEL_REF))}
        return self._sources

    def source_assumptions(
        self, assumptions: Sequence[Assumption], ref: str, candidate_ref: str
    ) -> ScenarioAssumptions:
        """`assumptions_for` of one source model on a candidate (the scenarios and the hybrid both ask)."""
        return assumptions_for(tuple(assumptions), (self.sources()[ref],), candidate_ref)

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
    sources = tuple(repricing.sources().values()) if assumptions is not None else ()
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
            mine = assumptions_for(tuple(assumptions), sources, candidate.ref)
            span = cost_range_of(per_source_model(repricing, candidate, pricebook, assumptions))
            used = assumption_outs(mine.assumptions)
            projected = _projected(mine, projected, span.base)
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


def _projected(mine: ScenarioAssumptions, as_served: Decimal, base: Decimal) -> Decimal:
    """A scenario's projected cost: the observed tokens at list price when every assumption is unchanged, else the
    base of its range."""
    return as_served if is_neutral(mine.assumptions) else money(base)


def _source_groups(
    per_variant: dict[str, dict[int, tuple[Decimal, ...]]], mine: Sequence[tuple[int, ScenarioAssumptions]]
) -> list[tuple[CostParts, Sequence[Assumption]]]:
    """The cost parts of source groups (each by its code in `per_variant`), each with its own assumptions."""
    zero = (Decimal(0),) * len(PARTS)
    return [
        (
            CostParts(
                {name: per_variant[name].get(code, zero) for name in VARIANTS},
                answer_native=m.answer_native,
                reasoning_native=m.reasoning_native,
            ),
            m.assumptions,
        )
        for code, m in mine
    ]


def per_source_model(
    repricing: Repricing, candidate: CatalogModel, pricebook: Pricebook, assumptions: Sequence[Assumption]
) -> list[tuple[CostParts, Sequence[Assumption]]]:
    """The candidate's exact cost parts per source model of the workload, each with its own assumption values:
    the per-model-family defaults hold per source model, so the cost is exact whatever the mix of sources (one
    average over them would weigh each model's ratio by its tokens, not by what they cost on the candidate)."""
    index, codes, refs = repricing.by_model_rows()
    tokens = repricing.by_model[_SUMS].to_numpy()
    rates = pricebook.rates.rates
    variants = repricing.on(candidate, pricebook)
    per_variant = {name: parts_of_sums(tokens, ids[index], codes, rates) for name, (_, ids) in variants.items()}
    mine = [(code, repricing.source_assumptions(assumptions, str(ref), candidate.ref)) for code, ref in enumerate(refs)]
    return _source_groups(per_variant, mine)


def projected_by(
    repricing: Repricing,
    pricebook: Pricebook,
    candidates: Sequence[CatalogModel],
    assumptions: Sequence[Assumption],
    column: str,
) -> tuple[dict[str, list[tuple[CatalogModel, Decimal]]], dict[str, int]]:
    """For each value of `column` (a vendor), each candidate's projected cost of those priced rows alone, as
    `build_scenarios` on those rows gives it (each source model at its own assumption values there), from the rate
    ids the whole workload's scenarios looked up; and the counted tokens (input side and output) of those rows."""
    priced = repricing.priced
    if priced.empty:
        return {}, {}
    table = priced.groupby([column, MODEL_REF, *PRICE_KEYS], sort=True)[_SUMS].sum().reset_index()
    index = repricing.workload_rows(table)
    tokens = table[_SUMS].to_numpy()
    # Source groups: (value, source model) in sorted order, so each value's groups are its models in sorted order.
    pairs = list(zip(table[column].astype(str).tolist(), table[MODEL_REF].astype(str).tolist(), strict=True))
    code_of = {pair: code for code, pair in enumerate(dict.fromkeys(pairs))}
    codes = np.array([code_of[p] for p in pairs], dtype=np.int64)
    first, sums = sums_by_key([codes], tokens)
    weights = {pairs[row]: row_sums for row, row_sums in zip(first.tolist(), sums.tolist(), strict=True)}
    of_value: dict[str, list[tuple[int, Source]]] = {}
    for (value, ref), code in code_of.items():
        _, inp, read, write, write_1h, output, reasoning = weights[(value, ref)]
        source = (ref, inp + read + write + write_1h, output - reasoning, reasoning)
        of_value.setdefault(value, []).append((code, source))
    counted = {v: sum(s[1] + s[2] + s[3] for _, s in groups) for v, groups in of_value.items()}
    rates = pricebook.rates.rates
    given = tuple(assumptions)
    out: dict[str, list[tuple[CatalogModel, Decimal]]] = {v: [] for v in of_value}
    for candidate in candidates:
        variants = repricing.on(candidate, pricebook)
        mine = {v: assumptions_for(given, tuple(s for _, s in groups), candidate.ref) for v, groups in of_value.items()}
        as_served: dict[tuple[object, ...], Decimal] = {}
        if any(is_neutral(m.assumptions) for m in mine.values()):
            as_served = cost_by_group(table, variants["as_served"][1][index], rates, [column])
        per_variant = {name: parts_of_sums(tokens, ids[index], codes, rates) for name, (_, ids) in variants.items()}
        for value, groups in of_value.items():
            own = [(code, assumptions_for(given, (source,), candidate.ref)) for code, source in groups]
            base = base_cost(_source_groups(per_variant, own))
            out[value].append((candidate, _projected(mine[value], money(as_served.get((value,), Decimal(0))), base)))
    return out, counted


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
