"""The AuditResult: the one document every renderer reads (JSON root, schema_version "1").

Money is `Decimal` in `currency`, serialised as a decimal string, or None when unknown; tokens are ints.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

SCHEMA_VERSION = "1"
NANO = Decimal("0.000000001")

# Money: exact Decimal, written in JSON as a plain decimal string (never exponent notation).
Money = Annotated[Decimal, PlainSerializer(lambda d: format(d, "f"), return_type=str, when_used="json")]


def money(value: Decimal) -> Decimal:
    """A computed amount as the result carries it: rounded half-even to a nano-unit of the currency."""
    return value.quantize(NANO)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    billed_non_token_cost: Money | None = Field(default=None, description="part of billed_cost that is not tokens")
    byok_upstream_cost: Money | None = Field(default=None, description="bring-your-own-key spend billed upstream")
    list_cost: Money | None = Field(description="list price of the tokens when used; None when unpriced")
    list_cost_basis: Literal["catalog", "source"] | None = Field(
        default=None, description="catalog: genai-prices rates; source: the export's own list price column"
    )
    size_basis: str = Field(description="request sizes known per request, as an average, or from a label")
    unpriced_reason: str | None = None
    suggestions: list[str] = Field(default_factory=list, description="close catalog models, for unpriced names")
    token_files: list[str] = Field(
        default_factory=list, description="the input files its tokens and requests come from"
    )
    billed_files: list[str] = Field(default_factory=list, description="the input files its billed cost comes from")


def is_unpriced(row: UsageEntry | MonthlyUsage) -> bool:
    """Usage (tokens or requests) the catalog has no price for; money-only lines (tax, storage) are not."""
    has_usage = bool(row.requests) or any(
        getattr(row, c) for c in ("input_tokens", "cache_read_tokens", "cache_write_tokens",
                                  "cache_write_1h_tokens", "output_tokens")
    )  # fmt: skip
    return row.list_cost is None and row.model is None and has_usage


class MonthlyUsage(TokenCounts):
    """Usage and cost of one model in one calendar month (of the result's `timezone`)."""

    month: str = Field(description="YYYY-MM")
    provider: str
    model_raw: str
    model: str | None
    requests: int | None
    billed_cost: Money | None
    list_cost: Money | None


class Totals(TokenCounts):
    requests: int = Field(description="requests of the sources that count them")
    billed_cost: Money | None
    list_cost: Money | None = Field(description="list cost of the priced usage")
    unpriced_requests: int
    unpriced_models: int
    unpriced_tokens: int


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
    passing_candidates: int = Field(description="candidates whose context window fits the segment's requests")


class Scenario(_Model):
    """The priced workload re-priced on one candidate at the as-of date."""

    candidate: str = Field(description="`provider:model` catalog id")
    candidate_name: str
    baseline_cost: Money = Field(description="the same workload on its current models at as-of prices")
    projected_cost: Money
    savings: Money
    savings_pct: float | None = Field(description="savings as a percentage of baseline_cost")
    context_window: int | None = Field(default=None, description="the candidate's context window, tokens")
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


class FxRateOut(_Model):
    """An exchange rate the audit used to convert amounts billed in another currency."""

    currency: str
    month: str | None = Field(description="YYYY-MM the rate applies to; None for every month")
    usd_per_unit: Decimal = Field(description="USD per one unit of the currency")
    source: str = Field(description="where the rate came from: --fx or the rates file")


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
    assumptions: list[AssumptionOut] = Field(
        default_factory=list, description="migration assumptions of the scenarios: value, range and source"
    )
