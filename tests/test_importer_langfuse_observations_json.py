"""Langfuse observations: which reading of `usageDetails` each generation's total supports, and the results.

The expected ledger is computed here from the JSON with plain Python, following the rule the importer
documents (keys disjoint when every key adds up to `total`; details inside input/output when input +
output = `total`; undecidable otherwise), independently of the SQL.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from tests.conftest import AS_OF, SAMPLES, without_files

SAMPLE = SAMPLES / "langfuse_observations_json" / "observations_2026-10-01_2026-10-05.json"


def _observations() -> list[dict[str, Any]]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))["data"]  # type: ignore[no-any-return]


def _expected_ledger(o: dict[str, Any]) -> tuple[int, int, int, int, int] | str | None:
    """(input, cache read, cache write, output, reasoning), "rejected", or None when skipped."""
    if o["type"] != "GENERATION":
        return None
    details = o.get("usageDetails") or {}
    if not details:
        usage = o.get("usage") or {}
        if not (usage.get("input") or usage.get("output")):
            return None
        return (usage["input"], 0, 0, usage["output"], 0)
    if sum(v for k, v in details.items() if k != "total") == 0:
        return None
    if not (o.get("providedModelName") or o.get("model")):
        return "rejected"
    read = sum(v for k, v in details.items() if "cache" in k and ("read" in k or "cached" in k))
    write = sum(v for k, v in details.items() if "cache" in k and ("creation" in k or "write" in k))
    reasoning = sum(v for k, v in details.items() if "reasoning" in k)
    others = sum(v for k, v in details.items() if k not in ("input", "output", "total"))
    every = sum(v for k, v in details.items() if k != "total")
    total = details.get("total")
    if others == 0:
        return (details.get("input", 0), 0, 0, details.get("output", 0), 0)
    if total == every:  # disjoint keys: Langfuse prices each on its own
        plain_input = sum(v for k, v in details.items() if "input" in k and "cache" not in k)
        output = sum(v for k, v in details.items() if "output" in k)
        return (plain_input, read, write, output, reasoning)
    if total == details.get("input", 0) + details.get("output", 0):  # details inside input and output
        return (details["input"] - read - write, read, write, details["output"], reasoning)
    return "rejected"


def _audit(path: Path) -> dict[str, Any]:
    result = run_audit(AuditOptions(inputs=(path,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    return json.loads(result.model_dump_json())  # type: ignore[no-any-return]


def test_each_generation_is_read_as_its_total_says() -> None:
    expected: dict[str, list[int]] = defaultdict(lambda: [0] * 5)
    outcomes = [_expected_ledger(o) for o in _observations()]
    for o, outcome in zip(_observations(), outcomes, strict=True):
        if isinstance(outcome, tuple):
            model = o.get("providedModelName") or o["model"]
            expected[model] = [a + b for a, b in zip(expected[model], outcome, strict=True)]
    audit = _audit(SAMPLE)
    columns = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens")
    assert {u["model_raw"]: [u[c] for c in columns] for u in audit["usage"]} == dict(expected)
    (entry,) = audit["inputs"]
    used = sum(isinstance(x, tuple) for x in outcomes)
    rejected = outcomes.count("rejected")
    assert (entry["rows_read"], entry["rows_used"], entry["rows_rejected"]) == (len(outcomes), used, rejected)
    assert entry["rows_skipped"] == outcomes.count(None)


def test_the_same_observations_as_json_lines_give_the_same_result(tmp_path: Path) -> None:
    lines = tmp_path / "observations.jsonl"
    lines.write_text("".join(json.dumps(o) + "\n" for o in _observations()), encoding="utf-8")
    as_page, as_lines = _audit(SAMPLE), _audit(lines)
    assert as_lines["inputs"][0]["format"] == "langfuse_observations_json"
    assert without_files(as_page["usage"]) == without_files(as_lines["usage"])
    assert as_lines["inputs"][0]["rejected"][0]["line"] == 9


def test_a_generation_whose_details_fit_no_reading_is_rejected_naming_it() -> None:
    (entry,) = _audit(SAMPLE)["inputs"]
    (rejected,) = entry["rejected"]
    assert rejected["where"] == "page 1, record 9"
    assert "cannot tell whether input includes the cached tokens" in rejected["reason"]


@pytest.mark.parametrize(
    ("details", "outcome"),
    [
        ({"input": 100, "input_cached_tokens": 50, "output": 10}, "rejected"),  # no total: undecidable
        ({"input": 100, "output": 10}, (100, 0, 0, 10, 0)),  # no details: both readings agree
        ({"input": 100, "input_cached_tokens": 150, "output": 10, "total": 110}, "rejected"),  # cache > input
    ],
    ids=["no total", "plain", "cache above input"],
)
def test_edge_cases_of_the_reading(tmp_path: Path, details: dict[str, int], outcome: object) -> None:
    (one,) = [o for o in _observations() if o["id"].endswith("01")]
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({**one, "usageDetails": details}) + "\n", encoding="utf-8")
    audit = _audit(path)
    if outcome == "rejected":
        assert audit["inputs"][0]["rows_rejected"] == 1
        return
    (u,) = audit["usage"]
    columns = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens")
    assert tuple(u[c] for c in columns) == outcome
