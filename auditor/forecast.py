"""The 12-month forecast after `--as-of`, and the scheduled price changes and deprecations it applies.

Volume. The priced workload's token volume (every token class once: input, cache reads and writes, output)
is summed per UTC day. A calendar month counts as observed in full when the first and last day of the
priced usage enclose it. With at least 3 such months, the last (up to 12) of them give a least-squares
straight line of the mean daily volume against the month's index, and each forecast month's daily volume is
that line continued (never below zero). With fewer, the volume is flat: the mean daily volume over every day
from the first to the last day of priced usage (days without usage count as zero).

Cost. The mix of the observed workload (models, token classes, tiers, time of day and request sizes) is held
as observed: a forecast month's cost is the cost of the whole observed workload at the prices in force,
scaled by the month's predicted volume over the observed volume. Prices in force are found the way the
list cost and the scenarios find them (the rate book, on the aggregated shape table, never per request):
the baseline on the current models, each scenario on its candidate. A month in which one of those models'
prices changes (a `StartDateConstraint` of the catalog) is split at the change, each part priced at its
prices and weighted by its days.

Limits: no seasonality, no change of mix, no new models or retirements acted on (a deprecation is listed,
not applied), and a straight line fitted on a few months can move a lot; the method note in the result
says which case applied.
"""

from __future__ import annotations

import calendar
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pandas as pd

from auditor.costing import total_cost
from auditor.ledger import TOKEN_COLUMNS
from auditor.result import ForecastMonth, PriceChangeOut, money
from auditor.scenarios import priced_shape
from auditor.workload import MODEL_REF, Pricebook
from pricing.catalog import CatalogModel
from pricing.schedule import deprecation, price_changes, start_dates

FORECAST_MONTHS = 12
VOLUME_NOTE = "Forecast volume: "
"""How the method note on the forecast's volume begins."""
CAUTION = " Caution: "
"""Where that note warns of months without usage (the report shows such a note beside the forecast)."""
TREND_MIN_MONTHS = 3
TREND_MAX_MONTHS = 12
# Every token once: reasoning is inside output.
VOLUME_COLUMNS = [c for c in TOKEN_COLUMNS if c != "reasoning_tokens"]
_PRICE_KEYS = ["time_slot", "service_tier", "request_size_floor_tokens"]


@dataclass(frozen=True)
class Forecast:
    months: list[ForecastMonth]
    price_changes: list[PriceChangeOut]
    notes: list[str]


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def _days_in(first: date) -> int:
    return calendar.monthrange(first.year, first.month)[1]


def _month_index(first: date) -> int:
    return first.year * 12 + first.month - 1


def forecast_months(as_of: date) -> list[date]:
    """The first days of the 12 calendar months the forecast covers: from as-of's month when as-of is its
    first day, else from the next month."""
    first = as_of if as_of.day == 1 else _next_month(_month_start(as_of))
    months = [first]
    while len(months) < FORECAST_MONTHS:
        months.append(_next_month(months[-1]))
    return months


@dataclass(frozen=True)
class Trend:
    """Predicted daily token volume per month: `intercept + slope * (month index - origin)`, at least 0."""

    intercept: Fraction
    slope: Fraction
    origin: int
    note: str

    def daily(self, first: date) -> Fraction:
        return max(Fraction(0), self.intercept + self.slope * (_month_index(first) - self.origin))


def observed_trend(daily_volume: dict[date, int]) -> Trend | None:
    """The volume trend of the priced usage (see the module docstring), or None without usage."""
    if not daily_volume or sum(daily_volume.values()) == 0:
        return None
    first, last = min(daily_volume), max(daily_volume)
    full: list[date] = []
    month = first if first.day == 1 else _next_month(_month_start(first))
    while month.replace(day=_days_in(month)) <= last:
        full.append(month)
        month = _next_month(month)
    caution = _gaps_caution(full, {_month_start(d) for d, v in daily_volume.items() if v})
    if len(full) < TREND_MIN_MONTHS:
        days = (last - first).days + 1
        mean = Fraction(sum(daily_volume.values()), days)
        note = (
            f"{VOLUME_NOTE}flat at the mean daily token volume of the priced usage from {first} to {last} "
            f"({days} day{'s' if days > 1 else ''}, {float(mean):,.0f} tokens a day); fewer than "
            f"{TREND_MIN_MONTHS} full months were observed, so no trend is fitted."
        )
        return Trend(mean, Fraction(0), 0, note + caution)
    used = full[-TREND_MAX_MONTHS:]
    xs = [Fraction(_month_index(m) - _month_index(used[0])) for m in used]
    ys = [Fraction(sum(v for d, v in daily_volume.items() if _month_start(d) == m), _days_in(m)) for m in used]
    zero = Fraction(0)
    mean_x, mean_y = sum(xs, zero) / len(xs), sum(ys, zero) / len(ys)
    slope = sum(((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)), zero)
    slope /= sum(((x - mean_x) ** 2 for x in xs), zero)
    intercept = mean_y - slope * mean_x
    change = float(slope / mean_y * 100) if mean_y else 0.0
    note = (
        f"{VOLUME_NOTE}least-squares linear trend of the mean daily token volume of the last {len(used)} full "
        f"months of priced usage ({used[0]:%Y-%m} to {used[-1]:%Y-%m}), {change:+.1f}% of their mean a month, "
        "continued for 12 months (never below zero); the observed mix of models, token classes, tiers, times "
        "of day and request sizes is held; no seasonality."
    )
    return Trend(intercept, slope, _month_index(used[0]), note + caution)


def _gaps_caution(full: list[date], with_usage: set[date]) -> str:
    """A warning when whole months between the first and the last day of usage have none: inputs of different
    periods (a cost export of one quarter, a log of another) leave such gaps, and a volume or a trend through them
    is the inputs', not the traffic's."""
    empty = [m for m in full if m not in with_usage]
    if not empty:
        return ""
    shown = ", ".join(f"{m:%Y-%m}" for m in empty[:6]) + (f" and {len(empty) - 6} more" if len(empty) > 6 else "")
    return (
        f"{CAUTION}{len(empty)} whole month(s) between the first and the last day of usage have none ({shown}); if "
        "the inputs do not cover them (files of different periods), this volume is the inputs', not the traffic's; "
        "for a forecast, give inputs that cover the same months."
    )


def _daily_volume(usage: pd.DataFrame) -> dict[date, int]:
    priced = usage[usage[MODEL_REF] != ""]
    if priced.empty:
        return {}
    volume = priced[VOLUME_COLUMNS].sum(axis=1).groupby(priced["day"].astype(str)).sum()
    return {date.fromisoformat(str(d)): int(v) for d, v in volume.items()}


def _regime(model: CatalogModel, day: date) -> date | None:
    """The start of the model's dated price in force on `day` (None: its undated prices)."""
    return max((d for d in start_dates(model) if d <= day), default=None)


def _scaled(cost: Decimal, factor: Fraction) -> Decimal:
    return cost * Decimal(factor.numerator) / Decimal(factor.denominator)


def build_forecast(
    usage: pd.DataFrame, shape: pd.DataFrame, pricebook: Pricebook, candidates: list[CatalogModel], as_of: date
) -> Forecast:
    """Scheduled changes of the current models and candidates after as-of, and the 12-month forecast."""
    priced = priced_shape(shape)
    current_refs = sorted(priced[MODEL_REF].unique()) if not priced.empty else []
    current = [pricebook.models[r] for r in current_refs]
    changes = _changes(priced, current, candidates, as_of)
    trend = observed_trend(_daily_volume(usage))
    volume = int(priced[VOLUME_COLUMNS].to_numpy().sum()) if not priced.empty else 0
    if trend is None or volume == 0:
        return Forecast([], changes, [])
    sums = ["requests", *TOKEN_COLUMNS]
    by_model = priced.groupby([MODEL_REF, *_PRICE_KEYS], sort=True)[sums].sum().reset_index()
    workload = by_model.groupby(_PRICE_KEYS, sort=True)[sums].sum().reset_index()
    book = pricebook.rates
    costs: dict[Hashable, Decimal] = {}

    def baseline_at(day: date) -> Decimal:
        key = ("", tuple(_regime(m, day) for m in current))
        if key not in costs:
            costs[key] = total_cost(by_model, book.rate_ids(by_model, pricebook.models, on_day=day), book.rates)
        return costs[key]

    def candidate_at(candidate: CatalogModel, day: date) -> Decimal:
        key = (candidate.ref, _regime(candidate, day))
        if key not in costs:
            costs[key] = total_cost(workload, book.rate_ids(workload, {}, fixed=candidate, on_day=day), book.rates)
        return costs[key]

    breaks = sorted({d for m in [*current, *candidates] for d in start_dates(m)})
    months = []
    for first in forecast_months(as_of):
        end = _next_month(first)
        starts = [first, *(d for d in breaks if first < d < end)]
        parts = [(s, ((starts[i + 1] if i + 1 < len(starts) else end) - s).days) for i, s in enumerate(starts)]
        daily = trend.daily(first)
        baseline = Decimal(0)
        projected = {c.ref: Decimal(0) for c in candidates}
        for start, days in parts:
            factor = daily * days / volume
            baseline += _scaled(baseline_at(start), factor)
            for c in candidates:
                projected[c.ref] += _scaled(candidate_at(c, start), factor)
        months.append(
            ForecastMonth(
                month=f"{first:%Y-%m}",
                tokens=round(daily * _days_in(first)),
                baseline_cost=money(baseline),
                projected_cost={ref: money(v) for ref, v in sorted(projected.items())},
            )
        )
    notes = [
        trend.note,
        "Forecast cost: the baseline on the current models and each scenario on its candidate at the list "
        "prices in force in each month, scheduled price changes of the catalog applied from their day "
        "(see price_changes); deprecations are listed, not applied. The forecast prices the observed token mix "
        "as it is: the migration assumptions (tokenizer, verbosity, cache, batch and off-peak shares) that the "
        "scenarios' projected cost includes are not applied to it, so a scenario's first forecast month and its "
        "projected cost can differ by them.",
    ]
    return Forecast(months, changes, notes)


def _changes(
    priced: pd.DataFrame, current: list[CatalogModel], candidates: list[CatalogModel], as_of: date
) -> list[PriceChangeOut]:
    """Price changes after as-of, for the tiers the workload uses, and deprecations, of every model concerned."""
    all_tiers = sorted(priced["service_tier"].unique()) if not priced.empty else ["standard"]
    tiers_of = {
        str(ref): sorted(group["service_tier"].unique()) for ref, group in priced.groupby(MODEL_REF, sort=True)
    } if not priced.empty else {}  # fmt: skip
    roles: dict[str, tuple[CatalogModel, list[str], list[str]]] = {}
    for model in current:
        roles[model.ref] = (model, ["current"], tiers_of.get(model.ref, []))
    for model in candidates:
        found = roles.setdefault(model.ref, (model, [], []))
        found[1].append("candidate")
        found[2].extend(all_tiers)
    out: list[PriceChangeOut] = []
    for ref, (model, role, tiers) in sorted(roles.items()):
        name = model.display_name
        for change in price_changes(model, as_of, tiers):
            out.append(
                PriceChangeOut(
                    model=ref,
                    model_name=name,
                    role=" and ".join(role),
                    kind="price",
                    date=change.day,
                    service_tier=change.service_tier,
                    old={k: money(v) for k, v in change.old.items()},
                    new={k: money(v) for k, v in change.new.items()},
                )
            )
        gone = deprecation(model)
        if gone is not None:
            out.append(
                PriceChangeOut(
                    model=ref,
                    model_name=name,
                    role=" and ".join(role),
                    kind="deprecation",
                    date=gone.day,
                    note=gone.note,
                )
            )
    return sorted(out, key=lambda c: (c.date is None, c.date or date.min, c.model, c.kind, c.service_tier or ""))
