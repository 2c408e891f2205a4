"""Access to the genai-prices catalog bundled with the pinned package: providers, models, did-you-mean."""

from __future__ import annotations

import difflib
import heapq
from dataclasses import dataclass
from functools import cache, cached_property
from importlib.metadata import version

from genai_prices import data_snapshot
from genai_prices.types import ModelInfo, Provider
from rapidfuzz import process
from rapidfuzz.distance import Indel

from auditor.errors import OptionError


@dataclass(frozen=True)
class CatalogModel:
    """A model as the catalog knows it, reached through one provider."""

    provider: Provider
    model: ModelInfo

    @property
    def ref(self) -> str:
        """`provider:model`, the way the command line names a candidate."""
        return f"{self.provider.id}:{self.model.id}"

    @property
    def display_name(self) -> str:
        return f"{self.model.name or self.model.id} ({self.provider.name})"

    @cached_property
    def is_own(self) -> bool:
        """Whether the model is reached at the provider that lists it, not through a fallback provider (a search of
        the provider's models, which may be many: asked for every price lookup, so kept)."""
        return any(self.model is m for m in self.provider.models)


@cache
def catalog_version() -> str:
    """The genai-prices package version whose bundled data priced this run (read once: the package metadata is
    read from disk on every lookup)."""
    return version("genai-prices")


@cache
def providers_by_id() -> dict[str, Provider]:
    return {p.id: p for p in data_snapshot.get_snapshot().providers}


def find_model(provider_id: str, model_ref: str) -> CatalogModel | None:
    """The catalog model a provider serves under `model_ref` (dated snapshots and aliases match), or None."""
    provider = providers_by_id().get(provider_id)
    if provider is None:
        return None
    # A catalog id names its model exactly; other names go through the catalog's match rules.
    model = next((m for m in provider.models if m.id == model_ref), None)
    if model is None:
        model = provider.find_model(model_ref, all_providers=data_snapshot.get_snapshot().providers)
    if model is None:
        return None
    return CatalogModel(provider, model)


def suggest_models(provider_id: str | None, model_ref: str, limit: int = 3) -> list[str]:
    """Close catalog ids for a name the catalog does not know, as `provider:model`: difflib's closest."""
    if provider_id not in providers_by_id():
        provider_id = None  # a provider the catalog does not know: look for the name everywhere
    by_lower = _ids_by_lower(provider_id)
    wanted = (f"{provider_id}:{model_ref}" if provider_id else model_ref).lower()
    return [by_lower[h] for h in _close_matches(wanted, list(by_lower), limit)]


def _close_matches(wanted: str, names: list[str], limit: int) -> list[str]:
    """`difflib.get_close_matches(wanted, names, limit, _CLOSE)`, scoring fewer names.

    difflib's ratio (2 x matched characters / both lengths) never exceeds the indel similarity (2 x the longest
    common subsequence / both lengths), fast to compute: names are scored in falling order of it, until it
    falls below the cutoff or below the last of the `limit` best ratios found (a tie may still enter)."""
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(wanted)
    bounds = process.extract(wanted, names, scorer=Indel.normalized_similarity, score_cutoff=_CLOSE - 1e-9, limit=None)
    scored: list[tuple[float, str]] = []
    for name, bound, _ in bounds:
        if len(scored) >= limit and bound + 1e-9 < heapq.nlargest(limit, scored)[-1][0]:
            break
        matcher.set_seq1(name)
        if matcher.real_quick_ratio() >= _CLOSE and matcher.quick_ratio() >= _CLOSE and matcher.ratio() >= _CLOSE:
            scored.append((matcher.ratio(), name))
    return [name for _, name in heapq.nlargest(limit, scored)]


_CLOSE = 0.5


@cache
def _ids_by_lower(provider_id: str | None) -> dict[str, str]:
    """The catalog's `provider:model` ids (of one provider, or all) by their lower case."""
    pool: list[str] = []
    for pid, provider in providers_by_id().items():
        if provider_id is None or pid == provider_id:
            pool.extend(f"{pid}:{m.id}" for m in provider.models)
    return {p.lower(): p for p in pool}


def lookup_candidate(ref: str) -> CatalogModel:
    """Resolve a `PROVIDER:MODEL` candidate given on the command line, or fail with suggestions."""
    provider_id, sep, model_ref = ref.partition(":")
    if not sep or not provider_id or not model_ref:
        raise OptionError(
            f"candidate '{ref}' is not of the form PROVIDER:MODEL",
            "use the catalog ids, e.g. --to deepseek:deepseek-flash or --to openai:gpt-5-mini",
        )
    providers = providers_by_id()
    if provider_id not in providers:
        close = difflib.get_close_matches(provider_id, list(providers), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else "provider ids: " + ", ".join(sorted(providers))
        raise OptionError(f"unknown provider '{provider_id}' in --to {ref}", hint)
    found = find_model(provider_id, model_ref)
    if found is None:
        close = suggest_models(provider_id, model_ref)
        hint = f"did you mean {', '.join(close)}?" if close else f"see the models of {provider_id} in the catalog"
        raise OptionError(f"unknown model '{model_ref}' at provider '{provider_id}' in --to {ref}", hint)
    return found


@dataclass(frozen=True)
class DefaultCandidate:
    ref: str
    group: str
    why: str


@cache
def default_candidates() -> tuple[DefaultCandidate, ...]:
    """The curated default candidate set from `pricing/data/candidates.toml`."""
    import tomllib
    from importlib.resources import files

    raw = tomllib.loads(files("pricing").joinpath("data/candidates.toml").read_text(encoding="utf-8"))
    return tuple(DefaultCandidate(c["ref"], c["group"], c["why"]) for c in raw["candidate"])
