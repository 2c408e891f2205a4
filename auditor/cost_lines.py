"""The cost model of the scenarios as data: the rates used, and the priced workload per source model and rate.

A single scenario's projected cost is, per source model g, `assumptions.cost_at` of its cost parts, and each part is
a sum over rate ids of tokens × a rate. So the tokens per (scenario, source model, rate id, price variant), the
rates, and each source model's per-model assumption defaults are all a spreadsheet needs to recompute the cost
with formulas, exactly, when an assumption or a rate changes (`auditor/report/xlsx.py`). The baseline is the
same workload at each source model's own rates. What stays fixed is which rate a token is priced at (the tier,
the half hour, the request-size tier, the cheapest half hour of the off-peak variant): those are decided here.

Lines of one source model and rate that carry the same tokens in several price variants are one line listing
the variants (a candidate without time-of-day prices has the same lines as served and off-peak).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from auditor.assumptions import VARIANTS, Assumption, default_assumptions
from auditor.costing import sums_by_key
from auditor.ledger import TOKEN_COLUMNS
from auditor.result import CostLine, CostModel, PriceRow, SourceAssumptions
from auditor.scenarios import Repricing
from auditor.workload import MODEL_REF, Pricebook
from pricing.catalog import CatalogModel
from pricing.overlays import overlay_by_id
from pricing.ratebook import NO_RATE, has_size_tiers
from pricing.rates import SLOT_MINUTES, SLOTS_PER_DAY, applied_overlays, has_time_windows

BASELINE = "baseline"
_TOKENS = ["requests", *TOKEN_COLUMNS]
_MILLION = Decimal(1_000_000)
_FAMILY_DRIVEN = ("token_ratio", "output_verbosity", "reasoning_verbosity")

# (model ref, rate id) -> the (slot, tier, floor) keys priced at it
_Keys = dict[tuple[str, int], set[tuple[int, str, int]]]


def build_cost_model(
    repricing: Repricing,
    pricebook: Pricebook,
    candidates: Sequence[CatalogModel],
    catalog: str,
) -> CostModel | None:
    """The rates, lines and per-model defaults of the baseline and of each candidate's single scenario."""
    by_model = repricing.by_model
    if repricing.priced.empty or by_model.empty:
        return None
    as_of = repricing.as_of
    book = pricebook.rates
    keys: _Keys = {}
    lines: list[_RawLine] = []
    refs = by_model[MODEL_REF].astype(str).to_numpy()
    codes, names = pd.factorize(refs)
    workload = _Workload(codes, [str(n) for n in names], by_model[_TOKENS].to_numpy(dtype=np.int64))
    own_ids = book.rate_ids(by_model, pricebook.models, on_day=as_of)
    lines += _lines(BASELINE, workload, {"as_served": (own_ids, *_price_keys(by_model))}, keys)
    index, _, _ = repricing.by_model_rows()
    defaults = default_assumptions()
    per_model: list[SourceAssumptions] = []
    for candidate in candidates:
        variants = repricing.on(candidate, pricebook)
        ids = {name: (variants[name][1][index], *_price_keys(variants[name][0], index)) for name in VARIANTS}
        lines += _lines(candidate.ref, workload, ids, keys, candidate.ref)
        per_model += _source_assumptions(candidate.ref, repricing, defaults)
    models = {**pricebook.models, **{c.ref: c for c in candidates}}
    current = set(workload.names)
    prices, ids_of = _price_rows(keys, models, pricebook, as_of, catalog, current, {c.ref for c in candidates})
    # Within a scenario, by source model and price row: the internal rate ids follow the order rows were first
    # priced in, which earlier work in the same process (the wizard's detection) can change.
    position = {scenario: n for n, scenario in enumerate(dict.fromkeys(raw.scenario for raw in lines))}
    price_of = {id(raw): ids_of[(raw.price_model, raw.rate)] for raw in lines}
    lines.sort(key=lambda raw: (position[raw.scenario], raw.source_model, price_of[id(raw)], raw.tokens))
    out = [raw.line(price_of[id(raw)]) for raw in lines]
    return CostModel(prices=prices, lines=out, source_assumptions=per_model)


@dataclass(frozen=True)
class _Workload:
    """The rows of `by_model`: their source model (a code into `names`) and their `_TOKENS` as integers."""

    codes: np.ndarray
    names: list[str]
    tokens: np.ndarray


# Per price variant, for the rows of `by_model`: the rate id, time slot, service tier and request size floor.
_Priced = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
_KEY_COLUMNS = ("time_slot", "service_tier", "request_size_floor_tokens")


def _price_keys(frame: pd.DataFrame, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The columns of `frame` that decide a rate (at `rows`, if given)."""
    slots, tiers, floors = (frame[c].to_numpy() if rows is None else frame[c].to_numpy()[rows] for c in _KEY_COLUMNS)
    return slots, tiers, floors


def _lines(
    scenario: str, workload: _Workload, ids: dict[str, _Priced], keys: _Keys, price_ref: str | None = None
) -> list[_RawLine]:
    """Tokens per (source model, rate id), each set of variants with equal tokens merged into one line. The tokens
    are priced at `price_ref`, or at each source model's own rates when it is None (the baseline)."""
    found: dict[tuple[str, int, tuple[int, ...]], list[str]] = {}
    names = workload.names
    for name, (rate_ids, slots, tiers, floors) in ids.items():
        priced = rate_ids != NO_RATE
        if not priced.any():
            continue
        codes, rates = workload.codes[priced], rate_ids[priced]
        first, sums = sums_by_key([codes, rates], workload.tokens[priced])  # per (source model, rate id)
        for code, rate, row in zip(codes[first].tolist(), rates[first].tolist(), sums.tolist(), strict=True):
            found.setdefault((names[code], rate, tuple(row)), []).append(name)
        prefs = [names[c] for c in codes.tolist()] if price_ref is None else [price_ref] * len(codes)
        for pref, rate, slot, tier, floor in set(
            zip(
                prefs,
                rates.tolist(),
                slots[priced].tolist(),
                tiers[priced].tolist(),
                floors[priced].tolist(),
                strict=True,
            )
        ):
            keys.setdefault((pref, rate), set()).add((int(slot), str(tier), int(floor)))
    return [
        _RawLine(scenario, ref, ref if price_ref is None else price_ref, rate, variants, tokens)
        for (ref, rate, tokens), variants in sorted(found.items())
    ]


@dataclass(frozen=True)
class _RawLine:
    """A cost line before its price row has an id: the model it is priced at and the rate id."""

    scenario: str
    source_model: str
    price_model: str
    rate: int
    variants: list[str]
    tokens: tuple[int, ...]

    def line(self, price: str) -> CostLine:
        requests, inp, read, write, write_1h, output, reasoning = self.tokens
        # Every field is already of the type the model declares (str, a list of variant names, int): no validation.
        return CostLine.model_construct(
            scenario=self.scenario,
            source_model=self.source_model,
            price=price,
            variants=self.variants,
            requests=requests,
            input_tokens=inp,
            cache_read_tokens=read,
            cache_write_tokens=write,
            cache_write_1h_tokens=write_1h,
            answer_tokens=output - reasoning,
            reasoning_tokens=reasoning,
        )


def _source_assumptions(
    candidate: str, repricing: Repricing, defaults: Sequence[Assumption]
) -> list[SourceAssumptions]:
    """Per source model, the values the families give on this candidate with no assumption set by a flag (the
    workbook uses them when its input cell is empty, as the engine does when no --assume sets them)."""
    out = []
    for ref in repricing.sources():
        mine = repricing.source_assumptions(defaults, ref, candidate)
        values = {a.name: a.value for a in mine.assumptions}
        out.append(
            SourceAssumptions(
                scenario=candidate,
                source_model=ref,
                token_ratio=values["token_ratio"],
                output_verbosity=values["output_verbosity"],
                reasoning_verbosity=values["reasoning_verbosity"],
                answer_native=mine.answer_native,
                reasoning_native=mine.reasoning_native,
            )
        )
    return out


def _price_rows(
    keys: _Keys,
    models: dict[str, CatalogModel],
    pricebook: Pricebook,
    as_of: date,
    catalog: str,
    current: set[str],
    candidates: set[str],
) -> tuple[list[PriceRow], dict[tuple[str, int], str]]:
    """One row per (model, rate id), ordered by model, the first key priced at it, then the rates (not the internal
    rate id, whose order depends on what was priced first); ids P001, P002, …"""
    book = pricebook.rates

    def rank(k: tuple[str, int]) -> tuple[object, ...]:
        rates = book.rates[k[1]]
        return (k[0], min((t, f, s) for s, t, f in keys[k]), rates.per_token, rates.per_request)

    order = sorted(keys, key=rank)
    width = max(3, len(str(len(order))))
    rows, ids_of = [], {}
    for n, (ref, rate_id) in enumerate(order, start=1):
        model = models[ref]
        rates = book.rates[rate_id]
        row_keys = keys[(ref, rate_id)]
        per_token = [_plain(r * _MILLION) for r in rates.per_token]
        price_id = f"P{n:0{width}d}"
        ids_of[(ref, rate_id)] = price_id
        rows.append(
            PriceRow(
                id=price_id,
                model=ref,
                model_name=model.display_name,
                role=_role(ref in current, ref in candidates),
                service_tiers=sorted({t for _, t, _ in row_keys}),
                time_of_day=_time_label(model, {s for s, _, _ in row_keys}),
                request_size=_size_label(model, {f for _, _, f in row_keys}),
                input=per_token[0],
                cache_read=per_token[1],
                cache_write=per_token[2],
                cache_write_1h=per_token[3],
                output=per_token[4],
                reasoning=per_token[5],
                requests=_plain(rates.per_request * 1000),
                source=_source(model, as_of, catalog, row_keys),
            )
        )
    return rows, ids_of


def _role(is_current: bool, is_candidate: bool) -> str:
    return " and ".join(r for r, yes in (("current", is_current), ("candidate", is_candidate)) if yes)


def _plain(value: Decimal) -> Decimal:
    """Without trailing zeros (the JSON writes a plain decimal, never an exponent)."""
    return value.normalize() if value else Decimal(0)


def _time_label(model: CatalogModel, slots: set[int]) -> str:
    if not has_time_windows(model):
        return "any time"
    parts = []
    if -1 in slots:
        parts.append("no time of day (mean over the day)")
    spans: list[list[int]] = []
    for slot in sorted(s for s in slots if s >= 0):
        if spans and spans[-1][1] == slot - 1:
            spans[-1][1] = slot
        else:
            spans.append([slot, slot])
    parts += [f"{_clock(a)}–{_clock(b + 1)} UTC" for a, b in spans]
    return "; ".join(parts) + "; rates: the mean over the 7 days from as-of"


def _clock(slot: int) -> str:
    minutes = slot * SLOT_MINUTES % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _size_label(model: CatalogModel, floors: set[int]) -> str:
    if not has_size_tiers(model):
        return "any size"
    return "; ".join(f"from {f:,} input tokens" if f >= 0 else "size unknown (smallest tier)" for f in sorted(floors))


def _source(model: CatalogModel, as_of: date, catalog: str, row_keys: set[tuple[int, str, int]]) -> str:
    text = f"{catalog} list price of {model.ref} on {as_of.isoformat()}"
    # Without time windows a model has one price over a UTC day (its other constraints are start dates), so its
    # overlays at any half hour of as-of (or over the whole day, slot -1) are those at slot 0, as the rate book
    # prices it; each (slot, tier) is asked once, in the order of the keys.
    timed = has_time_windows(model)
    asked = dict.fromkeys((slot if timed or slot >= SLOTS_PER_DAY else 0, tier) for slot, tier, _ in sorted(row_keys))
    found: dict[str, None] = {}
    for slot, tier in asked:
        found.update(dict.fromkeys(applied_overlays(model, as_of, slot, tier)))
    for overlay_id in found:
        overlay = overlay_by_id(overlay_id)
        text += f"; corrected by {overlay_id}: {overlay.source} (checked {overlay.checked.isoformat()})"
    return text
