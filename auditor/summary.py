"""Usage, monthly usage, totals, notes and warnings of the result, from segments and the priced workload."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from auditor.costing import cost_by_group
from auditor.importers import importer_named
from auditor.ingest import IngestedFile
from auditor.ledger import NANOS_PER_UNIT, SIZE_BASIS_AVERAGE, SIZE_BASIS_LABEL, SUM_COLUMNS, TOKEN_COLUMNS
from auditor.result import MonthlyUsage, Totals, UsageEntry, is_unpriced, money
from auditor.workload import LOCAL_DAY, MODEL_REF, RATE_ID, Pricebook
from pricing.resolve import resolve_model

if TYPE_CHECKING:
    from auditor.contract_pricing import ContractPricing

_SIZE_BASIS_ORDER = ("request", SIZE_BASIS_AVERAGE, SIZE_BASIS_LABEL)


def _nanos(value: int) -> Decimal:
    return Decimal(int(value)) / NANOS_PER_UNIT


def _billed(row: Mapping[Hashable, Any], column: str = "billed_nanos") -> Decimal | None:
    return money(_nanos(row[column])) if row["billed_lines"] else None


def _tokens(row: Mapping[Hashable, Any]) -> dict[str, Any]:
    return {c: int(row[c]) for c in TOKEN_COLUMNS}


SOURCE_FILE = "source_file"
"""Usage-table column: index of the input file a row came from (the result names each figure's files)."""
_LINE = "model_line"


Summary = tuple[list[UsageEntry], list[MonthlyUsage], Totals, list[str], list[str]]
"""The usage by line, by month and its totals, with notes and warnings (`summarise_usage`)."""


def summarise_usage(
    lines: pd.DataFrame,
    names: dict[tuple[str, str], tuple[str, list[str]]],
    shape_table: pd.DataFrame,
    pricebook: Pricebook,
    ingested: list[IngestedFile],
    contract: ContractPricing | None = None,
) -> Summary:
    """The result's usage sections from the usage table with its model lines and their names (`model_lines`; list
    cost at the rates in force when used).

    Months are those of the local day (`--tz`); which (vendor, month)s a usage export covers is judged on
    UTC months, as the exports' own, so the list cost total does not move with the time zone."""
    files = [f.account.path for f in ingested]
    usage = _usage_entries(lines, pricebook, names, files)
    by_month = _set_aside_stated(_monthly(lines, pricebook, names, LOCAL_DAY))
    same_days = lines[LOCAL_DAY].equals(lines["day"])
    utc_months = by_month if same_days else _set_aside_stated(_monthly(lines, pricebook, names, "day"))
    usage = _stated_by_month(usage, utc_months)
    if contract is not None:
        usage, by_month, utc_months = contract.apply_to_summary(
            lines, _LINE, pricebook, usage, by_month, utc_months, "day" if same_days else LOCAL_DAY
        )
    totals = _totals(lines, usage, utc_months)
    if contract is not None:
        totals = contract.total(totals, utc_months)
    notes = _notes(lines, shape_table) + _billing_coverage(ingested)
    return usage, by_month, totals, notes, _warnings(usage, ingested)


def _with_model_lines(segments: pd.DataFrame) -> pd.DataFrame:
    """Segments with the model line they are shown on: their own name, except that a name carrying only money
    (a cost export's line, `Claude Sonnet 4.5`) joins the one name carrying tokens of the same catalog model
    (the usage export's `claude-sonnet-4-5-20250929`), so charges and tokens meet on one line. Names that
    both carry tokens stay apart (Bedrock's `us.` and `eu.` profiles of one model: where data went matters)."""
    raw = segments["model_raw"].astype(str)
    refs = segments[MODEL_REF].fillna("").astype(str)
    carries = (segments[list(TOKEN_COLUMNS)].sum(axis=1) > 0) | (segments["requests"] > 0)
    token_names = pd.DataFrame({"provider": segments["provider"], "ref": refs, "raw": raw})[carries & (refs != "")]
    per_model = token_names.drop_duplicates().groupby(["provider", "ref"])["raw"].agg(list)
    single = {key: names[0] for key, names in per_model.items() if len(names) == 1}
    moved = ~raw.isin(set(token_names["raw"].unique())) & (refs != "")  # a name carrying only money, of a model
    joined = raw.copy()
    if moved.any():  # the few rows that move, one by one (not the whole table's)
        found = zip(segments["provider"][moved].tolist(), refs[moved].tolist(), raw[moved].tolist(), strict=True)
        joined[moved] = pd.Series([single.get((p, r), n) for p, r, n in found], index=joined.index[moved])
    return segments.assign(**{_LINE: joined})


def _line_names(lines: pd.DataFrame) -> dict[tuple[str, str], tuple[str, list[str]]]:
    """(provider, model line) → the name shown (the line's own) and the other names it holds."""
    pairs = lines[["provider", _LINE, "model_raw"]].drop_duplicates()
    names: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for provider, line, name in pairs.itertuples(index=False):
        key = (str(provider), str(line))
        others = names.get(key, (str(line), []))[1]
        names[key] = (str(line), sorted({*others, str(name)} - {str(line)}))
    return names


def _list_costs(table: pd.DataFrame, pricebook: Pricebook, keys: list[str]) -> dict[tuple[object, ...], Decimal]:
    return cost_by_group(table, table[RATE_ID].to_numpy(), pricebook.rates.rates, keys)


def _files_with(lines: pd.DataFrame, mask: pd.Series, keys: list[str], files: list[str]) -> dict[Any, list[str]]:
    """Per group of `keys`, the input files of its rows where `mask` holds."""
    if SOURCE_FILE not in lines or not mask.any():
        return {}
    # Each group's files once, not each of its rows: a group's files are a set.
    found = (
        lines.loc[mask, [*keys, SOURCE_FILE]]
        .drop_duplicates()
        .groupby(keys, sort=True)[SOURCE_FILE]
        .agg(lambda s: sorted({files[int(i)] for i in s}))
    )
    return dict(found.items())


def _usage_entries(
    segments: pd.DataFrame,
    pricebook: Pricebook,
    names: dict[tuple[str, str], tuple[str, list[str]]],
    files: list[str],
) -> list[UsageEntry]:
    keys = ["provider", _LINE]
    sums = segments.groupby(keys, sort=True)[list(SUM_COLUMNS)].sum()
    bases = segments.groupby(keys, sort=True)["size_basis"].agg(
        lambda s: sorted(s.unique(), key=_SIZE_BASIS_ORDER.index)
    )
    catalog_costs = _list_costs(segments, pricebook, keys)
    has_tokens = (segments[list(TOKEN_COLUMNS)].sum(axis=1) > 0) | (segments["requests"] > 0)
    token_files = _files_with(segments, has_tokens, keys, files)
    billed_files = _files_with(segments, segments["billed_lines"] > 0, keys, files)
    entries = []
    for (provider, line), row in zip(sums.index, sums.to_dict("records"), strict=True):
        model_raw, other_names = names[(str(provider), str(line))]
        resolution = resolve_model(str(provider), model_raw)
        list_cost, basis = _list_cost(row, catalog_costs.get((provider, line)), resolution.model is not None)
        entries.append(
            UsageEntry(
                provider=str(provider),
                model_raw=model_raw,
                model=resolution.model.ref if resolution.model else None,
                also_written_as=other_names,
                requests=int(row["requests"]) if row["requests_known_lines"] else None,
                **_tokens(row),
                billed_cost=_billed(row),
                billed_non_token_cost=_billed(row, "billed_non_token_nanos"),
                byok_upstream_cost=money(_nanos(row["byok_upstream_nanos"])) if row["byok_upstream_nanos"] else None,
                list_cost=list_cost,
                list_cost_basis=basis,
                size_basis=", ".join(bases[(provider, line)]),
                unpriced_reason=(resolution.unpriced_reason or None) if resolution.model is None else None,
                suggestions=list(resolution.suggestions) if resolution.model is None else [],
                token_files=token_files.get((provider, line), []),
                billed_files=billed_files.get((provider, line), []),
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


def _monthly(
    segments: pd.DataFrame,
    pricebook: Pricebook,
    names: dict[tuple[str, str], tuple[str, list[str]]],
    day_column: str,
) -> list[MonthlyUsage]:
    keys = ["provider", _LINE, "month"]
    frame = segments.assign(month=segments[day_column].str.slice(0, 7))
    costs = _list_costs(frame, pricebook, keys)
    sums = frame.groupby(keys, sort=True)[list(SUM_COLUMNS)].sum()
    rows = []
    for (provider, line, month), row in zip(sums.index, sums.to_dict("records"), strict=True):
        model_raw, _ = names[(str(provider), str(line))]
        resolution = resolve_model(str(provider), model_raw)
        list_cost, _ = _list_cost(row, costs.get((provider, line, month)), resolution.model is not None)
        rows.append(
            MonthlyUsage(
                month=str(month),
                provider=str(provider),
                model_raw=model_raw,
                model=resolution.model.ref if resolution.model else None,
                requests=int(row["requests"]) if row["requests_known_lines"] else None,
                **_tokens(row),
                billed_cost=_billed(row),
                list_cost=list_cost,
            )
        )
    return rows


def _set_aside_stated(by_month: list[MonthlyUsage]) -> list[MonthlyUsage]:
    """The month lines with the list price a cost export states itself set aside (`stated_list_cost`, not
    `list_cost`) in the (vendor, month)s a usage export covers with tokens: the same spend may be among those
    tokens, and is never counted from both. Every line's `list_cost` is then what the list cost total counts."""
    with_tokens = {(m.provider, m.month) for m in by_month if _has_tokens(m)}
    return [
        m.model_copy(update={"stated_list_cost": m.list_cost, "list_cost": None})
        if m.list_cost is not None and not _has_tokens(m) and (m.provider, m.month) in with_tokens
        else m
        for m in by_month
    ]


def _stated_by_month(usage: list[UsageEntry], utc_months: list[MonthlyUsage]) -> list[UsageEntry]:
    """Each line priced by its export's own list price counts the months the total counts (`_set_aside_stated`,
    on UTC months as the total), and shows the others' as `stated_list_cost`."""
    counted: dict[tuple[str, str], list[Decimal]] = {}
    stated: dict[tuple[str, str], Decimal] = {}
    for m in utc_months:
        key = (m.provider, m.model_raw)
        if m.list_cost is not None:
            counted.setdefault(key, []).append(m.list_cost)
        if m.stated_list_cost is not None:
            stated[key] = stated.get(key, Decimal(0)) + m.stated_list_cost
    out = []
    for u in usage:
        key = (u.provider, u.model_raw)
        if u.list_cost_basis == "source" and key in stated:
            amounts = counted.get(key)
            u = u.model_copy(
                update={
                    "list_cost": sum(amounts, Decimal(0)) if amounts else None,
                    "list_cost_basis": "source" if amounts else None,
                    "stated_list_cost": stated[key],
                }
            )
        out.append(u)
    return out


def _list_cost_total(by_month: list[MonthlyUsage]) -> Decimal | None:
    """Catalog list cost of the tokens, plus list prices stated by cost exports for the (vendor, month)s
    that no usage export covers (`_set_aside_stated`): the same spend is never counted from both."""
    costs = [m.list_cost for m in by_month if m.list_cost is not None]
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
        contract_cost=None,
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
    bases = set(with_tokens["size_basis"].unique()) if not with_tokens.empty else set()
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
        if not f.account.rows_read:
            warnings.append(f"{f.account.path}: holds no rows (a header only); it adds nothing to the audit.")
    for u in usage:
        if is_unpriced(u):
            warnings.append(f"{u.provider} model '{u.model_raw}' is unpriced: {u.unpriced_reason}.")
    warnings.extend(_token_sources_overlapping(ingested))
    kinds: dict[str, set[str]] = {}
    for f in ingested:
        importer = importer_named(f.account.format)
        if importer is not None:
            kinds.setdefault(f.account.format.split("_")[0], set()).add(importer.kind)
    for vendor, found in sorted(kinds.items()):
        if "cost" in found and found & {"usage", "requests"}:
            warnings.append(
                f"{vendor}: both a usage export and a cost export were given. Tokens (and list cost) come from "
                "the usage export, charges from the cost export; a model both name (in any spelling the catalog "
                "knows) is one line with its tokens and its charges, each line naming its files. List cost stated "
                "by the cost export is not added to the catalog list cost of the same usage."
            )
    return warnings


def _token_sources_overlapping(ingested: list[IngestedFile]) -> list[str]:
    """Warn, per vendor, where files of different families hold its tokens on the same days (a Cost and Usage
    Report and Bedrock invocation logs, a usage export and a gateway log): the auditor cannot tell whether a
    log's requests are inside an export's totals (then they count twice) or beside them (another account)."""
    days: dict[tuple[str, str], set[str]] = {}
    files: dict[tuple[str, str], set[str]] = {}
    for f in ingested:
        importer = importer_named(f.account.format)
        if importer is None or f.usage.empty:
            continue
        has_tokens = sum(f.usage[c].to_numpy() for c in TOKEN_COLUMNS) > 0
        providers, on_days = (f.usage[c].to_numpy()[has_tokens].tolist() for c in ("provider", "day"))
        for provider, day in set(zip(providers, on_days, strict=True)):
            key = (str(provider), importer.usage_family)
            days.setdefault(key, set()).add(str(day))
            files.setdefault(key, set()).add(f.account.format)
    warnings = []
    for provider in sorted({p for p, _ in days}):
        families = sorted(fam for p, fam in days if p == provider)
        shared = sorted(
            {d for a in families for b in families if a < b for d in days[(provider, a)] & days[(provider, b)]}
        )
        if not shared:
            continue
        kinds = sorted({fmt for fam in families for fmt in files[(provider, fam)]})
        span = shared[0] if len(shared) == 1 else f"{shared[0]} to {shared[-1]}"
        warnings.append(
            f"{provider}: tokens of {len(shared)} day(s) ({span}) come from several kinds of source "
            f"({', '.join(kinds)}). If a log holds requests an export or bill also counts (the same account seen "
            "through a gateway), they are counted twice: audit such sources separately, or give one of them."
        )
    return warnings


MODEL_LINE = _LINE
"""Column of `model_lines`: the model line a usage-table row is shown on (see `_with_model_lines`)."""


def model_lines(usage_table: pd.DataFrame) -> tuple[pd.DataFrame, dict[tuple[str, str], tuple[str, list[str]]]]:
    """The usage table with each row's model line, and each line's shown name: what the usage sections group on."""
    lines = _with_model_lines(usage_table)
    return lines, _line_names(lines)


def with_lines_of(table: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Another cut of `lines`' rows (the usage by API key) with the model line `model_lines` gave each model: a
    model's line is found over the whole usage, so it is the same in every cut."""
    names = lines[["provider", "model_raw", MODEL_REF, _LINE]].drop_duplicates(["provider", "model_raw", MODEL_REF])
    return table.merge(names, on=["provider", "model_raw", MODEL_REF], how="left", validate="many_to_one")
