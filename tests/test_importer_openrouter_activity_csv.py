"""OpenRouter Activity export: tokens, requests and money per model, detection by name, time of day, BYOK.

Expected sums are computed here with the csv module from OpenRouter's documented semantics (reasoning
inside completion, no cached column, `BYOK Usage` billed upstream), independently of the importer.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from auditor.importers import IMPORTERS
from auditor.importers.reader import detect, sniff
from tests.conftest import GOLDENS, SAMPLES, ingest_one
from tests.conftest import csv_rows as _rows

NANO = Decimal("1e9")
FOLDER = SAMPLES / "openrouter_activity_csv"
SAMPLE_FILES = sorted(FOLDER.glob("*.csv"))
SAMPLE = FOLDER / "openrouter_activity_2026-10.csv"


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    """As OpenRouter writes it: a bare header, then every field double-quoted."""
    out = io.StringIO()
    out.write(",".join(header) + "\n")
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows([[r[h] for h in header] for r in rows])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _expected(path: Path) -> tuple[dict[str, dict[str, int]], dict[str, Decimal], dict[str, Decimal]]:
    tokens: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    billed: dict[str, Decimal] = defaultdict(Decimal)
    byok: dict[str, Decimal] = defaultdict(Decimal)
    for row in _rows(path):
        key = f"openrouter|{row['Slug']}"
        e = tokens[key]
        # No cached column: all prompt tokens are input. Reasoning is inside completion.
        e["input_tokens"] += int(row["Prompt Tokens"])
        e["output_tokens"] += int(row["Completion Tokens"])
        e["reasoning_tokens"] += int(row["Reasoning Tokens"])
        e["requests"] += int(row["Requests"])
        e["lines"] += 1
        billed[key] += Decimal(row["Usage"])
        byok[key] += Decimal(row["BYOK Usage"])
    return tokens, billed, byok


def _check(models: dict[str, dict[str, int]], path: Path) -> None:
    tokens, billed, byok = _expected(path)
    assert set(models) == set(tokens)
    for key, sums in tokens.items():
        got = defaultdict(int, models[key])
        for column, value in sums.items():
            assert got[column] == value, (key, column)
        assert got["cache_read_tokens"] == got["cache_write_tokens"] == 0, key
        assert got["billed_lines"] == got["requests_known_lines"] == sums["lines"], key
        assert Decimal(got["billed_nanos"]) / NANO == billed[key], key
        assert Decimal(got["byok_upstream_nanos"]) / NANO == byok[key], key


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_sums_per_model_match_golden(path: Path) -> None:
    golden = json.loads((GOLDENS / "openrouter_activity_csv" / (path.name + ".json")).read_text(encoding="utf-8"))
    rows = _rows(path)
    assert golden["rows"] == {"read": len(rows), "used": len(rows), "skipped": 0, "rejected": 0}
    _check(golden["models"], path)


def test_sample_is_in_the_export_format() -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "Date,Slug,Usage,BYOK Usage,Requests,Prompt Tokens,Completion Tokens,Reasoning Tokens"
    for line in lines[1:]:
        assert line.startswith('"') and line.endswith('"') and line.count('","') == 7, line
    rows = _rows(SAMPLE)
    assert len({r["Date"] for r in rows}) > 1 and len({r["Slug"] for r in rows}) > 1
    assert any(Decimal(r["BYOK Usage"]) > 0 for r in rows), "a bring-your-own-key row"


def _summary_models(path: Path) -> tuple[str, dict[str, dict[str, int]]]:
    importer, ingested = ingest_one(path)
    by_model = ingested.usage.groupby(["provider", "model_raw"], sort=True).sum(numeric_only=True)
    return importer.name, {f"{p}|{m}": {k: int(v) for k, v in row.items()} for (p, m), row in by_model.iterrows()}


def test_detected_when_columns_are_reordered(tmp_path: Path) -> None:
    header = [
        "Slug",
        "Requests",
        "Date",
        "Completion Tokens",
        "Reasoning Tokens",
        "Usage",
        "Prompt Tokens",
        "BYOK Usage",
    ]
    path = _write(tmp_path / "activity.csv", header, _rows(SAMPLE))
    assert detect(sniff(path), IMPORTERS).name == "openrouter_activity_csv"
    name, models = _summary_models(path)
    assert name == "openrouter_activity_csv"
    _check(models, SAMPLE)


def test_detected_without_optional_columns(tmp_path: Path) -> None:
    header = ["Date", "Slug", "Usage", "Requests", "Prompt Tokens", "Completion Tokens"]
    path = _write(tmp_path / "activity.csv", header, _rows(SAMPLE))
    assert detect(sniff(path), IMPORTERS).name == "openrouter_activity_csv"


def test_time_of_day_only_when_the_bucket_is_finer_than_a_day(tmp_path: Path) -> None:
    base = _rows(SAMPLE)[0]
    rows = [
        {**base, "Date": "2026-10-05 13:00:00"},  # an hourly bucket: 13:00 UTC is half hour 26
        {**base, "Date": "2026-10-05 16:47:00", "Slug": "deepseek/deepseek-chat-v3.1"},  # a minute bucket
        {**base, "Date": "2026-10-06 00:00:00", "Slug": "google/gemini-2.5-flash"},  # a day, or the midnight hour
    ]
    path = _write(tmp_path / "activity.csv", list(base), rows)
    _, ingested = ingest_one(path)
    slots = dict(zip(ingested.shape["model_raw"], ingested.shape["time_slot"], strict=True))
    assert slots == {
        "anthropic/claude-sonnet-4.5": 26,
        "deepseek/deepseek-chat-v3.1": 33,
        "google/gemini-2.5-flash": -1,
    }
    assert sorted(ingested.usage["day"]) == ["2026-10-05", "2026-10-05", "2026-10-06"]


def test_reasoning_above_completion_is_rejected_with_its_line(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(SAMPLE)
    rows[3] = {**rows[3], "Reasoning Tokens": str(int(rows[3]["Completion Tokens"]) + 1)}
    path = _write(tmp_path / "activity.csv", list(rows[0]), rows)
    data = run_cli(str(path), "--json", "-").json()
    entry = data["inputs"][0]
    assert (entry["rows_read"], entry["rows_used"], entry["rows_rejected"]) == (11, 10, 1)
    assert entry["rejected"] == [
        {"line": 5, "where": "", "column": "Reasoning Tokens", "reason": "Reasoning Tokens exceed Completion Tokens"}
    ]


def test_byok_spend_is_kept_apart_from_openrouter_billing(run_cli) -> None:  # type: ignore[no-untyped-def]
    data = run_cli(str(FOLDER), "--json", "-").json()
    rows = _rows(SAMPLE)
    assert Decimal(data["totals"]["billed_cost"]) == sum(Decimal(r["Usage"]) for r in rows)
    byok = {u["model_raw"]: u["byok_upstream_cost"] for u in data["usage"] if u["byok_upstream_cost"]}
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        if Decimal(r["BYOK Usage"]):
            expected[r["Slug"]] += Decimal(r["BYOK Usage"])
    assert {k: Decimal(v) for k, v in byok.items()} == expected
