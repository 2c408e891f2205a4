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
    months = _utc_months(out)
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


def _utc_months(table: pd.DataFrame) -> pd.Series:
    """Each row's UTC month: its `month` where the table is by month (the usage by API key), else its `day`'s."""
    return table["month"] if "month" in table.columns else table["day"].str.slice(0, 7)


def convert_part_to_usd(
    part: pd.DataFrame, whole: pd.DataFrame, whole_usd: pd.DataFrame, keys: list[str], rates: list[FxRate]
) -> pd.DataFrame:
    """`part` (the same rows as `whole`, summed on other keys) in USD, adding up to `whole_usd` (`whole` converted).

    Converted row by row, two cuts of the same amounts round apart by a few nano-dollars: a month's row of the usage
    by API key is not rounded where its days were. Each group of `part` on `keys` (columns of both tables, the UTC
    month among them whether a table is by day or by month) is made to add up to the same group of `whole_usd`: the
    nano-dollars between them go to the group's row of the largest amount (the first, on a tie)."""
    foreign = part["currency"] != REPORTING_CURRENCY
    out, _ = convert_to_usd(part, rates)
    if not foreign.any():
        return out
    whole_foreign = whole["currency"] != REPORTING_CURRENCY
    groups = [*keys, "_month", "_currency"]
    money = list(MONEY_NANO_COLUMNS)
    of_whole = whole.loc[whole_foreign, keys].assign(_month=_utc_months(whole), _currency=whole["currency"])
    of_whole[money] = whole_usd.loc[whole_foreign, money]
    of_part = out.loc[foreign, [*keys, *money]].assign(_month=_utc_months(part), _currency=part["currency"])
    targets = of_whole.groupby(groups, sort=False)[money].sum()
    summed = of_part.groupby(groups, sort=False)[money].sum()
    missing = (targets.reindex(summed.index) - summed).fillna(0).astype("int64")
    for column in MONEY_NANO_COLUMNS:
        largest = of_part[column].abs().groupby([of_part[k] for k in groups], sort=False).idxmax()
        rests = missing[column].reindex(largest.index)
        nonzero = rests != 0
        out.loc[largest[nonzero].to_numpy(), column] += rests[nonzero].to_numpy()
    return out


def _convert(nanos: int, usd_per_unit: Decimal) -> int:
    # Rounded half-even to a nano-dollar: the only rounding conversion makes.
    return int((Decimal(nanos) * usd_per_unit).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
