"""Parquet inputs: typed columns read as the CSV is, exact money from doubles, rows numbered, parts in a folder."""

from __future__ import annotations

import csv
import dataclasses
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from auditor.importers.aws_cur2_csv import IMPORTER as CUR2
from auditor.importers.parquet import ParquetSource, read_schema
from tests.conftest import SAMPLES, csv_rows, without_files
from tests.test_importers_golden import _summary

WORKLOAD_CSV = SAMPLES / "workload_csv" / "workload_2026-09.csv"
CUR2_PARQUET = SAMPLES / "aws_cur2_csv" / "cur2-2026-10-00001.snappy.parquet"
FOCUS_PARQUET = SAMPLES / "focus_csv" / "focus-1.2-aws-2026-10.snappy.parquet"
NANO = Decimal("0.000000001")


def _workload_rows(n: int) -> list[dict[str, str]]:
    return csv_rows(WORKLOAD_CSV)[:n]


def _write_text_table(rows: list[dict[str, str]], path: Path) -> None:
    """A Parquet file whose every column is text, as a script dumping the CSV writes it."""
    names = list(rows[0])
    pq.write_table(pa.table({n: pa.array([r[n] for r in rows], pa.string()) for n in names}), path)


def _write_csv(rows: list[dict[str, str]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def test_double_money_reads_as_the_decimal_it_prints_as(tmp_path: Path) -> None:
    """A DOUBLE amount becomes its shortest round-trip decimal, rounded half up to the nano-dollar (as the
    same text in a CSV): no binary noise, and a tie on the tenth decimal rounds as written, not as stored."""
    amounts = [0.1, 0.2, 0.1 + 0.2, 1e-07, 2.31275, 16893.7634832415, 0.0000000025, 123456.789012345]
    rows = _workload_rows(len(amounts))
    table = pa.Table.from_pylist(
        [{**r, "requests": int(r["requests"]), "billed_cost": a} for r, a in zip(rows, amounts, strict=True)]
    )
    path = tmp_path / "workload.parquet"
    pq.write_table(table, path)
    assert read_schema(path, str(path)).types[table.schema.names.index("billed_cost")] == "DOUBLE"

    expected = sum(Decimal(repr(a)).quantize(NANO, rounding=ROUND_HALF_UP) for a in amounts)
    summary = _summary(path)
    billed = sum(m.get("billed_nanos", 0) for m in summary["models"].values())  # type: ignore[attr-defined]
    assert billed == int(expected / NANO)
    # A binary cast would have read 16893.763483241 (the double is just below the written tie).
    stored = 16893.7634832415
    assert Decimal(stored).quantize(NANO, rounding=ROUND_HALF_UP) == Decimal("16893.763483241")

    as_csv = tmp_path / "workload.csv"
    _write_csv([{**r, "billed_cost": repr(a)} for r, a in zip(rows, amounts, strict=True)], as_csv)
    assert _summary(as_csv)["models"] == summary["models"]


def test_rejected_rows_are_numbered_by_row(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rows = _workload_rows(6)
    rows[1]["input_tokens"] = "lots"  # row 2: not a number
    rows[3]["reasoning_tokens"] = str(int(rows[3]["output_tokens"]) + 1)  # row 4: the importer's rule
    rows[4]["billed_cost"] = "n/a"  # row 5: not an amount
    parquet, text = tmp_path / "workload.parquet", tmp_path / "workload.csv"
    _write_text_table(rows, parquet)
    _write_csv(rows, text)

    from_parquet = run_cli(str(parquet), "--json", "-", "--to", "openai:gpt-5-mini").json()["inputs"][0]
    from_csv = run_cli(str(text), "--json", "-", "--to", "openai:gpt-5-mini").json()["inputs"][0]
    assert (from_parquet["rows_read"], from_parquet["rows_used"], from_parquet["rows_rejected"]) == (6, 3, 3)
    assert from_parquet["numbered_by"] == "row"
    assert from_parquet["rejected"] == [
        {"line": 2, "where": "", "column": "input_tokens", "reason": "not a number"},
        {
            "line": 4,
            "where": "",
            "column": "reasoning_tokens",
            "reason": "reasoning_tokens exceed output_tokens (they are part of it)",
        },
        {"line": 5, "where": "", "column": "billed_cost", "reason": "not an amount"},
    ]
    # The CSV counts lines, its header being line 1.
    assert from_csv["numbered_by"] == "line"
    assert [r["line"] for r in from_csv["rejected"]] == [3, 5, 6]


def test_typed_values_that_cannot_be_used_reject_their_row(tmp_path: Path) -> None:
    """NaN and a billion or more in a DOUBLE cost, and a text period that is not a time, as in a CSV."""
    table = pq.read_table(FOCUS_PARQUET)
    billed = table.column("BilledCost").to_pylist()
    billed[1], billed[2] = float("nan"), 2e9
    starts = [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in table.column("ChargePeriodStart").to_pylist()]
    starts[3] = "yesterday"
    table = table.set_column(table.schema.get_field_index("BilledCost"), "BilledCost", pa.array(billed))
    table = table.set_column(table.schema.get_field_index("ChargePeriodStart"), "ChargePeriodStart", pa.array(starts))
    path = tmp_path / "focus.parquet"
    pq.write_table(table, path)

    from tests.conftest import ingest_one

    _, ingested = ingest_one(path)
    account = ingested.account
    assert account.numbered_by == "row"
    assert [(r.line, r.column, r.reason) for r in account.rejected] == [
        (2, "BilledCost", "not an amount"),
        (3, "BilledCost", "not an amount"),
        (4, "ChargePeriodStart", "not a timestamp"),
    ]
    assert account.rows_read == table.num_rows and account.is_balanced()


def test_other_columns_read_as_the_csv_text(tmp_path: Path) -> None:
    """A tag MAP reads as the JSON the CSV holds; a whole DOUBLE id as the integer text; a DOUBLE amount shortest."""
    path = tmp_path / "cur.parquet"
    pq.write_table(
        pa.table(
            {
                "resource_tags": pa.array([[("user_team", "search")], None], pa.map_(pa.string(), pa.string())),
                "line_item_usage_account_id": pa.array([210987654321.0, None], pa.float64()),
                "line_item_usage_amount": pa.array([0.1 + 0.2, 24.0], pa.float64()),
            }
        ),
        path,
    )
    schema = read_schema(path, str(path))
    source = ParquetSource(str(path), schema.names, schema.types)
    every_column = dataclasses.replace(CUR2, unused_columns=())
    rows = duckdb.sql(
        f"SELECT resource_tags, line_item_usage_account_id, line_item_usage_amount FROM {source.relation(every_column)}"
    )
    assert rows.fetchall() == [
        ('{"user_team":"search"}', "210987654321", "0.30000000000000004"),
        (None, None, "24"),
    ]


def test_a_folder_of_report_parts(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """AWS writes a report as numbered `.snappy.parquet` parts beside a manifest: every part is read."""
    whole = pq.read_table(CUR2_PARQUET)
    folder = tmp_path / "cur2" / "data" / "BILLING_PERIOD=2026-10"
    folder.mkdir(parents=True)
    pq.write_table(whole.slice(0, 8), folder / "cur2-00001.snappy.parquet", compression="snappy")
    pq.write_table(whole.slice(8), folder / "cur2-00002.snappy.parquet", compression="snappy")
    (tmp_path / "cur2" / "Manifest.json").write_text('{"reportName": "cur2"}\n', encoding="utf-8")

    parts = run_cli(str(tmp_path / "cur2"), "--json", "-", "--to", "openai:gpt-5-mini", "--as-of", "2026-11-27").json()
    one = run_cli(str(CUR2_PARQUET), "--json", "-", "--to", "openai:gpt-5-mini", "--as-of", "2026-11-27").json()
    assert [(Path(i["path"]).name, i["rows_read"]) for i in parts["inputs"]] == [
        ("cur2-00001.snappy.parquet", 8),
        ("cur2-00002.snappy.parquet", whole.num_rows - 8),
    ]
    assert [Path(s["path"]).name for s in parts["skipped_files"]] == ["Manifest.json"]
    assert parts["totals"] == one["totals"]
    assert without_files(parts["usage"]) == without_files(one["usage"])
