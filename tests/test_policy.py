"""The policy file (`--policy`): validation, merging with the flags, per-segment data profiles and the hybrid's routes,
the DOJ Data Security Program bulk gate, and sector overlays in the checklists.

Expected values come from the reference facts and the sample read with the csv module, not from the code: the
OpenRouter sample's projects are its `app_name` column; DeepSeek's own API has no BAA and is PRC-domiciled; OpenAI
has a BAA and is in the US; the DOJ thresholds (28 CFR 202.205) are: personal health data more than 10,000 US
persons, covered personal identifiers more than 100,000.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest

from auditor.checklists import checklist
from auditor.errors import AuditorError
from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.policy import load_policy, profile_of
from auditor.risk import Profile, SegmentProfile, assess, parse_profile, route_filter
from pricing.catalog import lookup_candidate
from tests.conftest import AS_OF, ROOT, SAMPLES, csv_rows

OPENROUTER = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
EXAMPLE = ROOT / "docs" / "policy-example.toml"
DEEPSEEK, OPENAI, BEDROCK = "deepseek:deepseek-flash", "openai:gpt-5-mini", "aws:deepseek.r1-v1:0"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _priced(projects: list[str], tokens: int = 1_000_000) -> pd.DataFrame:
    n = len(projects)
    return pd.DataFrame(
        {
            "provider": ["openai"] * n,
            "model_raw": ["gpt-5"] * n,
            "model_ref": ["openai:gpt-5"] * n,
            "project": projects,
            "api_key": [""] * n,
            "service_tier": ["standard"] * n,
            "time_slot": [-1] * n,
            "request_size_floor_tokens": [0] * n,
            "requests": [100] * n,
            "input_tokens": [tokens] * n,
            "cache_read_tokens": [0] * n,
            "cache_write_tokens": [0] * n,
            "cache_write_1h_tokens": [0] * n,
            "output_tokens": [tokens // 10] * n,
            "reasoning_tokens": [0] * n,
        }
    )


def test_the_documented_example_is_valid_and_read_as_written() -> None:
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    profile = profile_of(AuditOptions(inputs=(), as_of=AS_OF, policy_file=EXAMPLE))
    assert list(profile.classes) == raw["data"] and list(profile.sectors) == raw["sectors"]
    assert list(profile.allowed) == raw["allow_jurisdictions"]
    assert list(profile.banned_jurisdictions) == raw["ban_jurisdictions"]
    assert dict(profile.us_persons) == raw["us_persons"]
    assert [(s.kind, s.name, list(s.classes)) for s in profile.segments] == [
        ("project", raw["segment"][0]["project"], raw["segment"][0]["data"]),
        ("api_key", raw["segment"][1]["api_key"], raw["segment"][1]["data"]),
    ]
    assert dict(profile.segments[0].us_persons) == raw["segment"][0]["us_persons"]
    assert profile.policy_file == EXAMPLE.name


def test_flags_replace_data_and_allowed_jurisdictions_and_add_bans_and_sectors(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'data = ["personal"]\nsectors = ["tax"]\nallow_jurisdictions = ["EU"]\nban_providers = ["deepseek"]\n',
    )
    profile = profile_of(
        AuditOptions(
            inputs=(),
            as_of=AS_OF,
            policy_file=path,
            data_classes=("phi",),
            allow_jurisdictions=("US",),
            ban_providers=("minimax",),
            sectors=("education",),
        )
    )
    assert profile.classes == ("phi",) and profile.allowed == ("US",)
    assert profile.banned == ("deepseek", "minimax") and profile.sectors == ("tax", "education")
    kept = profile_of(AuditOptions(inputs=(), as_of=AS_OF, policy_file=path))
    assert kept.classes == ("personal",) and kept.allowed == ("EU",)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('data = ["phy"]', "policy.toml: data: unknown data class 'phy'; did you mean phi?"),
        ('sectors = ["bank"]', "policy.toml: sectors: unknown sector 'bank'; did you mean us-bank?"),
        ('[[segment]]\nproject = "a"\napi_key = "b"\ndata = ["phi"]', "policy.toml: segment[1]: give exactly one of "
         "project, api_key or model to name the segment"),
        ('[us_persons]\nhealth = -3', "policy.toml: us_persons.health: must be 0 or more"),
        ('[[segment]]\nproject = "a"', "policy.toml: segment[1].data: required; add it"),
        ("colour = 1", "policy.toml: colour: unknown key; use one of data, sectors, allow_jurisdictions, "
         "ban_jurisdictions, allow_providers, ban_providers, capabilities, us_persons, segment"),
        ('[[segment]]\nproject = "a"\ndata = ["phi"]\n[[segment]]\nproject = "a"\ndata = ["none"]',
         "policy.toml: (top level): project 'a' is listed in two [[segment]] tables; merge them into one"),
    ],
)  # fmt: skip
def test_a_bad_policy_file_is_one_line_with_file_key_and_what_to_do(
    tmp_path: Path, run_cli, text: str, line: str
) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, text)
    run = run_cli(str(OPENROUTER), "--policy", str(path), "--json", "/dev/null")
    assert run.status == 2 and "Traceback" not in run.err
    assert run.err.strip().splitlines() == [f"error: {str(path).removesuffix('policy.toml')}{line}"]


def test_invalid_toml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AuditorError) as caught:
        load_policy(_write(tmp_path, "data = ["))
    assert "not valid TOML" in caught.value.message and "policy.toml" in caught.value.message


def test_a_phi_project_blocks_a_candidate_for_that_project_only(tmp_path: Path) -> None:
    projects = sorted({r["app_name"] for r in csv_rows(OPENROUTER)})
    assert projects == ["Research", "SupportDesk"]
    path = _write(tmp_path, 'data = ["none"]\n[[segment]]\nproject = "SupportDesk"\ndata = ["phi"]\n')
    options = AuditOptions(inputs=(OPENROUTER,), as_of=AS_OF, candidates=(DEEPSEEK, OPENAI), policy_file=path)
    result = run_audit(options)
    single = {s.candidate: s for s in result.scenarios if s.kind == "single"}
    deepseek = single[DEEPSEEK].risk
    assert deepseek is not None and deepseek.level == "blocked"
    baa = next(f for f in deepseek.findings if f.code == "phi-no-baa")
    assert "project 'SupportDesk': phi" in str(baa.inputs["data_from"])
    assert single[OPENAI].risk is not None and single[OPENAI].risk.level != "blocked"
    (hybrid,) = [s for s in result.scenarios if s.kind == "hybrid"]
    routes = {s.segment: s.candidate for s in hybrid.segments}
    assert routes["SupportDesk"] != DEEPSEEK
    # Without the policy the hybrid routes SupportDesk to DeepSeek (its cheapest fit): the policy moved it.
    plain = run_audit(AuditOptions(inputs=(OPENROUTER,), as_of=AS_OF, candidates=(DEEPSEEK, OPENAI)))
    (before,) = [s for s in plain.scenarios if s.kind == "hybrid"]
    assert {s.segment: s.candidate for s in before.segments}["SupportDesk"] == DEEPSEEK
    # The other project may still go to DeepSeek, and the hybrid is not blocked.
    assert routes["Research"] == DEEPSEEK
    assert hybrid.risk is not None and hybrid.risk.level != "blocked"
    assert not [f for f in hybrid.risk.findings if f.severity == "blocking"]
    assert result.data_profile is not None
    assert [(s.name, s.matched) for s in result.data_profile.segments] == [("SupportDesk", True)]


def test_a_segment_that_names_no_traffic_is_marked_unmatched(tmp_path: Path) -> None:
    path = _write(tmp_path, '[[segment]]\nproject = "Nowhere"\ndata = ["phi"]\n')
    result = run_audit(AuditOptions(inputs=(OPENROUTER,), as_of=AS_OF, candidates=(DEEPSEEK,), policy_file=path))
    assert result.data_profile is not None and not result.data_profile.segments[0].matched
    single = next(s for s in result.scenarios if s.kind == "single")
    assert single.risk is not None and "phi-no-baa" not in {f.code for f in single.risk.findings}


def _dsp(profile: Profile, ref: str = DEEPSEEK, priced: pd.DataFrame | None = None) -> dict[str, str]:
    risk = assess(lookup_candidate(ref), profile, priced if priced is not None else _priced(["a"]))
    return {f.code: f.severity for f in risk.findings if f.code.startswith("doj-dsp")}


def test_doj_bulk_gate_without_a_count_is_red_and_says_which_count_and_the_thresholds() -> None:
    risk = assess(lookup_candidate(DEEPSEEK), parse_profile(["card"], [], []), _priced(["a"]))
    (finding,) = [f for f in risk.findings if f.code == "doj-dsp-count-needed"]
    assert finding.severity == "red"
    assert "financial" in finding.message and "identifiers" in finding.message
    assert "more than 10,000" in finding.message and "more than 100,000" in finding.message
    assert finding.inputs["us_persons_needed"] == "financial, identifiers"
    assert any("28 CFR Part 202" in s for s in finding.sources)


def test_doj_bulk_gate_blocks_above_a_threshold_and_not_at_it() -> None:
    above = Profile(("personal",), (), (), us_persons=(("identifiers", 100_001),))
    at = Profile(("personal",), (), (), us_persons=(("identifiers", 100_000),))
    assert _dsp(above) == {"doj-dsp-bulk": "blocking"}
    assert _dsp(at) == {"doj-dsp-below-threshold": "info"}
    # The same weights on a US host: the program's vendor test is the vendor's domicile.
    assert _dsp(above, BEDROCK) == {}
    assert _dsp(above, OPENAI) == {}
    # A category no data class needs, stated above its threshold, still blocks (geolocation counts devices).
    assert _dsp(Profile(("source-code",), (), (), us_persons=(("geolocation", 1_001),))) == {"doj-dsp-bulk": "blocking"}


def test_segment_counts_add_up_and_the_hybrid_judges_a_segment_on_the_whole_count() -> None:
    # Two projects, each with 60,000 US persons' identifiers: 120,000 in all, above the 100,000 threshold.
    segments = tuple(SegmentProfile("project", p, ("personal",), (("identifiers", 60_000),)) for p in ("a", "b"))
    profile = Profile((), (), (), segments=segments)
    priced = _priced(["a", "b"])
    assert _dsp(profile, priced=priced) == {"doj-dsp-bulk": "blocking"}
    assert _dsp(profile, priced=priced[priced["project"] == "a"]) == {"doj-dsp-below-threshold": "info"}
    allowed = route_filter(profile, priced)
    assert allowed is not None
    assert not allowed("a", lookup_candidate(DEEPSEEK)) and allowed("a", lookup_candidate(OPENAI))


def test_the_doj_checklist_item_follows_the_gate() -> None:
    def status(profile: Profile, ref: str) -> str:
        (item,) = [i for i in checklist(lookup_candidate(ref), profile) if i.item.startswith("Compute the 12-month")]
        return item.status

    above = Profile(("phi",), (), (), us_persons=(("health", 12_000), ("identifiers", 12_000)))
    below = Profile(("phi",), (), (), us_persons=(("health", 9_000), ("identifiers", 9_000)))
    unknown = Profile(("phi",), (), ())
    assert [status(p, DEEPSEEK) for p in (above, below, unknown)] == ["blocking", "met", "verify"]
    assert status(above, OPENAI) == "met"
    assert assess(lookup_candidate(DEEPSEEK), above, _priced(["a"])).level == "blocked"


def _sector(sector: str, ref: str) -> dict[str, tuple[str, str]]:
    items = checklist(lookup_candidate(ref), parse_profile([], [], [], [sector]))
    return {i.item: (i.status, i.source) for i in items}


def test_an_eu_financial_entity_gets_dora_items_resting_on_the_vendor_facts() -> None:
    endpoints = tomllib.loads((ROOT / "pricing" / "data" / "endpoints.toml").read_text(encoding="utf-8"))
    openai = next(e for e in endpoints["endpoint"] if e["id"] == "openai")
    items = _sector("eu-financial", OPENAI)
    assert all(i.startswith(("Art.", "Critical", "DORA")) for i in items)
    (dpa,) = [v for k, v in items.items() if "data-protection" in k]
    assert openai["dpa"]["value"] == "yes" and dpa[0] == "met" and openai["dpa"]["source"] in dpa[1]
    (art29,) = [k for k in items if k.startswith("DORA Art. 29")]
    assert items[art29][0] == "verify" and "(verify: the sources of this checklist cover Arts 28 and 30 only" in art29
    assert all("2022/2554" in source for _, source in items.values())


@pytest.mark.parametrize("sector", ["us-bank", "education", "tax"])
def test_sector_items_the_research_note_does_not_support_say_verify_and_why(sector: str) -> None:
    items = _sector(sector, OPENAI)
    assert items
    for item, (status, _source) in items.items():
        if "(verify:" in item:
            assert status == "verify"


@pytest.mark.parametrize("sector", ["education", "tax"])
def test_state_policies_on_prc_ai_are_met_for_a_us_model_and_left_to_verify_for_a_prc_one(sector: str) -> None:
    def state(ref: str) -> str:
        (status,) = [s for item, (s, _) in _sector(sector, ref).items() if item.startswith("State policies")]
        return status

    assert state(OPENAI) == "met" and state(DEEPSEEK) == "verify"


def test_sectors_reach_the_json_checklist_and_data_profile(run_cli) -> None:  # type: ignore[no-untyped-def]
    run = run_cli(str(OPENROUTER), "--json", "-", "--quiet", "--sector", "eu-financial,tax", "--to", OPENAI)
    assert run.status == 0
    result = run.json()
    assert result["data_profile"]["sectors"] == ["eu-financial", "tax"]
    single = next(s for s in result["scenarios"] if s["kind"] == "single")
    regimes = {i["regime"] for i in single["checklist"]}
    assert regimes == {"DORA (EU financial entity: ICT third-party risk)",
                       "US tax information (IRS Publication 1075, IRC 7216)"}  # fmt: skip
    assert all(i["as_of"] for i in single["checklist"])


def test_banned_jurisdictions_and_allowed_providers_from_the_policy(tmp_path: Path) -> None:
    path = _write(tmp_path, 'ban_jurisdictions = ["PRC"]\nallow_providers = ["openai", "aws", "openrouter"]\n')
    profile = profile_of(AuditOptions(inputs=(), as_of=AS_OF, policy_file=path))

    def codes(ref: str) -> dict[str, str]:
        return {f.code: f.severity for f in assess(lookup_candidate(ref), profile, _priced(["a"])).findings}

    # DeepSeek's own API is PRC-domiciled and not an allowed provider; the same weights on Bedrock are neither.
    deepseek = codes(DEEPSEEK)
    assert deepseek["jurisdiction-banned"] == deepseek["provider-not-allowed"] == "blocking"
    assert not {"jurisdiction-banned", "provider-not-allowed"} & set(codes(BEDROCK))
    # OpenRouter's processing location depends on the route (unknown in its profile): Red, not Blocked.
    assert codes("openrouter:deepseek/deepseek-v4-flash")["processing-in-banned-jurisdiction"] == "red"


def test_a_model_segment_matches_the_catalog_ref_or_the_model_as_written() -> None:
    priced = pd.concat([_priced(["a"]), _priced(["a"]).assign(model_raw="gpt-5-2025-08-07", model_ref="openai:x")])
    by_ref = Profile((), (), (), segments=(SegmentProfile("model", "openai:gpt-5", ("phi",)),))
    by_raw = Profile((), (), (), segments=(SegmentProfile("model", "gpt-5-2025-08-07", ("card",)),))
    assert by_ref.for_rows(priced.iloc[:1]).classes == ("phi",)
    assert by_ref.for_rows(priced.iloc[1:]).classes == ()
    assert by_raw.for_rows(priced).classes == ("card",)
    assert by_raw.for_rows(priced).scope == "model 'gpt-5-2025-08-07': card; other traffic: not given"


def test_the_hybrids_checklists_follow_the_data_of_the_segments_routed_to_each_candidate(tmp_path: Path) -> None:
    path = _write(tmp_path, 'data = ["none"]\n[[segment]]\nproject = "SupportDesk"\ndata = ["phi"]\n')
    result = run_audit(AuditOptions(inputs=(OPENROUTER,), as_of=AS_OF, candidates=(DEEPSEEK, OPENAI), policy_file=path))
    (hybrid,) = [s for s in result.scenarios if s.kind == "hybrid"]
    routes = {s.segment: s.candidate for s in hybrid.segments}
    assert routes == {"Research": DEEPSEEK, "SupportDesk": OPENAI}
    regimes = {(i.item.split("]")[0][1:], i.regime) for i in hybrid.checklist}
    assert (OPENAI, "HIPAA") in regimes and (DEEPSEEK, "HIPAA") not in regimes
    single = next(s for s in result.scenarios if s.candidate == DEEPSEEK)
    assert "HIPAA" in {i.regime for i in single.checklist}
