"""LiteLLM proxy spend logs as its API answers them (`GET /spend/logs`): a JSON array of `LiteLLM_SpendLogs` rows.

How it counts: exactly as the CSV dump of the same table (`litellm_spend_logs_csv`), whose mapping this
reads: one object per request with the table's field names; `prompt_tokens` includes cache reads and
writes and `completion_tokens` includes reasoning, the split being in `metadata.usage_object` (here a JSON
object, in the CSV a JSON string); `spend` is LiteLLM's estimate, kept as the source's list price, never as
billed. Failed requests and LiteLLM cache hits are skipped.
"""

from __future__ import annotations

from auditor.importers import litellm_spend_logs_csv
from auditor.importers.base import as_json_records

IMPORTER = as_json_records(
    litellm_spend_logs_csv.IMPORTER,
    name="litellm_spend_logs_json",
    title="LiteLLM spend logs from the proxy API (GET /spend/logs, JSON)",
    required_keys=("request_id", "call_type", "spend", "prompt_tokens", "completion_tokens", "startTime", "model"),
    example='[{"request_id":"chatcmpl-…","call_type":"acompletion","api_key":"…","spend":0.0062,'
    '"prompt_tokens":2543,"completion_tokens":228,"startTime":"2026-10-01T09:12:01.201","model":"gpt-4o-2024-08-06",'
    '"custom_llm_provider":"openai","metadata":{"usage_object":{…}},…}]',
)
