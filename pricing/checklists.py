"""Compliance checklists (`pricing/data/checklists.toml`): the regimes each data class triggers and their items.

Data only: which regime a data class brings into play, the items each regime requires (with the rule's source), and
which vendor fact of the endpoint profiles an item rests on, with the fact values that meet it or block it.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pricing.endpoints import Endpoint

DEVELOPER = "developer"


class Item(BaseModel):
    """One checklist item; `fact` names the endpoint fact it rests on (or `developer`), none for the user's own step."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item: str
    fact: str | None = None
    met: tuple[str, ...] = ()
    blocking: tuple[str, ...] = ()
    blocking_if_prc_processing: bool = False

    @model_validator(mode="after")
    def _fact(self) -> Item:
        if self.fact is not None and self.fact != DEVELOPER and self.fact not in Endpoint.model_fields:
            raise ValueError(f"{self.item!r}: fact {self.fact!r} is not an endpoint fact")
        if self.fact is None and (self.met or self.blocking):
            raise ValueError(f"{self.item!r}: met/blocking values need a fact")
        return self


class Regime(BaseModel):
    """A legal regime, the data classes that trigger it, its source and its items."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    triggers: tuple[str, ...] = Field(min_length=1)
    source: str
    item: tuple[Item, ...] = Field(min_length=1)


class ChecklistBook(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    regime: tuple[Regime, ...]

    def triggered(self, classes: tuple[str, ...]) -> list[Regime]:
        """The regimes any of the data classes triggers, in file order."""
        return [r for r in self.regime if set(r.triggers) & set(classes)]


def parse_checklists(text: str) -> ChecklistBook:
    return ChecklistBook.model_validate(tomllib.loads(text))


@cache
def checklist_book() -> ChecklistBook:
    """The bundled checklists, validated."""
    return parse_checklists(files("pricing").joinpath("data/checklists.toml").read_text(encoding="utf-8"))
