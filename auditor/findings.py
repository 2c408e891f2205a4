"""Waste and quick wins in the current bill, each with its estimated saving at the catalog's own rates.

Savings are computed from the priced workload (the shape table: model × tier × time-of-day slot × request
size, summed over the period) at the rates in force on `--as-of`, in exact Decimal, and are savings over the
audited period. Each rule and the assumption its saving rests on (a stated share, never a guess hidden in
the code) are written into the finding:

- cache_not_used: a model whose cache reads cost less than its input, with at least `MIN_CACHE_INPUT` plain
  input tokens, a cache-read share of its input below `MAX_CACHE_HIT`, and (where requests are counted) an
  average request input of at least `MIN_CACHEABLE_PREFIX` tokens (the smallest prefix Anthropic and OpenAI
  cache). Saving: `CACHE_SHARE` of its plain input read from cache instead, each cached prefix written once
  per `READS_PER_WRITE` reads at the model's cache-write rate.
- batch_eligible: standard-tier traffic on a model whose catalog batch price is lower. No source says which
  requests a user waits for: saving if `BATCH_SHARE` of it moved to the batch tier.
- premium_small_requests: a model whose average request (requests counted) is small (input at most
  `SMALL_INPUT`, output at most `SMALL_OUTPUT` tokens) and costs at least `PREMIUM_RATIO` times the same
  vendor's small model (`SMALL_MODELS`) on the same traffic. Saving: all of that traffic on the small model,
  same token counts; whether the small model does the task is not checked.
- peak_shift: a model with time-of-day prices, traffic with a known time of day in slots dearer than the
  cheapest slot of the day. Saving if `PEAK_SHARE` of it moved to the cheapest slot.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from auditor.ledger import COUNTED_TOKENS, TOKEN_COLUMNS
from auditor.result import Finding, FindingKind, money
from auditor.scenarios import priced_shape
from auditor.workload import MODEL_REF, REQUESTS_KNOWN, Pricebook
from pricing.catalog import CatalogModel, find_model
from pricing.ratebook import NO_RATE
from pricing.rates import SLOTS_PER_DAY, ClassRates, cost_of, has_time_windows

CACHE_SHARE = Decimal("0.5")
READS_PER_WRITE = 10
MAX_CACHE_HIT = Decimal("0.1")
MIN_CACHE_INPUT = 1_000_000
MIN_CACHEABLE_PREFIX = 1024
BATCH_SHARE = Decimal("0.25")
SMALL_INPUT = 2000
SMALL_OUTPUT = 500
PREMIUM_RATIO = 3
PEAK_SHARE = Decimal("0.5")
SMALL_MODELS: dict[str, tuple[str, ...]] = {
    "anthropic": ("claude-haiku-4-5",),
    "openai": ("gpt-5-mini", "gpt-4.1-mini", "gpt-4o-mini"),
    "google": ("gemini-2.5-flash",),
    "deepseek": ("deepseek-chat",),
    "mistral": ("mistral-small-latest",),
    "x-ai": ("grok-3-mini",),
}
"""The vendor's small model that premium traffic would move to (the first the catalog knows)."""

_SUMS = ["requests", *TOKEN_COLUMNS]
_KEYS = ["provider", MODEL_REF, "time_slot", "service_tier", "request_size_floor_tokens", REQUESTS_KNOWN]
_INPUTS = ["input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens"]
_CLASS = {c: i for i, c in enumerate(TOKEN_COLUMNS)}


def build_findings(shape: pd.DataFrame, pricebook: Pricebook, as_of: date) -> list[Finding]:
    """Findings of the priced workload, largest saving first (findings that save nothing are left out)."""
    priced = priced_shape(shape)
    if priced.empty:
        return []
    work = priced.groupby(_KEYS, sort=True)[_SUMS].sum().reset_index()
    findings: list[Finding] = []
    for (provider, ref), frame in work.groupby(["provider", MODEL_REF], sort=True):
        model = pricebook.models.get(str(ref))
        if model is None:
            continue
        rows = _Rows(frame.reset_index(drop=True))
        pricing = _Pricing(pricebook, model, as_of)
        for rule in (_cache_not_used, _batch_eligible, _premium_small_requests, _peak_shift):
            found = rule(str(provider), model, rows, pricing)
            if found is not None and found.estimated_savings > 0:
                findings.append(found)
    return sorted(findings, key=lambda f: (-f.estimated_savings, f.kind, f.model))


class _Rows:
    """One model's rows (the frame the rate book reads) and their columns as arrays (what the rules sum)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.col = {c: frame[c].to_numpy() for c in [*_SUMS, "service_tier", "time_slot", REQUESTS_KNOWN]}

    def sum(self, columns: list[str], where: np.ndarray | None = None) -> int:
        return sum(int(self.col[c].sum() if where is None else self.col[c][where].sum()) for c in columns)


class _Pricing:
    """Rates of one model's rows at as-of, optionally at another tier, model or slot.

    The rules price the same rows several ways (as served, at the batch tier, in each slot of the day: those rows
    stacked into one frame, looked up in one call), and the model's rows as served are priced once (`own`)."""

    def __init__(self, pricebook: Pricebook, model: CatalogModel, as_of: date) -> None:
        self.book = pricebook.rates
        self.model = model
        self.as_of = as_of
        self._own: tuple[list[ClassRates | None], list[Decimal]] | None = None

    def rates(
        self, rows: pd.DataFrame, model: CatalogModel | None = None, tier: str | None = None
    ) -> list[ClassRates | None]:
        ids = self.book.rate_ids(rows, {}, fixed=model or self.model, on_day=self.as_of, tier=tier)
        return [None if i == NO_RATE else self.book.rates[int(i)] for i in ids]

    def costs(self, rows: pd.DataFrame, model: CatalogModel | None = None, tier: str | None = None) -> list[Decimal]:
        return _costs(self.rates(rows, model, tier), rows)

    def own(self, rows: pd.DataFrame) -> tuple[list[ClassRates | None], list[Decimal]]:
        """Rates and costs of the model's rows as served (`rows`, the rows the rules are given)."""
        if self._own is None:
            rates = self.rates(rows)
            self._own = (rates, _costs(rates, rows))
        return self._own


def _costs(rates: list[ClassRates | None], rows: pd.DataFrame) -> list[Decimal]:
    tokens = zip(*(rows[c].to_numpy().tolist() for c in TOKEN_COLUMNS), strict=True)
    requests = rows["requests"].to_numpy().tolist()
    return [
        cost_of(r, dict(zip(TOKEN_COLUMNS, (int(v) for v in counts), strict=True)), int(n)) if r else Decimal(0)
        for r, counts, n in zip(rates, tokens, requests, strict=True)
    ]


def _n(value: object) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def _finding(
    kind: FindingKind,
    provider: str,
    model: CatalogModel,
    saving: Decimal,
    assumption: str,
    target: str | None = None,
    **evidence: object,
) -> Finding:
    return Finding(
        kind=kind,
        provider=provider,
        model=model.ref,
        target=target,
        evidence={k: _n(v) for k, v in evidence.items()},
        estimated_savings=money(saving),
        assumption=assumption,
    )


def _cache_not_used(provider: str, model: CatalogModel, rows: _Rows, pricing: _Pricing) -> Finding | None:
    plain = rows.sum(["input_tokens"])
    all_input = rows.sum(_INPUTS)
    read = rows.sum(["cache_read_tokens"])
    if plain < MIN_CACHE_INPUT or Decimal(read) >= MAX_CACHE_HIT * all_input:
        return None
    counted = rows.col[REQUESTS_KNOWN] > 0  # rows whose source counts requests (their tokens may be in other rows)
    requests = rows.sum(["requests"], counted)
    average = Decimal(rows.sum(_INPUTS, counted)) / requests if requests else None
    if average is not None and average < MIN_CACHEABLE_PREFIX:
        return None
    saving = Decimal(0)
    for rates, tokens in zip(pricing.own(rows.frame)[0], rows.col["input_tokens"].tolist(), strict=True):
        if rates is None:
            continue
        plain_rate = rates.per_token[_CLASS["input_tokens"]]
        read_rate = rates.per_token[_CLASS["cache_read_tokens"]]
        write_rate = rates.per_token[_CLASS["cache_write_tokens"]]
        if read_rate >= plain_rate:
            continue
        cached = CACHE_SHARE * int(tokens)
        saving += cached * plain_rate - cached * (READS_PER_WRITE * read_rate + write_rate) / (READS_PER_WRITE + 1)
    return _finding(
        "cache_not_used",
        provider,
        model,
        saving,
        f"{CACHE_SHARE:.0%} of plain input assumed a repeated prefix read from cache, each prefix written once per "
        f"{READS_PER_WRITE} reads; flagged where cache reads are under {MAX_CACHE_HIT:.0%} of input",
        plain_input_tokens=plain,
        cache_read_tokens=read,
        cache_read_share=(Decimal(read) / all_input).quantize(Decimal("0.0001")) if all_input else Decimal(0),
        average_request_input=average.quantize(Decimal(1)) if average is not None else "unknown",
    )


def _batch_eligible(provider: str, model: CatalogModel, rows: _Rows, pricing: _Pricing) -> Finding | None:
    is_standard = rows.col["service_tier"] == "standard"
    if not is_standard.any():
        return None
    standard = rows.frame if is_standard.all() else rows.frame[is_standard].reset_index(drop=True)
    own = pricing.own(rows.frame)[1]
    now = sum((own[i] for i in np.flatnonzero(is_standard)), Decimal(0))
    batch = sum(pricing.costs(standard, tier="batch"), Decimal(0))
    if batch >= now:
        return None
    counted = list(COUNTED_TOKENS)
    tokens = rows.sum(counted)
    batch_tokens = rows.sum(counted, rows.col["service_tier"] == "batch")
    return _finding(
        "batch_eligible",
        provider,
        model,
        BATCH_SHARE * (now - batch),
        f"{BATCH_SHARE:.0%} of standard-tier traffic assumed not to need an answer at once and moved to the "
        "batch tier (no source says which requests a user waits for)",
        standard_cost_usd=money(now),
        same_at_batch_usd=money(batch),
        batch_share=(Decimal(batch_tokens) / tokens).quantize(Decimal("0.0001")) if tokens else 0,
    )


def _small_model(provider: str) -> CatalogModel | None:
    for ref in SMALL_MODELS.get(provider, ()):
        found = find_model(provider, ref)
        if found is not None:
            return found
    return None


def _premium_small_requests(provider: str, model: CatalogModel, rows: _Rows, pricing: _Pricing) -> Finding | None:
    is_counted = rows.col[REQUESTS_KNOWN] > 0
    target = _small_model(provider)
    requests = rows.sum(["requests"], is_counted)
    if not requests or target is None or target.ref == model.ref:
        return None
    avg_in = Decimal(rows.sum(_INPUTS, is_counted)) / requests
    avg_out = Decimal(rows.sum(["output_tokens"], is_counted)) / requests
    if avg_in > SMALL_INPUT or avg_out > SMALL_OUTPUT:
        return None
    counted = rows.frame[is_counted].reset_index(drop=True)
    own = pricing.own(rows.frame)[1]
    now = sum((own[i] for i in np.flatnonzero(is_counted)), Decimal(0))
    small = sum(pricing.costs(counted, target), Decimal(0))
    if small * PREMIUM_RATIO > now:
        return None
    return _finding(
        "premium_small_requests",
        provider,
        model,
        now - small,
        f"all requests of this model averaging at most {SMALL_INPUT} input and {SMALL_OUTPUT} output tokens moved "
        f"to {target.ref} with the same token counts (it costs at most 1/{PREMIUM_RATIO} as much); quality not checked",
        target=target.ref,
        requests=requests,
        average_input=avg_in.quantize(Decimal(1)),
        average_output=avg_out.quantize(Decimal(1)),
        cost_now_usd=money(now),
        cost_on_target_usd=money(small),
    )


def _peak_shift(provider: str, model: CatalogModel, rows: _Rows, pricing: _Pricing) -> Finding | None:
    if not has_time_windows(model):
        return None
    is_timed = rows.col["time_slot"] >= 0
    if not is_timed.any():
        return None
    timed = rows.frame[is_timed].reset_index(drop=True)
    own = pricing.own(rows.frame)[1]
    now = [own[i] for i in np.flatnonzero(is_timed)]
    # The same rows in every slot of the day: the cheapest is where the traffic could move.
    n = len(timed)
    every_slot = timed.iloc[np.tile(np.arange(n), SLOTS_PER_DAY)].assign(
        time_slot=np.repeat(np.arange(SLOTS_PER_DAY, dtype=np.int64), n)
    )
    costs = pricing.costs(every_slot)
    per_slot = [costs[slot * n : (slot + 1) * n] for slot in range(SLOTS_PER_DAY)]
    cheapest = np.array([[float(c) for c in costs] for costs in per_slot]).argmin(axis=0)
    excess = [now[i] - per_slot[int(s)][i] for i, s in enumerate(cheapest)]
    dear = [i for i, e in enumerate(excess) if e > 0]
    if not dear:
        return None
    peak_cost = sum((now[i] for i in dear), Decimal(0))
    moved = sum((per_slot[int(cheapest[i])][i] for i in dear), Decimal(0))
    return _finding(
        "peak_shift",
        provider,
        model,
        PEAK_SHARE * (peak_cost - moved),
        f"{PEAK_SHARE:.0%} of the traffic in slots dearer than the day's cheapest assumed movable to it "
        "(daily buckets have no time of day and are left out)",
        peak_requests=int(timed.loc[dear, "requests"].sum()),
        peak_cost_usd=money(peak_cost),
        same_off_peak_usd=money(moved),
    )
