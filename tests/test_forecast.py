"""The 12-month forecast and the scheduled price changes after as-of, checked against genai_prices.calc_price."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from genai_prices import Usage, calc_price
from openpyxl import load_workbook
from pypdf import PdfReader

from auditor.forecast import CAUTION, VOLUME_NOTE, SourceVolume, forecast_months, forecast_volume, observed_trend
from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.report.formatting import money
from auditor.report.pdf import write_pdf
from auditor.report.xlsx import write_xlsx
from pricing.catalog import lookup_candidate
from pricing.schedule import deprecation
from tests.conftest import SAMPLES, csv_rows
from tests.test_importer_openai_batch_jsonl import batch_sample_requests

SAMPLE = SAMPLES / "openai_batch_jsonl" / "batch_6790a1b7_output.jsonl"
NANO = Decimal("1e-9")


_requests = batch_sample_requests


def _observed_days() -> int:
    days = [at.date() for _, _, at in _requests()]
    return (max(days) - min(days)).days + 1


def _workload_on(provider: str, model: str, day: date) -> Decimal:
    """The sample's requests re-priced, request by request, on a model at noon UTC of `day` (batch, as served)."""
    at = datetime.combine(day, time(12), tzinfo=UTC)
    return sum(
        (
            calc_price(usage, model, provider_id=provider, genai_request_timestamp=at,
                       price_context={"processing": "batch"}).total_price
            for _, usage, _ in _requests()
        ),
        Decimal(0),
    )  # fmt: skip


def test_forecast_shows_a_candidates_scheduled_price_change_after_as_of() -> None:
    # The catalog raises Gemini 3.8 Flash's prices on 2027-01-01 (introductory rates end on 2026-12-31).
    result = run_audit(
        AuditOptions(inputs=(SAMPLE,), as_of=date(2026, 11, 27), candidates=("google:gemini-3.8-flash",))
    )
    months = {m.month: m for m in result.forecast}
    assert list(months) == [f"{y}-{m:02d}" for y, m in [(2026, 12), *((2027, k) for k in range(1, 12))]]
    days = _observed_days()  # one observed day: fewer than 3 full months, so the volume is flat
    december = _workload_on("google", "gemini-3.8-flash", date(2026, 12, 15)) * 31 / days
    january = _workload_on("google", "gemini-3.8-flash", date(2027, 1, 15)) * 31 / days
    assert january > december
    # The candidate's scenario and the route-by-segment scenario (over its segments: `..._segment_by_segment`).
    assert set(months["2026-12"].projected_cost) == {"google:gemini-3.8-flash", "hybrid"}
    assert months["2026-12"].projected_cost["google:gemini-3.8-flash"] == december.quantize(NANO)
    assert months["2027-01"].projected_cost["google:gemini-3.8-flash"] == january.quantize(NANO)
    # Month length moves the volume, not the price: February has 28 days at January's prices.
    february = _workload_on("google", "gemini-3.8-flash", date(2027, 2, 15)) * 28 / days
    assert months["2027-02"].projected_cost["google:gemini-3.8-flash"] == february.quantize(NANO)

    changes = [c for c in result.price_changes if c.model == "google:gemini-3.8-flash" and c.kind == "price"]
    assert [(c.date, c.service_tier, c.role) for c in changes] == [(date(2027, 1, 1), "batch", "candidate")]
    million = Usage(input_tokens=1_000_000)
    before = calc_price(million, "gemini-3.8-flash", provider_id="google", price_context={"processing": "batch"},
                        genai_request_timestamp=datetime(2026, 12, 31, 23, 59, tzinfo=UTC)).total_price  # fmt: skip
    after = calc_price(million, "gemini-3.8-flash", provider_id="google", price_context={"processing": "batch"},
                       genai_request_timestamp=datetime(2027, 1, 1, tzinfo=UTC)).total_price  # fmt: skip
    assert changes[0].old is not None and changes[0].new is not None
    assert (changes[0].old["input_mtok"], changes[0].new["input_mtok"]) == (before, after)
    assert before < after


def test_a_month_with_price_changes_inside_is_priced_day_by_day() -> None:
    # Mistral Large 4 changes its prices on 2026-10-20 and again on 2026-10-29 (its batch price also on 10-14).
    result = run_audit(AuditOptions(inputs=(SAMPLE,), as_of=date(2026, 9, 30), candidates=("mistral:mistral-large-4",)))
    october = next(m for m in result.forecast if m.month == "2026-10")
    per_day = [_workload_on("mistral", "mistral-large-4", date(2026, 10, d)) for d in range(1, 32)]
    assert len(set(per_day)) > 1
    expected = sum(per_day, Decimal(0)) / _observed_days()
    assert october.projected_cost["mistral:mistral-large-4"] == expected.quantize(NANO)
    changed = {c.date for c in result.price_changes if c.model == "mistral:mistral-large-4" and c.kind == "price"}
    assert {date(2026, 10, 14), date(2026, 10, 20), date(2026, 10, 29)} <= changed


def test_the_baseline_forecast_prices_the_current_models_in_force_each_month() -> None:
    result = run_audit(AuditOptions(inputs=(SAMPLE,), as_of=date(2026, 11, 27), candidates=("openai:gpt-5-mini",)))
    days = _observed_days()
    for month in result.forecast[:2]:
        first = date.fromisoformat(month.month + "-01")
        length = ((first + timedelta(days=31)).replace(day=1) - first).days
        at = datetime.combine(first + timedelta(days=14), time(12), tzinfo=UTC)
        expected = Decimal(0)
        for model, usage, _ in _requests():
            expected += calc_price(usage, model, provider_id="openai", genai_request_timestamp=at,
                                   price_context={"processing": "batch"}).total_price  # fmt: skip
        assert month.baseline_cost == (expected * length / days).quantize(NANO)


def _volumes(per_month: dict[tuple[int, int], int]) -> dict[date, int]:
    """Daily volumes: each (year, month) at a constant daily volume for every day of the month."""
    out = {}
    for (year, month), daily in per_month.items():
        day = date(year, month, 1)
        while day.month == month:
            out[day] = daily
            day += timedelta(days=1)
    return out


def test_trend_is_a_least_squares_line_through_full_months_only() -> None:
    daily = _volumes({(2026, 1): 100, (2026, 2): 200, (2026, 3): 300})
    daily[date(2026, 4, 1)] = 5  # a partial month: not fitted
    daily[date(2026, 4, 2)] = 7
    trend = observed_trend(daily)
    assert trend is not None
    assert trend.daily(date(2026, 5, 1)) == 500
    assert trend.daily(date(2026, 1, 1)) == 100
    assert "least-squares" in trend.note and "3 full months" in trend.note
    # Not on a line: the least-squares slope of (0, 100), (1, 100), (2, 200) is 50, through the means.
    noisy = observed_trend(_volumes({(2026, 1): 100, (2026, 2): 100, (2026, 3): 200}))
    assert noisy is not None
    assert noisy.slope == 50
    assert noisy.daily(date(2026, 2, 1)) == Fraction(400, 3)


def test_a_falling_trend_never_goes_below_zero() -> None:
    trend = observed_trend(_volumes({(2026, 1): 300, (2026, 2): 200, (2026, 3): 100}))
    assert trend is not None
    assert trend.daily(date(2026, 4, 1)) == 0
    assert trend.daily(date(2026, 12, 1)) == 0


def test_fewer_than_three_full_months_give_a_flat_mean() -> None:
    daily = {date(2026, 1, 15): 100, date(2026, 3, 14): 500}
    trend = observed_trend(daily)
    assert trend is not None
    days = (date(2026, 3, 14) - date(2026, 1, 15)).days + 1
    assert trend.slope == 0
    assert trend.daily(date(2027, 6, 1)) == Fraction(600, days)
    assert "flat" in trend.note
    assert observed_trend({}) is None


@pytest.mark.parametrize(
    ("as_of", "first"),
    [
        (date(2026, 11, 27), date(2026, 12, 1)),
        (date(2026, 12, 1), date(2026, 12, 1)),
        (date(2026, 12, 31), date(2027, 1, 1)),
    ],
)
def test_forecast_months_are_the_twelve_calendar_months_after_as_of(as_of: date, first: date) -> None:
    months = forecast_months(as_of)
    assert len(months) == 12 and months[0] == first
    assert all(m.day == 1 for m in months) and len(set(months)) == 12


def test_price_changes_and_forecast_are_in_the_json() -> None:
    result = run_audit(AuditOptions(inputs=(SAMPLE,), as_of=date(2026, 11, 27)))
    data = json.loads(result.model_dump_json())
    assert data["schema_version"] == "1"
    assert [m["month"] for m in data["forecast"]][:2] == ["2026-12", "2027-01"]
    first = data["forecast"][0]
    assert set(first) >= {"month", "baseline_cost", "projected_cost"}
    # Each scenario is forecast, the route-by-segment one too.
    assert "hybrid" in {s["candidate"] for s in data["scenarios"]}
    assert set(first["projected_cost"]) == {s["candidate"] for s in data["scenarios"]}
    assert isinstance(first["baseline_cost"], str)
    change = next(c for c in data["price_changes"] if c["model"] == "google:gemini-3.8-flash")
    assert set(change) >= {"model", "date", "old", "new"} and change["date"] == "2027-01-01"
    # Only changes after as-of are listed.
    assert all(c["date"] > "2026-11-27" for c in data["price_changes"] if c["kind"] == "price")


def test_the_pdf_and_xlsx_show_the_forecast_and_the_price_changes(tmp_path: Path) -> None:
    result = run_audit(
        AuditOptions(inputs=(SAMPLE,), as_of=date(2026, 11, 27), candidates=("google:gemini-3.8-flash",))
    )
    write_xlsx(result, tmp_path / "r.xlsx")
    book = load_workbook(tmp_path / "r.xlsx")
    rows = list(book["Forecast"].iter_rows(values_only=True))
    assert rows[0][:3] == ("month", "tokens", "baseline")
    assert sorted(str(h) for h in rows[0][3:]) == ["google:gemini-3.8-flash", "hybrid"]
    assert [r[0] for r in rows[1:]] == [m.month for m in result.forecast]
    for row, month in zip(rows[1:], result.forecast, strict=True):
        assert row[1:3] == (month.tokens, float(month.baseline_cost))
        assert row[3:] == tuple(float(month.projected_cost[str(ref)]) for ref in rows[0][3:])
    changes = list(book["Price changes"].iter_rows(values_only=True))
    change = next(r for r in changes[1:] if r[2] == "google:gemini-3.8-flash")
    assert change[0] is not None and change[0].date() == date(2027, 1, 1)
    assert change[6:8] == (0.375, 0.0375)  # old batch input and cache read, USD per million tokens: numbers
    cell = book["Price changes"].cell(changes.index(change) + 1, 8)
    assert cell.number_format == '"$"#,##0.00####'  # shown to the tenth of a thousandth of a cent, not to the cent

    write_pdf(result, tmp_path / "r.pdf")
    text = " ".join(page.extract_text() for page in PdfReader(tmp_path / "r.pdf").pages)
    assert "Forecast and scheduled price changes" in text
    january = next(m for m in result.forecast if m.month == "2027-01")
    assert money(january.projected_cost["google:gemini-3.8-flash"]) in text
    assert "2027-01-01" in text


@pytest.mark.parametrize(
    ("provider", "model", "day"),
    [
        ("mistral", "devstral-2512", date(2026, 5, 22)),  # "Deprecated 2026-05-22."
        ("databricks", "databricks-inkling", date(2026, 10, 30)),  # "Retires on 2026-10-30."
        ("x-ai", "grok-2-1212", None),  # "(deprecated)": no day
        ("google", "gemini-2.0-flash", None),  # the only day in its sentence is when the catalog was updated
    ],
)
def test_deprecations_take_the_day_the_catalog_comment_gives(provider: str, model: str, day: date | None) -> None:
    found = deprecation(lookup_candidate(f"{provider}:{model}"))
    assert found is not None and found.day == day and found.note


def test_a_deprecated_candidate_is_listed_without_a_price() -> None:
    result = run_audit(AuditOptions(inputs=(SAMPLE,), as_of=date(2026, 11, 27), candidates=("mistral:devstral-2512",)))
    listed = [c for c in result.price_changes if c.model == "mistral:devstral-2512"]
    assert [(c.kind, c.date, c.old, c.new) for c in listed] == [("deprecation", date(2026, 5, 22), None, None)]
    assert deprecation(lookup_candidate("openai:gpt-5-mini")) is None


def test_months_no_input_covers_are_left_out_and_covered_months_without_usage_count_as_zero() -> None:
    """A month between two files' periods that neither covers says nothing of the traffic: it is left out (and
    named), never fitted as a month without usage. A month a file covers without usage is one (it is fitted)."""
    daily = _volumes({(2026, 1): 100, (2026, 4): 200, (2026, 5): 300, (2026, 6): 400})
    covered = frozenset(daily)  # a file of January, one of April to June
    gappy = observed_trend(daily, covered)
    assert gappy is not None
    # Fitted on the full months the files cover, each at its own index: January, and April to June.
    assert gappy.fitted_months == 4
    xs, ys = [0, 3, 4, 5], [100, 200, 300, 400]
    mean_x, mean_y = Fraction(sum(xs), 4), Fraction(sum(ys), 4)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum((x - mean_x) ** 2 for x in xs)
    assert gappy.slope == slope
    assert "2 whole month(s) between the inputs' periods are covered by none of them (2026-02, 2026-03)" in gappy.note
    # The same days read as one file's period: February and March are months without usage, fitted as zero.
    whole = observed_trend(daily)
    assert whole is not None and whole.fitted_months == 6 and "covered by none" not in whole.note
    assert whole.slope != gappy.slope


def test_a_flat_volume_is_the_mean_over_the_days_the_inputs_cover() -> None:
    """Two exports of a few days each, months apart: the mean is over their days, not over the months between
    (which a mean from the first to the last day would read as months without usage)."""
    daily = {date(2025, 9, 1): 300, date(2025, 9, 3): 300, date(2026, 10, 1): 400}
    covered = frozenset([date(2025, 9, 1), date(2025, 9, 2), date(2025, 9, 3), date(2026, 10, 1)])
    trend = observed_trend(daily, covered)
    assert trend is not None and trend.fitted_months == 0
    assert trend.daily(date(2027, 1, 1)) == Fraction(1000, 4)
    assert "over the 4 days the inputs cover (2025-09-01 to 2026-10-01" in trend.note


def test_sources_of_different_periods_are_forecast_each_on_its_own_and_summed() -> None:
    """One line through a January export of one vendor and an April-to-June log of another would compare months
    of different inputs; each source is continued on its own, and the forecast's volume is their sum. A source
    that ends more than a month before the latest is named in the caution."""
    january = SourceVolume(("a.csv",), _volumes({(2026, 1): 100}), frozenset(_volumes({(2026, 1): 1})))
    later = _volumes({(2026, 4): 200, (2026, 5): 300, (2026, 6): 400})
    log = SourceVolume(("b.jsonl", "c.jsonl"), later, frozenset(later))
    volume = forecast_volume([january, log], date(2026, 7, 1))
    assert volume is not None
    alone = observed_trend(log.daily, log.covered)
    assert alone is not None and alone.fitted_months == 3 and alone.slope == 100
    for month in (date(2026, 7, 1), date(2027, 3, 1)):
        assert volume.daily(month) == 100 + alone.daily(month)
    assert "the sum of 2 sources' own volumes" in volume.note
    assert "b.jsonl, c.jsonl: least-squares trend of the last 3 full months (2026-04 to 2026-06)" in volume.note
    assert "a.csv: flat at 100 tokens a day" in volume.note
    assert f"{CAUTION}1 source(s) end more than 31 days before the latest (2026-06-30): a.csv (to 2026-01-31)" in (
        volume.note
    )
    # One source: its own note, no caution.
    only = forecast_volume([log], date(2026, 7, 1))
    assert only is not None and only.note == alone.note and CAUTION not in only.note
    # Inputs that end more than a month before as-of: the forecast holds a volume that may have changed since.
    late = forecast_volume([log], date(2026, 9, 1))
    assert late is not None and late.note == alone.note + (
        f"{CAUTION}The inputs end on 2026-06-30, 63 days before the as-of date (2026-09-01): the forecast holds the "
        "volume they show, whatever it has become since."
    )


def test_a_bill_covers_its_billing_months() -> None:
    """A cloud bill's lines fall on the days something was charged; its period is the month: an AWS CUR with
    Bedrock lines on 1 and 2 October covers October (up to as-of), a request log only its first to last request."""
    cur = SAMPLES / "aws_cur_legacy_csv" / "cur-2026-10-00001.csv"
    result = run_audit(AuditOptions(inputs=(cur,), as_of=date(2026, 11, 28)))
    tokens = sum(u.all_tokens() for u in result.usage if u.model is not None)
    note = next(n for n in result.notes if n.startswith(VOLUME_NOTE))
    assert "over the 31 days the inputs cover (2026-10-01 to 2026-10-31" in note, note
    assert result.forecast[0].month == "2026-12"
    assert result.forecast[0].tokens == round(Fraction(tokens, 31) * 31)
    log = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
    days = {r["created_at"][:10] for r in csv_rows(log)}
    logged = run_audit(AuditOptions(inputs=(log,), as_of=date(2026, 11, 28)))
    note = next(n for n in logged.notes if n.startswith(VOLUME_NOTE))
    span = (date.fromisoformat(max(days)) - date.fromisoformat(min(days))).days + 1
    assert f"over the {span} days the inputs cover ({min(days)} to {max(days)}" in note, note


def test_the_route_by_segment_scenario_is_forecast_segment_by_segment() -> None:
    """The hybrid is in the forecast as each segment on the candidate it routes it to, or on its own models where
    it stays. Routing every segment to one candidate gives that candidate's forecast; routing none gives the
    baseline; and two complementary routings add up to both (each segment is priced on its own)."""
    from auditor.forecast import ForecastInput, build_forecast
    from auditor.ingest import ingest_all
    from auditor.pipeline import merged_tables
    from auditor.scan import scan_connection
    from auditor.sources import open_sources
    from auditor.workload import Pricebook

    paths = (SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv", SAMPLES / "anthropic_usage_csv")
    result = run_audit(AuditOptions(inputs=paths, as_of=date(2026, 11, 28)))
    (hybrid,) = [s for s in result.scenarios if s.kind == "hybrid"]
    assert all(m.projected_cost["hybrid"] < m.baseline_cost for m in result.forecast)
    pricebook = Pricebook()
    with open_sources(paths, None) as (sources, _), scan_connection() as con:
        ingested = ingest_all(con, [(s.sniffed, s.importer) for s in sources], pricebook)
        files = [ForecastInput.of(f.account.path, s.importer) for f, s in zip(ingested, sources, strict=True)]
    tables = merged_tables(ingested, [])
    usage, shape = tables.usage, tables.shape
    x = lookup_candidate("google:gemini-2.5-flash-lite")
    segments = sorted(c.segment for c in hybrid.segments)
    assert len(segments) >= 2, "the premise: segments to route"

    def forecast(routed: set[str]) -> list[tuple[Decimal, Decimal, Decimal]]:
        choices = [c.model_copy(update={"candidate": x.ref if c.segment in routed else None}) for c in hybrid.segments]
        scenario = hybrid.model_copy(update={"segments": choices})
        months = build_forecast(usage, shape, pricebook, [x], date(2026, 11, 28), files, scenario).months
        return [(m.baseline_cost, m.projected_cost[x.ref], m.projected_cost["hybrid"]) for m in months]

    every, none = forecast(set(segments)), forecast(set())
    half = set(segments[::2])
    one, other = forecast(half), forecast(set(segments) - half)
    assert len(every) == 12
    for (baseline, single, routed_all), (_, _, routed_none), (_, _, a), (_, _, b) in zip(
        every, none, one, other, strict=True
    ):
        assert routed_all == single and routed_none == baseline
        assert abs(a + b - (single + baseline)) <= Decimal("2e-9")  # each month's figure is rounded to the nano
        assert a != single and a != baseline


def test_a_log_kept_in_many_files_covers_the_days_between_them() -> None:
    """Codex CLI writes a file per session: the sessions' days are not all the log covers, a day without a session
    had no usage. Its volume is the mean over every day from the first session to the last, not over the sessions'
    days (an export of a chosen range covers only its own days: `..._the_days_the_inputs_cover`)."""
    folder = SAMPLES / "codex_cli_jsonl"
    result = run_audit(AuditOptions(inputs=(folder,), as_of=date(2026, 11, 28)))
    stamps = sorted(p.name.removeprefix("rollout-")[:10] for p in folder.glob("rollout-*.jsonl"))
    first, last = date.fromisoformat(stamps[0]), date.fromisoformat(stamps[-1])
    note = next(n for n in result.notes if n.startswith(VOLUME_NOTE))
    assert len(stamps) == 3 and (last - first).days > 365, "the premise: sessions more than a year apart"
    # 13 full months from the first session to the last: a trend over the last 12, months without a session as 0.
    assert (first, last) == (date(2025, 9, 16), date(2026, 11, 4))
    assert (
        "least-squares linear trend of the mean daily token volume of the last 12 full months (2025-11 to 2026-10)"
        in (note)
    ), note
    assert "covered by none" not in note


def test_the_monthly_table_names_the_hybrids_column_by_what_it_routes_by() -> None:
    """The monthly table's columns are narrow: the hybrid's column says "Route by project", not its full name with
    its segment and candidate counts (the 12-month table beside gives that)."""
    from auditor.report.forecast_tables import forecast_month_table, forecast_total_table
    from auditor.report.pdf_fonts import register_fonts

    register_fonts()
    paths = (SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv", SAMPLES / "anthropic_usage_csv")
    result = run_audit(AuditOptions(inputs=paths, as_of=date(2026, 11, 28), candidates=("google:gemini-2.5-flash",)))
    (hybrid,) = [s for s in result.scenarios if s.kind == "hybrid"]
    assert hybrid.candidate_name.startswith("Route by project (")

    def texts(table: object) -> list[list[str]]:
        cells = table._cellvalues  # type: ignore[attr-defined]
        return [
            [" ".join(line[0] for line in c.lines) if hasattr(c, "lines") else str(c) for c in row] for row in cells
        ]

    header = texts(forecast_month_table(result, 500))[0]
    assert header[:3] == ["month", "tokens", "baseline"] and "Route by project" in header
    assert not any("segments" in h for h in header)
    assert any(hybrid.candidate_name in " ".join(row) for row in texts(forecast_total_table(result, 500)))
