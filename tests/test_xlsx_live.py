"""The workbook's live scenarios: its cached figures are the engine's, LibreOffice recomputes the same figures from
the formulas, and an assumption cell changed there moves every scenario as the engine moves it with --assume.

LibreOffice (`soffice`) must be installed for the recalculation tests: they skip without it on a developer's
machine and fail in CI (CI=true), where `.ci/run` installs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from openpyxl import load_workbook

from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.report.xlsx import write_xlsx
from auditor.report.xlsx_costs import run_inputs, scenario_costs
from auditor.result import AuditResult
from tests.conftest import AS_OF, SAMPLES

# Request logs with time-of-day-priced (DeepSeek) and long-context-tiered models, a batch file, cache traffic.
INPUTS = tuple(
    SAMPLES / d
    for d in (
        "openrouter_logs_csv",
        "anthropic_usage_csv",
        "openai_batch_jsonl",
        "deepseek_amount_csv",
        "litellm_spend_logs_csv",
    )
)
CENT = Decimal("0.01")
NANO = Decimal("0.000000001")
# LibreOffice's setting "recalculation on file load: always" for OOXML and ODF files (0 = always).
_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""


@cache
def _audit(*assume: str) -> AuditResult:
    return run_audit(AuditOptions(inputs=INPUTS, as_of=AS_OF, assume=assume))


@pytest.fixture(scope="module")
def result() -> AuditResult:
    return _audit()


@pytest.fixture(scope="module")
def xlsx(result: AuditResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("live") / "audit.xlsx"
    write_xlsx(result, path)
    return path


def _cents(value: object) -> Decimal:
    assert isinstance(value, (int, float)), value
    return Decimal(repr(value)).quantize(CENT)


def _scenario_values(path: Path) -> dict[str, tuple[object, object, str]]:
    """candidate -> (baseline, projected, how computed) as the file's cells hold them (cached values)."""
    sheet = load_workbook(path, data_only=True)["Scenarios"]
    rows = list(sheet.iter_rows(min_row=1, values_only=True))
    head = list(rows[0])
    at = {name: head.index(name) for name in ("candidate", "baseline", "projected", "how computed")}
    return {
        str(r[at["candidate"]]): (r[at["baseline"]], r[at["projected"]], str(r[at["how computed"]]))
        for r in rows[1:]
        if r[at["candidate"]]
    }


def test_the_cost_model_reproduces_the_engine_exactly(result: AuditResult) -> None:
    """The lines, rates and per-model defaults give each scenario's figures to the nano-dollar (the engine rounds
    each total half-even to a nano-dollar)."""
    assert result.cost_model is not None
    costs = scenario_costs(result.cost_model, run_inputs(result.assumptions))
    singles = [s for s in result.scenarios if s.kind == "single"]
    assert len(singles) >= 10
    for s in singles:
        assert abs(costs[s.candidate] - s.projected_cost) <= NANO / 2, s.candidate
        assert costs["baseline"].quantize(NANO) == s.baseline_cost
    tiers = {p.time_of_day != "any time" for p in result.cost_model.prices}
    assert tiers == {True, False}  # time-of-day prices are among the rates
    assert any(p.request_size.startswith("from ") for p in result.cost_model.prices)


@pytest.mark.parametrize(
    "flag",
    ["batch_share=0.2", "offpeak_share=0.25", "cache_hit_share=0.6", "token_ratio=1.07", "output_verbosity=1.3"],
)
def test_an_assumption_set_in_the_model_moves_costs_as_the_engine_does(result: AuditResult, flag: str) -> None:
    """The default run's cost model with one input set gives the figures of a run with --assume NAME=VALUE."""
    assert result.cost_model is not None
    name, value = flag.split("=")
    inputs = run_inputs(result.assumptions)
    inputs[name] = Decimal(value)
    costs = scenario_costs(result.cost_model, inputs)
    engine = _audit(flag)
    moved = 0
    for s in engine.scenarios:
        if s.kind == "single":
            assert abs(costs[s.candidate] - s.projected_cost) <= NANO / 2, (flag, s.candidate)
            before = next(x for x in result.scenarios if x.candidate == s.candidate)
            moved += s.projected_cost != before.projected_cost
    assert moved >= 2  # off-peak moves only candidates with time-of-day prices (DeepSeek)


def test_cached_values_are_the_engines_figures(result: AuditResult, xlsx: Path) -> None:
    """Opened without recalculation (what a viewer shows), every scenario cell holds the JSON's figure."""
    values = _scenario_values(xlsx)
    assert set(values) == {s.candidate for s in result.scenarios}
    for s in result.scenarios:
        baseline, projected, how = values[s.candidate]
        assert Decimal(repr(baseline)) == s.baseline_cost
        assert Decimal(repr(projected)) == s.projected_cost
        assert how.startswith("live") == (s.kind == "single"), s.candidate
    book = load_workbook(xlsx)
    projected_col = [c.value for c in book["Scenarios"]["E"][1 : len(result.scenarios) + 1]]
    assert sum(str(v).startswith("=SUMPRODUCT(") for v in projected_col) == len(result.scenarios) - 1  # hybrid fixed
    # A fixed projected cost has a fixed baseline: its savings never mix edited prices with the engine's cost.
    for row in book["Scenarios"].iter_rows(min_row=2, max_row=len(result.scenarios) + 1):
        baseline_formula, projected_formula = str(row[3].value).startswith("="), str(row[4].value).startswith("=")
        assert baseline_formula == projected_formula, row[1].value
        assert str(row[5].value) == f"=D{row[0].row}-E{row[0].row}"
    assert book.calculation.fullCalcOnLoad


def test_assumption_and_price_inputs_are_marked_and_named(result: AuditResult, xlsx: Path) -> None:
    book = load_workbook(xlsx)
    sheet = book["Assumptions"]
    names = {str(c.value): c.row for c in sheet["A"][1:7]}
    assert set(names) == {a.name for a in result.assumptions}
    for a in result.assumptions:
        cell = sheet.cell(row=names[a.name], column=2)
        assert book.defined_names[a.name].attr_text == f"'Assumptions'!$B${names[a.name]}"
        assert cell.fill.fgColor.rgb.endswith("FFF2CC")
        family = a.name in ("token_ratio", "output_verbosity", "reasoning_verbosity")
        assert cell.value is None if family else Decimal(repr(cell.value)) == Decimal(repr(a.value))
    assert len(sheet.data_validations.dataValidation) == 2
    prices = book["Prices"]
    assert prices["H2"].fill.fgColor.rgb.endswith("FFF2CC")
    assert book.defined_names["price_input"].attr_text.startswith("'Prices'!$H$2:$H$")


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice (soffice) is missing in CI: .ci/run installs libreoffice-calc")
        pytest.skip("LibreOffice (soffice) is not installed")
    return found


def _recalculated(path: Path, work: Path) -> Path:
    """The workbook opened, recalculated and saved again by LibreOffice headless (a private profile that always
    recalculates on load)."""
    profile = work / "profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_RECALC_ALWAYS, encoding="utf-8")
    out = work / "out"
    command = [_soffice(), f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--convert-to", "xlsx", "--outdir", str(out), str(path)]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    converted = out / path.name
    assert converted.exists(), f"LibreOffice wrote no {converted.name}"
    return converted


def _without_cached_values(path: Path, target: Path) -> Path:
    """The same workbook saved by openpyxl, which drops every formula's cached value: only a recalculation can
    fill those cells again."""
    book = load_workbook(path)
    book.save(target)
    stripped = _scenario_values(target)
    assert all(projected is None for _, projected, how in stripped.values() if how.startswith("live"))
    return target


def test_libreoffice_recalculates_the_engines_scenario_totals(result: AuditResult, xlsx: Path, tmp_path: Path) -> None:
    recalculated = _recalculated(_without_cached_values(xlsx, tmp_path / "audit.xlsx"), tmp_path)
    values = _scenario_values(recalculated)
    for s in result.scenarios:
        baseline, projected, _ = values[s.candidate]
        assert _cents(baseline) == s.baseline_cost.quantize(CENT), s.candidate
        assert _cents(projected) == s.projected_cost.quantize(CENT), s.candidate
    summary = {r[0]: r[1] for r in load_workbook(recalculated, data_only=True)["Summary"].iter_rows(values_only=True)}
    assert _cents(summary["Largest saving (live)"]) == max(s.savings for s in result.scenarios).quantize(CENT)


@pytest.mark.parametrize("name,value", [("batch_share", "0.2"), ("output_verbosity", "1.3")])
def test_an_assumption_changed_in_the_workbook_recomputes_as_the_engine(
    result: AuditResult, xlsx: Path, tmp_path: Path, name: str, value: str
) -> None:
    """One input cell edited (openpyxl), the file recalculated by LibreOffice: each scenario's projected cost is the
    engine's with --assume NAME=VALUE, to the cent."""
    book = load_workbook(xlsx)
    sheet = book["Assumptions"]
    (row,) = [c.row for c in sheet["A"] if c.value == name]
    sheet.cell(row=row, column=2).value = float(value)
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    values = _scenario_values(_recalculated(edited, tmp_path))
    engine = _audit(f"{name}={value}")
    changed = 0
    for s in engine.scenarios:
        if s.kind != "single":
            continue
        _, projected, _ = values[s.candidate]
        assert _cents(projected) == s.projected_cost.quantize(CENT), s.candidate
        before = next(x for x in result.scenarios if x.candidate == s.candidate)
        changed += s.projected_cost.quantize(CENT) != before.projected_cost.quantize(CENT)
    assert changed >= 5  # the edit did move the totals
