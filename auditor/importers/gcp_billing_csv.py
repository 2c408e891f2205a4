"""Google Cloud billing export, flattened to CSV (BigQuery `gcp_billing_export_v1_<id>`).

How it counts: one row per SKU × project × hour, `cost` in `currency`, with `credits` (a JSON list of
negative amounts: free tier, promotions, discounts) netted in: billed = cost + Σ credits. A credit's `type`
says whether it is a discount (committed or sustained use, contractual, …: `DISCOUNT_CREDIT_TYPES`) or a
credit. `cost_at_list`, where the export has it, is the line at list prices: the bill's own list price.
Vertex AI and Gemini API rows are AI usage; every other service is skipped as not AI usage. A Gemini token
SKU's `usage.amount` is tokens (when `usage.unit` is a count); the SKU description names the model, the class
(`Input`, `Output`, `Thinking` output, `Input … Caching` reads), `(Long)` (the > 200k long-context tier,
which reprices the whole request) and `Batch`. Audio, image and video input, cache storage (per hour),
grounding and tool SKUs are money only. `cost_type` tax and adjustments are money only too.
"""

from __future__ import annotations

from auditor.importers.base import Importer
from auditor.importers.engine import utc_day, utc_slot

# The shared expressions are computed once a line (`Importer.derived`, in this order) and read by name.
_SKU_SQL = """lower(regexp_replace(trim("sku.description"), '\\s+', ' ', 'g'))"""
_SKU = '"__sku"'
_AI = """trim("service.description") IN ('Vertex AI', 'Gemini API')"""
_COUNT = """lower(trim("usage.unit")) IN ('count', 'requests', 'tokens', '')"""
_TEXT = f"""(regexp_matches({_SKU}, '^gemini ')
            AND NOT regexp_matches({_SKU}, '(audio|image|video|storage|grounding|tool)'))"""
_CLASS_SQL = f"""CASE WHEN NOT {_TEXT} THEN ''
              WHEN regexp_matches({_SKU}, 'caching') THEN 'cache_read'
              WHEN regexp_matches({_SKU}, 'thinking') THEN 'reasoning'
              WHEN regexp_matches({_SKU}, '\\boutput\\b') THEN 'output'
              WHEN regexp_matches({_SKU}, '\\binput\\b') THEN 'input' ELSE '' END"""
_REGULAR = """coalesce(nullif(lower(trim("cost_type")), ''), 'regular') = 'regular'"""
_AMOUNT = """CAST(round(coalesce(TRY_CAST("usage.amount" AS DOUBLE), 0)) AS BIGINT)"""
_CREDITS_SQL = """coalesce(list_sum(TRY_CAST(json_extract_string(CASE WHEN json_valid("credits") THEN "credits" END,
                                                             '$[*].amount') AS DECIMAL(18, 9)[])), 0)"""
# Credit types that are discounts on the usage (Google's Cost table reference, "Credit type": committed use,
# sustained use, contractual spending thresholds, reseller margin, subscriptions, the spend-based CUD fee offset).
# The others (FREE_TIER, PROMOTION: "a form of payment") and a credit without a type are credits.
DISCOUNT_CREDIT_TYPES = (
    "COMMITTED_USAGE_DISCOUNT", "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE", "DISCOUNT", "FEE_UTILIZATION_OFFSET",
    "RESELLER_MARGIN", "SUBSCRIPTION_BENEFIT", "SUSTAINED_USAGE_DISCOUNT",
)  # fmt: skip
_DISCOUNTS_SQL = f"""coalesce(list_sum(list_transform(
    list_filter(json_extract(CASE WHEN json_valid("credits") THEN "credits" END, '$[*]'),
                lambda c: json_extract_string(c, '$.type') IN ({", ".join(f"'{t}'" for t in DISCOUNT_CREDIT_TYPES)})),
    lambda c: TRY_CAST(json_extract_string(c, '$.amount') AS DECIMAL(18, 9)))), 0)"""
_CLASS, _CREDITS, _DISCOUNTS = '"__class"', '"__credits"', '"__discounts"'
_DERIVED = {"__sku": _SKU_SQL, "__class": _CLASS_SQL, "__credits": _CREDITS_SQL, "__discounts": _DISCOUNTS_SQL}
# The credits that are no discount (free tier, promotions, untyped): money given back, not a lower price.
_OTHER_CREDITS = f"({_CREDITS} - {_DISCOUNTS})"
_BILLED = f'("cost" + {_CREDITS})'
# An invoice-level adjustment below zero is a credit as a whole.
_ADJUSTMENT = f"""(lower(trim("cost_type")) = 'adjustment' AND {_BILLED} < 0)"""
_START = '"usage_start_time"'
# The model is what precedes the first word naming a channel, a modality or a class.
_AFTER_MODEL = "'\\b(ga|global|text|input|output|thinking|audio|image|video)\\b.*$'"


def _tokens(*classes: str) -> str:
    wanted = ", ".join(f"'{c}'" for c in classes)
    return f"CASE WHEN {_AI} AND {_REGULAR} AND {_COUNT} AND {_CLASS} IN ({wanted}) THEN {_AMOUNT} ELSE 0 END"


IMPORTER = Importer(
    name="gcp_billing_csv",
    title="Google Cloud billing export as CSV (billing_account_id,service.id,service.description,sku.id,…)",
    kind="cost",
    required_columns=("service.description", "sku.description", "usage_start_time", "cost", "currency"),
    optional_columns=(
        "billing_account_id",
        "service.id",
        "sku.id",
        "usage_end_time",
        "project.id",
        "project.name",
        "location.region",
        "currency_conversion_rate",
        "usage.amount",
        "usage.unit",
        "usage.amount_in_pricing_units",
        "usage.pricing_unit",
        "credits",
        "invoice.month",
        "cost_type",
        "labels",
        "export_time",
        "cost_at_list",
    ),
    unused_columns=("usage.amount_in_pricing_units", "usage.pricing_unit", "labels", "export_time"),
    count_columns=(),
    money_columns=("cost", "cost_at_list"),
    time_columns=("usage_start_time",),
    derived=_DERIVED,
    record_key=(
        "billing_account_id",
        "sku.id",
        "sku.description",
        "usage_start_time",
        "project.id",
        "location.region",
        "cost_type",
    ),
    ledger={
        "provider": "'google'",
        # The model is what precedes the first word naming a channel, modality or class.
        "model_raw": f"""CASE WHEN {_TEXT}
                        THEN regexp_replace(trim(regexp_replace({_SKU}, {_AFTER_MODEL}, '')), ' ', '-', 'g')
                        WHEN {_AI} THEN trim("sku.description") ELSE '' END""",
        "project": '"project.id"',
        "service_tier": f"CASE WHEN regexp_matches({_SKU}, 'batch') THEN 'batch' ELSE 'standard' END",
        "day": utc_day(_START),
        "time_slot": utc_slot(_START),
        "size_basis": "'context_label'",
        "request_size_floor_tokens": f"CASE WHEN regexp_matches({_SKU}, '\\(long\\)') THEN 200000 ELSE 0 END",
        "input_tokens": _tokens("input"),
        "cache_read_tokens": _tokens("cache_read"),
        "output_tokens": _tokens("output", "reasoning"),
        "reasoning_tokens": _tokens("reasoning"),
        "billed": _BILLED,
        "billed_present": '"cost__present"',
        # A token line's credits are not the tokens' charges; its discounts are (they lower their price).
        "billed_non_token": f"""CASE WHEN {_REGULAR} AND {_COUNT} AND {_CLASS} <> '' THEN {_OTHER_CREDITS}
                                ELSE {_BILLED} END""",
        # The credits netted into a line stay part of its charge line: its cost is what was charged.
        "billed_credit": f"CASE WHEN {_ADJUSTMENT} THEN {_BILLED} ELSE {_OTHER_CREDITS} END",
        "billed_discount": f"CASE WHEN {_ADJUSTMENT} THEN 0 ELSE {_DISCOUNTS} END",
        "adjustment": _ADJUSTMENT,
        # The line at list prices (accounts with contract prices; else it equals `cost`), when the export has it.
        "source_list": f'CASE WHEN {_ADJUSTMENT} THEN 0 ELSE "cost_at_list" END',
        "source_list_present": f'"cost_at_list__present" AND NOT {_ADJUSTMENT}',
        "currency": 'upper(trim("currency"))',
    },
    skip_when=((f"NOT {_AI}", "not AI usage"),),
    reject_when=(
        (f"{_START} IS NULL", "no usage_start_time", "usage_start_time"),
        ('NOT "cost__present"', "row without a cost", "cost"),
        (
            """trim("credits") NOT IN ('', '[]') AND NOT json_valid("credits")""",
            "credits are not valid JSON",
            "credits",
        ),
    ),
    example_header=(
        "billing_account_id,service.id,service.description,sku.id,sku.description,usage_start_time,usage_end_time,"
        "project.id,location.region,cost,currency,currency_conversion_rate,usage.amount,usage.unit,"
        "usage.amount_in_pricing_units,usage.pricing_unit,credits,invoice.month,cost_type,labels"
    ),
)
