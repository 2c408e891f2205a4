"""`--tz`: days and months grouped in a time zone, from UTC timestamps; prices, totals and daily buckets unchanged."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader

from auditor.errors import OptionError
from auditor.importers import IMPORTERS
from auditor.importers.reader import detect, sniff
from auditor.ingest import ingest_file, survey_file
from auditor.localtime import SLOT, day_starts, local_days, zone_named
from auditor.scan import scan_connection
from auditor.workload import LOCAL_DAY, Pricebook
from tests.conftest import AS_OF, SAMPLES

ZONES = ("UTC", "America/New_York", "Asia/Tokyo")
# Requests near midnight UTC, across a month end, New York's daylight-saving changes (2026-03-08 and
# 2026-11-01 at 2:00 local) and Tokyo's midnight (15:00 UTC).
TIMES = (
    "2026-01-31 04:30:00.000",
    "2026-01-31 14:45:10.250",
    "2026-01-31 15:00:00.000",
    "2026-01-31 23:59:59.999",
    "2026-02-01 00:00:00.000",
    "2026-02-01 04:59:59.500",
    "2026-02-01 05:00:00.000",
    "2026-03-08 04:45:00.000",
    "2026-03-09 03:50:00.000",
    "2026-03-09 04:15:00.000",
    "2026-03-31 23:30:00.000",
    "2026-11-01 04:30:00.000",
    "2026-11-02 04:30:00.000",
)
OPENROUTER = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
# Daily buckets starting on 2026-10-01: in New York, a bucket read as a midnight-UTC timestamp would fall
# on 2026-09-30.
DAILY = SAMPLES / "openai_usage_csv" / "completions_usage_2026-10-01_2026-10-14.csv"


def _request_log(path: Path) -> list[dict[str, str]]:
    """An OpenRouter logs export (the sample's header and models) with one request at each of TIMES."""
    with OPENROUTER.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        templates = [row for row, _ in zip(reader, range(2), strict=False)]
        header = list(reader.fieldnames or ())
    rows = []
    for i, when in enumerate(TIMES):
        row = dict(templates[i % 2])
        row.update(
            generation_id=f"gen-tz-{i:03d}",
            created_at=when,
            tokens_prompt=str(1000 + 37 * i),
            tokens_cached="0",
            tokens_completion=str(100 + 11 * i),
            tokens_reasoning="0",
            cost_total=f"0.{i + 1:02d}1234",
        )
        rows.append(row)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return rows


def _local_day(created_at: str, zone: str) -> date:
    return datetime.fromisoformat(created_at).replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).date()


def _expected_by_day(rows: list[dict[str, str]], zone: str) -> dict[str, tuple[int, int, int]]:
    """(requests, input, output tokens) by local day, from the rows with zoneinfo."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        day = _local_day(row["created_at"], zone).isoformat()
        sums[day][0] += 1
        sums[day][1] += int(row["tokens_prompt"]) - int(row["tokens_cached"])
        sums[day][2] += int(row["tokens_completion"])
    return {day: (r, i, o) for day, (r, i, o) in sorted(sums.items())}


def _ingest(path: Path, zone: str) -> pd.DataFrame:
    sniffed = sniff(path)
    importer = detect(sniffed, IMPORTERS)
    with scan_connection() as con:
        survey = survey_file(con, sniffed, importer)
        return ingest_file(con, sniffed, importer, Pricebook(), 0, survey, zone=zone_named(zone)).usage


@pytest.mark.parametrize("zone", ZONES)
def test_requests_near_midnight_fall_on_their_local_day(zone: str, tmp_path: Path) -> None:
    rows = _request_log(tmp_path / "openrouter_logs.csv")
    usage = _ingest(tmp_path / "openrouter_logs.csv", zone)
    by_day = usage.groupby(LOCAL_DAY)[["requests", "input_tokens", "output_tokens"]].sum()
    actual = {str(day): tuple(int(v) for v in row) for day, row in zip(by_day.index, by_day.values, strict=True)}
    assert actual == _expected_by_day(rows, zone)
    # The UTC day, which list prices are looked up on, is kept as it is.
    utc = usage.groupby("day")["requests"].sum().to_dict()
    assert utc == dict(Counter(when[:10] for when in TIMES))


def test_the_zones_really_move_these_requests(tmp_path: Path) -> None:
    """The fixture is one where each zone groups the days differently (so the tests above can fail)."""
    rows = _request_log(tmp_path / "log.csv")
    days = [_expected_by_day(rows, zone) for zone in ZONES]
    assert days[0] != days[1] and days[0] != days[2] and days[1] != days[2]
    # Daylight saving time: 04:15 UTC is 00:15 on 9 March in New York (EDT), 23:15 on 8 March at EST.
    assert _local_day("2026-03-09 04:15:00", "America/New_York") == date(2026, 3, 9)


@pytest.mark.parametrize("zone", ZONES[1:])
def test_daily_buckets_keep_their_day(zone: str) -> None:
    usage = _ingest(DAILY, zone)
    assert (usage[LOCAL_DAY] == usage["day"]).all()
    assert usage["day"].min() == "2026-10-01"


def test_a_mapped_file_of_dates_keeps_its_days(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An in-house file whose time column holds dates: daily buckets, not requests at midnight UTC."""
    (tmp_path / "daily.csv").write_text(
        "date,model,prompt,completion\n2026-10-01,gpt-4o-mini-2024-07-18,1000,100\n"
        "2026-11-01,gpt-4o-mini-2024-07-18,2000,200\n",
        encoding="utf-8",
    )
    (tmp_path / "map.toml").write_text(
        '[source]\nprovider = "openai"\nmodel_column = "model"\ntime_column = "date"\n'
        '[tokens]\ninput = "prompt"\noutput = "completion"\n',
        encoding="utf-8",
    )
    args = (str(tmp_path / "daily.csv"), "--map", str(tmp_path / "map.toml"), "--as-of", AS_OF.isoformat())
    result = run_cli(*args, "--tz", "America/New_York", "--json", "-")
    assert result.status == 0, result.err
    data = result.json()
    assert (data["period"]["start"], data["period"]["end"]) == ("2026-10-01", "2026-11-01")
    assert [(m["month"], m["input_tokens"]) for m in data["usage_by_month"]] == [("2026-10", 1000), ("2026-11", 2000)]


def _audit(run_cli, inputs: list[Path], zone: str):  # type: ignore[no-untyped-def]
    result = run_cli(*map(str, inputs), "--as-of", AS_OF.isoformat(), "--tz", zone, "--json", "-")
    assert result.status == 0, result.err
    return result.json()


def _workload(path: Path) -> None:
    """A pre-aggregated workload of a model whose price moves with the UTC time of day (DeepSeek off-peak)."""
    path.write_text(
        "provider,model,day,half_hour,requests,input_tokens,output_tokens\n"
        "deepseek,deepseek-chat,2025-03-01,1,10,400000,90000\n"
        "deepseek,deepseek-chat,2025-03-01,32,10,400000,90000\n"
        "deepseek,deepseek-chat,2025-03-01,33,10,400000,90000\n"
        "deepseek,deepseek-chat,2025-02-28,47,10,400000,90000\n",
        encoding="utf-8",
    )


def test_months_move_with_the_zone_and_nothing_else_does(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rows = _request_log(tmp_path / "openrouter_logs.csv")
    _workload(tmp_path / "workload.csv")
    inputs = [tmp_path / "openrouter_logs.csv", tmp_path / "workload.csv", DAILY]
    results = {zone: _audit(run_cli, inputs, zone) for zone in ZONES}
    utc = results["UTC"]
    # The off-peak window makes the half hour matter: priced on the UTC half hour, whatever the zone.
    deepseek = next(u for u in utc["usage"] if u["model_raw"] == "deepseek-chat")
    assert Decimal(deepseek["list_cost"]) > 0
    for zone, result in results.items():
        assert result["timezone"] == zone
        for key in ("usage", "totals", "scenarios"):
            assert result[key] == utc[key], f"{key} moved with --tz {zone}"
        # Months of the request log: its rows' local months.
        months = defaultdict(int)
        for row in rows:
            months[_local_day(row["created_at"], zone).isoformat()[:7]] += int(row["tokens_completion"])
        logged = defaultdict(int)
        for m in result["usage_by_month"]:
            if m["provider"] == "openrouter":
                logged[m["month"]] += m["output_tokens"]
        assert logged == months
        # The month list cost adds up to the same total in every zone.
        month_costs = sum(Decimal(m["list_cost"]) for m in result["usage_by_month"] if m["list_cost"])
        assert month_costs == sum(Decimal(m["list_cost"]) for m in utc["usage_by_month"] if m["list_cost"])
        # Inputs are listed in name order (not the order given): find each by its file.
        by_name = {Path(i["path"]).name: i for i in result["inputs"]}
        log, workload, daily = (by_name[p.name] for p in inputs)
        local = sorted(_local_day(t, zone).isoformat() for t in TIMES)
        assert (log["period_start"], log["period_end"]) == (local[0], local[-1])
        # The daily buckets keep their days; the workload's half hours move like requests.
        assert (daily["period_start"], daily["period_end"]) == ("2026-10-01", "2026-10-14")
        first = {"UTC": "2025-02-28", "America/New_York": "2025-02-28", "Asia/Tokyo": "2025-03-01"}[zone]
        assert workload["period_start"] == first
        assert {m["month"] for m in result["usage_by_month"] if m["provider"] == "openai"} == {"2026-10"}
    assert results["America/New_York"]["usage_by_month"] != utc["usage_by_month"]
    assert results["Asia/Tokyo"]["usage_by_month"] != utc["usage_by_month"]


def test_the_zone_is_shown_in_every_output(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _request_log(tmp_path / "openrouter_logs.csv")
    result = run_cli(
        str(tmp_path / "openrouter_logs.csv"), "--as-of", AS_OF.isoformat(), "--tz", "Asia/Tokyo",
        "--xlsx", str(tmp_path / "r.xlsx"), "--pdf", str(tmp_path / "r.pdf"),
    )  # fmt: skip
    assert result.status == 0, result.err
    assert "2026-01-31 to 2026-11-02 (Asia/Tokyo)" in result.out
    summary = {row[0].value: row[1].value for row in openpyxl.load_workbook(tmp_path / "r.xlsx")["Summary"].iter_rows()}
    assert summary["Days and months in"] == "Asia/Tokyo"
    assert summary["Period start"].date() == date(2026, 1, 31)
    text = " ".join(page.extract_text() for page in PdfReader(tmp_path / "r.pdf").pages)
    assert "Days and months in Asia/Tokyo" in " ".join(text.split())
    assert "Months are calendar months in Asia/Tokyo" in " ".join(text.split())


@pytest.mark.parametrize(
    ("zone", "lines"),
    [
        ("Europe/Berln", ["error: unknown time zone 'Europe/Berln' for --tz", "hint: did you mean Europe/Berlin, "]),
        (
            "america/new_york",
            ["error: unknown time zone 'america/new_york' for --tz", "hint: did you mean America/New_York?"],
        ),
        ("Mars/Olympus", ["error: unknown time zone 'Mars/Olympus' for --tz", "hint: give an IANA name such as "]),
        (
            "Asia/Kathmandu",
            ["error: time zone 'Asia/Kathmandu' is UTC+05:45: usage is kept by UTC half hour", "hint: "],
        ),
    ],
)
def test_a_zone_that_cannot_be_used_exits_2(run_cli, zone: str, lines: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(str(OPENROUTER), "--tz", zone, "--json", "-")
    assert result.status == 2
    error, hint = result.err.strip().splitlines()
    assert error.startswith(lines[0]) and hint.startswith(lines[1])
    assert result.out == ""


def test_half_hour_offsets_are_exact() -> None:
    """Asia/Kolkata is UTC+05:30: its days start at 18:30 UTC (half hour 37); 18:00 UTC is 23:30 there."""
    zone = zone_named("Asia/Kolkata")
    assert zone is not None
    assert day_starts(zone) == (0, 37)
    days = local_days(pd.Series(["2026-05-01"] * 3), pd.Series([0, 37, -1]), zone)
    assert days == ["2026-05-01", "2026-05-02", "2026-05-01"]
    assert zone_named("Etc/UTC") is None  # UTC all year: days are kept as scanned


def test_day_starts_of_zones_with_daylight_saving_time() -> None:
    # New York's days start at 05:00 UTC in winter (EST) and 04:00 in summer (EDT); Tokyo's at 15:00.
    assert day_starts(ZoneInfo("America/New_York")) == (0, 8, 10)
    assert day_starts(ZoneInfo("Asia/Tokyo")) == (0, 30)
    assert day_starts(ZoneInfo("Europe/London")) == (0, 46)


@pytest.mark.parametrize(
    "name", ["America/New_York", "Europe/London", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata"]
)
def test_every_half_hour_of_a_year_gets_its_local_day(name: str) -> None:
    """Each half hour of 2026 (DST changes included; Lord Howe shifts by 30 minutes), through its UTC day
    and day part, lands on the day zoneinfo gives its instant."""
    zone = ZoneInfo(name)
    starts = day_starts(zone)
    instants = [datetime(2026, 1, 1, tzinfo=UTC) + n * SLOT for n in range(365 * 48)]
    slots = [i.hour * 2 + i.minute // 30 for i in instants]
    parts = [max(s for s in starts if s <= slot) for slot in slots]
    days = pd.Series([i.date().isoformat() for i in instants])
    assert local_days(days, pd.Series(parts), zone) == [i.astimezone(zone).date().isoformat() for i in instants]


def test_zones_with_quarter_hour_offsets_are_refused() -> None:
    for name in ("Asia/Kathmandu", "Australia/Eucla", "Pacific/Chatham"):
        with pytest.raises(OptionError, match="whole number of half hours"):
            zone_named(name)
