"""Migration assumptions: named, adjustable changes of the workload on a candidate, and the cost range they give.

Each assumption has a default (the scenario's base), a low..high range and a source (`pricing/data/assumptions.toml`).
How they change the observed tokens of a candidate's scenario, with r = token_ratio, a = output_verbosity,
q = reasoning_verbosity, s = cache_hit_share, b = batch_share, o = offpeak_share:

- input, cache writes: × r; cache reads: r·s stay cache reads, r·(1 − s) are priced as plain input;
- answer output (output minus reasoning): × r·a; reasoning: × r·q; requests unchanged; except the share of answer
  or reasoning whose verbosity default comes from a model family's AA class (`auditor.families`): AA counts native
  tokens, so that share is × a (or × q) only;
- a share b of standard-tier traffic is priced at the candidate's batch tier, and a share o of all traffic in the
  candidate's cheapest half hour of the day (both only change prices the catalog has).

The cost is then linear in each assumption (multilinear in all), so re-pricing never loops over requests: per
candidate, each of four price variants (as served, batch, off-peak, both) is summed once per rate id into eight
exact cost parts, and any set of assumption values is a weighted sum of those parts. For a multilinear cost the
extremes over the low..high box lie at its corners, so `low_cost` and `high_cost` are the cheapest and dearest
corner (every assumption at once), and each driver's effect is the cost moved by that assumption alone from its low
to its high end, the others at their values. The corners are costed in floats first, to choose; only those near the
extremes are costed exactly.
"""

from __future__ import annotations

import difflib
import itertools
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np
import pandas as pd

from auditor.costing import sums_by_key
from auditor.errors import OptionError
from auditor.ledger import TOKEN_COLUMNS
from pricing.catalog import CatalogModel
from pricing.ratebook import RateBook
from pricing.rates import SLOTS_PER_DAY, ClassRates, class_rates, has_time_windows

NEUTRAL = "neutral"
# The exact cost parts of a workload at one candidate's rates (USD), in this order.
PARTS = (
    "input",
    "cache_read",
    "cache_read_as_input",
    "cache_write",
    "cache_write_1h",
    "answer",
    "reasoning",
    "requests",
)
VARIANTS = ("as_served", "batch", "off_peak", "batch_off_peak")
PRICE_KEYS = ["time_slot", "service_tier", "request_size_floor_tokens"]
_SUMS = ["requests", *TOKEN_COLUMNS]
_ZERO_PARTS = (Decimal(0),) * len(PARTS)


@dataclass(frozen=True)
class Assumption:
    """One migration assumption: its value in this run, its range, the value meaning unchanged, and its source."""

    name: str
    description: str
    value: Decimal
    low: Decimal
    high: Decimal
    unchanged: Decimal
    source: str
    checked: str

    @property
    def is_share(self) -> bool:
        return self.name.endswith("_share")


@cache
def default_assumptions() -> tuple[Assumption, ...]:
    """The assumptions of `pricing/data/assumptions.toml`, at their defaults."""
    raw = tomllib.loads(files("pricing").joinpath("data/assumptions.toml").read_text(encoding="utf-8"))
    out = []
    for entry in raw["assumption"]:
        value, low, high = (Decimal(str(entry[k])) for k in ("default", "low", "high"))
        assert low <= value <= high, entry["name"]
        out.append(
            Assumption(
                name=entry["name"],
                description=entry["description"],
                value=value,
                low=low,
                high=high,
                unchanged=Decimal(str(entry["unchanged"])),
                source=f"{entry['source']} (checked {entry['checked']})",
                checked=entry["checked"],
            )
        )
    return tuple(out)


def resolve_assumptions(flags: Sequence[str]) -> tuple[Assumption, ...]:
    """The assumptions of a run: defaults, then `--assume neutral` (all unchanged), then each `--assume NAME=VALUE`."""
    by_name = {a.name: a for a in default_assumptions()}
    if any(flag.strip().lower() == NEUTRAL for flag in flags):
        by_name = {
            n: replace(a, value=a.unchanged, low=a.unchanged, high=a.unchanged, source="--assume neutral: unchanged")
            for n, a in by_name.items()
        }
    for flag in flags:
        if flag.strip().lower() == NEUTRAL:
            continue
        name, sep, text = flag.partition("=")
        name = name.strip()
        if name not in by_name:
            close = difflib.get_close_matches(name, [*by_name, NEUTRAL], n=2, cutoff=0.5)
            offer = f"did you mean {' or '.join(close)}?" if close else "names: " + ", ".join([*by_name, NEUTRAL])
            raise OptionError(f"--assume {flag}: unknown assumption '{name}'; {offer}")
        value = _value(flag, by_name[name], text if sep else "")
        by_name[name] = replace(by_name[name], value=value, low=value, high=value, source=f"--assume {name}={text}")
    return tuple(by_name.values())


def _value(flag: str, assumption: Assumption, text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    limit = "a share from 0 to 1" if assumption.is_share else "a positive multiplier"
    ok = value.is_finite() and (Decimal(0) <= value <= 1 if assumption.is_share else value > 0)
    if not ok:
        raise OptionError(f"--assume {flag}: {assumption.name} needs {limit}, e.g. {assumption.name}={assumption.high}")
    return value


def is_neutral(assumptions: Sequence[Assumption]) -> bool:
    """Whether every assumption is at its unchanged value (the observed tokens priced as they are)."""
    return all(a.value == a.unchanged for a in assumptions)


# ---------------------------------------------------------------------------------------------------------------
# Cost parts of a workload on a candidate


def _cheapest_slot(candidate: CatalogModel, as_of: date, tier: str, floor: int) -> int:
    """The half hour of the day whose rates are the lowest (sum over classes; the earliest on a tie)."""

    def weight(slot: int) -> tuple[Decimal, int]:
        rates = class_rates(candidate, as_of, slot, tier, floor)
        return (sum(rates.per_token, Decimal(0)) + rates.per_request, slot)

    return min(range(SLOTS_PER_DAY), key=weight)


def variant_frames(workload: pd.DataFrame, candidate: CatalogModel, as_of: date) -> dict[str, pd.DataFrame]:
    """The workload as served, with standard traffic on batch, moved to the cheapest half hour, and both."""
    tiers = workload["service_tier"].to_numpy()
    batch = workload.assign(service_tier=np.where(tiers == "standard", "batch", tiers))
    frames = {"as_served": workload, "batch": batch}
    for name, frame in (("off_peak", workload), ("batch_off_peak", batch)):
        if not has_time_windows(candidate):
            frames[name] = frame
            continue
        combos = frame[["service_tier", "request_size_floor_tokens"]].drop_duplicates()
        slots = {
            (str(t), int(f)): _cheapest_slot(candidate, as_of, str(t), int(f))
            for t, f in combos.itertuples(index=False)
        }
        keys = zip(frame["service_tier"], frame["request_size_floor_tokens"], strict=True)
        frames[name] = frame.assign(time_slot=np.array([slots[(str(t), int(f))] for t, f in keys], dtype=np.int64))
    return frames


def parts_by_group(
    frame: pd.DataFrame, rate_ids: np.ndarray, groups: np.ndarray, rates: list[ClassRates]
) -> dict[int, tuple[Decimal, ...]]:
    """Exact cost parts (PARTS) per group of the rows of `frame` at their rate ids: tokens summed per (group, rate
    id), then priced once each."""
    return parts_of_sums(frame[_SUMS].to_numpy(), rate_ids, groups, rates)


def parts_of_sums(
    tokens: np.ndarray, rate_ids: np.ndarray, groups: np.ndarray, rates: list[ClassRates]
) -> dict[int, tuple[Decimal, ...]]:
    """`parts_by_group` of rows given as an integer array (rows × requests and TOKEN_COLUMNS)."""
    groups = np.asarray(groups, dtype=np.int64)
    first, sums = sums_by_key([groups, rate_ids], tokens)
    out: dict[int, tuple[Decimal, ...]] = {}
    for row, (requests, inp, cache_read, write, write_1h, output, reasoning) in zip(
        first.tolist(), sums.tolist(), strict=True
    ):
        r = rates[int(rate_ids[row])]
        rate_in, rate_read, rate_write, rate_write_1h, rate_out, rate_reasoning = r.per_token
        values = (
            rate_in * int(inp),
            rate_read * int(cache_read),
            rate_in * int(cache_read),
            rate_write * int(write),
            rate_write_1h * int(write_1h),
            rate_out * (int(output) - int(reasoning)),
            rate_reasoning * int(reasoning),
            r.per_request * int(requests),
        )
        group = int(groups[row])
        before = out.get(group, _ZERO_PARTS)
        out[group] = tuple(t + v for t, v in zip(before, values, strict=True))
    return out


def parts_of(frame: pd.DataFrame, rate_ids: np.ndarray, rates: list[ClassRates]) -> tuple[Decimal, ...]:
    """Exact cost parts (PARTS) of all rows of `frame` at their rate ids."""
    groups = np.zeros(len(frame), dtype=np.int64)
    return parts_by_group(frame, rate_ids, groups, rates).get(0, (Decimal(0),) * len(PARTS))


def float_parts_by_row(frame: pd.DataFrame, rate_ids: np.ndarray, rates: list[ClassRates]) -> np.ndarray:
    """Approximate cost parts of each row (rows × PARTS, float USD): for choosing, never for reporting."""
    unique, inverse = np.unique(rate_ids, return_inverse=True)
    table = np.array([[float(x) for x in (*rates[int(i)].per_token, rates[int(i)].per_request)] for i in unique])
    per_row = table[inverse]  # columns: the six classes, then per request
    tokens = frame[_SUMS].to_numpy(dtype=np.float64)
    requests, inp, read, write, write_1h, out, reasoning = tokens.T
    return np.column_stack(
        [
            per_row[:, 0] * inp,
            per_row[:, 1] * read,
            per_row[:, 0] * read,
            per_row[:, 2] * write,
            per_row[:, 3] * write_1h,
            per_row[:, 4] * (out - reasoning),
            per_row[:, 5] * reasoning,
            per_row[:, 6] * requests,
        ]
    )


@dataclass(frozen=True)
class CostParts:
    """A workload's exact cost parts under each price variant, plus a fixed amount the assumptions do not move."""

    variants: dict[str, tuple[Decimal, ...]]
    fixed: Decimal = Decimal(0)
    # Shares of the answer and reasoning parts whose verbosity is in the candidate's own tokens (per-model-family
    # defaults from AA counts, `auditor.families`): token_ratio does not scale those shares.
    answer_native: Decimal = Decimal(0)
    reasoning_native: Decimal = Decimal(0)


def variant_rate_ids(
    workload: pd.DataFrame, candidate: CatalogModel, as_of: date, book: RateBook
) -> dict[str, tuple[pd.DataFrame, np.ndarray]]:
    """Each price variant of the workload on one candidate, with its rows' rate ids (one rate-book lookup)."""
    frames = variant_frames(workload, candidate, as_of)
    distinct: list[pd.DataFrame] = []
    for frame in frames.values():
        if not any(frame is d for d in distinct):
            distinct.append(frame)
    stacked = pd.concat(distinct, ignore_index=True) if len(distinct) > 1 else distinct[0]
    ids = book.rate_ids(stacked, {}, fixed=candidate, on_day=as_of)
    n = len(workload)
    out = {}
    for name, frame in frames.items():
        k = next(i for i, d in enumerate(distinct) if frame is d)
        out[name] = (frame, ids[k * n : (k + 1) * n])
    return out


def candidate_parts(variants: dict[str, tuple[pd.DataFrame, np.ndarray]], rates: list[ClassRates]) -> CostParts:
    """The exact cost parts of each price variant of a workload on one candidate."""
    parts: dict[str, tuple[Decimal, ...]] = {}
    done: list[tuple[pd.DataFrame, tuple[Decimal, ...]]] = []
    for name, (frame, ids) in variants.items():
        same = next((p for f, p in done if f is frame), None)
        parts[name] = same if same is not None else parts_of(frame, ids, rates)
        done.append((frame, parts[name]))
    return CostParts(parts)


def variant_weights(values: Mapping[str, Any]) -> dict[str, Any]:
    """The weights of the price variants, from the batch and off-peak shares: Decimals (to cost), or floats and
    float arrays (to choose)."""
    b, o = values["batch_share"], values["offpeak_share"]
    return {"as_served": (1 - b) * (1 - o), "batch": b * (1 - o), "off_peak": (1 - b) * o, "batch_off_peak": b * o}


def cost_at(
    parts: CostParts, values: dict[str, Decimal], memo: dict[tuple[object, ...], Decimal] | None = None
) -> Decimal:
    """The cost of the workload with the assumptions at `values` (name → value). `memo` (one per `parts`) keeps each
    variant's cost per unit of weight for the token and cache values it was computed at: the corners of a range
    share them, so each is computed once (the same operations, so the same result)."""
    r, a, q, s = (values[n] for n in _VALUE_NAMES)
    wa, wq = parts.answer_native, parts.reasoning_native
    total = parts.fixed
    for variant, weight in variant_weights(values).items():
        if not weight:
            continue
        key = (variant, r, a, q, s)
        per_weight = memo.get(key) if memo is not None else None
        if per_weight is None:
            inp, read, read_in, write, write_1h, answer, reasoning, requests = parts.variants[variant]
            tokens = inp + s * read + (1 - s) * read_in + write + write_1h
            output = a * answer * (wa + (1 - wa) * r) + q * reasoning * (wq + (1 - wq) * r)
            per_weight = r * tokens + output + requests
            if memo is not None:
                memo[key] = per_weight
        total += weight * per_weight
    return total


@dataclass(frozen=True)
class CostRange:
    base: Decimal
    low: Decimal
    high: Decimal
    drivers: list[tuple[str, Decimal]]  # (assumption, effect), largest effect first


def cost_range(parts: CostParts, assumptions: Sequence[Assumption]) -> CostRange:
    """Base cost at the assumptions' values, the cheapest and dearest corner of their ranges, and each one's effect."""
    return cost_range_of([(parts, assumptions)])


def cost_range_of(groups: Sequence[tuple[CostParts, Sequence[Assumption]]]) -> CostRange:
    """`cost_range` of a sum of groups, each with its own values and ranges of the same assumptions (per-model
    defaults differ by candidate and segment): a corner puts an assumption at its low, or high, end in every group.

    Every corner is costed in floats first, to choose: only the corners near the cheapest or the dearest can be it,
    and only those are costed exactly."""
    names = [a.name for a in groups[0][1]] if groups else []
    by_group = _by_name(groups)
    base = _total(by_group, {})
    ranged = [n for n in names if any(g.by_name[n].low != g.by_name[n].high for g in by_group)]
    ends = list(itertools.product((0, 1), repeat=len(ranged)))
    corners = [_total(by_group, dict(zip(ranged, ends[c], strict=True))) for c in _extreme_corners(by_group, ranged)]
    drivers = [(n, abs(_total(by_group, {n: 1}) - _total(by_group, {n: 0}))) for n in ranged]
    drivers.sort(key=lambda d: (-d[1], d[0]))
    return CostRange(base, min([base, *corners]), max([base, *corners]), drivers)


def base_cost(groups: Sequence[tuple[CostParts, Sequence[Assumption]]]) -> Decimal:
    """The base of `cost_range_of` alone: each group at its assumptions' values."""
    return _total(_by_name(groups), {})


_VALUE_NAMES = ("token_ratio", "output_verbosity", "reasoning_verbosity", "cache_hit_share")
_SHARE_NAMES = ("batch_share", "offpeak_share")


@dataclass(frozen=True)
class _Group:
    """A group of `cost_range_of`: its assumptions by name, its parts, for each assumption that moves its cost the
    positions its ends stand for (0 low, 1 high; -1 where the end is its value), and its costs by those positions
    (() for all at their values). A range of one value moves nothing, nor does an assumption whose part is zero in
    every variant."""

    by_name: dict[str, Assumption]
    parts: CostParts
    moves: dict[str, tuple[int, int]]
    costs: dict[tuple[tuple[str, int], ...], Decimal]
    memo: dict[tuple[object, ...], Decimal]


def _by_name(groups: Sequence[tuple[CostParts, Sequence[Assumption]]]) -> list[_Group]:
    out = []
    for parts, assumptions in groups:
        variants = parts.variants.values()
        idle = {
            "output_verbosity": all(not v[5] for v in variants),
            "reasoning_verbosity": all(not v[6] for v in variants),
            "cache_hit_share": all(not v[1] and not v[2] for v in variants),
        }
        moves = {
            a.name: (-1 if a.low == a.value else 0, -1 if a.high == a.value else 1)
            for a in assumptions
            if a.low != a.high and not idle.get(a.name, False)
        }
        out.append(_Group({a.name: a for a in assumptions}, parts, moves, {}, {}))
    return out


def _total(by_group: list[_Group], ends: dict[str, int]) -> Decimal:
    """The cost of the groups with each assumption in `ends` at its low (0) or high (1) end, the others at their
    values. A group's cost is computed once per position of the assumptions that move it: the others give the same
    value wherever they are (a range of one value, or a part that is zero), and so does an end equal to the value."""
    out = Decimal(0)
    for g in by_group:
        key = tuple((n, g.moves[n][e]) for n, e in ends.items() if n in g.moves and g.moves[n][e] >= 0)
        cost = g.costs.get(key)
        if cost is None:
            values = {n: (a.low, a.high)[ends[n]] if n in ends else a.value for n, a in g.by_name.items()}
            cost = g.costs[key] = cost_at(g.parts, values, g.memo)
        out += cost
    return out


def _extreme_corners(by_group: list[_Group], ranged: list[str]) -> list[int]:
    """The corners (in `itertools.product` order of the ranged assumptions' ends) whose cost in floats is within a
    margin far above float error of the cheapest or the dearest corner: the exact extremes are among them."""
    corners = 2 ** len(ranged)
    ends = np.array(list(itertools.product((0, 1), repeat=len(ranged))), dtype=np.int64).reshape(corners, len(ranged))
    if not by_group:
        return list(range(corners))
    column = {n: j for j, n in enumerate(ranged)}

    def values(name: str) -> np.ndarray:  # corners × groups
        low = np.array([float(g.by_name[name].low) for g in by_group])
        high = np.array([float(g.by_name[name].high) for g in by_group])
        value = np.array([float(g.by_name[name].value) for g in by_group])
        if name not in column:
            return np.broadcast_to(value, (len(ends), len(by_group)))
        return np.where(ends[:, [column[name]]] == 0, low, high)

    at = {n: values(n) for n in (*_VALUE_NAMES, *_SHARE_NAMES)}
    native = (
        np.array([float(g.parts.answer_native) for g in by_group]),
        np.array([float(g.parts.reasoning_native) for g in by_group]),
    )
    cost = np.full(len(ends), sum(float(g.parts.fixed) for g in by_group))
    for variant, weight in variant_weights(at).items():
        parts = np.array([[float(x) for x in g.parts.variants[variant]] for g in by_group])
        cost += (weight * float_cost(parts, at, native)).sum(axis=1)
    low, high = cost.min(), cost.max()
    margin = 1e-6 * max(abs(low), abs(high))
    return np.flatnonzero((cost <= low + margin) | (cost >= high - margin)).tolist()


def float_cost(parts: np.ndarray, values: Mapping[str, Any], native: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """`cost_at` of one price variant per unit of its weight, in floats, to choose (never to report): `parts` has
    PARTS on its last axis; the values and native shares are arrays that broadcast with the rest of it."""
    r, a, q, s = (values[n] for n in _VALUE_NAMES)
    wa, wq = native
    inp, read, read_in, write, write_1h, answer, reasoning, requests = np.moveaxis(parts, -1, 0)
    tokens = inp + s * read + (1 - s) * read_in + write + write_1h
    output = a * answer * (wa + (1 - wa) * r) + q * reasoning * (wq + (1 - wq) * r)
    combined: np.ndarray = r * tokens + output + requests
    return combined


RANGE_NOTE = (
    "Scenario ranges: low_cost and high_cost put every migration assumption with a range at the end that lowers, "
    "or raises, the cost (all at once); each driver's effect is the cost that assumption alone moves between its "
    "low and high end. Each assumption's default and range, and where they come from, are listed under assumptions."
)


def assumption_notes(assumptions: Sequence[Assumption]) -> list[str]:
    """One note per assumption: its value, range, meaning and source (reports show notes)."""
    return [
        f"Assumption {a.name} = {a.value} (range {a.low}–{a.high}): {a.description}. Source: {a.source}"
        for a in assumptions
    ]
