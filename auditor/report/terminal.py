"""The terminal summary: spend by model and candidates ranked by savings, printed with rich."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from auditor.report.formatting import RECOMMENDATION_TEXT, cost_range, money, percent, rate_per_mtok, top_driver
from auditor.result import AuditResult, is_unpriced
from auditor.risk import risk_line

_SHOWN_SCENARIOS = 10


def usd(value: Decimal | None, unknown: str = "—") -> str:
    """Dollars and cents as the reports show them (`<$0.01` for an amount that is not zero but rounds to it)."""
    return unknown if value is None else money(value)


def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def print_summary(result: AuditResult, console: Console) -> None:
    period = f"{result.period.start} to {result.period.end}" if result.period.start else "no usage"
    period += f" ({result.timezone})"
    console.print(Text(f"AI spend audit — {period} — prices as of {result.as_of} ({result.catalog})", style="bold"))
    console.print(_spend_table(result))
    console.print(_scenario_table(result))
    for c in result.commitments:
        gap = f"shortfall {usd(c.shortfall)}" if c.shortfall else f"overage {usd(c.overage)}"
        seen = "" if c.complete else f" ({c.days_observed} of {c.days_in_period} days observed)"
        console.print(
            Text(f"commitment {c.vendor} {c.period_start} to {c.period_end}: {usd(c.spend)} of {usd(c.committed)} "
                 f"({c.used_pct:.1f}%), {gap}{seen}")
        )  # fmt: skip
    console.print(Text(terminal_line(result)))
    if risk := risk_line(result):
        console.print(Text(risk))
    for line in plan_lines(result):
        console.print(Text(line))
    for warning in result.warnings:
        console.print(Text(f"warning: {warning}", style="yellow"))


def _spend_table(result: AuditResult) -> Table:
    table = Table(title="Spend by model", title_justify="left")
    for name in (
        "provider",
        "model",
        "requests",
        "input+cache tokens",
        "output tokens",
        "billed",
        "list cost",
    ):
        table.add_column(name, justify="left" if name in ("provider", "model") else "right", overflow="fold")
    for u in result.usage:
        inputs = u.input_tokens + u.cache_read_tokens + u.cache_write_tokens + u.cache_write_1h_tokens
        missing = "unpriced" if is_unpriced(u) else "n/a"
        list_cost = usd(u.list_cost, missing) + (" (source)" if u.list_cost_basis == "source" else "")
        if u.stated_list_cost is not None:
            stated = f"(stated {usd(u.stated_list_cost)})"
            list_cost = stated if u.list_cost is None else f"{list_cost} {stated}"
        if u.contract_cost is not None:
            list_cost = (list_cost + " · " if u.list_cost is not None else "") + f"contract {usd(u.contract_cost)}"
        table.add_row(
            Text(u.provider),
            Text(u.model_raw),
            _count(u.requests),
            _count(inputs),
            _count(u.output_tokens),
            usd(u.billed_cost),
            list_cost,
        )
    if any(u.stated_list_cost is not None for u in result.usage):
        table.caption = (
            "(stated …): a list price the vendor's export states for a month in which a usage export gives the "
            "vendor's tokens; not counted in the list cost (the same spend may be among those tokens)."
        )
        table.caption_justify = "left"
    t = result.totals
    table.add_section()
    table.add_row(
        "total",
        "",
        _count(t.requests),
        _count(t.input_tokens + t.cache_read_tokens + t.cache_write_tokens + t.cache_write_1h_tokens),
        _count(t.output_tokens),
        usd(t.billed_cost),
        usd(t.list_cost) + ("" if t.contract_cost is None else f" · contract {usd(t.contract_cost)}"),
    )
    return table


def _scenario_table(result: AuditResult) -> Table:
    shown = result.scenarios[:_SHOWN_SCENARIOS]
    title = "Candidates ranked by savings (same workload, as-of prices)"
    if len(result.scenarios) > len(shown):
        title += f" — top {len(shown)} of {len(result.scenarios)}; all in the reports"
    table = Table(title=title, title_justify="left")
    for name in ("candidate", "baseline", "projected", "savings", "%", "low–high", "top driver"):
        table.add_column(name, justify="left" if name in ("candidate", "top driver") else "right", overflow="fold")
    for s in shown:
        pct = "—" if s.savings_pct is None else f"{s.savings_pct:.1f}%"
        baseline = usd(s.baseline_cost) + (" (contract)" if s.baseline_basis == "contract" else "")
        projected = usd(s.projected_cost) + (" (contract)" if s.projected_basis == "contract" else "")
        table.add_row(s.candidate, baseline, projected, usd(s.savings), pct, cost_range(s, "—"), top_driver(s))
    return table


def terminal_line(result: AuditResult) -> str:
    """One line: how many reconciliation rows leave variance unexplained, and the findings' total saving."""
    unexplained = sum(1 for r in result.reconciliation if r.unexplained)
    saving = sum((f.estimated_savings for f in result.findings), Decimal(0))
    return (
        f"Reconciliation: {len(result.reconciliation)} model-month(s) billed, {unexplained} with unexplained variance. "
        f"Findings: {len(result.findings)} quick win(s), estimated saving {money(saving)} over the period."
    )


def plan_lines(result: AuditResult) -> list[str]:
    """A few terminal lines: the plan's recommendations and savings, and each vendor's negotiation lever."""
    plan = result.plan
    if plan is None or not plan.segments:
        return []
    counts = {r: sum(1 for s in plan.segments if s.recommendation == r) for r in RECOMMENDATION_TEXT}
    text = ", ".join(f"{n} {RECOMMENDATION_TEXT[r]}" for r, n in counts.items() if n)
    line = f"migration plan ({plan.scenario} scenario): {text}; captures {money(plan.savings)}"
    line += f" of {money(plan.scenario_savings)}"
    if plan.quality_file is None:
        line += "; evaluations required before the canaries (--quality)"
    lines = [line]
    for v in plan.negotiation.vendors:
        best = v.alternatives[0] if v.alternatives else None
        if best is None or v.price_cut_to_match_pct is None:
            continue
        billed = v.effective_rate is not None
        now = rate_per_mtok(v.effective_rate if billed else v.list_rate) + (" billed" if billed else " list")
        lines.append(
            f"negotiation {v.vendor}: {now} per Mtok; {best.candidate} {rate_per_mtok(best.rate_per_mtok)} on the same "
            f"mix (ask {percent(v.price_cut_to_match_pct)} off)"
        )
    return lines
