"""Reconciliation: what was billed against the list cost, by vendor, model line and month, the variance explained.

For each usage-by-month line that states a billed cost, variance = billed − list (the line's `list_cost`: the
catalog price of its tokens at the tier as served, or the source's own list price for a line with money only, also
where the list cost total sets it aside: its `stated_list_cost`).
The variance is split into parts that never overlap and always add up to it:

- credits: credits and refunds, as the source types them (an AWS CUR's `LineItemType`, FOCUS's `ChargeCategory`,
  Google Cloud's credit types), else the lines billed below zero;
- coverage: charges on days the line has no tokens in the inputs, less the list cost of days with tokens
  and no charges (a cost export and a usage export of different spans);
- discount / batch / tier: discounts billed as such (a CUR's `EdpDiscount` lines, Google Cloud's discount
  credits), and, on days with both tokens and charges, billed − the source's own list price on the charge lines
  that state one (a cost export's `cost_usd` below its `list_price_usd`), credits and discounts left out. It is
  `batch` or `tier` when the charge line was served at that tier, or when every token line of the model that day
  was (a cost export that does not say the tier, beside a usage export that does); otherwise `discount`;
- BYOK upstream: minus the spend the upstream vendor billed through the customer's own key (bring your own key,
  an OpenRouter log's `byok_usage_inference`): the gateway's bill leaves that inference out, the list cost does not;
- unpriced: the whole billed amount, when the line has no list price (an unpriced model, or money without a
  stated list price): there is no variance to explain;
- rounding: what is left, when within the tolerance: half a cent per billed line (sources round each
  line to the cent), at most 0.1% of the billed cost (at least a cent);
- unexplained: what is left beyond that tolerance, shown as such.
"""

from __future__ import annotations

from collections.abc import Hashable
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from auditor.costing import cost_by_group
from auditor.ledger import COUNTED_TOKENS, NANOS_PER_UNIT
from auditor.result import MonthlyUsage, ReconciliationRow, money
from auditor.summary import MODEL_LINE
from auditor.workload import LOCAL_DAY, RATE_ID, Pricebook

ROUNDING_PER_LINE = Decimal("0.005")
ROUNDING_SHARE_CAP = Decimal("0.001")
ROUNDING_FLOOR = Decimal("0.01")


def rounding_tolerance(billed_lines: int, billed: Decimal) -> Decimal:
    """Half a cent per billed line (sources round each line to the cent), capped at 0.1% of the billed cost
    (at least a cent) so that a log of a million lines stated to many decimals does not call $500 rounding."""
    return min(ROUNDING_PER_LINE * billed_lines, max(ROUNDING_FLOOR, ROUNDING_SHARE_CAP * abs(billed)))


_TIER_PARTS = {"batch": "batch", "flex": "tier", "priority": "tier", "fast": "tier"}


def build_reconciliation(
    summed: pd.DataFrame,
    names: dict[tuple[str, str], tuple[str, list[str]]],
    pricebook: Pricebook,
    by_month: list[MonthlyUsage],
) -> list[ReconciliationRow]:
    """One row per usage-by-month line with a billed cost (`summed`: the usage table with its model lines, summed
    over its API keys, `summary.summed_over_keys`: no part reads the key, since credits are lines of their own
    kind, not rows billed below zero)."""
    billed_months = [m for m in by_month if m.billed_cost is not None]
    if not billed_months or summed.empty:
        return []
    frame = summed.assign(month=summed[LOCAL_DAY].str.slice(0, 7))
    frame = frame.assign(_tokens=(frame[list(COUNTED_TOKENS)].sum(axis=1) > 0) | (frame["requests"] > 0))
    keys = ["provider", MODEL_LINE, "month"]
    day_costs = cost_by_group(frame, frame[RATE_ID].to_numpy(), pricebook.rates.rates, [*keys, LOCAL_DAY])
    shown = {
        (p, names[(str(p), str(line))][0], month): (p, line, month)
        for p, line, month in frame[keys].drop_duplicates().itertuples(index=False)
    }
    # Days and tiers as codes into their names: the rows' sets and membership tests are then of integers, not of a
    # Python string per row (over 1,000 API keys, 845,000 rows, those took most of this stage).
    day_codes, day_names = pd.factorize(frame[LOCAL_DAY], use_na_sentinel=False)
    tier_codes, tier_names = pd.factorize(frame["service_tier"].astype(str), use_na_sentinel=False)
    columns = {LOCAL_DAY: day_codes, "service_tier": tier_codes, **{c: frame[c].to_numpy() for c in _COLUMNS}}
    day_code = {str(day): code for code, day in enumerate(day_names.tolist())}
    positions = frame.groupby(keys, sort=True).indices
    by_line: dict[tuple[Hashable, ...], dict[int, Decimal]] = {}
    for (*line, day), cost in day_costs.items():
        by_line.setdefault(tuple(line), {})[day_code[str(day)]] = cost
    tiers = [str(t) for t in tier_names.tolist()]
    rows = []
    for m in billed_months:
        key = shown.get((m.provider, m.model_raw, m.month))
        if key is not None:
            group = {c: values[positions[key]] for c, values in columns.items()}
            rows.append(_row(m, group, by_line.get(key, {}), tiers))
    return rows


# The usage table's columns a reconciliation row reads besides its day and tier, as arrays (a model line's rows, in
# table order).
_COLUMNS = (
    "_tokens",
    "billed_lines",
    "billed_nanos",
    "source_list_lines",
    "source_list_nanos",
    "billed_credit_nanos",
    "billed_discount_nanos",
    "adjustment_lines",
    "byok_upstream_nanos",
)


def _usd(nanos: object) -> Decimal:
    return Decimal(int(str(nanos))) / NANOS_PER_UNIT


def _row(
    m: MonthlyUsage, group: dict[str, np.ndarray], day_list: dict[int, Decimal], tier_names: list[str]
) -> ReconciliationRow:
    """The line's row, from its rows' arrays. Days and tiers are codes: `day_list` (each day's list cost) is keyed by
    the same day codes, and a tier's code is its index in `tier_names`."""
    billed = m.billed_cost if m.billed_cost is not None else Decimal(0)
    # A line whose own stated list price the list cost total sets aside is still compared with it.
    listed = m.list_cost if m.list_cost is not None else m.stated_list_cost
    days, tiers, tokens = group[LOCAL_DAY], group["service_tier"], group["_tokens"].astype(bool)
    billed_n, list_n = group["billed_nanos"], group["source_list_nanos"]
    credit_n, discount_n = group["billed_credit_nanos"], group["billed_discount_nanos"]
    charge_n = billed_n - credit_n - discount_n  # what the segment's charge lines were billed
    billed_lines_n, list_lines_n = group["billed_lines"], group["source_list_lines"]
    charge_lines_n = billed_lines_n - group["adjustment_lines"]
    is_charge = charge_lines_n > 0
    billed_lines = int(billed_lines_n.sum())
    tolerance = rounding_tolerance(billed_lines, billed)
    is_stated = (billed_lines_n > 0) & (list_lines_n > 0)
    source_list = money(_usd(list_n[is_stated].sum())) if is_stated.any() else None
    base: dict[str, Any] = {
        "month": m.month,
        "provider": m.provider,
        "model_raw": m.model_raw,
        "model": m.model,
        "billed_cost": billed,
        "list_cost": listed,
        "source_list_cost": source_list,
        "tolerance": money(tolerance),
    }
    if listed is None:
        # A catalog model's line has a list price whenever it has tokens: this month it has charges only.
        why = "no tokens of this model this month" if m.model is not None else "no list price"
        return ReconciliationRow(
            **base, variance=None, unpriced=billed, explanation=f"{why}: the billed cost cannot be compared"
        )
    variance = billed - listed
    credits = money(_usd(credit_n.sum()))
    token_days = set(days[tokens].tolist())
    charge_days = set(days[is_charge].tolist())
    coverage = Decimal(0)
    if token_days:
        elsewhere = is_charge & ~np.isin(days, list(token_days))
        billed_elsewhere = _usd(charge_n[elsewhere].sum())
        unbilled_list = sum((c for d, c in day_list.items() if d not in charge_days), Decimal(0))
        coverage = money(billed_elsewhere - unbilled_list)
    # A discount billed as such (an EdpDiscount line, a Google Cloud discount credit) is one whatever the day.
    parts = {"discount": _usd(discount_n.sum()), "batch": Decimal(0), "tier": Decimal(0)}
    token_tiers: dict[int, set[str]] = {}
    width = len(tier_names)  # each (day, tier) of the token rows once, as one integer
    for pair in np.unique(days[tokens] * width + tiers[tokens]).tolist():
        token_tiers.setdefault(pair // width, set()).add(tier_names[pair % width])
    # Only charge segments whose every charge line states its list price are compared with it: a source states a
    # list price on all its lines (FOCUS writes a credit's ListCost, 0) or on its charge lines only (an Anthropic
    # cost export), so as many lines state one as there are charge lines, or more. A sum over API keys of such
    # segments is one too.
    compared = is_charge & (list_lines_n >= charge_lines_n)
    if token_days:
        compared &= np.isin(days, list(token_days))
    for i in np.flatnonzero(compared):
        served = tier_names[tiers[i]]
        if served == "standard":
            day_tiers = set(token_tiers.get(int(days[i]), set()))
            served = day_tiers.pop() if len(day_tiers) == 1 else "standard"
        parts[_TIER_PARTS.get(served, "discount")] += _usd(charge_n[i] - list_n[i])
    # Inference billed upstream through the customer's own key: the gateway bills its fee only, the list cost is of
    # the whole inference.
    byok = -money(_usd(group["byok_upstream_nanos"].sum()))
    rest = variance - credits - coverage - byok - sum(parts.values(), Decimal(0))
    rounding = rest if abs(rest) <= tolerance else Decimal(0)
    unexplained = money(rest - rounding)
    return ReconciliationRow(
        **base,
        variance=money(variance),
        discount=money(parts["discount"]),
        credits=credits,
        tier=money(parts["tier"]),
        batch=money(parts["batch"]),
        byok_upstream=byok,
        coverage=coverage,
        rounding=money(rounding),
        unexplained=unexplained,
        explanation=_explain(variance, credits, coverage, {**parts, "BYOK upstream": byok}, rounding, unexplained),
    )


def _explain(
    variance: Decimal,
    credits: Decimal,
    coverage: Decimal,
    parts: dict[str, Decimal],
    rounding: Decimal,
    unexplained: Decimal,
) -> str:
    named = {"credits": credits, "coverage": coverage, **parts, "rounding": rounding}
    said = [f"{name} {money(value):+.2f}" for name, value in named.items() if value.quantize(Decimal("0.01"))]
    if not variance.quantize(Decimal("0.01")) and not unexplained:
        return "billed equals list"
    text = ", ".join(said) if said else "nothing in the data explains it"
    return text + (f"; unexplained {unexplained:+.2f}" if unexplained else "")
