"""DeepSeek usage export: the ZIP of a token file and a money file, BOM and CRLF, CNY or USD."""

from __future__ import annotations

import zipfile
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from tests.conftest import AS_OF, FIXTURES, SAMPLES
from tests.conftest import csv_rows as _rows

AMOUNT = SAMPLES / "deepseek_amount_csv" / "amount-2026-10-01_2026-10-07.csv"
# A mainland account's money file, billed in CNY (the samples' own is the international, USD one).
COST = FIXTURES / "deepseek_cny" / "cost-2026-10-01_2026-10-07.csv"
CLASSES = {"input_cache_miss_tokens": "input_tokens", "input_cache_hit_tokens": "cache_read_tokens",
           "output_tokens": "output_tokens", "request_count": "requests"}  # fmt: skip


def _vendor_zip(tmp_path: Path) -> Path:
    path = tmp_path / "usage_data_2026-10-01_2026-10-07.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(AMOUNT, AMOUNT.name)
        bundle.write(COST, COST.name)
    return path


def test_a_cny_export_needs_a_rate_and_names_it(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(str(_vendor_zip(tmp_path)), "--as-of", AS_OF.isoformat(), "--json", "-")
    assert result.status == 2
    assert "no exchange rate for CNY in 2026-10" in result.err.splitlines()[0]


def test_the_vendor_zip_reports_tokens_and_converted_charges(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(str(_vendor_zip(tmp_path)), "--as-of", AS_OF.isoformat(), "--json", "-", "--fx", "CNY=0.1405")
    assert result.status == 0, result.err
    data = result.json()
    expected: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in _rows(AMOUNT):
        expected[row["model"]][CLASSES[row["type"]]] += int(row["amount"])
    for entry in data["usage"]:
        for column, value in expected[entry["model_raw"]].items():
            assert entry[column] == value, (entry["model_raw"], column)
    cny = sum(Decimal(r["cost"]) for r in _rows(COST))
    assert Decimal(data["totals"]["billed_cost"]) == (cny * Decimal("0.1405")).quantize(Decimal("1e-9"))
    assert data["fx_rates"] == [{"currency": "CNY", "month": None, "usd_per_unit": "0.1405", "source": "--fx"}]
    assert {i["path"].split("!")[-1] for i in data["inputs"]} == {AMOUNT.name, COST.name}


def test_local_time_buckets_are_dated_by_their_own_day(run_cli) -> None:  # type: ignore[no-untyped-def]
    """`2026-10-01T00:00:00+08:00` starts at 16:00 UTC the day before; the bucket is still 1 October."""
    data = run_cli(str(AMOUNT), "--as-of", AS_OF.isoformat(), "--json", "-").json()
    assert (data["period"]["start"], data["period"]["end"]) == ("2026-10-01", "2026-10-07")
    assert {m["month"] for m in data["usage_by_month"]} == {"2026-10"}
