"""Anthropic Admin API usage report (`GET /v1/organizations/usage_report/messages`), saved pages (JSON documents).

How it counts: like the Console usage export (`anthropic_usage_csv`): `uncached_input_tokens` is uncached
input only; `cache_read_input_tokens` and `cache_creation.ephemeral_5m_input_tokens` /
`ephemeral_1h_input_tokens` (5-minute and 1-hour cache writes) are separate; `output_tokens` includes
thinking. There are no request counts, so long-context tiers follow `context_window` (`0-200k` /
`200k-1M`). Each bucket (`starting_at` / `ending_at`, RFC 3339, UTC) dates its results; buckets of an hour
or less keep their time of day. Dimension fields are null unless the request grouped by them: a null
`workspace_id` is the Default workspace; results without a model (not grouped by model) cannot be priced
and are rejected, naming the bucket. `service_tier` `batch`, `priority` (and `priority_on_demand`),
`flex` (and `flex_discount`) and `speed` `fast` say how requests were served.
"""

from __future__ import annotations

from auditor.importers.base import Importer
from auditor.importers.engine import utc_day, utc_slot

# Request-size floor each context-window label guarantees (a tier applies to input above its threshold).
CONTEXT_WINDOW_FLOOR = """CASE trim("context_window") WHEN '0-200k' THEN 0 WHEN '200k-1M' THEN 200000 ELSE -1 END"""
SERVICE_TIER = """CASE WHEN lower(trim("speed")) = 'fast' THEN 'fast'
                  WHEN lower(trim("service_tier")) = 'batch' THEN 'batch'
                  WHEN lower(trim("service_tier")) IN ('priority', 'priority_on_demand') THEN 'priority'
                  WHEN lower(trim("service_tier")) IN ('flex', 'flex_discount') THEN 'flex'
                  ELSE 'standard' END"""
# What the usage and cost reports share: attribution, the bucket's time and the context-window label.
REPORT_KEYS = {
    "provider": "'anthropic'",
    "project": """CASE WHEN trim("workspace_id") = '' THEN 'Default' ELSE trim("workspace_id") END""",
    "service_tier": SERVICE_TIER,
    "day": utc_day('"starting_at"'),
    "time_slot": f"""CASE WHEN epoch("ending_at") - epoch("starting_at") <= 3600 THEN {utc_slot('"starting_at"')}
                     ELSE -1 END""",
    "size_basis": "'context_label'",
    "request_size_floor_tokens": CONTEXT_WINDOW_FLOOR,
}
REPORT_FIELDS = {
    "starting_at": "$.starting_at",
    "ending_at": "$.ending_at",
    "model": "$.model",
    "workspace_id": "$.workspace_id",
    "service_tier": "$.service_tier",
    "context_window": "$.context_window",
    "inference_geo": "$.inference_geo",
    "speed": "$.speed",
}
_NOT_DATED = ('"starting_at" IS NULL', "bucket without a starting_at time", "starting_at")

IMPORTER = Importer(
    name="anthropic_usage_report_json",
    title="Anthropic Admin API usage report (/v1/organizations/usage_report/messages, JSON)",
    kind="usage",
    required_columns=("starting_at", "ending_at", "uncached_input_tokens", "output_tokens"),
    optional_columns=(
        "cache_read_input_tokens",
        "cache_creation",
        "server_tool_use",
        "model",
        "api_key_id",
        "workspace_id",
        "service_tier",
        "context_window",
        "inference_geo",
        "speed",
        "account_id",
        "service_account_id",
    ),
    json_fields={
        **REPORT_FIELDS,
        "api_key_id": "$.api_key_id",
        "uncached_input_tokens": "$.uncached_input_tokens",
        "cache_read_input_tokens": "$.cache_read_input_tokens",
        "cache_write_5m": "$.cache_creation.ephemeral_5m_input_tokens",
        "cache_write_1h": "$.cache_creation.ephemeral_1h_input_tokens",
        "output_tokens": "$.output_tokens",
    },
    count_columns=(
        "uncached_input_tokens",
        "cache_read_input_tokens",
        "cache_write_5m",
        "cache_write_1h",
        "output_tokens",
    ),
    money_columns=(),
    time_columns=("starting_at", "ending_at"),
    record_key=(
        "starting_at",
        "ending_at",
        "model",
        "api_key_id",
        "workspace_id",
        "service_tier",
        "context_window",
        "inference_geo",
        "speed",
    ),
    family="anthropic_usage_csv",
    ledger={
        **REPORT_KEYS,
        "model_raw": 'trim("model")',
        "api_key": 'trim("api_key_id")',
        "input_tokens": '"uncached_input_tokens"',
        "cache_read_tokens": '"cache_read_input_tokens"',
        "cache_write_tokens": '"cache_write_5m"',
        "cache_write_1h_tokens": '"cache_write_1h"',
        "output_tokens": '"output_tokens"',
    },
    skip_when=(
        (
            """trim("model") = '' AND "uncached_input_tokens" + "cache_read_input_tokens" + "cache_write_5m"
               + "cache_write_1h" + "output_tokens" = 0""",
            "empty time bucket",
        ),
    ),
    reject_when=(
        _NOT_DATED,
        ("""trim("model") = ''""", "usage without a model (ask the API with group_by[]=model)", "model"),
    ),
    example_header='{"data":[{"starting_at":"2026-10-01T00:00:00Z","ending_at":"2026-10-02T00:00:00Z","results":'
    '[{"uncached_input_tokens":…,"cache_read_input_tokens":…,"cache_creation":{…},"output_tokens":…,'
    '"model":"claude-sonnet-4-5-20250929",…}]}],"has_more":false,"next_page":null}',
)
