"""Compliance checklists (`pricing/data/checklists.toml`): the regimes each data class triggers and their items.

Data only: which regime a data class brings into play, the items each regime requires (with the rule's source), and
which vendor fact of the endpoint profiles an item rests on, with the fact values that meet it or block it.
"""

from __future__ import annotations

import tomllib
from datetime import date
from functools import cache
from importlib.resources import files

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pricing.endpoints import Endpoint

DEVELOPER = "developer"
# The stated US-person counts of the DOJ Data Security Program (policy file), against the vendor's domicile.
US_PERSONS = "us_persons"


class Item(BaseModel):
    """One checklist item; `fact` names the endpoint fact it rests on (or `developer`), none for the user's own step."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item: str
    fact: str | None = None
    met: tuple[str, ...] = ()
    blocking: tuple[str, ...] = ()
    blocking_if_prc_processing: bool = False
    verify: str = Field(default="", description="why the item can only be verified: its sources lack it")

    @model_validator(mode="after")
    def _fact(self) -> Item:
        if (
            self.fact is not None
            and self.fact not in (DEVELOPER, US_PERSONS)
            and self.fact not in Endpoint.model_fields
        ):
            raise ValueError(f"{self.item!r}: fact {self.fact!r} is not an endpoint fact")
        if self.fact is None and (self.met or self.blocking):
            raise ValueError(f"{self.item!r}: met/blocking values need a fact")
        return self


class Regime(BaseModel):
    """A legal regime, the data classes that trigger it, its source and its items."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    triggers: tuple[str, ...] = ()
    sectors: tuple[str, ...] = Field(default=(), description="sector overlays that trigger the regime")
    source: str
    checked: date = Field(description="when the source was read")
    item: tuple[Item, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _triggered(self) -> Regime:
        if not self.triggers and not self.sectors:
            raise ValueError(f"{self.id}: give the data classes (triggers) or sectors that trigger it")
        return self


class ChecklistBook(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    regime: tuple[Regime, ...]

    def triggered(self, classes: tuple[str, ...], sectors: tuple[str, ...] = ()) -> list[Regime]:
        """The regimes any of the data classes or sector overlays triggers, in file order."""
        return [r for r in self.regime if set(r.triggers) & set(classes) or set(r.sectors) & set(sectors)]


def parse_checklists(text: str) -> ChecklistBook:
    return ChecklistBook.model_validate(tomllib.loads(text))


@cache
def checklist_book() -> ChecklistBook:
    """The bundled checklists, validated."""
    return parse_checklists(files("pricing").joinpath("data/checklists.toml").read_text(encoding="utf-8"))
