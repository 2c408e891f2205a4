"""The migration plan: per segment a recommendation, its phases, the benchmark plan, the negotiation brief and the
portfolio before and after.

The plan is built on the route-by-segment scenario (`auditor/hybrid.py`): its segments, and for each the cheapest
candidate that the data profile does not block and whose context window fits. Nothing is re-chosen here. Each
segment's candidate is then rated on the segment's own traffic (`auditor.risk.assess` on its rows, so context fit is
the segment's) and the user's evaluation results (`--quality`, `auditor/quality.py`) are read against it.

Recommendation rules, in order (the first that applies):

1. **stay** when the segment has no candidate, or its savings are not above zero: no candidate that the data
   profile does not block and that fits is cheaper than the current models;
2. **stay** when the candidate's rating on the segment is red (or blocked): its savings are reported as forgone;
3. **stay** when the user's evaluation shows the candidate below a current model of the segment by more than the
   tolerance (2% of that model's score): forgone as well;
4. **migrate-in-phases** when the rating is amber, or when there is no quality evidence that supports the move
   (no scores, the candidate or the current models unscored, or the scored current models cover under 80% of the
   segment's tokens: the lowest band of evaluation coverage); the plan then names the evaluation required before
   the canary;
5. **migrate** when the rating is green and the evidence supports it.

Savings. A segment's savings in the scenario are its baseline cost less its projected cost (as the scenario's
segment choice states them). Where these do not add up to the scenario's savings (each amount is rounded to a
nano-dollar, and a contract file re-prices the scenario's baseline as a whole), the difference is spread over the
routed segments in proportion to their baseline cost, in whole nano-dollars (largest remainder), so the segments'
savings add up exactly to the scenario's. A stay captures nothing: `savings` is 0 and the segment's share is
`savings_forgone`; plan savings + forgone = the scenario's savings, exactly.

Phases: migrate-in-phases runs shadow -> canary -> ramp -> full; migrate (evidence in hand) skips the shadow. The
numbers come from the segment's traffic: the sample size (below), requests per day over the audited days, cost per
request now and on the candidate, and tokens per request now and as the scenario's assumptions expect them (value
and high end of token_ratio and output_verbosity). Canary 5% of the traffic for max(7 days, the days it takes to
see the sample size); ramp 25% then 50%, 7 days each; full 100% with the old route kept for 30 days. Rollback
triggers: quality below tolerance, cost per request above the current one (no saving left), tokens per request
above the assumptions' high end, error rate 1 percentage point above the current route's, p95 latency above 1.5x the
current route's. The shares, durations and latency/error thresholds are proposals to calibrate, not sourced facts.

Benchmark sample size: n0 = ceil((z_0.95 + z_0.80)^2 * p(1-p) / d^2) with p = 0.5 (the worst-case variance of a
pass rate) and d = 0.05 (the smallest drop to detect), one-sided at 5% with 80% power: 619 requests; for a segment
of N requests in the period, with the finite-population correction n = ceil(n0 / (1 + (n0 - 1) / N)).

Negotiation brief, per current vendor: the effective rate (billed cost of token lines, less stated non-token
charges, per million of their tokens) against the list rate of the same lines, and the vendor's traffic re-priced
on the candidates (the scenario machinery on the vendor's rows) as a rate per million tokens of the current mix.

Portfolio: the priced workload at as-of list prices by provider (the catalog model's provider) and jurisdiction
(the endpoint profile's; unknown when not profiled or not known), before and after the plan's moves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from typing import Literal

import pandas as pd

from auditor.assumptions import PRICE_KEYS, Assumption
from auditor.costing import column_codes, cost_by_group
from auditor.hybrid import segment_names
from auditor.ledger import TOKEN_COLUMNS
from auditor.operational import Measures, measure_groups
from auditor.quality import QualityFile
from auditor.result import (
    NANO,
    NO_KEY,
    NO_PROJECT,
    AlternativeRate,
    BenchmarkPlan,
    BenchmarkSegment,
    Level,
    Negotiation,
    Plan,
    PlanPhase,
    PlanSegment,
    Portfolio,
    PortfolioShare,
    QualityEvidence,
    ReconciliationRow,
    Scenario,
    SegmentChoice,
    UsageEntry,
    VendorBrief,
    money,
)
from auditor.risk import Profile, assess_measured
from auditor.scenarios import Repricing, projected_by
from auditor.workload import MODEL_REF, REQUESTS_KNOWN, Pricebook
from pricing.catalog import CatalogModel
from pricing.endpoints import endpoint_book

# Sample size: one-sided 5% test with 80% power, worst-case variance of a pass rate, a 5-point drop to detect.
Z_ALPHA = 1.6449
Z_POWER = 0.8416
PASS_RATE = 0.5
SMALLEST_DROP = 0.05
SAMPLE_RULE = (
    "n0 = ceil((z_0.95 + z_0.80)^2 x p(1-p) / d^2) with p = 0.5 (worst-case variance) and d = 0.05 (the smallest "
    "drop in pass rate to detect): 619 requests; for a segment of N requests in the audited period, "
    "n = ceil(n0 / (1 + (n0 - 1) / N)) (finite-population correction), sampled at random across its days"
)
QUALITY_TOLERANCE = 0.02  # a candidate within 2% of a current model's score is not worse (proposal)
COVERAGE_MIN = 80.0  # % of the segment's tokens whose current model has a score (lowest coverage band)
CANARY_SHARE, RAMP_SHARES, MIN_PHASE_DAYS, FULL_KEEP_DAYS = 5.0, (25.0, 50.0), 7, 30
UNNAMED_SEGMENT = "(not stated)"
"""The segment of traffic whose source does not name what the plan segments by (see `segment_label`)."""
ERROR_MARGIN_PP, LATENCY_FACTOR = 1, 1.5
ALTERNATIVES = 3
COMPARE = [
    "quality: the segment's task metric on the same requests (pass rate or rubric score; tool-call F1, JSON "
    "validity and refusal rate where the segment uses them)",
    "latency: time to first token, p50 and p95 of the whole response",
    "token counts: input-side and output tokens per request, against the scenario's token_ratio and output_verbosity",
    "cost: cost per request at as-of prices, current models against the candidate",
]
_SEGMENT = "_plan_segment"
_SUMS = ["requests", *TOKEN_COLUMNS]
_INPUT_SIDE = ["input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens"]
_COUNTED = [*_INPUT_SIDE, "output_tokens"]
_MTOK = Decimal(1_000_000)
Recommendation = Literal["migrate", "migrate-in-phases", "stay"]


@dataclass(frozen=True)
class PlanInputs:
    """What the plan reads: the scenarios (rated), the candidates, the data profile and the priced workload."""

    scenarios: Sequence[Scenario]
    candidates: Sequence[CatalogModel]
    profile: Profile
    repricing: Repricing
    pricebook: Pricebook
    shape: pd.DataFrame
    assumptions: Sequence[Assumption]
    usage: Sequence[UsageEntry]
    days: int  # days with usage in the audited period
    quality: QualityFile | None = None
    as_of: date | None = None  # rates the segments with the same operational factors as the scenarios
    reconciliation: Sequence[ReconciliationRow] = ()  # lines whose charges and tokens cover different days


def sample_size(population: int) -> int:
    """Requests to sample from a segment of `population` requests (0: not counted) by the plan's rule."""
    n0 = math.ceil((Z_ALPHA + Z_POWER) ** 2 * PASS_RATE * (1 - PASS_RATE) / SMALLEST_DROP**2)
    if population <= 0:
        return n0
    return min(population, math.ceil(n0 / (1 + (n0 - 1) / population)))


def allocate(total: Decimal, parts: dict[str, Decimal], weights: dict[str, Decimal]) -> dict[str, Decimal]:
    """`parts` with `total - sum(parts)` spread over the keys in proportion to `weights` (keys with weight > 0, or
    all when none has), in whole nano-units by largest remainder: the result adds up to `total` exactly."""
    out = dict(parts)
    rest = total - sum(parts.values(), Decimal(0))
    if not out or rest == 0:
        return out
    keys = sorted(k for k in out if weights.get(k, Decimal(0)) > 0) or sorted(out)
    w = {k: weights.get(k, Decimal(0)) if weights.get(k, Decimal(0)) > 0 else Decimal(1) for k in keys}
    whole = sum(w.values(), Decimal(0))
    units = int((abs(rest) / NANO).to_integral_value(rounding=ROUND_FLOOR))
    exact = {k: Decimal(units) * w[k] / whole for k in keys}
    given = {k: int(exact[k].to_integral_value(rounding=ROUND_FLOOR)) for k in keys}
    left = units - sum(given.values())
    for k in sorted(keys, key=lambda k: (-(exact[k] - given[k]), k))[:left]:
        given[k] += 1
    sign = 1 if rest > 0 else -1
    for k in keys:
        out[k] += sign * given[k] * NANO
    # A rest finer than a nano-unit (amounts not rounded to it) goes to the first key.
    out[keys[0]] += total - sum(out.values(), Decimal(0))
    return out


def segment_label(segment: str, by: str | None) -> str:
    """A segment as the report names it: the traffic whose source names no project is "(no project)", as in the
    usage by project (and "(no key)" by key)."""
    if segment:
        return segment
    return NO_PROJECT if by == "project" else NO_KEY if by == "api_key" else UNNAMED_SEGMENT


def build_plan(inputs: PlanInputs) -> Plan | None:
    """The migration plan, or None when nothing is priced."""
    priced = inputs.repricing.priced
    if priced.empty:
        return None
    base = next((s for s in inputs.scenarios if s.kind == "hybrid"), None)
    by = base.segmented_by if base is not None else None
    frame = priced.assign(**{_SEGMENT: segment_names(priced, by)})
    book = inputs.pricebook.rates
    own = frame.groupby([_SEGMENT, MODEL_REF, REQUESTS_KNOWN, *PRICE_KEYS], sort=True)[_SUMS].sum().reset_index()
    ids = book.rate_ids(own, inputs.pricebook.models, on_day=inputs.repricing.as_of)
    costs = cost_by_group(own, ids, book.rates, [_SEGMENT, MODEL_REF])
    model_cost = {(str(s), str(m)): c for (s, m), c in costs.items()}
    counted_shares = _counted_shares(cost_by_group(own, ids, book.rates, [_SEGMENT, REQUESTS_KNOWN]))
    singles = {s.candidate: s for s in inputs.scenarios if s.kind == "single"}
    by_ref = {c.ref: c for c in inputs.candidates}
    segments: list[PlanSegment] = []
    if base is not None:
        segments = _segments(inputs, base, frame, own, counted_shares, singles, by_ref)
    captured = sum((s.savings for s in segments), Decimal(0))
    forgone = sum((s.savings_forgone for s in segments), Decimal(0))
    return Plan(
        scenario=base.candidate if base is not None else None,
        segmented_by=by,
        scenario_savings=base.savings if base is not None else None,
        savings=captured,
        savings_forgone=forgone,
        quality_file=inputs.quality.name if inputs.quality is not None else None,
        segments=segments,
        benchmark_plan=_benchmark(segments, base, counted_shares),
        negotiation=_negotiation(inputs, singles),
        portfolio=_portfolio(model_cost, segments, by_ref, base),
    )


def _counted_shares(by_counting: dict[tuple[object, ...], Decimal]) -> dict[str, Decimal]:
    """Each segment's share of its list cost on rows whose source counts requests (`REQUESTS_KNOWN`)."""
    whole: dict[str, Decimal] = {}
    counted: dict[str, Decimal] = {}
    for (segment, known), cost in by_counting.items():
        whole[str(segment)] = whole.get(str(segment), Decimal(0)) + cost
        if known:
            counted[str(segment)] = counted.get(str(segment), Decimal(0)) + cost
    return {k: counted.get(k, Decimal(0)) / v if v else Decimal(1) for k, v in whole.items()}


def _segments(
    inputs: PlanInputs,
    base: Scenario,
    frame: pd.DataFrame,
    own: pd.DataFrame,
    counted_shares: dict[str, Decimal],
    singles: dict[str, Scenario],
    by_ref: dict[str, CatalogModel],
) -> list[PlanSegment]:
    choices = {c.segment: c for c in base.segments}
    raw = {name: c.baseline_cost - c.projected_cost for name, c in choices.items()}
    routed = {name: c.baseline_cost for name, c in choices.items() if c.candidate is not None}
    shares = allocate(base.savings, raw, routed)
    with_side = own.assign(_side=own[_INPUT_SIDE].sum(axis=1), _counted=own[_COUNTED].sum(axis=1))
    tokens = with_side.groupby([_SEGMENT, MODEL_REF])[["requests", "_counted"]].sum()
    # Each segment's models (sorted) with their counted tokens, and its requests.
    models: dict[str, dict[str, int]] = {}
    requests: dict[str, int] = {}
    for (segment, ref), n, counted in tokens.itertuples():
        models.setdefault(str(segment), {})[str(ref)] = int(counted)
        requests[str(segment)] = requests.get(str(segment), 0) + int(n)
    # Tokens per request are of the rows whose source counts requests: a cost export's tokens have no requests.
    counting = with_side[with_side[REQUESTS_KNOWN] > 0].groupby(_SEGMENT)[["_side", "output_tokens"]].sum()
    per_request = {str(k): (int(side), int(output)) for k, side, output in counting.itertuples()}
    names = _names_by_ref(inputs.usage)
    # Each segment's rows measured for its risk, all in one pass. The rows themselves are read only by a data
    # profile that names segments (`Profile.for_rows`).
    codes, labels = column_codes(frame[_SEGMENT].astype(str))
    measured = dict(zip(map(str, labels), measure_groups(frame, codes, len(labels)), strict=True))
    split = frame.groupby(_SEGMENT, sort=False).indices if inputs.profile.segments else None
    out = []
    for name, choice in choices.items():
        profile = inputs.profile.for_rows(frame.iloc[split[name]]) if split is not None else inputs.profile
        side, output = per_request.get(name, (0, 0))
        traffic = _Traffic(
            requests=requests[name],
            days=inputs.days,
            side=side,
            output=output,
            baseline=choice.baseline_cost,
            projected=choice.projected_cost,
            counted_share=counted_shares.get(name, Decimal(1)),
        )
        label = segment_label(name, base.segmented_by)
        seg = (profile, models[name], traffic, measured[name])
        out.append(_segment(inputs, choice, label, shares[name], *seg, singles, by_ref, names))
    return out


def _names_by_ref(usage: Sequence[UsageEntry]) -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for u in usage:
        if u.model is not None:
            names.setdefault(u.model, set()).update([u.model_raw, *u.also_written_as])
    return names


def _model_names(ref: str, names: dict[str, set[str]]) -> tuple[str, ...]:
    return (ref, ref.partition(":")[2], *sorted(names.get(ref, ())))


@dataclass(frozen=True)
class _Traffic:
    """A segment's traffic in the audited period. Its requests and its input-side and output tokens (`side`,
    `output`: divided by the requests, the figures per request) are those of the rows whose source counts
    requests; `counted_share` is those rows' share of the segment's list cost, by which a cost of the whole segment
    is taken to those rows before it is divided."""

    requests: int
    days: int  # days with usage in the audited period
    side: int
    output: int
    baseline: Decimal
    projected: Decimal
    counted_share: Decimal = Decimal(1)

    @property
    def per_day(self) -> float:
        return self.requests / self.days if self.days else 0.0

    def per_request(self, amount: Decimal) -> Decimal | None:
        return amount * self.counted_share / self.requests if self.requests else None


def _segment(
    inputs: PlanInputs,
    choice: SegmentChoice,
    label: str,
    share: Decimal,
    profile: Profile,
    weights: dict[str, int],
    traffic: _Traffic,
    measured: Measures,
    singles: dict[str, Scenario],
    by_ref: dict[str, CatalogModel],
    names: dict[str, set[str]],
) -> PlanSegment:
    """One segment's recommendation; `profile` is the data profile of its rows, `weights` its models' counted
    tokens (input side and output)."""
    current = list(weights)
    candidate = by_ref.get(choice.candidate) if choice.candidate else None
    quality = _evidence(inputs.quality, choice.segment, candidate, weights, names)
    rating: Level | None = None
    recommendation: Recommendation
    reasons: list[str] = []
    if candidate is None or share <= 0:
        # A stay forgoes whatever share of the scenario's savings falls on the segment (0 unless a contract moved
        # the scenario's baseline, or the exact cost of a routed segment is not below its current cost).
        recommendation, captured, forgone = "stay", Decimal(0), share
        reasons.append(
            "No candidate that the data profile does not block and whose context window fits "
            f"({choice.passing_candidates} fit) is cheaper than the current models."
        )
    else:
        risk = assess_measured(candidate, profile, measured, as_of=inputs.as_of)
        rating = risk.level
        flagged = [f"{f.code} ({f.severity})" for f in risk.findings if f.severity != "info"]
        seen = f"rating {rating}" + (f": {', '.join(flagged)}" if flagged else "")
        if rating in ("red", "blocked"):
            recommendation, captured, forgone = "stay", Decimal(0), share
            scores = f"operational score {risk.operational_score:g}" + (
                f", compliance score {risk.compliance_score:g}" if risk.compliance_score is not None else ""
            )
            reasons.append(f"{candidate.ref} is rated {rating} on this segment ({scores}; {', '.join(flagged)}).")
        elif quality.status == "against":
            recommendation, captured, forgone = "stay", Decimal(0), share
            reasons.append(f"The evaluation results show {candidate.ref} below the current models: {quality.message}")
        elif rating == "amber" or quality.status != "supports":
            recommendation, captured, forgone = "migrate-in-phases", share, Decimal(0)
            why = [seen] if rating == "amber" else []
            why += [] if quality.status == "supports" else [f"quality evidence {quality.status}"]
            reasons.append(f"{candidate.ref} saves {_usd(share, 2)}; in phases because of {'; '.join(why)}.")
        else:
            recommendation, captured, forgone = "migrate", share, Decimal(0)
            reasons.append(f"{candidate.ref} saves {_usd(share, 2)}, {seen}, and the evaluation supports it.")
        if not inputs.profile.given:
            reasons.append("No data profile was given (--data): the compliance gates were not checked.")
    n = sample_size(traffic.requests)
    evaluation = None
    if recommendation == "migrate-in-phases" and candidate is not None and quality.status != "supports":
        evaluation = _evaluation(label, candidate, current, n, quality, inputs.quality is not None)
    phases: list[PlanPhase] = []
    if recommendation != "stay" and candidate is not None:
        single = singles.get(candidate.ref)
        phases = _phases(recommendation, traffic, n, candidate, single, inputs.profile, evaluation, quality)
    return PlanSegment(
        segment=choice.segment,
        recommendation=recommendation,
        candidate=choice.candidate,
        candidate_name=choice.candidate_name,
        rating=rating,
        savings=captured,
        savings_forgone=forgone,
        baseline_cost=choice.baseline_cost,
        requests=traffic.requests,
        current_models=current,
        reasons=reasons,
        quality=quality,
        evaluation_required=evaluation,
        phases=phases,
    )


def _evidence(
    quality: QualityFile | None,
    segment: str,
    candidate: CatalogModel | None,
    weights: dict[str, int],
    names: dict[str, set[str]],
) -> QualityEvidence:
    if quality is None:
        return QualityEvidence(status="none", candidate_score=None, message="no evaluation results (--quality)")
    if candidate is None:
        return QualityEvidence(status="none", candidate_score=None, message="no candidate to evaluate")
    cand = quality.score(segment, (candidate.ref, candidate.model.id))
    scored = {m: s for m in weights if (s := quality.score(segment, _model_names(m, names))) is not None}
    sources = [f"{quality.name} line {s.line}" for s in ([cand] if cand else []) + list(scored.values())]
    whole = sum(weights.values())
    coverage = round(sum(weights[m] for m in scored) / whole * 100, 2) if whole else None
    status, message = _verdict(candidate, cand.score if cand else None, {m: v.score for m, v in scored.items()},
                               coverage, quality.name)  # fmt: skip
    return QualityEvidence(
        status=status,
        candidate_score=cand.score if cand else None,
        current_scores={m: v.score for m, v in scored.items()},
        coverage_pct=coverage,
        sources=sources,
        message=message,
    )


def _verdict(
    candidate: CatalogModel, cand: float | None, scored: dict[str, float], coverage: float | None, name: str
) -> tuple[Literal["supports", "against", "insufficient", "none"], str]:
    if cand is None and not scored:
        return "none", f"no score for this segment in {name}"
    if cand is None:
        return "insufficient", f"{candidate.ref} has no score"
    worse = [m for m, s in scored.items() if cand < s - QUALITY_TOLERANCE * abs(s)]
    if worse:
        text = ", ".join(f"{m} {scored[m]:g}" for m in worse)
        return "against", f"{candidate.ref} scores {cand:g}, more than {QUALITY_TOLERANCE:.0%} below {text}"
    if not scored or coverage is None or coverage < COVERAGE_MIN:
        return "insufficient", (
            f"the scored current models cover {coverage or 0:g}% of the segment's tokens "
            f"(at least {COVERAGE_MIN:g}% needed)"
        )
    return "supports", (
        f"{candidate.ref} scores {cand:g}, within {QUALITY_TOLERANCE:.0%} of the current models "
        f"(covering {coverage:g}% of the segment's tokens)"
    )


def _evaluation(
    label: str, candidate: CatalogModel, current: list[str], n: int, quality: QualityEvidence, given: bool
) -> str:
    missing = quality.message if given else "no evaluation results were given"
    return (
        f"Before the canary: evaluate {candidate.ref} against {', '.join(current)} on {n:,} requests sampled from "
        f"segment '{label}' (the benchmark plan), scored with the segment's own task metric (pass "
        f"rate or rubric; tool-call F1, JSON validity and refusal rate where it uses them); both within "
        f"{QUALITY_TOLERANCE:.0%} of each other, the current models covering at least {COVERAGE_MIN:g}% of its "
        f"tokens. Give the results with --quality (model,segment,score). Now: {missing}."
    )


def _usd(value: Decimal | None, places: int = 6) -> str:
    if value is None:
        return "n/a"
    return f"${value.quantize(Decimal(1).scaleb(-places)):,}"


def _values(single: Scenario | None) -> dict[str, tuple[float, float]]:
    if single is None:
        return {}
    return {a.name: (a.value, a.high) for a in single.assumption_values}


def _phases(
    recommendation: Recommendation,
    traffic: _Traffic,
    n: int,
    candidate: CatalogModel,
    single: Scenario | None,
    profile: Profile,
    evaluation: str | None,
    quality: QualityEvidence,
) -> list[PlanPhase]:
    now = traffic.per_request(traffic.baseline)
    then = traffic.per_request(traffic.projected)
    values = _values(single)
    ratio, ratio_high = values.get("token_ratio", (1.0, 1.0))
    verbosity, verbosity_high = values.get("output_verbosity", (1.0, 1.0))
    metrics = [
        "quality on the same requests, candidate against current (the segment's task metric)",
        "error and refusal rate; latency p50 and p95, time to first token",
    ]
    triggers = [
        f"quality more than {QUALITY_TOLERANCE:.0%} below the current models' score on the same requests",
        f"error rate more than {ERROR_MARGIN_PP} percentage point above the current route's",
        f"p95 latency above {LATENCY_FACTOR:g}x the current route's",
    ]
    if traffic.requests:
        side, out = traffic.side / traffic.requests, traffic.output / traffic.requests
        metrics += [
            f"input-side tokens per request: now {side:,.0f}; expected {side * ratio:,.0f} (token_ratio {ratio:g})",
            f"output tokens per request: now {out:,.0f}; expected {out * verbosity:,.0f} "
            f"(output_verbosity {verbosity:g})",
            f"cost per request: now {_usd(now)}; expected {_usd(then)}",
        ]
        triggers += [
            f"cost per request above {_usd(now)} (the current models': no saving left)",
            f"input-side tokens per request above {side * ratio_high:,.0f} (token_ratio high end {ratio_high:g})",
            f"output tokens per request above {out * verbosity_high:,.0f} (output_verbosity high end "
            f"{verbosity_high:g})",
        ]
    else:
        metrics.append("cost per request: the source counts no requests; measure it in the shadow run")
        triggers.append(
            f"cost above the current models' on the same requests (segment now {_usd(traffic.baseline, 2)} for "
            "the audited period)"
        )
    per_day = traffic.per_day
    gates = ["no checklist item of the candidate is blocking; its 'verify' items are answered by the vendor"]
    if not profile.given:
        gates.append("the data profile is given (--data) and the compliance gates pass")
    canary_days = max(MIN_PHASE_DAYS, math.ceil(n / (per_day * CANARY_SHARE / 100))) if per_day else MIN_PHASE_DAYS
    ramp_requests = math.ceil(per_day * MIN_PHASE_DAYS * sum(RAMP_SHARES) / 100) if per_day else None
    month = (traffic.projected / traffic.days * 30) if traffic.days else None
    phases = []
    if recommendation == "migrate-in-phases":
        phases.append(
            PlanPhase(
                name="shadow",
                traffic_share_pct=0.0,
                min_days=MIN_PHASE_DAYS,
                min_requests=n,
                entry_criteria=[*gates, "the evaluation in evaluation_required is set up on the sampled requests"],
                metrics=[f"mirror {n:,} sampled real requests to {candidate.ref}; the user is served as now", *metrics],
                rollback_triggers=triggers,
            )
        )
        canary_entry = [f"shadow passed: {n:,} requests compared, no trigger met", "the evaluation passed"]
    else:
        canary_entry = [*gates, f"quality evidence: {quality.message}"]
    phases += [
        PlanPhase(
            name="canary",
            traffic_share_pct=CANARY_SHARE,
            min_days=canary_days,
            min_requests=n,
            entry_criteria=canary_entry,
            metrics=[_canary_traffic(per_day, n, canary_days, traffic.requests), *metrics],
            rollback_triggers=triggers,
        ),
        PlanPhase(
            name="ramp",
            traffic_share_pct=RAMP_SHARES[-1],
            min_days=MIN_PHASE_DAYS * len(RAMP_SHARES),
            min_requests=ramp_requests,
            entry_criteria=[f"canary ran {canary_days:,} days and {n:,} requests with no trigger met"],
            metrics=[
                " then ".join(f"{s:g}%" for s in RAMP_SHARES) + f" of live traffic, {MIN_PHASE_DAYS} days each",
                *metrics,
            ],
            rollback_triggers=triggers,
        ),
        PlanPhase(
            name="full",
            traffic_share_pct=100.0,
            min_days=FULL_KEEP_DAYS,
            min_requests=None,
            entry_criteria=[
                f"ramp ran {MIN_PHASE_DAYS * len(RAMP_SHARES)} days with no trigger met",
                "the vendor's contract and DPA are signed",
            ],
            metrics=[
                f"monthly cost of the segment: expected {_usd(month, 2)} (now "
                f"{_usd(traffic.baseline / traffic.days * 30 if traffic.days else None, 2)})",
                *metrics,
            ],
            rollback_triggers=[*triggers, f"keep the current route configured for {FULL_KEEP_DAYS} days to roll back"],
        ),
    ]
    return phases


LONG_CANARY_DAYS = 90
"""A canary longer than this says what a larger share of the traffic would take."""


def _canary_traffic(per_day: float, n: int, days: int, requests: int) -> str:
    """The canary's share of the traffic and what it comes to: its requests a day where the data counts them, and
    where reaching the sample at that share takes months, how long the ramp's first share would take (or, for a
    segment whose whole traffic is the sample, that a canary cannot gather one)."""
    share = f"{CANARY_SHARE:g}% of live traffic"
    if not per_day:
        return f"{share} (the data counts no requests of this segment: count them in the shadow run)"
    rate = per_day * CANARY_SHARE / 100
    text = f"{share} ({f'about {rate:,.1f}' if rate >= 0.1 else 'fewer than 0.1'} requests a day)"
    if days > LONG_CANARY_DAYS and requests <= n:
        text += (
            f": the segment's {requests:,} requests of the audited period are its whole sample, which a canary "
            f"would take {days:,} days to gather; evaluate on them and move the segment whole"
        )
    elif days > LONG_CANARY_DAYS:
        larger = max(MIN_PHASE_DAYS, math.ceil(n / (per_day * RAMP_SHARES[0] / 100)))
        text += (
            f": {n:,} requests take {days:,} days at this share; at {RAMP_SHARES[0]:g}% they take {larger:,} days, "
            "or the evaluation accepts a smaller sample"
        )
    return text


def _benchmark(segments: list[PlanSegment], base: Scenario | None, counted_shares: dict[str, Decimal]) -> BenchmarkPlan:
    choices = {c.segment: c for c in base.segments} if base is not None else {}
    out = []
    for s in segments:
        if s.recommendation == "stay" or s.candidate is None:
            continue
        n = sample_size(s.requests)
        # The cost of the rows whose source counts the requests the sample is drawn from.
        projected = choices[s.segment].projected_cost * counted_shares.get(s.segment, Decimal(1))
        out.append(
            BenchmarkSegment(
                segment=s.segment,
                candidate=s.candidate,
                current_models=s.current_models,
                population_requests=s.requests,
                sample_requests=n,
                shadow_cost=money(projected * n / s.requests) if s.requests else None,
            )
        )
    return BenchmarkPlan(rule=SAMPLE_RULE, compare=COMPARE, segments=out)


def _negotiation(inputs: PlanInputs, singles: dict[str, Scenario]) -> Negotiation:
    open_ = [c for c in inputs.candidates if not _blocked(singles.get(c.ref))]
    vendors = sorted({u.provider for u in inputs.usage if u.all_tokens() > 0})
    # Each vendor's traffic on the candidates is what the scenario machinery gives on its rows alone.
    projected, priced_tokens = projected_by(inputs.repricing, inputs.pricebook, open_, inputs.assumptions, "provider")
    briefs = [_vendor(inputs, v, projected.get(v, []), priced_tokens.get(v, 0), singles) for v in vendors]
    basis = (
        "Effective rate: billed cost of the vendor's lines with tokens (less stated non-token charges) per million of "
        "their tokens, leaving out lines charged on other days than their tokens (the reconciliation's coverage, or "
        "a month of charges without tokens); list rate: the vendor's lines at list price when used; below list: "
        "billed against list cost on the same lines; alternatives: the vendor's priced traffic on each candidate not "
        "blocked, at as-of prices with the scenario assumptions, per million tokens of the current mix."
    )
    return Negotiation(basis=basis, vendors=briefs)


def _blocked(scenario: Scenario | None) -> bool:
    return scenario is not None and scenario.risk is not None and scenario.risk.level == "blocked"


def _rate(cost: Decimal | None, tokens: int) -> Decimal | None:
    return money(cost * _MTOK / tokens) if cost is not None and tokens else None


def _vendor(
    inputs: PlanInputs,
    vendor: str,
    projected: list[tuple[CatalogModel, Decimal]],
    priced_tokens: int,
    singles: dict[str, Scenario],
) -> VendorBrief:
    lines = [u for u in inputs.usage if u.provider == vendor and u.all_tokens() > 0]
    # A line charged on days other than those of its tokens (a cost export and a usage export of different spans, or
    # a month of charges without tokens): its billed cost is not the price of its tokens (the samples' Anthropic
    # lines read 85% below list).
    uneven = {
        r.model_raw
        for r in inputs.reconciliation
        if r.provider == vendor and (r.coverage or (r.list_cost is None and r.model is not None))
    }
    charged = [u for u in lines if u.billed_cost is not None]
    billed = [u for u in charged if u.model_raw not in uneven]
    left_out = sorted({u.model_raw for u in charged if u.model_raw in uneven})
    billed_cost = sum((_charged(u) for u in billed), Decimal(0)) if billed else None
    billed_tokens = sum(u.all_tokens() for u in billed)
    listed = [u for u in lines if u.list_cost is not None]
    list_cost = sum((u.list_cost for u in listed if u.list_cost is not None), Decimal(0)) if listed else None
    list_tokens = sum(u.all_tokens() for u in listed)
    effective, list_rate = _rate(billed_cost, billed_tokens), _rate(list_cost, list_tokens)
    # The discount compares the same lines: billed against their own list cost (rates of different mixes would not).
    both = [u for u in billed if u.list_cost is not None]
    both_list = sum((u.list_cost for u in both if u.list_cost is not None), Decimal(0))
    discount = (
        round(float(1 - sum((_charged(u) for u in both), Decimal(0)) / both_list) * 100, 2) if both_list else None
    )
    alternatives = []
    for candidate, cost in sorted(projected, key=lambda item: (item[1], item[0].ref))[:ALTERNATIVES]:
        rate = _rate(cost, priced_tokens)
        single = singles.get(candidate.ref)
        alternatives.append(
            AlternativeRate(
                candidate=candidate.ref,
                candidate_name=candidate.display_name,
                projected_cost=cost,
                rate_per_mtok=rate if rate is not None else Decimal(0),
                rating=single.risk.level if single is not None and single.risk is not None else None,
            )
        )
    now, basis = (effective, "effective") if effective is not None else (list_rate, "list")
    best = alternatives[0] if alternatives else None
    cut = None
    if best is not None and now is not None and now > 0 and best.rate_per_mtok < now:
        cut = round(float(1 - best.rate_per_mtok / now) * 100, 2)
    return VendorBrief(
        vendor=vendor,
        billed_cost=money(billed_cost) if billed_cost is not None else None,
        billed_tokens=billed_tokens,
        effective_rate=effective,
        list_cost=money(list_cost) if list_cost is not None else None,
        list_tokens=list_tokens,
        list_rate=list_rate,
        discount_vs_list_pct=discount,
        left_out=left_out,
        priced_tokens=priced_tokens,
        alternatives=alternatives,
        price_cut_to_match_pct=cut,
        message=_brief_text(vendor, effective, list_rate, discount, best, cut, basis, left_out),
    )


def _charged(line: UsageEntry) -> Decimal:
    """What a line's tokens were billed: its billed cost less its stated non-token charges."""
    return (line.billed_cost or Decimal(0)) - (line.billed_non_token_cost or Decimal(0))


def _brief_text(
    vendor: str,
    effective: Decimal | None,
    list_rate: Decimal | None,
    discount: float | None,
    best: AlternativeRate | None,
    cut: float | None,
    basis: str,
    left_out: list[str],
) -> str:
    text = f"{vendor}: "
    aside = f"the charges of {', '.join(left_out)} fall on other days than their tokens" if left_out else ""
    if effective is not None:
        text += f"you pay {_usd(effective, 4)} per million tokens of your mix"
        if list_rate is not None:
            text += f" against {_usd(list_rate, 4)} at list"
        if discount is not None:
            text += f" ({discount:g}% below list on the same lines)"
        text += f"; {aside}, so they are left out" if aside else ""
    elif list_rate is not None:
        what = f"no billed rate can be stated ({aside})" if aside else "no billed cost is stated"
        text += f"{what}; the list rate of your mix is {_usd(list_rate, 4)} per million tokens"
    else:
        text += "neither a billed cost nor a list price is known"
    if best is None:
        return text + "; no candidate that is not blocked prices this traffic."
    text += f". {best.candidate_name} would cost {_usd(best.rate_per_mtok, 4)} per million on the same traffic"
    if cut is not None:
        return text + f": ask for {cut:g}% off the {basis} rate to match it, or move."
    return text + f": already above your {basis} rate, so no lever from it."


def _jurisdiction(provider: str, model: str) -> str:
    endpoint = endpoint_book().for_model(provider, model)
    if endpoint is None or not endpoint.jurisdiction.known:
        return "unknown"
    return endpoint.jurisdiction.value


def _portfolio(
    model_cost: dict[tuple[str, str], Decimal],
    segments: list[PlanSegment],
    by_ref: dict[str, CatalogModel],
    base: Scenario | None,
) -> Portfolio:
    moved = {s.segment: s for s in segments if s.recommendation != "stay" and s.candidate in by_ref}
    projected = {c.segment: c.projected_cost for c in base.segments} if base is not None else {}
    before: dict[tuple[str, str], Decimal] = {}
    after: dict[tuple[str, str], Decimal] = {}
    for (segment, ref), cost in model_cost.items():
        provider, _, model = ref.partition(":")
        key = (provider, _jurisdiction(provider, model))
        before[key] = before.get(key, Decimal(0)) + cost
        if segment not in moved:
            after[key] = after.get(key, Decimal(0)) + cost
    for segment, s in moved.items():
        cand = by_ref[str(s.candidate)]
        key = (cand.provider.id, _jurisdiction(cand.provider.id, cand.model.id))
        after[key] = after.get(key, Decimal(0)) + projected[segment]
    return Portfolio(
        basis="The priced workload at as-of list prices: before, on its current models; after, each segment the "
        "plan moves (migrate or in phases) at its projected cost on its candidate, the others as before. Provider: "
        "the catalog model's; jurisdiction: the endpoint profile's vendor jurisdiction (unknown when not profiled).",
        by_provider=_shares(before, after, 0),
        by_jurisdiction=_shares(before, after, 1),
    )


def _shares(
    before: dict[tuple[str, str], Decimal], after: dict[tuple[str, str], Decimal], part: int
) -> list[PortfolioShare]:
    b: dict[str, Decimal] = {}
    a: dict[str, Decimal] = {}
    for key, cost in before.items():
        b[key[part]] = b.get(key[part], Decimal(0)) + cost
    for key, cost in after.items():
        a[key[part]] = a.get(key[part], Decimal(0)) + cost
    tb, ta = sum(b.values(), Decimal(0)), sum(a.values(), Decimal(0))
    names = sorted(set(b) | set(a), key=lambda n: (-(b.get(n, Decimal(0))), n))
    return [
        PortfolioShare(
            name=n,
            before_cost=money(b.get(n, Decimal(0))),
            before_pct=round(float(b.get(n, Decimal(0)) / tb * 100), 2) if tb else 0.0,
            after_cost=money(a.get(n, Decimal(0))),
            after_pct=round(float(a.get(n, Decimal(0)) / ta * 100), 2) if ta else 0.0,
        )
        for n in names
    ]


def plan_notes(plan: Plan) -> list[str]:
    """What the plan rests on."""
    notes = [
        "Migration plan: built on the route-by-segment scenario; stay when no candidate that the data profile does "
        "not block and that fits saves money, when the candidate is rated red on the segment, or when the user's "
        "evaluation shows it worse; migrate in phases when amber or without supporting quality evidence; migrate "
        "when green and the evaluation supports it. Phase shares, durations and the latency and error triggers are "
        "proposals to calibrate."
    ]
    if plan.quality_file is None and plan.segments:
        notes.append(
            "No evaluation results were given (--quality): every move is in phases, and the plan names the "
            "evaluation required before each canary."
        )
    return notes


def quality_notes(quality: QualityFile | None) -> list[str]:
    """Rows of the quality file that the plan did not use (call after build_plan)."""
    if quality is None or not quality.unused():
        return []
    return [f"{quality.name}: {quality.unused()} score(s) match no segment's candidate or current model."]
