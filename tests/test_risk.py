"""Migration risk: legal gates from the endpoint profiles, and context-window fit from request-size buckets.

Expected outcomes are written from the reference facts, not from the code: DeepSeek's own API has no BAA and stores
data in the PRC; AWS (Bedrock) and Groq offer BAAs; DeepSeek, Qwen, Kimi, GLM and MiniMax models are developed in
the PRC; OpenAI, Anthropic, Google models in the US.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from auditor.errors import OptionError
from auditor.operational import measure
from auditor.risk import assess, context_fit, parse_profile
from pricing.catalog import lookup_candidate
from tests.conftest import SAMPLES, hybrid_routing_to

OPENROUTER = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"


def _priced(rows: list[tuple[int, int, int]]) -> pd.DataFrame:
    """Shape rows: (request-size bucket floor, requests, input tokens)."""
    return pd.DataFrame(
        {
            "request_size_floor_tokens": [r[0] for r in rows],
            "requests": [r[1] for r in rows],
            "input_tokens": [r[2] for r in rows],
            "cache_read_tokens": [0] * len(rows),
            "cache_write_tokens": [0] * len(rows),
            "cache_write_1h_tokens": [0] * len(rows),
        }
    )


SMALL = _priced([(0, 100, 1_000_000)])


def _codes(ref: str, data: str, priced: pd.DataFrame = SMALL) -> tuple[str, dict[str, str]]:
    risk = assess(lookup_candidate(ref), parse_profile([data], [], []), priced)
    return risk.level, {f.code: f.severity for f in risk.findings}


def test_phi_on_deepseeks_own_api_is_blocked_citing_the_baa_rule() -> None:
    candidate = lookup_candidate("deepseek:deepseek-flash")
    risk = assess(candidate, parse_profile(["phi"], [], []), SMALL)
    assert risk.level == "blocked"
    baa = [f for f in risk.findings if f.code == "phi-no-baa"]
    assert len(baa) == 1 and baa[0].severity == "blocking"
    assert any("164.502(e)" in s for s in baa[0].sources)
    assert "deepseek.baa" in baa[0].inputs and "as of" in str(baa[0].inputs["deepseek.baa"])


@pytest.mark.parametrize("ref", ["aws:deepseek.r1-v1:0", "groq:qwen/qwen3-32b", "groq:moonshotai/kimi-k2-instruct"])
def test_prc_weights_on_a_us_host_with_a_baa_are_not_blocked_on_that_rule(ref: str) -> None:
    level, codes = _codes(ref, "phi")
    assert "phi-no-baa" not in codes
    assert level != "blocked"


@pytest.mark.parametrize(
    "ref",
    [
        "deepseek:deepseek-flash",
        "together:deepseek-ai/DeepSeek-V4.1-Flash",
        "fireworks:deepseek-v4p1-flash-us",
        "aws:deepseek.r1-v1:0",
        "together:Qwen/Qwen3.7-Plus",
        "groq:qwen/qwen3-32b",
        "moonshotai:kimi-k2.6",
        "aws:global.moonshotai.kimi-k3",
        "zai:GLM-5.3",
        "fireworks:glm-5p3-us",
        "minimax:minimax-m3",
    ],
)
@pytest.mark.parametrize("data", ["us-government", "dod"])
def test_government_work_blocks_every_prc_developed_model_wherever_hosted(ref: str, data: str) -> None:
    level, codes = _codes(ref, data)
    assert level == "blocked" and codes.get("gov-prc-model") == "blocking"


@pytest.mark.parametrize(
    "ref", ["openai:gpt-5-mini", "groq:openai/gpt-oss-120b", "anthropic:claude-sonnet-5-5", "google:gemini-3.8-flash"]
)
def test_government_work_does_not_block_us_developed_models(ref: str) -> None:
    _level, codes = _codes(ref, "us-government")
    assert "gov-prc-model" not in codes and "gov-model-origin-unknown" not in codes


@pytest.mark.parametrize("ref", ["deepseek:deepseek-flash", "moonshotai:kimi-k2.6"])
def test_eu_personal_data_to_a_prc_hosted_endpoint_cites_the_transfer_rule_and_precedents(ref: str) -> None:
    risk = assess(lookup_candidate(ref), parse_profile(["eu-personal"], [], []), SMALL)
    assert risk.level in ("blocked", "red")
    transfer = [f for f in risk.findings if f.code.startswith("eu-transfer")]
    assert transfer and transfer[0].severity in ("blocking", "red")
    text = transfer[0].message + " ".join(transfer[0].sources)
    assert "Arts 44-49" in text and "Garante" in text and "Berlin" in text and "46(1)" in text


def test_eu_personal_data_to_the_eu_vendor_raises_no_transfer_finding() -> None:
    _level, codes = _codes("mistral:mistral-large-4", "eu-personal")
    assert not [c for c in codes if c.startswith("eu-transfer")]


def test_context_fit_shares_from_request_size_buckets() -> None:
    # Buckets (floors are catalog thresholds): 0-32k: 10 requests, 128k-199,999: 3, 200k-256k: 2, 256k-272k: 1.
    priced = _priced([(0, 10, 50_000), (128_000, 3, 450_000), (200_000, 2, 450_000), (256_000, 1, 260_000)])
    fit = context_fit(measure(priced), 131_072)
    # Buckets whose floor is at or above 131,072 (200k, 256k) cannot fit: 3 of 16 requests; 710,000 of 1,210,000
    # input tokens. The 128,000-199,999 bucket straddles the window: 3 more requests may not fit.
    assert (fit.over_requests, fit.requests, fit.over_tokens, fit.tokens) == (3, 16, 710_000, 1_210_000)
    assert (fit.maybe_requests, fit.straddle) == (3, (128_000, 199_999))
    risk = assess(lookup_candidate("groq:openai/gpt-oss-120b"), parse_profile([], [], []), priced)
    finding = next(f for f in risk.findings if f.code == "context-fit")
    assert finding.severity == "red" and risk.level == "red"
    assert finding.inputs["requests_over_window_pct"] == 18.75
    assert "18.75% of requests" in finding.message and "up to 18.75% more" in finding.message
    assert finding.inputs["context_window"] == 131_072
    # A 1M window fits every bucket.
    big = assess(lookup_candidate("openai:gpt-6.1-terra"), parse_profile([], [], []), priced)
    assert next(f for f in big.findings if f.code == "context-fit").inputs["requests_over_window"] == 0


def test_without_a_data_profile_nothing_is_blocked() -> None:
    risk = assess(lookup_candidate("deepseek:deepseek-flash"), parse_profile([], [], []), SMALL)
    assert risk.compliance_score is None and risk.level == "green"
    # Only operational findings: context fit and what the usage shows without catalog prices (lock-in).
    assert {f.code for f in risk.findings} == {"context-fit", "lock-in"}


def test_jurisdiction_policy_and_banned_provider_block() -> None:
    profile = parse_profile(["none"], ["US"], ["openai"])
    assert assess(lookup_candidate("mistral:mistral-large-4"), profile, SMALL).level == "blocked"
    assert assess(lookup_candidate("deepseek:deepseek-flash"), profile, SMALL).level == "blocked"
    assert assess(lookup_candidate("openai:gpt-5-mini"), profile, SMALL).level == "blocked"
    anthropic = assess(lookup_candidate("anthropic:claude-sonnet-5-5"), profile, SMALL)
    assert "jurisdiction-not-allowed" not in {f.code for f in anthropic.findings}


def test_unknown_names_are_refused_with_a_suggestion() -> None:
    with pytest.raises(OptionError) as caught:
        parse_profile(["phi,eu-personl"], [], [])
    assert "eu-personl" in caught.value.message and "eu-personal" in caught.value.hint
    with pytest.raises(OptionError):
        parse_profile(["none,phi"], [], [])
    with pytest.raises(OptionError) as caught:
        parse_profile([], ["USA"], [])
    assert "US" in caught.value.hint


def test_cli_data_profile_in_json_and_bad_class_exits_2(run_cli) -> None:  # type: ignore[no-untyped-def]
    bad = run_cli(str(OPENROUTER), "--json", "-", "--data", "phy")
    assert bad.status == 2 and bad.err.splitlines()[0] == "error: --data: unknown data class 'phy'"
    assert "did you mean phi" in bad.err and "Traceback" not in bad.err
    ok = run_cli(str(OPENROUTER), "--json", "-", "--quiet", "--data", "phi", "--to", "deepseek:deepseek-flash",
                 "--to", "aws:deepseek.r1-v1:0")  # fmt: skip
    assert ok.status == 0
    result = json.loads(ok.out)
    profile = result["data_profile"]
    assert (profile["data_classes"], profile["allowed_jurisdictions"], profile["banned_providers"]) == (["phi"], [], [])
    assert profile["segments"] == [] and profile["policy_file"] is None
    levels = {s["candidate"]: s["risk"]["level"] for s in result["scenarios"] if s["kind"] == "single"}
    assert levels["deepseek:deepseek-flash"] == "blocked"
    assert levels["aws:deepseek.r1-v1:0"] != "blocked"
    plain = json.loads(run_cli(str(OPENROUTER), "--json", "-", "--quiet", "--to", "deepseek:deepseek-flash").out)
    assert plain["data_profile"] is None
    assert any("No data profile was given" in n for n in plain["notes"])
    assert all(s["risk"]["level"] != "blocked" for s in plain["scenarios"])


def test_a_hybrid_takes_the_worst_of_the_candidates_it_routes_to() -> None:
    from auditor.risk import assess_scenarios

    refs = ["deepseek:deepseek-flash", "openai:gpt-5-mini"]
    hybrid = hybrid_routing_to(refs)
    candidates = [lookup_candidate(r) for r in refs]
    (out,) = assess_scenarios([hybrid], candidates, SMALL, parse_profile(["phi"], [], []))
    assert out.risk is not None and out.risk.level == "blocked"
    blocking = [f for f in out.risk.findings if f.severity == "blocking"]
    assert {f.message.split("]")[0] for f in blocking} == {"[deepseek:deepseek-flash"}
    assert all(f.code != "context-fit" for f in out.risk.findings)


def test_terminal_line_counts_the_levels(run_cli) -> None:  # type: ignore[no-untyped-def]
    run = run_cli(str(OPENROUTER), "--data", "dod", "--to", "deepseek:deepseek-flash", "--to", "openai:gpt-6.1-terra",
                  "--json", "/dev/null")  # fmt: skip
    assert run.status == 0
    line = next(x for x in run.out.splitlines() if x.startswith("migration risk of the scenarios:"))
    # DeepSeek (PRC-developed) is blocked for DoD work; the hybrid routes at least one segment somewhere.
    assert "(data: dod)" in line and not line.startswith("migration risk of the scenarios: 0 blocked")


def test_an_aggregator_whose_processing_depends_on_the_route_is_red_for_personal_data() -> None:
    # The compliance note: OpenRouter's data location depends on the routed provider (recorded as unknown).
    level, codes = _codes("openrouter:deepseek/deepseek-v4-flash", "personal")
    assert codes.get("processing-location-unknown") == "red" and level == "red"
    level, codes = _codes("openrouter:deepseek/deepseek-v4-flash", "dod")
    assert level == "blocked" and codes.get("gov-prc-model") == "blocking"


def test_the_hybrid_routes_no_segment_to_a_candidate_the_data_profile_blocks() -> None:
    from auditor.options import AuditOptions
    from auditor.pipeline import run_audit
    from tests.conftest import AS_OF

    blocked, allowed = "deepseek:deepseek-flash", "openai:gpt-5-mini"
    plain = run_audit(AuditOptions(inputs=(OPENROUTER,), as_of=AS_OF, candidates=(blocked, allowed)))
    (before,) = [s for s in plain.scenarios if s.kind == "hybrid"]
    assert blocked in {seg.candidate for seg in before.segments}  # the cheapest somewhere, without a profile
    phi = run_audit(
        AuditOptions(inputs=(OPENROUTER,), as_of=AS_OF, candidates=(blocked, allowed), data_classes=("phi",))
    )
    levels = {s.candidate: s.risk.level for s in phi.scenarios if s.kind == "single" and s.risk is not None}
    assert levels[blocked] == "blocked" and levels[allowed] != "blocked"
    (hybrid,) = [s for s in phi.scenarios if s.kind == "hybrid"]
    assert blocked not in {seg.candidate for seg in hybrid.segments}
    assert hybrid.risk is None or hybrid.risk.level != "blocked"
