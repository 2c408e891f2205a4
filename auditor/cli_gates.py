"""`--fail-if EXPR`: conditions on a finished audit that make `audit` exit 3 (for CI), with a one-line reason.

An expression is `METRIC OP VALUE`. Numeric metrics compare with `>`, `>=`, `<`, `<=`, `=`, `!=`; `risk`
compares risk levels in their order green < amber < red < blocked. A metric the result does not have (no
scenario, no tokens) does not trip its gate.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from auditor.errors import AuditorError, ExitStatus
from auditor.result import AuditResult, Scenario

RISK_LEVELS = ("green", "amber", "red", "blocked")
_OPS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    "!=": lambda a, b: a != b,
    "==": lambda a, b: a == b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    "=": lambda a, b: a == b,
}
_EXPR = re.compile(r"^\s*([a-z_]+)\s*(>=|<=|!=|==|>|<|=)\s*([^\s].*?)\s*$")


def _best(result: AuditResult) -> Scenario | None:
    """The scenario with the largest saving (scenarios are sorted so)."""
    return result.scenarios[0] if result.scenarios else None


def _savings_pct(result: AuditResult) -> Decimal | None:
    best = _best(result)
    return None if best is None or best.savings_pct is None else Decimal(str(best.savings_pct))


def _savings(result: AuditResult) -> Decimal | None:
    best = _best(result)
    return None if best is None else best.savings


def _unpriced_share(result: AuditResult) -> Decimal | None:
    total = result.totals.all_tokens()
    return None if total == 0 else Decimal(result.totals.unpriced_tokens) / Decimal(total)


def _rejected_rows(result: AuditResult) -> Decimal:
    return Decimal(sum(f.rows_rejected for f in result.inputs))


def _billed(result: AuditResult) -> Decimal | None:
    return result.totals.billed_cost


def _list_cost(result: AuditResult) -> Decimal | None:
    return result.totals.list_cost


METRICS: dict[str, tuple[Callable[[AuditResult], Decimal | None], str]] = {
    "savings_pct": (_savings_pct, "the best scenario's saving, % of its baseline"),
    "savings": (_savings, "the best scenario's saving, USD over the audited period"),
    "unpriced_share": (_unpriced_share, "unpriced tokens / all tokens, 0 to 1"),
    "rejected_rows": (_rejected_rows, "rows rejected in all inputs"),
    "billed": (_billed, "billed cost, USD"),
    "list_cost": (_list_cost, "list cost of the priced usage, USD"),
}
RISK = "risk"
ALLOWED = (
    "METRIC OP NUMBER with METRIC one of "
    + ", ".join(METRICS)
    + " and OP one of > >= < <= = !=; or risk OP LEVEL (the best scenario's risk; LEVEL one of "
    + ", ".join(RISK_LEVELS)
    + "), e.g. savings_pct>20, unpriced_share>0.05, risk=blocked"
)


class GateTripped(AuditorError):
    """A `--fail-if` condition holds on the result."""

    exit_status = ExitStatus.GATE_TRIPPED


@dataclass(frozen=True)
class Gate:
    text: str
    metric: str
    op: str
    value: Decimal

    def check(self, result: AuditResult) -> str | None:
        """The one-line reason when the condition holds, else None."""
        if self.metric == RISK:
            best = _best(result)
            if best is None or best.risk is None:
                return None
            level = Decimal(RISK_LEVELS.index(best.risk.level))
            if _OPS[self.op](level, self.value):
                return f"--fail-if {self.text}: the best scenario, {best.candidate}, is rated {best.risk.level}"
            return None
        actual = METRICS[self.metric][0](result)
        if actual is None or not _OPS[self.op](actual, self.value):
            return None
        return f"--fail-if {self.text}: {self.metric} is {_shown(self.metric, actual)}{_about(self.metric, result)}"


def _shown(metric: str, value: Decimal) -> str:
    if metric == "unpriced_share":
        return f"{value:.4f}"
    if metric == "rejected_rows":
        return f"{int(value):,}"
    if metric == "savings_pct":
        return f"{value:.1f}"
    return f"${value:,.2f}"


def _about(metric: str, result: AuditResult) -> str:
    best = _best(result)
    if metric in ("savings_pct", "savings") and best is not None:
        return f" (best scenario: {best.candidate})"
    return ""


def parse_gate(text: str) -> Gate:
    """A gate from its expression; a ValueError saying what is allowed when it is not one."""
    match = _EXPR.match(text)
    if match is None:
        raise ValueError(f"'{text}' is not an expression; use {ALLOWED}")
    metric, op, raw = match.groups()
    if metric == RISK:
        if raw.lower() not in RISK_LEVELS:
            raise ValueError(f"'{text}': risk level '{raw}' is not one of {', '.join(RISK_LEVELS)}; use {ALLOWED}")
        return Gate(text, metric, op, Decimal(RISK_LEVELS.index(raw.lower())))
    if metric not in METRICS:
        import difflib

        close = difflib.get_close_matches(metric, [*METRICS, RISK], n=1)
        offer = f"did you mean {close[0]}? " if close else ""
        raise ValueError(f"'{text}': unknown metric '{metric}'; {offer}use {ALLOWED}")
    try:
        value = Decimal(raw.rstrip("%"))
    except ArithmeticError:
        raise ValueError(f"'{text}': '{raw}' is not a number; use {ALLOWED}") from None
    if not value.is_finite():
        raise ValueError(f"'{text}': '{raw}' is not a number; use {ALLOWED}")
    return Gate(text, metric, op, value)


def tripped(gates: tuple[Gate, ...], result: AuditResult) -> None:
    """Raise GateTripped with the first gate that holds."""
    for gate in gates:
        reason = gate.check(result)
        if reason is not None:
            raise GateTripped(reason)
