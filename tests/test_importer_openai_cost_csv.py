"""OpenAI cost export: money per model from the line items, row accounting, detection and non-USD rows.

Expected sums are computed here with the csv module and the reference's line-item rule (split on the
last comma, drop a `<surface> | ` prefix and a trailing modality word), independently of the importer.
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from auditor.importers import IMPORTERS
from auditor.importers.reader import detect, sniff
from tests.conftest import FIXTURES, GOLDENS, SAMPLES, ingest_one
from tests.conftest import csv_rows as _rows

NANO = Decimal("1e9")
FOLDER = SAMPLES / "openai_cost_csv"
SAMPLE_FILES = sorted(FOLDER.glob("cost_*.csv"))
OLDER = FOLDER / "cost_2026-08-18_2026-08-21.csv"
REAL = FIXTURES / "real_exports" / "cost_2026-08-01_2026-08-31.csv"
MODALITIES = {"text", "audio", "image"}


def _model_of(line_item: str) -> tuple[str, bool]:
    """(model, is a token charge) of a line item, as the format reference describes it."""
    if not line_item:
        return "(not grouped by line item)", False
    head, comma, charge = line_item.rpartition(",")
    if not comma or not any(word in charge.lower() for word in ("input", "output", "cache")):
        return line_item, False
    model = head.split(" | ")[-1].strip()
    words = model.split()
    if len(words) > 1 and words[-1].lower() in MODALITIES:
        model = " ".join(words[:-1])
    return model, True


def _golden(path: Path) -> dict[str, object]:
    return json.loads((GOLDENS / "openai_cost_csv" / (path.name + ".json")).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_both_header_variants_are_sampled() -> None:
    last_columns = {p.read_text(encoding="utf-8").splitlines()[0].rsplit(",", 1)[1] for p in SAMPLE_FILES}
    assert last_columns == {"user_email", "api_source"}


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_billed_money_per_model_matches_golden(path: Path) -> None:
    billed: dict[str, Decimal] = defaultdict(Decimal)
    non_token: dict[str, Decimal] = defaultdict(Decimal)
    lines: dict[str, int] = defaultdict(int)
    empty = 0
    rows = _rows(path)
    for row in rows:
        if not row["amount_value"] and not row["line_item"]:
            empty += 1
            continue
        model, is_token = _model_of(row["line_item"])
        key = f"openai|{model}"
        billed[key] += Decimal(row["amount_value"])
        lines[key] += 1
        if not is_token:
            non_token[key] += Decimal(row["amount_value"])
    golden = _golden(path)
    assert golden["rows"] == {"read": len(rows), "used": len(rows) - empty, "skipped": empty, "rejected": 0}
    assert empty >= 1, "each sample holds an empty time bucket"
    models = golden["models"]
    assert isinstance(models, dict)
    assert set(models) == set(billed)
    for key, amount in billed.items():
        sums = defaultdict(int, models[key])
        assert Decimal(sums["billed_nanos"]) / NANO == amount, key
        assert Decimal(sums["billed_non_token_nanos"]) / NANO == non_token[key], key
        assert sums["billed_lines"] == sums["lines"] == lines[key], key
        # A cost export carries money only: the usage export counts the tokens.
        assert not any(sums[c] for c in ("input_tokens", "cache_read_tokens", "output_tokens", "requests")), key


def test_line_items_of_the_samples_cover_the_taxonomy() -> None:
    items = {row["line_item"] for p in SAMPLE_FILES for row in _rows(p)}
    assert any(i.endswith(", cached input") for i in items)
    assert any(i.startswith("ft-") for i in items)
    assert any(" | " in i and "," in i for i in items), "a surface-prefixed token line item"
    assert "web search tool calls" in items


@pytest.mark.parametrize("path", [*SAMPLE_FILES, REAL], ids=lambda p: p.name)
def test_detected_from_either_header(path: Path) -> None:
    assert detect(sniff(path), IMPORTERS).name == "openai_cost_csv"


def test_real_export_reads_with_exact_row_accounting() -> None:
    """The real August 2026 export: 31 daily buckets, 30 empty, one org-wide amount not grouped by line item."""
    importer, ingested = ingest_one(REAL)
    assert importer.name == "openai_cost_csv"
    a = ingested.account
    assert (a.rows_read, a.rows_used, a.rows_skipped, a.rows_rejected) == (31, 1, 30, 0)
    assert a.rows_read == len(_rows(REAL))
    assert dict(a.skipped_reasons) == {"empty time bucket": 30}
    assert (a.period_start, a.period_end) == ("2026-08-31", "2026-08-31")
    row = ingested.usage.iloc[0]
    assert (row["provider"], row["model_raw"], row["day"]) == ("openai", "(not grouped by line item)", "2026-08-31")
    # 0.003400000000000000000000000000000000 read exactly, to the nano-dollar.
    assert (row["billed_nanos"], row["billed_lines"], row["billed_non_token_nanos"]) == (3_400_000, 1, 0)
    assert row["input_tokens"] == row["requests"] == 0


def _with_currency(tmp_path: Path, changes: dict[int, str]) -> Path:
    """The older sample with the currency of some data rows (1-based file lines) replaced."""
    lines = OLDER.read_text(encoding="utf-8").splitlines(keepends=True)
    for line, currency in changes.items():
        lines[line - 1] = lines[line - 1].replace(",usd,", f",{currency},", 1)
    path = tmp_path / OLDER.name
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_a_foreign_currency_needs_a_rate(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _with_currency(tmp_path, {3: "eur"})
    refused = run_cli(str(path), "--json", "-")
    assert refused.status == 2
    assert "no exchange rate for EUR in 2026-08" in refused.err.splitlines()[0]


def test_a_foreign_currency_is_converted_at_the_given_rate(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _with_currency(tmp_path, {3: "eur", 10: "euro"})
    result = run_cli(str(path), "--json", "-", "--fx", "EUR=1.08")
    assert result.status == 0, result.err
    data = result.json()
    entry = data["inputs"][0]
    assert (entry["rows_read"], entry["rows_used"], entry["rows_skipped"], entry["rows_rejected"]) == (17, 15, 1, 1)
    assert entry["rejected"] == [
        {"line": 10, "where": "", "column": "amount_currency", "reason": "not a currency code"}
    ]
    rows = {i: r for i, r in enumerate(_rows(OLDER), start=2)}
    usd = sum(Decimal(r["amount_value"]) for i, r in rows.items() if r["amount_value"] and i not in (3, 10))
    assert Decimal(data["totals"]["billed_cost"]) == usd + Decimal(rows[3]["amount_value"]) * Decimal("1.08")
    assert data["fx_rates"] == [{"currency": "EUR", "month": None, "usd_per_unit": "1.08", "source": "--fx"}]


def test_audit_of_the_samples_bills_the_sum_of_amount_value(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(str(FOLDER), "--json", "-")
    assert result.status == 0, result.err
    data = result.json()
    expected = sum(Decimal(r["amount_value"]) for p in SAMPLE_FILES for r in _rows(p) if r["amount_value"])
    assert Decimal(data["totals"]["billed_cost"]) == expected
    assert data["totals"]["input_tokens"] == data["totals"]["output_tokens"] == 0
    assert sorted(i["format"] for i in data["inputs"]) == ["openai_cost_csv"] * len(SAMPLE_FILES)


def test_hourly_bucket_keeps_its_half_hour(tmp_path: Path) -> None:
    header = OLDER.read_text(encoding="utf-8").splitlines()[0]
    start = 1790812800 + 13 * 3600  # 2026-10-01 13:00 UTC
    row = (
        f"{start},{start + 3600},2026-10-01T13:00:00,2026-10-01T14:00:00,0.5,usd,200000,tokens,"
        '"gpt-4o-2024-08-06, input",,key_Ab12,proj_x9,org-abc,Default project,Acme,'
    )
    path = tmp_path / "cost_2026-10-01_2026-10-01.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    _, ingested = ingest_one(path)
    assert list(ingested.shape["time_slot"]) == [26]
    assert list(ingested.usage["day"]) == ["2026-10-01"]
