"""The 12-month forecast after `--as-of`, and the scheduled price changes and deprecations it applies.

Volume. The priced workload's token volume (every token class once: input, cache reads and writes, output)
is summed per UTC day and per source: the files of one usage family (the files whose records or days the scan
already counts once between them). A source covers the days from each of its files' first to last day of used
rows; a day no file covers is unknown, not a day without usage. A calendar month counts as observed in full
when the source covers each of its days. With at least 3 such months, the last (up to 12) of them give a
least-squares straight line of the mean daily volume against the month's index, continued (never below zero).
With fewer, the volume is flat: the mean daily volume over the days the source covers (covered days without
usage count as zero). The forecast's daily volume is the sum of the sources' own: inputs of different formats
or periods (a cost export of one quarter, a log of another) are never compared month by month, where one line
through all of them would read the months between their periods as months without traffic.

Cost. The mix of the observed workload (models, token classes, tiers, time of day and request sizes) is held
as observed: a forecast month's cost is the cost of the whole observed workload at the prices in force,
scaled by the month's predicted volume over the observed volume. Prices in force are found the way the
list cost and the scenarios find them (the rate book, on the aggregated shape table, never per request):
the baseline on the current models, each scenario on its candidate. A month in which one of those models'
prices changes (a `StartDateConstraint` of the catalog) is split at the change, each part priced at its
prices and weighted by its days.

Limits: no seasonality, no change of mix, no new models or retirements acted on (a deprecation is listed,
not applied), a source that ends before the others is held as if it went on (the note cautions), and a
straight line fitted on a few months can move a lot; the method note in the result says which case applied.
"""

from __future__ import annotations

import calendar
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Literal

import numpy as np
import pandas as pd

from auditor.costing import total_cost
from auditor.hybrid import segment_names
from auditor.importers.base import Importer
from auditor.ledger import COUNTED_TOKENS, TOKEN_COLUMNS
from auditor.result import ForecastMonth, PriceChangeOut, Scenario, money
from auditor.scenarios import priced_shape
from auditor.summary import SOURCE_FILE
from auditor.workload import MODEL_REF, Pricebook
from pricing.catalog import CatalogModel
from pricing.schedule import deprecation, price_changes, start_dates

FORECAST_MONTHS = 12
VOLUME_NOTE = "Forecast volume: "
"""How the method note on the forecast's volume begins."""
CAUTION = " Caution: "
"""Where that note warns of sources that end before the others, or inputs that end well before as-of (the report
shows such a note beside the forecast)."""
STALE_DAYS = 31
"""A source whose last covered day is more than this before the latest source's (or the latest, before as-of) is
named in the caution."""
FLAT_SOURCES_LISTED = 4
TREND_MIN_MONTHS = 3
TREND_MAX_MONTHS = 12
VOLUME_COLUMNS = list(COUNTED_TOKENS)
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
    """Predicted daily token volume per month: `intercept + slope * (month index - origin)`, at least 0, fitted on
    `fitted_months` full months (0: flat). `summary` says how it was found; `note` is the forecast's note when it
    is the only source's."""

    intercept: Fraction
    slope: Fraction
    origin: int
    note: str
    summary: str = ""
    fitted_months: int = 0  # 0: flat

    def daily(self, first: date) -> Fraction:
        return max(Fraction(0), self.intercept + self.slope * (_month_index(first) - self.origin))


@dataclass(frozen=True)
class SourceVolume:
    """One source's priced token volume by UTC day, and the days its files cover."""

    files: tuple[str, ...]
    daily: dict[date, int]
    covered: frozenset[date]


@dataclass(frozen=True)
class Volume:
    """The forecast's daily token volume per month: the sum of its sources' trends."""

    trends: tuple[Trend, ...]
    note: str

    def daily(self, first: date) -> Fraction:
        return sum((t.daily(first) for t in self.trends), Fraction(0))


def _days(first: date, last: date) -> frozenset[date]:
    return frozenset(first + timedelta(days=i) for i in range((last - first).days + 1))


def observed_trend(daily_volume: dict[date, int], covered: frozenset[date] | None = None) -> Trend | None:
    """The volume trend of one source's priced usage (see the module docstring), or None without usage. `covered`:
    the days its files cover (by default every day from its first to its last day of usage)."""
    if not daily_volume or sum(daily_volume.values()) == 0:
        return None
    if covered is None:
        covered = _days(min(daily_volume), max(daily_volume))
    first, last = min(covered), max(covered)
    full: list[date] = []
    uncovered: list[date] = []
    month = _month_start(first)
    while month <= last:
        in_month = _days(month, month.replace(day=_days_in(month)))
        if in_month <= covered:
            full.append(month)
        elif first < month and month.replace(day=_days_in(month)) < last and not in_month & covered:
            uncovered.append(month)
        month = _next_month(month)
    between = _uncovered_note(uncovered)
    if len(full) < TREND_MIN_MONTHS:
        days = len(covered)
        mean = Fraction(sum(daily_volume.values()), days)
        span = f"{days} day{'s' if days > 1 else ''}"
        summary = f"flat at {float(mean):,.0f} tokens a day (the mean over the {span} covered, {first} to {last})"
        note = (
            f"{VOLUME_NOTE}flat at the mean daily token volume of the priced usage over the {span} the inputs cover "
            f"({first} to {last}; {float(mean):,.0f} tokens a day); fewer than {TREND_MIN_MONTHS} full months were "
            f"observed, so no trend is fitted.{between}"
        )
        return Trend(mean, Fraction(0), 0, note, summary)
    used = full[-TREND_MAX_MONTHS:]
    xs = [Fraction(_month_index(m) - _month_index(used[0])) for m in used]
    ys = [Fraction(sum(v for d, v in daily_volume.items() if _month_start(d) == m), _days_in(m)) for m in used]
    zero = Fraction(0)
    mean_x, mean_y = sum(xs, zero) / len(xs), sum(ys, zero) / len(ys)
    slope = sum(((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)), zero)
    slope /= sum(((x - mean_x) ** 2 for x in xs), zero)
    intercept = mean_y - slope * mean_x
    change = float(slope / mean_y * 100) if mean_y else 0.0
    fitted = f"{len(used)} full months ({used[0]:%Y-%m} to {used[-1]:%Y-%m})"
    summary = f"least-squares trend of the last {fitted}, {change:+.1f}% of their mean a month"
    note = (
        f"{VOLUME_NOTE}least-squares linear trend of the mean daily token volume of the last {fitted} of priced usage, "
        f"{change:+.1f}% of their mean a month, continued for 12 months (never below zero); the observed mix of "
        f"models, token classes, tiers, times of day and request sizes is held; no seasonality.{between}"
    )
    return Trend(intercept, slope, _month_index(used[0]), note, summary, len(used))


def _uncovered_note(uncovered: list[date]) -> str:
    """Whole months between a source's files that none of them covers: left out, not read as months without
    usage (a file of March and one of October say nothing of the months between)."""
    if not uncovered:
        return ""
    return (
        f" {len(uncovered)} whole month(s) between the inputs' periods are covered by none of them "
        f"({_months_shown(uncovered)}): left out, not counted as months without usage."
    )


def _months_shown(months: list[date]) -> str:
    return _listed([f"{m:%Y-%m}" for m in months], 6)


def _listed(texts: list[str], limit: int, sep: str = ", ", before_more: str = " ") -> str:
    """The first `limit` texts, then how many more there are."""
    rest = len(texts) - limit
    return sep.join(texts[:limit]) + (f"{before_more}and {rest} more" if rest > 0 else "")


def forecast_volume(sources: Sequence[SourceVolume], as_of: date) -> Volume | None:
    """The sum of the sources' own trends, with the note that says how each was found; None without usage."""
    found = [(s, t) for s in sources if (t := observed_trend(s.daily, s.covered)) is not None]
    if not found:
        return None
    caution = _stale_caution([s for s, _ in found], as_of)
    if len(found) == 1:
        return Volume((found[0][1],), found[0][1].note + caution)
    trended = [(s, t) for s, t in found if t.fitted_months]
    flat = [(s, t) for s, t in found if not t.fitted_months]
    parts = [f"{_files(s)}: {t.summary}" for s, t in trended]
    if len(flat) <= FLAT_SOURCES_LISTED:
        parts += [f"{_files(s)}: {t.summary}" for s, t in flat]
    else:
        together = sum((t.intercept for _, t in flat), Fraction(0))
        which = f"{len(flat)} others" if trended else f"all {len(flat)}"
        parts.append(
            f"{which} flat at their mean daily volume over the days their files cover "
            f"({float(together):,.0f} tokens a day together)"
        )
    note = (
        f"{VOLUME_NOTE}the sum of {len(found)} sources' own volumes, each continued from the days its own files "
        "cover (inputs of different formats or periods are not compared month by month): "
        f"{'; '.join(parts)}. Never below zero; the observed mix of models, token classes, tiers, times of day and "
        f"request sizes is held; no seasonality.{caution}"
    )
    return Volume(tuple(t for _, t in found), note)


def _files(source: SourceVolume) -> str:
    return _listed(list(source.files), 2)


def _stale_caution(sources: list[SourceVolume], as_of: date) -> str:
    """Sources that end well before the latest, or inputs that end well before as-of: their volume is held as it
    was, which a traffic that has stopped or grown since is not."""
    latest = max(max(s.covered) for s in sources)
    stale = sorted(
        (s for s in sources if (latest - max(s.covered)).days > STALE_DAYS), key=lambda s: (max(s.covered), s.files)
    )
    parts = []
    if stale:
        shown = _listed([f"{_files(s)} (to {max(s.covered)})" for s in stale], 4, "; ", "; ")
        parts.append(
            f"{len(stale)} source(s) end more than {STALE_DAYS} days before the latest ({latest}): {shown}. "
            "Their volume is held as if they went on; if that traffic has stopped, leave their files out."
        )
    behind = (as_of - latest).days
    if behind > STALE_DAYS:
        parts.append(
            f"The inputs end on {latest}, {behind} days before the as-of date ({as_of}): the forecast holds the "
            "volume they show, whatever it has become since."
        )
    return CAUTION + " ".join(parts) if parts else ""


Covers = Literal["days", "months", "log"]


@dataclass(frozen=True)
class ForecastInput:
    """What the forecast needs to know of an input file: its name, its usage family (the files whose records or days
    the scan counts once between them: one source) and what it covers (`Covers`): "days", the days from its first
    to its last used row (an export of a chosen range); "months", the calendar months of its lines (a bill: its lines
    fall on the days something was charged, its period is the billing month); "log", with the other files of its log
    every day from the first to the last (a log kept in files by session, object or job: `Importer.split_log`)."""

    name: str
    family: str
    covers: Covers

    @staticmethod
    def of(name: str, importer: Importer) -> ForecastInput:
        covers: Covers = "months" if importer.kind == "cost" else "log" if importer.split_log else "days"
        return ForecastInput(name, importer.usage_family, covers)


def source_volumes(usage: pd.DataFrame, files: Sequence[ForecastInput], as_of: date) -> list[SourceVolume]:
    """Each source's priced daily volume and covered days from the usage table (rows carry their file's index in
    SOURCE_FILE), `files` by that index, each covering what its `covers` says (a bill's months up to as-of)."""
    if usage.empty:
        return []
    text_days = usage["day"].astype(str)
    days = text_days.map({d: date.fromisoformat(d) for d in text_days.unique().tolist()})
    spans = days.groupby(usage[SOURCE_FILE]).agg(["min", "max"])
    priced = usage[MODEL_REF] != ""
    volume = usage.loc[priced, VOLUME_COLUMNS].sum(axis=1)
    by_file_day = volume.groupby([usage.loc[priced, SOURCE_FILE], days[priced]]).sum()
    families: dict[str, tuple[list[str], dict[date, int], set[date]]] = {}
    logs: dict[str, tuple[date, date]] = {}  # each family's log files: from their first day to their last
    for index, first, last in zip(spans.index.tolist(), spans["min"].tolist(), spans["max"].tolist(), strict=True):
        file = files[int(index)]
        names, _, covered = families.setdefault(file.family, ([], {}, set()))
        names.append(file.name)
        if file.covers == "log":
            start, end = logs.get(file.family, (first, last))
            logs[file.family] = (min(start, first), max(end, last))
            continue
        if file.covers == "months":
            first, last = _month_start(first), max(last, min(as_of, _next_month(_month_start(last)) - timedelta(1)))
        covered.update(_days(first, last))
    for family, (first, last) in logs.items():
        families[family][2].update(_days(first, last))
    for (index, day), tokens in zip(by_file_day.index.tolist(), by_file_day.tolist(), strict=True):
        daily = families[files[int(index)].family][1]
        daily[day] = daily.get(day, 0) + int(tokens)
    return [
        SourceVolume(tuple(sorted(names)), daily, frozenset(covered))
        for _, (names, daily, covered) in sorted(families.items())
    ]


def _regime(model: CatalogModel, day: date) -> date | None:
    """The start of the model's dated price in force on `day` (None: its undated prices)."""
    return max((d for d in start_dates(model) if d <= day), default=None)


def _scaled(cost: Decimal, factor: Fraction) -> Decimal:
    return cost * Decimal(factor.numerator) / Decimal(factor.denominator)


def build_forecast(
    usage: pd.DataFrame,
    shape: pd.DataFrame,
    pricebook: Pricebook,
    candidates: list[CatalogModel],
    as_of: date,
    files: Sequence[ForecastInput],
    hybrid: Scenario | None = None,
    segmented: pd.DataFrame | None = None,
) -> Forecast:
    """Scheduled changes of the current models and candidates after as-of, and the 12-month forecast. `files`: the
    input files by their index in the usage table's SOURCE_FILE. `hybrid`, the route-by-segment scenario, is
    forecast beside the candidates: each segment's rows on the candidate it routes them to, or on their own models
    where it stays; the rows by segment are `segmented` (`Repricing.priced`, by API key where the run has the shape
    by key), else the shape's."""
    priced = priced_shape(shape)
    current_refs = sorted(priced[MODEL_REF].unique()) if not priced.empty else []
    current = [pricebook.models[r] for r in current_refs]
    changes = _changes(priced, current, candidates, as_of)
    trend = forecast_volume(source_volumes(usage, files, as_of), as_of)
    volume = int(priced[VOLUME_COLUMNS].to_numpy().sum()) if not priced.empty else 0
    if trend is None or volume == 0:
        return Forecast([], changes, [])
    sums = ["requests", *TOKEN_COLUMNS]
    by_model = priced.groupby([MODEL_REF, *_PRICE_KEYS], sort=True)[sums].sum().reset_index()
    workload = by_model.groupby(_PRICE_KEYS, sort=True)[sums].sum().reset_index()
    book = pricebook.rates
    costs: dict[Hashable, Decimal] = {}

    def cost_at(part: str, rows: pd.DataFrame, model: CatalogModel | None, day: date) -> Decimal:
        """`rows` at the prices in force on `day`: on `model`, or (None) each on its own model."""
        regime = _regime(model, day) if model is not None else tuple(_regime(m, day) for m in current)
        key = (part, model.ref if model is not None else "", regime)
        if key not in costs:
            ids = (
                book.rate_ids(rows, {}, fixed=model, on_day=day)
                if model
                else book.rate_ids(rows, pricebook.models, on_day=day)
            )
            costs[key] = total_cost(rows, ids, book.rates)
        return costs[key]

    plans: dict[str, list[tuple[str, pd.DataFrame, CatalogModel | None]]] = {
        c.ref: [("all", workload, c)] for c in candidates
    }
    if hybrid is not None:
        by_segment = segmented if segmented is not None else priced
        plans[hybrid.candidate] = _hybrid_parts(by_segment, hybrid, {c.ref: c for c in candidates})

    breaks = sorted({d for m in [*current, *candidates] for d in start_dates(m)})
    months = []
    for first in forecast_months(as_of):
        end = _next_month(first)
        starts = [first, *(d for d in breaks if first < d < end)]
        parts = [(s, ((starts[i + 1] if i + 1 < len(starts) else end) - s).days) for i, s in enumerate(starts)]
        daily = trend.daily(first)
        baseline = Decimal(0)
        projected = dict.fromkeys(plans, Decimal(0))
        for start, days in parts:
            factor = daily * days / volume
            baseline += _scaled(cost_at("all", by_model, None, start), factor)
            for name, plan in plans.items():
                on_day = sum((cost_at(part, rows, model, start) for part, rows, model in plan), Decimal(0))
                projected[name] += _scaled(on_day, factor)
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
        "Forecast cost: the baseline on the current models and each scenario on its candidate (the route-by-segment "
        "scenario: each segment on the candidate it is routed to, or on its own models where it stays) at the list "
        "prices in force in each month, scheduled price changes of the catalog applied from their day "
        "(see price_changes); deprecations are listed, not applied. The forecast prices the observed token mix "
        "as it is: the migration assumptions (tokenizer, verbosity, cache, batch and off-peak shares) that the "
        "scenarios' projected cost includes are not applied to it, so a scenario's first forecast month and its "
        "projected cost can differ by them.",
    ]
    return Forecast(months, changes, notes)


def _hybrid_parts(
    priced: pd.DataFrame, hybrid: Scenario, candidates: dict[str, CatalogModel]
) -> list[tuple[str, pd.DataFrame, CatalogModel | None]]:
    """The hybrid's rows as the forecast prices them: summed per candidate a segment is routed to, and the rows of
    segments that stay (or that it does not name) on their own models."""
    segment = segment_names(priced, hybrid.segmented_by)
    routes = {c.segment: c.candidate for c in hybrid.segments if c.candidate is not None}
    routed = np.array([routes.get(name, "") for name in segment.tolist()], dtype=object)
    sums = ["requests", *TOKEN_COLUMNS]
    parts: list[tuple[str, pd.DataFrame, CatalogModel | None]] = []
    for ref in sorted(set(routes.values())):
        rows = priced[routed == ref].groupby(_PRICE_KEYS, sort=True)[sums].sum().reset_index()
        parts.append((f"hybrid {ref}", rows, candidates[ref]))
    stays = priced[routed == ""]
    if not stays.empty:
        rows = stays.groupby([MODEL_REF, *_PRICE_KEYS], sort=True)[sums].sum().reset_index()
        parts.append(("hybrid stays", rows, None))
    return parts


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
