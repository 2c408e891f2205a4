"""Machine outputs: the JSON Schema, `--csv`, `--focus` (FOCUS 1.2), re-rendering from the JSON, determinism
and atomic writes."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import random
import re
import stat
import threading
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from genai_prices import Usage, calc_price

from auditor import ingest
from auditor import key_days as key_days_module
from auditor.errors import AuditorError, InputFileError, OptionError
from auditor.key_days import KeyDays
from auditor.options import AuditOptions
from auditor.outputs import OutputPlan, write_outputs
from auditor.pipeline import run_audit
from auditor.report import csv_out, files, focus_out, json_out
from auditor.report.focus_out import FocusLedger
from auditor.report.formatting import safe_text
from auditor.report.json_out import json_schema_text, load_result
from auditor.result import AuditResult
from tests.conftest import AS_OF, BATCH_DATE, FIXTURES, ROOT, SAMPLES, csv_rows

SCHEMA_FILE = ROOT / "docs" / "audit-result.schema.json"
SAMPLE_FILES = sorted(
    p for p in SAMPLES.glob("*/**/*") if p.name.endswith((".csv", ".jsonl", ".json", ".gz", ".parquet"))
)
OPENAI_USAGE = SAMPLES / "openai_usage_csv" / "completions_usage_2026-10-01_2026-10-14.csv"


def _options(inputs: tuple[Path, ...]) -> AuditOptions:
    return AuditOptions(inputs=inputs, as_of=AS_OF, batch_dates=(BATCH_DATE.isoformat(),))


@pytest.fixture(scope="module")
def run() -> tuple[AuditResult, FocusLedger]:
    """The samples audited once, with the FOCUS rows of their ledger kept."""
    ledger = FocusLedger()
    return run_audit(_options(tuple(SAMPLE_FILES)), on_ledger=ledger), ledger


@pytest.fixture(scope="module")
def written(run: tuple[AuditResult, FocusLedger], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every output of the run written into one directory (as `--json --xlsx --pdf --csv --focus` would)."""
    result, ledger = run
    out = tmp_path_factory.mktemp("run")
    plan = OutputPlan.from_flags(str(out / "r.json"), out / "r.xlsx", out / "r.pdf", None, out / "csv", out / "f.csv")
    write_outputs(result, plan, ledger)
    return out


# --- JSON Schema -----------------------------------------------------------------------------------------


def test_the_committed_schema_is_the_one_the_models_give(update_goldens: bool) -> None:
    if update_goldens:
        SCHEMA_FILE.write_text(json_schema_text(), encoding="utf-8")
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json_schema_text(), (
        "docs/audit-result.schema.json is stale: run `python -m auditor.report.json_out > "
        "docs/audit-result.schema.json` (or pytest --update-goldens) and update docs/json-schema.md"
    )


def _errors(schema: dict[str, Any], value: Any, at: str, root: dict[str, Any]) -> list[str]:
    """A small JSON Schema checker for the keywords the generated schema uses (independent of pydantic)."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return _errors(root["$defs"][name], value, at, root)
    if "anyOf" in schema:
        tries = [_errors(option, value, at, root) for option in schema["anyOf"]]
        return [] if any(not t for t in tries) else [f"{at}: matches none of anyOf ({tries})"]
    kinds = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "object": dict, "array": list}
    kind = schema.get("type")
    if kind == "null":
        return [] if value is None else [f"{at}: {value!r} is not null"]
    if kind is not None:
        wrong_bool = isinstance(value, bool) and kind in ("integer", "number")
        if not isinstance(value, kinds[kind]) or wrong_bool:
            return [f"{at}: {value!r} is not {kind}"]
    if "const" in schema and value != schema["const"]:
        return [f"{at}: {value!r} is not {schema['const']!r}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{at}: {value!r} not in {schema['enum']}"]
    if "pattern" in schema and not re.search(schema["pattern"], value):
        return [f"{at}: {value!r} does not match {schema['pattern']}"]
    if schema.get("format") == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return [f"{at}: {value!r} is not a date"]
    errors: list[str] = []
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        errors += [f"{at}: missing {key}" for key in schema.get("required", []) if key not in value]
        for key, item in value.items():
            if key in properties:
                errors += _errors(properties[key], item, f"{at}.{key}", root)
            elif schema.get("additionalProperties") is False:
                errors.append(f"{at}: unexpected key {key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += _errors(schema["additionalProperties"], item, f"{at}.{key}", root)
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += _errors(schema["items"], item, f"{at}[{i}]", root)
    return errors


def test_the_sample_run_validates_against_the_schema(written: Path) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    data = json.loads((written / "r.json").read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert _errors(schema, data, "$", schema) == []
    # Every key is written, so every key is required; and the checker does catch a bad document.
    assert set(schema["required"]) == set(data)
    bad = json.loads(json.dumps(data))
    bad["totals"]["billed_cost"] = 12.5  # money is a decimal string, never a float
    bad["usage"][0]["surprise"] = 1
    del bad["scenarios"][0]["savings"]
    found = _errors(schema, bad, "$", schema)
    assert any("$.totals.billed_cost" in e for e in found)
    assert "$.usage[0]: unexpected key surprise" in found
    assert "$.scenarios[0]: missing savings" in found


def test_money_in_the_json_matches_the_schema_pattern(written: Path) -> None:
    text = (written / "r.json").read_text(encoding="utf-8")
    amounts = re.findall(r'"(?:billed_cost|list_cost|projected_cost|savings)": "([^"]*)"', text)
    assert len(amounts) > 100 and all(re.fullmatch(r"-?[0-9]+\.[0-9]{9}", a) for a in amounts)


def test_every_top_level_field_is_documented() -> None:
    doc = (ROOT / "docs" / "json-schema.md").read_text(encoding="utf-8")
    for name in AuditResult.model_fields:
        assert f"`{name}`" in doc, f"docs/json-schema.md does not describe {name}"


# --- Re-rendering from the JSON and determinism ------------------------------------------------------------


def _cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    import openpyxl

    book = openpyxl.load_workbook(path)
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def _pdf_text(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(str(path)).pages]


def test_a_result_loaded_from_its_json_writes_the_same_outputs(written: Path, tmp_path: Path) -> None:
    """`audit render` is `load_result` then `write_outputs`: the same JSON bytes, CSV bytes, XLSX cells, PDF text."""
    again = tmp_path / "again"
    loaded = load_result(written / "r.json")
    plan = OutputPlan.from_flags(str(again / "r.json"), again / "r.xlsx", again / "r.pdf", None, again / "csv")
    write_outputs(loaded, plan)
    assert (again / "r.json").read_bytes() == (written / "r.json").read_bytes()
    for name in csv_out.FILES:
        assert (again / "csv" / name).read_bytes() == (written / "csv" / name).read_bytes()
    assert _cells(again / "r.xlsx") == _cells(written / "r.xlsx")
    # The workbook's timestamps are the as-of day and the PDF is rendered in invariant mode: the same bytes.
    assert (again / "r.xlsx").read_bytes() == (written / "r.xlsx").read_bytes()
    assert _pdf_text(again / "r.pdf") == _pdf_text(written / "r.pdf")
    assert (again / "r.pdf").read_bytes() == (written / "r.pdf").read_bytes()


def test_the_focus_file_needs_the_run_not_the_saved_result(written: Path, tmp_path: Path) -> None:
    plan = OutputPlan.from_flags(None, None, None, None, focus=tmp_path / "f.csv")
    with pytest.raises(OptionError, match="--focus needs the input files"):
        write_outputs(load_result(written / "r.json"), plan)
    assert not (tmp_path / "f.csv").exists()


def test_a_file_that_is_not_a_result_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"schema_version": "1", "as_of": "2026-11-27"}', encoding="utf-8")
    with pytest.raises(InputFileError, match=r"other\.json: not an audit result: tool_version: Field required"):
        load_result(path)
    path.write_bytes(b"\xff\xfe not text")
    with pytest.raises(InputFileError, match="cannot read it"):
        load_result(path)


def test_shuffled_inputs_in_another_directory_give_byte_identical_outputs(
    run: tuple[AuditResult, FocusLedger], written: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shuffled = list(SAMPLE_FILES)
    random.Random(2026).shuffle(shuffled)
    assert shuffled != SAMPLE_FILES
    monkeypatch.chdir(tmp_path)
    ledger = FocusLedger()
    result = run_audit(_options(tuple(shuffled)), on_ledger=ledger)
    out = tmp_path / "out"
    write_outputs(result, OutputPlan.from_flags(str(out / "r.json"), out / "r.xlsx", None, None, out / "csv",
                                                out / "f.csv"), ledger)  # fmt: skip
    assert (out / "r.json").read_bytes() == (written / "r.json").read_bytes()
    assert (out / "f.csv").read_bytes() == (written / "f.csv").read_bytes()
    for name in csv_out.FILES:
        assert (out / "csv" / name).read_bytes() == (written / "csv" / name).read_bytes()
    assert _cells(out / "r.xlsx") == _cells(written / "r.xlsx")
    assert (out / "r.xlsx").read_bytes() == (written / "r.xlsx").read_bytes()


# --- Atomic writes -----------------------------------------------------------------------------------------


def test_every_writer_writes_through_a_temporary_file(
    run: tuple[AuditResult, FocusLedger], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor.report.files import write_atomically

    targets: list[str] = []

    def recording(path: Path, write: Any) -> None:
        targets.append(path.name)
        write_atomically(path, write)

    for module in (files, focus_out):  # the others write their bytes through `files.write_bytes_atomically`
        monkeypatch.setattr(module, "write_atomically", recording)
    result, ledger = run
    plan = OutputPlan.from_flags(str(tmp_path / "r.json"), tmp_path / "r.xlsx", tmp_path / "r.pdf", None,
                                 tmp_path / "csv", tmp_path / "f.csv")  # fmt: skip
    written = write_outputs(result, plan, ledger)
    assert sorted(targets) == sorted(p.name for p in written)
    assert sorted(targets) == sorted(["r.json", "r.xlsx", "r.pdf", *csv_out.FILES, "f.csv"])
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".partial")]


def test_a_failed_write_leaves_the_previous_file_whole(tmp_path: Path) -> None:
    from auditor.report.files import write_atomically

    target = tmp_path / "report.csv"
    target.write_text("previous\n", encoding="utf-8")

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text("half of the new", encoding="utf-8")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomically(target, half_then_fail)
    assert target.read_text(encoding="utf-8") == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.csv"]


def test_written_files_get_the_usual_permissions(tmp_path: Path) -> None:
    """A temporary file is private (0600); the file renamed into place has the mode the umask gives."""
    from auditor.report.files import write_atomically

    old = os.umask(0o022)
    try:
        write_atomically(tmp_path / "a.txt", lambda tmp: tmp.write_text("x", encoding="utf-8"))
        os.umask(0o077)
        write_atomically(tmp_path / "b.txt", lambda tmp: tmp.write_text("x", encoding="utf-8"))
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.txt").stat().st_mode & 0o777 == 0o600


def _read_pipe(pipe: Path) -> tuple[threading.Thread, list[bytes]]:
    """A thread reading a named pipe to its end (it waits for a writer), and what it read."""
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(pipe.read_bytes()), daemon=True)
    reader.start()
    return reader, got


def test_a_pipe_or_device_is_written_to_as_it_is_not_replaced(tmp_path: Path) -> None:
    """`--json /dev/null` or a named pipe: a rename over it would put a regular file in its place (as root, the
    system's null device was replaced so)."""
    from auditor.report.files import write_atomically

    pipe = tmp_path / "out.json"
    os.mkfifo(pipe)
    reader, got = _read_pipe(pipe)
    write_atomically(pipe, lambda target: target.write_bytes(b"{}\n"))
    reader.join(timeout=10)
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert got == [b"{}\n"]
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary file left beside it


def test_the_json_goes_into_a_named_pipe(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pipe = tmp_path / "audit.json"
    os.mkfifo(pipe)
    reader, got = _read_pipe(pipe)
    run = run_cli(str(SAMPLES / "openrouter_logs_csv"), "--as-of", AS_OF.isoformat(), "--json", str(pipe), "--quiet")
    reader.join(timeout=10)
    assert run.status == 0, run.err
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert json.loads(got[0])["totals"]["requests"] > 0


# --- --csv ---------------------------------------------------------------------------------------------------


def _read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "no byte-order mark"
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b""), "CRLF line ends only (outside quoted cells)"
    return list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))


def test_csv_files_have_fixed_columns_and_exact_figures(written: Path, run: tuple[AuditResult, FocusLedger]) -> None:
    data = json.loads((written / "r.json").read_text(encoding="utf-8"))
    assert sorted(p.name for p in (written / "csv").iterdir()) == sorted(csv_out.FILES)
    usage = _read_csv(written / "csv" / "usage.csv")
    assert usage[0] == [
        "provider", "model_raw", "model", "requests", "input_tokens", "cache_read_tokens", "cache_write_tokens",
        "cache_write_1h_tokens", "output_tokens", "reasoning_tokens", "billed_cost", "billed_non_token_cost",
        "byok_upstream_cost", "list_cost", "list_cost_basis", "stated_list_cost", "contract_cost", "size_basis",
        "unpriced_reason", "also_written_as", "token_files", "billed_files",
    ]  # fmt: skip
    assert len(usage) - 1 == len(data["usage"])
    for row, entry in zip(usage[1:], data["usage"], strict=True):
        cells = dict(zip(usage[0], row, strict=True))
        for key in ("billed_cost", "billed_non_token_cost", "byok_upstream_cost", "list_cost", "stated_list_cost",
                    "contract_cost"):  # fmt: skip
            assert cells[key] == ("" if entry[key] is None else entry[key])  # the JSON's exact decimal string
        for key in ("input_tokens", "cache_read_tokens", "output_tokens", "reasoning_tokens"):
            assert cells[key] == str(entry[key]) and cells[key].isdigit()
        assert cells["requests"] == ("" if entry["requests"] is None else str(entry["requests"]))
        assert cells["token_files"] == "; ".join(entry["token_files"])
    months = _read_csv(written / "csv" / "usage_by_month.csv")
    assert months[0][:4] == ["month", "provider", "model_raw", "model"]
    assert len(months) - 1 == len(data["usage_by_month"])
    projects = _read_csv(written / "csv" / "usage_by_project.csv")
    assert projects[0][:3] == ["project", "attributed", "month"]
    assert [(r[0], r[2], r[4], r[-2], r[-1]) for r in projects[1:]] == [
        (p["project"], p["month"], p["model_raw"], p["billed_cost"] or "", p["list_cost"] or "")
        for p in data["usage_by_project"]
    ]
    billed = sum((Decimal(r[-2]) for r in projects[1:] if r[-2]), Decimal(0))
    assert billed == Decimal(data["totals"]["billed_cost"])  # the projects add up to the totals
    scenarios = _read_csv(written / "csv" / "scenarios.csv")
    assert scenarios[0] == [
        "rank", "candidate", "candidate_name", "kind", "baseline_cost", "projected_cost", "savings", "savings_pct",
        "low_cost", "high_cost", "top_driver", "context_window", "baseline_basis", "projected_basis", "risk_level",
    ]  # fmt: skip
    assert [(r[1], r[5], r[6]) for r in scenarios[1:]] == [
        (s["candidate"], s["projected_cost"], s["savings"]) for s in data["scenarios"]
    ]
    rejected = _read_csv(written / "csv" / "rejected_rows.csv")
    assert rejected[0] == ["file", "line", "numbered_by", "where", "column", "reason"]
    expected = [(f["path"], str(r["line"]), r["reason"]) for f in data["inputs"] for r in f["rejected"]]
    assert expected and [(r[0], r[1], r[5]) for r in rejected[1:]] == expected


HOSTILE = [
    '=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd",  # formulas: quoted
    "<font>x</font>", "m" * 5000, "модель 🚀", "نموذج\u200f", 'a,"b"\nc',  # kept as they are
]  # fmt: skip


def test_csv_neutralises_formulas_but_not_numbers(tmp_path: Path) -> None:
    base = AuditResult.model_validate_json((FIXTURES / "result_small.json").read_text(encoding="utf-8"))
    template = base.usage[0]
    usage = [template.model_copy(update={"model_raw": name, "billed_cost": Decimal("-1.5")}) for name in HOSTILE]
    result = base.model_copy(update={"usage": usage})
    csv_out.write_csv(result, tmp_path)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "usage.csv").read_bytes().decode("utf-8"), newline="")))
    assert [r["model_raw"] for r in rows] == ["'" + n for n in HOSTILE[:6]] + HOSTILE[6:]
    assert {r["billed_cost"] for r in rows} == {"-1.5"}  # a negative amount is a number, not a formula


def test_csv_alone_writes_only_the_csv_files(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    status = run_cli(str(OPENAI_USAGE), "--as-of", AS_OF.isoformat(), "--quiet", "--csv", str(tmp_path / "csv"))
    assert status.status == 0, status.err
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(["csv", *csv_out.FILES])


# --- --focus (FOCUS 1.2) ---------------------------------------------------------------------------------------

# FOCUS 1.2's columns, as the spec lists them (FOCUS_Spec tag v1.2, specification/columns).
FOCUS_1_2 = [
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingAccountType",
    "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "CapacityReservationId",
    "CapacityReservationStatus", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency",
    "ChargePeriodEnd", "ChargePeriodStart", "CommitmentDiscountCategory", "CommitmentDiscountId",
    "CommitmentDiscountName", "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType",
    "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice",
    "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory",
    "PricingCurrency", "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "RegionId",
    "RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory", "ServiceName",
    "ServiceSubcategory", "SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId", "SubAccountName",
    "SubAccountType", "Tags",
]  # fmt: skip
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T00:00:00Z$")
DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
PLACEHOLDERS = {"null", "none", "n/a", "not set", "not applicable", "nan"}


@pytest.fixture(scope="module")
def focus(written: Path) -> list[dict[str, str]]:
    rows = _read_csv(written / "f.csv")
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_focus_columns_are_the_spec_s_then_extensions(written: Path) -> None:
    header = _read_csv(written / "f.csv")[0]
    assert len(FOCUS_1_2) == 57 and header[:57] == FOCUS_1_2
    assert header[57:] and all(name.startswith("x_") for name in header[57:])
    assert {"x_TokenClass", "x_Model", "x_ServiceTier"} <= set(header[57:])


def _day(stamp: str) -> date:
    return date.fromisoformat(stamp[:10])


def test_focus_rows_keep_the_spec_s_value_rules(focus: list[dict[str, str]]) -> None:
    assert len(focus) > 100
    for row in focus:
        assert not {v.strip().lower() for v in row.values()} & PLACEHOLDERS  # null is an empty cell
        assert row["BillingCurrency"] == "USD"
        assert row["ChargeCategory"] in {"Usage", "Purchase", "Tax", "Credit", "Adjustment"}
        assert row["ChargeClass"] == ""  # no corrections
        assert row["ChargeFrequency"] == "Usage-Based"
        assert row["ServiceCategory"] == "AI and Machine Learning" and row["ServiceSubcategory"] == "Generative AI"
        assert row["PricingCategory"] in {"", "Standard"}
        assert row["ProviderName"] and row["PublisherName"] and row["InvoiceIssuerName"] and row["ServiceName"]
        for column in ("ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "BillingPeriodEnd"):
            assert STAMP.match(row[column]), (column, row[column])
        start, end = _day(row["ChargePeriodStart"]), _day(row["ChargePeriodEnd"])
        assert end - start == timedelta(days=1)  # a UTC day, end exclusive
        month_start, month_end = _day(row["BillingPeriodStart"]), _day(row["BillingPeriodEnd"])
        assert month_start == start.replace(day=1) and month_end == (month_start + timedelta(days=32)).replace(day=1)
        for column in ("BilledCost", "EffectiveCost", "ListCost", "ListUnitPrice", "ContractedCost",
                       "ContractedUnitPrice", "PricingQuantity", "ConsumedQuantity", "x_SourceListCost"):  # fmt: skip
            assert row[column] == "" or DECIMAL.match(row[column]), (column, row[column])
        if row["ListUnitPrice"]:  # ListUnitPrice × PricingQuantity = ListCost, exactly
            with localcontext() as exact:
                exact.prec = 80
                assert Decimal(row["ListUnitPrice"]) * Decimal(row["PricingQuantity"]) == Decimal(row["ListCost"])
        assert (row["ContractedCost"], row["ContractedUnitPrice"]) == (row["ListCost"], row["ListUnitPrice"])
        assert row["EffectiveCost"] == row["BilledCost"]
        if row["x_TokenClass"]:  # a token row: tokens, their list cost or an empty one, never a bill
            assert row["ConsumedQuantity"].isdigit() and int(row["ConsumedQuantity"]) > 0
            per = Decimal(1) if row["x_TokenClass"] == "requests" else Decimal(1_000_000)
            assert Decimal(row["PricingQuantity"]) * per == Decimal(row["ConsumedQuantity"])
            assert row["BilledCost"] == ""
            assert (row["ListCost"] == "") == (row["x_ListCostStatus"] == "unpriced")
        else:  # a charge row: the bill, no quantity, its list cost on the token rows
            assert row["ConsumedQuantity"] == row["PricingQuantity"] == row["ListCost"] == ""
            assert row["ChargeCategory"] in ("Usage", "Credit")
            if row["ChargeCategory"] == "Credit":  # credit and refund lines: money back, no tokens
                assert row["BilledCost"].startswith("-") and row["x_BilledNonTokenCost"] == row["BilledCost"]


def _whole(ledger: FocusLedger) -> pd.DataFrame:
    """The ledger's usage by API key and day, every day at once."""
    assert ledger.key_days is not None
    return pd.concat(list(ledger.key_days.by_day()), ignore_index=True)


@pytest.mark.parametrize("part_rows", [1, 3, focus_out.PART_ROWS])
def test_focus_rows_made_a_day_at_a_time_are_the_rows_made_whole(
    run: tuple[AuditResult, FocusLedger], monkeypatch: pytest.MonkeyPatch, part_rows: int
) -> None:
    """The file is written as its rows are made, a UTC day at a time and a large day in parts of whole vendors and
    models (`by_vendor_and_model`): the same rows, in the same order, as made from the whole ledger at once."""
    _, ledger = run
    usage = _whole(ledger)
    assert usage["day"].nunique() > 10, "the premise: many days"
    monkeypatch.setattr(focus_out, "PART_ROWS", part_rows)
    assert ledger.key_days is not None
    parts = [len(list(focus_out.by_vendor_and_model(day))) for day in ledger.key_days.by_day()]
    assert max(parts) >= (5 if part_rows == 1 else 1), "the premise: days of several vendors and models"
    whole = focus_out.focus_rows(usage, ledger.pricebook, ledger.files, contracted=ledger.contracted)
    assert list(ledger.rows()) == whole


def test_the_usage_by_key_and_day_is_read_a_day_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """`KeyDays.by_day` gives each UTC day's rows of the file (sorted by day, rows without a day last), days in
    order and rows in the file's order, whatever batches it reads them in; a row without a day is in none. The
    expected groups are a group-by's on the day."""
    days = ["2026-09-30", "2026-10-01", "2026-10-01", "2026-10-02", "2026-10-02", "2026-10-02", None, None]
    table = pa.table({"__file": pa.array([1, 0, 1, 0, 0, 1, 0, 1], pa.int32()), "day": days,
                      "currency": ["USD"] * 8, "billed_nanos": list(range(8))})  # fmt: skip
    key_days = KeyDays()
    pq.write_table(table, key_days.path)
    expected = [list(g["billed_nanos"]) for _, g in table.to_pandas().groupby("day", sort=True)]
    for batch_rows in (1, 2, 3, 100):
        monkeypatch.setattr(key_days_module, "_BATCH_ROWS", batch_rows)
        got = list(key_days.by_day())
        assert [list(f["billed_nanos"]) for f in got] == expected == [[0], [1, 2], [3, 4, 5]]
        assert all(list(f.columns) == ["source_file", "day", "currency", "billed_nanos"] for f in got)
    assert key_days.days() == 3
    folder = key_days.folder
    key_days.close()
    assert not folder.exists()
    assert list(KeyDays().by_day()) == [] and KeyDays().days() == 0, "no file: no day"


def test_coded_text_keys_give_the_rows_and_result_of_plain_text(
    run: tuple[AuditResult, FocusLedger], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over many rows the workload tables' text keys leave DuckDB as codes (`ingest.CODED_ROWS`), and the usage by
    API key and day is written with them: the same result and the same FOCUS rows as the plain text the samples'
    few rows give."""
    result, ledger = run
    monkeypatch.setattr(ingest, "CODED_ROWS", 0)
    coded = FocusLedger()
    coded_result = run_audit(_options(tuple(SAMPLE_FILES)), on_ledger=coded)
    assert json_out.render_json(coded_result) == json_out.render_json(result)
    assert list(coded.rows()) == list(ledger.rows())


def test_focus_rows_tell_each_day_made(run: tuple[AuditResult, FocusLedger]) -> None:
    """The file's bar (`on_day`) is told once per UTC day, once its rows are made: the days made of the days in all,
    and the rows so far, which end at every row of the file."""
    _, ledger = run
    assert ledger.key_days is not None
    told: list[tuple[int, int, int]] = []
    made = 0
    ledger.on_day = lambda done, days, rows: told.append((done, days, rows))
    try:
        for _ in ledger.rows():
            made += 1
            if told:
                assert told[-1][2] <= made, "told of rows not yet made"
    finally:
        ledger.on_day = None
    days = _whole(ledger)["day"].nunique()
    assert [(done, total) for done, total, _ in told] == [(n, days) for n in range(1, days + 1)]
    assert told[-1][2] == made
    assert all(a[2] < b[2] for a, b in itertools.pairwise(told)), "every day has rows"


def test_focus_totals_equal_the_result(focus: list[dict[str, str]], run: tuple[AuditResult, FocusLedger]) -> None:
    result, _ = run
    billed = sum((Decimal(r["BilledCost"]) for r in focus if r["BilledCost"]), Decimal(0))
    assert billed == result.totals.billed_cost
    tokens: dict[str, int] = defaultdict(int)
    for row in focus:
        if row["x_TokenClass"]:
            tokens[row["x_TokenClass"]] += int(row["ConsumedQuantity"])
    totals = result.totals
    assert tokens["input"] == sum(u.input_tokens for u in result.usage) == totals.input_tokens
    assert tokens["cache_read"] == totals.cache_read_tokens
    assert tokens["cache_write_5m"] == totals.cache_write_tokens
    assert tokens["cache_write_1h"] == totals.cache_write_1h_tokens
    assert tokens["output"] + tokens["reasoning"] == totals.output_tokens  # output rows exclude reasoning
    assert tokens["reasoning"] == totals.reasoning_tokens
    # The catalog list cost: exact on the FOCUS rows, rounded to the nano-dollar per model line in the result.
    listed = sum((Decimal(r["ListCost"]) for r in focus if r["ListCost"]), Decimal(0))
    catalog = [u.list_cost for u in result.usage if u.list_cost is not None and u.list_cost_basis == "catalog"]
    assert abs(listed - sum(catalog, Decimal(0))) <= Decimal("0.5e-9") * len(catalog)


def test_unpriced_usage_has_an_empty_list_cost_never_zero(
    focus: list[dict[str, str]], run: tuple[AuditResult, FocusLedger]
) -> None:
    result, _ = run
    unpriced = {u.model_raw for u in result.usage if u.list_cost is None and u.model is None and u.all_tokens()}
    rows = [r for r in focus if r["x_TokenClass"] and r["x_ListCostStatus"] == "unpriced"]
    assert unpriced and {r["x_Model"] for r in rows} == unpriced
    assert all(r["ListCost"] == r["ListUnitPrice"] == r["ContractedCost"] == "" for r in rows)
    assert all(r["PricingCategory"] == "" and r["ConsumedQuantity"] for r in rows)
    assert all(r["x_ListCostStatus"] == "unpriced" for r in focus if r["x_TokenClass"] and not r["x_CatalogModel"])


def test_focus_rows_of_one_export_price_as_genai_prices_does(tmp_path: Path) -> None:
    """Each (day, model, project, key, tier) of the OpenAI usage export, read with the csv module and priced with
    genai_prices.calc_price, against the token rows of the FOCUS file."""
    ledger = FocusLedger()
    run_audit(AuditOptions(inputs=(OPENAI_USAGE,), as_of=AS_OF), on_ledger=ledger)
    focus_out.write_focus(ledger, tmp_path / "f.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "f.csv").read_text(encoding="utf-8"), newline="")))
    got_cost: dict[tuple[str, ...], Decimal] = defaultdict(Decimal)
    got_tokens: dict[tuple[str, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    unpriced = {r["x_Model"] for r in rows if not r["ListCost"]}
    assert unpriced == {"ft:gpt-4.1-mini-2025-04-14:acme:support-bot:AbC123"}  # a fine-tune: not in the catalog
    for r in rows:
        key = (r["ChargePeriodStart"][:10], r["x_Model"], r["SubAccountId"], r["x_ApiKey"], r["x_ServiceTier"])
        if r["x_Model"] in unpriced:
            continue
        got_cost[key] += Decimal(r["ListCost"])
        got_tokens[key][r["x_TokenClass"]] += int(r["ConsumedQuantity"])
        assert r["x_SourceFile"] == str(OPENAI_USAGE)
    expected_cost: dict[tuple[str, ...], Decimal] = defaultdict(Decimal)
    expected_tokens: dict[tuple[str, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for line in csv_rows(OPENAI_USAGE):
        if not line["model"] or not float(line["num_model_requests"] or 0) or line["model"] in unpriced:
            continue
        assert line["service_tier"] == "default"
        batch = line["batch"] == "True"
        day = datetime.fromtimestamp(int(line["start_time"]), UTC)
        key = (
            day.date().isoformat(),
            line["model"],
            line["project_id"],
            line["api_key_id"],
            "batch" if batch else "standard",
        )
        total_in, cached, out = (int(float(line[c])) for c in ("input_tokens", "input_cached_tokens", "output_tokens"))
        written = int(float(line["input_cache_write_tokens"] or 0))
        usage = Usage(input_tokens=total_in, cache_read_tokens=cached, cache_write_tokens=written, output_tokens=out)
        context = {"processing": "batch"} if batch else None
        if batch:  # batch was 50% before the catalog's batch prices (overlay `openai-batch-since-launch`)
            day = max(day, datetime(2026, 10, 14, tzinfo=UTC))
        price = calc_price(
            usage, line["model"], provider_id="openai", genai_request_timestamp=day, price_context=context
        )
        expected_cost[key] += price.total_price
        for name, count in (("input", total_in - cached - written), ("cache_read", cached),
                            ("cache_write_5m", written), ("output", out)):  # fmt: skip
            if count:
                expected_tokens[key][name] += count
    assert dict(got_cost) == dict(expected_cost)
    assert {k: dict(v) for k, v in got_tokens.items()} == {k: dict(v) for k, v in expected_tokens.items()}


def test_focus_with_a_contract_leaves_the_contracted_cost_empty(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The contract's prices are in the JSON's contract_cost; the FOCUS rows do not claim list prices for them."""
    path = tmp_path / "f.csv"
    contract = ROOT / "docs" / "contract-example.toml"
    status = run_cli(str(OPENAI_USAGE), "--as-of", AS_OF.isoformat(), "--quiet", "--contract", str(contract),
                     "--focus", str(path))  # fmt: skip
    assert status.status == 0, status.err
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    assert rows and all(r["ContractedCost"] == r["ContractedUnitPrice"] == "" for r in rows)
    assert all(r["ListCost"] or r["x_ListCostStatus"] == "unpriced" for r in rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.csv"]  # --focus alone: no default PDF or XLSX


def _usage_table(rows: list[dict[str, Any]]) -> Any:
    """A usage table by key and day as the pipeline hands it to the FOCUS ledger: its keys, then sums, money in USD
    nano-units."""
    import pandas as pd

    from auditor.ledger import SUM_COLUMNS
    from auditor.summary import SOURCE_FILE
    from auditor.workload import KEY_DAY_KEYS

    keys = dict.fromkeys(KEY_DAY_KEYS, "") | {"service_tier": "standard", "size_basis": "request", "currency": "USD"}
    full = [keys | dict.fromkeys(SUM_COLUMNS, 0) | {SOURCE_FILE: 0} | row for row in rows]
    return pd.DataFrame(full)


def test_focus_rows_split_output_from_reasoning_and_keep_the_bill_on_its_own_row() -> None:
    from auditor.workload import Pricebook
    from pricing.ratebook import NO_RATE
    from pricing.rates import ClassRates

    book = Pricebook()
    per_token = tuple(Decimal(p) / 1_000_000 for p in ("1.25", "0.125", "1.5", "2.5", "10", "12"))
    book.rates.rates.append(ClassRates(per_token, Decimal("0.001")))
    hostile = '=HYPERLINK("http://x","y")'
    usage = _usage_table([
        {"provider": "openai", "model_raw": "gpt-x", "model_ref": "openai:gpt-x", "day": "2026-10-31",
         "local_day": "2026-10-31", "list_rate_id": 0, "requests": 7, "input_tokens": 1_000, "cache_read_tokens": 0,
         "output_tokens": 500, "reasoning_tokens": 200, "billed_nanos": 3_250_000_000, "billed_lines": 3,
         "billed_credit_nanos": -1_000_000_000, "billed_non_token_nanos": -1_000_000_000, "adjustment_lines": 1},
        {"provider": "openrouter", "model_raw": hostile, "day": "2026-11-01", "local_day": "2026-11-01",
         "list_rate_id": NO_RATE, "input_tokens": 3, "billed_nanos": -500_000_000, "billed_lines": 1,
         "billed_credit_nanos": -500_000_000, "billed_non_token_nanos": -500_000_000, "adjustment_lines": 1},
        {"provider": "openrouter", "model_raw": "usage-only", "day": "2026-11-01", "local_day": "2026-11-01",
         "list_rate_id": NO_RATE, "output_tokens": 9},
        {"provider": "google", "model_raw": "gemini-x", "day": "2026-11-01", "local_day": "2026-11-01",
         "list_rate_id": NO_RATE, "output_tokens": 5, "billed_nanos": 190_000_000, "billed_lines": 1,
         "billed_credit_nanos": -60_000_000},
    ])  # fmt: skip
    rows = focus_out.focus_rows(usage, book, ["in.csv"])
    text = focus_out.render_focus(rows)
    table = list(csv.DictReader(io.StringIO(text, newline="")))
    got = [(r["x_Model"], r["x_TokenClass"], r["ConsumedQuantity"], r["ListUnitPrice"], r["ListCost"],
            r["BilledCost"], r["ChargeCategory"]) for r in table]  # fmt: skip
    assert got == [
        # 1,000 × $1.25/M; output 300 (500 less 200 reasoning) × $10/M; reasoning 200 × $12/M; 7 × $0.001
        ("gpt-x", "input", "1000", "1.25", "0.00125", "", "Usage"),
        ("gpt-x", "output", "300", "10", "0.003", "", "Usage"),
        ("gpt-x", "reasoning", "200", "12", "0.0024", "", "Usage"),
        ("gpt-x", "requests", "7", "0.001", "0.007", "", "Usage"),
        ("gpt-x", "", "", "", "", "4.25", "Usage"),  # the charges; the credit beside them on its own row
        ("gpt-x", "", "", "", "", "-1", "Credit"),
        ("gemini-x", "output", "5", "", "", "", "Usage"),
        ("gemini-x", "", "", "", "", "0.19", "Usage"),  # a credit netted into a charge line stays in it
        ("'" + hostile, "input", "3", "", "", "", "Usage"),  # unpriced: empty, not 0; text neutralised
        ("'" + hostile, "", "", "", "", "-0.5", "Credit"),  # a credit alone: no charge row
        ("usage-only", "output", "9", "", "", "", "Usage"),  # no money stated: no charge row
    ]
    assert {r["x_SourceFile"] for r in table} == {"in.csv"}
    assert [r["ChargePeriodStart"] for r in table[:6]] == ["2026-10-31T00:00:00Z"] * 6
    assert {(r["BillingPeriodStart"], r["BillingPeriodEnd"]) for r in table[6:]} == {
        ("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")
    }
    assert [r["PricingQuantity"] for r in table[:4]] == ["0.001", "0.0003", "0.0002", "7"]


def test_focus_text_is_what_the_csv_modules_writer_writes_for_the_same_cells() -> None:
    """Each FOCUS line is its fields joined (`focus_out._write_rows`): the same text as the csv module's writer,
    for texts that must be quoted (a comma, a quote, line breaks), neutralised ones, empty texts and numbers."""
    texts = ["plain", "a,b", 'say "hi"', "two\nlines", "cr\rlf\r\n", "", " lead", "=1+2", "-3", "@x", "ünï", '"']
    rows: list[focus_out.Row] = []
    for i, text in enumerate(texts):
        rows.append({"x_Model": text, "x_ApiKey": text or None, "ConsumedQuantity": i, "ChargeCategory": "Usage",
                     "ListCost": Decimal("0.00125") * i, "PricingQuantity": Decimal("1E-6") * i,
                     "x_SourceFile": f"dir/{text}.csv"})  # fmt: skip
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\r\n")
    writer.writerow(focus_out.COLUMNS)
    for row in rows:
        cells = dict.fromkeys(focus_out.COLUMNS, "")
        for column, value in row.items():
            if isinstance(value, str):
                cells[column] = safe_text(value)
            elif isinstance(value, Decimal):
                cells[column] = f"{value.normalize():f}" if value else "0"
            elif value is not None:
                cells[column] = str(value)
        writer.writerow(cells.values())
    assert focus_out.render_focus(rows) == expected.getvalue()
    read = list(csv.DictReader(io.StringIO(focus_out.render_focus(rows), newline="")))
    assert [r["x_Model"] for r in read] == [safe_text(t) for t in texts], "every text read back as written"


def test_an_output_that_cannot_be_written_is_a_one_line_error(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    for option, target in (("--csv", blocker / "csv"), ("--json", blocker / "r.json"), ("--focus", blocker / "f.csv")):
        status = run_cli(str(OPENAI_USAGE), "--as-of", AS_OF.isoformat(), "--quiet", option, str(target))
        assert status.status == 2 and "Traceback" not in status.err
        assert status.err.splitlines()[0].startswith(f"error: cannot write {target}: ")
    assert blocker.read_text(encoding="utf-8") == "not a directory"


def test_an_output_that_cannot_be_written_is_refused_before_the_run(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A long audit must not end in an error it could have given first: nothing is audited (no summary printed),
    nothing written."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    folder = tmp_path / "a-folder"
    folder.mkdir()
    for options, error in (
        (("--out", str(blocker / "out")), f"cannot write {blocker / 'out' / 'audit-report.xlsx'}: {blocker} is not a"),
        (("--pdf", str(blocker / "in" / "r.pdf")), f"cannot write {blocker / 'in' / 'r.pdf'}: {blocker} is not a"),
        (("--xlsx", str(folder)), f"cannot write {folder}: it is a directory"),
        (("--json", str(folder), "--out", str(tmp_path / "new")), f"cannot write {folder}: it is a directory"),
    ):  # fmt: skip
        status = run_cli(str(OPENAI_USAGE), "--as-of", AS_OF.isoformat(), *options)
        assert status.status == 2 and "Traceback" not in status.err
        assert status.err.splitlines()[0].startswith(f"error: {error}")
        assert status.out == "", "refused before the run: no summary"
    assert blocker.read_text(encoding="utf-8") == "not a directory"
    assert list(folder.iterdir()) == [] and not (tmp_path / "new").exists()


def test_a_folder_that_cannot_be_written_in_is_refused_but_a_device_is_written_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a user who may not write in the folder (simulated: the tests may run as root, whom `os.access` lets write
    anywhere): an output there is refused; `/dev/null` and a named pipe are written to as they are, so the folder
    they are in (`/dev`, read-only to users) does not matter."""
    from auditor import outputs

    monkeypatch.setattr(outputs.os, "access", lambda path, mode: False)
    with pytest.raises(AuditorError, match=f"cannot write {tmp_path / 'r.json'}: {tmp_path} cannot be written to"):
        outputs.refuse_unwritable_file(tmp_path / "r.json")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    for special in (Path("/dev/null"), pipe):
        outputs.refuse_unwritable_file(special)  # no error
    OutputPlan(Path("/dev/null"), False, None, None).refuse_unwritable()


def test_no_output_is_written_over_an_input(run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """`audit export.csv --json export.csv` wrote the result over the export. Refused before the run, whichever
    output names it, through a link, or inside a directory given; the export is left as it was."""
    monkeypatch.chdir(tmp_path)
    exports = tmp_path / "exports"
    exports.mkdir()
    export = exports / "usage.csv"
    export.write_bytes(OPENAI_USAGE.read_bytes())
    (tmp_path / "link.csv").symlink_to(export)
    refused = [
        ((str(export), "--json", str(export)), f"cannot write {export}: it is one of the inputs"),
        (("link.csv", "--xlsx", str(export)), f"cannot write {export}: it is one of the inputs"),
        ((str(export), "--pdf", "link.csv"), "cannot write link.csv: it is one of the inputs"),
        (("exports", "--focus", "exports/usage.csv"), "cannot write exports/usage.csv: it is in exports, a directory"),
        (("exports", "--csv", "exports"), "cannot write exports/usage.csv: it is in exports, a directory"),
    ]
    for words, error in refused:
        status = run_cli(*words, "--as-of", AS_OF.isoformat())
        assert status.status == 2 and status.out == "", words
        first = status.err.splitlines()[0]
        assert first.startswith(f"error: {error}") and first.endswith("; the audit never writes over its inputs")
    assert export.read_bytes() == OPENAI_USAGE.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", "link.csv"]
    # The reports an earlier run wrote where it runs, `audit .` run again: written over, as they are its own.
    monkeypatch.chdir(exports)
    for _ in range(2):
        assert run_cli(".", "--as-of", AS_OF.isoformat(), "--quiet").status == 0
    assert sorted(p.name for p in exports.iterdir()) == ["audit-report.pdf", "audit-report.xlsx", "usage.csv"]


def test_out_puts_the_reports_not_named_into_its_folder_besides_the_outputs_named() -> None:
    """`audit FILE`: the PDF and XLSX in the current directory; `--json` alone: the JSON only (a machine's run
    renders no report); `--out DIR` with other outputs named: the PDF and XLSX those do not name go into DIR too
    (`audit FILE --out reports --json r.json` wrote r.json and nothing in reports)."""
    pdf, xlsx = "audit-report.pdf", "audit-report.xlsx"
    assert OutputPlan.from_flags(None, None, None, None) == OutputPlan(None, False, Path(xlsx), Path(pdf))
    assert OutputPlan.from_flags("r.json", None, None, None) == OutputPlan(Path("r.json"), False, None, None)
    assert OutputPlan.from_flags("-", None, None, Path("reports")) == OutputPlan(
        None, True, Path("reports", xlsx), Path("reports", pdf)
    )
    assert OutputPlan.from_flags(None, Path("book.xlsx"), None, Path("reports")) == OutputPlan(
        None, False, Path("book.xlsx"), Path("reports", pdf)
    )
    assert OutputPlan.from_flags(None, None, None, Path("reports"), Path("csv")) == OutputPlan(
        None, False, Path("reports", xlsx), Path("reports", pdf), Path("csv")
    )
