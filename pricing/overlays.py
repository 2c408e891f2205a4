"""Price overlays: sourced corrections to the catalog (`pricing/data/price_overlays.toml`), applied by the rates.

Two kinds, each fact with its source and the date it was checked:

- `weekday_windows`: a model's time-of-day (peak) prices are in force only from `windows_from`, and from
  `weekdays_from` only on the listed UTC weekdays; at other times the price is the one the catalog gives
  without its time windows (the off-peak price). The catalog applies its windows on every day.
- `early_batch`: batch lines dated before the catalog models a batch price (no catalog batch variant in
  force at the instant) and on or after the vendor's launch date get `factor` times the standard price in
  force then, on the price classes the model's own catalog batch price discounts (`keys` for a model
  without one).

An overlay only ever changes a price the catalog has: a model the catalog lacks stays unpriced.
"""

from __future__ import annotations

from copy import copy
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Literal

from genai_prices.types import ModelPrice, Tier, TieredPrices, TimeOfDateConstraint
from pydantic import BaseModel, ConfigDict, Field

from pricing.catalog import CatalogModel

OVERLAY_FILE = "price_overlays.toml"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
BATCH_CONTEXT = {"processing": "batch"}


class WeekdayWindows(BaseModel):
    """Peak windows the vendor applies on some weekdays only (and from some date only)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    provider: str = Field(min_length=1)
    models: tuple[str, ...] = Field(min_length=1)
    windows_from: date
    weekdays_from: date
    weekdays: tuple[Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], ...] = Field(min_length=1)
    source: str = Field(min_length=1)
    checked: date
    note: str = ""

    def windows_in_force(self, at: datetime) -> bool:
        day = at.date()
        if day < self.windows_from:
            return False
        return day < self.weekdays_from or WEEKDAYS[day.weekday()] in self.weekdays


class EarlyBatch(BaseModel):
    """A vendor's batch discount for dates before the catalog models it."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, populate_by_name=True)

    id: str = Field(min_length=1)
    provider: str = Field(min_length=1)
    factor: Decimal
    start: date = Field(alias="from")
    keys: tuple[str, ...] = Field(min_length=1)
    source: str = Field(min_length=1)
    checked: date


class OverlayFile(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    weekday_windows: tuple[WeekdayWindows, ...] = ()
    early_batch: tuple[EarlyBatch, ...] = ()


Overlay = WeekdayWindows | EarlyBatch


@cache
def overlays() -> OverlayFile:
    import tomllib

    raw = tomllib.loads(files("pricing").joinpath("data", OVERLAY_FILE).read_text(encoding="utf-8"))
    for entry in raw.get("early_batch", []):
        entry["factor"] = Decimal(entry["factor"])  # written as a string: exact
    return OverlayFile.model_validate(raw, strict=False)


def overlay_by_id(overlay_id: str) -> Overlay:
    found: list[Overlay] = [*overlays().weekday_windows, *overlays().early_batch]
    return next(o for o in found if o.id == overlay_id)


def overlay_change_days(model: CatalogModel) -> tuple[date, ...] | None:
    """The UTC days from which an overlay can change the model's price (None: the weekday can, on any day)."""
    if _weekday_rule(model) is not None:
        return None
    batch = _early_batch_rule(model)
    return (batch.start,) if batch is not None else ()


def _weekday_rule(model: CatalogModel) -> WeekdayWindows | None:
    return next(
        (
            o
            for o in overlays().weekday_windows
            if o.provider == model.provider.id and model.model.id in o.models and model.is_own
        ),
        None,
    )


def _early_batch_rule(model: CatalogModel) -> EarlyBatch | None:
    return next((o for o in overlays().early_batch if o.provider == model.provider.id and model.is_own), None)


def _without_windows(model: CatalogModel, at: datetime) -> ModelPrice:
    """The standard price at `at` as the catalog resolves it, its time-of-day prices left out."""
    prices = model.model.prices
    if isinstance(prices, ModelPrice):
        return prices
    for conditional in reversed(prices):
        constraint = conditional.constraint
        if isinstance(constraint, TimeOfDateConstraint):
            continue
        if constraint is None or constraint.active(at):
            return conditional.prices
    return prices[0].prices


def _scaled(value: Decimal | TieredPrices, factor: Decimal) -> Decimal | TieredPrices:
    if isinstance(value, TieredPrices):
        return TieredPrices(value.base * factor, [Tier(t.start, t.price * factor) for t in value.tiers])
    return value * factor


def _variant_overrides(model: CatalogModel, at: datetime, context: dict[str, str]) -> dict[str, object]:
    """The prices of the catalog variants in force for `context` at `at`, as genai-prices merges them."""
    overrides: dict[str, object] = {}
    for variant in model.model.price_variants or ():
        if variant.constraint is not None and not variant.constraint.active(at):
            continue
        if not all(context.get(key) == value for key, value in variant.when.items()):
            continue
        for key, value in variant.prices.__dict__.items():
            if value is not None:
                overrides.setdefault(key, value)
    return overrides


def resolve(
    model: CatalogModel, at: datetime, service_tier: str, context: dict[str, str] | None
) -> tuple[ModelPrice, tuple[str, ...]]:
    """The model's price at `at` for the tier served, with the overlays that changed it (their ids).

    Without an overlay in force this is exactly `model.model.get_prices(at, context)`.
    """
    applied: list[str] = []
    standard = model.model.get_prices(at, None)
    rule = _weekday_rule(model)
    if rule is not None and not rule.windows_in_force(at):
        unwindowed = _without_windows(model, at)
        if unwindowed is not standard:
            standard = unwindowed
            applied.append(rule.id)
    if not context:
        return standard, tuple(applied)  # the catalog's own object, not changed here (copying it costs time)
    price = copy(standard)
    price.__dict__.update(_variant_overrides(model, at, context))
    batch = _early_batch_rule(model) if context == BATCH_CONTEXT and service_tier == "batch" else None
    if batch is not None and at.date() >= batch.start and not _variant_overrides(model, at, BATCH_CONTEXT):
        variants = [v for v in model.model.price_variants or () if v.when == BATCH_CONTEXT]
        keys = {k for v in variants for k, p in v.prices.__dict__.items() if p is not None} or set(batch.keys)
        for key in keys:
            value = price.__dict__.get(key)
            if isinstance(value, Decimal | TieredPrices):
                price.__dict__[key] = _scaled(value, batch.factor)
        applied.append(batch.id)
    return price, tuple(applied)


def overlay_notes(applied: set[str]) -> list[str]:
    """One note per overlay that changed a price in this run: what it corrected and its source."""
    notes = []
    for overlay_id in sorted(applied):
        o = overlay_by_id(overlay_id)
        if isinstance(o, WeekdayWindows):
            text = (
                f"Price overlay '{o.id}': {o.provider} peak windows ({', '.join(o.models)}) applied on "
                f"{'-'.join((o.weekdays[0], o.weekdays[-1]))} only from {o.weekdays_from}, and not before "
                f"{o.windows_from}, where the catalog applies them every day; other times at the off-peak price."
            )
            if o.note:
                text += f" {o.note}"
        else:
            text = (
                f"Price overlay '{o.id}': {o.provider} batch lines dated before the catalog's batch prices "
                f"priced at {o.factor * 100:g}% of the standard price in force then (batch available since {o.start})."
            )
        notes.append(f"{text} Source: {o.source} (checked {o.checked}).")
    return notes
