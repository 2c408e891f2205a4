"""Claude Code session logs: token totals equal what the ccusage tool reports for the same folder.

`tests/fixtures/ccusage/daily_samples.json` is the output of ccusage 18.0.11 (npm), run on a copy of
`samples/claude_code_jsonl/` laid out as Claude Code does (see docs/claude-code.md for the command).
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.result import money
from tests.conftest import AS_OF, FIXTURES, SAMPLES

FOLDER = SAMPLES / "claude_code_jsonl"


def _ours(folder: Path) -> dict[str, tuple[int, int, int, int]]:
    result = run_audit(AuditOptions(inputs=(folder,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    return {
        u.model_raw: (
            u.input_tokens,
            u.output_tokens,
            u.cache_write_tokens + u.cache_write_1h_tokens,
            u.cache_read_tokens,
        )
        for u in result.usage
    }


def test_token_totals_equal_ccusage() -> None:
    report = json.loads((FIXTURES / "ccusage" / "daily_samples.json").read_text(encoding="utf-8"))
    theirs: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for day in report["daily"]:
        for m in day["modelBreakdowns"]:
            totals = theirs[m["modelName"]]
            for i, key in enumerate(("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")):
                totals[i] += m[key]
    assert _ours(FOLDER) == {model: tuple(t) for model, t in theirs.items()}


def test_repeated_lines_and_resumed_sessions_count_once(tmp_path: Path) -> None:
    session = next(FOLDER.glob("0c4b*.jsonl"))
    (tmp_path / session.name).write_bytes(session.read_bytes())
    (tmp_path / "copy-of-the-session.jsonl").write_bytes(session.read_bytes())
    assert _ours(tmp_path) == _ours(session)


def test_a_broken_line_is_rejected_with_its_number_and_the_rest_counts(tmp_path: Path) -> None:
    session = next(FOLDER.glob("0c4b*.jsonl"))
    lines = session.read_text(encoding="utf-8").splitlines()
    broken = [*lines[:3], '{"type":"assistant","message":{"id":"msg_cut', *lines[3:]]
    path = tmp_path / session.name
    path.write_text("\n".join(broken) + "\n", encoding="utf-8")
    result = run_audit(AuditOptions(inputs=(path,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    entry = result.inputs[0]
    assert (entry.rows_read, entry.rows_rejected) == (len(lines) + 1, 1)
    assert [(r.line, r.reason) for r in entry.rejected] == [(4, "not valid JSON")]
    assert {u.model_raw: u.output_tokens for u in result.usage} == {
        model: totals[1] for model, totals in _ours(session).items()
    }


def test_a_session_log_is_detected_from_its_keys_not_its_name(tmp_path: Path) -> None:
    session = next(FOLDER.glob("0c4b*.jsonl"))
    path = tmp_path / "export.txt"
    path.write_bytes(session.read_bytes())
    result = run_audit(AuditOptions(inputs=(path,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    assert result.inputs[0].format == "claude_code_jsonl"


def test_one_hour_cache_writes_cost_the_one_hour_price(tmp_path: Path) -> None:
    # One turn of claude-sonnet-4-5 whose 3,000 cache-write tokens are all 1-hour writes. Anthropic's prices per MTok
    # (anthropic.com/pricing, under 200k prompt tokens): input $3, output $15, cache read $0.30, 5-minute write
    # $3.75, 1-hour write $6. Priced as 5-minute writes the turn would cost $0.02028, not $0.02703.
    usage = {
        "input_tokens": 10,
        "cache_creation_input_tokens": 3_000,
        "cache_read_input_tokens": 25_000,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 3_000},
        "output_tokens": 100,
        "service_tier": "standard",
    }
    message = {"id": "msg_01Hh", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
               "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn", "stop_sequence": None,
               "usage": usage}  # fmt: skip
    line = {"parentUuid": "p-1", "isSidechain": False, "userType": "external", "cwd": "/home/dev/app",
            "sessionId": "5b1f0c2e-0d4a-4c3e-9f1a-7e2b6c8d9a01", "version": "2.0.74", "gitBranch": "main",
            "message": message, "requestId": "req_011Hh", "type": "assistant", "uuid": "u-1",
            "timestamp": "2026-10-06T09:12:09.441Z"}  # fmt: skip
    session = tmp_path / "5b1f0c2e-0d4a-4c3e-9f1a-7e2b6c8d9a01.jsonl"
    session.write_text(json.dumps(line, separators=(",", ":")) + "\n", encoding="utf-8")
    (row,) = run_audit(AuditOptions(inputs=(session,), as_of=AS_OF, candidates=("openai:gpt-5-mini",))).usage
    assert (row.cache_write_tokens, row.cache_write_1h_tokens, row.cache_read_tokens) == (0, 3_000, 25_000)
    expected = (10 * Decimal(3) + 100 * Decimal(15) + 25_000 * Decimal("0.30") + 3_000 * Decimal(6)) / 1_000_000
    assert row.list_cost == money(expected)
