"""The AuditResult: the one document every renderer reads (JSON root, schema_version "1").

Money is `Decimal` in `currency`, serialised as a decimal string, or None when unknown; tokens are ints.
"""

from __future__ import annotations

import datetime as _dt
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

SCHEMA_VERSION = "1"
NANO = Decimal("0.000000001")

# Money: exact Decimal, written in JSON as a plain decimal string (never exponent notation).
Money = Annotated[
    Decimal,
    PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "decimal", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}, mode="serialization"),
]


def money(value: Decimal) -> Decimal:
    """A computed amount as the result carries it: rounded half-even to a nano-unit of the currency."""
    return value.quantize(NANO)


class _Model(BaseModel):
    # Every key is written, defaults too: the JSON Schema of the output says so (docs/audit-result.schema.json).
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_serialization_defaults_required=True)


class RejectedRowOut(_Model):
    """A row that could not be used."""

    line: int = Field(
        description="1-based line of the file, or row of a Parquet file (see the file's `numbered_by`); "
        "0 when it could not be located"
    )
    where: str = Field(
        default="",
        description="for a JSON document (an API page): the record's place in it, e.g. "
        "'page 1, bucket 2 (2026-10-01T00:00:00Z), result 3'; empty for other files",
    )
    column: str | None = Field(default=None, description="the column at fault, when one is")
    reason: str

    def location(self, numbered_by: str = "line") -> str:
        """How reports name the row: its place in a document, else its line (or row)."""
        return self.where or (f"{numbered_by} {self.line}" if self.line > 0 else "unknown")


class InputFile(_Model):
    """One input file and its row accounting: rows_read = rows_used + rows_skipped + rows_rejected."""

    path: str
    format: str = Field(description="the importer that read it")
    sha256: str
    rows_read: int
    rows_used: int
    rows_skipped: int
    rows_rejected: int
    skipped_reasons: dict[str, int] = Field(default_factory=dict)
    rejected: list[RejectedRowOut] = Field(default_factory=list, description="listed rejects (first 1000)")
    period_start: date | None = None
    period_end: date | None = None
    numbered_by: Literal["line", "row"] = Field(
        default="line",
        description="what rejected rows' `line` counts: lines of a text file (the header is line 1; in a "
        "workbook, sheet rows) or rows of a Parquet file (the first row of data is row 1)",
    )


class SkippedFile(_Model):
    """A file inside a given directory that no importer recognises: listed, not fatal."""

    path: str
    reason: str


class TokenCounts(_Model):
    """Non-overlapping token classes (reasoning_tokens is the reasoning part of output_tokens)."""

    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0

    def all_tokens(self) -> int:
        """Every token, once: the classes do not overlap and reasoning is already inside output."""
        return (
            self.input_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
            + self.cache_write_1h_tokens
            + self.output_tokens
        )


class UsageEntry(TokenCounts):
    """Usage and cost of one model as one vendor billed it."""

    provider: str = Field(description="the vendor that served and billed it")
    model_raw: str = Field(description="the model name as the source wrote it")
    model: str | None = Field(description="catalog id `provider:model`, or None when unpriced")
    also_written_as: list[str] = Field(
        default_factory=list,
        description="other names of the same catalog model in the inputs (a cost export's display name), "
        "counted on this line",
    )
    requests: int | None = Field(description="None when the source has no request counts")
    billed_cost: Money | None = Field(description="what the source says was charged; None if it does not say")
    billed_non_token_cost: Money | None = Field(
        default=None,
        description="part of billed_cost that is not the tokens' charges (tools, storage, fees, credits; "
        "a discount of token charges is part of them)",
    )
    byok_upstream_cost: Money | None = Field(default=None, description="bring-your-own-key spend billed upstream")
    list_cost: Money | None = Field(
        description="list price of the tokens when used (what totals.list_cost counts of the line); None when unpriced"
    )
    list_cost_basis: Literal["catalog", "source"] | None = Field(
        default=None, description="catalog: genai-prices rates; source: the export's own list price column"
    )
    stated_list_cost: Money | None = Field(
        default=None,
        description="a list price the line's export states for months in which a usage export gives the vendor's "
        "tokens: shown, not counted in list_cost (the same spend may be among those tokens)",
    )
    size_basis: str = Field(description="request sizes known per request, as an average, or from a label")
    unpriced_reason: str | None = None
    suggestions: list[str] = Field(default_factory=list, description="close catalog models, for unpriced names")
    token_files: list[str] = Field(
        default_factory=list, description="the input files its tokens and requests come from"
    )
    billed_files: list[str] = Field(default_factory=list, description="the input files its billed cost comes from")
    contract_cost: Money | None = Field(
        default=None,
        description="cost at the negotiated prices of the contract file (--contract) where one of its terms applies "
        "to the line (list price elsewhere on the line); None when no term applies",
    )
    contract_terms: list[str] = Field(
        default_factory=list, description="the contract terms that priced the line, with their line in the file"
    )


def is_unpriced(row: UsageEntry | MonthlyUsage) -> bool:
    """Usage (tokens or requests) the catalog has no price for; money-only lines (tax, storage) are not."""
    has_usage = bool(row.requests) or any(
        getattr(row, c) for c in ("input_tokens", "cache_read_tokens", "cache_write_tokens",
                                  "cache_write_1h_tokens", "output_tokens")
    )  # fmt: skip
    return row.list_cost is None and row.model is None and has_usage and row.contract_cost is None


class MonthlyUsage(TokenCounts):
    """Usage and cost of one model in one calendar month (of the result's `timezone`)."""

    month: str = Field(description="YYYY-MM")
    provider: str
    model_raw: str
    model: str | None
    requests: int | None
    billed_cost: Money | None
    list_cost: Money | None
    stated_list_cost: Money | None = Field(
        default=None, description="the line's own stated list price, not counted in list_cost (see UsageEntry)"
    )
    contract_cost: Money | None = Field(
        default=None, description="cost at the contract's prices where one of its terms applies (see UsageEntry)"
    )


class Totals(TokenCounts):
    requests: int = Field(description="requests of the sources that count them")
    billed_cost: Money | None
    list_cost: Money | None = Field(description="list cost of the priced usage")
    unpriced_requests: int
    unpriced_models: int
    unpriced_tokens: int
    contract_cost: Money | None = Field(
        default=None,
        description="with --contract: the priced usage at contract prices where the contract sets them and at list "
        "price elsewhere (models priced only by the contract included); None without a contract",
    )


class Driver(_Model):
    """How much one assumption moves a scenario's projected cost between its low and high end (others at value)."""

    assumption: str
    effect: Money = Field(description="absolute change of projected_cost, currency units")


class SegmentChoice(_Model):
    """A hybrid scenario's choice for one segment: the cheapest candidate that passes the constraints."""

    segment: str = Field(description="the project, key or catalog model; '' when the source does not say")
    candidate: str | None = Field(description="the chosen candidate, or None when the segment stays on its models")
    candidate_name: str | None
    baseline_cost: Money = Field(description="the segment on its current models at as-of prices")
    projected_cost: Money
    largest_request_tokens: int = Field(description="floor of the segment's largest request-size bucket")
    passing_candidates: int = Field(
        description="candidates whose context window fits the segment's requests and that the segment's data "
        "profile does not block"
    )


class RiskFinding(_Model):
    """One reason for a candidate's risk rating: a legal gate, a vendor-posture gap or a measured operational factor."""

    code: str = Field(description="stable identifier of the rule, e.g. phi-no-baa, context-fit")
    severity: Literal["blocking", "red", "amber", "info"]
    message: str
    inputs: dict[str, str | int | float | None] = Field(
        default_factory=dict, description="the data classes, vendor facts (with as-of dates) and measured values used"
    )
    sources: list[str] = Field(default_factory=list, description="the rule's source and each vendor fact's source")


class Risk(_Model):
    """What moving the workload to the candidate would risk: gates first, then scores."""

    level: Literal["green", "amber", "red", "blocked"]
    compliance_score: float | None = Field(
        description="0 (no exposure found) to 100: vendor posture gaps weighted by the data's sensitivity; "
        "None without a data profile"
    )
    operational_score: float = Field(
        description="0 (no risk measured) to 100: the worst weighted operational factor measured from the usage "
        "(context-window fit, cache and batch dependence, long-context share, lock-in, price and version "
        "stability, provider concentration, capability gaps)"
    )
    findings: list[RiskFinding] = Field(default_factory=list)


class ChecklistItem(_Model):
    """One item a triggered regime requires, and whether a documented vendor fact meets it."""

    regime: str
    item: str
    status: Literal["met", "verify", "blocking"] = Field(
        description="met: a documented vendor fact shows it; verify: fact unknown or partial, or the user's own "
        "step; blocking: a fact shows it cannot be met"
    )
    source: str = Field(description="the rule's source, and the vendor fact's source when the item rests on one")
    as_of: date | None = Field(
        default=None,
        description="the checked date of the vendor fact; for an item resting on no vendor fact, the date its rule's "
        "source was read; None when the fact is unknown",
    )


class Scenario(_Model):
    """The priced workload re-priced on one candidate at the as-of date."""

    candidate: str = Field(description="`provider:model` catalog id")
    candidate_name: str
    baseline_cost: Money = Field(description="the same workload on its current models at as-of prices")
    projected_cost: Money
    savings: Money
    savings_pct: float | None = Field(description="savings as a percentage of baseline_cost")
    context_window: int | None = Field(default=None, description="the candidate's context window, tokens")
    baseline_basis: Literal["list", "contract"] = Field(
        default="list", description="contract: the baseline uses the contract's prices for the models it names"
    )
    projected_basis: Literal["list", "contract"] = Field(
        default="list", description="contract: the contract names the candidate (its model or vendor)"
    )
    low_cost: Money | None = Field(
        default=None, description="projected cost with every assumption at the end of its range that lowers it"
    )
    high_cost: Money | None = Field(
        default=None, description="projected cost with every assumption at the end of its range that raises it"
    )
    drivers: list[Driver] = Field(
        default_factory=list, description="how much each assumption moves the projected cost, largest first"
    )
    kind: Literal["single", "hybrid"] = Field(
        default="single", description="single: all traffic on the candidate; hybrid: each segment routed on its own"
    )
    segmented_by: Literal["project", "api_key", "model"] | None = Field(
        default=None, description="hybrid only: what a segment is"
    )
    segments: list[SegmentChoice] = Field(default_factory=list, description="hybrid only: the choice per segment")
    assumption_values: list[AssumptionOut] = Field(
        default_factory=list,
        description="single only: the assumptions this scenario used (value, range, source); token_ratio and the "
        "verbosities default per model family of the candidate and the source models",
    )
    risk: Risk | None = Field(default=None, description="migration risk: level, scores and findings with sources")
    checklist: list[ChecklistItem] = Field(
        default_factory=list, description="compliance checklist of the regimes the data profile triggers"
    )


class FxRateOut(_Model):
    """An exchange rate the audit used to convert amounts billed in another currency."""

    currency: str
    month: str | None = Field(description="YYYY-MM the rate applies to; None for every month")
    usd_per_unit: Decimal = Field(description="USD per one unit of the currency")
    source: str = Field(description="where the rate came from: --fx or the rates file")


class CommitmentPeriod(_Model):
    """One period of a contract's committed spend, against the spend observed in it at contract prices."""

    vendor: str
    period_start: date
    period_end: date
    committed: Money = Field(description="the commitment for the period, USD")
    spend: Money = Field(description="observed usage of the vendor in the period at contract prices, USD")
    used_pct: float = Field(description="spend as a percentage of the commitment")
    shortfall: Money = Field(description="commitment not used (0 when spend reaches it)")
    overage: Money = Field(description="spend above the commitment (0 when below it)")
    days_observed: int = Field(description="days of the period inside the audited period")
    days_in_period: int
    complete: bool = Field(description="whether the audited period covers the whole period")
    term: str = Field(description="the contract term, with its line in the file")


class AssumptionOut(_Model):
    """A migration assumption the scenarios use: its value, its low..high range and where the default comes from."""

    name: str
    value: float
    low: float
    high: float
    description: str = ""
    source: str


class Period(_Model):
    start: date | None
    end: date | None


class ForecastMonth(_Model):
    """One month of the 12-month forecast after as-of (see `auditor/forecast.py` for the method)."""

    month: str = Field(description="YYYY-MM (UTC)")
    tokens: int = Field(description="predicted token volume of the priced workload in the month")
    baseline_cost: Money = Field(description="the workload on its current models at the prices in force that month")
    projected_cost: dict[str, Money] = Field(
        description="per scenario (candidate id; 'hybrid' for the route-by-segment scenario), the workload on the "
        "candidate (the hybrid: each segment on its routed candidate, or on its own models where it stays) at the "
        "prices in force that month"
    )


class PriceChangeOut(_Model):
    """A scheduled price change after as-of, or a deprecation, of a current model or a candidate."""

    model: str = Field(description="`provider:model` catalog id")
    model_name: str
    role: str = Field(description="current, candidate, or current and candidate")
    kind: Literal["price", "deprecation"]
    date: _dt.date | None = Field(description="the UTC day the new price applies from, or the deprecation day")
    service_tier: str | None = Field(default=None, description="the tier whose price changes (kind price)")
    old: dict[str, Money] | None = Field(
        default=None, description="USD per million tokens of each ledger class (and per 1000 requests) before"
    )
    new: dict[str, Money] | None = Field(default=None, description="the same rates from `date`")
    note: str = Field(default="", description="for a deprecation: what the catalog says")


class ReconciliationRow(_Model):
    """Billed against list for one model line in one month, the variance split into parts that add up to it."""

    month: str = Field(description="YYYY-MM")
    provider: str
    model_raw: str
    model: str | None
    billed_cost: Money
    list_cost: Money | None = Field(
        description="the usage-by-month list cost, or its stated_list_cost (the bill's own list price, which the list "
        "cost total sets aside); None when there is no list price"
    )
    source_list_cost: Money | None = Field(description="the list price the charge lines state themselves, if any")
    variance: Money | None = Field(description="billed_cost - list_cost; None without a list price")
    discount: Money = Field(
        default=Decimal(0), description="discount lines (AWS's EdpDiscount), and billed below the source's list price"
    )
    credits: Money = Field(
        default=Decimal(0),
        description="credit and refund lines (by the source's line type where it has one, else lines billed below 0)",
    )
    tier: Money = Field(default=Decimal(0), description="billed below the source's list at flex, priority, fast")
    batch: Money = Field(default=Decimal(0), description="billed below the source's list at the batch tier")
    byok_upstream: Money = Field(
        default=Decimal(0),
        description="minus the inference the upstream vendor billed through the customer's own key (BYOK), which the "
        "source's billed cost leaves out",
    )
    unpriced: Money = Field(default=Decimal(0), description="billed cost with no list price to compare it with")
    coverage: Money = Field(
        default=Decimal(0),
        description="charges on days without tokens in the inputs, less list cost of days without charges",
    )
    rounding: Money = Field(default=Decimal(0), description="the rest, when within `tolerance`")
    unexplained: Money = Field(default=Decimal(0), description="the rest beyond `tolerance`, not explained")
    tolerance: Money = Field(
        description="rounding tolerance: half a cent per billed line, at most 0.1% of billed_cost (at least a cent)"
    )
    explanation: str


FindingKind = Literal["cache_not_used", "batch_eligible", "premium_small_requests", "peak_shift"]


class Finding(_Model):
    """Waste or a quick win in the current bill, with what it would save at the catalog's rates."""

    kind: FindingKind
    provider: str
    model: str = Field(description="catalog id `provider:model` of the traffic")
    target: str | None = Field(default=None, description="the catalog model the traffic would move to, if any")
    evidence: dict[str, str] = Field(description="the numbers the finding rests on (decimal strings)")
    estimated_savings: Money = Field(description="saving over the audited period at the as-of rates")
    assumption: str = Field(description="the rule and the assumption the saving rests on")


class DataSegment(_Model):
    """A part of the traffic (one project, API key or catalog model) whose data profile differs (policy file)."""

    kind: Literal["project", "api_key", "model"]
    name: str = Field(description="the project, key or `provider:model` as the ledger and the hybrid name it")
    data_classes: list[str] = Field(description="the data classes of this segment's traffic (replace the default)")
    us_persons: dict[str, int] = Field(
        default_factory=dict, description="stated 12-month counts of US persons per DOJ Data Security Program category"
    )
    matched: bool = Field(default=True, description="whether any priced traffic belongs to the segment")


class DataProfile(_Model):
    """The user's data classes and policy, as the risk assessment read them."""

    data_classes: list[str] = Field(description="e.g. phi, eu-personal; 'none' when the traffic holds none of them")
    allowed_jurisdictions: list[str] = Field(default_factory=list, description="empty: every jurisdiction allowed")
    banned_providers: list[str] = Field(default_factory=list)
    sectors: list[str] = Field(
        default_factory=list, description="sector overlays: eu-financial (DORA), us-bank, education, tax"
    )
    banned_jurisdictions: list[str] = Field(default_factory=list)
    allowed_providers: list[str] = Field(default_factory=list, description="empty: every provider allowed")
    us_persons: dict[str, int] = Field(
        default_factory=dict,
        description="stated 12-month counts of US persons per DOJ Data Security Program category (traffic no "
        "segment names)",
    )
    capabilities: list[str] = Field(default_factory=list, description="capabilities the workload needs, as stated")
    segments: list[DataSegment] = Field(
        default_factory=list, description="parts of the traffic whose data classes differ from data_classes"
    )
    policy_file: str | None = Field(default=None, description="the policy file read (--policy), if any")


class AuditResult(_Model):
    """Everything an audit found; renderers read this and nothing else."""

    schema_version: Literal["1"] = "1"
    as_of: date
    currency: Literal["USD"] = "USD"
    tool_version: str
    catalog: str = Field(description="price catalog and version, e.g. genai-prices 0.2.3")
    period: Period
    timezone: str = Field(
        default="UTC",
        description="IANA time zone of the period's and months' days (timestamps are UTC inside; daily buckets "
        "keep their day)",
    )
    inputs: list[InputFile]
    skipped_files: list[SkippedFile] = Field(default_factory=list)
    usage: list[UsageEntry]
    usage_by_month: list[MonthlyUsage]
    totals: Totals
    scenarios: list[Scenario]
    fx_rates: list[FxRateOut] = Field(default_factory=list, description="exchange rates used, if any")
    notes: list[str] = Field(default_factory=list, description="methodology and confidence statements")
    warnings: list[str] = Field(default_factory=list, description="partial problems: rejected rows, unpriced models")
    forecast: list[ForecastMonth] = Field(
        default_factory=list, description="12 months after as-of: baseline and each scenario at the prices in force"
    )
    price_changes: list[PriceChangeOut] = Field(
        default_factory=list, description="scheduled price changes after as-of and deprecations of the models concerned"
    )
    contract_file: str | None = Field(default=None, description="the contract file of negotiated prices, if given")
    commitments: list[CommitmentPeriod] = Field(
        default_factory=list, description="with --contract: committed spend per period against the observed spend"
    )
    reconciliation: list[ReconciliationRow] = Field(
        default_factory=list, description="billed against list by vendor, model and month, the variance explained"
    )
    findings: list[Finding] = Field(
        default_factory=list, description="waste and quick wins in the current bill, each with estimated_savings"
    )
    assumptions: list[AssumptionOut] = Field(
        default_factory=list, description="migration assumptions of the scenarios: value, range and source"
    )
    data_profile: DataProfile | None = Field(
        default=None, description="the data classes and policy the risk ratings used; None when none was given"
    )
    plan: Plan | None = Field(
        default=None,
        description="the migration plan: per segment a recommendation with the savings it captures and its phases, "
        "the benchmark plan, the negotiation brief and the portfolio before and after; None when nothing is priced",
    )
    cost_model: CostModel | None = Field(
        default=None,
        description="the rates, per-source-model tokens and per-model assumption defaults the baseline and single "
        "scenarios are computed from (list prices); None when nothing was priced",
    )
    usage_by_project: list[ProjectUsage] = Field(
        default_factory=list,
        description="usage and cost by project, vendor, model line and month (of `timezone`); the rows add up to "
        "the totals exactly (billed_cost, list_cost, requests, tokens)",
    )
    usage_by_key: list[KeyUsage] = Field(
        default_factory=list,
        description="usage and cost by API key, vendor, model line and month (of `timezone`); the rows add up to "
        "the totals exactly (billed_cost, list_cost, requests, tokens)",
    )


Level = Literal["green", "amber", "red", "blocked"]


class PlanPhase(_Model):
    """One phase of moving a segment: when it may start, what to watch, and what rolls it back."""

    name: Literal["shadow", "canary", "ramp", "full"]
    traffic_share_pct: float = Field(
        description="share of the segment's live traffic the candidate serves (shadow: 0, a sample is mirrored)"
    )
    min_days: int = Field(description="the phase lasts at least this many days")
    min_requests: int | None = Field(description="requests the phase must see before it ends, when known")
    entry_criteria: list[str]
    metrics: list[str]
    rollback_triggers: list[str]


class QualityEvidence(_Model):
    """The user's own evaluation results (--quality) for one segment, against its current models."""

    status: Literal["supports", "against", "insufficient", "none"] = Field(
        description="supports: the candidate scores within tolerance of every scored current model and those cover "
        "enough of the segment; against: below one of them beyond tolerance; insufficient: scores missing; none: no "
        "row for the segment"
    )
    candidate_score: float | None
    current_scores: dict[str, float] = Field(default_factory=dict, description="score per current model (catalog id)")
    coverage_pct: float | None = Field(
        default=None, description="share of the segment's tokens from current models that have a score"
    )
    sources: list[str] = Field(default_factory=list, description="the rows of the quality file used (file, line)")
    message: str


class PlanSegment(_Model):
    """The plan for one segment of the scenario the plan is built on."""

    segment: str = Field(description="the project, key or catalog model; '' when the source does not say")
    recommendation: Literal["migrate", "migrate-in-phases", "stay"]
    candidate: str | None = Field(description="the segment's best candidate the data profile does not block, if any")
    candidate_name: str | None
    rating: Level | None = Field(description="the candidate's risk level on this segment's traffic")
    savings: Money = Field(description="savings the recommendation captures (0 when it is stay)")
    savings_forgone: Money = Field(
        description="the scenario's savings on the segment that a stay gives up (red rating or evaluation against)"
    )
    baseline_cost: Money = Field(description="the segment on its current models at as-of prices")
    requests: int = Field(description="requests of the segment in the audited period (0 when not counted)")
    current_models: list[str]
    reasons: list[str] = Field(description="why this recommendation: the rules that applied, with their inputs")
    quality: QualityEvidence
    evaluation_required: str | None = Field(
        description="the evaluation that must pass before the canary, when the quality evidence does not support it"
    )
    phases: list[PlanPhase] = Field(default_factory=list)


class BenchmarkSegment(_Model):
    """One segment's parallel benchmark: how many of its real requests to replay on the candidate."""

    segment: str
    candidate: str
    current_models: list[str]
    population_requests: int = Field(description="the segment's requests in the audited period (0: not counted)")
    sample_requests: int = Field(description="requests to sample by the plan's rule")
    shadow_cost: Money | None = Field(
        description="what replaying the sample on the candidate costs at as-of prices; None without request counts"
    )


class BenchmarkPlan(_Model):
    """Which segments to benchmark, how many requests, and what to compare."""

    rule: str = Field(description="the sample-size rule")
    compare: list[str]
    segments: list[BenchmarkSegment] = Field(default_factory=list)


class AlternativeRate(_Model):
    """A candidate priced on one vendor's traffic."""

    candidate: str
    candidate_name: str
    projected_cost: Money = Field(description="the vendor's priced traffic on the candidate at as-of prices")
    rate_per_mtok: Money = Field(description="projected_cost per million tokens of the vendor's current mix")
    rating: Level | None


class VendorBrief(_Model):
    """The negotiation brief for one current vendor."""

    vendor: str
    billed_cost: Money | None = Field(
        description="what the vendor billed on lines with tokens (less their stated non-token charges), the lines in "
        "left_out aside; None if not stated"
    )
    billed_tokens: int = Field(description="tokens of the lines whose billed cost is counted")
    effective_rate: Money | None = Field(description="billed_cost per million billed_tokens")
    list_cost: Money | None = Field(description="the vendor's traffic at list price when used")
    list_tokens: int
    list_rate: Money | None = Field(description="list_cost per million list_tokens")
    discount_vs_list_pct: float | None = Field(
        description="1 - billed / list of the same lines (those of billed_cost that have a list cost), percent"
    )
    left_out: list[str] = Field(
        default_factory=list,
        description="lines whose charges and tokens cover different days (the reconciliation's coverage, or a month "
        "of charges without tokens): their billed cost is not the price of their tokens, so they are left out of "
        "billed_cost and the discount",
    )
    priced_tokens: int = Field(description="tokens of the vendor's traffic the alternatives are priced on")
    alternatives: list[AlternativeRate] = Field(
        default_factory=list, description="the cheapest candidates not blocked, on the vendor's traffic"
    )
    price_cut_to_match_pct: float | None = Field(
        description="the cut of the effective rate that matches the best alternative's rate; None when none is cheaper"
    )
    message: str


class Negotiation(_Model):
    basis: str
    vendors: list[VendorBrief] = Field(default_factory=list)


class PortfolioShare(_Model):
    """One provider's or jurisdiction's share of the priced spend, before and after the plan."""

    name: str
    before_cost: Money
    before_pct: float
    after_cost: Money
    after_pct: float


class Portfolio(_Model):
    basis: str
    by_provider: list[PortfolioShare] = Field(default_factory=list)
    by_jurisdiction: list[PortfolioShare] = Field(default_factory=list)


class Plan(_Model):
    """The migration plan, built on one scenario (the route-by-segment one when there is one)."""

    scenario: str | None = Field(description="the candidate id of the scenario the plan is built on")
    segmented_by: Literal["project", "api_key", "model"] | None = Field(
        default=None, description="what the plan's segments are (the route-by-segment scenario's segmentation)"
    )
    scenario_savings: Money | None = Field(description="that scenario's savings")
    savings: Money = Field(description="the savings the plan captures: the sum of its segments' savings")
    savings_forgone: Money = Field(
        description="the sum of the segments' savings_forgone; savings + savings_forgone = scenario_savings"
    )
    quality_file: str | None = Field(default=None, description="the evaluation results file (--quality), if given")
    segments: list[PlanSegment] = Field(default_factory=list)
    benchmark_plan: BenchmarkPlan
    negotiation: Negotiation
    portfolio: Portfolio


# ---------------------------------------------------------------------------------------------------------------
# What the workbook's live formulas price: the rates used, and the priced workload per source model and rate.


class PriceRow(_Model):
    """One catalog model's list rates in one price regime (tier, time of day, request size) at as-of."""

    id: str = Field(description="stable id within the result, e.g. P001; cost lines refer to it")
    model: str = Field(description="`provider:model` catalog id")
    model_name: str
    role: str = Field(description="current, candidate, or current and candidate")
    service_tiers: list[str] = Field(description="the service tiers priced at these rates")
    time_of_day: str = Field(description="the UTC half hours priced at these rates, or 'any time'")
    request_size: str = Field(description="the request sizes (input tokens) priced at these rates, or 'any size'")
    input: Money = Field(description="USD per million plain input tokens")
    cache_read: Money = Field(description="USD per million cache-read tokens")
    cache_write: Money = Field(description="USD per million 5-minute cache-write tokens")
    cache_write_1h: Money = Field(description="USD per million 1-hour cache-write tokens")
    output: Money = Field(description="USD per million answer (non-reasoning) output tokens")
    reasoning: Money = Field(description="USD per million reasoning tokens")
    requests: Money = Field(description="USD per thousand requests")
    source: str = Field(description="the catalog and date, and any sourced correction (overlay) applied")


class CostLine(_Model):
    """Tokens of the priced workload of one source model at one price row: the baseline's (scenario 'baseline',
    the source model's own rates) or a single scenario's under the price variants it is used in."""

    scenario: str = Field(description="'baseline' or the candidate id")
    source_model: str = Field(description="`provider:model` catalog id the tokens were served on")
    price: str = Field(description="the PriceRow id")
    variants: list[Literal["as_served", "batch", "off_peak", "batch_off_peak"]] = Field(
        description="the price variants these tokens are priced at (weights from batch_share and offpeak_share)"
    )
    requests: int
    input_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cache_write_1h_tokens: int
    answer_tokens: int = Field(description="output less reasoning")
    reasoning_tokens: int


class SourceAssumptions(_Model):
    """A single scenario's per-model defaults for one source model (families, else the global default); an
    `--assume` value replaces them. Native shares: the part of answer / reasoning output not scaled by token_ratio."""

    scenario: str
    source_model: str
    token_ratio: Decimal
    output_verbosity: Decimal
    reasoning_verbosity: Decimal
    answer_native: Decimal
    reasoning_native: Decimal


class CostModel(_Model):
    """The inputs of the scenarios' cost, for recomputing them (the workbook's formulas)."""

    prices: list[PriceRow] = Field(default_factory=list)
    lines: list[CostLine] = Field(default_factory=list)
    source_assumptions: list[SourceAssumptions] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------------------------
# Usage attributed to projects and to API keys, for finance.

NO_PROJECT = "(no project)"
"""The `project` of usage whose source names no project (workspace, account, app or team)."""
NO_KEY = "(no key)"
"""The `api_key` of usage whose source names no API key."""


class _AttributedUsage(TokenCounts):
    """The figures of one model line of one vendor in one calendar month (of `timezone`), for one project or key."""

    attributed: bool = Field(description="False for the usage the source attributes to none (no project, no key)")
    month: str = Field(description="YYYY-MM")
    provider: str
    model_raw: str = Field(description="the model line, as in usage[]")
    model: str | None = Field(description="catalog id `provider:model`, or None when unpriced")
    requests: int | None = Field(description="None when the source has no request counts")
    billed_cost: Money | None = Field(description="what the sources say was charged; None if they do not say")
    list_cost: Money | None = Field(
        description="list price of the tokens when used (a cost export's own list price where the totals count it); "
        "None when unpriced or when there is nothing to price, never 0 for a missing price. Each row is its exact "
        "cost rounded to the nano-dollar, the rounding of each model line's UTC month given to its largest part, so "
        "the rows add up to totals.list_cost exactly"
    )


class _ProjectName(TokenCounts):
    project: str = Field(description="the project as the source names it, or '(no project)' when it names none")


class _KeyName(TokenCounts):
    api_key: str = Field(description="the API key as the source names it (its name or id), or '(no key)'")


# The name's class last among the bases: pydantic lists the fields of later bases first, so the name comes right
# after the token counts, before the figures, in the JSON.
class ProjectUsage(_AttributedUsage, _ProjectName):
    """Usage and cost of one model line of one vendor in one project and one calendar month (of `timezone`).

    The project is what the source calls it (an OpenAI project id, an Anthropic workspace, an AWS account, an
    OpenRouter app, a LiteLLM team, a coding agent's working directory), exactly as the ledger has it."""


class KeyUsage(_AttributedUsage, _KeyName):
    """Usage and cost of one model line of one vendor under one API key in one calendar month (of `timezone`).

    The key is what the source calls it (an OpenAI key id, an Anthropic key name, an OpenRouter key name, a
    LiteLLM key's hash), exactly as the ledger has it: a name or an id, not the secret."""
