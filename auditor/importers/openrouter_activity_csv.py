"""OpenRouter Activity page export (openrouter.ai/activity → Export: `Date,Slug,Usage,BYOK Usage,…`).

How it counts: one row per time bucket × model (`Slug`), every field double-quoted. `Prompt Tokens`
are all input (the export has no cached column, so cache reads are counted, and listed, as input);
`Reasoning Tokens` are inside `Completion Tokens`. `Usage` (USD credits) is what OpenRouter billed;
`BYOK Usage` is OpenRouter's estimate of bring-your-own-key spend, billed by the upstream vendor.
`Date` (`YYYY-MM-DD HH:MM:SS`, taken as UTC) starts the bucket: minutes, hours, days or months.
"""

from __future__ import annotations

from auditor.importers.base import Importer
from auditor.importers.engine import utc_day, utc_slot

# Whether the export is grouped by day (or month) or by hour (or minute) is not in the file. A bucket
# starting after midnight is finer than a day and keeps its time of day; one starting at midnight may be
# a whole day, so it gets none (-1, prices averaged over the day) — also the midnight hour of an hourly export.
_SLOT = f"""CASE WHEN epoch_us("Date") % 86400000000 <> 0 THEN {utc_slot('"Date"')} ELSE -1 END"""

IMPORTER = Importer(
    name="openrouter_activity_csv",
    title="OpenRouter Activity export (Date,Slug,Usage,BYOK Usage,Requests,…)",
    kind="usage",
    # It aggregates the requests of the logs export: a day in both is counted from one.
    family="openrouter_requests",
    required_columns=("Date", "Slug", "Usage", "Requests", "Prompt Tokens", "Completion Tokens"),
    record_key=("Date", "Slug"),
    optional_columns=("BYOK Usage", "Reasoning Tokens"),
    count_columns=("Requests", "Prompt Tokens", "Completion Tokens", "Reasoning Tokens"),
    money_columns=("Usage", "BYOK Usage"),
    time_columns=("Date",),
    ledger={
        "provider": "'openrouter'",
        # Grouped by API key or member, Slug would hold that name (unconfirmed): it then shows as unpriced.
        "model_raw": 'trim("Slug")',
        "day": utc_day('"Date"'),
        "time_slot": _SLOT,
        "size_basis": "'average'",
        "requests": '"Requests"',
        "requests_known": "1",
        "input_tokens": '"Prompt Tokens"',
        "output_tokens": '"Completion Tokens"',
        "reasoning_tokens": '"Reasoning Tokens"',
        "billed": '"Usage"',
        "billed_present": '"Usage__present"',
        "byok_upstream": '"BYOK Usage"',
    },
    reject_when=(
        ('"Date" IS NULL', "row without a date", "Date"),
        ("""trim("Slug") = ''""", "row without a model (Slug)", "Slug"),
        ('NOT "Usage__present"', "row has no Usage", "Usage"),
        ('"Reasoning Tokens" > "Completion Tokens"', "Reasoning Tokens exceed Completion Tokens", "Reasoning Tokens"),
    ),
    example_header="Date,Slug,Usage,BYOK Usage,Requests,Prompt Tokens,Completion Tokens,Reasoning Tokens",
)
