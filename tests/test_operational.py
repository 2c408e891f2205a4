"""Operational risk factors measured from the usage: shares computed here by hand from the rows given, candidate
facts read from genai-prices directly (not through the code under test), bands as the module documents them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
from genai_prices import Usage, calc_price

from auditor.costing import column_codes
from auditor.ingest import ingest_all
from auditor.operational import measure, measure_groups
from auditor.pipeline import merged_tables
from auditor.risk import Profile, assess, parse_profile
from auditor.scan import scan_connection
from auditor.scenarios import Repricing
from auditor.sources import open_sources
from auditor.workload import Pricebook
from pricing.catalog import lookup_candidate
from tests.conftest import AS_OF, SAMPLES, hybrid_routing_to

MIDNIGHT = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)


def _rows(*rows: dict[str, object]) -> pd.DataFrame:
    base: dict[str, object] = {
        "provider": "openai",
        "model_raw": "gpt-5",
        "model_ref": "openai:gpt-5",
        "project": "",
        "api_key": "",
        "service_tier": "standard",
        "time_slot": -1,
        "request_size_floor_tokens": 0,
        "requests": 10,
        "input_tokens": 0,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "cache_write_1h_tokens": 0,
        "output_tokens": 0,
        "reasoning_tokens": 0,
    }
    return pd.DataFrame([base | r for r in rows])


def _finding(ref: str, priced: pd.DataFrame, code: str, profile: Profile | None = None):  # type: ignore[no-untyped-def]
    risk = assess(lookup_candidate(ref), profile or parse_profile([], [], []), priced, as_of=AS_OF)
    (finding,) = [f for f in risk.findings if f.code == code]
    return risk, finding


def _has_cache_discount(provider: str, model: str) -> bool:
    """Whether genai-prices itself prices a million cached input tokens below a million uncached ones (its input
    tokens include cache reads)."""
    cached = Usage(input_tokens=1_000_000, cache_read_tokens=1_000_000)
    plain = Usage(input_tokens=1_000_000)
    price = [
        calc_price(u, model, provider_id=provider, genai_request_timestamp=MIDNIGHT).input_price
        for u in (cached, plain)
    ]
    return price[0] < price[1]


def test_cache_dependence_measures_the_cache_read_share_of_the_input_side() -> None:
    # 900,000 cache reads of 1,000,000 input-side tokens: 90%, above 80% → band 3; the candidate prices cache reads,
    # so one band lower: 2, weight 0.66 → 44 (amber).
    priced = _rows({"input_tokens": 50_000, "cache_read_tokens": 900_000, "cache_write_tokens": 50_000})
    assert _has_cache_discount("deepseek", "deepseek-flash")  # the candidate prices cache reads
    risk, finding = _finding("deepseek:deepseek-flash", priced, "cache-dependence")
    assert finding.inputs["cache_read_share_pct"] == 90.0 and finding.inputs["band_0_to_3"] == 2
    assert finding.severity == "amber" and risk.operational_score >= 44.0
    assert finding.inputs["prices_as_of"] == "2026-11-27" and "genai-prices" in str(finding.inputs["catalog"])
    low = _rows({"input_tokens": 900_000, "cache_read_tokens": 100_000})
    assert _finding("deepseek:deepseek-flash", low, "cache-dependence")[1].inputs["band_0_to_3"] == 0


def test_batch_dependence_against_the_candidates_batch_price() -> None:
    # 600 of 1,000 tokens at the batch tier: 60%.
    priced = _rows({"service_tier": "batch", "input_tokens": 600}, {"input_tokens": 400})
    # The pricing note: DeepSeek's own API has no batch API; OpenAI's Batch API is 50% off.
    usage = Usage(input_tokens=1_000_000)
    standard = calc_price(usage, "gpt-5-mini", provider_id="openai", genai_request_timestamp=MIDNIGHT).total_price
    batch = calc_price(
        usage,
        "gpt-5-mini",
        provider_id="openai",
        genai_request_timestamp=MIDNIGHT,
        price_context={"processing": "batch"},
    ).total_price
    assert batch < standard
    _, none = _finding("deepseek:deepseek-flash", priced, "batch-dependence")
    _, some = _finding("openai:gpt-5-mini", priced, "batch-dependence")
    assert none.inputs["batch_share_pct"] == 60.0 == some.inputs["batch_share_pct"]
    assert (none.inputs["band_0_to_3"], none.inputs["candidate_batch_price"]) == (3, "no")
    assert (some.inputs["band_0_to_3"], some.inputs["candidate_batch_price"]) == (2, "yes")


def test_long_context_share_counts_requests_at_or_above_the_candidates_tier() -> None:
    # Claude Sonnet 4.5 prices input above 200,000 tokens at a higher tier (genai-prices checks it below).
    small = calc_price(Usage(input_tokens=200_000), "claude-sonnet-4-5", provider_id="anthropic").input_price
    large = calc_price(Usage(input_tokens=200_001), "claude-sonnet-4-5", provider_id="anthropic").input_price
    assert large / 200_001 > small / 200_000
    priced = _rows(
        {"request_size_floor_tokens": 0, "requests": 90, "input_tokens": 900_000},
        {"request_size_floor_tokens": 200_000, "requests": 10, "input_tokens": 2_500_000},
    )
    _, finding = _finding("anthropic:claude-sonnet-4-5", priced, "long-context-share")
    assert finding.inputs["long_context_tier_from_tokens"] == 200_000
    assert finding.inputs["share_at_or_above_tier_pct"] == 10.0 and finding.inputs["band_0_to_3"] == 2
    _, flat = _finding("deepseek:deepseek-flash", priced, "long-context-share")
    assert flat.inputs["long_context_tier_from_tokens"] is None and flat.inputs["band_0_to_3"] == 0


def test_fine_tuned_models_are_lock_in_and_make_the_candidate_red() -> None:
    priced = _rows(
        {"model_raw": "ft:gpt-4o-mini-2024-07-18:acme::abc123", "input_tokens": 250, "output_tokens": 50},
        {"input_tokens": 600, "output_tokens": 100},
    )
    risk, finding = _finding("openai:gpt-5-mini", priced, "lock-in")
    assert finding.inputs["fine_tuned_share_pct"] == 30.0  # 300 of 1,000 tokens
    assert finding.severity == "red" and risk.level == "red" and risk.operational_score == 100.0
    assert "not visible in the ledger" in finding.message
    _, none = _finding("openai:gpt-5-mini", _rows({"input_tokens": 10}), "lock-in")
    assert none.severity == "info" and none.inputs["fine_tuned_tokens"] == 0


def test_time_of_day_prices_and_deprecations_are_stability_findings() -> None:
    priced = _rows({"input_tokens": 1_000, "output_tokens": 100})
    # DeepSeek's peak / off-peak prices (pricing note 4.4): a time-of-use regime is band 3 (D10).
    _, price = _finding("deepseek:deepseek-flash", priced, "price-stability")
    assert price.inputs["time_of_day_prices"] == "yes" and price.inputs["band_0_to_3"] == 3
    # Mistral's devstral-2512: the catalog says "Deprecated 2026-05-22".
    near = assess(lookup_candidate("mistral:devstral-2512"), parse_profile([], [], []), priced, as_of=date(2026, 3, 1))
    far = assess(lookup_candidate("mistral:devstral-2512"), parse_profile([], [], []), priced, as_of=date(2026, 1, 1))
    (n,) = [f for f in near.findings if f.code == "version-stability"]
    (f,) = [f for f in far.findings if f.code == "version-stability"]
    assert n.inputs["retirement_day"] == "2026-05-22"
    assert (n.inputs["days_to_retirement"], n.inputs["band_0_to_3"]) == (82, 2)
    assert (f.inputs["days_to_retirement"], f.inputs["band_0_to_3"]) == (141, 1)


def test_stated_capabilities_are_unknown_for_every_candidate_and_scored_amber() -> None:
    profile = Profile((), (), (), capabilities=("tools", "vision"))
    _, finding = _finding("openai:gpt-5-mini", _rows({"input_tokens": 10}), "capability-gap", profile)
    assert finding.severity == "amber" and finding.inputs["capabilities_needed"] == "tools, vision"


@pytest.mark.parametrize(
    "routed", [["openai:gpt-5-mini", "openai:gpt-5-mini"], ["openai:gpt-5-mini", "deepseek:deepseek-flash"]]
)
def test_provider_concentration_of_the_hybrid_portfolio(routed: list[str]) -> None:
    from auditor.risk import assess_scenarios

    # Before: two projects on two providers, 50% each by tokens.
    priced = _rows(
        {"project": "p0", "provider": "anthropic", "input_tokens": 500},
        {"project": "p1", "provider": "google", "input_tokens": 500},
    )
    hybrid = hybrid_routing_to(routed)
    candidates = [lookup_candidate(r) for r in set(routed)]
    (out,) = assess_scenarios([hybrid], candidates, priced, parse_profile([], [], []), AS_OF)
    assert out.risk is not None
    (finding,) = [f for f in out.risk.findings if f.code == "provider-concentration"]
    assert finding.inputs["largest_share_before_pct"] == 50.0
    if routed[0] == routed[1]:
        assert (finding.inputs["largest_share_after_pct"], finding.inputs["band_0_to_3"]) == (100.0, 2)
        assert finding.severity == "amber"
    else:
        assert (finding.inputs["largest_share_after_pct"], finding.inputs["band_0_to_3"]) == (50.0, 0)


def test_measures_of_groups_taken_at_once_are_each_group_measured_alone() -> None:
    """The plan measures every segment's rows in one pass (`operational.measure_groups`): each group's measures are
    those of its rows alone, on the samples' priced shape (tiers, request sizes, providers, fine-tuned models), by
    API key and in random groups."""
    pricebook = Pricebook()
    paths = tuple(sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.name != "README.md"))
    with open_sources(paths, None) as (sources, _), scan_connection() as con:
        ingested = ingest_all(con, [(s.sniffed, s.importer) for s in sources], pricebook, keys_named=True)
    tables = merged_tables(ingested, [])
    priced = Repricing.of(tables.shape, AS_OF, tables.key_shape).priced
    # The samples' fine-tuned model is unpriced: some rows are named as fine-tuned ids here.
    tuned = priced.index % 17 == 0
    priced["model_raw"] = priced["model_raw"].astype(object)
    priced.loc[tuned, "model_raw"] = "ft:" + priced.loc[tuned, "model_raw"].astype(str) + ":org::a1"
    key_codes, keys = column_codes(priced["api_key"].astype(str))
    random_codes = np.random.default_rng(7).integers(0, 9, len(priced))
    for codes, count in ((key_codes, len(keys)), (random_codes, 9)):
        together = measure_groups(priced, codes, count)
        alone = [measure(priced[codes == g]) for g in range(count)]
        assert together == alone
    measured = measure(priced)
    assert len(keys) > 10 and len(measured.tiers) > 1 and len(measured.by_floor) > 1, "the premise: varied rows"
    assert measured.providers is not None and len(measured.providers) > 3
    assert measured.fine_tuned_models, "the premise: a fine-tuned model"
