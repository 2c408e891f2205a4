"""Codex CLI rollout logs: token totals equal what the ccusage tool reports for the same files.

`tests/fixtures/ccusage/codex_daily_samples.json` is the output of ccusage 20.0.24 (npm, with its
linux-x64 binary) on a copy of `samples/codex_cli_jsonl/` laid out as Codex does
(`sessions/YYYY/MM/DD/rollout-….jsonl`); `codex_daily_edge_cases.json` is its output on
`codex_edge_cases.jsonl`, a session holding the rarer shapes ccusage handles (see docs/codex-cli.md).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

import auditor.ingest
from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from tests.conftest import AS_OF, FIXTURES, SAMPLES, ingest_one

FOLDER = SAMPLES / "codex_cli_jsonl"
EDGE_CASES = FIXTURES / "ccusage" / "codex_edge_cases.jsonl"
TOKENS = ("inputTokens", "cacheReadTokens", "outputTokens", "reasoningOutputTokens")


def _theirs(report_name: str) -> dict[tuple[str, str], tuple[int, ...]]:
    """ccusage's daily report (dates in UTC): (day, model) → input (without cache reads), cache reads,
    output (with reasoning), reasoning."""
    report = json.loads((FIXTURES / "ccusage" / report_name).read_text(encoding="utf-8"))
    return {
        (day["date"], model): tuple(usage[k] for k in TOKENS)
        for day in report["daily"]
        for model, usage in day["models"].items()
    }


def _ours(*paths: Path) -> dict[tuple[str, str], tuple[int, ...]]:
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for path in paths:
        _, ingested = ingest_one(path)
        for row in ingested.usage.to_dict("records"):
            totals = sums[(str(row["day"]), str(row["model_raw"]))]
            for i, column in enumerate(("input_tokens", "cache_read_tokens", "output_tokens", "reasoning_tokens")):
                totals[i] += int(row[column])
    return {key: tuple(t) for key, t in sums.items()}


def test_token_totals_equal_ccusage() -> None:
    assert _ours(*sorted(FOLDER.glob("*.jsonl"))) == _theirs("codex_daily_samples.json")


def test_edge_cases_equal_ccusage_and_every_line_is_accounted_for() -> None:
    """A token count before any turn context (gpt-5), after `info: null`, repeating the running total of the
    one before it (skipped), without `last_token_usage` (the total's growth), after a running total that
    fell (a resumed session), without `total_token_usage`, with zero new tokens, without a timestamp (it
    does not move the running total), naming its own model, with cached above input, and a cut line."""
    assert _ours(EDGE_CASES) == _theirs("codex_daily_edge_cases.json")
    _, ingested = ingest_one(EDGE_CASES)
    account = ingested.account
    assert (account.rows_read, account.rows_used, account.rows_skipped, account.rows_rejected) == (17, 9, 6, 2)
    assert [(r.line, r.reason) for r in account.rejected] == [
        (11, "token count without a timestamp"),
        (16, "not valid JSON"),
    ]


def test_lines_carried_across_the_relocation_chunks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Rejected lines are found again in chunks of the file; values carried from earlier lines still see the
    whole file. Here a repeated token count without a timestamp (skipped: it repeats the running total)
    opens a chunk, and only the line without a timestamp that is not a repeat is rejected."""
    lines = EDGE_CASES.read_text(encoding="utf-8").splitlines()[:5]  # meta, count, turn context, null, repeat
    repeat = json.loads(lines[4])
    del repeat["timestamp"]
    new = json.loads(lines[1])
    del new["timestamp"]
    new["payload"]["info"]["total_token_usage"]["input_tokens"] += 1
    path = tmp_path / "rollout-2026-10-20T09-00-00-chunks.jsonl"
    body = [*lines[:4], json.dumps(repeat, separators=(",", ":")), json.dumps(new, separators=(",", ":"))]
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    monkeypatch.setattr(auditor.ingest, "_LOCATE_CHUNK_ROWS", 4)
    _, ingested = ingest_one(path)
    account = ingested.account
    assert account.skipped_reasons["the running total of the token count before it, written again (no new call)"] == 1
    assert account.rows_rejected == 1
    assert [(r.line, r.reason) for r in account.rejected] == [(6, "token count without a timestamp")]


def test_the_model_and_project_carry_forward_in_line_order(tmp_path: Path) -> None:
    """A session of more lines than one DuckDB vector (2,048): each token count takes the model and working
    directory of the latest turn context before it, computed here line by line."""
    lines: list[dict[str, object]] = []
    expected: dict[tuple[str, str], int] = defaultdict(int)
    total = 0
    for turn in range(1500):
        model, cwd = f"gpt-5.{turn % 7}", f"/home/dev/p{turn % 3}"
        lines.append(
            {"timestamp": "2026-10-20T09:00:00.000Z", "type": "turn_context", "payload": {"cwd": cwd, "model": model}}
        )
        for call in range(1, 1 + turn % 4):
            total += call
            usage = {"input_tokens": call, "cached_input_tokens": 0, "output_tokens": 0, "total_tokens": call}
            info = {"total_token_usage": {**usage, "input_tokens": total}, "last_token_usage": usage}
            lines.append(
                {
                    "timestamp": "2026-10-20T09:00:01.000Z",
                    "type": "event_msg",
                    "payload": {"type": "token_count", "info": info},
                }
            )
            expected[(model, cwd)] += call
    path = tmp_path / "rollout-2026-10-20T09-00-00-long.jsonl"
    path.write_text("\n".join(json.dumps(line, separators=(",", ":")) for line in lines) + "\n", encoding="utf-8")
    _, ingested = ingest_one(path)
    ours = ingested.usage.groupby(["model_raw", "project"])["input_tokens"].sum()
    assert {key: int(value) for key, value in ours.items()} == dict(expected)


def test_a_rollout_is_detected_from_its_keys_not_its_name(tmp_path: Path) -> None:
    session = next(FOLDER.glob("rollout-2026-10-14*.jsonl"))
    path = tmp_path / "export.txt"
    path.write_bytes(session.read_bytes())
    result = run_audit(AuditOptions(inputs=(path,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    assert result.inputs[0].format == "codex_cli_jsonl"
    assert {u.model_raw for u in result.usage} == {"gpt-5.3-codex", "gpt-5.4"}


def test_a_session_log_of_megabytes_of_long_lines_is_read_within_the_memory_limit(tmp_path: Path) -> None:
    """Real sessions hold long lines (tool output, encrypted reasoning): each line is parsed once, not once per
    field, or a few MB of them exhausted the scan's memory limit."""
    session = next(FOLDER.glob("rollout-2026-10-14*.jsonl")).read_text(encoding="utf-8").splitlines()
    padding = json.dumps(
        {"timestamp": "2026-10-14T10:02:44.395Z", "type": "response_item", "payload": {"type": "function_call_output",
         "call_id": "call_R3xk1Ls9Qe2PvN7dWm4TcY0b", "output": "x" * 2000}}, separators=(",", ":"),
    )  # fmt: skip
    path = tmp_path / "rollout-2026-10-14T12-02-11-long-lines.jsonl"
    path.write_text("\n".join([*session[:9], *[padding] * 3000, *session[9:]]) + "\n", encoding="utf-8")
    assert path.stat().st_size > 6_000_000
    assert _ours(path) == _ours(next(FOLDER.glob("rollout-2026-10-14*.jsonl")))


def test_a_copied_rollout_counts_once(tmp_path: Path) -> None:
    session = next(FOLDER.glob("rollout-2026-10-14*.jsonl"))
    (tmp_path / session.name).write_bytes(session.read_bytes())
    (tmp_path / "rollout-2026-10-15T00-00-00-copy.jsonl").write_bytes(session.read_bytes())
    result = run_audit(AuditOptions(inputs=(tmp_path,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    assert {u.model_raw: (u.input_tokens, u.cache_read_tokens) for u in result.usage} == {
        model: (input_tokens, cache_reads) for (_, model), (input_tokens, cache_reads, *_) in _ours(session).items()
    }
