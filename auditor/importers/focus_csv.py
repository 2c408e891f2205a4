"""FinOps FOCUS 1.0–1.3 cost and usage export CSV (`BilledCost,…,ServiceCategory,…`), AI and ML rows.

How it counts: one row per charge. Only `ServiceCategory` "AI and Machine Learning" is AI usage; tax
is skipped. `BilledCost` (in `BillingCurrency`) is billed, `ListCost` the source's list price;
`EffectiveCost` (amortised) is not read. A `Credit` row, or an `Adjustment` or `Correction` row below
zero (a refund), is a credit whatever the usage beside it, and its ListCost no list price of usage.
FOCUS has no model or token-class column, so tokens are counted only when `ConsumedUnit` is tokens and
the meter tells the class:
- AWS rows with a `SkuMeter` (1.1+; AWS writes the CUR usage type there) read exactly as in the CUR
  (`aws_cur2_csv`): a Bedrock meter gives model, class, routing and tier, priced through the Bedrock aliases;
- other rows are classified by the words of `SkuMeter` (else `x_SkuMeterName`, else `ChargeDescription`):
  cache read (`cache read`, `cached`, `cchd`, `cd`), cache write, input (`input`, `inp`, `inpt`, `prompt`)
  or output (`output`, `outp`, `outpt`, `opt`, `out`, `completion`). An Azure meter with such a word names
  its model as in the cost details (`azure_cost_csv`: `GPT 5 Mini cchd Inpt Glbl 1M Tokens` → `gpt-5-mini`),
  so a credit on that meter sits with the model's usage; any other meter's `model_raw` is that meter text,
  which the catalog does not know (unpriced, never $0).
A row whose class is unknown (no such word, both directions, audio/image/speech/video, provisioned
units) or whose unit is not tokens keeps its money as non-token billed and puts tokens nowhere.
"""

from __future__ import annotations

from auditor.importers.aws_cur2_csv import BedrockMeter, currency_code, decimal_of, hourly_slot, token_multiplier
from auditor.importers.azure_cost_csv import meter_model as azure_meter_model
from auditor.importers.base import Importer
from auditor.importers.engine import ident, literal, utc_day

q = ident

# The mapping's shared expressions are computed once a line (`Importer.derived`, in this order); the ledger's
# columns and the rules read them by name. Those only AI lines need are computed on AI lines only.
_AI_SQL = f"lower(trim({q('ServiceCategory')})) = 'ai and machine learning'"
_AI = q("__ai")
_CHARGE = f"trim({q('ChargeCategory')})"
_CORRECTION = f"lower(trim({q('ChargeClass')})) = 'correction'"
# 1.3 renames ProviderName to ServiceProviderName (both may be present while the old one is deprecated).
_PROVIDER_NAME = f"lower(trim(coalesce(nullif(trim({q('ServiceProviderName')}), ''), {q('ProviderName')})))"
PROVIDER_SQL = f"""(CASE WHEN {_PROVIDER_NAME} IN ('aws', 'amazon web services', 'amazon') THEN 'aws'
                WHEN {_PROVIDER_NAME} IN ('microsoft', 'microsoft azure', 'azure') THEN 'azure'
                WHEN {_PROVIDER_NAME} IN ('google cloud', 'google', 'google cloud platform', 'gcp') THEN 'google'
                ELSE {_PROVIDER_NAME} END)"""
PROVIDER = q("__provider")

# AWS's FOCUS export writes the CUR usage type in SkuMeter; marketplace rows name the model in ServiceName.
_BEDROCK_SQL = BedrockMeter(q("SkuMeter"), q("ServiceName"))
_BEDROCK = _BEDROCK_SQL.over(q("__bedrock_meter"), q("__bedrock_class"))
_IS_AWS_METER = f"({PROVIDER} = 'aws' AND trim({q('SkuMeter')}) <> '')"

_METER_TEXT_SQL = (
    f"coalesce(nullif(trim({q('SkuMeter')}), ''), nullif(trim({q('x_SkuMeterName')}), ''), "
    f"trim({q('ChargeDescription')}))"
)
_METER_TEXT = q("__meter_text")
_WORDS = q("__meter_words")


def _any(*words: str) -> str:
    return f"list_has_any({_WORDS}, [{', '.join(literal(w) for w in words)}])"


_INPUT = _any("input", "inp", "inpt", "prompt")
_OUTPUT = _any("output", "outp", "outpt", "opt", "out", "completion")
_CACHE_WRITE = f"({_any('cache')} AND {_any('write')})"
# Words whose tokens are not text tokens, or whose unit is capacity: their class cannot be priced.
_UNTOLD = _any("aud", "audio", "image", "images", "img", "speech", "video", "ptu")
_WORDS_CLASS_SQL = f"""(CASE WHEN {_UNTOLD} THEN ''
    WHEN ({_any("cache")} AND {_any("read")}) OR {_any("cached", "cchd", "cd")} THEN 'cache_read'
    WHEN {_CACHE_WRITE} AND {_any("1h")} THEN 'cache_write_1h'
    WHEN {_CACHE_WRITE} THEN 'cache_write'
    WHEN {_INPUT} AND NOT {_OUTPUT} THEN 'input'
    WHEN {_OUTPUT} AND NOT {_INPUT} THEN 'output' ELSE '' END)"""
_WORDS_CLASS = q("__words_class")

_QUANTITY = q("__quantity")
_PER_UNIT = q("__per_unit")
_USAGE = f"({_CHARGE} = 'Usage' AND NOT {_CORRECTION})"
_TOKEN_ROW = f"({_AI} AND {_USAGE} AND {_PER_UNIT} > 0 AND {_QUANTITY} >= 0)"
TOKEN_CLASS_SQL = (
    f"(CASE WHEN NOT {_TOKEN_ROW} THEN '' WHEN {_IS_AWS_METER} THEN {_BEDROCK.token_class} ELSE {_WORDS_CLASS} END)"
)
TOKEN_CLASS = q("__token_class")
# Cast where a line has tokens only: a quantity too large for them rejects nothing else.
_TOKENS = q("__tokens")
_TOKENS_SQL = f"CASE WHEN {TOKEN_CLASS} <> '' THEN CAST(round({_QUANTITY} * {_PER_UNIT}) AS BIGINT) ELSE 0 END"


def _tokens_of(cls: str) -> str:
    return f"(CASE WHEN {TOKEN_CLASS} = {literal(cls)} THEN {_TOKENS} ELSE 0 END)"


_START, _END, _BILLED = q("ChargePeriodStart"), q("ChargePeriodEnd"), q("BilledCost")
# A credit, or an adjustment or correction that gives money back (a refund): not a charge. Discounts are in a
# usage row's BilledCost against its ListCost.
_CREDIT = q("__credit")
_CREDIT_SQL = f"({_CHARGE} = 'Credit' OR (({_CHARGE} = 'Adjustment' OR {_CORRECTION}) AND {_BILLED} < 0))"
_CURRENCY, _NO_CURRENCY = currency_code("BillingCurrency")

_DERIVED = {
    "__ai": _AI_SQL,
    "__provider": PROVIDER_SQL,
    "__meter_text": _METER_TEXT_SQL,
    "__meter_words": (
        f"CASE WHEN {_AI} THEN regexp_split_to_array(lower({_METER_TEXT}), '[^a-z0-9]+') ELSE []::VARCHAR[] END"
    ),
    "__words_class": f"CASE WHEN {_AI} THEN {_WORDS_CLASS_SQL} ELSE '' END",
    "__bedrock_meter": f"CASE WHEN {_AI} THEN {_BEDROCK_SQL.meter} ELSE '' END",
    "__bedrock_class": f"CASE WHEN {_AI} THEN {_BEDROCK_SQL.over(q('__bedrock_meter'), '').token_class} ELSE '' END",
    "__quantity": decimal_of("ConsumedQuantity"),
    "__per_unit": token_multiplier(q("ConsumedUnit")),
    "__token_class": TOKEN_CLASS_SQL,
    "__tokens": _TOKENS_SQL,
    "__credit": _CREDIT_SQL,
}

_READ = (
    "ChargePeriodEnd", "ChargeClass", "ChargeDescription", "ConsumedQuantity", "ConsumedUnit", "ListCost",
    "SkuMeter", "x_SkuMeterName", "ProviderName", "ServiceProviderName", "SubAccountId", "SubAccountName",
    "ResourceId", "ResourceName",
)  # fmt: skip
# The other FOCUS 1.0–1.3 columns: they count for detection, they are not read.
_NOT_READ = (
    "AvailabilityZone", "BillingAccountId", "BillingAccountName", "BillingAccountType", "BillingPeriodEnd",
    "BillingPeriodStart", "CapacityReservationId", "CapacityReservationStatus", "ChargeFrequency",
    "CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName", "CommitmentDiscountQuantity",
    "CommitmentDiscountStatus", "CommitmentDiscountType", "CommitmentDiscountUnit", "ContractedCost",
    "ContractedUnitPrice", "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListUnitPrice", "PricingCategory",
    "PricingCurrency", "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice", "PricingQuantity", "PricingUnit", "PublisherName", "RegionId", "RegionName",
    "ResourceType", "ServiceSubcategory", "SkuId", "SkuPriceDetails", "SkuPriceId", "SubAccountType", "Tags",
    "AllocatedMethodId", "AllocatedMethodDetails", "AllocatedResourceId", "AllocatedResourceName", "AllocatedTags",
    "ContractApplied", "HostProviderName",
)  # fmt: skip

IMPORTER = Importer(
    name="focus_csv",
    title="FinOps FOCUS 1.0–1.3 cost and usage export, CSV or Parquet (BilledCost,…,ServiceCategory,…)",
    kind="cost",
    required_columns=(
        "BilledCost",
        "BillingCurrency",
        "ChargeCategory",
        "ChargePeriodStart",
        "ServiceCategory",
        "ServiceName",
    ),
    optional_columns=(*_READ, *_NOT_READ),
    unused_columns=_NOT_READ,
    count_columns=(),
    money_columns=("BilledCost", "ListCost"),
    time_columns=("ChargePeriodStart", "ChargePeriodEnd"),
    derived=_DERIVED,
    ledger={
        "provider": f"CASE WHEN {_AI} THEN {PROVIDER} ELSE '' END",
        "model_raw": f"""CASE WHEN NOT {_AI} THEN '' WHEN {_IS_AWS_METER} THEN {_BEDROCK.model_raw}
                         WHEN {PROVIDER} = 'azure' AND {_WORDS_CLASS} <> '' THEN {azure_meter_model(_METER_TEXT)}
                         ELSE coalesce(nullif({_METER_TEXT}, ''), trim({q("ServiceName")})) END""",
        "project": f"coalesce(nullif(trim({q('SubAccountName')}), ''), trim({q('SubAccountId')}))",
        "api_key": f"coalesce(nullif(trim({q('ResourceName')}), ''), trim({q('ResourceId')}))",
        "service_tier": f"CASE WHEN {_AI} AND {_IS_AWS_METER} THEN {_BEDROCK.service_tier} ELSE 'standard' END",
        "day": utc_day(_START),
        "time_slot": hourly_slot(_START, _END),
        # As in the CUR: a Bedrock token meter is below any long-context tier (those meters stay unpriced).
        "size_basis": "'context_label'",
        "request_size_floor_tokens": "0",
        "input_tokens": _tokens_of("input"),
        "cache_read_tokens": _tokens_of("cache_read"),
        "cache_write_tokens": _tokens_of("cache_write"),
        "cache_write_1h_tokens": _tokens_of("cache_write_1h"),
        "output_tokens": _tokens_of("output"),
        "billed": _BILLED,
        "billed_present": "true",
        "billed_non_token": f"CASE WHEN {TOKEN_CLASS} = '' THEN {_BILLED} ELSE 0 END",
        "billed_credit": f"CASE WHEN {_CREDIT} THEN {_BILLED} ELSE 0 END",
        "adjustment": _CREDIT,
        # A credit's ListCost (0, or what a correction takes back) is no list price of usage.
        "source_list": f"CASE WHEN {_CREDIT} THEN 0 ELSE {q('ListCost')} END",
        "source_list_present": q("ListCost__present"),
        "currency": _CURRENCY,
    },
    skip_when=(
        (f"NOT {_AI}", "not AI usage"),
        (f"{_CHARGE} = 'Tax'", "tax"),
    ),
    reject_when=(
        (f"{_START} IS NULL", "charge without a ChargePeriodStart", "ChargePeriodStart"),
        ('NOT "BilledCost__present"', "row has no BilledCost", "BilledCost"),
        _NO_CURRENCY,
        (
            f"{_USAGE} AND {_PER_UNIT} > 0 AND {_QUANTITY} IS NULL AND trim({q('ConsumedQuantity')}) <> ''",
            "ConsumedQuantity is not a number",
            "ConsumedQuantity",
        ),
        (f"{_USAGE} AND {_PER_UNIT} > 0 AND {_QUANTITY} < 0", "negative token quantity", "ConsumedQuantity"),
    ),
    example_header=(
        "BilledCost,BillingAccountId,BillingCurrency,BillingPeriodEnd,BillingPeriodStart,ChargeCategory,ChargeClass,"
        "ChargeDescription,ChargeFrequency,ChargePeriodEnd,ChargePeriodStart,ConsumedQuantity,ConsumedUnit,"
        "ContractedCost,EffectiveCost,ListCost,ListUnitPrice,PricingCategory,PricingQuantity,PricingUnit,ProviderName,"
        "PublisherName,RegionId,ResourceId,ServiceCategory,ServiceName,ServiceSubcategory,SkuId,SkuMeter,SubAccountId,"
        "Tags"
    ),
)
