"""Model names as exports write them (dated snapshots, OpenRouter permaslugs, display names) → catalog models."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from pricing.aliases import alias_for
from pricing.catalog import CatalogModel, find_model, suggest_models


@dataclass(frozen=True)
class Resolution:
    """What a (provider, model name) pair of an export is in the catalog; `model` is None when unpriced."""

    provider_id: str
    model_raw: str
    model: CatalogModel | None
    unpriced_reason: str = ""
    suggestions: tuple[str, ...] = field(default=())


def normalise_display_name(name: str) -> str:
    """`Claude Sonnet 4.5` → `claude-sonnet-4-5` (Anthropic's cost export writes display names)."""
    return name.strip().lower().replace(" ", "-").replace(".", "-")


@cache
def resolve_model(provider_id: str, model_raw: str) -> Resolution:
    """Resolve a model name from an export; never guesses a price for a name the catalog lacks."""
    name = model_raw.strip()
    if not name:
        return Resolution(provider_id, model_raw, None, "the source names no model")
    for candidate in dict.fromkeys((name, normalise_display_name(name))):
        found = find_model(provider_id, candidate)
        if found is not None:
            return Resolution(provider_id, model_raw, found)
    # Names the catalog cannot match (Bedrock meter names) may have a curated alias (pricing/data/*.toml).
    aliased = alias_for(provider_id, name)
    if aliased is not None and (found := find_model(provider_id, aliased)) is not None:
        return Resolution(provider_id, model_raw, found)
    base = fine_tune_base(name)
    if base is not None:
        found = find_model(provider_id, base)
        reason = f"fine-tuned model: the catalog has no fine-tuned price for {base} at {provider_id}"
        close = [found.ref] if found else []
        return Resolution(
            provider_id, model_raw, None, reason, tuple(dict.fromkeys(close + suggest_models(provider_id, base)))
        )
    return Resolution(
        provider_id,
        model_raw,
        None,
        f"no price for '{model_raw}' at {provider_id} in the catalog",
        tuple(suggest_models(provider_id, normalise_display_name(name))),
    )


def fine_tune_base(name: str) -> str | None:
    """The base model of an OpenAI-style fine-tune name (`ft:BASE:org:suffix:id`), or None."""
    if name.lower().startswith("ft:"):
        return name[3:].split(":", 1)[0] or None
    return None
