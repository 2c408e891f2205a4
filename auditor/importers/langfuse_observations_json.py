"""Langfuse observations (`GET /api/public/observations`, or the UI's JSON download): one object per observation.

How it counts: only `GENERATION` observations are model calls (spans and events are skipped). Tokens are in
`usageDetails`, a free-form map of usage type → count that each SDK integration fills its own way: some
send `input` WITHOUT the cached tokens and `input_cached_tokens` beside it (Langfuse then prices each key
on its own and `total` is the sum of every key), others send `input` INCLUDING them (`total` = `input` +
`output`). The file does not say which, so each generation's `total` decides: if the keys other than
`input`, `output` and `total` are all zero, both readings agree; if every key adds up to `total`, the keys
are disjoint (input = the keys holding "input" that are not cache keys, as Langfuse's UI sums them;
output = every key holding "output", reasoning included); if `input` + `output` = `total`, the details are inside
them. A generation whose details fit neither is rejected, never guessed. Cache reads are the keys naming
a cache read (`input_cached_tokens`, `cache_read_input_tokens`), cache writes those naming a creation or
write (`cache_creation_input_tokens`); reasoning the keys naming reasoning. Older generations without
`usageDetails` use the legacy `usage` object (`unit` TOKENS). The model is `providedModelName` when
present, else `model`; its provider is read from its name (as for Helicone). The project is the
generation's `name` (the step the application named). `costDetails.total` (or `calculatedTotalCost`) is
Langfuse's own estimate from its price table: kept as the source's list price, never as billed.
"""

from __future__ import annotations

from auditor.importers.base import Importer
from auditor.importers.engine import utc_day, utc_slot
from auditor.importers.helicone_csv import MAKER_FROM_MODEL

# The shared expressions are computed once a line, in this order (`Importer.derived`), and read by name.
_DERIVED: dict[str, str] = {}


def _derived(name: str, sql: str) -> str:
    """The column `name` of `sql` (a derived column): what the other expressions read."""
    _DERIVED[name] = sql
    return f'"{name}"'


_MODEL = _derived(
    "__model", """CASE WHEN trim("provided_model") <> '' THEN trim("provided_model") ELSE trim("langfuse_model") END"""
)
_DETAILS = _derived(
    "__details",
    """CASE WHEN "usage_details" <> '' AND json_valid("usage_details")
       AND json_type("usage_details") = 'OBJECT' THEN "usage_details" END""",
)
# An empty map (older generations) leaves the legacy `usage` object to count.
_HAS_DETAILS = _derived("__has_details", f"coalesce(len(json_keys({_DETAILS})) > 0, false)")


def _key(name: str) -> str:
    return f"""coalesce(TRY_CAST(json_extract_string({_DETAILS}, '$."{name}"') AS DOUBLE), 0)"""


def _sum_of_keys(condition: str) -> str:
    value = f"""TRY_CAST(json_extract_string({_DETAILS}, '$."' || k || '"') AS DOUBLE)"""
    return f"coalesce(list_sum([{value} for k in json_keys({_DETAILS}) if {condition}]), 0)"


_CACHE_READ = _derived(
    "__cache_read", _sum_of_keys("contains(k, 'cache') AND (contains(k, 'read') OR contains(k, 'cached'))")
)
_CACHE_WRITE = _derived(
    "__cache_write", _sum_of_keys("contains(k, 'cache') AND (contains(k, 'creation') OR contains(k, 'write'))")
)
_REASONING = _derived("__reasoning", _sum_of_keys("contains(k, 'reasoning')"))
_PLAIN_INPUT = _derived("__plain_input", _sum_of_keys("contains(k, 'input') AND NOT contains(k, 'cache')"))
_ALL_OUTPUT = _derived("__all_output", _sum_of_keys("contains(k, 'output')"))
_EVERY_KEY = _derived("__every_key", _sum_of_keys("k <> 'total'"))
_INPUT_KEY = _derived("__input_key", _key("input"))
_OUTPUT_KEY = _derived("__output_key", _key("output"))
_TOTAL = f"""TRY_CAST(json_extract_string({_DETAILS}, '$."total"') AS DOUBLE)"""
_EXTRA = f"({_EVERY_KEY} - {_INPUT_KEY} - {_OUTPUT_KEY})"
# Which reading of the details this generation's total supports.
# (A missing total decides nothing: coalesce keeps the tests true or false, never NULL.)
_DISJOINT = _derived("__disjoint", f"coalesce({_EXTRA} > 0 AND {_TOTAL} = {_EVERY_KEY}, false)")
_NESTED = f"coalesce({_EXTRA} > 0 AND {_TOTAL} = {_INPUT_KEY} + {_OUTPUT_KEY} AND NOT {_DISJOINT}, false)"
_UNDECIDED = f"({_HAS_DETAILS} AND {_EXTRA} <> 0 AND NOT {_DISJOINT} AND NOT {_NESTED})"
_BAD_VALUE = f"""({_HAS_DETAILS} AND coalesce(list_bool_or([
    TRY_CAST(json_extract_string({_DETAILS}, '$."' || k || '"') AS DOUBLE) IS NULL
    OR TRY_CAST(json_extract_string({_DETAILS}, '$."' || k || '"') AS DOUBLE) < 0
    OR TRY_CAST(json_extract_string({_DETAILS}, '$."' || k || '"') AS DOUBLE)
       <> trunc(TRY_CAST(json_extract_string({_DETAILS}, '$."' || k || '"') AS DOUBLE))
    for k in json_keys({_DETAILS})]), false))"""
_INPUT = f"CASE WHEN {_DISJOINT} THEN {_PLAIN_INPUT} ELSE {_INPUT_KEY} - {_CACHE_READ} - {_CACHE_WRITE} END"


def _count(expr: str) -> str:
    return f"CAST({expr} AS BIGINT)"


IMPORTER = Importer(
    name="langfuse_observations_json",
    title="Langfuse observations (GET /api/public/observations or the UI's JSON download)",
    kind="requests",
    required_columns=("id", "traceId", "type", "startTime"),
    optional_columns=(
        "name",
        "endTime",
        "completionStartTime",
        "model",
        "providedModelName",
        "modelParameters",
        "usage",
        "usageDetails",
        "costDetails",
        "calculatedTotalCost",
        "calculatedInputCost",
        "calculatedOutputCost",
        "modelId",
        "level",
        "environment",
        "latency",
        "timeToFirstToken",
        "promptId",
        "parentObservationId",
    ),
    json_fields={
        "observation_id": "$.id",
        "type": "$.type",
        "name": "$.name",
        "startTime": "$.startTime",
        "langfuse_model": "$.model",
        "provided_model": "$.providedModelName",
        "usage_details": "$.usageDetails",
        "usage_input": "$.usage.input",
        "usage_output": "$.usage.output",
        "usage_unit": "$.usage.unit",
        "cost_total": "$.costDetails.total",
        "calculated_total": "$.calculatedTotalCost",
    },
    count_columns=("usage_input", "usage_output"),
    money_columns=("cost_total", "calculated_total"),
    time_columns=("startTime",),
    record_key=("observation_id",),
    derived=_DERIVED,
    ledger={
        "provider": MAKER_FROM_MODEL.replace('"model"', f"({_MODEL})"),
        "model_raw": _MODEL,
        "project": 'trim("name")',
        "day": utc_day('"startTime"'),
        "time_slot": utc_slot('"startTime"'),
        "size_basis": "'request'",
        "requests": "1",
        "requests_known": "1",
        "input_tokens": f"""CASE WHEN {_HAS_DETAILS}
                            THEN {_count(f"greatest({_INPUT}, 0)")}
                            ELSE "usage_input" END""",
        "cache_read_tokens": f"CASE WHEN {_HAS_DETAILS} THEN {_count(_CACHE_READ)} ELSE 0 END",
        "cache_write_tokens": f"CASE WHEN {_HAS_DETAILS} THEN {_count(_CACHE_WRITE)} ELSE 0 END",
        "output_tokens": f"""CASE WHEN {_HAS_DETAILS}
                             THEN {_count(f"CASE WHEN {_DISJOINT} THEN {_ALL_OUTPUT} ELSE {_OUTPUT_KEY} END")}
                             ELSE "usage_output" END""",
        "reasoning_tokens": f"CASE WHEN {_HAS_DETAILS} THEN {_count(_REASONING)} ELSE 0 END",
        "source_list": """CASE WHEN "cost_total__present" THEN "cost_total" ELSE "calculated_total" END""",
        "source_list_present": '"cost_total__present" OR "calculated_total__present"',
    },
    skip_when=(
        (""""type" <> 'GENERATION'""", "not a model call (a span or an event)"),
        (
            f"""CASE WHEN {_HAS_DETAILS} THEN {_EVERY_KEY} ELSE "usage_input" + "usage_output" END = 0""",
            "generation without usage",
        ),
        (
            f"""NOT {_HAS_DETAILS} AND upper(trim("usage_unit")) NOT IN ('', 'TOKENS')""",
            "usage not counted in tokens (characters, images, seconds)",
        ),
    ),
    reject_when=(
        ('"startTime" IS NULL', "generation without a start time", "startTime"),
        (f"({_MODEL}) = ''", "generation without a model", "model"),
        (_BAD_VALUE, "a usageDetails value is not a whole, non-negative number", "usageDetails"),
        (
            _UNDECIDED,
            "usageDetails neither add up to total nor sit inside input and output: "
            "cannot tell whether input includes the cached tokens",
            "usageDetails",
        ),
        (
            f"{_HAS_DETAILS} AND NOT {_DISJOINT} AND {_CACHE_READ} + {_CACHE_WRITE} > {_INPUT_KEY}",
            "cached tokens exceed the input tokens",
            "usageDetails",
        ),
    ),
    example_header='{"id":"…","traceId":"…","type":"GENERATION","name":"…","startTime":"2026-05-14T09:12:01.201Z",'
    '"model":"gpt-4o-2024-08-06","usageDetails":{"input":…,"output":…,"total":…,"input_cached_tokens":…},'
    '"costDetails":{"total":…},…}',
)
