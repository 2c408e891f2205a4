"""Shared helpers for the renderers: money, token and percent text, ranking of scenarios, text cleaning."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal

from auditor.ledger import TOKEN_COLUMNS
from auditor.result import AuditResult, MonthlyUsage, Period, Scenario, TokenCounts, UsageEntry, is_unpriced

CENT = Decimal("0.01")
UNPRICED = "unpriced"
NOT_STATED = "n/a"  # a money figure the source does not state (billed cost of a usage-only export)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet read a cell as a formula

# C0/C1 control characters other than tab, newline and carriage return: no font draws them and
# XLSX forbids most of them, so they are shown as U+FFFD.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def quantize_money(value: Decimal) -> Decimal:
    """Round to whole cents, half to even (the rounding used everywhere in reports)."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def money(value: Decimal | None, none: str = NOT_STATED) -> str:
    """`$1,234.56`, `-$12.00`; `<$0.01` (`>-$0.01`) for an amount that is not zero but rounds to it, which `$0.00`
    would show as free; `none` when the amount is unknown."""
    if value is None:
        return none
    cents = quantize_money(value)
    if not cents and value:
        return "<$0.01" if value > 0 else ">-$0.01"
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents):,.2f}"


def tokens(value: int | None, none: str = NOT_STATED) -> str:
    """`1,234,567`; `none` when the count is unknown."""
    return none if value is None else f"{value:,}"


def percent(value: float | None, none: str = NOT_STATED) -> str:
    """A percentage given as a number of percent (23.456 -> `23.5%`)."""
    return none if value is None else f"{value:.1f}%"


def cache_write_total(counts: TokenCounts) -> int:
    """Cache-write tokens of both lifetimes (5 minutes and 1 hour)."""
    return counts.cache_write_tokens + counts.cache_write_1h_tokens


def period_text(period: Period) -> str:
    """`2025-01-01 – 2025-03-31`, with `unknown` for a missing end."""
    start = period.start.isoformat() if period.start else "unknown"
    end = period.end.isoformat() if period.end else "unknown"
    return f"{start} – {end}"


def ranked_scenarios(result: AuditResult) -> list[Scenario]:
    """Scenarios by savings, largest first; ties by candidate id so the order is stable."""
    by_id = sorted(result.scenarios, key=lambda s: s.candidate)
    return sorted(by_id, key=lambda s: s.savings, reverse=True)


def best_scenario(result: AuditResult) -> Scenario | None:
    """The scenario with the largest savings (possibly negative), or None without scenarios."""
    ranked = ranked_scenarios(result)
    return ranked[0] if ranked else None


def clean_text(text: str) -> str:
    """Data text with control characters replaced, safe to lay out or store."""
    return _CONTROL_RE.sub("\ufffd", text)


def safe_text(text: str) -> str:
    """Data text for a spreadsheet or CSV cell: control characters replaced, and a leading quote when it could
    start a formula (`=`, `+`, `-`, `@`, tab, carriage return), so a spreadsheet shows it and never runs it."""
    text = clean_text(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def reasons_text(reasons: dict[str, int]) -> str:
    """`zero usage: 4; cancelled: 2` in the order given, or empty."""
    return "; ".join(f"{reason}: {count:,}" for reason, count in reasons.items())


def list_cost_label(row: UsageEntry | MonthlyUsage) -> str | None:
    """What a missing list cost means: "unpriced" (usage without a catalog price), or "n/a" (nothing to
    price: money without tokens, such as a cost export's lines, tax or storage); None when there is one."""
    if row.list_cost is not None:
        return None
    return UNPRICED if is_unpriced(row) else NOT_STATED


def contract_suffix(contract_cost: Decimal | None) -> str:
    """` · contract $1.23` beside a list cost that the contract file re-prices, else empty."""
    return "" if contract_cost is None else f" · contract {money(contract_cost)}"


def contract_basis(basis: str) -> str:
    """` (contract)` after a scenario figure priced at the contract's prices, else empty."""
    return " (contract)" if basis == "contract" else ""


def top_driver(scenario: Scenario, none: str = "—") -> str:
    """The assumption that moves the scenario's cost most, or `none` when no assumption moves it."""
    moving = [d for d in scenario.drivers if d.effect > 0]
    return moving[0].assumption if moving else none


def cost_range(scenario: Scenario, none: str = NOT_STATED) -> str:
    """`$1.00–$2.00`: the scenario's low and high cost, or `none` without a range."""
    if scenario.low_cost is None or scenario.high_cost is None:
        return none
    return f"{money(scenario.low_cost)}–{money(scenario.high_cost)}"


def token_values(counts: TokenCounts) -> list[int]:
    """The six token classes of `counts`, in the order reports show them (`TOKEN_COLUMNS`)."""
    return [getattr(counts, column) for column in TOKEN_COLUMNS]


def fraction(percent: float | None) -> float | None:
    """A percentage as the fraction a percent-formatted cell holds (86.3159 -> 0.863159, no float noise)."""
    return None if percent is None else float(Decimal(repr(percent)) / 100)


# A migration plan segment's recommendation as the reports write it.
RECOMMENDATION_TEXT = {"migrate": "migrate", "migrate-in-phases": "migrate in phases", "stay": "stay"}


def rate_per_mtok(value: Decimal | None) -> str:
    """A rate in dollars per million tokens, to a hundredth of a cent."""
    return "n/a" if value is None else f"${value.quantize(Decimal('0.0001')):,}"
