"""Usage, monthly usage, totals, notes and warnings of the result, from segments and the priced workload."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from decimal import Decimal
from typing import Any, Literal

import pandas as pd

from auditor.costing import cost_by_group
from auditor.importers import importer_named
from auditor.ingest import IngestedFile
from auditor.ledger import NANOS_PER_UNIT, SIZE_BASIS_AVERAGE, SIZE_BASIS_LABEL, SUM_COLUMNS, TOKEN_COLUMNS
from auditor.result import MonthlyUsage, Totals, UsageEntry, is_unpriced, money
from auditor.workload import LOCAL_DAY, RATE_ID, Pricebook
from pricing.resolve import resolve_model

_SIZE_BASIS_ORDER = ("request", SIZE_BASIS_AVERAGE, SIZE_BASIS_LABEL)


def _nanos(value: int) -> Decimal:
    return Decimal(int(value)) / NANOS_PER_UNIT


def _billed(row: Mapping[Hashable, Any], column: str = "billed_nanos") -> Decimal | None:
    return money(_nanos(row[column])) if row["billed_lines"] else None


def _tokens(row: Mapping[Hashable, Any]) -> dict[str, int]:
    return {c: int(row[c]) for c in TOKEN_COLUMNS}


def summarise_usage(
    usage_table: pd.DataFrame, shape_table: pd.DataFrame, pricebook: Pricebook, ingested: list[IngestedFile]
) -> tuple[list[UsageEntry], list[MonthlyUsage], Totals, list[str], list[str]]:
    """The result's usage sections from the usage table (list cost at the rates in force when used).

    Months are those of the local day (`--tz`); which (vendor, month)s a usage export covers is judged on
    UTC months, as the exports' own, so the list cost total does not move with the time zone."""
    usage = _usage_entries(usage_table, pricebook)
    by_month = _monthly(usage_table, pricebook, LOCAL_DAY)
    same_days = usage_table[LOCAL_DAY].equals(usage_table["day"])
    totals = _totals(usage_table, usage, by_month if same_days else _monthly(usage_table, pricebook, "day"))
    notes = _notes(usage_table, shape_table) + _billing_coverage(ingested)
    return usage, by_month, totals, notes, _warnings(usage, ingested)


def _list_costs(table: pd.DataFrame, pricebook: Pricebook, keys: list[str]) -> dict[tuple[object, ...], Decimal]:
    return cost_by_group(table, table[RATE_ID].to_numpy(), pricebook.rates.rates, keys)


def _usage_entries(segments: pd.DataFrame, pricebook: Pricebook) -> list[UsageEntry]:
    keys = ["provider", "model_raw"]
    sums = segments.groupby(keys, sort=True)[list(SUM_COLUMNS)].sum()
    bases = segments.groupby(keys, sort=True)["size_basis"].agg(lambda s: sorted(set(s), key=_SIZE_BASIS_ORDER.index))
    catalog_costs = _list_costs(segments, pricebook, keys)
    entries = []
    for (provider, model_raw), row in zip(sums.index, sums.to_dict("records"), strict=True):
        resolution = resolve_model(str(provider), str(model_raw))
        list_cost, basis = _list_cost(row, catalog_costs.get((provider, model_raw)), resolution.model is not None)
        entries.append(
            UsageEntry(
                provider=str(provider),
                model_raw=str(model_raw),
                model=resolution.model.ref if resolution.model else None,
                requests=int(row["requests"]) if row["requests_known_lines"] else None,
                **_tokens(row),
                billed_cost=_billed(row),
                billed_non_token_cost=_billed(row, "billed_non_token_nanos"),
                byok_upstream_cost=money(_nanos(row["byok_upstream_nanos"])) if row["byok_upstream_nanos"] else None,
                list_cost=list_cost,
                list_cost_basis=basis,
                size_basis=", ".join(bases[(provider, model_raw)]),
                unpriced_reason=(resolution.unpriced_reason or None) if resolution.model is None else None,
                suggestions=list(resolution.suggestions) if resolution.model is None else [],
            )
        )
    return entries


def _list_cost(
    row: Mapping[Hashable, Any], catalog: Decimal | None, is_priced: bool
) -> tuple[Decimal | None, Literal["catalog", "source"] | None]:
    """Catalog list cost of the tokens; for token-less cost rows, the source's own list price."""
    # Requests with no tokens cost $0 at list price; that is a figure, not a missing price.
    if any(row[c] for c in TOKEN_COLUMNS) or row["requests"]:
        return (money(catalog if catalog is not None else Decimal(0)), "catalog") if is_priced else (None, None)
    if row["source_list_lines"]:
        return money(_nanos(row["source_list_nanos"])), "source"
    # Money without tokens and without a stated list price (a cost export): nothing to price, never $0.
    return None, None


def _monthly(segments: pd.DataFrame, pricebook: Pricebook, day_column: str) -> list[MonthlyUsage]:
    keys = ["provider", "model_raw", "month"]
    frame = segments.assign(month=segments[day_column].str.slice(0, 7))
    costs = _list_costs(frame, pricebook, keys)
    sums = frame.groupby(keys, sort=True)[list(SUM_COLUMNS)].sum()
    rows = []
    for (provider, model_raw, month), row in zip(sums.index, sums.to_dict("records"), strict=True):
        resolution = resolve_model(str(provider), str(model_raw))
        list_cost, _ = _list_cost(row, costs.get((provider, model_raw, month)), resolution.model is not None)
        rows.append(
            MonthlyUsage(
                month=str(month),
                provider=str(provider),
                model_raw=str(model_raw),
                model=resolution.model.ref if resolution.model else None,
                requests=int(row["requests"]) if row["requests_known_lines"] else None,
                **_tokens(row),
                billed_cost=_billed(row),
                list_cost=list_cost,
            )
        )
    return rows


def _list_cost_total(by_month: list[MonthlyUsage]) -> Decimal | None:
    """Catalog list cost of the tokens, plus list prices stated by cost exports for the (vendor, month)s
    that no usage export covers: the same spend is never counted from both."""
    with_tokens = {(m.provider, m.month) for m in by_month if _has_tokens(m)}
    costs = [
        m.list_cost
        for m in by_month
        if m.list_cost is not None and (_has_tokens(m) or (m.provider, m.month) not in with_tokens)
    ]
    return sum(costs, Decimal(0)) if costs else None


def _has_tokens(row: MonthlyUsage | UsageEntry) -> bool:
    return any(getattr(row, c) for c in TOKEN_COLUMNS)


def _totals(segments: pd.DataFrame, usage: list[UsageEntry], by_month: list[MonthlyUsage]) -> Totals:
    billed_lines = int(segments["billed_lines"].sum()) if not segments.empty else 0
    unpriced = [u for u in usage if is_unpriced(u)]
    return Totals(
        requests=int(segments["requests"].sum()) if not segments.empty else 0,
        **{c: int(segments[c].sum()) if not segments.empty else 0 for c in TOKEN_COLUMNS},
        billed_cost=money(_nanos(int(segments["billed_nanos"].sum()))) if billed_lines else None,
        list_cost=_list_cost_total(by_month),
        unpriced_requests=sum(u.requests or 0 for u in unpriced),
        unpriced_models=len(unpriced),
        unpriced_tokens=sum(u.all_tokens() for u in unpriced),
    )


def _notes(segments: pd.DataFrame, shape: pd.DataFrame) -> list[str]:
    notes = [
        "Baseline list cost uses the catalog price in force on the day (and half hour) of the usage; "
        "scenarios re-price the same token mix at the as-of date, keeping each request's time of day, "
        "service tier and request size.",
        "Unpriced models are excluded from list cost and from scenarios; they are never counted as $0.",
    ]
    # Only lines with tokens are priced from request sizes (a cost export's money lines are not).
    with_tokens = segments[segments[list(TOKEN_COLUMNS)].sum(axis=1) > 0] if not segments.empty else segments
    bases = set(with_tokens["size_basis"]) if not with_tokens.empty else set()
    if SIZE_BASIS_AVERAGE in bases:
        notes.append(
            "Bucketed exports give no request sizes: long-context tiers are chosen from the average "
            "request of each row (lower confidence than request-level logs)."
        )
    if SIZE_BASIS_LABEL in bases:
        notes.append(
            "Anthropic exports give no request counts: long-context tiers follow each row's "
            "context-window label; tiers below 200k tokens are priced at their base rate."
        )
    if not shape.empty and ((shape["time_slot"] < 0) & (shape[list(TOKEN_COLUMNS)].sum(axis=1) > 0)).any():
        notes.append(
            "Daily buckets have no time of day: time-of-day prices (peak/off-peak) are averaged "
            "evenly over the day for them."
        )
    return notes


def _billing_coverage(ingested: list[IngestedFile]) -> list[str]:
    """Say which inputs state charges when others carry tokens only: the two totals then cover different usage."""
    stating = sorted({f.account.format for f in ingested if _states_charges(f.account.format)})
    silent = sorted({f.account.format for f in ingested if not _states_charges(f.account.format)})
    if not stating or not silent:
        return []
    return [
        f"Billed cost is stated only by {', '.join(stating)}; {', '.join(silent)} carry tokens without charges, "
        "so the billed total and the list cost total cover different usage."
    ]


def _states_charges(format_name: str) -> bool:
    importer = importer_named(format_name)
    return importer is not None and importer.ledger.get("billed_present", "false").strip() != "false"


def _warnings(usage: list[UsageEntry], ingested: list[IngestedFile]) -> list[str]:
    warnings = []
    for f in ingested:
        if f.account.rows_rejected:
            warnings.append(f"{f.account.path}: {f.account.rows_rejected} row(s) rejected; see the rejected rows.")
    for u in usage:
        if is_unpriced(u):
            warnings.append(f"{u.provider} model '{u.model_raw}' is unpriced: {u.unpriced_reason}.")
    kinds: dict[str, set[str]] = {}
    for f in ingested:
        importer = importer_named(f.account.format)
        if importer is not None:
            kinds.setdefault(f.account.format.split("_")[0], set()).add(importer.kind)
    for vendor, found in sorted(kinds.items()):
        if "cost" in found and found & {"usage", "requests"}:
            warnings.append(
                f"{vendor}: both a usage export and a cost export were given. Tokens (and list cost) come from "
                "the usage export, charges from the cost export, each under the model names its export uses; "
                "list cost stated by the cost export is not added to the catalog list cost of the same usage."
            )
    return warnings
