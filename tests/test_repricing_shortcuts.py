"""The shortcuts of re-pricing give what the long way gives: the negotiation brief's per-vendor costs are the
scenarios built on each vendor's rows alone, and a scenario range's low and high are the cheapest and dearest of
every corner costed exactly (not only of the corners the float screen keeps)."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest

import auditor.pipeline as pipeline
from auditor.assumptions import cost_at, cost_range_of
from auditor.options import AuditOptions
from auditor.plan import PlanInputs
from auditor.result import money
from auditor.scenarios import Repricing, build_scenarios, per_source_model, projected_by
from tests.conftest import AS_OF, SAMPLES


@pytest.fixture(scope="module")
def plan_inputs() -> PlanInputs:
    """What the plan is given in an audit of the samples."""
    seen: list[PlanInputs] = []
    real = pipeline.build_plan

    def keep(inputs: PlanInputs) -> Any:
        seen.append(inputs)
        return real(inputs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "build_plan", keep)
        pipeline.run_audit(AuditOptions(inputs=(SAMPLES,), as_of=AS_OF))
    return seen[0]


def test_vendor_costs_are_the_scenarios_on_the_vendors_rows(plan_inputs: PlanInputs) -> None:
    inputs = plan_inputs
    candidates = list(inputs.candidates)
    costs, tokens = projected_by(inputs.repricing, inputs.pricebook, candidates, inputs.assumptions, "provider")
    shape = inputs.shape
    vendors = sorted(set(shape["provider"].astype(str)))
    assert len(costs) >= 5
    for vendor in vendors:
        rows = shape[shape["provider"] == vendor]
        own = Repricing.of(rows, inputs.as_of or AS_OF)
        scenarios = build_scenarios(rows, inputs.pricebook, candidates, own.as_of, inputs.assumptions, own)
        expected = {s.candidate: s.projected_cost for s in scenarios}
        assert {c.ref: cost for c, cost in costs.get(vendor, [])} == expected, vendor
        counted = ["input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens", "output_tokens"]
        assert tokens.get(vendor, 0) == int(own.priced[counted].to_numpy().sum()), vendor


def _total(groups: list[tuple[Any, Any]], ends: dict[str, int]) -> Decimal:
    """The groups' cost with each assumption in `ends` at its low (0) or high (1) end, by `cost_at` alone."""
    out = Decimal(0)
    for parts, assumptions in groups:
        values = {a.name: (a.low, a.high)[ends[a.name]] if a.name in ends else a.value for a in assumptions}
        out += cost_at(parts, values)
    return out


def test_range_ends_are_the_extremes_of_every_corner(plan_inputs: PlanInputs) -> None:
    inputs = plan_inputs
    for candidate in inputs.candidates:
        groups = per_source_model(inputs.repricing, candidate, inputs.pricebook, inputs.assumptions)
        span = cost_range_of(groups)
        ranged = sorted({a.name for _, assumptions in groups for a in assumptions if a.low != a.high})
        assert len(ranged) >= 4
        ends = itertools.product((0, 1), repeat=len(ranged))
        corners = [_total(groups, dict(zip(ranged, e, strict=True))) for e in ends]
        base = _total(groups, {})
        assert money(span.base) == money(base)
        assert money(span.low) == money(min([base, *corners])), candidate.ref
        assert money(span.high) == money(max([base, *corners])), candidate.ref
        for name, effect in span.drivers:
            moved = _total(groups, {name: 1}) - _total(groups, {name: 0})
            assert money(effect) == money(abs(moved)), (candidate.ref, name)
