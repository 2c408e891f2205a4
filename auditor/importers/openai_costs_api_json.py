"""OpenAI Costs API pages (`GET /v1/organization/costs`), as saved from the API: JSON documents.

How it counts: money, not tokens, as the platform cost export (`openai_cost_csv`) does: each bucket's
`results` are its rows, `amount.value` the billed amount in `amount.currency` (`usd`). The API writes
`amount.value` as a string, sometimes with ~36 decimals or in scientific notation (`"0E-6176"`); it is
read as an exact decimal to the nano-unit. `line_item` (`gpt-4o-mini-2024-07-18, input`) names the model
and charge class when the request grouped by line item; otherwise each result is an amount for the
whole bucket (kept under "(not grouped by line item)"). `quantity` is not read as tokens: a usage source
counts them. Buckets are daily (`start_time` / `end_time`, Unix seconds); a bucket without results is empty.
"""

from __future__ import annotations

from auditor.importers import openai_cost_csv
from auditor.importers.base import as_json_records

IMPORTER = as_json_records(
    openai_cost_csv.IMPORTER,
    name="openai_costs_api_json",
    title="OpenAI Costs API pages (/v1/organization/costs, JSON)",
    required_keys=("start_time", "end_time", "amount"),
    paths={"amount_value": "$.amount.value", "amount_currency": "$.amount.currency"},
    example='{"object":"page","data":[{"object":"bucket","start_time":…,"end_time":…,"results":'
    '[{"object":"organization.costs.result","amount":{"value":"0.0000045","currency":"usd"},'
    '"line_item":"gpt-4o-mini-2024-07-18, input","project_id":"proj_…",…}]}],"has_more":false}',
)
