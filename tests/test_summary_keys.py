"""The usage sections, the usage by project, the forecast and the reconciliation's list cost by day read the usage
table summed over its API keys (`summary.summed_over_keys`): they must come out exactly as from the table by key."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pytest

from auditor.attributed_usage import build_usage_by_project
from auditor.forecast import ForecastInput, build_forecast
from auditor.ingest import IngestedFile, ingest_all
from auditor.ledger import SUM_COLUMNS
from auditor.pipeline import merged_tables
from auditor.reconcile import build_reconciliation
from auditor.scan import scan_connection
from auditor.sources import open_sources
from auditor.summary import model_lines, summarise_usage, summed_over_keys
from auditor.workload import Pricebook
from bench.generate import generate
from pricing.catalog import default_candidates, lookup_candidate
from tests.conftest import SAMPLES

Names = dict[tuple[str, str], tuple[str, list[str]]]


class _Tables(NamedTuple):
    """The files' usage table with its model lines, as the run builds it (one pricebook for all), and their shape."""

    lines: pd.DataFrame
    names: Names
    ingested: list[IngestedFile]
    shape: pd.DataFrame


def _tables(paths: list[Path], pricebook: Pricebook) -> _Tables:
    with open_sources(tuple(paths), None) as (sources, _), scan_connection() as con:
        ingested = ingest_all(con, [(s.sniffed, s.importer) for s in sources], pricebook)
    usage, _, shape = merged_tables(ingested, [])
    lines, names = model_lines(usage)
    return _Tables(lines, names, ingested, shape)


_WITH_KEYS = ("aws_cur2_csv", "azure_cost_csv", "openai_cost_csv", "openai_usage_csv", "litellm_spend_logs_csv")


@pytest.fixture(scope="module")
def many_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    log = tmp_path_factory.mktemp("keys") / "openrouter_logs.csv"
    generate("openrouter", 30_000, log, keys=10)
    return log


def test_the_sum_over_keys_keeps_every_other_key_and_every_total(many_keys: Path) -> None:
    lines = _tables([many_keys], Pricebook()).lines
    keyless = summed_over_keys(lines)
    assert lines["api_key"].nunique() == 10 and "api_key" not in keyless
    assert len(keyless) < len(lines) / 5, "the premise: the keys multiply the rows"
    for column in SUM_COLUMNS:
        assert keyless[column].sum() == lines[column].sum()
    by = ["provider", "model_raw", "project", "day"]
    pd.testing.assert_frame_equal(
        keyless.groupby(by)[list(SUM_COLUMNS)].sum(), lines.groupby(by)[list(SUM_COLUMNS)].sum()
    )


def test_a_missing_key_value_is_a_group_not_a_lost_row() -> None:
    lines = pd.DataFrame(
        {"provider": ["a", "a", "a"], "project": ["p", None, None], "api_key": ["k1", "k1", "k2"]}
        | {c: [1, 2, 3] for c in SUM_COLUMNS}
    )
    keyless = summed_over_keys(lines)
    assert keyless["requests"].tolist() == [1, 5]
    assert keyless["project"].isna().tolist() == [False, True]


@pytest.mark.parametrize("with_samples", [False, True])
def test_the_usage_sections_are_the_same_from_the_table_by_key(many_keys: Path, with_samples: bool) -> None:
    paths = [many_keys]
    if with_samples:  # credits beside charges of another key (AWS, Azure), projects, cost-only lines, several files
        paths += sorted(p for folder in _WITH_KEYS for p in (SAMPLES / folder).glob("*.csv"))
    pricebook = Pricebook()
    lines, names, ingested, _ = _tables(paths, pricebook)
    shape = pd.DataFrame()  # read only for its notes on request sizes, the same either way
    keyed = summarise_usage(lines, names, shape, pricebook, ingested)
    summed = summarise_usage(summed_over_keys(lines), names, shape, pricebook, ingested)
    assert summed == keyed
    assert keyed[2].list_cost is not None, "the premise: the list cost is priced"
    by_project = build_usage_by_project(summed_over_keys(lines), names, pricebook)
    assert by_project == build_usage_by_project(lines, names, pricebook)
    # The plan's requests per day are over the days with usage, counted from the sum.
    assert summed_over_keys(lines)["day"].nunique() == lines["day"].nunique()


def test_the_reconciliation_is_the_same_from_the_sum_over_keys() -> None:
    """Credits are lines of their own kind, not rows billed below zero: a credit of one key beside another key's
    charges (the samples' AWS and Azure bills) is the same credit in the sum over keys."""
    pricebook = Pricebook()
    paths = sorted(p for folder in _WITH_KEYS for p in (SAMPLES / folder).glob("*.csv"))
    lines, names, ingested, _ = _tables(paths, pricebook)
    keyless = summed_over_keys(lines)
    assert len(keyless) < len(lines), "the premise: rows of several keys summed"
    by_month = summarise_usage(keyless, names, pd.DataFrame(), pricebook, ingested)[1]
    rows = build_reconciliation(keyless, names, pricebook, by_month)
    assert rows == build_reconciliation(lines, names, pricebook, by_month)
    assert any(r.credits for r in rows), "the premise: credits"


def test_the_forecast_is_the_same_from_the_sum_over_keys(many_keys: Path) -> None:
    pricebook = Pricebook()
    lines, _, _, shape = _tables([many_keys], pricebook)
    candidates = [lookup_candidate(c.ref) for c in default_candidates()]
    as_of = date.fromisoformat(str(lines["day"].max()))
    files = [ForecastInput(many_keys.name, "openrouter_requests", "days")]
    keyed = build_forecast(lines, shape, pricebook, candidates, as_of, files)
    assert keyed.months, "the premise: a forecast"
    assert build_forecast(summed_over_keys(lines), shape, pricebook, candidates, as_of, files) == keyed
