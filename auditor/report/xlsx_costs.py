"""The workbook's scenario arithmetic in exact Decimal: the values its formulas cache, from the result's cost model.

`auditor/report/xlsx.py` writes each cost line's cost as a formula over the Prices and Assumptions sheets; this
module computes what those formulas give (and what the engine gives: `auditor.assumptions.cost_at` summed over
source models), so the workbook opens with the engine's figures already in its cells.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from auditor.result import AssumptionOut, CostLine, CostModel, PriceRow, SourceAssumptions

FAMILY_DRIVEN = ("token_ratio", "output_verbosity", "reasoning_verbosity")
GLOBAL_ONLY = ("cache_hit_share", "batch_share", "offpeak_share")
MILLION = Decimal(1_000_000)
THOUSAND = Decimal(1000)

# An input value per assumption; None: per model family (the family-driven ones, when no --assume set them).
Inputs = Mapping[str, Decimal | None]


def set_by_flag(assumption: AssumptionOut) -> bool:
    """Whether the run set it with --assume (then it holds for every candidate and source model)."""
    return assumption.source.startswith("--assume")


def run_inputs(assumptions: Iterable[AssumptionOut]) -> dict[str, Decimal | None]:
    """The input cells as the run leaves them: a value set by a flag, or None (per model family) for the
    family-driven assumptions; the value for the others."""
    out: dict[str, Decimal | None] = {}
    for a in assumptions:
        value = Decimal(repr(a.value))
        out[a.name] = value if a.name not in FAMILY_DRIVEN or set_by_flag(a) else None
    return out


def variant_weight(variants: Iterable[str], inputs: Inputs) -> Decimal:
    b, o = inputs["batch_share"] or Decimal(0), inputs["offpeak_share"] or Decimal(0)
    weights = {"as_served": (1 - b) * (1 - o), "batch": b * (1 - o), "off_peak": (1 - b) * o, "batch_off_peak": b * o}
    return sum((weights[v] for v in variants), Decimal(0))


def baseline_cost(line: CostLine, price: PriceRow) -> Decimal:
    """The line at its own model's rates, unchanged."""
    per_million = (
        line.input_tokens * price.input
        + line.cache_read_tokens * price.cache_read
        + line.cache_write_tokens * price.cache_write
        + line.cache_write_1h_tokens * price.cache_write_1h
        + line.answer_tokens * price.output
        + line.reasoning_tokens * price.reasoning
    )
    return per_million / MILLION + line.requests * price.requests / THOUSAND


def line_cost(line: CostLine, price: PriceRow, own: SourceAssumptions, inputs: Inputs) -> Decimal:
    """A candidate's cost line under the assumptions (`auditor.assumptions.cost_at` of its tokens)."""
    r = _pick(inputs["token_ratio"], own.token_ratio)
    a = _pick(inputs["output_verbosity"], own.output_verbosity)
    q = _pick(inputs["reasoning_verbosity"], own.reasoning_verbosity)
    wa = Decimal(0) if inputs["output_verbosity"] is not None else own.answer_native
    wq = Decimal(0) if inputs["reasoning_verbosity"] is not None else own.reasoning_native
    s = inputs["cache_hit_share"]
    assert s is not None
    tokens = (
        line.input_tokens * price.input / MILLION
        + s * line.cache_read_tokens * price.cache_read / MILLION
        + (1 - s) * line.cache_read_tokens * price.input / MILLION
        + line.cache_write_tokens * price.cache_write / MILLION
        + line.cache_write_1h_tokens * price.cache_write_1h / MILLION
    )
    output = a * line.answer_tokens * price.output / MILLION * (wa + (1 - wa) * r) + q * (
        line.reasoning_tokens * price.reasoning / MILLION
    ) * (wq + (1 - wq) * r)
    requests = line.requests * price.requests / THOUSAND
    return variant_weight(line.variants, inputs) * (r * tokens + output + requests)


def _pick(value: Decimal | None, default: Decimal) -> Decimal:
    return default if value is None else value


def scenario_costs(model: CostModel, inputs: Inputs) -> dict[str, Decimal]:
    """Per scenario ('baseline' and each candidate id): the sum of its lines' costs."""
    prices = {p.id: p for p in model.prices}
    own = {(s.scenario, s.source_model): s for s in model.source_assumptions}
    out: dict[str, Decimal] = {}
    for line in model.lines:
        price = prices[line.price]
        cost = (
            baseline_cost(line, price)
            if line.scenario == "baseline"
            else line_cost(line, price, own[(line.scenario, line.source_model)], inputs)
        )
        out[line.scenario] = out.get(line.scenario, Decimal(0)) + cost
    return out
