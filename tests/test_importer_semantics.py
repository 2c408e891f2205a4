"""Per-model token totals equal the sums of the source columns under each vendor's semantics.

The expected sums are computed here with the csv module, independently of the importers, from the
vendor's documented semantics; the goldens are checked against them so a golden cannot drift.
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, GOLDENS, SAMPLES, ingest_one
from tests.conftest import csv_rows as _rows

NANO = Decimal("1e9")


def _n(value: str) -> int:
    return int(float(value)) if value.strip() else 0


def _golden_models(path: Path) -> dict[str, dict[str, int]]:
    golden = json.loads((GOLDENS / path.parent.name / (path.name + ".json")).read_text(encoding="utf-8"))
    return {k: defaultdict(int, v) for k, v in golden["models"].items()}


def _samples(folder: str) -> list[Path]:
    return sorted((SAMPLES / folder).glob("*.csv"))


@pytest.mark.parametrize("path", _samples("openai_usage_csv"), ids=lambda p: p.name)
def test_openai_usage_semantics(path: Path) -> None:
    expected: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in _rows(path):
        if not row["model"]:
            continue
        e = expected[f"openai|{row['model']}"]
        # input_tokens includes cached and cache-write tokens; output includes reasoning.
        e["input_tokens"] += (
            _n(row["input_tokens"]) - _n(row["input_cached_tokens"]) - _n(row.get("input_cache_write_tokens", ""))
        )
        e["cache_read_tokens"] += _n(row["input_cached_tokens"])
        e["cache_write_tokens"] += _n(row.get("input_cache_write_tokens", ""))
        e["output_tokens"] += _n(row["output_tokens"])
        e["requests"] += _n(row["num_model_requests"])
    golden = _golden_models(path)
    for key, sums in expected.items():
        for column, value in sums.items():
            assert golden[key][column] == value, (key, column)


@pytest.mark.parametrize("path", _samples("anthropic_usage_csv"), ids=lambda p: p.name)
def test_anthropic_usage_semantics(path: Path) -> None:
    expected: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in _rows(path):
        e = expected[f"anthropic|{row['model_version']}"]
        # no_cache excludes cache reads and writes; 5m and 1h writes are separate columns.
        e["input_tokens"] += _n(row["usage_input_tokens_no_cache"])
        # The older export has one cache-write column: 5-minute writes, the default TTL.
        e["cache_write_tokens"] += _n(row.get("usage_input_tokens_cache_write_5m", "")) + _n(
            row.get("usage_input_tokens_cache_write", "")
        )
        e["cache_write_1h_tokens"] += _n(row.get("usage_input_tokens_cache_write_1h", ""))
        e["cache_read_tokens"] += _n(row["usage_input_tokens_cache_read"])
        e["output_tokens"] += _n(row["usage_output_tokens"])
    golden = _golden_models(path)
    for key, sums in expected.items():
        assert "requests" not in golden[key] or golden[key]["requests"] == 0, "the export has no request counts"
        for column, value in sums.items():
            assert golden[key][column] == value, (key, column)


@pytest.mark.parametrize("path", _samples("anthropic_cost_csv"), ids=lambda p: p.name)
def test_anthropic_cost_semantics(path: Path) -> None:
    billed: dict[str, Decimal] = defaultdict(Decimal)
    listed: dict[str, Decimal] = defaultdict(Decimal)
    for row in _rows(path):
        billed[f"anthropic|{row['model']}"] += Decimal(row["cost_usd"])
        listed[f"anthropic|{row['model']}"] += Decimal(row["list_price_usd"])
    golden = _golden_models(path)
    for key in billed:
        assert Decimal(golden[key]["billed_nanos"]) / NANO == billed[key]
        assert Decimal(golden[key]["source_list_nanos"]) / NANO == listed[key]
        assert golden[key]["input_tokens"] == 0, "a cost export carries no tokens"


@pytest.mark.parametrize("path", _samples("openrouter_logs_csv"), ids=lambda p: p.name)
def test_openrouter_logs_semantics(path: Path) -> None:
    expected: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    billed: dict[str, Decimal] = defaultdict(Decimal)
    for row in _rows(path):
        key = f"openrouter|{row['model_permaslug']}"
        e = expected[key]
        # tokens_cached is inside tokens_prompt; tokens_reasoning inside tokens_completion.
        e["input_tokens"] += _n(row["tokens_prompt"]) - _n(row["tokens_cached"])
        e["cache_read_tokens"] += _n(row["tokens_cached"])
        e["output_tokens"] += _n(row["tokens_completion"])
        e["reasoning_tokens"] += _n(row["tokens_reasoning"])
        e["requests"] += 1
        billed[key] += Decimal(row["cost_total"])
    golden = _golden_models(path)
    for key, sums in expected.items():
        for column, value in sums.items():
            assert golden[key][column] == value, (key, column)
        assert Decimal(golden[key]["billed_nanos"]) / NANO == billed[key]


def test_real_openai_export_reads_as_documented() -> None:
    """The only real OpenAI export in public: 31 daily buckets, 30 of them empty, one gpt-4o-mini row."""
    importer, ingested = ingest_one(FIXTURES / "real_exports" / "completions_usage_2026-08-01_2026-08-31.csv")
    assert importer.name == "openai_usage_csv"
    a = ingested.account
    assert (a.rows_read, a.rows_used, a.rows_skipped, a.rows_rejected) == (31, 1, 30, 0)
    row = ingested.usage.iloc[0]
    assert (row["model_raw"], row["day"], row["requests"]) == ("gpt-4o-mini-2024-07-18", "2026-08-31", 4)
    assert (row["input_tokens"], row["output_tokens"], row["cache_read_tokens"]) == (31422, 29, 0)
