"""AWS Cost and Usage Report 2.0 CSV (Data Exports: `identity_line_item_id,…,line_item_usage_type,…`).

Its Parquet delivery has the same names (typed: double amounts and costs, timestamps, maps), and so has
the legacy CUR's Parquet delivery (`lineItem/UsageType` written `line_item_usage_type`): both read here.

Only Amazon Bedrock lines are AI usage. The Bedrock meter grammar and the CUR mapping live here and
are shared: the legacy CUR (`aws_cur_legacy_csv`) names the same fields `lineItem/UsageType`, …, and
AWS's FOCUS export (`focus_csv`) writes the same usage types in `SkuMeter`.

How it counts: one line per usage type × account × day (or hour). A Bedrock `Usage` line's usage type
names the model and the token class (`USE1-Claude4.5Haiku-cache-read-input-token-count-cross-region-global`);
`line_item_usage_amount` is in `pricing_unit` (`1K tokens` for Bedrock meters, `Units` = million tokens
for marketplace `MP:` meters) and becomes whole tokens. Cache reads and writes have their own meters, so
input excludes them. `line_item_unblended_cost` is what was billed, in `line_item_currency_code`; credits,
refunds and discounts are separate lines with negative cost and no tokens, kept as money, and their line
type says which they are (`CREDIT_LINE_TYPES`, `DISCOUNT_LINE_TYPES`). Tax is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.importers.base import Importer
from auditor.importers.engine import ident, literal, utc_day, utc_slot

BEDROCK_PRODUCT_CODES = ("AmazonBedrock", "AmazonBedrockService", "AmazonBedrockFoundationModels")
# Line types whose usage amount is tokens consumed; every other type (Credit, Refund, EdpDiscount,
# BundledDiscount, Fee, SavingsPlanNegation, …) is money only.
USAGE_LINE_TYPES = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage")
# Line types that give money back: credits and refunds, and discounts billed on lines of their own (the
# reconciliation explains them as such, whatever else the day's segment holds). Fees and the like are charges.
CREDIT_LINE_TYPES = ("Credit", "Refund")
DISCOUNT_LINE_TYPES = (
    "EdpDiscount", "PrivateRateDiscount", "BundledDiscount", "SppDiscount", "DistributorDiscount",
    "RiVolumeDiscount", "SavingsPlanNegation",
)  # fmt: skip
# `<billing region>-` (USE1-, EUC1-, EU-); a usage type of us-east-1 may lack it.
_REGION = "^[A-Z]{2,4}[0-9]*-"
# `<model>[-mantle]-<class>-token(s|-count)[-<qualifiers>]`: model, class and qualifiers.
_DASH = "^(.+?)(?:-mantle)?-((?:cache-read|cache-write|input|output)(?:-input)?-token(?:s|-count))(-.*)?$"
# One pass over the lowercased meter gives `<class>:<cache duration>`: marketplace camel case
# (`mp:use1_cachewrite1hinputtokencount_global-units`), marketplace snake case (`input_tokens_global_standard`)
# or dash meters (`claude4.5haiku-cache-read-input-token-count-cross-region-global`, mantle `…-tokens-1h-…`).
_CLASS = (
    "^(?:mp:[a-z0-9]+_(?:(?:million)?(?:batch)?(cacheread|cachewrite|input|output)(1h|5m)?(?:input|output)?"
    "token(?:count|s)|(cache_read|cache_write|input|output)_tokens(?:_(1h|5m))?)(?:[_-].*)?"
    "|.+?(?:-mantle)?-(cache-read|cache-write|input|output)(?:-input)?-token(?:s|-count)(?:-(1h|5m))?(?:-.*)?)$"
)
_CLASS_OF_CODE = {
    "input:": "input",
    "output:": "output",
    **{f"cacheread:{d}": "cache_read" for d in ("", "5m", "1h")},
    **{f"cachewrite:{d}": "cache_write" for d in ("", "5m")},
    "cachewrite:1h": "cache_write_1h",
}
_TIER = "(?:^|[-_]|million)(batch|flex|priority)(?:[-_]|input|output|cache|$)"
_GLOBAL = "[-_]global(?:[-_]|$)"
# Words of a token meter that say its class, routing or tier. Geo cross-region routing is priced as
# in-region. Any other word (long-context, latency-optimized, custom-model, …) is a qualifier the
# catalog has no price for: it stays in the model name, which then has no alias and is unpriced.
_KNOWN_WORDS = (
    "cache", "read", "write", "input", "output", "token", "tokens", "count", "million", "units",
    "cross", "region", "global", "geo", "standard", "batch", "flex", "priority", "1h", "5m",
)  # fmt: skip
_MARKETPLACE_SUFFIX = " (Amazon Bedrock Edition)"


@dataclass(frozen=True)
class BedrockMeter:
    """SQL reading a Bedrock usage type: model name, token class, tier (`product_name`: marketplace lines).

    The class, tier and routing are each one regular expression over the meter. An importer computes the meter
    and the class once a line (`over`): the other expressions read them in several ledger columns and rules.
    """

    usage_type: str
    product_name: str = "''"
    meter_column: str = ""
    class_column: str = ""
    """Columns that hold `meter` and `token_class` (an importer's `derived` columns), read instead of computing
    them again: each is in most of the other expressions."""

    def over(self, meter_column: str, class_column: str) -> BedrockMeter:
        """The same reading, of `meter` and `token_class` computed already, in those columns."""
        return BedrockMeter(self.usage_type, self.product_name, meter_column, class_column)

    @property
    def meter(self) -> str:
        """The usage type without its billing-region prefix."""
        if self.meter_column:
            return self.meter_column
        return f"regexp_replace(trim({self.usage_type}), {literal(_REGION)}, '')"

    @property
    def is_marketplace(self) -> str:
        return f"starts_with({self.meter}, 'MP:')"

    def _dash(self, group: int) -> str:
        return f"regexp_extract({self.meter}, {literal(_DASH)}, {group})"

    @property
    def words(self) -> str:
        """The class and qualifier words, lowercased (marketplace camel case split: CacheWrite1h → cache write 1h)."""
        body = f"regexp_replace(regexp_replace({self.meter}, '^MP:[A-Za-z0-9]+_', ''), '-Units$', '')"
        glued = f"regexp_replace({body}, '(Read|Write)([0-9]+[mh])', '\\1_\\2', 'g')"
        split = f"regexp_replace({glued}, '([a-z0-9])([A-Z])', '\\1_\\2', 'g')"
        return (
            f"(CASE WHEN {self.is_marketplace} THEN string_split(lower({split}), '_') "
            f"ELSE string_split(lower({self._dash(2)} || {self._dash(3)}), '-') END)"
        )

    @property
    def token_class(self) -> str:
        """`input`, `cache_read`, `cache_write`, `cache_write_1h`, `output`, or '' (not a token meter)."""
        if self.class_column:
            return self.class_column
        code = f"regexp_replace(lower({self.meter}), {literal(_CLASS)}, '\\1\\3\\5:\\2\\4\\6')"
        code = f"replace(replace({code}, '_', ''), '-', '')"
        classes = ", ".join(f"{literal(k)}: {literal(v)}" for k, v in _CLASS_OF_CODE.items())
        return f"coalesce(MAP {{{classes}}}[{code}], '')"

    @property
    def is_token_meter(self) -> str:
        return f"({self.token_class} <> '')"

    @property
    def service_tier(self) -> str:
        tier = f"regexp_extract(lower({self.meter}), {literal(_TIER)}, 1)"
        return f"coalesce(nullif({tier}, ''), 'standard')"

    @property
    def model_raw(self) -> str:
        """The meter's model as written, `global.` first for global routing, unpriced qualifiers after.

        Non-token meters (web search, knowledge bases, provisioned throughput) keep the whole meter.
        """
        product = f"trim({self.product_name})"
        model = (
            f"(CASE WHEN NOT {self.is_marketplace} THEN {self._dash(1)} WHEN {product} = '' THEN {self.meter} "
            f"ELSE regexp_replace({product}, {literal(_regex_escape(_MARKETPLACE_SUFFIX) + '$')}, '') END)"
        )
        unknown = f"list_filter({self.words}, lambda w: w NOT IN ({', '.join(literal(w) for w in _KNOWN_WORDS)}))"
        is_global = f"regexp_matches(lower({self.meter}), {literal(_GLOBAL)})"
        return (
            f"(CASE WHEN NOT {self.is_token_meter} THEN {self.meter} "
            f"ELSE (CASE WHEN {is_global} THEN 'global.' ELSE '' END) || {model} || "
            f"(CASE WHEN len({unknown}) > 0 THEN ' (' || array_to_string({unknown}, '-') || ')' ELSE '' END) END)"
        )


def _regex_escape(text: str) -> str:
    return "".join("\\" + c if c in r"\.^$|?*+()[]{}" else c for c in text)


def currency_code(column: str) -> tuple[str, tuple[str, str, str]]:
    """SQL of a row's currency code, and the rule rejecting a row that names none (amounts are kept in it)."""
    code = f"upper(trim({ident(column)}))"
    return code, (f"NOT regexp_matches({code}, '^[A-Z]{{3}}$')", "no ISO currency code", column)


def token_multiplier(unit: str, fallback_text: str = "''", marketplace: str = "false") -> str:
    """SQL: tokens per unit of a quantity (0 when the unit is not tokens).

    `fallback_text` (a line description such as `$0.001 per 1K input tokens`) tells the unit when it is empty.
    """
    u = f"lower(trim({unit}))"
    d = f"lower({fallback_text})"
    return (
        f"(CASE WHEN {u} IN ('tokens', 'token') THEN 1 "
        f"WHEN {u} IN ('1k tokens', '1k token', 'k tokens', 'thousand tokens') THEN 1000 "
        f"WHEN {u} IN ('1m tokens', '1m token', 'million tokens') THEN 1000000 "
        # Marketplace meters count in `Units` of a million tokens ("Tokens: 46 (in millions)").
        f"WHEN {u} = 'units' AND {marketplace} THEN 1000000 "
        f"WHEN {u} = '' AND regexp_matches({d}, 'per 1k ') THEN 1000 "
        f"WHEN {u} = '' AND regexp_matches({d}, 'per (1m|million) ') THEN 1000000 ELSE 0 END)"
    )


def decimal_of(column: str) -> str:
    """SQL: a quantity column (read as text) as an exact decimal; NULL when empty or not a number."""
    return f"TRY_CAST(NULLIF(trim({ident(column)}), '') AS DECIMAL(38, 9))"


def hourly_slot(start: str, end: str) -> str:
    """SQL: the half hour of a line that spans at most an hour (hourly exports), else -1."""
    return (
        f"CASE WHEN {end} IS NOT NULL AND epoch_us({end}) - epoch_us({start}) <= 3600000000 "
        f"THEN {utc_slot(start)} ELSE -1 END"
    )


@dataclass(frozen=True)
class CurColumns:
    """Where a CUR header variant puts the fields Bedrock lines need."""

    line_item_type: str
    product_code: str
    usage_type: str
    usage_start: str
    usage_amount: str
    currency: str
    unblended_cost: str
    usage_end: str
    service_code: str
    pricing_unit: str
    description: str
    product_name: str
    account_id: str
    principal: str | None = None

    @property
    def required(self) -> tuple[str, ...]:
        return (
            self.line_item_type,
            self.product_code,
            self.usage_type,
            self.usage_start,
            self.usage_amount,
            self.currency,
            self.unblended_cost,
        )

    @property
    def optional(self) -> tuple[str, ...]:
        found = (self.usage_end, self.service_code, self.pricing_unit, self.description, self.product_name)
        return (*found, self.account_id, *((self.principal,) if self.principal else ()))


def cur_importer(name: str, title: str, cols: CurColumns, unused: tuple[str, ...], example_header: str) -> Importer:
    """The importer of one CUR header variant: Bedrock lines to the ledger, the rest skipped."""
    q = ident
    codes = ", ".join(literal(c) for c in BEDROCK_PRODUCT_CODES)
    bedrock = f"(trim({q(cols.product_code)}) IN ({codes}) OR trim({q(cols.service_code)}) IN ({codes}))"
    line_type = f"trim({q(cols.line_item_type)})"
    read_meter = BedrockMeter(q(cols.usage_type), q(cols.product_name))
    # The shared expressions, computed once a line (`Importer.derived`) and read by name. The meter is read on the
    # lines that use it only: Bedrock lines, and discount lines (whose meter says whether they lower token prices).
    meter = read_meter.over(q("__meter"), q("__meter_class"))
    amount, per_unit, token_class, tokens = q("__amount"), q("__per_unit"), q("__token_class"), q("__tokens")

    def of_types(types: tuple[str, ...]) -> str:
        return f"{line_type} IN ({', '.join(literal(t) for t in types)})"

    is_usage, is_credit, is_discount = (
        of_types(USAGE_LINE_TYPES),
        of_types(CREDIT_LINE_TYPES),
        of_types(DISCOUNT_LINE_TYPES),
    )
    token_usage = f"({bedrock} AND {is_usage} AND {meter.is_token_meter})"
    # A token line: a usage line of a token meter whose unit is tokens (else it is money only, e.g.
    # reserved throughput metered in `1K TPM Hour`).
    token_line = f"({token_usage} AND {per_unit} > 0 AND {amount} >= 0)"
    derived = {
        "__meter": f"CASE WHEN {bedrock} OR {is_discount} THEN {read_meter.meter} ELSE '' END",
        "__meter_class": read_meter.over(q("__meter"), "").token_class,
        "__amount": decimal_of(cols.usage_amount),
        "__per_unit": token_multiplier(q(cols.pricing_unit), q(cols.description), meter.is_marketplace),
        "__token_class": f"(CASE WHEN {token_line} THEN {meter.token_class} ELSE '' END)",
        # Cast where a line has tokens only: an amount too large for them rejects no other line.
        "__tokens": f"CASE WHEN {token_class} <> '' THEN CAST(round({amount} * {per_unit}) AS BIGINT) ELSE 0 END",
    }

    def tokens_of(cls: str) -> str:
        return f"(CASE WHEN {token_class} = {literal(cls)} THEN {tokens} ELSE 0 END)"

    start, end, cost = q(cols.usage_start), q(cols.usage_end), q(cols.unblended_cost)
    currency, no_currency = currency_code(cols.currency)
    return Importer(
        name=name,
        title=title,
        kind="cost",
        required_columns=cols.required,
        optional_columns=(*cols.optional, *unused),
        unused_columns=unused,
        count_columns=(),
        money_columns=(cols.unblended_cost,),
        time_columns=(cols.usage_start, cols.usage_end),
        derived=derived,
        ledger={
            "provider": "'aws'",
            # Computed for Bedrock lines only: the other lines of a CUR are most of it, and skipped.
            "model_raw": f"CASE WHEN {bedrock} THEN {meter.model_raw} ELSE '' END",
            "project": f"trim({q(cols.account_id)})",
            "api_key": f"trim({q(cols.principal)})" if cols.principal else "''",
            "service_tier": f"CASE WHEN {bedrock} THEN {meter.service_tier} ELSE 'standard' END",
            "day": utc_day(start),
            "time_slot": hourly_slot(start, end),
            # Bedrock bills long-context requests on their own meters (kept unpriced), so every other
            # token meter is below any long-context tier: its label is the base tier.
            "size_basis": "'context_label'",
            "request_size_floor_tokens": "0",
            "input_tokens": tokens_of("input"),
            "cache_read_tokens": tokens_of("cache_read"),
            "cache_write_tokens": tokens_of("cache_write"),
            "cache_write_1h_tokens": tokens_of("cache_write_1h"),
            "output_tokens": tokens_of("output"),
            "billed": cost,
            "billed_present": "true",
            # A discount line of a token meter (an EDP discount of the Haiku input tokens) is part of the tokens'
            # charges, as the price it lowers is; a credit or refund is not.
            "billed_non_token": (
                f"CASE WHEN {token_class} = '' AND NOT ({is_discount} AND {meter.is_token_meter}) "
                f"THEN {cost} ELSE 0 END"
            ),
            "billed_credit": f"CASE WHEN {is_credit} THEN {cost} ELSE 0 END",
            "billed_discount": f"CASE WHEN {is_discount} THEN {cost} ELSE 0 END",
            "adjustment": f"({is_credit} OR {is_discount})",
            # Amounts stay in the billing currency (usually USD); reports convert them with the user's rates.
            "currency": currency,
        },
        skip_when=(
            (f"NOT {bedrock}", "not AI usage"),
            (f"{line_type} = 'Tax'", "tax"),
        ),
        reject_when=(
            (f"{start} IS NULL", "line without a usage start date", cols.usage_start),
            (f"NOT {q(cols.unblended_cost + '__present')}", "line without a cost", cols.unblended_cost),
            no_currency,
            (f"{token_usage} AND {amount} IS NULL", "usage amount is not a number", cols.usage_amount),
            (f"{token_usage} AND {amount} < 0", "negative token usage", cols.usage_amount),
            (
                f"{token_usage} AND {per_unit} = 0 AND trim({q(cols.pricing_unit)}) = ''",
                "token meter without a pricing unit: the amount cannot be read as tokens",
                cols.pricing_unit,
            ),
        ),
        example_header=example_header,
    )


_UNUSED = (
    "identity_line_item_id", "identity_time_interval", "bill_bill_type", "bill_payer_account_id",
    "bill_billing_period_start_date", "bill_billing_period_end_date", "line_item_operation",
    "line_item_availability_zone", "line_item_resource_id", "line_item_unblended_rate", "line_item_blended_rate",
    "line_item_blended_cost", "product_product_family", "product_region_code", "product_instance_type",
    "pricing_public_on_demand_cost", "pricing_public_on_demand_rate", "pricing_term", "resource_tags",
    "bill_payer_account_name", "line_item_usage_account_name", "line_item_user_identifier",
    "line_item_net_unblended_cost", "product",
)  # fmt: skip

IMPORTER = cur_importer(
    name="aws_cur2_csv",
    title="AWS Cost and Usage Report 2.0 CSV or Parquet, or legacy CUR Parquet (…,line_item_usage_type,…)",
    cols=CurColumns(
        line_item_type="line_item_line_item_type",
        product_code="line_item_product_code",
        usage_type="line_item_usage_type",
        usage_start="line_item_usage_start_date",
        usage_amount="line_item_usage_amount",
        currency="line_item_currency_code",
        unblended_cost="line_item_unblended_cost",
        usage_end="line_item_usage_end_date",
        service_code="product_servicecode",
        pricing_unit="pricing_unit",
        description="line_item_line_item_description",
        product_name="product_product_name",
        account_id="line_item_usage_account_id",
        principal="line_item_iam_principal",
    ),
    unused=_UNUSED,
    example_header=(
        "identity_line_item_id,identity_time_interval,bill_bill_type,bill_payer_account_id,"
        "bill_billing_period_start_date,bill_billing_period_end_date,line_item_usage_account_id,"
        "line_item_line_item_type,line_item_usage_start_date,line_item_usage_end_date,line_item_product_code,"
        "line_item_usage_type,line_item_operation,line_item_availability_zone,line_item_resource_id,"
        "line_item_usage_amount,line_item_currency_code,line_item_unblended_rate,line_item_unblended_cost,"
        "line_item_blended_rate,line_item_blended_cost,line_item_line_item_description,product_product_family,"
        "product_region_code,product_instance_type,product_servicecode,pricing_unit,"
        "pricing_public_on_demand_cost,pricing_public_on_demand_rate,pricing_term,resource_tags"
    ),
)
