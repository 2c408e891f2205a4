"""Compliance checklists per candidate: triggered regimes, item status from the endpoint facts, sources and dates.

Expected facts are read from the endpoint profiles with tomllib, not through the code under test: DeepSeek's own
API has no BAA; AWS (Bedrock) has a documented BAA; Groq's SCCs are unknown.
"""

from __future__ import annotations

import json
import tomllib
from datetime import date
from importlib.resources import files

import pandas as pd
import pytest

from auditor.checklists import checklist
from auditor.risk import DATA_CLASSES, SECTORS, assess, parse_profile
from pricing.catalog import lookup_candidate
from pricing.checklists import checklist_book
from tests.conftest import SAMPLES, hybrid_routing_to

OPENROUTER = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
_TOML = tomllib.loads(files("pricing").joinpath("data/endpoints.toml").read_text(encoding="utf-8"))
ENDPOINTS = {e["id"]: e for e in _TOML["endpoint"]}
SMALL = pd.DataFrame(
    {
        "request_size_floor_tokens": [0],
        "requests": [100],
        "input_tokens": [1_000_000],
        "cache_read_tokens": [0],
        "cache_write_tokens": [0],
        "cache_write_1h_tokens": [0],
    }
)


def _items(ref: str, data: str, regime: str) -> list[tuple[str, str, str, date | None]]:
    return [
        (i.item, i.status, i.source, i.as_of)
        for i in checklist(lookup_candidate(ref), parse_profile([data], [], []))
        if i.regime.startswith(regime)
    ]


def _baa(items: list[tuple[str, str, str, date | None]]) -> tuple[str, str, str, date | None]:
    (baa,) = [i for i in items if i[0].startswith("BAA")]
    return baa


def test_phi_on_deepseeks_own_api_makes_the_baa_item_blocking() -> None:
    assert ENDPOINTS["deepseek"]["baa"]["value"] == "no"
    _, status, source, as_of = _baa(_items("deepseek:deepseek-flash", "phi", "HIPAA"))
    assert status == "blocking"
    assert "164.502(e)" in source and ENDPOINTS["deepseek"]["baa"]["source"] in source
    assert as_of == date.fromisoformat(ENDPOINTS["deepseek"]["baa"]["checked"])


def test_phi_on_a_host_with_a_documented_baa_meets_the_item_with_its_source_and_date() -> None:
    fact = ENDPOINTS["aws-bedrock"]["baa"]
    assert fact["value"] == "yes"
    _, status, source, as_of = _baa(_items("aws:deepseek.r1-v1:0", "phi", "HIPAA"))
    assert status == "met"
    assert fact["source"] in source and as_of == date.fromisoformat(fact["checked"])


def test_eu_personal_on_a_vendor_whose_sccs_are_unknown_leaves_the_transfer_item_to_verify() -> None:
    assert ENDPOINTS["groq"]["sccs"]["value"] == "unknown"
    items = _items("groq:qwen/qwen3-32b", "eu-personal", "GDPR Ch. V")
    (scc,) = [i for i in items if "SCC" in i[0] and "DPF" in i[0]]
    assert scc[1] == "verify" and scc[3] is None and "unknown: request from vendor" in scc[2]
    # The same item is blocking where the vendor has no SCCs and processes in the PRC, as the transfer gate is.
    (prc,) = [i for i in _items("deepseek:deepseek-flash", "eu-personal", "GDPR Ch. V") if i[0] == scc[0]]
    assert prc[1] == "blocking"


def test_only_the_triggered_regimes_are_listed() -> None:
    regimes = {i.regime for i in checklist(lookup_candidate("openai:gpt-5-mini"), parse_profile(["card"], [], []))}
    assert regimes == {"PCI DSS v4.0", "US DOJ Data Security Program"}
    assert checklist(lookup_candidate("openai:gpt-5-mini"), parse_profile(["none"], [], [])) == []
    assert checklist(lookup_candidate("openai:gpt-5-mini"), parse_profile([], [], [])) == []


def test_every_trigger_is_a_data_class_and_every_item_has_a_source() -> None:
    for regime in checklist_book().regime:
        assert set(regime.triggers) <= set(DATA_CLASSES), regime.id
        assert set(regime.sectors) <= set(SECTORS) and (regime.triggers or regime.sectors), regime.id
        assert regime.source and "compliance note" not in regime.source and "[" not in regime.source, regime.id
        assert regime.checked == date(2026, 11, 28), regime.id


@pytest.mark.parametrize(
    "ref",
    [
        "deepseek:deepseek-flash",
        "aws:deepseek.r1-v1:0",
        "groq:qwen/qwen3-32b",
        "together:Qwen/Qwen3.7-Plus",
        "zai:GLM-5.3",
        "minimax:minimax-m3",
        "openai:gpt-5-mini",
        "anthropic:claude-sonnet-5-5",
        "mistral:mistral-large-4",
    ],
)
@pytest.mark.parametrize("data", [c for c in DATA_CLASSES if c != "none"])
def test_a_blocking_item_only_where_a_hard_gate_blocks_the_candidate(ref: str, data: str) -> None:
    profile = parse_profile([data], [], [])
    candidate = lookup_candidate(ref)
    if any(i.status == "blocking" for i in checklist(candidate, profile)):
        assert assess(candidate, profile, SMALL).level == "blocked"


def test_cli_checklists_in_json_and_empty_without_data(run_cli) -> None:  # type: ignore[no-untyped-def]
    args = [str(OPENROUTER), "--json", "-", "--quiet"]
    args += ["--to", "deepseek:deepseek-flash", "--to", "aws:deepseek.r1-v1:0"]
    result = json.loads(run_cli(*args, "--data", "phi").out)
    single = {s["candidate"]: s for s in result["scenarios"] if s["kind"] == "single"}
    baa = {c: next(i for i in s["checklist"] if i["item"].startswith("BAA")) for c, s in single.items()}
    assert baa["deepseek:deepseek-flash"]["status"] == "blocking"
    assert baa["aws:deepseek.r1-v1:0"]["status"] == "met"
    assert baa["aws:deepseek.r1-v1:0"]["as_of"] == ENDPOINTS["aws-bedrock"]["baa"]["checked"]
    assert list(single["aws:deepseek.r1-v1:0"])[-1] == "checklist"
    plain = json.loads(run_cli(*args).out)
    assert all(s["checklist"] == [] for s in plain["scenarios"])
    assert any("Compliance checklists: empty" in n and "--data" in n for n in plain["notes"])


def test_a_hybrid_lists_the_items_of_each_candidate_it_routes_to() -> None:
    from auditor.checklists import checklist_scenarios

    refs = ["deepseek:deepseek-flash", "aws:deepseek.r1-v1:0"]
    hybrid = hybrid_routing_to(refs)
    candidates = [lookup_candidate(r) for r in refs]
    (out,) = checklist_scenarios([hybrid], candidates, parse_profile(["phi"], [], []))
    baa = {i.item.split("]")[0][1:]: i.status for i in out.checklist if "BAA executed" in i.item}
    assert baa == {"deepseek:deepseek-flash": "blocking", "aws:deepseek.r1-v1:0": "met"}
    (empty,) = checklist_scenarios([hybrid], candidates, parse_profile([], [], []))
    assert empty.checklist == []
