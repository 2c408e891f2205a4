"""Exchange rates: amounts billed in another currency converted to USD, the reporting currency.

Rates come only from the user (`--fx CNY=0.1405` or a rates file), never from the network and never
guessed: a currency without a rate for a month it was billed in stops the audit with a clear message.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

from auditor.errors import OptionError
from auditor.ledger import SUM_COLUMNS

REPORTING_CURRENCY = "USD"
MONEY_NANO_COLUMNS = tuple(c for c in SUM_COLUMNS if c.endswith("_nanos"))
"""The segment sums that are money (in the line's currency until converted)."""


@dataclass(frozen=True)
class FxRate:
    """USD per one unit of `currency`, for one month (YYYY-MM) or, when month is None, for every month."""

    currency: str
    usd_per_unit: Decimal
    source: str
    month: str | None = None


def parse_fx_flags(flags: tuple[str, ...]) -> list[FxRate]:
    """`CNY=0.1405` (USD per unit) or `CNY@2026-10=0.1391` (that month only)."""
    rates = []
    for flag in flags:
        code, sep, value = flag.partition("=")
        currency, _, month = code.partition("@")
        try:
            rate = Decimal(value)
        except InvalidOperation:
            rate = Decimal(-1)
        if not sep or len(currency.strip()) != 3 or not rate.is_finite() or rate <= 0:
            raise OptionError(f"--fx {flag} is not CURRENCY=RATE", "write e.g. --fx CNY=0.1405 (USD per CNY)")
        rates.append(FxRate(currency.strip().upper(), rate, "--fx", month.strip() or None))
    return rates


def load_rates_file(path: Path) -> list[FxRate]:
    """A TOML file of `[[rate]]` tables: currency, usd_per_unit (a string), optional month, source."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return [
            FxRate(
                str(r["currency"]).upper(),
                Decimal(str(r["usd_per_unit"])),
                str(r.get("source", path.name)),
                r.get("month"),
            )
            for r in raw.get("rate", [])
        ]
    except (OSError, tomllib.TOMLDecodeError, KeyError, InvalidOperation) as exc:
        raise OptionError(
            f"{path}: not a usable rates file ({exc})",
            'each [[rate]] needs currency = "CNY" and usd_per_unit = "0.1405"',
        ) from exc


def _rate_for(rates: list[FxRate], currency: str, month: str) -> FxRate | None:
    exact = [r for r in rates if r.currency == currency and r.month == month]
    general = [r for r in rates if r.currency == currency and r.month is None]
    found = exact or general
    return found[-1] if found else None


def convert_to_usd(usage: pd.DataFrame, rates: list[FxRate]) -> tuple[pd.DataFrame, list[FxRate]]:
    """The usage table with every amount in USD nano-units, and the rates that were used."""
    foreign = usage["currency"] != REPORTING_CURRENCY
    if not foreign.any():
        return usage, []
    out = usage.copy()
    used: dict[tuple[str, str | None], FxRate] = {}
    months = out["day"].str.slice(0, 7)
    groups = out[foreign].groupby([out["currency"], months]).groups
    for key, index in groups.items():
        currency, month = (str(part) for part in key)  # type: ignore[attr-defined]
        rate = _rate_for(rates, currency, month)
        if rate is None:
            raise OptionError(
                f"no exchange rate for {currency} in {month}: amounts are billed in {currency}",
                f"give --fx {currency}=RATE (USD per {currency}) or a rates file with --rates; a rate is never assumed",
            )
        used[(rate.currency, rate.month)] = rate
        for column in MONEY_NANO_COLUMNS:
            out.loc[index, column] = [_convert(int(v), rate.usd_per_unit) for v in out.loc[index, column]]
    out.loc[foreign, "currency"] = REPORTING_CURRENCY
    return out, sorted(used.values(), key=lambda r: (r.currency, r.month or ""))


def _convert(nanos: int, usd_per_unit: Decimal) -> int:
    # Rounded half-even to a nano-dollar: the only rounding conversion makes.
    return int((Decimal(nanos) * usd_per_unit).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
