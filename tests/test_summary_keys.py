"""The scan gives the usage table summed over API keys, and the usage by API key by month, summed by price period
(`engine.key_day_sql`, `ingest._workload_tables`): every section must come out exactly as from the table by key and
day (`key_days`, the rows of a FOCUS file, scanned on their own)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from auditor.attributed_usage import build_usage_by_key, build_usage_by_project
from auditor.forecast import ForecastInput, build_forecast
from auditor.ingest import IngestedFile, ingest_all
from auditor.key_days import KeyDays
from auditor.ledger import SUM_COLUMNS
from auditor.options import AuditOptions
from auditor.pipeline import merged_tables, run_audit
from auditor.reconcile import build_reconciliation
from auditor.scan import scan_connection
from auditor.sources import open_sources
from auditor.summary import model_lines, summarise_usage, with_lines_of
from auditor.workload import Pricebook
from bench.generate import generate
from pricing.catalog import default_candidates, lookup_candidate
from pricing.ratebook import price_change_days
from pricing.rates import has_time_windows
from tests.conftest import SAMPLES

Names = dict[tuple[str, str], tuple[str, list[str]]]


class _Tables(NamedTuple):
    """The files' tables as the run builds them (one pricebook for all): the usage table with its model lines, the
    usage by key with its model lines, and the shape; and the table by key and day with its model lines."""

    lines: pd.DataFrame
    names: Names
    ingested: list[IngestedFile]
    shape: pd.DataFrame
    key_lines: pd.DataFrame
    key_days: pd.DataFrame


def _ingested(
    paths: list[Path], pricebook: Pricebook, key_days: KeyDays | None, zone: ZoneInfo | None = None
) -> list[IngestedFile]:
    """The files ingested; with `key_days`, the usage by key and day written to its file too (as `--focus` does)."""
    path = key_days.path if key_days is not None else None
    with open_sources(tuple(paths), None) as (sources, _), scan_connection() as con:
        return ingest_all(con, [(s.sniffed, s.importer) for s in sources], pricebook, zone=zone, key_days=path)


def _key_days_table(paths: list[Path], pricebook: Pricebook) -> pd.DataFrame:
    """The usage by key and day of a scan with `key_days`, every day at once."""
    key_days = KeyDays()
    _ingested(paths, pricebook, key_days)
    return pd.concat(list(key_days.by_day()), ignore_index=True)


def _tables(paths: list[Path], pricebook: Pricebook) -> _Tables:
    """The tables as a run without `--focus` builds them, and the table by key and day from a scan with `key_days`."""
    ingested = _ingested(paths, pricebook, None)
    tables = merged_tables(ingested, [])
    lines, names = model_lines(tables.usage)
    by_day, day_names = model_lines(_key_days_table(paths, pricebook))
    assert day_names == names
    return _Tables(lines, names, ingested, tables.shape, with_lines_of(tables.key_usage, lines), by_day)


_WITH_KEYS = ("aws_cur2_csv", "azure_cost_csv", "openai_cost_csv", "openai_usage_csv", "litellm_spend_logs_csv")


@pytest.fixture(scope="module")
def many_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    log = tmp_path_factory.mktemp("keys") / "openrouter_logs.csv"
    generate("openrouter", 30_000, log, keys=10)
    return log


def test_the_usage_table_is_the_table_by_key_and_day_summed_over_its_keys(many_keys: Path) -> None:
    tables = _tables([many_keys], Pricebook())
    lines, by_day = tables.lines, tables.key_days
    assert by_day["api_key"].nunique() == 10 and "api_key" not in lines
    assert len(lines) < len(by_day) / 5, "the premise: the keys multiply the rows"
    by = [c for c in lines.columns if c not in SUM_COLUMNS]
    pd.testing.assert_frame_equal(
        lines.set_index(by)[list(SUM_COLUMNS)], by_day.groupby(by, sort=True)[list(SUM_COLUMNS)].sum()
    )
    # and the usage by key is it by month
    months = by_day.assign(month=by_day["day"].str.slice(0, 7), local_month=by_day["local_day"].str.slice(0, 7))
    keys = ["provider", "model_raw", "api_key", "month", "local_month", "list_rate_id"]
    pd.testing.assert_frame_equal(
        tables.key_lines.groupby(keys)[list(SUM_COLUMNS)].sum(), months.groupby(keys)[list(SUM_COLUMNS)].sum()
    )


@pytest.fixture(scope="module")
def weekday_priced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workload file of a model whose peak price holds on weekdays only (`pricing/data/price_overlays.toml`): two
    keys, at a peak half hour and off-peak, every day across a month's end and two weekends."""
    header = "provider,model,project,api_key,service_tier,day,half_hour,request_size_floor_tokens,requests,"
    header += "input_tokens,cache_read_tokens,output_tokens,reasoning_tokens,billed_cost,currency\n"
    rows = [
        f"deepseek,deepseek-v4-flash,Search,{key},standard,{date(2026, 9, 26) + timedelta(days=n)},{half_hour},0,"
        f"3,{1000 + n},200,{300 + half_hour},0,0.004,USD\n"
        for n in range(10)
        for half_hour in (3, 20, 47)
        for key in ("key-a", "key-b")
    ]
    path = tmp_path_factory.mktemp("weekdays") / "workload_2026-09.csv"
    path.write_text(header + "".join(rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("zone", [None, "America/Los_Angeles", "Pacific/Kiritimati"])
def test_the_usage_by_key_summed_by_price_period_is_the_usage_by_key_and_day_by_month(
    many_keys: Path, weekday_priced: Path, zone: str | None
) -> None:
    """A key's days between two price changes of its model, within a month, are summed as one: their list rates are
    the same (a model whose price moves with the time of day keeps its days). In a time zone, the first and last day
    of a month stay apart, as their local day may be in another month. The log's 90 days cross two months' ends and
    price changes of its models (the premise); the samples add a model priced by the time of day, credits and
    cost-only lines; `weekday_priced` a model whose peak price holds on weekdays only."""
    keyed_samples = sorted(p for folder in _WITH_KEYS for p in (SAMPLES / folder).glob("*.csv"))
    paths = [many_keys, weekday_priced, *keyed_samples]
    pricebook = Pricebook()  # one for both: equal rates, one id
    where = ZoneInfo(zone) if zone else None
    by_period = merged_tables(_ingested(paths, pricebook, None, zone=where), []).key_usage
    by_day = merged_tables(_ingested(paths, pricebook, KeyDays(), zone=where), []).key_usage
    pd.testing.assert_frame_equal(by_period, by_day)
    changes = {
        (ref, change)
        for ref, model in pricebook.models.items()
        for change in price_change_days(model) or ()
        if date(2026, 9, 2) < change <= date(2026, 11, 29)
    }
    assert changes, "the premise: list prices that change within the log's months"
    assert any(has_time_windows(model) for model in pricebook.models.values()), "the premise: a model priced by hour"
    if zone:
        assert (by_period["month"] != by_period["local_month"]).any(), "the premise: local months"


@pytest.mark.parametrize("with_samples", [False, True])
def test_the_usage_sections_are_the_same_from_the_table_by_key_and_day(many_keys: Path, with_samples: bool) -> None:
    paths = [many_keys]
    if with_samples:  # credits beside charges of another key (AWS, Azure), projects, cost-only lines, several files
        paths += sorted(p for folder in _WITH_KEYS for p in (SAMPLES / folder).glob("*.csv"))
    pricebook = Pricebook()
    lines, names, ingested, _, key_lines, by_day = _tables(paths, pricebook)
    shape = pd.DataFrame()  # read only for its notes on request sizes, the same either way
    summed = summarise_usage(lines, names, shape, pricebook, ingested)
    assert summed == summarise_usage(by_day, names, shape, pricebook, ingested)
    assert summed[2].list_cost is not None, "the premise: the list cost is priced"
    assert build_usage_by_project(lines, names, pricebook) == build_usage_by_project(by_day, names, pricebook)
    by_key = build_usage_by_key(key_lines, names, pricebook)
    assert by_key == build_usage_by_key(by_day, names, pricebook)
    assert len({k.api_key for k in by_key}) >= 10, "the premise: keys"
    # The plan's requests per day are over the days with usage, counted from the sum.
    assert lines["day"].nunique() == by_day["day"].nunique()


def test_the_reconciliation_is_the_same_from_the_sum_over_keys() -> None:
    """Credits are lines of their own kind, not rows billed below zero: a credit of one key beside another key's
    charges (the samples' AWS and Azure bills) is the same credit in the sum over keys."""
    pricebook = Pricebook()
    paths = sorted(p for folder in _WITH_KEYS for p in (SAMPLES / folder).glob("*.csv"))
    lines, names, ingested, _, _, by_day = _tables(paths, pricebook)
    assert len(lines) < len(by_day), "the premise: rows of several keys summed"
    by_month = summarise_usage(lines, names, pd.DataFrame(), pricebook, ingested)[1]
    rows = build_reconciliation(lines, names, pricebook, by_month)
    assert rows == build_reconciliation(by_day, names, pricebook, by_month)
    assert any(r.credits for r in rows), "the premise: credits"


def test_the_forecast_is_the_same_from_the_sum_over_keys(many_keys: Path) -> None:
    pricebook = Pricebook()
    tables = _tables([many_keys], pricebook)
    candidates = [lookup_candidate(c.ref) for c in default_candidates()]
    as_of = date.fromisoformat(str(tables.lines["day"].max()))
    files = [ForecastInput(many_keys.name, "openrouter_requests", "days")]
    summed = build_forecast(tables.lines, tables.shape, pricebook, candidates, as_of, files)
    assert summed.months, "the premise: a forecast"
    assert build_forecast(tables.key_days, tables.shape, pricebook, candidates, as_of, files) == summed


def test_the_usage_by_key_adds_up_to_the_totals_in_another_currency(tmp_path: Path) -> None:
    """Converted row by row, a key's month and the days of the usage table round apart: the usage by key is made to
    add up to the usage table, nano-dollar for nano-dollar, line by line and month by month (at this rate, the keys'
    months converted on their own are a nano-dollar short of the total)."""
    source = SAMPLES / "openai_cost_csv" / "cost_2026-08-18_2026-08-21.csv"
    text = source.read_text(encoding="utf-8")
    assert text.count(",usd,") >= 10, "the premise: the export is in USD"
    bill = tmp_path / source.name
    bill.write_text(text.replace(",usd,", ",eur,"), encoding="utf-8")
    options = AuditOptions(inputs=(bill,), as_of=date(2026, 11, 27), fx=("EUR=1.123456789",))
    result = run_audit(options)
    assert len({k.api_key for k in result.usage_by_key}) >= 2, "the premise: several keys"
    assert result.totals.billed_cost is not None
    keyed: dict[tuple[str, str, str], Decimal] = {}
    for k in result.usage_by_key:
        if k.billed_cost is not None:
            line = (k.provider, k.model_raw, k.month)
            keyed[line] = keyed.get(line, Decimal(0)) + k.billed_cost
    assert sum(keyed.values(), Decimal(0)) == result.totals.billed_cost
    monthly = {(m.provider, m.model_raw, m.month): m.billed_cost for m in result.usage_by_month if m.billed_cost}
    assert keyed == monthly
