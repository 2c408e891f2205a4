"""Compliance checklists per candidate: the items each regime triggered by the data profile requires, with a status.

Which regimes a data class triggers, their items and the vendor fact each item rests on are data
(`pricing/data/checklists.toml`, from the compliance research note, section (a)). An item's status:

- `met`: the endpoint profile documents the fact with a value that meets it (source and as-of date given);
- `blocking`: a documented fact shows it cannot be met; only where a hard gate of `auditor/risk.py` blocks too;
- `verify`: the fact is unknown or partial, there is no endpoint profile, or the item is the user's own step.

Without a data profile (`--data`) no regime is triggered and every checklist is empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from auditor.result import ChecklistItem, Scenario
from auditor.risk import Profile
from pricing.catalog import CatalogModel
from pricing.checklists import DEVELOPER, ChecklistBook, Item, checklist_book
from pricing.endpoints import EndpointBook, Fact, endpoint_book

Status = Literal["met", "verify", "blocking"]


def _status(item: Item, fact: Fact | None, prc_processing: bool) -> Status:
    if fact is None or not fact.known:
        return "verify"
    if fact.value in item.met:
        return "met"
    if fact.value in item.blocking and (prc_processing or not item.blocking_if_prc_processing):
        return "blocking"
    return "verify"


def checklist(
    candidate: CatalogModel, profile: Profile, book: EndpointBook | None = None, lists: ChecklistBook | None = None
) -> list[ChecklistItem]:
    """The checklist of moving traffic with the profile's data classes to one candidate."""
    book = book or endpoint_book()
    lists = lists or checklist_book()
    endpoint = book.for_model(candidate.provider.id, candidate.model.id)
    prc = endpoint is not None and endpoint.inference_in_prc() == "yes"
    out = []
    for regime in lists.triggered(profile.classes):
        for item in regime.item:
            fact: Fact | None = None
            source = regime.source
            if item.fact == DEVELOPER:
                dev = book.developer_of(candidate.model.id)
                fact = dev.nationality if dev else Fact(value="unknown")
                source += f"; developer of {candidate.model.id}: " + (
                    f"{dev.developer}, {fact.cite()}" if dev else "unknown: request from vendor"
                )
            elif item.fact is not None:
                if endpoint is None:
                    source += f"; {item.fact}: no endpoint profile for {candidate.ref}, unknown: request from vendor"
                else:
                    fact = getattr(endpoint, item.fact)
                    source += f"; {endpoint.id}.{item.fact}: {fact.cite()}"
            out.append(
                ChecklistItem(
                    regime=regime.name,
                    item=item.item,
                    status=_status(item, fact, prc),
                    source=source,
                    as_of=fact.checked if fact is not None and fact.known else None,
                )
            )
    return out


def checklist_scenarios(
    scenarios: Sequence[Scenario], candidates: Sequence[CatalogModel], profile: Profile
) -> list[Scenario]:
    """Each scenario with its `checklist`; a hybrid lists each candidate it routes to, prefixed by its id."""
    if not profile.classes:
        return list(scenarios)
    by_ref = {c.ref: c for c in candidates}
    out = []
    for scenario in scenarios:
        if scenario.kind == "hybrid":
            refs = sorted({s.candidate for s in scenario.segments if s.candidate in by_ref})
            items = [
                i.model_copy(update={"item": f"[{ref}] {i.item}"})
                for ref in refs
                if ref is not None
                for i in checklist(by_ref[ref], profile)
            ]
        elif scenario.candidate in by_ref:
            items = checklist(by_ref[scenario.candidate], profile)
        else:
            items = []
        out.append(scenario.model_copy(update={"checklist": items}))
    return out


def checklist_notes(profile: Profile) -> list[str]:
    """What the checklists rest on, or why they are empty."""
    if not profile.classes:
        return [
            "Compliance checklists: empty, because no data profile was given (--data); which regimes apply "
            "depends on the data classes in the traffic."
        ]
    return [
        "Compliance checklists: the items each regime triggered by the data classes requires (compliance note "
        "section (a)); met = a documented vendor fact shows it (source and as-of date), verify = the fact is "
        "unknown or partial or the step is the user's own, blocking = a documented fact shows it cannot be met. "
        "DORA and US financial supervision need a sector overlay, which the data profile does not take yet."
    ]
