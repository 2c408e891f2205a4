"""The policy file (`--policy FILE`, TOML): the data profile and policy of the traffic, for the risk assessment.

What it holds (see `docs/policy-example.toml`):

- `data`: the data classes of the traffic (the names of `--data`); `sectors`: sector overlays (`eu-financial` for
  DORA, `us-bank`, `education`, `tax`); `allow_jurisdictions`, `ban_jurisdictions`, `allow_providers`,
  `ban_providers`; `capabilities` the workload needs (`tools`, `vision`, `structured-output`, `audio`);
- `[us_persons]`: the 12-month count of distinct US persons (devices for `geolocation`) whose data of each DOJ Data
  Security Program category is in the traffic (`genomic`, `omic`, `biometric`, `geolocation`, `health`,
  `financial`, `identifiers`): the ledger has no such counts, and the bulk gate needs them;
- `[[segment]]`: a project, API key or model (`project = "..."`, `api_key = "..."` or `model = "provider:model"`,
  named as the ledger and the hybrid scenario name them) whose traffic holds other data classes: its `data`
  replaces the top-level `data` for its traffic, with its own `us_persons`. The top-level `data` and `us_persons`
  are those of the traffic no segment names.

Flags and the file: `--data` and `--allow-jurisdiction` replace the file's top-level `data` and
`allow_jurisdictions`; `--ban-provider` and `--sector` add to the file's lists. A bad file is one error line naming
the file, the key and what to do (exit 2).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from auditor.errors import AuditorError, OptionError
from auditor.options import AuditOptions
from auditor.risk import (
    CAPABILITIES,
    DSP_THRESHOLDS,
    SEGMENT_KINDS,
    Profile,
    SegmentProfile,
    data_classes_of,
    jurisdictions_of,
    parse_profile,
    sectors_of,
)


class PolicyError(AuditorError):
    """The policy file cannot be used: one line with the file, the key and what to do."""

    def __init__(self, path: Path, key: str, problem: str) -> None:
        super().__init__(f"{path}: {key}: {problem}" if key else f"{path}: {problem}")


def _checked(fn: Any, values: list[str]) -> tuple[str, ...]:
    try:
        return tuple(fn(values, "value"))
    except OptionError as exc:
        raise ValueError(exc.message.removeprefix("value: ") + f"; {exc.hint}") from None


class UsPersons(BaseModel):
    """Stated 12-month counts per DOJ category (28 CFR 202.205); a category not stated is unknown."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    genomic: int | None = Field(default=None, ge=0)
    omic: int | None = Field(default=None, ge=0)
    biometric: int | None = Field(default=None, ge=0)
    geolocation: int | None = Field(default=None, ge=0)
    health: int | None = Field(default=None, ge=0)
    financial: int | None = Field(default=None, ge=0)
    identifiers: int | None = Field(default=None, ge=0)

    def counts(self) -> tuple[tuple[str, int], ...]:
        return tuple((c, n) for c in DSP_THRESHOLDS if (n := getattr(self, c)) is not None)


class SegmentEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    project: str | None = None
    api_key: str | None = None
    model: str | None = None
    data: list[str]
    us_persons: UsPersons = UsPersons()

    @field_validator("data")
    @classmethod
    def _data(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError('list at least one data class, e.g. ["phi"], or ["none"]')
        return list(_checked(data_classes_of, value))

    @model_validator(mode="after")
    def _one_name(self) -> SegmentEntry:
        named = [k for k in SEGMENT_KINDS if getattr(self, k) is not None]
        if len(named) != 1:
            raise ValueError("give exactly one of project, api_key or model to name the segment")
        return self

    def profile(self) -> SegmentProfile:
        kind = next(k for k in SEGMENT_KINDS if getattr(self, k) is not None)
        return SegmentProfile(kind, str(getattr(self, kind)), tuple(self.data), self.us_persons.counts())


class PolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    data: list[str] = []
    sectors: list[str] = []
    allow_jurisdictions: list[str] = []
    ban_jurisdictions: list[str] = []
    allow_providers: list[str] = []
    ban_providers: list[str] = []
    capabilities: list[str] = []
    us_persons: UsPersons = UsPersons()
    segment: list[SegmentEntry] = []

    @field_validator("data")
    @classmethod
    def _data(cls, value: list[str]) -> list[str]:
        return list(_checked(data_classes_of, value))

    @field_validator("sectors")
    @classmethod
    def _sectors(cls, value: list[str]) -> list[str]:
        return list(_checked(sectors_of, value))

    @field_validator("allow_jurisdictions", "ban_jurisdictions")
    @classmethod
    def _jurisdictions(cls, value: list[str]) -> list[str]:
        return list(_checked(jurisdictions_of, value))

    @field_validator("allow_providers", "ban_providers")
    @classmethod
    def _providers(cls, value: list[str]) -> list[str]:
        return sorted({v.strip().lower() for v in value if v.strip()})

    @field_validator("capabilities")
    @classmethod
    def _capabilities(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if v not in CAPABILITIES]
        if bad:
            raise ValueError(f"unknown capability '{bad[0]}'; use {', '.join(CAPABILITIES)}")
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _distinct(self) -> PolicyFile:
        seen: set[tuple[str, str]] = set()
        for entry in self.segment:
            p = entry.profile()
            if (p.kind, p.name) in seen:
                raise ValueError(f"{p.kind} '{p.name}' is listed in two [[segment]] tables; merge them into one")
            seen.add((p.kind, p.name))
        both = set(self.allow_jurisdictions) & set(self.ban_jurisdictions)
        if both:
            raise ValueError(f"{', '.join(sorted(both))} is both allowed and banned; keep it in one list")
        return self


_TYPE_HINTS = {
    "missing": "required; add it",
    "list_type": 'must be a list, e.g. ["phi", "personal"]',
    "string_type": "must be a text in quotes",
    "int_type": "must be a whole number, e.g. 12000",
    "int_parsing": "must be a whole number, e.g. 12000",
    "int_from_float": "must be a whole number, e.g. 12000",
    "greater_than_equal": "must be 0 or more",
    "model_type": "must be a table, e.g. [us_persons]",
}


def _key(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += ("." if out else "") + part
    return out


def load_policy(path: Path) -> PolicyFile:
    """Read and validate the policy file; any problem is a PolicyError (file, key, what to do)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise PolicyError(path, "", f"cannot be read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise PolicyError(path, "", "is not UTF-8 text; save the policy as a UTF-8 TOML file") from exc
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(path, "", f"not valid TOML ({exc}); fix the syntax there") from exc
    try:
        return PolicyFile.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(x for x in error["loc"] if x != "__root__")
        if error["type"] == "value_error":
            problem = str(error["msg"]).removeprefix("Value error, ")
        elif error["type"] == "extra_forbidden":
            fields = (
                UsPersons.model_fields
                if "us_persons" in loc
                else SegmentEntry.model_fields
                if loc[0] == "segment"
                else PolicyFile.model_fields
            )
            problem = "unknown key; use one of " + ", ".join(fields)
        else:
            problem = _TYPE_HINTS.get(error["type"], str(error["msg"]))
        raise PolicyError(path, _key(loc) or "(top level)", problem) from None


def profile_of(options: AuditOptions) -> Profile:
    """The data profile of a run: the policy file, if any, merged with the flags (see the module docstring)."""
    flags = parse_profile(options.data_classes, options.allow_jurisdictions, options.ban_providers, options.sectors)
    if options.policy_file is None:
        return flags
    policy = load_policy(options.policy_file)
    return Profile(
        classes=flags.classes if options.data_classes else tuple(policy.data),
        allowed=flags.allowed if options.allow_jurisdictions else tuple(policy.allow_jurisdictions),
        banned=tuple(sorted({*policy.ban_providers, *flags.banned})),
        sectors=tuple(dict.fromkeys((*policy.sectors, *flags.sectors))),
        banned_jurisdictions=tuple(policy.ban_jurisdictions),
        allowed_providers=tuple(policy.allow_providers),
        us_persons=policy.us_persons.counts(),
        capabilities=tuple(policy.capabilities),
        segments=tuple(s.profile() for s in policy.segment),
        policy_file=options.policy_file.name,
    )
