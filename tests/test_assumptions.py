"""Migration assumptions: neutral re-pricing is exact, ranges hold their base, each assumption does what it says;
the hybrid scenario routes each segment to its cheapest candidate that fits.

Expected figures come from genai_prices.calc_price on the summed usage, or from separate audits of parts of the file.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from genai_prices import Usage, calc_price

import auditor.pipeline as pipeline
from auditor.assumptions import default_assumptions, resolve_assumptions
from auditor.errors import OptionError
from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.result import AuditResult
from auditor.scenarios import build_scenarios
from tests.conftest import AS_OF, SAMPLES

OPENROUTER = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
CORE = tuple(
    SAMPLES / n for n in ("openai_usage_csv", "anthropic_usage_csv", "anthropic_cost_csv", "openrouter_logs_csv")
)
NANO = Decimal("0.000000001")


def _audit(inputs: tuple[Path, ...], *assume: str, to: tuple[str, ...] = ()) -> AuditResult:
    return run_audit(AuditOptions(inputs=inputs, as_of=AS_OF, candidates=to, assume=assume))


def _single(result: AuditResult, ref: str):  # type: ignore[no-untyped-def]
    return next(s for s in result.scenarios if s.kind == "single" and s.candidate == ref)


def _priced_usage(result: AuditResult) -> Usage:
    """The priced usage of the result summed, in genai-prices' terms (input includes cache traffic)."""
    rows = [u for u in result.usage if u.model is not None]
    read = sum(u.cache_read_tokens for u in rows)
    write = sum(u.cache_write_tokens + u.cache_write_1h_tokens for u in rows)
    return Usage(
        input_tokens=sum(u.input_tokens for u in rows) + read + write,
        cache_read_tokens=read,
        cache_write_tokens=write,
        output_tokens=sum(u.output_tokens for u in rows),
    )


def _price(usage: Usage, ref: str, at: datetime, context: dict[str, str] | None = None) -> Decimal:
    provider, model = ref.split(":", 1)
    return calc_price(usage, model, provider_id=provider, genai_request_timestamp=at, price_context=context).total_price  # type: ignore[arg-type]


def _noon() -> datetime:
    return datetime.combine(AS_OF, time(12), tzinfo=UTC)


def test_assume_neutral_prices_observed_tokens_as_the_audit_does(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = {}
    original = build_scenarios

    def spy(shape, pricebook, candidates, as_of, assumptions=None, repricing=None):  # type: ignore[no-untyped-def]
        seen.update(shape=shape, pricebook=pricebook, candidates=candidates)
        return original(shape, pricebook, candidates, as_of, assumptions, repricing)

    monkeypatch.setattr(pipeline, "build_scenarios", spy)
    neutral = _audit(CORE, "neutral")
    plain = {s.candidate: s for s in original(seen["shape"], seen["pricebook"], seen["candidates"], AS_OF)}
    singles = [s for s in neutral.scenarios if s.kind == "single"]
    assert len(singles) == len(plain) > 10
    for s in singles:
        expected = plain[s.candidate]
        assert (s.baseline_cost, s.projected_cost, s.savings) == (
            expected.baseline_cost,
            expected.projected_cost,
            expected.savings,
        )
        assert s.low_cost == s.high_cost == s.projected_cost
        assert s.drivers == []
    assert all(a.value == a.low == a.high for a in neutral.assumptions)


def test_default_assumptions_give_a_range_holding_the_base_and_name_their_sources() -> None:
    result = _audit(CORE)
    assert {a.name for a in result.assumptions} == {
        "token_ratio",
        "output_verbosity",
        "reasoning_verbosity",
        "cache_hit_share",
        "batch_share",
        "offpeak_share",
    }
    for a in result.assumptions:
        assert a.low <= a.value <= a.high and a.low < a.high
        assert "checked 2026-11-28" in a.source and len(a.source) > 80
    for s in result.scenarios:
        assert s.low_cost is not None and s.high_cost is not None
        assert s.low_cost < s.projected_cost < s.high_cost, s.candidate
        effects = [d.effect for d in s.drivers]
        assert effects == sorted(effects, reverse=True) and effects[0] > 0


def test_token_ratio_scales_every_token_of_the_candidate() -> None:
    ref = "openai:gpt-5-mini"  # no per-request price: the whole cost is tokens
    once = _single(_audit((OPENROUTER,), "neutral", to=(ref,)), ref)
    twice = _single(_audit((OPENROUTER,), "neutral", "token_ratio=2", to=(ref,)), ref)
    assert abs(twice.projected_cost - 2 * once.projected_cost) <= 2 * NANO
    assert twice.baseline_cost == once.baseline_cost


def test_neutral_equals_calc_price_and_cache_hit_share_zero_prices_cache_reads_as_input() -> None:
    ref = "openai:gpt-5-mini"  # one price for every request size and time of day
    neutral = _audit((OPENROUTER,), "neutral", to=(ref,))
    usage = _priced_usage(neutral)
    assert usage.cache_read_tokens
    assert _single(neutral, ref).projected_cost == _price(usage, ref, _noon()).quantize(NANO)
    uncached = Usage(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens)
    no_cache = _single(_audit((OPENROUTER,), "neutral", "cache_hit_share=0", to=(ref,)), ref)
    assert no_cache.projected_cost == _price(uncached, ref, _noon()).quantize(NANO)
    assert no_cache.projected_cost > _single(neutral, ref).projected_cost


def test_batch_share_one_prices_standard_traffic_at_the_batch_price() -> None:
    ref = "openai:gpt-5-mini"
    result = _audit((OPENROUTER,), "neutral", "batch_share=1", to=(ref,))
    usage = _priced_usage(result)
    batch = _price(usage, ref, _noon(), {"processing": "batch"})
    assert batch < _price(usage, ref, _noon())  # the catalog has a batch price for it
    assert _single(result, ref).projected_cost == batch.quantize(NANO)


def test_offpeak_share_one_moves_all_traffic_to_the_cheapest_half_hour() -> None:
    ref = "deepseek:deepseek-flash"  # peak and off-peak prices, one price for every request size
    result = _audit((OPENROUTER,), "neutral", "offpeak_share=1", to=(ref,))
    usage = _priced_usage(result)
    midnight = datetime.combine(AS_OF, time(0), tzinfo=UTC)
    by_half_hour = [_price(usage, ref, midnight + timedelta(minutes=30 * i)) for i in range(48)]
    assert min(by_half_hour) < max(by_half_hour)
    assert _single(result, ref).projected_cost == min(by_half_hour).quantize(NANO)
    # half of it: half way between the cost as served and the off-peak cost
    half = _single(_audit((OPENROUTER,), "neutral", "offpeak_share=0.5", to=(ref,)), ref).projected_cost
    served = _single(_audit((OPENROUTER,), "neutral", to=(ref,)), ref).projected_cost
    assert abs(half - (served + min(by_half_hour)) / 2) <= NANO


def test_unknown_assumption_is_one_line_with_a_suggestion(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(str(OPENROUTER), "--as-of", AS_OF.isoformat(), "--assume", "token_raito=1.1", "--json", "-")
    assert result.status == 2
    assert result.err.strip().count("\n") == 0
    assert "token_raito" in result.err and "did you mean token_ratio" in result.err


@pytest.mark.parametrize("flag", ["batch_share=1.5", "token_ratio=0", "token_ratio=abc", "output_verbosity"])
def test_bad_assumption_values_are_refused(flag: str) -> None:
    with pytest.raises(OptionError):
        resolve_assumptions((flag,))


def test_assume_sets_one_and_collapses_its_range() -> None:
    resolved = {a.name: a for a in resolve_assumptions(("cache_hit_share=0.8",))}
    assert (resolved["cache_hit_share"].value, resolved["cache_hit_share"].high) == (Decimal("0.8"), Decimal("0.8"))
    defaults = {a.name: a for a in default_assumptions()}
    assert resolved["token_ratio"] == defaults["token_ratio"]


def _part_of(tmp_path: Path, name: str, keep: set[str]) -> Path:
    """The OpenRouter sample with only the rows of some apps: its header and those lines, byte for byte."""
    lines = OPENROUTER.read_bytes().splitlines(keepends=True)
    with OPENROUTER.open(encoding="utf-8", newline="") as handle:
        apps = [row["app_name"] for row in csv.DictReader(handle)]
    assert len(apps) == len(lines) - 1
    path = tmp_path / name
    path.write_bytes(lines[0] + b"".join(line for line, app in zip(lines[1:], apps, strict=True) if app in keep))
    return path


def test_hybrid_routes_each_project_to_its_cheapest_candidate_that_fits(tmp_path: Path) -> None:
    small, large = "groq:openai/gpt-oss-120b", "openai:gpt-5-mini"  # 131,072 and 400,000 token windows
    result = _audit((OPENROUTER,), to=(small, large))
    (hybrid,) = [s for s in result.scenarios if s.kind == "hybrid"]
    assert hybrid.segmented_by == "project"
    choice = {seg.segment: seg for seg in hybrid.segments}
    assert set(choice) == {"Research", "SupportDesk"}
    # Research has requests above 200k tokens: only the larger window fits it.
    assert choice["Research"].largest_request_tokens == 200_000
    assert (choice["Research"].candidate, choice["Research"].passing_candidates) == (large, 1)
    assert (choice["SupportDesk"].candidate, choice["SupportDesk"].passing_candidates) == (small, 2)
    # On the observed tokens (assumptions neutral), the same as auditing each project's rows on its candidate.
    neutral = _audit((OPENROUTER,), "neutral", to=(small, large))
    (plain,) = [s for s in neutral.scenarios if s.kind == "hybrid"]
    plain_choice = {seg.segment: seg for seg in plain.segments}
    research = _single(_audit((_part_of(tmp_path, "r.csv", {"Research"}),), "neutral", to=(large,)), large)
    support = _single(_audit((_part_of(tmp_path, "s.csv", {"SupportDesk"}),), "neutral", to=(small,)), small)
    assert plain.baseline_cost == research.baseline_cost + support.baseline_cost
    assert plain_choice["Research"].projected_cost == research.projected_cost
    assert plain_choice["SupportDesk"].projected_cost == support.projected_cost
    assert abs(plain.projected_cost - research.projected_cost - support.projected_cost) <= NANO
    # With the default assumptions, a candidate carries the values of its all-in-one scenario into every segment,
    # so routing never costs more than the cheapest candidate that fits every segment.
    assert hybrid.projected_cost <= _single(result, large).projected_cost
    assert hybrid.low_cost is not None and hybrid.high_cost is not None
    assert hybrid.low_cost < hybrid.projected_cost < hybrid.high_cost
    # Cheaper than either candidate alone would be allowed to be: the small one cannot take Research.
    assert hybrid.projected_cost < _single(result, large).projected_cost


def _rows_of_models(tmp_path: Path, name: str, slugs: set[str]) -> Path:
    """The OpenRouter sample with only the rows of some models: its header and those lines, byte for byte."""
    lines = OPENROUTER.read_bytes().splitlines(keepends=True)
    with OPENROUTER.open(encoding="utf-8", newline="") as handle:
        models = [row["model_permaslug"] for row in csv.DictReader(handle)]
    path = tmp_path / name
    path.write_bytes(lines[0] + b"".join(line for line, m in zip(lines[1:], models, strict=True) if m in slugs))
    return path


def test_per_family_defaults_are_exact_for_a_mix_of_source_models(tmp_path: Path) -> None:
    """Each source model keeps its own family defaults: the workload's cost on a candidate is the sum of each
    model's rows audited alone (one average ratio over the mix would weigh the models by tokens, not by cost)."""
    candidate = "anthropic:claude-sonnet-4-5"
    with OPENROUTER.open(encoding="utf-8", newline="") as handle:
        slugs = sorted({row["model_permaslug"] for row in csv.DictReader(handle)})
    assert len(slugs) >= 3
    whole = _single(_audit((OPENROUTER,), to=(candidate,)), candidate)
    audits = [
        _audit((_rows_of_models(tmp_path, f"m{i}.csv", {slug}),), to=(candidate,)) for i, slug in enumerate(slugs)
    ]
    alone = [_single(a, candidate) for a in audits if a.scenarios]  # an unpriced model has no scenario
    assert len(alone) >= 3
    assert abs(whole.projected_cost - sum(s.projected_cost for s in alone)) <= NANO * len(slugs)
    assert whole.baseline_cost == sum(s.baseline_cost for s in alone)


def test_groups_of_the_same_assumptions_give_the_range_of_their_sum() -> None:
    """The hybrid sums its (segment, source model) groups per (candidate, source model) before taking its range:
    groups with the same assumptions cost, at the base and at every corner, what their sum costs."""
    from auditor.assumptions import PARTS, VARIANTS, CostParts, cost_range_of
    from auditor.result import money

    assumptions = resolve_assumptions(())
    native = {"answer_native": Decimal("0.25"), "reasoning_native": Decimal("0.5")}

    def parts(k: int) -> dict[str, tuple[Decimal, ...]]:
        return {
            v: tuple(Decimal(f"{k * (i + 1) * (j + 2)}.123456789") for i in range(len(PARTS)))
            for j, v in enumerate(VARIANTS)
        }

    a, b = parts(3), parts(7)
    summed = {v: tuple(x + y for x, y in zip(a[v], b[v], strict=True)) for v in VARIANTS}
    apart = cost_range_of([(CostParts(a, **native), assumptions), (CostParts(b, **native), assumptions)])
    together = cost_range_of([(CostParts(summed, **native), assumptions)])
    assert money(apart.low) < money(apart.base) < money(apart.high), "the premise: the assumptions move the cost"
    for one, other in ((apart.base, together.base), (apart.low, together.low), (apart.high, together.high)):
        assert money(one) == money(other)
    assert [(n, money(e)) for n, e in apart.drivers] == [(n, money(e)) for n, e in together.drivers]
