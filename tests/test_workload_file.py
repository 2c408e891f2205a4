"""A workload aggregated elsewhere (the SQL of docs/scale.md) prices exactly as the request log it came from."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from pricing.rates import size_bucket_floors
from tests.conftest import AS_OF, SAMPLES, csv_rows

LOG = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
COLUMNS = ["provider", "model", "project", "api_key", "service_tier", "day", "half_hour", "request_size_floor_tokens",
           "requests", "input_tokens", "cache_read_tokens", "output_tokens", "reasoning_tokens", "billed_cost",
           "currency"]  # fmt: skip


def _floor(size: int) -> int:
    """The same bucket floors as docs/scale.md: the largest catalog tier threshold below the request's input."""
    return max(t for t in size_bucket_floors() if t < size or t == 0)


def _aggregate(rows: list[dict[str, str]]) -> list[list[object]]:
    """The GROUP BY of docs/scale.md, done here with the csv module on the OpenRouter log."""
    sums: dict[tuple[object, ...], list[object]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0.0])
    for r in rows:
        at = datetime.strptime(r["created_at"], "%Y-%m-%d %H:%M:%S.%f")
        key = ("openrouter", r["model_permaslug"], r["app_name"], r["api_key_name"], "standard",
               at.date().isoformat(), (at.hour * 60 + at.minute) // 30, _floor(int(r["tokens_prompt"])))  # fmt: skip
        s = sums[key]
        s[0] += 1
        s[1] += int(r["tokens_prompt"]) - int(r["tokens_cached"])
        s[2] += int(r["tokens_cached"])
        s[3] += int(r["tokens_completion"])
        s[4] += int(r["tokens_reasoning"])
    billed: dict[tuple[object, ...], list[str]] = defaultdict(list)
    for r in rows:
        at = datetime.strptime(r["created_at"], "%Y-%m-%d %H:%M:%S.%f")
        key = ("openrouter", r["model_permaslug"], r["app_name"], r["api_key_name"], "standard",
               at.date().isoformat(), (at.hour * 60 + at.minute) // 30, _floor(int(r["tokens_prompt"])))  # fmt: skip
        billed[key].append(r["cost_total"])
    from decimal import Decimal

    return [[*k, *v[:5], str(sum((Decimal(b) for b in billed[k]), Decimal(0))), "USD"] for k, v in sums.items()]


def _write(path: Path, rows: list[list[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)


def test_a_workload_file_prices_exactly_as_its_log(tmp_path: Path) -> None:
    workload = tmp_path / "workload.csv"
    _write(workload, _aggregate(csv_rows(LOG)))
    options = {"as_of": AS_OF, "candidates": ("deepseek:deepseek-flash", "minimax:minimax-m3", "openai:gpt-5.4")}
    from_log = run_audit(AuditOptions(inputs=(LOG,), **options))  # type: ignore[arg-type]
    from_workload = run_audit(AuditOptions(inputs=(workload,), **options))  # type: ignore[arg-type]
    assert from_workload.inputs[0].format == "workload_csv"
    assert from_workload.totals == from_log.totals
    assert [(u.model_raw, u.list_cost) for u in from_workload.usage] == [
        (u.model_raw, u.list_cost) for u in from_log.usage
    ]
    assert from_workload.scenarios == from_log.scenarios


def test_the_samples_workload_file_reads(tmp_path: Path) -> None:
    sample = SAMPLES / "workload_csv" / "workload_2026-09.csv"
    result = run_audit(AuditOptions(inputs=(sample,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    entry = result.inputs[0]
    assert entry.rows_read == entry.rows_used == len(csv_rows(sample))


def test_every_unpriced_model_with_usage_is_warned_about(tmp_path: Path) -> None:
    """A model the catalog lacks is warned about whatever its usage: cache writes only, or requests only."""
    path = tmp_path / "workload.csv"
    path.write_text(
        "provider,model,day,requests,input_tokens,output_tokens,cache_write_tokens\n"
        "acme,in-house-writer,2026-09-01,0,0,0,5000\n"
        "acme,in-house-counter,2026-09-01,3,0,0,0\n"
        "openai,gpt-5-mini,2026-09-01,1,100,10,0\n",
        encoding="utf-8",
    )
    result = run_audit(AuditOptions(inputs=(path,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    assert result.totals.unpriced_models == 2
    for model in ("in-house-writer", "in-house-counter"):
        assert sum(f"model '{model}' is unpriced" in w for w in result.warnings) == 1, result.warnings
    assert not any("gpt-5-mini" in w and "unpriced" in w for w in result.warnings)
