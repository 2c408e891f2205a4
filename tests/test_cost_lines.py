"""A price row's source names the price overlays in force at the keys priced at it: for each key (half hour, or the
whole day for slot -1, and service tier) the overlays `applied_overlays` finds there, in the order of the keys."""

from __future__ import annotations

from datetime import date

from auditor.cost_lines import _source
from pricing.catalog import lookup_candidate
from pricing.rates import applied_overlays

# An early-batch model (no time windows), a model without overlays, and a model with weekday peak windows; days
# before the catalog's batch prices, a weekday with peak windows, and a Saturday without them.
MODELS = ("anthropic:claude-haiku-4-5", "openai:gpt-4o-mini", "mistral:mistral-large-4", "deepseek:deepseek-v4-pro")
DAYS = (date(2025, 6, 2), date(2026, 9, 1), date(2026, 9, 5))
KEY_SETS = (
    {(-1, "batch", 0)},
    {(3, "standard", 0)},
    {(30, "standard", 0)},
    {(-1, "standard", 0), (3, "batch", 0), (3, "standard", 1000), (47, "flex", 0)},
)


def test_a_price_rows_source_names_the_overlays_in_force_at_each_of_its_keys() -> None:
    named = set()
    for ref in MODELS:
        model = lookup_candidate(ref)
        for day in DAYS:
            for keys in KEY_SETS:
                expected: dict[str, None] = {}
                for slot, tier, _ in sorted(keys):
                    slots = range(48) if slot < 0 else (slot,)
                    for one in slots:
                        expected.update(dict.fromkeys(applied_overlays(model, day, one, tier)))
                text = _source(model, day, "genai-prices 0.2.3", keys)
                parts = text.split("; corrected by ")
                assert parts[0] == f"genai-prices 0.2.3 list price of {ref} on {day.isoformat()}"
                assert [p.split(":")[0] for p in parts[1:]] == list(expected), (ref, day, keys)
                named.update(expected)
    assert named == {"anthropic-batch-since-launch", "openai-batch-since-launch", "deepseek-weekday-peak"}
