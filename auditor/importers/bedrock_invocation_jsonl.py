"""Amazon Bedrock model invocation logs (S3 or CloudWatch Logs delivery): one `ModelInvocationLog` record per line.

Bedrock writes them under `AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/` as small
`<time>_<hex>.json.gz` files; give the folder and every file is read (gzip as it is).

How it counts: a record is one invocation (`InvokeModel`, `InvokeModelWithResponseStream`, `Converse`,
`ConverseStream`). `input.inputTokenCount` is UNCACHED input only; `input.cacheReadInputTokenCount` and
`input.cacheWriteInputTokenCount` are separate (the log does not say the cache duration: every write is a
5-minute write); `output.outputTokenCount` is all output (an embedding has none). The time is `timestamp`
(UTC). There is no cost: the tokens are priced from the catalog's AWS Bedrock prices at the provider `aws`,
as the Cost and Usage Report's Bedrock lines are. `modelId` is the model id (`anthropic.claude-…-v1:0`), a
cross-region inference profile (`us.…`, `eu.…`, `apac.…` priced as in-region, `global.…` at global prices,
as the catalog and the CUR meters price them) or an ARN: the ARN of a foundation model or of a system
inference profile is read as the id it ends with; an application inference profile or a provisioned or
custom model has no catalog price and stays unpriced (never $0). The log does not say a service tier: all
are standard. Attribution: the project is the caller's `requestMetadata.project` tag when the request set
one, else the account (`accountId`, as in the CUR importers); the key is the caller, `identity.arn`.

Skipped with a reason: records of another schema, and invocations that failed (`errorCode` set, no
usage). Rejected with their line: truncated or broken lines, and records without a time or a model.
"""

from __future__ import annotations

from auditor.importers.base import Importer
from auditor.importers.engine import literal, utc_day, utc_slot

# The ARN of a foundation model or of a system-defined inference profile ends with the id the catalog knows.
_ID_ARN = "^arn:aws[a-z-]*:bedrock:[^:]*:[0-9]*:(foundation-model|inference-profile)/"

IMPORTER = Importer(
    name="bedrock_invocation_jsonl",
    title="Amazon Bedrock model invocation logs (AWSLogs/<account>/BedrockModelInvocationLogs/…/*.json.gz)",
    kind="requests",
    split_log=True,
    required_columns=("schemaType", "timestamp", "requestId", "modelId"),
    optional_columns=(
        "schemaVersion",
        "accountId",
        "identity",
        "region",
        "operation",
        "inferenceRegion",
        "input",
        "output",
        "requestMetadata",
        "errorCode",
    ),
    json_fields={
        "schema_type": "$.schemaType",
        "timestamp": "$.timestamp",
        "account_id": "$.accountId",
        "caller": "$.identity.arn",
        "request_id": "$.requestId",
        "model_id": "$.modelId",
        "error_code": "$.errorCode",
        "project_tag": "$.requestMetadata.project",
        "input_tokens": "$.input.inputTokenCount",
        "cache_read_tokens": "$.input.cacheReadInputTokenCount",
        "cache_write_tokens": "$.input.cacheWriteInputTokenCount",
        "output_tokens": "$.output.outputTokenCount",
    },
    count_columns=("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens"),
    money_columns=(),
    time_columns=("timestamp",),
    record_key=("request_id",),
    ledger={
        "provider": "'aws'",
        "model_raw": f"regexp_replace(trim(\"model_id\"), {literal(_ID_ARN)}, '')",
        "project": """coalesce(nullif(trim("project_tag"), ''), trim("account_id"))""",
        "api_key": 'trim("caller")',
        "day": utc_day('"timestamp"'),
        "time_slot": utc_slot('"timestamp"'),
        "size_basis": "'request'",
        "requests": "1",
        "requests_known": "1",
        "input_tokens": '"input_tokens"',
        "cache_read_tokens": '"cache_read_tokens"',
        "cache_write_tokens": '"cache_write_tokens"',
        "output_tokens": '"output_tokens"',
    },
    skip_when=(
        (""""schema_type" <> 'ModelInvocationLog'""", "not a model invocation record"),
        (""""error_code" <> ''""", "the invocation failed (errorCode set, no usage)"),
    ),
    reject_when=(
        ('"timestamp" IS NULL', "record without a timestamp", "timestamp"),
        (""""model_id" = ''""", "record without a modelId", "modelId"),
    ),
    example_header='{"schemaType":"ModelInvocationLog","schemaVersion":"1.0","timestamp":"…","accountId":"…",'
    '"identity":{"arn":"…"},"region":"us-east-1","requestId":"…","operation":"Converse","modelId":"…",'
    '"input":{"inputTokenCount":…},"output":{"outputTokenCount":…}}',
)
