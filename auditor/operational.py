"""Operational migration-risk factors measured from the priced usage, per candidate.

Each factor gives a finding {code, severity, message, inputs, sources} with the measured values and, for catalog
facts, the catalog version and the `--as-of` date they were read at, and a band from 0 to 3 (score bands this tool
proposes, to be calibrated). The operational score of a candidate is the largest `weight × band / 3 × 100`
over the factors (context-window fit, in `auditor/risk.py`, scores 0/33/67/100 with weight 1). A finding's severity
follows its weighted score: red from 67, amber from 34, else info.

Weights, bands and thresholds are a PROPOSAL to calibrate, not sourced facts. Factors that make a move fail
(context-window fit, lock-in) weigh 1 and can make a candidate Red; factors that change what a move costs or how
stable it is weigh 0.66 and make it Amber at most:

- cache-dependence (D5), weight 0.66: cache reads / input side (input + cache reads + writes); bands <20%, 20-50,
  50-80, >80%, one more when the candidate has no cache-read price;
- batch-dependence (D6), 0.66: tokens served at the batch tier / all tokens; <5%, 5-20, 20-50, >50% (3 only when
  the candidate has no batch price);
- long-context-share, 0.66: requests in request-size buckets at or above the candidate's first long-context price
  tier; none, <5%, 5-25, >25%;
- lock-in (D12), 1: tokens on fine-tuned model ids (`ft:`); any is 3 (a fine-tune does not move);
- price-stability (D10), 0.66: the candidate's catalog price changes in the 12 months to as-of and their effect on
  the workload's token mix; <=1 change and <10%: 0; 2 changes or >=10%: 1; >=3 changes or >=25%: 2; >=3 and >50%,
  or time-of-day prices: 3;
- version-stability (D11), 0.66: deprecation in the catalog (within 90 days or undated: 2, later: 1); an id that
  names no dated or versioned snapshot: 1;
- provider-concentration, 0.66: the largest provider's share of the portfolio's tokens after the move against
  before; not higher: 0, higher: 1, higher and >=80%: 2;
- capability-gap (D3, D4, D16), 0.66: capabilities the policy says the workload needs, which the catalog does not
  state for any candidate: 2.

What the ledger cannot show is said so in the finding: stateful APIs (Assistants, Responses with
`previous_response_id`, vector stores) and tool or structured-output use are not ledger columns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

import numpy as np
import pandas as pd
from genai_prices.types import ModelPrice, TieredPrices

from auditor.costing import column_codes
from auditor.ledger import TOKEN_COLUMNS
from auditor.result import RiskFinding
from pricing.catalog import CatalogModel, catalog_version
from pricing.rates import _resolved_price, class_rates, cost_of, has_time_windows, slot_start
from pricing.schedule import deprecation, price_changes

WEIGHTS = {
    "context-fit": 1.0,
    "lock-in": 1.0,
    "cache-dependence": 0.66,
    "batch-dependence": 0.66,
    "long-context-share": 0.66,
    "price-stability": 0.66,
    "version-stability": 0.66,
    "provider-concentration": 0.66,
    "capability-gap": 0.66,
}
_SIDE = ["input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens"]
_COLUMNS = ["requests", *TOKEN_COLUMNS]
_PROPOSAL = "score bands and weights: this tool's proposal, to be calibrated, not sourced facts"
# The public sources of each factor's facts (caching and batch rules, context windows, price and version history).
_CACHING = (
    "prompt-caching dependence (developers.openai.com/api/docs/guides/prompt-caching; "
    "platform.claude.com/docs/en/about-claude/pricing; api-docs.deepseek.com/guides/kv_cache)"
)
_BATCH = (
    "batch dependence (help.openai.com/en/articles/9197833; "
    "platform.claude.com/docs/en/build-with-claude/batch-processing)"
)
_LONG_CONTEXT = (
    "long-context share (context windows: support.claude.com article 8606395; MicrosoftDocs azure-ai-docs, 20 Mar 2026)"
)
_PRICE_HISTORY = (
    "price volatility (DeepSeek price history: faxianai.com/news/7934.html; "
    "docs.apiyi.com/en/news/deepseek-price-increase-2026-08)"
)
_LOCK_IN = (
    "lock-in features (developers.openai.com/api/docs/assistants/migration; "
    "docs.fireworks.ai/guides/security_compliance/data_handling; console.groq.com/docs/your-data)"
)
_VERSIONS = (
    "model-version stability and deprecations (platform.claude.com/docs/en/about-claude/model-deprecations; "
    "developers.openai.com/api/docs/assistants/migration; winbuzzer.com, 3 Jul 2026)"
)
_CAPABILITIES = (
    "tool, structured-output and modality dependence (api-docs.deepseek.com/guides/json_mode; "
    "github.com/MoonshotAI/K2-Vendor-Verifier)"
)
_SNAPSHOT = re.compile(r"(\d{4}-?\d{2}-?\d{2}|-\d{4}$|-\d{3,4}(?:-|$)|v\d+(?::\d+)?$|@)")
Inputs = dict[str, str | int | float | None]
Severity = Literal["red", "amber", "info"]


@dataclass(frozen=True)
class Factor:
    finding: RiskFinding
    score: float


@dataclass(frozen=True)
class Measures:
    """What the factors read from a set of priced rows, summed once for every candidate assessed on them."""

    rows: int
    sums: dict[str, int]  # requests and each token class (a column the rows lack sums to 0)
    batch_tokens: int  # input side and output served at the batch tier
    by_floor: tuple[tuple[int, int, int], ...]  # (request-size bucket floor, requests, input side), floors ascending
    fine_tuned_tokens: int  # input side and output on fine-tuned model ids (`ft:`)
    fine_tuned_models: tuple[str, ...]
    tiers: tuple[str, ...]  # service tiers served, sorted
    providers: dict[str, tuple[int, int]] | None  # rows, and input side and output, per provider (None: no column)

    @property
    def side(self) -> int:
        return sum(self.sums[c] for c in _SIDE)

    @property
    def tokens(self) -> int:
        return self.side + self.sums["output_tokens"]


def measure(priced: pd.DataFrame) -> Measures:
    """The sums of `priced` that the factors read."""
    return measure_groups(priced, np.zeros(len(priced), dtype=np.int64), 1)[0]


def measure_groups(priced: pd.DataFrame, groups: np.ndarray, count: int) -> list[Measures]:
    """`measure` of each group of `priced`'s rows (`groups`: each row's group, 0 to `count` - 1), in one pass over the
    rows (over 1,000 segments, measuring each segment's rows on their own took seconds)."""
    n = len(priced)
    columns = {
        c: np.asarray(priced[c].to_numpy(), dtype=np.int64) if c in priced and n else np.zeros(n, dtype=np.int64)
        for c in _COLUMNS
    }
    side = sum((columns[c] for c in _SIDE), np.zeros(n, dtype=np.int64))
    tokens = side + columns["output_tokens"]

    def summed(values: np.ndarray, where: np.ndarray | None = None) -> list[int]:
        out = np.zeros(count, dtype=np.int64)
        np.add.at(out, groups if where is None else groups[where], values if where is None else values[where])
        return [int(v) for v in out.tolist()]

    def holding(where: np.ndarray) -> list[int]:
        """The groups with a row where `where` holds."""
        return np.flatnonzero(np.bincount(groups[where], minlength=count)).tolist()

    rows = np.bincount(groups, minlength=count).tolist()
    sums = {c: summed(columns[c]) for c in _COLUMNS}
    tiers = column_codes(priced["service_tier"].astype(str)) if "service_tier" in priced else None
    batch_tokens = summed(tokens, _equal(tiers, "batch", n))
    tiers_of: list[list[str]] = [[] for _ in range(count)]
    tier_codes, tier_names = tiers if tiers is not None else (np.zeros(n, dtype=np.int64), [])
    for code, tier in enumerate(tier_names):  # ascending, as `column_codes` gives them
        for g in holding(tier_codes == code):
            tiers_of[g].append(str(tier))
    floors = priced["request_size_floor_tokens"].to_numpy()
    by_floor: list[list[tuple[int, int, int]]] = [[] for _ in range(count)]
    for floor in np.unique(floors).tolist():
        at = floors == floor
        requests, input_side = summed(columns["requests"], at), summed(side, at)
        for g in holding(at):
            by_floor[g].append((int(floor), requests[g], input_side[g]))
    raw = priced["model_raw"].astype(str) if "model_raw" in priced else pd.Series([], dtype=str)
    fine_tuned = raw.str.startswith("ft:").to_numpy(dtype=bool, na_value=False)
    fine_tuned_tokens = summed(tokens, fine_tuned) if len(raw) else [0] * count
    fine_tuned_models: list[set[str]] = [set() for _ in range(count)]
    for g, name in zip(groups[fine_tuned].tolist() if len(raw) else (), raw[fine_tuned].tolist(), strict=True):
        fine_tuned_models[g].add(name)
    providers: list[dict[str, tuple[int, int]]] | None = None
    if "provider" in priced:
        codes, names = column_codes(priced["provider"].astype(str))
        providers = [{} for _ in range(count)]
        for code, p in enumerate(names):
            at = codes == code
            in_rows, in_tokens = np.bincount(groups[at], minlength=count), summed(tokens, at)
            for g in np.flatnonzero(in_rows).tolist():
                providers[g][str(p)] = (int(in_rows[g]), in_tokens[g])
    return [
        Measures(
            rows=int(rows[g]),
            sums={c: sums[c][g] for c in _COLUMNS},
            batch_tokens=batch_tokens[g],
            by_floor=tuple(by_floor[g]),
            fine_tuned_tokens=fine_tuned_tokens[g],
            fine_tuned_models=tuple(sorted(fine_tuned_models[g])),
            tiers=tuple(tiers_of[g]),
            providers=providers[g] if providers is not None else None,
        )
        for g in range(count)
    ]


def _equal(text: tuple[np.ndarray, list[object]] | None, value: str, rows: int) -> np.ndarray:
    """The rows of a column (as `costing.column_codes` gives it) holding `value`."""
    if text is None or value not in text[1]:
        return np.zeros(rows, dtype=bool)
    rows_holding: np.ndarray = text[0] == text[1].index(value)
    return rows_holding


def _pct(part: int, whole: int) -> float | None:
    return round(part / whole * 100, 4) if whole else None


def _factor(code: str, band: int, message: str, inputs: Inputs, sources: list[str]) -> Factor:
    score = round(WEIGHTS[code] * band / 3 * 100, 1)
    severity: Severity = "red" if score >= 67 else "amber" if score >= 34 else "info"
    inputs = {**inputs, "band_0_to_3": band, "weight": WEIGHTS[code]}
    finding = RiskFinding(code=code, severity=severity, message=message, inputs=inputs, sources=[*sources, _PROPOSAL])
    return Factor(finding, score)


def _catalog(candidate: CatalogModel, as_of: date) -> tuple[Inputs, str]:
    return (
        {"candidate": candidate.ref, "catalog": f"genai-prices {catalog_version()}", "prices_as_of": as_of.isoformat()},
        f"candidate prices: genai-prices {catalog_version()} catalog at {as_of.isoformat()}",
    )


def _price(candidate: CatalogModel, as_of: date, tier: str = "standard") -> ModelPrice:
    return _resolved_price(candidate, slot_start(as_of, 0), tier)


def _mtok(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, TieredPrices):
        value = value.base
    return str(Decimal(str(value)).normalize())


def cache_dependence(candidate: CatalogModel, measured: Measures, as_of: date) -> Factor:
    side, read = measured.side, measured.sums["cache_read_tokens"]
    share = _pct(read, side) or 0.0
    band = 0 if share < 20 else 1 if share < 50 else 2 if share < 80 else 3
    price = _price(candidate, as_of)
    has_cache = price.cache_read_mtok is not None
    catalog, source = _catalog(candidate, as_of)
    text = f"Cache reads are {share:.2f}% of the input side ({read:,} of {side:,} tokens)"
    if not has_cache and share >= 20:
        band = min(3, band + 1)
        text += (
            f"; the catalog lists no cache-read price for {candidate.ref}, so the cached share's discount may be lost"
        )
    elif has_cache:
        # The candidate prices cache reads too: what remains is whether its cache semantics match (the
        # cache_hit_share assumption's range carries the hit rate), one band lower than without a cache price.
        band = max(0, band - 1)
        text += f"; {candidate.ref} has a cache-read price ({_mtok(price.cache_read_mtok)} USD/Mtok)"
    text += ". Cache semantics (automatic or explicit, write premium, TTL) must match for the saving to hold."
    inputs: Inputs = {
        "cache_read_tokens": read,
        "input_side_tokens": side,
        "cache_read_share_pct": share,
        "candidate_cache_read_usd_per_mtok": _mtok(price.cache_read_mtok),
        "candidate_input_usd_per_mtok": _mtok(price.input_mtok),
        **catalog,
    }
    return _factor("cache-dependence", band, text, inputs, [_CACHING, source])


def _has_batch_price(candidate: CatalogModel, as_of: date) -> bool:
    standard = class_rates(candidate, as_of, 0, "standard", 0)
    batch = class_rates(candidate, as_of, 0, "batch", 0)
    return batch.per_token != standard.per_token


def batch_dependence(candidate: CatalogModel, measured: Measures, as_of: date) -> Factor:
    total, in_batch = measured.tokens, measured.batch_tokens
    share = _pct(in_batch, total) or 0.0
    supported = _has_batch_price(candidate, as_of)
    band = 0 if share < 5 else 1 if share < 20 else 2 if share < 50 or supported else 3
    catalog, source = _catalog(candidate, as_of)
    text = f"{share:.2f}% of tokens ({in_batch:,} of {total:,}) were served at the batch tier; "
    text += (
        f"{candidate.ref} has a batch price in the catalog."
        if supported
        else f"the catalog has no batch price for {candidate.ref}: that traffic would pay the standard rate."
    )
    inputs: Inputs = {"batch_tokens": in_batch, "tokens": total, "batch_share_pct": share,
                      "candidate_batch_price": "yes" if supported else "no", **catalog}  # fmt: skip
    return _factor("batch-dependence", band, text, inputs, [_BATCH, source])


def tier_threshold(candidate: CatalogModel, as_of: date) -> int | None:
    """The smallest request size (input tokens) from which a long-context tier of the candidate's price applies."""
    price = _price(candidate, as_of)
    starts = [t.start for v in price.__dict__.values() if isinstance(v, TieredPrices) for t in v.tiers]
    return min(starts) if starts else None


def long_context_share(candidate: CatalogModel, measured: Measures, as_of: date) -> Factor:
    threshold = tier_threshold(candidate, as_of)
    requests, side = measured.sums["requests"], measured.side
    catalog, source = _catalog(candidate, as_of)
    inputs: Inputs = {"long_context_tier_from_tokens": threshold, "requests": requests, **catalog}
    if threshold is None:
        text = f"{candidate.ref} has no long-context price tier in the catalog: the price does not change with size."
        return _factor("long-context-share", 0, text, inputs, [_LONG_CONTEXT, source])
    above = [(r, t) for floor, r, t in measured.by_floor if floor >= threshold]
    over_r, over_t = sum(r for r, _ in above), sum(t for _, t in above)
    share = _pct(over_r, requests) if requests else _pct(over_t, side)
    share = share or 0.0
    band = 0 if share == 0 else 1 if share < 5 else 2 if share < 25 else 3
    unit = "requests" if requests else "input-side tokens"
    text = (
        f"{share:.2f}% of {unit} are in request-size buckets at or above {threshold:,} tokens, where "
        f"{candidate.ref}'s long-context tier applies (a lower bound: bucketed exports average their requests)."
    )
    inputs |= {"requests_at_or_above_tier": over_r, "input_side_tokens_at_or_above_tier": over_t,
               "share_at_or_above_tier_pct": share}  # fmt: skip
    return _factor("long-context-share", band, text, inputs, [_LONG_CONTEXT, source])


def lock_in(measured: Measures) -> Factor:
    total, ft, models = measured.tokens, measured.fine_tuned_tokens, measured.fine_tuned_models
    share = _pct(ft, total) or 0.0
    band = 3 if ft else 0
    text = (
        f"{share:.2f}% of tokens are on fine-tuned models ({', '.join(models[:3])}"
        f"{', …' if len(models) > 3 else ''}): a fine-tune does not move to another model; retrain or keep it. "
        if ft
        else "No fine-tuned model ids (ft:) in the usage. "
    )
    text += (
        "Stateful APIs (Assistants/threads, Responses with previous_response_id, vector stores) are not visible in "
        "the ledger: verify before moving."
    )
    inputs: Inputs = {
        "fine_tuned_tokens": ft,
        "tokens": total,
        "fine_tuned_share_pct": share,
        "fine_tuned_models": ", ".join(models) or None,
        "stateful_api_use": "not in the ledger",
    }
    return _factor("lock-in", band, text, inputs, [_LOCK_IN])


def price_stability(candidate: CatalogModel, measured: Measures, as_of: date) -> Factor:
    tiers = list(measured.tiers) or ["standard"]
    year_ago = as_of - timedelta(days=365)
    past = sorted({c.day for c in price_changes(candidate, year_ago, tiers) if c.day <= as_of})
    ahead = sorted({c.day for c in price_changes(candidate, as_of, tiers)})
    tokens, requests = {c: measured.sums[c] for c in TOKEN_COLUMNS}, measured.sums["requests"]
    then = cost_of(class_rates(candidate, year_ago, 0, "standard", 0), tokens, requests)
    now = cost_of(class_rates(candidate, as_of, 0, "standard", 0), tokens, requests)
    effect = round(float((now - then) / then * 100), 2) if then else None
    time_of_day = has_time_windows(candidate)
    big = effect is not None and abs(effect) >= 25
    if (len(past) >= 3 and effect is not None and abs(effect) > 50) or time_of_day:
        band = 3
    elif len(past) >= 3 or big:
        band = 2
    elif len(past) >= 2 or (effect is not None and abs(effect) >= 10):
        band = 1
    else:
        band = 0
    catalog, source = _catalog(candidate, as_of)
    text = f"{len(past)} catalog price change(s) of {candidate.ref} in the 12 months to {as_of.isoformat()}"
    if effect is not None:
        text += (
            f"; the catalog's standard prices at {year_ago.isoformat()} and {as_of.isoformat()} differ by "
            f"{effect:+.2f}% on this workload's token mix"
        )
    if ahead:
        text += f"; scheduled: {', '.join(d.isoformat() for d in ahead)}"
    if time_of_day:
        text += "; its price changes with the time of day (peak / off-peak)"
    text += "."
    inputs: Inputs = {
        "price_changes_12_months": len(past),
        "price_change_days": ", ".join(d.isoformat() for d in past) or None,
        "effect_on_workload_pct": effect,
        "scheduled_changes": ", ".join(d.isoformat() for d in ahead) or None,
        "time_of_day_prices": "yes" if time_of_day else "no",
        **catalog,
    }
    return _factor("price-stability", band, text, inputs, [_PRICE_HISTORY, source])


def version_stability(candidate: CatalogModel, as_of: date) -> Factor:
    gone = deprecation(candidate)
    pinned = bool(_SNAPSHOT.search(candidate.model.id))
    catalog, source = _catalog(candidate, as_of)
    inputs: Inputs = {"pinned_snapshot": "yes" if pinned else "no", **catalog}
    if gone is not None:
        days = (gone.day - as_of).days if gone.day else None
        band = 2 if days is None or days <= 90 else 1
        inputs |= {"deprecated": "yes", "retirement_day": gone.day.isoformat() if gone.day else None,
                   "days_to_retirement": days}  # fmt: skip
        text = f"{candidate.ref} is deprecated in the catalog ({gone.note})" + (
            f": {days} days from {as_of.isoformat()} to retirement." if days is not None else ", with no date."
        )
    else:
        band = 0 if pinned else 1
        inputs["deprecated"] = "no"
        text = f"{candidate.ref} is not deprecated in the catalog" + (
            "." if pinned else "; its id names no dated snapshot, so the vendor may change the model behind it."
        )
    return _factor(
        "version-stability",
        band,
        text,
        inputs,
        [_VERSIONS, source],
    )


def capability_gap(candidate: CatalogModel, needed: Sequence[str]) -> Factor | None:
    if not needed:
        return None
    text = (
        f"The workload needs {', '.join(needed)} (stated in the policy); the catalog has no capability data for "
        f"{candidate.ref}: unknown, verify in a shadow evaluation before the canary."
    )
    inputs: Inputs = {"capabilities_needed": ", ".join(needed), "candidate": candidate.ref,
                      "candidate_capabilities": "unknown: not in the catalog"}  # fmt: skip
    return _factor("capability-gap", 2, text, inputs, [_CAPABILITIES])


def routed_providers(measured: Measures, routed: Sequence[tuple[Measures, str]]) -> dict[str, int]:
    """Tokens per provider after the move: each routed part of the rows (its measures, and the provider it moves to)
    on its new provider, the other rows where they are served; only providers left with rows."""
    left = {p: [rows, tokens] for p, (rows, tokens) in (measured.providers or {}).items()}
    for part, _ in routed:
        for p, (rows, tokens) in (part.providers or {}).items():
            left[p][0] -= rows
            left[p][1] -= tokens
    after = {p: tokens for p, (rows, tokens) in left.items() if rows > 0}
    for part, provider in routed:
        if part.rows:
            after[provider] = after.get(provider, 0) + part.tokens
    return after


def provider_concentration(measured: Measures, after: dict[str, int]) -> Factor:
    """The largest provider's share of the tokens before (as served) and after the move (`after`: tokens per provider
    with rows after it)."""
    total = measured.tokens
    before = {p: tokens for p, (_, tokens) in (measured.providers or {}).items()}
    top_before = _pct(max(before.values()), total) if total else None
    top_after = _pct(max(after.values()), total) if total else None
    who = _largest(after) if total else None
    higher = top_after is not None and top_before is not None and top_after > top_before + 0.01
    band = 0 if not higher else 2 if (top_after or 0) >= 80 else 1
    text = (
        f"After the move {who} would carry {top_after:.2f}% of the tokens (largest provider before: {top_before:.2f}%)."
        if total
        else "No tokens to measure concentration on."
    )
    inputs: Inputs = {
        "largest_provider_after": who,
        "largest_share_after_pct": top_after,
        "largest_provider_before": _largest(before) if total else None,
        "largest_share_before_pct": top_before,
        "providers_after": len(after) if total else 0,
    }
    return _factor("provider-concentration", band, text, inputs, ["provider concentration of the portfolio (proposal)"])


def _largest(tokens: dict[str, int]) -> str:
    """The provider with the most tokens, the first by name on a tie."""
    return max(sorted(tokens), key=lambda p: tokens[p])
