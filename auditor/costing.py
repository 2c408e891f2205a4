"""Exact cost of workload tables whose rows carry a rate id: tokens summed per (group, rate), then priced.

The Decimal arithmetic runs once per (output group × rate id), never per input row.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pandas as pd

from auditor.ledger import TOKEN_COLUMNS
from pricing.ratebook import NO_RATE
from pricing.rates import ClassRates, cost_of


def cost_by_group(
    frame: pd.DataFrame, rate_ids: np.ndarray, rates: list[ClassRates], group_by: Sequence[str]
) -> dict[tuple[object, ...], Decimal]:
    """USD cost per group of the rows that have a rate (rows with NO_RATE are left out)."""
    priced = rate_ids != NO_RATE
    if not priced.any():
        return {}
    work = frame.loc[priced, [*group_by, *TOKEN_COLUMNS, "requests"]].assign(_rate_id=rate_ids[priced])
    sums = work.groupby([*group_by, "_rate_id"], sort=True)[[*TOKEN_COLUMNS, "requests"]].sum()
    out: dict[tuple[object, ...], Decimal] = {}
    for key, row in zip(sums.index, sums.to_dict("records"), strict=True):
        *group, rate_id = key if isinstance(key, tuple) else (key,)
        cost = cost_of(rates[int(rate_id)], {c: int(row[c]) for c in TOKEN_COLUMNS}, int(row["requests"]))
        out[tuple(group)] = out.get(tuple(group), Decimal(0)) + cost
    return out


def total_cost(frame: pd.DataFrame, rate_ids: np.ndarray, rates: list[ClassRates]) -> Decimal:
    return sum(cost_by_group(frame, rate_ids, rates, []).values(), Decimal(0))
