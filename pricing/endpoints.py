"""Endpoint profiles (`pricing/data/endpoints.toml`): the legal and contractual facts of each provider or hosting.

Every fact carries the source it was read from and the date that source was checked, or is `unknown` (no source
needed; it scores as adverse). A model's developer and nationality are kept apart from the endpoint, because a
rule about who developed the weights follows them to every host.
"""

from __future__ import annotations

import tomllib
from datetime import date
from fnmatch import fnmatchcase
from functools import cache
from importlib.resources import files
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

UNKNOWN = "unknown"
JURISDICTIONS = ("US", "EU", "UK", "PRC", "SG", "APAC")
_PROCESSING = (*JURISDICTIONS, "global", "global-incl-PRC")
_YES_NO = ("yes", "partial", "no")
_CHOICES: dict[str, tuple[str, ...]] = {
    "jurisdiction": JURISDICTIONS,
    "zdr": _YES_NO,
    "certifications": _YES_NO,
    "dpa": _YES_NO,
    "sccs": _YES_NO,
    "baa": _YES_NO,
    "pci": _YES_NO,
    "eu_residency": _YES_NO,
    "us_residency": _YES_NO,
    "training": ("no", "opt-in", "yes", "conflicting"),
    "nationality": JURISDICTIONS,
}
FLAGS = (
    "entity-list",
    "entity-list-pending",
    "ndaa-1532-covered",
    "government-bans",
    "conduct-signal",
    "us-federal-designation-enjoined",
)


class Fact(BaseModel):
    """One vendor fact: its value, what it means in words, where it was read and when that was checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str
    detail: str = ""
    source: str | None = None
    checked: date | None = None
    flags: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        return self.value != UNKNOWN

    @model_validator(mode="after")
    def _sourced(self) -> Fact:
        if self.known and (not self.source or self.checked is None):
            raise ValueError(f"fact {self.value!r} needs a source and a checked date (or value 'unknown')")
        unknown_flags = sorted(set(self.flags) - set(FLAGS))
        if unknown_flags:
            raise ValueError(f"unknown flags {unknown_flags}; known: {', '.join(FLAGS)}")
        return self

    def cite(self) -> str:
        """The fact as a report prints it: value, source and as-of date, or the unknown wording."""
        if not self.known:
            return "unknown: request from vendor" + (f" ({self.detail})" if self.detail else "")
        return f"{self.value} ({self.source}; as of {self.checked})"


class Endpoint(BaseModel):
    """A provider or one hosting of models, with the facts that decide what moving traffic there risks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    providers: tuple[str, ...] = Field(min_length=1)
    models: tuple[str, ...] = Field(min_length=1)
    jurisdiction: Fact
    contracting_entity: Fact
    processing: Fact
    retention: Fact
    zdr: Fact
    training: Fact
    certifications: Fact
    dpa: Fact
    sccs: Fact
    baa: Fact
    pci: Fact
    eu_residency: Fact
    us_residency: Fact
    restrictions: Fact

    @model_validator(mode="after")
    def _values(self) -> Endpoint:
        for name, choices in _CHOICES.items():
            fact = getattr(self, name, None)
            if fact is not None and fact.known and fact.value not in choices:
                raise ValueError(f"{self.id}.{name} = {fact.value!r}; use one of {', '.join(choices)} or unknown")
        if self.processing.known:
            bad = [c for c in self.processing_codes() if c not in _PROCESSING]
            if bad:
                raise ValueError(f"{self.id}.processing has {bad}; use codes from {', '.join(_PROCESSING)}")
        return self

    def processing_codes(self) -> tuple[str, ...]:
        return tuple(c.strip() for c in self.processing.value.split(",")) if self.processing.known else ()

    def inference_in_prc(self) -> Literal["yes", "possible", "no", "unknown"]:
        """Whether requests may be processed in the PRC, read from the processing fact."""
        codes = self.processing_codes()
        if not codes:
            return "unknown"
        if "PRC" in codes:
            return "yes"
        return "possible" if "global-incl-PRC" in codes else "no"


class Developer(BaseModel):
    """Who developed the models whose id matches one of the patterns, and that developer's nationality."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    patterns: tuple[str, ...] = Field(min_length=1)
    developer: str
    nationality: Fact

    @model_validator(mode="after")
    def _value(self) -> Developer:
        if self.nationality.known and self.nationality.value not in JURISDICTIONS:
            raise ValueError(f"{self.developer}: nationality {self.nationality.value!r} not one of {JURISDICTIONS}")
        return self


class EndpointBook(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint: tuple[Endpoint, ...]
    developer: tuple[Developer, ...]

    def for_model(self, provider_id: str, model_id: str) -> Endpoint | None:
        """The first endpoint naming the provider whose model pattern matches, or None."""
        for endpoint in self.endpoint:
            if provider_id in endpoint.providers and any(fnmatchcase(model_id.lower(), p) for p in endpoint.models):
                return endpoint
        return None

    def developer_of(self, model_id: str) -> Developer | None:
        for dev in self.developer:
            if any(fnmatchcase(model_id.lower(), p) for p in dev.patterns):
                return dev
        return None


def parse_endpoints(text: str) -> EndpointBook:
    return EndpointBook.model_validate(tomllib.loads(text))


@cache
def endpoint_book() -> EndpointBook:
    """The bundled endpoint profiles, validated."""
    return parse_endpoints(files("pricing").joinpath("data/endpoints.toml").read_text(encoding="utf-8"))
