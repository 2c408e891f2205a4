"""Anthropic Message Batches results: succeeded requests at batch prices on the day given with --batch-date."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from tests.conftest import AS_OF, BATCH_DATE, SAMPLES
from tests.test_importer_anthropic_message_jsonl import expected_usage, ours

SAMPLE = SAMPLES / "anthropic_batch_results_jsonl" / "msgbatch_013Zva2CMHLNnXjNJJKqJ2EF_results.jsonl"
NO_TIME = "batch results carry no time: give the batch's day with --batch-date YYYY-MM-DD"


def _audit(*paths: Path, dates: tuple[str, ...] = (BATCH_DATE.isoformat(),)):  # type: ignore[no-untyped-def]
    options = AuditOptions(inputs=paths, as_of=AS_OF, candidates=("openai:gpt-5-mini",), batch_dates=dates)
    return run_audit(options)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_succeeded_requests_equal_genai_prices_at_batch_prices_on_the_given_day() -> None:
    lines = _lines(SAMPLE)
    on_the_day = datetime(BATCH_DATE.year, BATCH_DATE.month, BATCH_DATE.day, tzinfo=UTC)
    succeeded = [(x["result"]["message"], on_the_day, "batch") for x in lines if x["result"]["type"] == "succeeded"]
    tokens, cost = expected_usage(succeeded)
    result = _audit(SAMPLE)
    assert ours(result) == tokens
    assert {u.model_raw: u.list_cost for u in result.usage} == {m: c.quantize(Decimal("1e-9")) for m, c in cost.items()}
    entry = result.inputs[0]
    assert (entry.rows_read, entry.rows_used, entry.rows_skipped, entry.rows_rejected) == (9, 6, 3, 0)
    assert sorted(entry.skipped_reasons) == [
        "the batch expired before this request ran, not billed",
        "the batch was canceled before this request ran, not billed",
        "the request errored (result type errored), not billed",
    ]
    assert (entry.period_start, entry.period_end) == (BATCH_DATE, BATCH_DATE)
    assert any("counted on 2026-10-20, the day given with --batch-date" in note for note in result.notes)
    # A request above 200k input tokens is in the sample: its long-context tier is priced per request.
    sizes = [m["usage"]["input_tokens"] + m["usage"]["cache_read_input_tokens"] for m, _, _ in succeeded]
    assert max(sizes) > 200_000


def test_without_a_batch_date_succeeded_lines_are_rejected_saying_why() -> None:
    entry = _audit(SAMPLE, dates=()).inputs[0]
    succeeded = [i for i, x in enumerate(_lines(SAMPLE), start=1) if x["result"]["type"] == "succeeded"]
    assert (entry.rows_used, entry.rows_skipped, entry.rows_rejected) == (0, 3, len(succeeded))
    assert [(r.line, r.column, r.reason) for r in entry.rejected] == [(i, "result", NO_TIME) for i in succeeded]


def test_each_results_file_can_have_its_own_day(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    other = tmp_path / "msgbatch_01Other_results.jsonl"
    # Another batch: the same custom ids (they are unique within a batch only), other messages.
    lines = SAMPLE.read_text(encoding="utf-8").replace('"id":"msg_01', '"id":"msg_02')
    other.write_text(lines, encoding="utf-8")
    result = _audit(SAMPLE, other, dates=("2026-10-20", f"{other.name}=2026-11-03"))
    assert {i.path: (i.period_start, i.period_end) for i in result.inputs} == {
        str(SAMPLE): (date(2026, 10, 20), date(2026, 10, 20)),
        str(other): (date(2026, 11, 3), date(2026, 11, 3)),
    }
    assert {m.month for m in result.usage_by_month} == {"2026-10", "2026-11"}
    assert sum(u.requests or 0 for u in result.usage) == 12
    unknown = run_cli(str(SAMPLE), "--as-of", AS_OF.isoformat(), "--batch-date", "nope.jsonl=2026-10-20", "--json", "-")
    assert unknown.status == 2 and "nope.jsonl" in unknown.err
    bad = run_cli(str(SAMPLE), "--as-of", AS_OF.isoformat(), "--batch-date", "20 Oct", "--json", "-")
    assert bad.status == 2 and "--batch-date 20 Oct is not [FILE=]YYYY-MM-DD" in bad.err


def test_the_same_results_file_twice_counts_once(tmp_path: Path) -> None:
    copy = tmp_path / "results-copy.jsonl"
    copy.write_bytes(SAMPLE.read_bytes())
    assert ours(_audit(SAMPLE, copy)) == ours(_audit(SAMPLE))


def test_results_are_detected_from_their_content(tmp_path: Path) -> None:
    copy = tmp_path / "download.txt"
    copy.write_bytes(SAMPLE.read_bytes())
    assert _audit(copy).inputs[0].format == "anthropic_batch_results_jsonl"


def test_a_broken_line_is_rejected_with_its_number_and_the_rest_counts(tmp_path: Path) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    broken = [*lines[:4], '{"custom_id":"ticket-10299","result":{"type":"succeeded","message":{"id":"msg_', *lines[4:]]
    path = tmp_path / "msgbatch_01Broken_results.jsonl"
    path.write_text("\n".join(broken) + "\n", encoding="utf-8")
    result = _audit(path)
    entry = result.inputs[0]
    assert (entry.rows_read, entry.rows_used, entry.rows_rejected) == (len(lines) + 1, 6, 1)
    assert [(r.line, r.reason) for r in entry.rejected] == [(5, "not valid JSON")]
    assert ours(result) == ours(_audit(SAMPLE))


def test_a_broken_line_is_found_on_its_own_files_day_beside_other_files(tmp_path: Path) -> None:
    """Rejected lines are numbered by reading the file again with its own given day, whichever file was read last."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    broken = [*lines[:4], '{"custom_id":"ticket-10299","result":{"type":"succeeded","message":{"id":"msg_', *lines[4:]]
    path = tmp_path / "a_msgbatch_01Broken_results.jsonl"
    path.write_text("\n".join(broken) + "\n", encoding="utf-8")
    other = SAMPLES / "openrouter_logs_csv"  # read after it, with no day given
    result = _audit(path, other, dates=(f"{path.name}=2026-10-20",))
    entry = next(i for i in result.inputs if i.path == str(path))
    assert (entry.rows_read, entry.rows_used, entry.rows_rejected) == (len(lines) + 1, 6, 1)
    assert [(r.line, r.reason) for r in entry.rejected] == [(5, "not valid JSON")]
