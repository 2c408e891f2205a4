"""Half hours of the same prices (`ratebook.same_rate_slots`), and the route-by-segment scenario that sums them.

Over many segments the hybrid sums a segment's half hours whose prices are the same for every model involved: the
rate ids of a half hour and of the first of its class must be the same, for every model, tier and request size, and
the scenario must be the one it is without summing them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from auditor import hybrid
from auditor.assumptions import resolve_assumptions
from auditor.hybrid import build_hybrid, segmentation
from auditor.importers import engine
from auditor.ingest import ingest_all
from auditor.ledger import TOKEN_COLUMNS
from auditor.pipeline import merged_tables
from auditor.scan import scan_connection
from auditor.scenarios import Repricing
from auditor.sources import open_sources
from auditor.workload import Pricebook
from bench.generate import generate
from pricing.catalog import find_model, lookup_candidate
from pricing.ratebook import RateBook, same_rate_slots
from pricing.rates import SLOTS_PER_DAY, has_time_windows

TIERS = ("standard", "batch", "flex", "priority")


@pytest.mark.parametrize("as_of", [date(2026, 8, 20), date(2026, 11, 27)])  # before and after weekday-only peaks
def test_half_hours_of_one_class_have_the_same_rate_ids(as_of: date) -> None:
    windowed = [find_model("deepseek", m) for m in ("deepseek-chat", "deepseek-v4-flash", "deepseek-v4-pro")]
    models = [m for m in windowed if m is not None] + [lookup_candidate("openai:gpt-5-mini")]
    assert len(models) == 4 and all(has_time_windows(m) for m in models[:3]), "the premise: models priced by hour"
    classes = same_rate_slots(models, as_of, TIERS)
    assert 1 < len(set(classes)) < SLOTS_PER_DAY, "the premise: half hours both apart and together"
    book = RateBook()
    for model in models:
        for tier in TIERS:
            for floor in (0, 200_000):
                slots = pd.DataFrame(
                    {"time_slot": range(SLOTS_PER_DAY), "service_tier": tier, "request_size_floor_tokens": floor}
                )
                ids = book.rate_ids(slots, {}, fixed=model, on_day=as_of)
                assert all(ids[s] == ids[c] for s, c in enumerate(classes)), (model.ref, tier, floor)
    # Without a model priced by the hour, every half hour is one.
    assert set(same_rate_slots(models[3:], as_of, TIERS)) == {0}


def test_the_hybrid_over_keys_is_the_same_with_its_half_hours_summed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "openrouter_logs.csv"
    generate("openrouter", 20_000, log, keys=10)
    header, *body = log.read_text(encoding="utf-8").splitlines()
    assert header.endswith(',"app_name"'), "the premise: the application is the last column"
    log.write_text("\n".join([header, *(line.rsplit(",", 1)[0] + ",Search" for line in body)]) + "\n", "utf-8")
    pricebook = Pricebook()
    # The shape by key with every half hour apart (the scan sums those of the same prices: see
    # `tests/test_shape_keys.py`), so that the hybrid's own summing is what is tested here.
    monkeypatch.setattr(engine, "same_price_slots", lambda: tuple(range(SLOTS_PER_DAY)))
    with open_sources((log,), None) as (sources, _), scan_connection() as con:
        tables = merged_tables(ingest_all(con, [(s.sniffed, s.importer) for s in sources], pricebook), [])
    shape, key_shape = tables.shape, tables.key_shape
    as_of = date(2026, 11, 27)
    # Candidates priced by the hour (DeepSeek's peak windows, on weekdays only), and one that is not.
    candidates = [lookup_candidate(r) for r in ("deepseek:deepseek-flash", "deepseek:deepseek-v4-pro", "openai:gpt-5")]
    repricing = Repricing.of(shape, as_of, key_shape)
    assert segmentation(repricing.priced) == "api_key"
    # The premise: the segments' half hours are summed (before the half hours are kept apart below).
    keys = [hybrid.SEGMENT, "model_ref", "time_slot", "service_tier", "request_size_floor_tokens"]
    own = repricing.priced.assign(**{hybrid.SEGMENT: repricing.priced["api_key"]})
    rows = own.groupby(keys)[["requests", *TOKEN_COLUMNS]].sum().reset_index()
    models = [pricebook.models[str(r)] for r in rows["model_ref"].unique()]
    merged, _ = hybrid._slots_merged(rows, repricing.workload_rows(rows), [*models, *candidates], as_of)
    assert len(merged) < len(rows) / 2
    assumptions = resolve_assumptions(())
    summed = build_hybrid(shape, pricebook, candidates, as_of, assumptions, Repricing.of(shape, as_of, key_shape))
    monkeypatch.setattr(hybrid, "same_rate_slots", lambda *_: list(range(SLOTS_PER_DAY)))
    apart = build_hybrid(shape, pricebook, candidates, as_of, assumptions, Repricing.of(shape, as_of, key_shape))
    assert summed == apart and summed is not None and len(summed.segments) == 10
    routed = {s.candidate for s in summed.segments}
    assert routed & {"deepseek:deepseek-flash", "deepseek:deepseek-v4-pro"}, "the premise: routed to hourly prices"
