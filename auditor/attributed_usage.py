"""Usage by project and by API key: the usage table's rows by project (or key), vendor, model line and month, billed
and at list price.

The rows are cut from the same usage table and model lines as `usage` and `usage_by_month` (`auditor/summary.py`),
so they add up to the totals exactly:
- billed cost, requests and tokens are integer sums (nano-dollars for money), exact at any cut;
- the list cost total counts, per vendor, model line and UTC month, the catalog cost of the tokens rounded to the
  nano-dollar, and a cost export's own list price only on a line and month without tokens of a (vendor, month) no
  usage export covers. Each piece of such a month line (its project or key, and local month) counts the same way:
  the exact catalog cost rounded to the nano-dollar, and the line's own rounding (at most a few nano-dollars) given
  to its largest piece, so the pieces add up to the month line, and the rows to the total.
"""

from __future__ import annotations

from collections.abc import Hashable
from decimal import Decimal

import numpy as np
import pandas as pd

from auditor.costing import cost_by_group
from auditor.ledger import NANOS_PER_UNIT, SUM_COLUMNS, TOKEN_COLUMNS
from auditor.result import NO_KEY, NO_PROJECT, KeyUsage, ProjectUsage, money
from auditor.summary import MODEL_LINE
from auditor.workload import LOCAL_DAY, LOCAL_MONTH, RATE_ID, UTC_MONTH, Pricebook
from pricing.resolve import resolve_model

_MONTH, _UTC_MONTH = "_month", "_utc_month"
_UTC_LINE = ["provider", MODEL_LINE, _UTC_MONTH]
Names = dict[tuple[str, str], tuple[str, list[str]]]


def build_usage_by_project(lines: pd.DataFrame, names: Names, pricebook: Pricebook) -> list[ProjectUsage]:
    """One row per (project, vendor, model line, month of the local day), from `summary.model_lines`' table."""
    rows = _usage_by("project", lines, names, pricebook)
    return [ProjectUsage.model_validate({"project": name or NO_PROJECT, **row}) for name, row in rows]


def build_usage_by_key(lines: pd.DataFrame, names: Names, pricebook: Pricebook) -> list[KeyUsage]:
    """One row per (API key, vendor, model line, month of the local day), from the usage by API key with its model
    lines (`summary.with_lines_of`)."""
    rows = _usage_by("api_key", lines, names, pricebook)
    return [KeyUsage.model_validate({"api_key": name or NO_KEY, **row}) for name, row in rows]


def _usage_by(
    column: str, lines: pd.DataFrame, names: Names, pricebook: Pricebook
) -> list[tuple[str, dict[str, object]]]:
    """The rows by `column` (its value, '' for none; then the row's other fields), those with a value first, each
    part in the order of value, vendor, model line and month."""
    if lines.empty:
        return []
    frame = _by_month(lines, column)
    priced = {key for key, (name, _) in names.items() if resolve_model(key[0], name).model is not None}
    list_costs = _list_costs(frame, column, pricebook, priced)
    sums = frame.groupby([column, "provider", MODEL_LINE, _MONTH], sort=True)[list(SUM_COLUMNS)].sum()
    rows: list[tuple[str, dict[str, object]]] = []
    for key, row in zip(sums.index, sums.to_dict("records"), strict=True):
        name, provider, line, month = (str(k) for k in key)
        model_raw, _ = names[(provider, line)]
        resolution = resolve_model(provider, model_raw)
        fields: dict[str, object] = {
            "attributed": bool(name),
            "month": month,
            "provider": provider,
            "model_raw": model_raw,
            "model": resolution.model.ref if resolution.model else None,
            "requests": int(row["requests"]) if row["requests_known_lines"] else None,
            **{c: int(row[c]) for c in TOKEN_COLUMNS},
            "billed_cost": money(_usd(row["billed_nanos"])) if row["billed_lines"] else None,
            "list_cost": list_costs.get(key),
        }
        rows.append((name, fields))
    return sorted(rows, key=lambda r: (not r[0], r[0], r[1]["provider"], r[1]["model_raw"], r[1]["month"]))


def _by_month(lines: pd.DataFrame, column: str) -> pd.DataFrame:
    """The lines summed by `column` (its value, '' for none), vendor, model line, UTC and local month, and rate, with
    how many of them carry tokens (`_tokens`) and tokens or requests (`_carries`). Every figure of the rows is a sum
    of these (a cost, of the tokens at one rate), so they come out as from the lines. Counts of rows are read as
    "any": a sum of token counts (never below 0) carries tokens where one of its rows did."""
    has_tokens = lines[list(TOKEN_COLUMNS)].sum(axis=1) > 0
    frame = lines[[column, "provider", MODEL_LINE, RATE_ID, *SUM_COLUMNS]]
    if LOCAL_MONTH in lines.columns:  # the usage by API key is by month already
        frame[_MONTH], frame[_UTC_MONTH] = lines[LOCAL_MONTH].astype(str), lines[UTC_MONTH].astype(str)
    else:
        frame[_MONTH] = lines[LOCAL_DAY].astype(str).str.slice(0, 7)
        frame[_UTC_MONTH] = lines["day"].astype(str).str.slice(0, 7)
    frame["_tokens"] = has_tokens.astype(np.int64)
    frame["_carries"] = (has_tokens | (lines["requests"] > 0)).astype(np.int64)
    keys = [column, "provider", MODEL_LINE, _UTC_MONTH, _MONTH, RATE_ID]
    sums = [*SUM_COLUMNS, "_tokens", "_carries"]
    summed = frame.groupby(keys, sort=False, dropna=False, observed=True)[sums].sum().reset_index()
    summed[column] = summed[column].fillna("").astype(str)
    return summed


def _usd(nanos: int) -> Decimal:
    return Decimal(int(nanos)) / NANOS_PER_UNIT


def _list_costs(
    frame: pd.DataFrame, column: str, pricebook: Pricebook, priced: set[tuple[str, str]]
) -> dict[tuple[Hashable, ...], Decimal]:
    """List cost per row key, counted as `summary`'s list cost total counts it (see the module's docstring); a
    row with nothing counted (unpriced, no tokens or requests, no counted list price) has no entry."""
    pieces = [*_UTC_LINE, column, _MONTH]
    exact = cost_by_group(frame, frame[RATE_ID].to_numpy(), pricebook.rates.rates, pieces)
    line_carries = frame.groupby(_UTC_LINE, sort=True)["_carries"].any().to_dict()
    covered = frame.groupby(["provider", _UTC_MONTH], sort=True)["_tokens"].any().to_dict()
    sums = frame.groupby(pieces, sort=True)[["_carries", "source_list_lines", "source_list_nanos"]].sum()
    catalog: dict[tuple[Hashable, ...], list[tuple[tuple[Hashable, ...], Decimal]]] = {}
    counted: dict[tuple[Hashable, ...], Decimal] = {}
    for piece, row in zip(sums.index, sums.to_dict("records"), strict=True):
        provider, line, utc_month, name, month = piece
        key = (name, provider, line, month)
        if line_carries[(provider, line, utc_month)]:
            # A piece without tokens or requests has nothing to price (its catalog cost is 0).
            if row["_carries"] and (str(provider), str(line)) in priced:
                catalog.setdefault((provider, line, utc_month), []).append((key, exact.get(tuple(piece), Decimal(0))))
        elif row["source_list_lines"] and not covered[(provider, utc_month)]:
            counted[key] = counted.get(key, Decimal(0)) + money(_usd(row["source_list_nanos"]))
    for parts in catalog.values():
        rounded = [money(cost) for _, cost in parts]
        rest = money(sum((cost for _, cost in parts), Decimal(0))) - sum(rounded, Decimal(0))
        largest = max(range(len(parts)), key=lambda i: (parts[i][1], -i))
        rounded[largest] += rest
        for (row_key, _), amount in zip(parts, rounded, strict=True):
            counted[row_key] = counted.get(row_key, Decimal(0)) + amount
    return counted
