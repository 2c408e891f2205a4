"""LiteLLM spend logs: tokens per model from the metadata's usage object, skips, broken metadata, the CLI.

Expected sums are computed here with the csv and json modules from LiteLLM's documented semantics
(`prompt_tokens` includes cache reads and writes, `completion_tokens` includes reasoning; the split is
only in `metadata.usage_object`; `spend` is LiteLLM's estimate), independently of the importer.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from auditor.importers import IMPORTERS
from auditor.importers.reader import detect, sniff
from tests.conftest import AS_OF, GOLDENS, SAMPLES, ingest_one, without_files
from tests.conftest import csv_rows as _rows

NANO = Decimal("1e9")
FOLDER = SAMPLES / "litellm_spend_logs_csv"
SAMPLE = FOLDER / "litellm_spend_logs_2026-10.csv"
# The catalog's ids of the LiteLLM provider names in the sample, written out by hand.
CATALOG_PROVIDER = {
    "openai": "openai",
    "anthropic": "anthropic",
    "bedrock": "aws",
    "vertex_ai": "google",
    "deepseek": "deepseek",
    "groq": "groq",
    "azure": "azure",
    "mistral": "mistral",
    "together_ai": "together",
    "openrouter": "openrouter",
}


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _n(value: Any) -> int:
    return int(value or 0)


def _is_used(row: dict[str, str]) -> bool:
    return row["status"] != "failure" and row["cache_hit"] != "True"


def _expected(path: Path) -> tuple[dict[str, dict[str, int]], dict[str, Decimal]]:
    tokens: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    spend: dict[str, Decimal] = defaultdict(Decimal)
    for row in filter(_is_used, _rows(path)):
        provider = row["custom_llm_provider"]
        model = row["model"].removeprefix(provider + "/")
        key = f"{CATALOG_PROVIDER[provider]}|{model}"
        usage = json.loads(row["metadata"]).get("usage_object") or {}
        prompt_details = usage.get("prompt_tokens_details") or {}
        # The same cache reads appear under two names (Anthropic's and OpenAI's): counted once.
        read = max(_n(usage.get("cache_read_input_tokens")), _n(prompt_details.get("cached_tokens")))
        write = max(_n(usage.get("cache_creation_input_tokens")), _n(prompt_details.get("cache_creation_tokens")))
        write_1h = _n((prompt_details.get("cache_creation_token_details") or {}).get("ephemeral_1h_input_tokens"))
        e = tokens[key]
        e["input_tokens"] += int(row["prompt_tokens"]) - read - write
        e["cache_read_tokens"] += read
        e["cache_write_tokens"] += write - write_1h
        e["cache_write_1h_tokens"] += write_1h
        e["output_tokens"] += int(row["completion_tokens"])
        e["reasoning_tokens"] += _n((usage.get("completion_tokens_details") or {}).get("reasoning_tokens"))
        e["requests"] += 1
        spend[key] += Decimal(row["spend"])
    return tokens, spend


def _check(models: dict[str, dict[str, int]], path: Path) -> None:
    tokens, spend = _expected(path)
    assert set(models) == set(tokens)
    for key, sums in tokens.items():
        got = defaultdict(int, models[key])
        for column, value in sums.items():
            assert got[column] == value, (key, column)
        # LiteLLM's spend is its own estimate: kept as the source's list price, never as billed.
        assert Decimal(got["source_list_nanos"]) / NANO == spend[key], key
        assert got["source_list_lines"] == sums["requests"], key
        assert got["billed_nanos"] == got["billed_lines"] == 0, key


def _models(path: Path) -> dict[str, dict[str, int]]:
    _, ingested = ingest_one(path)
    by_model = ingested.usage.groupby(["provider", "model_raw"], sort=True).sum(numeric_only=True)
    return {f"{p}|{m}": {k: int(v) for k, v in row.items()} for (p, m), row in by_model.iterrows()}


def test_golden_sums_follow_litellm_semantics() -> None:
    golden = json.loads((GOLDENS / FOLDER.name / (SAMPLE.name + ".json")).read_text(encoding="utf-8"))
    rows = _rows(SAMPLE)
    used = sum(map(_is_used, rows))
    assert golden["rows"] == {"read": len(rows), "used": used, "skipped": len(rows) - used, "rejected": 0}
    _check(golden["models"], SAMPLE)


def test_sample_holds_the_cases_it_is_for() -> None:
    rows = _rows(SAMPLE)
    usage = [json.loads(r["metadata"]).get("usage_object") or {} for r in rows]
    assert any((u.get("prompt_tokens_details") or {}).get("cached_tokens") for u in usage), "a cached request"
    assert any((u.get("completion_tokens_details") or {}).get("reasoning_tokens") for u in usage), "reasoning"
    assert any(r["status"] == "failure" for r in rows) and any(r["cache_hit"] == "True" for r in rows)
    assert len({r["custom_llm_provider"] for r in rows}) >= 6
    assert any("e-" in r["spend"] for r in rows), "Postgres prints small floats with an exponent"


def test_detected_from_the_header(tmp_path: Path) -> None:
    assert detect(sniff(SAMPLE), IMPORTERS).name == "litellm_spend_logs_csv"
    # An older table: no status, cache_hit, mcp_namespaced_tool_name, agent_id; columns in another order.
    rows = _rows(SAMPLE)
    header = [h for h in reversed(list(rows[0])) if h not in {"status", "cache_hit", "mcp_namespaced_tool_name"}]
    path = _write(tmp_path / "spend_logs.csv", header, rows)
    assert detect(sniff(path), IMPORTERS).name == "litellm_spend_logs_csv"


def test_failed_request_is_skipped_and_counted(tmp_path: Path) -> None:
    rows = _rows(SAMPLE)
    failed = sum(r["status"] == "failure" for r in rows)
    _, ingested = ingest_one(SAMPLE)
    assert failed >= 1 and ingested.account.skipped_reasons["failed request"] == failed
    # Without the status column (older LiteLLM), the metadata's status says the same.
    path = _write(tmp_path / "spend_logs.csv", [h for h in rows[0] if h != "status"], rows)
    _, ingested = ingest_one(path)
    assert ingested.account.skipped_reasons["failed request"] == failed
    assert ingested.account.rows_read == len(rows)


def test_broken_metadata_is_rejected_with_its_line_and_never_stops_the_scan(tmp_path: Path) -> None:
    """Choice: a row whose metadata is cut is rejected (its cache reads would otherwise be priced as input)."""
    rows = _rows(SAMPLE)
    broken = next(i for i, r in enumerate(rows) if _is_used(r) and '"cached_tokens": 1920' in r["metadata"])
    rows[broken] = {**rows[broken], "metadata": rows[broken]["metadata"][:200]}
    # Metadata holding no JSON object at all (`{}`, as older versions write) is used, with no cache split.
    plain = next(i for i, r in enumerate(rows) if _is_used(r) and r["custom_llm_provider"] == "groq")
    rows[plain] = {**rows[plain], "metadata": "{}"}
    path = _write(tmp_path / "spend_logs.csv", list(rows[0]), rows)
    _, ingested = ingest_one(path)
    account = ingested.account
    assert account.rows_rejected == 1 and account.is_balanced()
    assert account.rows_used == sum(map(_is_used, rows)) - 1
    (rejected,) = account.rejected
    # Every sample row is one line (the JSON holds no newline): header is line 1.
    assert (rejected.line, rejected.column) == (broken + 2, "metadata")
    assert "not JSON" in rejected.reason
    groq = ingested.usage[ingested.usage["provider"] == "groq"].iloc[0]
    assert groq["input_tokens"] == int(rows[plain]["prompt_tokens"])
    (key,) = ingested.key_usage[ingested.key_usage["provider"] == "groq"]["api_key"]
    assert key == rows[plain]["api_key"], "without the alias, the hashed key"


def test_inconsistent_cache_counts_are_rejected(tmp_path: Path) -> None:
    rows = _rows(SAMPLE)
    i = next(i for i, r in enumerate(rows) if '"cached_tokens": 1920' in r["metadata"])
    rows[i] = {**rows[i], "prompt_tokens": "1000"}
    path = _write(tmp_path / "spend_logs.csv", list(rows[0]), rows)
    _, ingested = ingest_one(path)
    (rejected,) = ingested.account.rejected
    assert (rejected.line, rejected.column) == (i + 2, "prompt_tokens")


def test_audit_json_gives_usage_per_provider(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(str(FOLDER), "--as-of", AS_OF.isoformat(), "--json", "-")
    assert result.status == 0, result.err
    data = result.json()
    (source,) = data["inputs"]
    assert (source["format"], source["rows_skipped"], source["rows_rejected"]) == ("litellm_spend_logs_csv", 2, 0)
    tokens, _ = _expected(SAMPLE)
    by_provider: dict[str, int] = defaultdict(int)
    for key, sums in tokens.items():
        by_provider[key.split("|")[0]] += sums["requests"]
    usage: dict[str, int] = defaultdict(int)
    for entry in data["usage"]:
        usage[entry["provider"]] += entry["requests"]
        assert entry["billed_cost"] is None, "LiteLLM's spend is not a bill"
        assert entry["list_cost"] is not None, f"{entry['provider']}:{entry['model_raw']} is priced from the catalog"
    assert usage == by_provider
    assert data["totals"]["billed_cost"] is None


def test_the_proxy_api_json_reads_as_the_same_rows_of_the_csv(tmp_path: Path) -> None:
    """`GET /spend/logs` answers the same rows as JSON objects (metadata an object, not a string)."""
    from auditor.options import AuditOptions
    from auditor.pipeline import run_audit

    answer = SAMPLES / "litellm_spend_logs_json" / "spend_logs_2026-10-01_2026-10-11.json"
    ids = [o["request_id"] for o in json.loads(answer.read_text(encoding="utf-8"))]
    lines = SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    same_rows = tmp_path / "spend_logs.csv"
    with same_rows.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        reader = csv.reader(io.StringIO("".join(lines)))
        header = next(reader)
        writer.writerow(header)
        writer.writerows(r for r in reader if r[0] in ids)

    def audit(path: Path) -> Any:
        return json.loads(run_audit(AuditOptions(inputs=(path,), as_of=AS_OF)).model_dump_json())

    from_json, from_csv = audit(answer), audit(same_rows)
    assert from_json["inputs"][0]["format"] == "litellm_spend_logs_json"
    assert without_files(from_json["usage"]) == without_files(from_csv["usage"])
    account = ("rows_read", "rows_used", "rows_skipped", "rows_rejected", "skipped_reasons")
    assert [from_json["inputs"][0][k] for k in account] == [from_csv["inputs"][0][k] for k in account]
    assert from_json["inputs"][0]["rows_read"] == len(ids) == 14
