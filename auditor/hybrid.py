"""The hybrid scenario: each segment of the workload routed to its cheapest candidate that passes the constraints.

Segments are projects when the priced workload names at least two (rows without one form the segment ''), else API
keys when it names at least two, else the catalog models in use (always known for priced usage). The constraint for
now is context-window fit: a candidate passes a segment when its context window is larger than the floor of the
segment's largest request-size bucket (every request of a bucket is larger than its floor); a candidate whose
window the catalog does not state passes. A segment for which no passing candidate is cheaper than its current
models stays on them. Choices are made on the base assumptions; the reported costs are exact, and the range and
drivers come from the same assumption model as the all-in-one scenarios.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Literal

import numpy as np
import pandas as pd

from auditor.assumptions import (
    PARTS,
    PRICE_KEYS,
    VARIANTS,
    Assumption,
    CostParts,
    cost_at,
    cost_range_of,
    float_cost,
    float_parts_by_row,
    parts_by_group,
    variant_weights,
)
from auditor.costing import cost_by_group
from auditor.families import ScenarioAssumptions
from auditor.ledger import TOKEN_COLUMNS
from auditor.result import Driver, Scenario, SegmentChoice, money
from auditor.scenarios import Repricing
from auditor.workload import MODEL_REF, Pricebook
from pricing.catalog import CatalogModel
from pricing.ratebook import same_rate_slots

HYBRID = "hybrid"
SEGMENT = "_segment"
_SUMS = ["requests", *TOKEN_COLUMNS]
Segmentation = Literal["project", "api_key", "model"]


def segment_names(priced: pd.DataFrame, by: str | None) -> pd.Series:
    """Each row's segment under a segmentation (`segmentation`; None: by model), as text."""
    return priced[MODEL_REF if by in (None, "model") else str(by)].astype(str)


def segmentation(priced: pd.DataFrame) -> Segmentation:
    """Projects if the data names at least two, else keys if at least two, else models."""
    for column in ("project", "api_key"):
        if priced[column].nunique() >= 2:
            return column
    return "model"


def _fits(candidate: CatalogModel, largest_floor: int) -> bool:
    window = candidate.model.context_window
    return window is None or window > largest_floor


def _slots_merged(
    own: pd.DataFrame, workload_rows: np.ndarray, models: list[CatalogModel], as_of: date
) -> tuple[pd.DataFrame, np.ndarray]:
    """`own` (segment × model × PRICE_KEYS) with the half hours whose prices are the same for every model involved
    (the segments' own and the candidates, at the as-of week: `ratebook.same_rate_slots`) summed as one, each row with
    the workload row of one of its half hours (`workload_rows`: each row's, before): their rate ids, on any model, are
    the same. Over 1,000 API keys the rows by key and half hour were 400,000; a model priced by the time of day keeps
    the half hours its windows tell apart. A daily bucket (-1) keeps its own."""
    tiers = {*own["service_tier"].astype(str).unique(), "batch"}  # the batch variant moves standard traffic there
    classes = np.asarray(same_rate_slots(models, as_of, tiers), dtype=np.int64)
    slots = own["time_slot"].to_numpy(dtype=np.int64)
    merged = np.where(slots >= 0, classes[np.clip(slots, 0, len(classes) - 1)], slots)
    if (merged == slots).all():
        return own, workload_rows
    frame = own.assign(time_slot=merged, _row=workload_rows)
    summed = frame.groupby([SEGMENT, MODEL_REF, *PRICE_KEYS], sort=True).agg(
        **{c: (c, "sum") for c in _SUMS}, _row=("_row", "first")
    )
    summed = summed.reset_index()
    return summed[list(own.columns)], summed["_row"].to_numpy()


def build_hybrid(
    shape: pd.DataFrame,
    pricebook: Pricebook,
    candidates: list[CatalogModel],
    as_of: date,
    assumptions: Sequence[Assumption],
    repricing: Repricing | None = None,
    allowed: Callable[[str, CatalogModel], bool] | None = None,
) -> Scenario | None:
    """The route-by-segment scenario, or None when nothing is priced, there are no candidates, or the data profile
    blocks every candidate for every segment.

    `allowed(segment, candidate)`, when given, also decides whether a candidate passes a segment (the segment's data
    profile does not block it: `auditor.risk.route_filter`)."""
    repricing = repricing if repricing is not None else Repricing.of(shape, as_of)
    priced = repricing.priced
    if priced.empty or not candidates:
        return None
    by = segmentation(priced)
    priced = priced.assign(**{SEGMENT: segment_names(priced, by)})
    book = pricebook.rates
    # Baseline per segment: its rows on their own models at as-of prices.
    own = priced.groupby([SEGMENT, MODEL_REF, *PRICE_KEYS], sort=True)[_SUMS].sum().reset_index()
    models = [pricebook.models[str(ref)] for ref in own[MODEL_REF].unique()]
    own, own_index = _slots_merged(own, repricing.workload_rows(own), [*models, *candidates], as_of)
    own_cost = cost_by_group(own, book.rate_ids(own, pricebook.models, on_day=as_of), book.rates, [SEGMENT])
    segments = sorted({str(k[0]) for k in own_cost})
    seg_names = pd.Index(segments)
    largest = {
        str(k): int(v)
        for k, v in own[own[SEGMENT].isin(segments)].groupby(SEGMENT)["request_size_floor_tokens"].max().items()
    }
    values = {a.name: float(a.value) for a in assumptions}
    weights = variant_weights(values)
    # Each source model keeps its own assumption values on a candidate (as in the all-in-one scenarios): a
    # segment routed to a candidate costs there what its rows cost in that candidate's scenario.
    in_segments = own[SEGMENT].isin(segments).to_numpy()
    exact = own[in_segments].reset_index(drop=True)
    exact_index = own_index[in_segments]
    exact_seg = pd.Categorical(exact[SEGMENT], categories=seg_names).codes.astype(np.int64)
    exact_refs = exact[MODEL_REF].astype(str).to_numpy()
    per_model: dict[tuple[int, str], ScenarioAssumptions] = {
        (c, ref): repricing.source_assumptions(assumptions, ref, candidate.ref)
        for c, candidate in enumerate(candidates)
        for ref in sorted(set(exact_refs))
    }

    # Approximate cost of every segment on every candidate at the base assumptions, to choose.
    approx = np.zeros((len(candidates), len(seg_names)))
    ref_names, ref_codes = np.unique(exact_refs, return_inverse=True)
    for c, candidate in enumerate(candidates):
        per_ref = [per_model[(c, str(ref))] for ref in ref_names]
        by_ref = [{a.name: float(a.value) for a in m.assumptions} for m in per_ref]
        row_values = {n: np.array([v[n] for v in by_ref])[ref_codes] for n in values}
        native = (
            np.array([float(m.answer_native) for m in per_ref])[ref_codes],
            np.array([float(m.reasoning_native) for m in per_ref])[ref_codes],
        )
        for variant, (_frame, ids) in repricing.on(candidate, pricebook).items():
            if not weights[variant]:
                continue
            row_cost = float_cost(float_parts_by_row(exact, ids[exact_index], book.rates), row_values, native)
            np.add.at(approx[c], exact_seg, weights[variant] * row_cost)
    choices: dict[str, int | None] = {}
    passing_count: dict[str, int] = {}
    any_allowed = allowed is None
    for s, name in enumerate(seg_names):
        permitted = [c for c, cand in enumerate(candidates) if allowed is None or allowed(str(name), cand)]
        any_allowed = any_allowed or bool(permitted)
        passing = [c for c in permitted if _fits(candidates[c], largest[name])]
        passing_count[str(name)] = len(passing)
        best = min(passing, key=lambda c: (approx[c, s], candidates[c].ref), default=None)
        current = float(own_cost[(name,)])
        choices[str(name)] = best if best is not None and approx[best, s] < current else None
    if not any_allowed:
        return None  # the data profile blocks every candidate for every segment: there is nowhere to route

    # Exact parts: each candidate's chosen segments, per (segment, source model) and rate id, each source model
    # at its own assumption values (as in the all-in-one scenarios); kept segments are a fixed amount.
    fixed = sum((own_cost[(n,)] for n, c in choices.items() if c is None), Decimal(0))
    seg_choice_by_segment = np.array([-1 if choices[str(n)] is None else choices[str(n)] for n in seg_names])
    pair_codes, pairs = pd.factorize(pd.Series(list(zip(exact_seg, exact_refs, strict=True))))
    exact_choice = seg_choice_by_segment[exact_seg]
    by_pair: dict[int, dict[str, tuple[Decimal, ...]]] = {}
    for c, candidate in enumerate(candidates):
        mine = exact_choice == c
        if not mine.any():
            continue
        for variant in VARIANTS:
            ids = repricing.on(candidate, pricebook)[variant][1][exact_index[mine]]
            for p, part in parts_by_group(exact[mine], ids, pair_codes[mine], book.rates).items():
                by_pair.setdefault(p, {})[variant] = part
    # The range is of the pairs summed per (candidate, source model): those share their assumptions, and the cost is
    # linear in the parts, so the sum is the same; over 1,000 segments it is a few hundred groups, not thousands.
    by_model: dict[tuple[int, str], dict[str, tuple[Decimal, ...]]] = {}
    segment_cost: dict[str, Decimal] = {}
    for p, chosen in by_pair.items():
        s, ref = pairs[p]
        c = int(seg_choice_by_segment[s])
        m = per_model[(c, ref)]
        group = CostParts(chosen, answer_native=m.answer_native, reasoning_native=m.reasoning_native)
        name = str(seg_names[s])
        segment_cost[name] = segment_cost.get(name, Decimal(0)) + cost_at(
            group, {a.name: a.value for a in m.assumptions}
        )
        summed = by_model.setdefault((c, ref), {})
        for variant, part in chosen.items():
            before = summed.get(variant)
            summed[variant] = part if before is None else tuple(x + y for x, y in zip(before, part, strict=True))
    groups: list[tuple[CostParts, Sequence[Assumption]]] = []
    for (c, ref), summed in by_model.items():
        m = per_model[(c, ref)]
        parts = CostParts(summed, answer_native=m.answer_native, reasoning_native=m.reasoning_native)
        groups.append((parts, m.assumptions))
    zero = (Decimal(0),) * len(PARTS)
    groups.append((CostParts(dict.fromkeys(VARIANTS, zero), fixed), assumptions))
    span = cost_range_of(groups)
    baseline = money(sum(own_cost.values(), Decimal(0)))
    projected = money(span.base)
    savings = baseline - projected
    chosen_segments = []
    for name in seg_names:
        choice = choices[str(name)]
        cand = None if choice is None else candidates[choice]
        chosen_segments.append(
            SegmentChoice(
                segment=str(name),
                candidate=None if cand is None else cand.ref,
                candidate_name=None if cand is None else cand.display_name,
                baseline_cost=money(own_cost[(name,)]),
                projected_cost=money(own_cost[(name,)] if cand is None else segment_cost[str(name)]),
                largest_request_tokens=largest[name],
                passing_candidates=passing_count[str(name)],
            )
        )
    routed = len({x.candidate for x in chosen_segments if x.candidate})
    return Scenario(
        candidate=HYBRID,
        candidate_name=f"{route_name(by)} ({_count(len(seg_names), 'segment')}, {_count(routed, 'candidate')})",
        baseline_cost=baseline,
        projected_cost=projected,
        savings=savings,
        savings_pct=round(float(savings / baseline * 100), 2) if baseline else None,
        context_window=None,
        low_cost=min(money(span.low), projected),
        high_cost=max(money(span.high), projected),
        drivers=[Driver(assumption=n, effect=money(e)) for n, e in span.drivers],
        kind="hybrid",
        segmented_by=by,
        segments=chosen_segments,
    )


def route_name(by: str) -> str:
    """What a hybrid routes by, as its name begins: `Route by project`."""
    return f"Route by {by.replace('_', ' ')}"


def short_name(scenario: Scenario) -> str:
    """A scenario's name where space is short (a chart's label, a table's column): a hybrid's says what it routes by;
    its segments and candidates, which its full name counts, are in the tables beside."""
    if scenario.kind == "hybrid" and scenario.segmented_by:
        return route_name(scenario.segmented_by)
    return scenario.candidate_name


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def hybrid_note(scenario: Scenario) -> str:
    kept = sum(1 for s in scenario.segments if s.candidate is None)
    return (
        f"The hybrid scenario routes each {scenario.segmented_by} (segments: projects when the data names at least "
        "two, else API keys, else models) to the cheapest candidate that the segment's data profile does not block and "
        "whose context window is larger than the segment's largest request-size bucket"
        + (f"; {kept} segment(s) stay on their current models, no passing candidate being cheaper." if kept else ".")
    )
