"""OpenAI platform cost export (Usage → Cost → Export: `cost_<from>_<to>.csv`), with or without `api_source`.

How it counts: money, not tokens. One row per time bucket × line item (× project × key when grouped so);
`amount_value` is what was billed, in `amount_currency` (`usd`; another currency is converted with the
user's `--fx` rate), printed with up to ~36 decimals and read
to the nano-dollar. `quantity` is deliberately not read as tokens: the usage export counts the same tokens,
and a cost export audited beside it must add money only. `line_item` is `<model>[ <modality>], <charge
class>`, optionally prefixed `<surface> | `; the model is its snapshot name, as the usage export writes it,
so both exports meet on one model line. A line item with no token charge class (`web search tool calls`,
`assistants api | file search`) is a non-token charge under its own text. A row without a line item is an
export not grouped by line item: an organisation-wide amount, kept as billed money under the model
"(not grouped by line item)", its token/non-token split unknown. Empty buckets hold only the time columns.
"""

from __future__ import annotations

from auditor.importers.base import Importer

_LINE_ITEM = 'trim("line_item")'
# The charge class follows the last comma (`cached input`, `output`, `cache writes`, `audio input`).
_CHARGE_CLASS = f"""lower(trim(regexp_extract({_LINE_ITEM}, ',([^,]*)$', 1)))"""
# Token charge classes name a direction or the cache; anything else (or no comma) is not tokens.
_IS_TOKEN_ITEM = f"""(contains({_LINE_ITEM}, ',') AND regexp_matches({_CHARGE_CLASS}, 'input|output|cache'))"""
# Before the last comma: drop a `<surface> | ` prefix (`evals | `), then a trailing modality word.
_MODEL = f"""trim(regexp_replace(regexp_replace(regexp_replace({_LINE_ITEM}, ',[^,]*$', ''),
             '^[^|]*\\|\\s*', ''), '\\s+(text|audio|image)$', '', 'i'))"""
NOT_GROUPED = "(not grouped by line item)"
_CURRENCY = 'lower(trim("amount_currency"))'
IMPORTER = Importer(
    name="openai_cost_csv",
    title="OpenAI platform cost export (cost_<from>_<to>.csv)",
    kind="cost",
    required_columns=("start_time", "end_time", "amount_value", "amount_currency"),
    optional_columns=(
        "start_time_iso",
        "end_time_iso",
        "quantity",
        "quantity_unit",
        "line_item",
        "user_id",
        "api_key_id",
        "project_id",
        "organization_id",
        "project_name",
        "organization_name",
        "user_email",
        "api_source",
    ),
    record_key=("start_time", "end_time", "line_item", "project_id", "api_key_id", "user_id", "organization_id"),
    unused_columns=(
        "start_time_iso",
        "end_time_iso",
        "quantity",
        "quantity_unit",
        "user_id",
        "organization_id",
        "organization_name",
        "user_email",
        "api_source",
    ),
    count_columns=("start_time", "end_time"),
    money_columns=("amount_value",),
    ledger={
        "provider": "'openai'",
        "model_raw": f"""CASE WHEN {_LINE_ITEM} = '' THEN '{NOT_GROUPED}'
                         WHEN {_IS_TOKEN_ITEM} THEN {_MODEL} ELSE {_LINE_ITEM} END""",
        # Ids first: the usage export attributes by project_id, so both exports meet on it.
        "project": """CASE WHEN trim("project_id") <> '' THEN trim("project_id") ELSE trim("project_name") END""",
        "api_key": 'trim("api_key_id")',
        "day": """CAST(DATE '1970-01-01' + CAST("start_time" // 86400 AS INTEGER) AS DATE)""",
        # Buckets of an hour or less keep their time of day; daily buckets (the only width seen) have none.
        "time_slot": 'CASE WHEN "end_time" - "start_time" <= 3600 THEN ("start_time" % 86400) // 1800 ELSE -1 END',
        "billed": '"amount_value"',
        "currency": f"upper({_CURRENCY})",
        "billed_present": '"amount_value__present"',
        "billed_non_token": f"""CASE WHEN {_LINE_ITEM} <> '' AND NOT {_IS_TOKEN_ITEM} THEN "amount_value" ELSE 0 END""",
    },
    skip_when=(
        (
            f"""NOT "amount_value__present" AND {_LINE_ITEM} = '' AND {_CURRENCY} = ''""",
            "empty time bucket",
        ),
    ),
    reject_when=(
        ('"start_time" <= 0', "bucket without a start_time", "start_time"),
        ('NOT "amount_value__present"', "row has no amount_value", "amount_value"),
        (f"{_CURRENCY} = ''", "amount without a currency", "amount_currency"),
        (f"NOT regexp_matches({_CURRENCY}, '^[a-z]{{3}}$')", "not a currency code", "amount_currency"),
        (f"{_IS_TOKEN_ITEM} AND {_MODEL} = ''", "line item names no model", "line_item"),
    ),
    example_header=(
        "start_time,end_time,start_time_iso,end_time_iso,amount_value,amount_currency,quantity,quantity_unit,"
        "line_item,user_id,api_key_id,project_id,organization_id,project_name,organization_name,user_email,"
        "api_source"
    ),
)
