"""The migration plan: savings that add up, recommendation rules, quality evidence, phases, benchmark, negotiation,
portfolio, and its PDF, XLSX and terminal rendering. Expected values are recomputed from the JSON and the samples."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.plan import allocate, sample_size
from auditor.result import AuditResult
from pricing.endpoints import endpoint_book
from tests.conftest import AS_OF, ROOT, SAMPLES, csv_rows

OPENAI = SAMPLES / "openai_usage_csv"
OPENROUTER = SAMPLES / "openrouter_activity_csv" / "openrouter_activity_2026-10.csv"
ANTHROPIC = SAMPLES / "anthropic_usage_csv" / "usage-2026-10.csv"
QUALITY = ROOT / "docs" / "quality-example.csv"
CONTRACT = ROOT / "docs" / "contract-example.toml"
MTOK = Decimal(1_000_000)


def _audit(*inputs: Path, **options: Any) -> AuditResult:
    return run_audit(AuditOptions(inputs=inputs, as_of=AS_OF, **options))


@pytest.fixture(scope="module")
def openai_plain() -> AuditResult:
    return _audit(OPENAI)


@pytest.fixture(scope="module")
def openai_quality() -> AuditResult:
    return _audit(OPENAI, quality_file=QUALITY)


def _hybrid(result: AuditResult) -> Any:
    (hybrid,) = [s for s in result.scenarios if s.kind == "hybrid"]
    return hybrid


def _n(population: int) -> int:
    """The stated rule, computed here: n0 = ceil((1.6449 + 0.8416)^2 * 0.25 / 0.05^2), corrected for N."""
    n0 = math.ceil((1.6449 + 0.8416) ** 2 * 0.25 / 0.0025)
    assert n0 == 619
    return n0 if population == 0 else min(population, math.ceil(n0 / (1 + (n0 - 1) / population)))


def test_segment_savings_add_up_exactly_to_the_scenario_savings(openai_plain: AuditResult) -> None:
    plan, hybrid = openai_plain.plan, _hybrid(openai_plain)
    assert plan is not None and plan.scenario == "hybrid" and plan.scenario_savings == hybrid.savings
    assert sum((s.savings for s in plan.segments), Decimal(0)) == hybrid.savings == plan.savings
    assert plan.savings_forgone == 0
    # Each segment's share is its own baseline less projected cost in the scenario (no rounding rest here).
    by_segment = {c.segment: c.baseline_cost - c.projected_cost for c in hybrid.segments}
    assert {s.segment: s.savings for s in plan.segments} == by_segment


def test_savings_add_up_with_a_contract_that_reprices_the_baseline() -> None:
    result = _audit(OPENAI, ANTHROPIC, contract_file=CONTRACT)
    plan, hybrid = result.plan, _hybrid(result)
    assert plan is not None and hybrid.baseline_basis == "contract"
    segments = sum((s.baseline_cost - s.projected_cost for s in hybrid.segments), Decimal(0))
    assert segments != hybrid.savings  # the contract moves the scenario's baseline, not its segments'
    assert sum((s.savings + s.savings_forgone for s in plan.segments), Decimal(0)) == hybrid.savings
    assert plan.savings + plan.savings_forgone == hybrid.savings


def test_allocate_spreads_the_rest_in_nano_units_by_weight() -> None:
    nano = Decimal("0.000000001")
    parts = {"a": Decimal("1.000000000"), "b": Decimal("2.000000000"), "c": Decimal(0)}
    # 10 nano-units over weights 1:2 (c has none): 3.33 and 6.67, the larger remainder gets the spare unit.
    out = allocate(Decimal("3.000000010"), parts, {"a": Decimal(1), "b": Decimal(2)})
    assert out == {"a": Decimal(1) + 3 * nano, "b": Decimal(2) + 7 * nano, "c": Decimal(0)}
    negative = allocate(Decimal("2.5"), parts, {"a": Decimal(1), "b": Decimal(1)})
    assert negative == {"a": Decimal("0.75"), "b": Decimal("1.75"), "c": Decimal(0)}
    assert sum(negative.values()) == Decimal("2.5")


@pytest.mark.parametrize("population", [0, 1, 100, 210, 4690, 53907, 10**7])
def test_sample_size_follows_the_stated_rule(population: int) -> None:
    assert sample_size(population) == _n(population)


def test_without_quality_evidence_every_move_is_phased_and_names_its_evaluation(openai_plain: AuditResult) -> None:
    plan = openai_plain.plan
    assert plan is not None and plan.quality_file is None
    for s in plan.segments:
        assert s.recommendation == "migrate-in-phases" and s.quality.status == "none"
        assert [p.name for p in s.phases] == ["shadow", "canary", "ramp", "full"]
        text = s.evaluation_required or ""
        assert text.startswith("Before the canary: evaluate " + str(s.candidate))
        assert all(m in text for m in s.current_models) and f"on {_n(s.requests):,} requests" in text
    assert any("No evaluation results were given (--quality)" in n for n in openai_plain.notes)


def test_quality_evidence_decides_migrate_stay_and_phases(openai_quality: AuditResult) -> None:
    plan = openai_quality.plan
    assert plan is not None and plan.quality_file == "quality-example.csv"
    seg = {s.segment: s for s in plan.segments}
    # proj_support: gemini-2.5-flash-lite 0.90 against gpt-5 0.91, within 2% (0.91 * 0.98 = 0.8918); gpt-5 is the
    # segment's only model, so the scores cover all of it: green and supported -> migrate, no shadow needed.
    support = seg["proj_support"]
    assert support.quality.status == "supports" and support.quality.coverage_pct == 100.0
    assert support.quality.current_scores == {"openai:gpt-5": 0.91} and support.quality.candidate_score == 0.9
    assert support.recommendation == "migrate" and support.rating == "green"
    assert [p.name for p in support.phases] == ["canary", "ramp", "full"] and support.evaluation_required is None
    # proj_triage: 0.79 is more than 2% below both current models (0.88, 0.86) -> stay, its savings forgone.
    triage = seg["proj_triage"]
    assert triage.quality.status == "against" and triage.recommendation == "stay" and not triage.phases
    choice = {c.segment: c for c in _hybrid(openai_quality).segments}["proj_triage"]
    assert triage.savings == 0 and triage.savings_forgone == choice.baseline_cost - choice.projected_cost
    # proj_legacy: the candidate has a score for every segment (*), its current models none -> insufficient.
    legacy = seg["proj_legacy"]
    assert legacy.quality.status == "insufficient" and legacy.quality.candidate_score == 0.84
    assert legacy.recommendation == "migrate-in-phases" and "cover 0%" in (legacy.evaluation_required or "")
    assert plan.savings + plan.savings_forgone == _hybrid(openai_quality).savings
    assert plan.savings == support.savings + legacy.savings


def test_a_red_rated_candidate_makes_the_segment_stay() -> None:
    # OpenRouter's data location depends on the routed provider (unknown): red for personal data.
    ref = "openrouter:deepseek/deepseek-v4-flash"
    result = _audit(OPENROUTER, candidates=(ref,), data_classes=("personal",))
    plan, hybrid = result.plan, _hybrid(result)
    assert plan is not None and hybrid.savings > 0
    routed = [s for s in plan.segments if s.candidate == ref]
    assert routed and all(s.rating == "red" and s.recommendation == "stay" for s in routed)
    assert all("processing-location-unknown (red)" in s.reasons[0] for s in routed)
    assert plan.savings == 0 and plan.savings_forgone == hybrid.savings
    assert plan.benchmark_plan.segments == []


def test_phases_carry_numbers_from_the_segments_traffic(openai_plain: AuditResult) -> None:
    plan = openai_plain.plan
    assert plan is not None
    seg = {s.segment: s for s in plan.segments}["proj_support"]
    choice = {c.segment: c for c in _hybrid(openai_plain).segments}["proj_support"]
    # Requests of the segment, recomputed from the sample: priced rows of project proj_support (its fine-tuned
    # model has no catalog price, so it is not in the priced workload the scenarios move).
    rows = _csv_rows(OPENAI)
    mine = [r for r in rows if r["project_id"] == "proj_support" and not r["model"].startswith("ft:")]
    requests = sum(int(float(r["num_model_requests"])) for r in mine)
    # Requests per day are over the days with usage (empty daily buckets are skipped rows): 2 + 10 days.
    used = [r for r in rows if float(r["num_model_requests"] or 0) or float(r["input_tokens"] or 0)]
    active_days = len({r["start_time_iso"][:10] for r in used})
    assert active_days == 12
    assert seg.requests == requests
    n = _n(requests)
    shadow, canary, ramp, full = seg.phases
    assert shadow.min_requests == n and shadow.traffic_share_pct == 0
    assert canary.traffic_share_pct == 5.0 and canary.min_days == max(7, math.ceil(n / (requests / active_days * 0.05)))
    assert ramp.traffic_share_pct == 50.0 and ramp.min_days == 14
    assert ramp.min_requests == math.ceil(requests / active_days * 7 * 0.75)
    assert full.traffic_share_pct == 100.0 and full.min_days == 30
    now = (choice.baseline_cost / requests).quantize(Decimal("0.000001"))
    assert f"cost per request above ${now} (the current models': no saving left)" in canary.rollback_triggers
    month = (choice.projected_cost / active_days * 30).quantize(Decimal("0.01"))
    assert any(f"expected ${month:,}" in m for m in full.metrics)


def _csv_rows(folder: Path) -> list[dict[str, str]]:
    return [row for path in sorted(folder.glob("*.csv")) for row in csv_rows(path)]


def test_benchmark_plan_samples_by_the_rule_and_prices_the_sample(openai_plain: AuditResult) -> None:
    plan = openai_plain.plan
    assert plan is not None
    choices = {c.segment: c for c in _hybrid(openai_plain).segments}
    bench = {b.segment: b for b in plan.benchmark_plan.segments}
    assert set(bench) == {s.segment for s in plan.segments if s.recommendation != "stay"}
    for name, b in bench.items():
        assert b.sample_requests == _n(b.population_requests)
        c = choices[name]
        expected = (c.projected_cost * b.sample_requests / b.population_requests).quantize(Decimal("1e-9"))
        assert b.shadow_cost == expected
    assert "619 requests" in plan.benchmark_plan.rule
    assert [c.split(":")[0] for c in plan.benchmark_plan.compare] == ["quality", "latency", "token counts", "cost"]


def test_negotiation_brief_rates_recomputed_from_the_usage_and_the_scenarios() -> None:
    result = _audit(OPENROUTER)
    plan = result.plan
    assert plan is not None
    (brief,) = plan.negotiation.vendors
    assert brief.vendor == "openrouter"
    # The export's own columns: Usage is what was billed; prompt + completion tokens (reasoning is inside completion).
    rows = _csv_rows(OPENROUTER.parent)
    tokens = sum(int(r["Prompt Tokens"]) + int(r["Completion Tokens"]) for r in rows)
    billed = sum(Decimal(r["Usage"]) for r in rows)
    assert brief.billed_tokens == brief.list_tokens == tokens and brief.billed_cost == billed
    assert brief.effective_rate == (billed * MTOK / tokens).quantize(Decimal("1e-9"))
    list_cost = sum((u.list_cost for u in result.usage if u.list_cost is not None), Decimal(0))
    assert brief.list_rate == (list_cost * MTOK / tokens).quantize(Decimal("1e-9"))
    assert brief.discount_vs_list_pct == round(float(1 - brief.effective_rate / brief.list_rate) * 100, 2)
    # OpenRouter is the only vendor: its traffic on a candidate is the whole scenario of that candidate.
    singles = {s.candidate: s for s in result.scenarios if s.kind == "single"}
    cheapest = sorted(singles.values(), key=lambda s: (s.projected_cost, s.candidate))[:3]
    assert [a.candidate for a in brief.alternatives] == [s.candidate for s in cheapest]
    for a in brief.alternatives:
        assert a.projected_cost == singles[a.candidate].projected_cost
        assert a.rate_per_mtok == (a.projected_cost * MTOK / brief.priced_tokens).quantize(Decimal("1e-9"))
    best = brief.alternatives[0].rate_per_mtok
    assert brief.price_cut_to_match_pct == round(float(1 - best / brief.effective_rate) * 100, 2)


def test_negotiation_covers_each_vendor_and_skips_blocked_candidates() -> None:
    result = _audit(
        OPENAI, ANTHROPIC, data_classes=("phi",), candidates=("deepseek:deepseek-flash", "openai:gpt-5-mini")
    )
    plan = result.plan
    assert plan is not None
    assert [v.vendor for v in plan.negotiation.vendors] == ["anthropic", "openai"]
    for v in plan.negotiation.vendors:
        assert v.billed_cost is None and v.effective_rate is None  # usage exports state no charges
        assert [a.candidate for a in v.alternatives] == ["openai:gpt-5-mini"]  # DeepSeek's API: no BAA, blocked
        assert "no billed cost is stated" in v.message


def test_portfolio_before_and_after_by_provider_and_jurisdiction(openai_plain: AuditResult) -> None:
    plan, hybrid = openai_plain.plan, _hybrid(openai_plain)
    assert plan is not None
    providers = {p.name: p for p in plan.portfolio.by_provider}
    # Before: all on OpenAI at as-of list prices, the scenario's baseline; after: each segment on its candidate.
    assert providers["openai"].before_cost == hybrid.baseline_cost and providers["openai"].before_pct == 100.0
    after: dict[str, Decimal] = {}
    for c in hybrid.segments:
        provider = (c.candidate or "openai").split(":")[0]
        after[provider] = after.get(provider, Decimal(0)) + c.projected_cost
    assert {n: p.after_cost for n, p in providers.items() if p.after_cost} == after
    assert sum(p.after_cost for p in providers.values()) == hybrid.projected_cost
    assert math.isclose(sum(p.after_pct for p in providers.values()), 100, abs_tol=0.02)
    book = endpoint_book()
    jurisdictions = {p.name for p in plan.portfolio.by_jurisdiction}
    expected = set()
    for ref in {s.candidate for s in plan.segments} | {"openai:gpt-5"}:
        provider, _, model = str(ref).partition(":")
        endpoint = book.for_model(provider, model)
        expected.add(endpoint.jurisdiction.value if endpoint and endpoint.jurisdiction.known else "unknown")
    assert jurisdictions == expected


def test_quality_file_errors_name_file_line_and_column(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "scores.csv"
    bad.write_text("model,task,score\ngpt-5,proj_support,0.9\ngpt-5-mini,proj_support,high\n", encoding="utf-8")
    run = run_cli(str(OPENAI), "--json", "-", "--quiet", "--quality", str(bad))
    assert run.status == 2 and "Traceback" not in run.err
    assert run.err.splitlines()[0] == "error: scores.csv, line 3, column 'score': 'high' is not a number"
    bad.write_text("model,score\ngpt-5,0.9\n", encoding="utf-8")
    run = run_cli(str(OPENAI), "--json", "-", "--quiet", "--quality", str(bad))
    assert run.status == 2 and run.err.startswith("error: scores.csv, line 1: has no 'segment' column")
    bad.write_text("model,segment,score\ngpt-5,a,1\nGPT-5,a,2\n", encoding="utf-8")
    run = run_cli(str(OPENAI), "--json", "-", "--quiet", "--quality", str(bad))
    assert run.status == 2 and "line 3, column 'model': GPT-5 already has a score for a on line 2" in run.err


def test_cli_json_carries_the_plan_and_the_renderers_show_it(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook
    from pypdf import PdfReader

    pdf, xlsx = tmp_path / "r.pdf", tmp_path / "r.xlsx"
    run = run_cli(str(OPENAI), "--quality", str(QUALITY), "--json", str(tmp_path / "r.json"), "--pdf", str(pdf),
                  "--xlsx", str(xlsx))  # fmt: skip
    assert run.status == 0
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    plan = data["plan"]
    assert {"segments", "benchmark_plan", "negotiation"} <= set(plan)
    assert {"segment", "recommendation", "candidate", "savings", "phases"} <= set(plan["segments"][0])
    assert sum(Decimal(s["savings"]) + Decimal(s["savings_forgone"]) for s in plan["segments"]) == Decimal(
        plan["scenario_savings"]
    )
    assert "migration plan (hybrid scenario): 1 migrate, 1 migrate in phases, 1 stay" in run.out
    text = " ".join(p.extract_text() for p in PdfReader(pdf).pages)
    for heading in ("Migration plan", "Recommendations", "Benchmark plan", "Negotiation brief", "Portfolio before"):
        assert heading in text
    sheet = load_workbook(xlsx)["Plan"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    saved = {r[1]: Decimal(str(r[7])) for r in rows if r[0] == "segment" and r[6] == "savings"}
    assert saved == {s["segment"]: Decimal(s["savings"]) for s in plan["segments"]}


def test_when_every_candidate_is_blocked_nothing_moves_and_the_brief_says_so() -> None:
    # DoD work: DeepSeek (PRC-developed) is blocked, so the route-by-segment scenario has nowhere to route.
    result = _audit(OPENAI, candidates=("deepseek:deepseek-flash",), data_classes=("dod",))
    plan = result.plan
    assert plan is not None and not [s for s in result.scenarios if s.kind == "hybrid"]
    assert plan.scenario is None and plan.segments == [] and plan.savings == 0
    assert plan.benchmark_plan.segments == []
    (brief,) = plan.negotiation.vendors
    assert brief.alternatives == [] and brief.message.endswith("no candidate that is not blocked prices this traffic.")
    assert [(p.name, p.before_cost, p.after_cost) for p in plan.portfolio.by_provider] == [
        ("openai", result.scenarios[0].baseline_cost, result.scenarios[0].baseline_cost)
    ]


def test_the_billed_rate_leaves_out_lines_charged_on_other_days_than_their_tokens() -> None:
    """On the samples, Anthropic's cost export covers 2026-10-01 to 03 and its usage export 2026-10-01 to 14: the
    two lines both hold are billed for three days of their fourteen days of tokens (the reconciliation's coverage),
    which read as 84.6% below list. They are left out of the billed rate, and the discount compares billed with list
    cost on the same lines. OpenAI's lines are all charged on other days (or months) than their tokens: no billed
    rate, the brief asks from the list rate."""
    result = _audit(SAMPLES)
    assert result.plan is not None
    briefs = {v.vendor: v for v in result.plan.negotiation.vendors}
    covered = {r.model_raw for r in result.reconciliation if r.provider == "anthropic" and r.coverage}
    anthropic = briefs["anthropic"]
    assert covered and set(anthropic.left_out) == covered
    lines = [
        u
        for u in result.usage
        if u.provider == "anthropic" and u.all_tokens() and u.billed_cost is not None and u.model_raw not in covered
    ]
    billed = sum(
        (u.billed_cost - (u.billed_non_token_cost or 0) for u in lines if u.billed_cost is not None), Decimal(0)
    )
    listed = sum((u.list_cost for u in lines if u.list_cost is not None), Decimal(0))
    assert anthropic.billed_cost == billed and anthropic.billed_tokens == sum(u.all_tokens() for u in lines)
    assert anthropic.discount_vs_list_pct == round(float(1 - billed / listed) * 100, 2)
    openai = briefs["openai"]
    assert openai.effective_rate is None and openai.billed_cost is None and openai.left_out
    assert openai.discount_vs_list_pct is None and "ask for" in openai.message and "off the list rate" in openai.message


def test_the_canary_says_what_its_share_comes_to() -> None:
    """5% of a segment's traffic: its requests a day where the data counts them, never "about 0 requests a day" for
    a segment whose source counts none; where the sample takes months to gather at 5%, what 25% would take; and a
    segment whose whole traffic is the sample is evaluated on it and moved whole (not a 1,160-day canary)."""
    from auditor.plan import _canary_traffic

    assert _canary_traffic(0.0, 619, 7, 0) == (
        "5% of live traffic (the data counts no requests of this segment: count them in the shadow run)"
    )
    assert _canary_traffic(364.0, 619, 34, 160_000) == "5% of live traffic (about 18.2 requests a day)"
    # 619 requests at 5% of 10 a day: 1,238 days; at 25%: 248 days.
    assert _canary_traffic(10.0, 619, 1_238, 4_000) == (
        "5% of live traffic (about 0.5 requests a day): 619 requests take 1,238 days at this share; at 25% they "
        "take 248 days, or the evaluation accepts a smaller sample"
    )
    assert _canary_traffic(0.0155, 9, 1_160, 9).startswith(
        "5% of live traffic (fewer than 0.1 requests a day): the segment's 9 requests of the audited period are its "
        "whole sample"
    )


def test_figures_per_request_are_of_the_sources_that_count_requests() -> None:
    """A segment fed by a request log and by a usage export that counts no requests (Anthropic's usage CSV): its
    tokens and cost per request are the request log's alone, the same as when the log is audited by itself (the
    export's 35M tokens over the log's 20 requests read 1.6M input-side tokens per request)."""
    log = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
    mixed = _audit(log, SAMPLES / "anthropic_usage_csv")
    alone = _audit(log)

    def research(result: AuditResult) -> Any:
        assert result.plan is not None
        return {s.segment: s for s in result.plan.segments}["Research"]

    rows = [r for r in csv_rows(log) if r["app_name"] == "Research"]
    requests = len(rows)
    side = sum(int(r["tokens_prompt"]) for r in rows) / requests
    output = sum(int(r["tokens_completion"]) for r in rows) / requests
    for result in (mixed, alone):
        seg = research(result)
        assert seg.requests == requests == 20
        metrics = seg.phases[1].metrics
        assert any(m.startswith(f"input-side tokens per request: now {side:,.0f};") for m in metrics), metrics
        assert any(m.startswith(f"output tokens per request: now {output:,.0f};") for m in metrics), metrics
    # The cost per request: the segment's cost on the log's rows (here at list price, as the log audited alone).
    now = (research(alone).baseline_cost / requests).quantize(Decimal("0.000001"))
    assert research(mixed).baseline_cost > research(alone).baseline_cost
    for result in (mixed, alone):
        assert (
            f"cost per request above ${now} (the current models': no saving left)"
            in research(result).phases[1].rollback_triggers
        )
    (bench,) = [b for b in mixed.plan.benchmark_plan.segments if b.segment == "Research"]  # type: ignore[union-attr]
    assert bench.shadow_cost is not None and bench.shadow_cost < research(mixed).baseline_cost


def test_the_segment_whose_source_names_no_project_is_named_as_the_usage_by_project_names_it(
    tmp_path: Path,
) -> None:
    """LiteLLM's spend log leaves some requests without a team: the plan (segmented by project) calls that segment
    "(no project)", as the usage by project does, in its evaluation text, the PDF and the workbook; the JSON keeps
    the source's own value ('')."""
    from openpyxl import load_workbook
    from pypdf import PdfReader

    from auditor.report.pdf import write_pdf
    from auditor.report.xlsx import write_xlsx
    from auditor.result import NO_PROJECT

    result = _audit(SAMPLES / "litellm_spend_logs_csv")
    assert result.plan is not None and result.plan.segmented_by == "project"
    unnamed = {s.segment: s for s in result.plan.segments}[""]
    assert NO_PROJECT in {p.project for p in result.usage_by_project}
    assert unnamed.evaluation_required is not None and f"segment '{NO_PROJECT}'" in unnamed.evaluation_required
    write_xlsx(result, tmp_path / "r.xlsx")
    plan_rows = list(load_workbook(tmp_path / "r.xlsx")["Plan"].iter_rows(values_only=True))
    names = {r[1] for r in plan_rows if r[0] in ("segment", "benchmark") and r[2] is not None}  # not the rule's row
    assert names == {NO_PROJECT, "research", "search", "support-bot"}
    write_pdf(result, tmp_path / "r.pdf")
    text = " ".join(page.extract_text() for page in PdfReader(tmp_path / "r.pdf").pages)
    assert NO_PROJECT in text.split("Migration plan", 1)[1]
    assert "(not stated)" not in text


def test_the_pdf_lists_the_segments_with_the_largest_savings_and_sums_the_others(tmp_path: Path) -> None:
    """Past 25 segments (over many API keys, a thousand), the PDF's recommendations and benchmark plan list the 25
    with the largest savings, captured or forgone, and sum the others on one row; the totals are the plan's."""
    from pypdf import PdfReader

    from auditor.report.formatting import money, tokens
    from auditor.report.pdf import write_pdf

    result = run_audit(AuditOptions(inputs=(SAMPLES,), as_of=AS_OF))
    plan = result.plan
    assert plan is not None and len(plan.segments) > 25, "the premise: more segments than the PDF lists"
    ranked = sorted(plan.segments, key=lambda s: (-(s.savings + s.savings_forgone), s.segment))
    listed, others = ranked[:25], ranked[25:]
    write_pdf(result, tmp_path / "r.pdf")
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(tmp_path / "r.pdf").pages)
    recommendations = text[text.index("Recommendations segment") : text.index("The plan is built on")]
    row = (
        f"{len(others)} other segments {len(others)} migrate in phases {tokens(sum(s.requests for s in others))} "
        f"{money(sum((s.savings for s in others), Decimal(0)))} {money(Decimal(0))}"
    )
    assert all(s.recommendation == "migrate-in-phases" for s in others), "the premise: the row's words"
    assert row in recommendations
    assert f"Total {money(plan.savings)} {money(plan.savings_forgone)}" in recommendations
    named = [s for s in plan.segments if s.segment and s.segment.startswith("/")]  # names no other cell holds
    assert named and all((s.segment in recommendations) == (s in listed) for s in named)
    benchmark = text[text.index("Benchmark plan segment") : text.index("Sample size:")]
    benched = [b for b in plan.benchmark_plan.segments if b.segment in {s.segment for s in others}]
    costed = sum((b.shadow_cost for b in benched if b.shadow_cost is not None), Decimal(0))
    requests = sum(b.population_requests for b in benched)
    samples = sum(b.sample_requests for b in benched)
    assert f"{len(benched)} other segments {tokens(requests)} {tokens(samples)} {money(costed)}" in benchmark
