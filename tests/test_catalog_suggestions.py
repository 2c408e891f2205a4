"""Close-name suggestions for names the catalog lacks are difflib's closest catalog ids, found faster."""

from __future__ import annotations

import difflib

import pytest

from pricing.catalog import providers_by_id, suggest_models


def _difflib_over_the_catalog(provider_id: str | None, model_ref: str, limit: int = 3) -> list[str]:
    """difflib's close matches over every catalog id of the provider (or of all), as suggestions were made."""
    if provider_id not in providers_by_id():
        provider_id = None
    pool = [f"{pid}:{m.id}" for pid, p in providers_by_id().items() if provider_id in (None, pid) for m in p.models]
    by_lower = {p.lower(): p for p in pool}
    wanted = f"{provider_id}:{model_ref}" if provider_id else model_ref
    return [by_lower[h] for h in difflib.get_close_matches(wanted.lower(), list(by_lower), n=limit, cutoff=0.5)]


NAMES = [
    ("anthropic", "claude-sonet-4-5"),
    ("anthropic", "web-search-usage"),
    ("aws", "global-claude4sonnet-(long-context)"),
    ("aws", "knowledge-base:consumption-based:storage"),
    ("openai", "gpt-4o-mini-2024-07-18-ft"),
    ("openai", "o"),
    ("openrouter", "anthropic/claude-4.5-sonnet-20250929"),
    ("google", "gemini-2.5-pro-preview-tts"),
    ("nobody", "claude-haiku-4-5"),
    ("nobody", "zzzzzzzzzzzzzzzzzzzz"),
    ("deepseek", "deepseek-flsh"),
    ("azure", "gpt-4.1-nano-2025-04-14-global-batch" * 8),
]


@pytest.mark.parametrize(("provider", "name"), NAMES)
def test_suggestions_are_difflibs_closest_catalog_ids(provider: str, name: str) -> None:
    for limit in (1, 3, 10):
        assert suggest_models(provider, name, limit) == _difflib_over_the_catalog(provider, name, limit)


def test_a_misspelt_model_is_suggested_its_catalog_id() -> None:
    assert suggest_models("deepseek", "deepseek-flsh")[0] == "deepseek:deepseek-flash"
