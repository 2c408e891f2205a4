"""Usage and cost API pages saved as JSON (OpenAI Usage and Costs APIs, Anthropic Admin API reports).

Expected figures are recomputed here from the JSON with the json module, under each vendor's semantics.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from tests.conftest import AS_OF, SAMPLES, without_files

OPENAI_USAGE = SAMPLES / "openai_usage_api_json" / "usage_completions_2026-10-01_page1.json"
OPENAI_USAGE_HOURLY = SAMPLES / "openai_usage_api_json" / "usage_completions_hourly_2026-10-06.jsonl"
OPENAI_COSTS = SAMPLES / "openai_costs_api_json" / "costs_2026-10-01_2026-10-03.json"
ANTHROPIC_USAGE = SAMPLES / "anthropic_usage_report_json" / "usage_report_2026-10-01_2026-10-05.json"
ANTHROPIC_COSTS = SAMPLES / "anthropic_cost_report_json" / "cost_report_2026-10-01_2026-10-03.json"

_CLASSES = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens", "output_tokens")


def _pages(path: Path) -> list[dict]:  # type: ignore[type-arg]
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    value = json.loads(text)
    return value if isinstance(value, list) else [value]


def _results(path: Path) -> list[tuple[dict, dict]]:  # type: ignore[type-arg]
    return [(bucket, r) for page in _pages(path) for bucket in page["data"] for r in bucket["results"]]


def _audit(*paths: Path) -> dict:  # type: ignore[type-arg]
    result = run_audit(AuditOptions(inputs=paths, as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    return json.loads(result.model_dump_json())  # type: ignore[no-any-return]


def _tokens_by_model(audit: dict) -> dict[str, tuple[int, ...]]:  # type: ignore[type-arg]
    return {u["model_raw"]: tuple(u[c] for c in _CLASSES) for u in audit["usage"] if any(u[c] for c in _CLASSES)}


@pytest.mark.parametrize("path", [OPENAI_USAGE, OPENAI_USAGE_HOURLY], ids=lambda p: p.name)
def test_openai_usage_pages_give_the_tokens_of_their_results(path: Path) -> None:
    expected: dict[str, list[int]] = defaultdict(lambda: [0] * 5)
    for _, r in _results(path):
        if not r["model"]:
            continue
        cached, written = r.get("input_cached_tokens") or 0, r.get("input_cache_write_tokens") or 0
        row = expected[r["model"]]
        row[0] += r["input_tokens"] - cached - written  # input_tokens INCLUDES cached and cache-write tokens
        row[1] += cached
        row[2] += written
        row[4] += r["output_tokens"]
    assert _tokens_by_model(_audit(path)) == {m: tuple(v) for m, v in expected.items()}


def test_openai_usage_page_reads_as_the_same_data_exported_as_csv(tmp_path: Path) -> None:
    """The platform's usage export is the same results flattened: both must give the same ledger."""
    header = [
        "start_time",
        "end_time",
        "start_time_iso",
        "end_time_iso",
        "project_id",
        "num_model_requests",
        "user_id",
        "api_key_id",
        "model",
        "batch",
        "service_tier",
        "input_tokens",
        "output_tokens",
        "input_cached_tokens",
        "input_cache_write_tokens",
        "input_uncached_tokens",
    ]
    exported = tmp_path / "completions_usage_2026-10-01_2026-10-03.csv"
    with exported.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for page in _pages(OPENAI_USAGE):
            for bucket in page["data"]:
                for r in bucket["results"] or [{}]:
                    fields = {**bucket, **r, "batch": {True: "True", False: "False"}.get(r.get("batch"), "")}
                    writer.writerow(["" if fields.get(h) is None else fields.get(h) for h in header])
    from_json, from_csv = _audit(OPENAI_USAGE), _audit(exported)
    assert from_json["inputs"][0]["format"] == "openai_usage_api_json"
    assert from_csv["inputs"][0]["format"] == "openai_usage_csv"
    assert without_files(from_json["usage"]) == without_files(from_csv["usage"])
    assert from_json["scenarios"] == from_csv["scenarios"]


def test_a_result_without_a_model_is_rejected_naming_its_bucket() -> None:
    (entry,) = _audit(OPENAI_USAGE_HOURLY)["inputs"]
    assert (entry["rows_read"], entry["rows_used"], entry["rows_skipped"], entry["rows_rejected"]) == (6, 4, 1, 1)
    (rejected,) = entry["rejected"]
    assert rejected["where"] == "page 2, bucket 1 (2026-10-06T18:00:00+00:00), result 2"
    assert rejected["column"] == "model" and "group_by=model" in rejected["reason"]


def test_openai_costs_pages_bill_the_sum_of_their_amounts() -> None:
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for _, r in _results(OPENAI_COSTS):
        item = r["line_item"]
        model = item.rsplit(",", 1)[0] if "," in item else item
        expected[model] += Decimal(r["amount"]["value"])  # strings, some with ~36 decimals or "0E-6176"
    audit = _audit(OPENAI_COSTS)
    billed = {u["model_raw"]: Decimal(u["billed_cost"]) for u in audit["usage"]}
    assert billed == dict(expected)
    assert Decimal(audit["totals"]["billed_cost"]) == sum(expected.values())


def test_anthropic_usage_report_tokens_and_list_cost() -> None:
    from genai_prices import Usage, calc_price

    expected: dict[str, list[int]] = defaultdict(lambda: [0] * 5)
    for _, r in _results(ANTHROPIC_USAGE):
        if not r["model"]:
            continue
        row = expected[r["model"]]
        row[0] += r["uncached_input_tokens"]  # uncached only: cache reads and writes are separate
        row[1] += r["cache_read_input_tokens"]
        row[2] += r["cache_creation"]["ephemeral_5m_input_tokens"]
        row[3] += r["cache_creation"]["ephemeral_1h_input_tokens"]
        row[4] += r["output_tokens"]
    audit = _audit(ANTHROPIC_USAGE)
    assert _tokens_by_model(audit) == {m: tuple(v) for m, v in expected.items()}

    # Sonnet 4.5 in the sample: standard and batch, every row labelled 0-200k, so priced below the long-context
    # tier. Rows are daily sums, not requests: each class is priced from genai-prices on 1,000 tokens of it, at
    # the bucket's date (the catalog's prices, batch discount included, are those in force that day).
    # Batch before the catalog's batch prices (2026-10-14) is 50% of the standard price, every class
    # (price overlay `anthropic-batch-since-launch`).
    def per_token(context: dict[str, str] | None, at: datetime, **one_class: int) -> Decimal:
        usage = Usage(**{k: v * 1000 for k, v in one_class.items()})
        model = "claude-sonnet-4-5-20250929"
        early = context is not None and at < datetime(2026, 10, 14, tzinfo=at.tzinfo)
        price = calc_price(
            usage, model, provider_id="anthropic", price_context=None if early else context, genai_request_timestamp=at
        ).total_price
        return price / 1000 / (2 if early else 1)

    cost = Decimal(0)
    for bucket, r in _results(ANTHROPIC_USAGE):
        if r["model"] != "claude-sonnet-4-5-20250929":
            continue
        assert r["context_window"] == "0-200k"
        at = datetime.fromisoformat(bucket["starting_at"])
        ctx = {"processing": "batch"} if r["service_tier"] == "batch" else None
        writes = r["cache_creation"]
        cost += r["uncached_input_tokens"] * per_token(ctx, at, input_tokens=1)
        cost += r["cache_read_input_tokens"] * per_token(ctx, at, input_tokens=1, cache_read_tokens=1)
        cost += writes["ephemeral_5m_input_tokens"] * per_token(
            ctx, at, input_tokens=1, cache_write_tokens=1, cache_write_5m_tokens=1
        )
        cost += writes["ephemeral_1h_input_tokens"] * per_token(
            ctx, at, input_tokens=1, cache_write_tokens=1, cache_write_1h_tokens=1
        )
        cost += r["output_tokens"] * per_token(ctx, at, output_tokens=1)
    (sonnet,) = [u for u in audit["usage"] if u["model_raw"] == "claude-sonnet-4-5-20250929"]
    assert Decimal(sonnet["list_cost"]) == cost.quantize(Decimal("1e-9"))


def test_anthropic_cost_report_amounts_are_cents() -> None:
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for _, r in _results(ANTHROPIC_COSTS):
        expected[r["model"] or r["description"]] += Decimal(r["amount"]) / 100
    audit = _audit(ANTHROPIC_COSTS)
    assert {u["model_raw"]: Decimal(u["billed_cost"]) for u in audit["usage"]} == dict(expected)
    (web,) = [u for u in audit["usage"] if u["model_raw"] == "Web Search Usage"]
    assert web["billed_non_token_cost"] == web["billed_cost"] == "0.080000000"


def test_usage_and_cost_reports_together_attach_billed_to_tokens() -> None:
    audit = _audit(ANTHROPIC_USAGE, ANTHROPIC_COSTS)
    (sonnet,) = [u for u in audit["usage"] if u["model_raw"] == "claude-sonnet-4-5-20250929"]
    assert sonnet["billed_cost"] == "10.893379650"
    assert sonnet["input_tokens"] == 2_404_181


def test_the_same_page_saved_twice_is_counted_once(tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    for name in ("page1.json", "page1 (1).json"):
        (folder / name).write_bytes(OPENAI_USAGE.read_bytes())
    once, twice = _audit(OPENAI_USAGE), _audit(folder)
    assert _tokens_by_model(twice) == _tokens_by_model(once)
    assert sum(f["rows_skipped"] for f in twice["inputs"]) == 1 + 6  # its empty bucket, and every row of the copy


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"object":"page","data":[{"object":"bucket","start_time":1790812800,', "is not valid JSON"),
        ('{\n  "data": []\n}\n', "holds no records"),
        ("[\n]\n", "holds no records"),
    ],
    ids=["truncated", "no buckets", "empty array"],
)
def test_broken_documents_are_refused_with_one_line(run_cli, tmp_path: Path, text: str, needle: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "usage.json"
    path.write_text(text, encoding="utf-8")
    outcome = run_cli(str(path), "--json", "-")
    assert outcome.status == 2
    (line,) = outcome.err.strip().splitlines()[:1]
    assert str(path) in line and needle in line
    assert "Traceback" not in outcome.err
