"""The shape by API key is made only where a stage reads the keys (`ingest._workload_tables`): the route-by-segment
scenario segments by key where the priced workload names fewer than two projects, and a policy file's key segments
are read from it. The shape table itself has no keys, and every stage must come out as with the keys. The shape by
key sums its half hours of the same prices: every stage must come out as with each half hour apart."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from auditor.assumptions import resolve_assumptions
from auditor.findings import build_findings
from auditor.hybrid import build_hybrid, segmentation
from auditor.importers import engine
from auditor.ingest import ingest_all
from auditor.options import AuditOptions
from auditor.pipeline import MergedTables, merged_tables, run_audit
from auditor.scan import scan_connection
from auditor.scenarios import Repricing, build_scenarios
from auditor.sources import open_sources
from auditor.workload import Pricebook
from bench.generate import generate
from pricing.catalog import default_candidates, lookup_candidate
from pricing.rates import SLOTS_PER_DAY, has_time_windows
from tests.conftest import AS_OF, SAMPLES, csv_rows

OPENROUTER = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
DEEPSEEK, OPENAI = "deepseek:deepseek-flash", "openai:gpt-5-mini"


def _shapes(path: Path, keys_named: bool) -> tuple[MergedTables, Pricebook]:
    pricebook = Pricebook()
    with open_sources((path,), None) as (sources, _), scan_connection() as con:
        ingested = ingest_all(con, [(s.sniffed, s.importer) for s in sources], pricebook, keys_named=keys_named)
    return merged_tables(ingested, []), pricebook


def _one_application(log: Path, to: Path) -> Path:
    header, *body = log.read_text(encoding="utf-8").splitlines()
    assert header.endswith(',"app_name"'), "the premise: the application is the last column"
    to.write_text("\n".join([header, *(line.rsplit(",", 1)[0] + ",Search" for line in body)]) + "\n", "utf-8")
    return to


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "openrouter_logs.csv"
    generate("openrouter", 20_000, path, keys=10)  # 3 applications (projects) and none, 10 keys
    return path


def test_with_projects_to_segment_there_is_no_shape_by_key_and_every_stage_is_the_same(log: Path) -> None:
    without, pricebook = _shapes(log, keys_named=False)
    kept, _ = _shapes(log, keys_named=True)
    assert without.key_shape is None and kept.key_shape is not None and kept.key_shape["api_key"].nunique() == 10
    assert set(without.shape["api_key"]) == set(kept.shape["api_key"]) == {""}
    as_of = date(2026, 11, 27)
    candidates = [lookup_candidate(c.ref) for c in default_candidates()]
    assumptions = resolve_assumptions(())
    repricings = [Repricing.of(t.shape, as_of, t.key_shape) for t in (without, kept)]
    assert [segmentation(r.priced) for r in repricings] == ["project", "project"]
    scenarios = [build_scenarios(t.shape, pricebook, candidates, as_of, assumptions, r)
                 for t, r in zip((without, kept), repricings, strict=True)]  # fmt: skip
    assert scenarios[0] == scenarios[1] and scenarios[0]
    hybrids = [build_hybrid(t.shape, pricebook, candidates, as_of, assumptions, r)
               for t, r in zip((without, kept), repricings, strict=True)]  # fmt: skip
    assert hybrids[0] == hybrids[1] and hybrids[0] is not None
    assert build_findings(without.shape, pricebook, as_of) == build_findings(kept.shape, pricebook, as_of)


def test_with_one_project_there_is_a_shape_by_key_and_the_hybrid_segments_by_key(log: Path, tmp_path: Path) -> None:
    one = _one_application(log, tmp_path / "openrouter_logs.csv")
    tables, _ = _shapes(one, keys_named=False)
    assert tables.key_shape is not None
    assert set(tables.key_shape["project"]) == {"Search"}
    assert tables.key_shape["api_key"].nunique() == 10
    result = run_audit(AuditOptions(inputs=(one,), as_of=date(2026, 11, 27)))
    (hybrid,) = [s for s in result.scenarios if s.kind == "hybrid"]
    assert {s.segment for s in hybrid.segments} == {f"key-{i:05d}" for i in range(10)}


def test_the_shape_by_key_of_the_same_prices_gives_the_audit_of_each_half_hour_apart(
    log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every stage that reads the keys (the route-by-segment scenario, its forecast, risk and plan, the data profile)
    comes out the same from the shape by key with its half hours of the same prices summed as from the one with
    every half hour apart. Two candidates are DeepSeek's, priced by the time of day (on weekdays only)."""
    one = _one_application(log, tmp_path / "openrouter_logs.csv")
    by_prices, _ = _shapes(one, keys_named=False)
    candidates = ("deepseek:deepseek-flash", "deepseek:deepseek-v4-pro", "openai:gpt-5", "openai:gpt-5-mini")
    options = AuditOptions(inputs=(one,), as_of=date(2026, 11, 27), candidates=candidates)
    summed = run_audit(options)
    monkeypatch.setattr(engine, "same_price_slots", lambda: tuple(range(SLOTS_PER_DAY)))
    by_half_hour, _ = _shapes(one, keys_named=False)
    apart = run_audit(options)
    assert by_prices.key_shape is not None and by_half_hour.key_shape is not None
    assert len(by_prices.key_shape) < len(by_half_hour.key_shape) / 2, "the premise: half hours are summed"
    (hybrid,) = [s for s in summed.scenarios if s.kind == "hybrid"]
    routed = {s.candidate for s in hybrid.segments}
    assert hybrid.segmented_by == "api_key" and any(has_time_windows(lookup_candidate(r)) for r in routed if r), (
        "the premise: segments routed to a candidate priced by the time of day"
    )
    assert summed.plan is not None and summed.forecast
    first = summed.forecast[0]
    assert first.projected_cost["hybrid"] != first.baseline_cost, "the forecast routes the segments too"
    assert summed == apart


def test_a_policy_file_s_key_segment_is_read_beside_projects(tmp_path: Path) -> None:
    rows = csv_rows(OPENROUTER)
    assert len({r["app_name"] for r in rows}) >= 2, "the premise: projects segment the hybrid"
    key = sorted({r["api_key_name"] for r in rows if r["api_key_name"]})[0]
    policy = tmp_path / "policy.toml"
    policy.write_text(f'data = ["none"]\n[[segment]]\napi_key = "{key}"\ndata = ["phi"]\n', encoding="utf-8")
    options = AuditOptions(inputs=(OPENROUTER,), as_of=AS_OF, candidates=(DEEPSEEK, OPENAI), policy_file=policy)
    result = run_audit(options)
    assert result.data_profile is not None
    assert [(s.name, s.matched) for s in result.data_profile.segments] == [(key, True)]
    single = {s.candidate: s for s in result.scenarios if s.kind == "single"}
    risk = single[DEEPSEEK].risk
    assert risk is not None and risk.level == "blocked"
    baa = next(f for f in risk.findings if f.code == "phi-no-baa")
    assert f"api_key '{key}': phi" in str(baa.inputs["data_from"])


def test_a_wrong_guess_from_the_heads_scans_again_with_the_keys(log: Path, tmp_path: Path) -> None:
    """The scan leaves the key out of its shape set when the heads name two projects of catalog models; one of them
    only on a rejected row, the priced workload names one: the files are scanned again with the keys, and the
    hybrid segments by key as it would have."""
    header, *body = log.read_text(encoding="utf-8").splitlines()
    columns = header.replace('"', "").split(",")
    rows = [line.rsplit(",", 1)[0] + ",Search" for line in body]
    broken = rows[5].split(",")
    broken[columns.index("tokens_prompt")] = "-5"  # a negative count: the row is rejected
    broken[columns.index("app_name")] = "Other"
    rows[5] = ",".join(broken)
    one = tmp_path / "openrouter_logs.csv"
    one.write_text("\n".join([header, *rows]) + "\n", "utf-8")
    result = run_audit(AuditOptions(inputs=(one,), as_of=date(2026, 11, 27)))
    assert result.inputs[0].rows_rejected == 1, "the premise: the other project's one row is rejected"
    (hybrid,) = [s for s in result.scenarios if s.kind == "hybrid"]
    assert {s.segment for s in hybrid.segments} == {f"key-{i:05d}" for i in range(10)}
