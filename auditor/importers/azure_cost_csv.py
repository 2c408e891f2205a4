"""Azure Cost Management cost-details export (MCA `…,meterName,…,costInBillingCurrency,…` and the partner shape).

How it counts: one row per day × meter × resource, in the billing currency. Azure OpenAI / Foundry rows
(`consumedService` Microsoft.CognitiveServices, or meter category Cognitive Services / Foundry Models /
Azure OpenAI) are AI usage; every other row is skipped as not AI usage. A token meter's `quantity` is in
blocks of its `unitOfMeasure` (`1K` or `1M` tokens, as real rows show: a `1M` meter's quantity 72.1 is
72.1 million tokens); its direction and class come from the meter name (`Inp`/`Inpt`/`input`,
`Outp`/`outpt`/`opt`/`output`, `cached`/`cchd`/`cd`), `Batch` marks batch, and the model is what is left
of the name (`GPT 5 Mini cchd Inpt Glbl 1M Tokens` → `gpt-5-mini`). Meter names have no fixed grammar:
a model written with a bare month-day snapshot (`gpt-4o-0806`) is the dated model named in the curated
`pricing/data/azure_meters.toml` (each entry sourced); one not listed there, or a name without its family
(`5.4`), stays as written and unpriced, never guessed. Regional and Data Zone deployments cost about 10%
more than the Global list price the catalog has; that premium is not applied. Provisioned (PTU, hourly)
and audio meters are money only. Dates are `MM/DD/YYYY` or ISO; the file has a BOM.

Other shapes of the same export are read too: the EA and pay-as-you-go cost details write the columns in
PascalCase (`MeterName`, `Quantity`, `CostInBillingCurrency` or `Cost`, `BillingCurrency`), matched without
case. The legacy usage details (`UsageDateTime,…,UsageQuantity,ResourceRate,PreTaxCost`) state no currency
at all, so they are refused by detection (missing `billingCurrency`): add a `BillingCurrency` column holding
the enrollment's currency and audit the file again. Amounts are never assumed to be in USD.
"""

from __future__ import annotations

from auditor.importers.base import Importer

_NAME = 'lower(trim("meterName"))'
_AI = """("consumedService" = 'Microsoft.CognitiveServices'
          OR "meterCategory" IN ('Cognitive Services', 'Foundry Models', 'Azure OpenAI'))"""
_UNIT = """lower(replace(trim("unitOfMeasure"), ' ', ''))"""
# The shared expressions are computed once a line (`Importer.derived`, in this order) and read by name.
_BLOCK_SQL = f"""CASE WHEN {_UNIT} IN ('1k', '1ktokens') THEN 1000 WHEN {_UNIT} IN ('1m', '1mtokens') THEN 1000000
            WHEN regexp_matches({_NAME}, '\\b1m\\b') THEN 1000000 ELSE 0 END"""
_WORDS = (
    r"(\b|_|-)(tokens?|1m|1k|inp|inpt|input|outp|outpt|opt|output|out|cached|cchd|cd|glbl|gl|global|regnl"
    r"|regional|dzone|dz|batch|std|shortco|longco)(\b|_|-)"
)
_BLOCK = '"__block"'
_IS_TOKEN_METER_SQL = (
    f"""({_BLOCK} > 0 AND NOT regexp_matches({_NAME}, '\\b(ptu|pp|aud|audio|hour|hosting|tts|transcribe)\\b'))"""
)
_IS_TOKEN_METER = '"__is_token_meter"'
_CLASS_SQL = f"""CASE WHEN regexp_matches({_NAME}, '\\b(cached|cchd|cd)\\b') THEN 'cache_read'
              WHEN regexp_matches({_NAME}, '(\\b|-)(inp|inpt|input)(\\b|-)') THEN 'input'
              WHEN regexp_matches({_NAME}, '(\\b|-)(outp|outpt|opt|output|out)(\\b|-)') THEN 'output' ELSE '' END"""
_CLASS = '"__class"'
_DERIVED = {"__block": _BLOCK_SQL, "__is_token_meter": _IS_TOKEN_METER_SQL, "__class": _CLASS_SQL}
_DATE = """coalesce(try_strptime(trim("date"), '%m/%d/%Y'), TRY_CAST(trim("date") AS TIMESTAMP))"""
_COST = """CASE WHEN "costInBillingCurrency__present" THEN "costInBillingCurrency" ELSE "costInUsd" END"""


# Only usage lines carry tokens: a refund or adjustment of a token meter is money (its quantity is negative).
_USAGE = """coalesce(nullif(trim("chargeType"), ''), 'Usage') = 'Usage'"""
_REFUND = """trim("chargeType") = 'Refund'"""


def meter_model(meter_name: str) -> str:
    """The model an Azure token meter's name (an SQL expression) names: the name without its direction, class,
    deployment, unit and tier words (`GPT 5 Mini cchd Inpt Glbl 1M Tokens` → `gpt-5-mini`)."""
    name = f"lower(trim({meter_name}))"
    return f"""trim(regexp_replace(regexp_replace(regexp_replace({name}, '{_WORDS}', '-', 'g'),
                                                  '[\\s_]+', '-', 'g'), '-+', '-', 'g'), '-')"""


def _tokens(token_class: str) -> str:
    return f"""CASE WHEN {_AI} AND {_USAGE} AND {_IS_TOKEN_METER} AND {_CLASS} = '{token_class}'
               THEN CAST(round(coalesce(TRY_CAST("quantity" AS DOUBLE), 0) * {_BLOCK}) AS BIGINT) ELSE 0 END"""


IMPORTER = Importer(
    name="azure_cost_csv",
    title="Azure Cost Management cost details (…,meterName,…,quantity,unitOfMeasure,…,costInBillingCurrency,…)",
    kind="cost",
    required_columns=("date", "meterCategory", "meterName", "quantity", "unitOfMeasure", "billingCurrency"),
    optional_columns=(
        "costInBillingCurrency",
        "costInUsd",
        "consumedService",
        "meterSubCategory",
        "SubscriptionId",
        "subscriptionName",
        "resourceGroupName",
        "ResourceId",
        "chargeType",
        "ProductName",
    ),
    # EA and pay-as-you-go exports write PascalCase names (matched without case) and a few of their own.
    header_aliases={
        "cost": "costInBillingCurrency",
        "pretaxcost": "costInBillingCurrency",
        "usagequantity": "quantity",
        "usagedatetime": "date",
        "resourcegroup": "resourceGroupName",
        "subscriptionguid": "SubscriptionId",
        "instanceid": "ResourceId",
        "product": "ProductName",
    },
    count_columns=(),
    money_columns=("costInBillingCurrency", "costInUsd"),
    derived=_DERIVED,
    record_key=("date", "meterName", "ResourceId", "SubscriptionId", "chargeType", "meterSubCategory"),
    ledger={
        "provider": "'azure'",
        "model_raw": f"""CASE WHEN {_AI} AND {_IS_TOKEN_METER} THEN {meter_model('"meterName"')}
                        WHEN {_AI} THEN trim("meterName") ELSE '' END""",
        "project": '"subscriptionName"',
        "api_key": """regexp_extract("ResourceId", '/accounts/([^/]+)', 1)""",
        "service_tier": f"""CASE WHEN regexp_matches({_NAME}, '\\bbatch\\b') THEN 'batch' ELSE 'standard' END""",
        "day": f"CAST({_DATE} AS DATE)",
        "size_basis": "'average'",
        "input_tokens": _tokens("input"),
        "cache_read_tokens": _tokens("cache_read"),
        "output_tokens": _tokens("output"),
        "billed": _COST,
        "billed_present": """("costInBillingCurrency__present" OR "costInUsd__present")""",
        "billed_non_token": f"CASE WHEN {_USAGE} AND {_IS_TOKEN_METER} AND {_CLASS} <> '' THEN 0 ELSE {_COST} END",
        "billed_credit": f"CASE WHEN {_REFUND} THEN {_COST} ELSE 0 END",
        "adjustment": _REFUND,
        "currency": """CASE WHEN "costInBillingCurrency__present" THEN upper(trim("billingCurrency")) ELSE 'USD' END""",
    },
    skip_when=((f"NOT {_AI}", "not AI usage"),),
    reject_when=(
        (f"{_DATE} IS NULL", "not a date (MM/DD/YYYY or YYYY-MM-DD)", "date"),
        (
            """TRY_CAST("quantity" AS DOUBLE) IS NULL AND trim("quantity") <> ''""",
            "quantity is not a number",
            "quantity",
        ),
        (
            """NOT ("costInBillingCurrency__present" OR "costInUsd__present")""",
            "row without a cost",
            "costInBillingCurrency",
        ),
    ),
    example_header=(
        "invoiceId,…,date,serviceFamily,…,consumedService,meterId,meterName,meterCategory,meterSubCategory,…,"
        "quantity,unitOfMeasure,chargeType,billingCurrency,pricingCurrency,costInBillingCurrency,…,costInUsd,…"
    ),
)
