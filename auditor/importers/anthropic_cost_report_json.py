"""Anthropic Admin API cost report (`GET /v1/organizations/cost_report`), saved pages (JSON documents).

How it counts: money, not tokens. `amount` is in the currency's LOWEST unit (cents for USD) written as a
decimal string (`"1234.5678"` = $12.345678): it is divided by 100, exactly. Each result is one day (buckets
are daily) × the request's grouping; with `group_by[]=description` it names the `model` (its id, as the
usage report writes it), `token_type`, `cost_type` (`tokens`, `web_search`, `code_execution`, …),
`service_tier`, `context_window`. A result with no token type (web search, code execution) is a non-token
charge, named by its `description`. Without that grouping the descriptive fields are null and each
result is a day's amount for a workspace, kept under "(not grouped by description)".
"""

from __future__ import annotations

from auditor.importers.anthropic_usage_report_json import _NOT_DATED, REPORT_FIELDS, REPORT_KEYS
from auditor.importers.base import Importer

NOT_GROUPED = "(not grouped by description)"
_CURRENCY = 'upper(trim("currency"))'

IMPORTER = Importer(
    name="anthropic_cost_report_json",
    title="Anthropic Admin API cost report (/v1/organizations/cost_report, JSON)",
    kind="cost",
    required_columns=("starting_at", "ending_at", "amount", "currency"),
    optional_columns=(
        "description",
        "cost_type",
        "token_type",
        "model",
        "workspace_id",
        "service_tier",
        "context_window",
        "inference_geo",
        "speed",
    ),
    json_fields={
        **REPORT_FIELDS,
        "amount": "$.amount",
        "currency": "$.currency",
        "description": "$.description",
        "cost_type": "$.cost_type",
        "token_type": "$.token_type",
    },
    count_columns=(),
    money_columns=("amount",),
    time_columns=("starting_at", "ending_at"),
    record_key=(
        "starting_at",
        "ending_at",
        "workspace_id",
        "description",
        "model",
        "token_type",
        "cost_type",
        "service_tier",
        "context_window",
        "inference_geo",
        "speed",
    ),
    family="anthropic_cost_csv",
    ledger={
        **REPORT_KEYS,
        "model_raw": f"""CASE WHEN trim("model") <> '' THEN trim("model")
                         WHEN trim("description") <> '' THEN trim("description") ELSE '{NOT_GROUPED}' END""",
        # Cents (the currency's lowest unit) to units, exactly.
        "billed": """"amount" * CAST(0.01 AS DECIMAL(3, 2))""",
        "billed_present": '"amount__present"',
        "billed_non_token": """CASE WHEN trim("token_type") = '' AND (trim("model") <> '' OR trim("description") <> '')
                               THEN "amount" * CAST(0.01 AS DECIMAL(3, 2)) ELSE 0 END""",
        "currency": _CURRENCY,
    },
    skip_when=(("""NOT "amount__present" AND trim("currency") = ''""", "empty time bucket"),),
    reject_when=(
        _NOT_DATED,
        ('NOT "amount__present"', "result without an amount", "amount"),
        (f"NOT regexp_matches({_CURRENCY}, '^[A-Z]{{3}}$')", "not a currency code", "currency"),
    ),
    example_header='{"data":[{"starting_at":"2026-10-01T00:00:00Z","ending_at":"2026-10-02T00:00:00Z","results":'
    '[{"currency":"USD","amount":"1234.5678","description":"Claude Sonnet 4.5 Usage - Input Tokens",'
    '"cost_type":"tokens","model":"claude-sonnet-4-5-20250929","token_type":"uncached_input_tokens",…}]}]}',
)
