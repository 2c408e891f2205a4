"""Anthropic Message Batches results (`GET /v1/messages/batches/{id}/results`, JSON lines, or .gz).

How it counts: one line per request of the batch, `{"custom_id": …, "result": {"type": …, "message": {…}}}`.
A `succeeded` result holds the Message, whose usage counts as in `anthropic_message_jsonl`: `input_tokens` is
uncached input only, cache reads and writes are separate (writes split into 5-minute and 1-hour where the
usage has `cache_creation`), `output_tokens` includes thinking. Every request was served by the Batches API
at batch prices (half of the list price), whatever else the line says: the service tier is `batch`.
`errored`, `canceled` and `expired` results were not billed and are skipped with their type.

The time: the results carry none (the Message has no time, its id holds none, and the file does not name
its batch), and the ledger cannot hold usage without a day: every price in the catalog is a price at a
date, and reports are by month. So the day is given by the user, `--batch-date YYYY-MM-DD` for every
results file of the run or `--batch-date FILE=YYYY-MM-DD` for one (the batch's `created_at` or `ended_at`,
shown in the Console and in the batch object; a batch ends within 24 hours). Without it, every succeeded
line is rejected with a reason saying so, never dated by guess. A given day has no time of day.
"""

from __future__ import annotations

from auditor.importers.anthropic_message_jsonl import MESSAGE_COUNTS, MESSAGE_REJECTS, MESSAGE_TOKENS, message_fields
from auditor.importers.base import Importer
from auditor.importers.engine import given_day

IMPORTER = Importer(
    name="anthropic_batch_results_jsonl",
    title="Anthropic Message Batches results (msgbatch_<id>_results.jsonl)",
    kind="requests",
    split_log=True,
    required_columns=("custom_id", "result"),
    optional_columns=(),
    json_fields={
        "custom_id": "$.custom_id",
        "result_type": "$.result.type",
        **message_fields("$.result.message"),
    },
    count_columns=MESSAGE_COUNTS,
    money_columns=(),
    # The custom id is unique within one batch only; the message id is unique.
    record_key=("id",),
    day_option="--batch-date",
    ledger={
        "provider": "'anthropic'",
        "model_raw": 'trim("model")',
        "service_tier": "'batch'",
        "day": given_day(),
        "size_basis": "'request'",
        "requests": "1",
        "requests_known": "1",
        **MESSAGE_TOKENS,
    },
    skip_when=(
        (""""result_type" = 'errored'""", "the request errored (result type errored), not billed"),
        (""""result_type" = 'canceled'""", "the batch was canceled before this request ran, not billed"),
        (""""result_type" = 'expired'""", "the batch expired before this request ran, not billed"),
        (""""result_type" <> 'succeeded'""", "not a succeeded result"),
    ),
    reject_when=(
        *MESSAGE_REJECTS,
        (
            f"{given_day()} IS NULL",
            "batch results carry no time: give the batch's day with --batch-date YYYY-MM-DD",
            "result",
        ),
    ),
    example_header='{"custom_id":"…","result":{"type":"succeeded","message":{"id":"msg_…","type":"message",'
    '"model":"claude-sonnet-4-5-20250929",…,"usage":{…}}}}',
)
