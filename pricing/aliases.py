"""Curated aliases: model names an export writes its own way (Bedrock CUR and Azure meters) → catalog models.

Each alias file (`pricing/data/*.toml`, listed in ALIAS_FILES) names one provider and its aliases; each
alias says where the name was seen and when it was checked. Resolution consults them only after the
catalog's own names fail; a name no file lists stays unpriced.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pricing.catalog import catalog_version, find_model, providers_by_id, suggest_models

ALIAS_FILES: tuple[str, ...] = ("bedrock_meters.toml", "azure_meters.toml")


class Alias(BaseModel):
    """One export name and the catalog model it is."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    """The model name exactly as the importer writes `model_raw`, e.g. `Claude4.5Haiku`."""
    model: str = Field(min_length=1)
    """The genai-prices model id at the file's provider, e.g. `regional.anthropic.claude-haiku-4-5-20251001-v1:0`,
    or a name the catalog resolves there (a dated snapshot, `gpt-4o-2024-08-06`)."""
    source: str = Field(min_length=1)
    """Where the name was seen in the vendor's own data (a document, an offer file, an export)."""
    checked: date
    """When the name and the id were last checked against the pinned genai-prices."""


class AliasFile(BaseModel):
    """The aliases of one provider: names unique, every id known to the pinned catalog."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    provider: str
    """The genai-prices provider id the names belong to, e.g. `aws`."""
    alias: list[Alias]
    """The aliases, one `[[alias]]` table each."""

    @model_validator(mode="after")
    def _check(self) -> AliasFile:
        provider = providers_by_id().get(self.provider)
        if provider is None:
            raise ValueError(f"provider '{self.provider}' is not in genai-prices {catalog_version()}")
        seen: set[str] = set()
        for a in self.alias:
            if a.name in seen:
                raise ValueError(f"alias '{a.name}' is listed twice: keep one entry per name")
            seen.add(a.name)
            # A catalog id, or a name the catalog itself resolves at the provider (a dated snapshot).
            if find_model(self.provider, a.model) is None:
                close = suggest_models(self.provider, a.model)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise ValueError(
                    f"alias '{a.name}' names model '{a.model}', which genai-prices {catalog_version()} "
                    f"lacks at {self.provider}: use a catalog id{hint}"
                )
        return self


def load_alias_file(text: str) -> AliasFile:
    """Parse and validate one alias file's TOML text."""
    import tomllib

    return AliasFile.model_validate(tomllib.loads(text))


@cache
def load_aliases() -> dict[tuple[str, str], str]:
    """(provider id, export name) → catalog model id, from every file of ALIAS_FILES."""
    from importlib.resources import files

    found: dict[tuple[str, str], str] = {}
    for name in ALIAS_FILES:
        aliases = load_alias_file(files("pricing").joinpath("data", name).read_text(encoding="utf-8"))
        for a in aliases.alias:
            found[(aliases.provider, a.name)] = a.model
    return found


def alias_for(provider_id: str, name: str) -> str | None:
    """The catalog model id a curated alias gives this name at this provider, or None."""
    return load_aliases().get((provider_id, name.strip()))
