"""Exact cost of workload tables whose rows carry a rate id: tokens summed per (group, rate), then priced.

The Decimal arithmetic runs once per (output group × rate id), never per input row. The sums are plain integer
numpy (exact), not pandas: the tables are small and a pandas group-by per call costs more than the arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pandas as pd

from auditor.ledger import TOKEN_COLUMNS
from pricing.ratebook import NO_RATE
from pricing.rates import ClassRates, cost_of


def sums_by_key(codes: Sequence[np.ndarray], values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`values` (rows × columns) summed per distinct key, a key being the row's entry in each of `codes` (integer
    arrays), in ascending key order (the first array first), as a sorted group-by gives them: one row of each
    group (to read its key from) and the sums."""
    n = len(values)
    if n == 0:
        return np.empty(0, dtype=np.int64), values[:0]
    order = np.lexsort(tuple(reversed(codes))) if codes else np.arange(n)
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for c in codes:
        ordered = c[order]
        change[1:] |= ordered[1:] != ordered[:-1]
    starts = np.flatnonzero(change)
    return order[starts], np.add.reduceat(values[order], starts, axis=0)


def column_codes(column: pd.Series) -> tuple[np.ndarray, list[object]]:
    """The column's codes (-1 where missing) and its distinct values in ascending order. Text is factorized in its
    own (Arrow) array: made into a Python string a row first, a usage table over 1,000 API keys took seconds more."""
    values = column.array if pd.api.types.is_string_dtype(column.dtype) else column.to_numpy()
    codes, uniques = pd.factorize(values, sort=True)
    return codes, list(uniques.tolist())


def cost_by_group(
    frame: pd.DataFrame, rate_ids: np.ndarray, rates: list[ClassRates], group_by: Sequence[str]
) -> dict[tuple[object, ...], Decimal]:
    """USD cost per group of the rows that have a rate (rows with NO_RATE, or a missing group value, are left out),
    in the groups' sorted order."""
    priced = rate_ids != NO_RATE
    if not priced.any():
        return {}
    factorized = [column_codes(frame[c]) for c in group_by]
    kept = priced
    for all_codes, _ in factorized:
        kept = kept & (all_codes >= 0)  # a missing value: the group-by leaves the row out
    # The rows kept, taken once (and not at all when they are every row): over 1,000 API keys a usage table has
    # millions of rows, and each copy of its counts over 100 MiB.
    rows = None if kept.all() else np.flatnonzero(kept)
    values = frame[[*TOKEN_COLUMNS, "requests"]].to_numpy()
    ids, codes = rate_ids, [c for c, _ in factorized]
    if rows is not None:
        ids, codes, values = ids[rows], [c[rows] for c in codes], values[rows]
    first, sums = sums_by_key([*codes, ids], values)
    names = [uniques for _, uniques in factorized]
    out: dict[tuple[object, ...], Decimal] = {}
    for row, sum_row in zip(first.tolist(), sums.tolist(), strict=True):
        group = tuple(n[c[row]] for n, c in zip(names, codes, strict=True))
        *tokens, requests = (int(v) for v in sum_row)
        cost = cost_of(rates[int(ids[row])], dict(zip(TOKEN_COLUMNS, tokens, strict=True)), requests)
        out[group] = out.get(group, Decimal(0)) + cost
    return out


def total_cost(frame: pd.DataFrame, rate_ids: np.ndarray, rates: list[ClassRates]) -> Decimal:
    return sum(cost_by_group(frame, rate_ids, rates, []).values(), Decimal(0))
