"""Compliance checklists per candidate: the items each regime triggered by the data profile requires, with a status.

Which regimes a data class triggers, their items and the vendor fact each item rests on are data
(`pricing/data/checklists.toml`, compiled from the public texts each regime names). An item's status:

- `met`: the endpoint profile documents the fact with a value that meets it (source and as-of date given);
- `blocking`: a documented fact shows it cannot be met; only where a hard gate of `auditor/risk.py` blocks too;
- `verify`: the fact is unknown or partial, there is no endpoint profile, or the item is the user's own step.

Sector overlays (`--sector`, or `sectors` in the policy file) trigger their regimes (DORA, US bank supervision,
FERPA, IRS rules for tax data); an item its sources do not support says `verify` and why. The DOJ Data
Security Program's count item rests on the US-person counts of the policy file against the vendor's domicile.
Without a data profile no regime is triggered and every checklist is empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import pandas as pd

from auditor.result import ChecklistItem, Scenario
from auditor.risk import Profile, dsp_assessment, routed_rows
from pricing.catalog import CatalogModel
from pricing.checklists import DEVELOPER, US_PERSONS, ChecklistBook, Item, checklist_book
from pricing.endpoints import Endpoint, EndpointBook, Fact, endpoint_book

Status = Literal["met", "verify", "blocking"]


def _status(item: Item, fact: Fact | None, prc_processing: bool) -> Status:
    if fact is None or not fact.known:
        return "verify"
    if fact.value in item.met:
        return "met"
    if fact.value in item.blocking and (prc_processing or not item.blocking_if_prc_processing):
        return "blocking"
    return "verify"


def _us_persons(profile: Profile, endpoint: Endpoint | None) -> tuple[Status, str]:
    """The DOJ count item: blocking where the bulk gate blocks; met when the vendor is not PRC-domiciled or the stated
    counts are at or below the thresholds; verify when a count is needed and not stated."""
    if endpoint is None:
        return "verify", "no endpoint profile: the vendor's domicile is unknown, request from vendor"
    found = dsp_assessment(profile, endpoint.jurisdiction)
    juris = f"{endpoint.id}.jurisdiction: {endpoint.jurisdiction.cite()}"
    if found is None:
        if endpoint.jurisdiction.value == "PRC":
            if set(profile.classes) & {"us-government", "dod"}:
                return "verify", f"{juris}; government-related data is covered by the program (28 CFR Part 202)"
            return "met", f"{juris}; no US persons' data class in the traffic"
        if not endpoint.jurisdiction.known:
            return "verify", juris
        missing = profile.counts_missing()
        counts = ", ".join(f"{c} {n:,}" for c, n in profile.us_persons) or "none stated"
        state = f"stated counts: {counts}" + (f"; not stated: {', '.join(missing)}" if missing else "")
        return "met", f"{juris}: not PRC-domiciled, the bulk gate does not apply ({state})"
    kind, text = found
    status: Status = {"bulk": "blocking", "count-needed": "verify", "below": "met"}[kind]  # type: ignore[assignment]
    return status, f"{juris}; {text}"


def checklist(
    candidate: CatalogModel, profile: Profile, book: EndpointBook | None = None, lists: ChecklistBook | None = None
) -> list[ChecklistItem]:
    """The checklist of moving traffic with the profile's data classes and sectors to one candidate."""
    book = book or endpoint_book()
    lists = lists or checklist_book()
    endpoint = book.for_model(candidate.provider.id, candidate.model.id)
    prc = endpoint is not None and endpoint.inference_in_prc() == "yes"
    out = []
    for regime in lists.triggered(profile.classes, profile.sectors):
        for item in regime.item:
            fact: Fact | None = None
            source = regime.source
            status: Status | None = None
            if item.fact == DEVELOPER:
                dev = book.developer_of(candidate.model.id)
                fact = dev.nationality if dev else Fact(value="unknown")
                source += f"; developer of {candidate.model.id}: " + (
                    f"{dev.developer}, {fact.cite()}" if dev else "unknown: request from vendor"
                )
            elif item.fact == US_PERSONS:
                status, detail = _us_persons(profile, endpoint)
                fact = endpoint.jurisdiction if endpoint is not None else None
                source += f"; {detail}"
            elif item.fact is not None:
                if endpoint is None:
                    source += f"; {item.fact}: no endpoint profile for {candidate.ref}, unknown: request from vendor"
                else:
                    fact = getattr(endpoint, item.fact)
                    source += f"; {endpoint.id}.{item.fact}: {fact.cite()}"
            text = item.item + (f" (verify: {item.verify})" if item.verify else "")
            out.append(
                ChecklistItem(
                    regime=regime.name,
                    item=text,
                    status=status or _status(item, fact, prc),
                    source=source,
                    as_of=fact.checked if fact is not None and fact.known else None if item.fact else regime.checked,
                )
            )
    return out


def _wanted(profile: Profile) -> bool:
    return bool(profile.classes or profile.sectors or profile.segments)


def checklist_scenarios(
    scenarios: Sequence[Scenario],
    candidates: Sequence[CatalogModel],
    profile: Profile,
    priced: pd.DataFrame | None = None,
) -> list[Scenario]:
    """Each scenario with its `checklist`, on the data profile of the traffic it moves; a hybrid lists each
    candidate it routes to (on the profile of the segments routed there), prefixed by its id."""
    if not _wanted(profile):
        return list(scenarios)
    by_ref = {c.ref: c for c in candidates}
    out = []
    for scenario in scenarios:
        if scenario.kind == "hybrid":
            rows = routed_rows(scenario, priced) if priced is not None else {}
            refs = sorted({s.candidate for s in scenario.segments if s.candidate in by_ref})
            items = [
                i.model_copy(update={"item": f"[{ref}] {i.item}"})
                for ref in refs
                if ref is not None
                for i in checklist(by_ref[ref], _profile_of(profile, rows.get(ref)))
            ]
        elif scenario.candidate in by_ref:
            items = checklist(by_ref[scenario.candidate], _profile_of(profile, priced))
        else:
            items = []
        out.append(scenario.model_copy(update={"checklist": items}))
    return out


def _profile_of(profile: Profile, rows: pd.DataFrame | None) -> Profile:
    return profile.for_rows(rows) if rows is not None and len(rows) else profile


def checklist_notes(profile: Profile) -> list[str]:
    """What the checklists rest on, or why they are empty."""
    if not _wanted(profile):
        return [
            "Compliance checklists: empty, because no data profile was given (--data, --sector or --policy); which "
            "regimes apply depends on the data classes in the traffic and the sector."
        ]
    return [
        "Compliance checklists: the items each regime triggered by the data classes or a sector overlay requires "
        "(each regime names its source); met = a documented vendor fact shows it (source and as-of date), verify = "
        "the fact is unknown or partial, the step is the user's own, or the checklist's sources do not cover the rule "
        "(the item says why), blocking = a documented fact shows it cannot be met. An item's as_of is its vendor "
        "fact's checked date, else the date its rule's source was read."
    ]
