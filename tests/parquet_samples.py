"""Build the Parquet samples from the CSV samples, with the column types the exporters write.

Run `python -m tests.parquet_samples` from the repository root to write them again; a test rebuilds
them and checks that the committed files hold the same schema and rows.

- AWS CUR 2.0 (Data Exports, Parquet): the types of AWS's CUR 2.0 table (`get-table`, and the Athena
  tables built on the export): strings, `double` usage amounts and costs (rates are strings),
  `timestamp` dates without a zone (UTC), and `resource_tags` as a `map<string, string>`.
- Legacy CUR with Parquet (the "Athena" flavour): the same rows as the legacy CSV sample, its column
  names converted as AWS does for Parquet (`lineItem/UsageType` → `line_item_usage_type`,
  `resourceTags/user:team` → `resource_tags_user_team`), which are CUR 2.0's names: it reads as
  `aws_cur2_csv`. Types as in CUR 2.0, tags as plain string columns. It is a test fixture, not a
  sample: beside its CSV twin in `samples/` (another format) the demo would count its lines twice.
- FOCUS 1.2 and 1.3 from AWS Data Exports: AWS's FOCUS table types (`double` costs and quantities,
  `timestamp_milliseconds` periods, `Tags` as a map).
- FOCUS 1.0 from Azure: FOCUS's own types (Decimal costs and quantities, DateTime periods, `Tags` as
  JSON text); decimals are written as DECIMAL(38, 10).
- A workload file as a warehouse writes it: integer counts, a DATE day, a DECIMAL billed cost.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"

_TAGS = pa.map_(pa.string(), pa.string())
_NAIVE_MS = pa.timestamp("ms")
_UTC_MS = pa.timestamp("ms", tz="UTC")
_UTC_US = pa.timestamp("us", tz="UTC")
_FOCUS_DECIMAL = pa.decimal128(38, 10)


def _cur2_types(names: list[str]) -> dict[str, pa.DataType]:
    types: dict[str, pa.DataType] = {}
    for name in names:
        if name.endswith("_date"):
            types[name] = _NAIVE_MS
        elif name.endswith(("_cost", "_usage_amount", "_normalization_factor", "_normalized_usage_amount")):
            types[name] = pa.float64()
    if "resource_tags" in names:
        types["resource_tags"] = _TAGS
    return types


def _focus_types(names: list[str], money: pa.DataType, times: pa.DataType, tags: pa.DataType) -> dict[str, pa.DataType]:
    numeric = re.compile(r"(Cost|UnitPrice|Quantity|InUsd|BlockSize)$")
    types: dict[str, pa.DataType] = {}
    for name in names:
        if name.endswith(("PeriodStart", "PeriodEnd")):
            types[name] = times
        elif numeric.search(name):
            types[name] = money
    types["Tags"] = tags
    return types


def _workload_types(names: list[str]) -> dict[str, pa.DataType]:
    types: dict[str, pa.DataType] = {"day": pa.date32(), "half_hour": pa.int32(), "billed_cost": pa.decimal128(38, 6)}
    for name in names:
        if name == "requests" or name.endswith("_tokens"):
            types[name] = pa.int64()
    return types


def legacy_parquet_name(name: str) -> str:
    """A legacy CUR column's name in its Parquet flavour: `lineItem/UsageAccountId` → `line_item_usage_account_id`."""
    parts = re.split(r"[/:]", name)
    return "_".join(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", p).lower() for p in parts)


def _value(text: str, kind: pa.DataType) -> object:
    if text == "":
        return None
    if pa.types.is_floating(kind):
        return float(text)
    if pa.types.is_integer(kind):
        return int(text)
    if pa.types.is_decimal(kind):
        return Decimal(text)
    if pa.types.is_timestamp(kind):
        instant = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
        return instant if kind.tz else instant.replace(tzinfo=None)
    if pa.types.is_date(kind):
        return date.fromisoformat(text)
    if pa.types.is_map(kind):
        return list(json.loads(text).items())
    return text


def _table(
    source: Path, types: Callable[[list[str]], dict[str, pa.DataType]], rename: Callable[[str], str]
) -> pa.Table:
    with source.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    names = [rename(n) for n in rows[0]]
    typed = types(names)
    fields = [pa.field(n, typed.get(n, pa.string())) for n in names]
    columns = [[_value(row[i], f.type) for row in rows[1:]] for i, f in enumerate(fields)]
    return pa.table([pa.array(c, type=f.type) for c, f in zip(columns, fields, strict=True)], schema=pa.schema(fields))


def _same(name: str) -> str:
    return name


def _aws_focus(names: list[str]) -> dict[str, pa.DataType]:
    return _focus_types(names, pa.float64(), _UTC_MS, _TAGS)


def _azure_focus(names: list[str]) -> dict[str, pa.DataType]:
    return _focus_types(names, _FOCUS_DECIMAL, _UTC_US, pa.string())


LEGACY_CUR_PARQUET = "tests/fixtures/parquet/cur-legacy-2026-10-00001.snappy.parquet"

# (CSV sample, Parquet file from the repository root, types, column names)
PARQUET_SAMPLES: tuple[tuple[str, str, Callable[[list[str]], dict[str, pa.DataType]], Callable[[str], str]], ...] = (
    (
        "aws_cur2_csv/cur2-2026-10-00001.csv",
        "samples/aws_cur2_csv/cur2-2026-10-00001.snappy.parquet",
        _cur2_types,
        _same,
    ),
    ("aws_cur_legacy_csv/cur-2026-10-00001.csv", LEGACY_CUR_PARQUET, _cur2_types, legacy_parquet_name),
    ("focus_csv/focus-1.0-azure-2026-09.csv", "samples/focus_csv/focus-1.0-azure-2026-09.parquet", _azure_focus, _same),
    (
        "focus_csv/focus-1.2-aws-2026-10.csv",
        "samples/focus_csv/focus-1.2-aws-2026-10.snappy.parquet",
        _aws_focus,
        _same,
    ),
    (
        "focus_csv/focus-1.3-aws-2026-11.csv",
        "samples/focus_csv/focus-1.3-aws-2026-11.snappy.parquet",
        _aws_focus,
        _same,
    ),
    ("workload_csv/workload_2026-09.csv", "samples/workload_csv/workload_2026-09.parquet", _workload_types, _same),
)


def build(root: Path = ROOT) -> list[Path]:
    """Write every Parquet sample under `root` (the repository, or a copy's root); return their paths."""
    written = []
    for csv_name, parquet_name, types, rename in PARQUET_SAMPLES:
        out = root / parquet_name
        out.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(_table(SAMPLES / csv_name, types, rename), out, compression="snappy")
        written.append(out)
    return written


if __name__ == "__main__":
    for path in build():
        print(path.relative_to(ROOT))
