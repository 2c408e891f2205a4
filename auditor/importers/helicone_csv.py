"""Helicone request export: the CSV of the `@helicone/export` CLI (`response_id,response_created_at,…`).

How it counts: one row per request proxied by Helicone (the CLI asks for no Helicone cache hits), dated
when the request was made; requests whose `response_status` is not 2xx are skipped. `prompt_tokens`
and `completion_tokens` are the vendor's usage as Helicone stored it, not normalised: OpenAI-style APIs
count cached tokens inside the prompt and reasoning inside the completion; Anthropic counts cache reads
and writes outside the prompt. The CLI export has no cache, reasoning or provider column: its prompt
tokens all count as uncached input (an upper bound for cached OpenAI requests; Anthropic's cache tokens
are not in the file at all), and the provider is the model's maker or host, read from its name.
`provider`, `prompt_cache_read_tokens` and `prompt_cache_write_tokens` (the query API's names) are used
when a file has them.

`cost` (`cost_usd` in older CLI versions; often empty) is Helicone's estimate from its own price table,
not a charge: the vendor bills the usage. It is kept as the source's list price, never as `billed`.
"""

from __future__ import annotations

from auditor.importers.base import Importer
from auditor.importers.engine import MONEY_TYPE, literal, utc_day, utc_slot

# Helicone's provider names (upper case) that differ from the catalog's ids; others are lower-cased.
_PROVIDER_IDS = {
    "AWS": "aws",
    "BEDROCK": "aws",
    "VERTEX": "google",
    "GOOGLE": "google",
    "TOGETHER": "together",
    "TOGETHERAI": "together",
    "X": "x-ai",
    "XAI": "x-ai",
}

# The CLI export names no provider: the model's maker is taken from its name (first match), the way
# the catalog itself matches bare model names. A model served by another host under that host's own id
# is the host's; any other name has no provider, `unknown` (unpriced, never guessed).
_MAKERS = (
    # Bedrock: `vendor.model`, after a cross-region prefix (`us.anthropic.claude-…`).
    (
        r"^((us|eu|apac|global|jp|au|us-gov)\.)?(anthropic|amazon|meta|mistral|cohere|ai21|deepseek|openai|qwen)\.",
        "aws",
    ),
    # Vertex AI names Claude models with `@date`.
    (r"claude.*@", "google"),
    (r"claude", "anthropic"),
    (r"^(gpt-|chatgpt-|o[134]($|-)|text-embedding-|whisper-|tts-|dall-e-|ft:gpt-)", "openai"),
    (r"gemini", "google"),
    (r"^deepseek", "deepseek"),
    (r"^((mi|code|dev|magi|mini)stral|mixtral|pixtral|voxtral|open-mi[sx]tral)", "mistral"),
    (r"grok", "x-ai"),
    (r"^command-", "cohere"),
)
MAKER_FROM_MODEL = (
    "CASE "
    + " ".join(f"""WHEN regexp_matches(lower("model"), {literal(rx)}) THEN {literal(p)}""" for rx, p in _MAKERS)
    + " ELSE 'unknown' END"
)
_PROVIDER_RAW = 'upper(trim("provider"))'
PROVIDER = (
    f"""CASE WHEN {_PROVIDER_RAW} = '' THEN {MAKER_FROM_MODEL} """
    + " ".join(f"WHEN {_PROVIDER_RAW} = {literal(name)} THEN {literal(pid)}" for name, pid in _PROVIDER_IDS.items())
    + ' ELSE lower(trim("provider")) END'
)

ESTIMATE = f"""coalesce(TRY_CAST(nullif(trim("cost"), '') AS {MONEY_TYPE}),
                        TRY_CAST(nullif(trim("cost_usd"), '') AS {MONEY_TYPE}))"""

# Anthropic's APIs (wherever hosted) count cache reads and writes outside the prompt; the others inside.
_CACHE_OUTSIDE_PROMPT = "contains(lower(\"model\"), 'claude')"
CACHE_READ = '"prompt_cache_read_tokens"'
CACHE_WRITE = '"prompt_cache_write_tokens"'
INPUT = f"""CASE WHEN {_CACHE_OUTSIDE_PROMPT} THEN "prompt_tokens"
               ELSE "prompt_tokens" - {CACHE_READ} - {CACHE_WRITE} END"""

# The CLI writes an object cell's JSON with its quotes doubled twice (`JSON.stringify(…).replace(/"/g,
# '""')` and again when quoting the cell), so the cell reads back as `{""Environment"":""prod""}`:
# undone when the cell is not JSON as it stands.
_PROPERTIES_JSON = """CASE WHEN json_valid("request_properties") THEN "request_properties"
                          ELSE replace("request_properties", '""', '"') END"""
_PROPERTIES = f"""map_entries(TRY(from_json({_PROPERTIES_JSON}, '"MAP(VARCHAR, VARCHAR)"')))"""


def _property(*names: str) -> str:
    """SQL: the value of the first custom property with one of these names (any case), NULL if none."""
    wanted = ", ".join(literal(n) for n in names)
    return f"list_filter({_PROPERTIES}, lambda e: lower(e.key) IN ({wanted}))[1].value"


_NOT_READ = ("response_id", "response_created_at", "request_body", "request_user_id", "latency")

IMPORTER = Importer(
    name="helicone_csv",
    title="Helicone request export CSV (npx @helicone/export --format csv: response_id,response_created_at,…)",
    kind="requests",
    required_columns=(
        "response_id",
        "response_created_at",
        "response_status",
        "request_created_at",
        "model",
        "prompt_tokens",
        "completion_tokens",
    ),
    optional_columns=(
        "request_properties",
        "cost",
        "cost_usd",
        "provider",
        "prompt_cache_read_tokens",
        "prompt_cache_write_tokens",
        *_NOT_READ,
    ),
    record_key=("response_id",),
    unused_columns=_NOT_READ,
    count_columns=("prompt_tokens", "completion_tokens", "prompt_cache_read_tokens", "prompt_cache_write_tokens"),
    # The estimate is read as text: it is information only, so a value that is not a number leaves the
    # request's tokens usable (a money column would reject the row), and the format is not taken for
    # one that states charges.
    money_columns=(),
    time_columns=("request_created_at",),
    ledger={
        "provider": PROVIDER,
        "model_raw": '"model"',
        # Custom properties (`Helicone-Property-*` headers) are free-form: a project or app property
        # names the project when there is one.
        "project": f"coalesce({_property('project')}, {_property('app', 'appname', 'application')}, '')",
        "day": utc_day('"request_created_at"'),
        "time_slot": utc_slot('"request_created_at"'),
        "size_basis": "'request'",
        "requests": "1",
        "requests_known": "1",
        "input_tokens": INPUT,
        "cache_read_tokens": CACHE_READ,
        "cache_write_tokens": CACHE_WRITE,
        "output_tokens": '"completion_tokens"',
        "source_list": f"coalesce({ESTIMATE}, 0)",
        "source_list_present": f"{ESTIMATE} IS NOT NULL",
    },
    skip_when=(
        (
            """coalesce(TRY_CAST("response_status" AS INTEGER) NOT BETWEEN 200 AND 299, true)""",
            "failed request (response_status is not 2xx)",
        ),
        (
            """"model" = '' AND "prompt_tokens" + "completion_tokens" = 0""",
            "not a model call (no model, no tokens)",
        ),
    ),
    reject_when=(
        ('"request_created_at" IS NULL', "request without a time", "request_created_at"),
        (""""model" = ''""", "request without a model", "model"),
        (
            f'NOT {_CACHE_OUTSIDE_PROMPT} AND {CACHE_READ} + {CACHE_WRITE} > "prompt_tokens"',
            "cache tokens exceed prompt_tokens",
            "prompt_cache_read_tokens",
        ),
    ),
    example_header=(
        "response_id,response_created_at,response_status,request_created_at,request_body,request_properties,"
        "request_user_id,model,prompt_tokens,completion_tokens,latency,cost"
    ),
)
