"""Overlapping exports: a day present in several files of one format is counted once, from one file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from auditor.options import AuditOptions
from auditor.overlaps import plan_overlaps
from auditor.pipeline import run_audit
from tests.conftest import AS_OF, SAMPLES

USAGE = SAMPLES / "anthropic_usage_csv" / "usage-2026-10.csv"
COST = SAMPLES / "anthropic_cost_csv" / "cost-2026-10.csv"
TOKEN_FIELDS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens", "output_tokens")


def _split(path: Path, target: Path, first_day: str, last_day: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines[1:] if first_day <= line[:10] <= last_day]
    target.write_text("\n".join([lines[0], *kept]) + "\n", encoding="utf-8")


def _tokens(result) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    return tuple(getattr(result.totals, f) for f in TOKEN_FIELDS)


def test_usage_export_cost_export_and_a_half_overlapping_usage_export(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "usage-2026-10.csv").write_bytes(USAGE.read_bytes())
    (folder / "cost-2026-10.csv").write_bytes(COST.read_bytes())
    _split(USAGE, folder / "usage-2026-10-08-to-14.csv", "2026-10-08", "2026-10-14")  # overlaps half

    single = run_audit(AuditOptions(inputs=(USAGE,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    together = run_audit(AuditOptions(inputs=(folder,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))

    assert _tokens(together) == _tokens(single)
    assert together.scenarios[0].projected_cost == single.scenarios[0].projected_cost
    # The cost export's charges are there beside the tokens.
    cost_only = run_audit(AuditOptions(inputs=(COST,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    assert together.totals.billed_cost == cost_only.totals.billed_cost
    # Nothing is lost: the overlapping file's rows are skipped, each with the file that counts them.
    partial = next(i for i in together.inputs if i.path.endswith("usage-2026-10-08-to-14.csv"))
    assert partial.rows_skipped == partial.rows_read > 0
    assert set(partial.skipped_reasons) == {f"the same record is counted from {folder / 'usage-2026-10.csv'}"}


def test_the_file_holding_more_of_a_day_counts_it(tmp_path: Path) -> None:
    log = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
    lines = log.read_text(encoding="utf-8").splitlines()
    day_rows = [line for line in lines[1:] if ",2026-10-05 " in line]
    assert len(day_rows) >= 2
    partial = tmp_path / "a-partial.csv"
    partial.write_text("\n".join([lines[0], day_rows[0]]) + "\n", encoding="utf-8")
    (tmp_path / "b-full.csv").write_bytes(log.read_bytes())
    both = run_audit(AuditOptions(inputs=(tmp_path,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    alone = run_audit(AuditOptions(inputs=(log,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    assert _tokens(both) == _tokens(alone)
    assert both.totals.billed_cost == alone.totals.billed_cost


def test_a_request_log_and_its_aggregated_export_count_each_day_once(tmp_path: Path) -> None:
    """OpenRouter's Activity export aggregates the requests of its logs export: a day in both counts once."""
    log = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
    rows = log.read_text(encoding="utf-8").splitlines()[1:]
    by_day: dict[str, list[list[str]]] = {}
    for row in rows:
        fields = row.split(",")
        by_day.setdefault(fields[1][:10], []).append(fields)
    lines = ['"Date","Slug","Usage","BYOK Usage","Requests","Prompt Tokens","Completion Tokens","Reasoning Tokens"']
    for day, fields_of_day in sorted(by_day.items()):
        for slug in sorted({f[11] for f in fields_of_day}):
            of = [f for f in fields_of_day if f[11] == slug]
            usage = sum(float(f[2]) for f in of)
            lines.append(
                f'"{day} 00:00:00","{slug}","{usage:.6f}","0","{len(of)}","{sum(int(f[7]) for f in of)}",'
                f'"{sum(int(f[8]) for f in of)}","{sum(int(f[9]) for f in of)}"'
            )
    (tmp_path / "activity.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "logs.csv").write_bytes(log.read_bytes())
    both = run_audit(AuditOptions(inputs=(tmp_path,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    logs_only = run_audit(AuditOptions(inputs=(log,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    assert _tokens(both) == _tokens(logs_only)
    activity = next(i for i in both.inputs if i.path.endswith("activity.csv"))
    assert activity.rows_skipped == activity.rows_read


def test_two_accounts_exports_of_the_same_days_both_count(tmp_path: Path) -> None:
    """Two organisations' usage exports cover the same days with different records: nothing is skipped."""
    usage = SAMPLES / "openai_usage_csv" / "completions_usage_2026-10-01_2026-10-14.csv"
    text = usage.read_text(encoding="utf-8")
    (tmp_path / "org-a.csv").write_text(text, encoding="utf-8")
    (tmp_path / "org-b.csv").write_text(text.replace("proj_", "projB_").replace("key_", "keyB_"), encoding="utf-8")
    both = run_audit(AuditOptions(inputs=(tmp_path,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    one = run_audit(AuditOptions(inputs=(usage,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    assert _tokens(both) == tuple(2 * t for t in _tokens(one))
    assert all(i.rows_used == one.inputs[0].rows_used for i in both.inputs)


def test_a_revised_re_export_of_a_bucket_counts_once(tmp_path: Path) -> None:
    """An export taken mid-day holds the last day's buckets half full; a later export holds them full.
    The same buckets (same record key) count once, from the fuller file."""
    usage = SAMPLES / "openai_usage_csv" / "completions_usage_2026-10-01_2026-10-14.csv"
    header, *rows = usage.read_text(encoding="utf-8").splitlines()
    columns = header.split(",")
    halved = []
    for row in rows:
        fields = row.split(",")
        if fields[2].startswith("2026-10-14") and fields[columns.index("model")]:
            for name in ("num_model_requests", "input_tokens", "output_tokens", "input_uncached_tokens"):
                value = float(fields[columns.index(name)])
                fields[columns.index(name)] = f"{float(int(value) // 2)}"
            for name in ("input_cached_tokens",):
                fields[columns.index(name)] = "0.0"
        halved.append(",".join(fields))
    (tmp_path / "taken-mid-day.csv").write_text("\n".join([header, *halved]) + "\n", encoding="utf-8")
    (tmp_path / "taken-later.csv").write_bytes(usage.read_bytes())
    both = run_audit(AuditOptions(inputs=(tmp_path,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    later = run_audit(AuditOptions(inputs=(usage,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    assert _tokens(both) == _tokens(later)
    mid_day = next(i for i in both.inputs if i.path.endswith("taken-mid-day.csv"))
    assert mid_day.rows_skipped == mid_day.rows_read  # every bucket is in the later file too


def test_a_cost_export_s_charges_sit_on_the_usage_export_s_model_line() -> None:
    """The Console cost export names models by display name (`Claude Sonnet 4.5`), the usage export by id:
    both are one catalog model, so one line holds its tokens and its charges, naming both files."""
    import csv
    from collections import defaultdict
    from decimal import Decimal

    result = run_audit(AuditOptions(inputs=(USAGE, COST), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    charged: dict[str, Decimal] = defaultdict(Decimal)
    with COST.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            charged[row["model"]] += Decimal(row["cost_usd"])
    lines = {u.model_raw: u for u in result.usage}
    assert set(lines) == {"claude-haiku-4-5-20251001", "claude-opus-4-6", "claude-sonnet-4-5-20250929"}
    sonnet = lines["claude-sonnet-4-5-20250929"]
    assert sonnet.also_written_as == ["Claude Sonnet 4.5"]
    assert sonnet.billed_cost == charged["Claude Sonnet 4.5"] and sonnet.input_tokens > 0
    assert (sonnet.token_files, sonnet.billed_files) == ([str(USAGE)], [str(COST)])
    assert sum((u.billed_cost or Decimal(0) for u in result.usage), Decimal(0)) == sum(charged.values())


def test_one_vendor_s_tokens_from_different_kinds_of_source_on_the_same_days_are_warned_about() -> None:
    """An AWS bill (here its FOCUS export) and Bedrock invocation logs of the same days may hold the same
    requests: the auditor cannot match them, so it says so (never silently counting twice)."""
    cur = SAMPLES / "focus_csv" / "focus-1.2-aws-2026-10.csv"
    logs = SAMPLES / "bedrock_invocation_jsonl"
    both = run_audit(AuditOptions(inputs=(cur, logs), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    (warning,) = [w for w in both.warnings if "several kinds of source" in w]
    assert warning.startswith("aws: tokens of 1 day(s) (2026-10-15)")
    assert "(bedrock_invocation_jsonl, focus_csv)" in warning
    alone = run_audit(AuditOptions(inputs=(cur,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    assert not [w for w in alone.warnings if "several kinds of source" in w]
    # Two exports of one format (one family) are matched record by record instead: no such warning.
    assert not [w for w in run_audit(AuditOptions(inputs=(USAGE, COST), as_of=AS_OF)).warnings if "several" in w]


def test_a_day_is_owned_by_the_file_with_the_most_of_it_summed_over_its_models() -> None:
    """The surveys' weights by day: each file's models' lines summed per day (a row without a day counts for none);
    the day goes to the file with the most, the other file of the same format leaving its records to it."""

    def survey(rows: list[tuple[str | None, int]]) -> pd.DataFrame:
        days = pd.array([d for d, _ in rows], dtype="str")
        return pd.DataFrame({"provider": "openai", "model_raw": "m", "day": days, "lines": [n for _, n in rows]})

    a = survey([("2026-10-01", 3), ("2026-10-02", 5), ("2026-10-01", 4), (None, 100)])  # 10-01: 7
    b = survey([("2026-10-01", 6), ("2026-10-02", 2), ("2026-10-02", 4), ("2026-10-03", 1)])  # 10-01: 6, 10-02: 6
    plans = plan_overlaps(["f", "f"], ["x", "x"], ["a.csv", "b.csv"], [a, b], [0, 0])
    assert plans[0].shared_days == {"2026-10-02": 1} and plans[1].shared_days == {"2026-10-01": 0}  # 5 < 6, 7 > 6
    assert plans[0].skip_days == plans[1].skip_days == {}
