"""Helicone request export: tokens per model, failed requests, custom properties, the query API's columns.

Expected sums are computed here with the csv and json modules from Helicone's documented semantics
(prompt and completion tokens as the vendor reported them; no cache columns in the CLI export; `cost`
is Helicone's estimate), independently of the importer.
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
from tests.conftest import AS_OF, GOLDENS, SAMPLES, ingest_one
from tests.conftest import csv_rows as _rows

NANO = Decimal("1e9")
FOLDER = SAMPLES / "helicone_csv"
SAMPLE_FILES = sorted(FOLDER.glob("*.csv"))
SAMPLE = FOLDER / "helicone_export_2026-10.csv"
# Who made (or hosted) each model of the samples, written out by hand.
MAKER = {
    "gpt-4o-mini": "openai",
    "gpt-4.1-2025-04-14": "openai",
    "o3-mini-2025-01-31": "openai",
    "o4-mini-2025-04-16": "openai",
    "claude-3-5-haiku-20241022": "anthropic",
    "claude-sonnet-4-5-20250929": "anthropic",
    "us.anthropic.claude-3-7-sonnet-20250219-v1:0": "aws",
    "claude-sonnet-4-5@20250929": "google",
    "gemini-2.5-flash": "google",
    "deepseek-chat": "deepseek",
    "grok-4-0709": "x-ai",
    "meta-llama/Llama-3.3-70B-Instruct-Turbo": "unknown",
}


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    """As the CLI writes it: a bare header, then every field double-quoted."""
    out = io.StringIO()
    out.write(",".join(header) + "\n")
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(
        [[r.get(h, "") for h in header] for r in rows]
    )
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _is_used(row: dict[str, str]) -> bool:
    return 200 <= int(row["response_status"]) <= 299


def _expected(path: Path) -> tuple[dict[str, dict[str, int]], dict[str, Decimal]]:
    tokens: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    estimate: dict[str, Decimal] = defaultdict(Decimal)
    for row in filter(_is_used, _rows(path)):
        key = f"{MAKER[row['model']]}|{row['model']}"
        e = tokens[key]
        # No cache columns: every prompt token counts as input. Reasoning is inside completion.
        e["input_tokens"] += int(row["prompt_tokens"])
        e["output_tokens"] += int(row["completion_tokens"])
        e["requests"] += 1
        cost = row.get("cost") or row.get("cost_usd") or ""
        if cost:
            e["source_list_lines"] += 1
            estimate[key] += Decimal(cost)
    return tokens, estimate


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_golden_sums_follow_helicone_semantics(path: Path) -> None:
    golden = json.loads((GOLDENS / FOLDER.name / (path.name + ".json")).read_text(encoding="utf-8"))
    rows = _rows(path)
    used = sum(map(_is_used, rows))
    assert golden["rows"] == {"read": len(rows), "used": used, "skipped": len(rows) - used, "rejected": 0}
    tokens, estimate = _expected(path)
    assert set(golden["models"]) == set(tokens)
    for key, sums in tokens.items():
        got = defaultdict(int, golden["models"][key])
        for column, value in sums.items():
            assert got[column] == value, (key, column)
        assert got["cache_read_tokens"] == got["cache_write_tokens"] == got["reasoning_tokens"] == 0, key
        # Helicone's cost is its estimate: the source's list price, never billed.
        assert Decimal(got["source_list_nanos"]) / NANO == estimate[key], key
        assert got["billed_nanos"] == got["billed_lines"] == 0, key


def test_sample_is_in_the_cli_format() -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    assert lines[0].split(",")[-1] == "cost" and not lines[0].startswith('"')
    # The CLI doubles an object's quotes twice: the cell reads back as `{""Environment"":""prod""}`.
    assert '"{""""Environment"""":""""prod""""' in lines[1]
    rows = _rows(SAMPLE)
    assert any(not _is_used(r) for r in rows) and any(r["cost"] == "" for r in rows)


def test_detected_from_the_header_in_both_cli_versions() -> None:
    for path in SAMPLE_FILES:
        assert detect(sniff(path), IMPORTERS).name == "helicone_csv", path.name
    assert {"cost_usd" in _rows(p)[0] for p in SAMPLE_FILES} == {True, False}, "both CLI headers are sampled"


def test_failed_requests_are_skipped_and_counted() -> None:
    rows = _rows(SAMPLE)
    failed = sum(not _is_used(r) for r in rows)
    _, ingested = ingest_one(SAMPLE)
    assert failed >= 2
    assert ingested.account.skipped_reasons == {"failed request (response_status is not 2xx)": failed}


def test_project_from_properties_whatever_their_quoting(tmp_path: Path) -> None:
    """The CLI's doubled quoting, plain JSON, and a cell that is not JSON (used, without a project)."""
    rows = [r for r in _rows(SAMPLE) if _is_used(r)][:3]
    rows[0]["request_properties"] = '{""Project"":""search"",""Environment"":""prod""}'
    rows[1]["request_properties"] = '{"environment": "prod", "app": "checkout"}'
    rows[2]["request_properties"] = '{"Project": "sea'
    path = _write(tmp_path / "output.csv", list(_rows(SAMPLE)[0]), rows)
    _, ingested = ingest_one(path)
    assert ingested.account.rows_used == 3 and ingested.account.rows_rejected == 0
    assert sorted(ingested.usage["project"]) == ["", "checkout", "search"]


def test_query_api_columns_give_provider_and_cache_split(tmp_path: Path) -> None:
    """With `provider` and the cache columns: OpenAI counts cache reads inside the prompt, Anthropic outside."""
    header = [*_rows(SAMPLE)[0], "provider", "prompt_cache_read_tokens", "prompt_cache_write_tokens"]

    def request(
        model: str, provider: str, prompt: int, completion: int, read: int = 0, write: int = 0
    ) -> dict[str, str]:
        values = (model, provider, str(prompt), str(completion), str(read), str(write))
        names = ("model", "provider", "prompt_tokens", "completion_tokens", *header[-2:])
        return (
            {h: "" for h in header}
            | dict(zip(names, values, strict=True))
            | {
                "response_status": "200",
                "request_created_at": "2026-10-01T10:00:00.000Z",
            }
        )

    rows = [
        request("gpt-4.1", "OPENAI", 9800, 640, read=8192),
        request("claude-sonnet-4-5-20250929", "ANTHROPIC", 400, 580, read=12000, write=800),
        request("anthropic.claude-3-5-sonnet-20240620-v1:0", "BEDROCK", 10, 5),
    ]
    _, ingested = ingest_one(_write(tmp_path / "requests.csv", header, rows))
    usage = ingested.usage.set_index("provider")[["input_tokens", "cache_read_tokens", "cache_write_tokens"]]
    assert usage.to_dict("index") == {
        "openai": {"input_tokens": 1608, "cache_read_tokens": 8192, "cache_write_tokens": 0},
        "anthropic": {"input_tokens": 400, "cache_read_tokens": 12000, "cache_write_tokens": 800},
        "aws": {"input_tokens": 10, "cache_read_tokens": 0, "cache_write_tokens": 0},
    }
    # OpenAI-style cache counts larger than the prompt cannot be split: rejected with the line.
    rows[0]["prompt_cache_read_tokens"] = "99999"
    _, ingested = ingest_one(_write(tmp_path / "requests.csv", header, rows))
    (rejected,) = ingested.account.rejected
    assert rejected.line == 2


def test_audit_json_gives_usage_per_provider_and_never_prices_the_unknown_at_zero(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(str(FOLDER), "--as-of", AS_OF.isoformat(), "--json", "-")
    assert result.status == 0, result.err
    data = result.json()
    assert {u["provider"] for u in data["usage"]} == set(MAKER.values())
    unknown = [u for u in data["usage"] if u["provider"] == "unknown"]
    assert [u["list_cost"] for u in unknown] == [None]
    assert all(u["billed_cost"] is None for u in data["usage"])
