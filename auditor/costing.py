"""Exact cost of workload segments: rates are resolved once per price regime, tokens summed per regime.

The number of rate look-ups depends on the distinct (model, day, time slot, tier, request size) keys,
never on the number of input rows; the Decimal arithmetic runs once per (output group × regime).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import pandas as pd

from auditor.ledger import TOKEN_COLUMNS
from pricing.catalog import CatalogModel
from pricing.rates import ClassRates, class_rates, cost_of

_RATE_KEYS = ("day", "time_slot", "service_tier", "request_size_floor_tokens")


def _rate_ids(segments: pd.DataFrame, model_of_ref: dict[str, CatalogModel], model_column: str | None,
              fixed_model: CatalogModel | None, on_day: date | None) -> tuple[pd.Series, list[ClassRates]]:
    """A rate id per segment, and the rates each id stands for."""
    keys = [*([model_column] if model_column else []), *_RATE_KEYS]
    frame = segments[keys].copy()
    if on_day is not None:
        frame["day"] = on_day.isoformat()
    combos = frame.drop_duplicates()
    rates: list[ClassRates] = []
    index_of: dict[ClassRates, int] = {}
    ids: list[int] = []
    for row in combos.itertuples(index=False):
        values = row._asdict()
        model = fixed_model if fixed_model is not None else model_of_ref[str(values[model_column or ""])]
        found = class_rates(
            model, date.fromisoformat(str(values["day"])), int(values["time_slot"]), str(values["service_tier"]),
            int(values["request_size_floor_tokens"]),
        )
        if found not in index_of:
            index_of[found] = len(rates)
            rates.append(found)
        ids.append(index_of[found])
    combos = combos.assign(_rate_id=ids)
    merged = frame.merge(combos, on=keys, how="left")
    return pd.Series(merged["_rate_id"].to_numpy(), index=segments.index), rates


def cost_by_group(
    segments: pd.DataFrame,
    group_by: Sequence[str],
    *,
    model_of_ref: dict[str, CatalogModel] | None = None,
    model_column: str | None = None,
    fixed_model: CatalogModel | None = None,
    on_day: date | None = None,
) -> dict[tuple[object, ...], Decimal]:
    """USD cost of the segments per group, each segment at its own model (or `fixed_model`).

    Prices are those in force on the segment's day, or on `on_day` for every segment when given;
    each segment keeps its time-of-day slot, service tier and request-size bucket.
    """
    if segments.empty:
        return {}
    rate_ids, rates = _rate_ids(segments, model_of_ref or {}, model_column, fixed_model, on_day)
    work = segments.assign(_rate_id=rate_ids)
    sums = work.groupby([*group_by, "_rate_id"], sort=True)[[*TOKEN_COLUMNS, "requests"]].sum()
    out: dict[tuple[object, ...], Decimal] = {}
    for key, row in zip(sums.index, sums.to_dict("records"), strict=True):
        *group, rate_id = key if isinstance(key, tuple) else (key,)
        tokens = {c: int(row[c]) for c in TOKEN_COLUMNS}
        cost = cost_of(rates[int(rate_id)], tokens, int(row["requests"]))
        out[tuple(group)] = out.get(tuple(group), Decimal(0)) + cost
    return out
