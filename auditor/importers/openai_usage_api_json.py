"""OpenAI Usage API pages (`GET /v1/organization/usage/completions`), as saved from the API: JSON documents.

How it counts: each bucket's `results` are the rows of the platform usage export (`openai_usage_csv`), with
the same fields and semantics: `input_tokens` INCLUDES `input_cached_tokens` and `input_cache_write_tokens`
(`input_uncached_tokens` is the rest), `output_tokens` INCLUDES reasoning, per-modality fields are
breakdowns. The bucket's `start_time` / `end_time` (Unix seconds) date each result; buckets of an hour or
less keep their time of day. `batch` (true/false) and `service_tier` say how requests were served. A bucket
without results is an empty bucket. Grouping fields (`model`, `project_id`, `api_key_id`) are null unless
the request grouped by them: results without a model cannot be priced and are rejected, naming the bucket.
A page, several pages (one after another, one per line, or in a JSON array) are all read.
"""

from __future__ import annotations

from auditor.importers import openai_usage_csv
from auditor.importers.base import as_json_records

IMPORTER = as_json_records(
    openai_usage_csv.IMPORTER,
    name="openai_usage_api_json",
    title="OpenAI Usage API pages (/v1/organization/usage/completions, JSON)",
    required_keys=("start_time", "end_time", "num_model_requests", "input_tokens", "output_tokens"),
    reject_when=(
        (
            """trim("model") = ''""",
            "usage without a model (ask the API with group_by=model)",
            "model",
        ),
        *openai_usage_csv.IMPORTER.reject_when[1:],
    ),
    example='{"object":"page","data":[{"object":"bucket","start_time":…,"end_time":…,"results":'
    '[{"object":"organization.usage.completions.result","input_tokens":…,"output_tokens":…,'
    '"input_cached_tokens":…,"num_model_requests":…,"model":"gpt-4o-2024-08-06",…}]}],"has_more":false}',
)
