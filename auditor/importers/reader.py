"""Shared reading of delimited exports: sniffing, detection, streaming batches and number parsing.

Files are read in blocks by pyarrow's streaming CSV reader, so memory depends on the block size,
never on the file size. Counts and money are first parsed by pyarrow at full speed; if a file holds a
value pyarrow cannot convert, the file is read again in tolerant mode, where each bad value rejects
only its own row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from auditor.errors import InputFileError, UnknownFormatError
from auditor.importers.base import Importer
from auditor.ledger import NANOS_PER_UNIT

SNIFF_BYTES = 64 * 1024
# Measured: memory per block is ~20x its size once strings become Python objects (docs/benchmarks.md).
DEFAULT_BLOCK_BYTES = 4 * 1024 * 1024
_MONEY_TYPE = pa.decimal128(38, 9)


@dataclass(frozen=True)
class Sniffed:
    """What the first bytes of a file say: its text encoding and header."""

    path: Path
    encoding: str
    header: tuple[str, ...]


@dataclass
class Batch:
    """Rows of one block, as the importer mapped them, plus per-row parse problems."""

    ledger: pd.DataFrame
    first_record: int
    """0-based index, among the file's well-formed records, of the batch's first row."""
    parse_reasons: pd.Series
    parse_columns: pd.Series


@dataclass
class MalformedRows:
    """Records with the wrong number of fields, found by the CSV parser."""

    texts: list[str] = field(default_factory=list)
    expected: list[int] = field(default_factory=list)
    actual: list[int] = field(default_factory=list)


class NeedsTolerantRead(Exception):
    """A value in the file defeats the fast typed read; read the file again in tolerant mode."""


def sniff(path: Path) -> Sniffed:
    """Read a file's first bytes: refuse empty and binary files, find the encoding and the header."""
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise InputFileError(
            str(path), f"cannot be read ({exc.strerror})", "check the path and permissions"
        ) from exc
    if not head.strip(b"\xef\xbb\xbf \r\n\t"):
        raise InputFileError(
            str(path), "the file is empty", "export the data again; the download may have failed"
        )
    encoding = _encoding_of(path, head)
    text = head.decode(encoding, errors="replace")
    if _looks_binary(text):
        raise InputFileError(
            str(path),
            "not a text file (it holds binary data)",
            "give the CSV export itself, not a spreadsheet, archive or PDF",
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    first_line = next(csv.reader(io.StringIO(text.splitlines()[0] if text else "")), [])
    header = tuple(name.strip() for name in first_line)
    return Sniffed(path, encoding, header)


def _looks_binary(text: str) -> bool:
    odd = sum(1 for ch in text if (ch < " " and ch not in "\t\r\n") or ch == "\ufffd")
    return odd > max(2, len(text) // 50)


def _encoding_of(path: Path, head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    nul_at = head.find(b"\x00")
    if nul_at >= 0:
        raise InputFileError(
            str(path),
            f"not a text file (binary data at byte {nul_at})",
            "give the CSV export itself, not a spreadsheet, archive or PDF",
        )
    try:
        # A multi-byte character may be cut at the end of the sniffed block.
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:
            return "cp1252"
    return "utf-8"


def detect(sniffed: Sniffed, importers: Sequence[Importer], forced: str | None = None) -> Importer:
    """The importer whose required columns the header holds, best overlap first; or a clear error."""
    header = set(sniffed.header)
    if forced is not None:
        importer = next(i for i in importers if i.name == forced)
        missing = [c for c in importer.required_columns if c not in header]
        if missing:
            raise InputFileError(
                str(sniffed.path),
                f"is not a {importer.name} file: missing column(s) {', '.join(missing)}",
                f"the header of {importer.title} is: {importer.example_header}",
                line=1,
            )
        return importer
    matching = [i for i in importers if all(c in header for c in i.required_columns)]
    if matching:
        return max(matching, key=lambda i: (len(header & i.known_columns), len(i.required_columns)))
    ranked = sorted(importers, key=lambda i: -len(header & i.known_columns))[:2]
    closest = "; ".join(
        f"{i.name} (missing {', '.join(c for c in i.required_columns if c not in header)})" for i in ranked
    )
    shown = ",".join(sniffed.header[:8]) + (",…" if len(sniffed.header) > 8 else "")
    raise UnknownFormatError(
        str(sniffed.path),
        f"not a format the auditor knows (header: {shown}); closest: {closest}",
        "supported formats: " + ", ".join(i.name for i in importers) + "; force one with --format NAME",
        line=1,
    )


def iter_batches(
    sniffed: Sniffed,
    importer: Importer,
    malformed: MalformedRows,
    *,
    tolerant: bool,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> Iterator[Batch]:
    """Stream the file block by block and map each block to ledger lines."""
    present = [c for c in sniffed.header if c in importer.read_columns]
    column_types: dict[str, pa.DataType] = {c: pa.string() for c in present}
    if not tolerant:
        column_types.update({c: pa.float64() for c in importer.count_columns if c in column_types})
        column_types.update({c: _MONEY_TYPE for c in importer.money_columns if c in column_types})

    def on_invalid_row(row: pa_csv.InvalidRow) -> str:
        malformed.texts.append(row.text)
        malformed.expected.append(row.expected_columns)
        malformed.actual.append(row.actual_columns)
        return "skip"

    try:
        reader = pa_csv.open_csv(
            str(sniffed.path),
            read_options=pa_csv.ReadOptions(block_size=block_bytes, encoding=sniffed.encoding),
            parse_options=pa_csv.ParseOptions(invalid_row_handler=on_invalid_row, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types=column_types,
                include_columns=present,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        if not tolerant and "conversion error" in str(exc).lower():
            raise NeedsTolerantRead(str(exc)) from exc
        raise InputFileError(str(sniffed.path), f"cannot be parsed as CSV ({_first_line(exc)})") from exc
    first_record = 0
    while True:
        try:
            record_batch = reader.read_next_batch()
        except StopIteration:
            return
        except pa.ArrowInvalid as exc:
            if not tolerant and "conversion error" in str(exc).lower():
                raise NeedsTolerantRead(str(exc)) from exc
            raise InputFileError(str(sniffed.path), f"cannot be parsed as CSV ({_first_line(exc)})") from exc
        yield _to_batch(record_batch, importer, first_record, tolerant)
        first_record += record_batch.num_rows


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _to_batch(record_batch: pa.RecordBatch, importer: Importer, first_record: int, tolerant: bool) -> Batch:
    n = record_batch.num_rows
    reasons = np.full(n, "", dtype=object)
    columns = np.full(n, "", dtype=object)
    data: dict[str, object] = {}
    for name in record_batch.schema.names:
        arr = record_batch.column(name)
        if name in importer.count_columns:
            values, bad = _counts(arr, tolerant)
            data[name] = values
        elif name in importer.money_columns:
            values, is_present, bad = _nanos(arr, tolerant)
            data[name] = values
            data[f"{name}__present"] = is_present
        else:
            data[name] = arr.to_pandas(types_mapper=None).fillna("").astype(str).to_numpy()
            continue
        fresh = (bad != "") & (reasons == "")
        reasons[fresh] = bad[fresh]
        columns[fresh] = name
    for name in importer.count_columns:
        data.setdefault(name, np.zeros(n, dtype=np.int64))
    for name in importer.money_columns:
        data.setdefault(name, np.zeros(n, dtype=np.int64))
        data.setdefault(f"{name}__present", np.zeros(n, dtype=bool))
    for name in importer.read_columns:
        data.setdefault(name, np.full(n, "", dtype=object))
    frame = pd.DataFrame(data)
    ledger = importer.to_ledger(frame)
    return Batch(ledger, first_record, pd.Series(reasons), pd.Series(columns))


def _counts(arr: pa.Array | pa.ChunkedArray, tolerant: bool) -> tuple[np.ndarray, np.ndarray]:
    """Whole non-negative counts as int64 (empty = 0) and a reason per row ("" when fine)."""
    if tolerant:
        text = pd.Series(arr.to_pandas()).fillna("").astype(str).str.strip().str.replace(",", "", regex=False)
        floats = pd.to_numeric(text.where(text != "", "0"), errors="coerce").to_numpy(dtype=float)
        not_number = np.isnan(floats)
        raw = text.to_numpy()
    else:
        floats = arr.to_numpy(zero_copy_only=False).astype(float)
        floats = np.where(np.isnan(floats), 0.0, floats)
        not_number = np.zeros(len(floats), dtype=bool)
        raw = None
    reasons = np.full(len(floats), "", dtype=object)
    with np.errstate(invalid="ignore"):
        negative = floats < 0
        fractional = ~not_number & (np.floor(floats) != floats)
        too_big = ~not_number & (np.abs(floats) > 2.0**53)
    if raw is not None and not_number.any():
        reasons[not_number] = [f"'{v[:40]}' is not a number" for v in raw[not_number]]
    reasons[negative & (reasons == "")] = "negative count"
    reasons[fractional & (reasons == "")] = "count is not a whole number"
    reasons[too_big & (reasons == "")] = "count is implausibly large"
    values = np.where(reasons == "", floats, 0.0).astype(np.int64)
    return values, reasons


def _nanos(arr: pa.Array | pa.ChunkedArray, tolerant: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact money as int64 nano-units, whether a value was present, and a reason per row."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    n = len(arr)
    reasons = np.full(n, "", dtype=object)
    if not tolerant:
        present = ~arr.is_null().to_numpy(zero_copy_only=False)
        # decimal128(38, 9): each value is a 16-byte little-endian integer of nano-units.
        words = np.frombuffer(arr.buffers()[1], dtype="<i8").reshape(-1, 2)[arr.offset : arr.offset + n]
        low, high = words[:, 0], words[:, 1]
        overflow = present & (high != (low >> 63))
        reasons[overflow] = "amount too large"
        return np.where(present & ~overflow, low, 0).astype(np.int64), present, reasons
    text = pd.Series(arr.to_pandas()).fillna("").astype(str).str.strip().to_numpy()
    values = np.zeros(n, dtype=np.int64)
    present = text != ""
    for i in np.flatnonzero(present):
        try:
            value = Decimal(text[i])
            if not value.is_finite():
                raise InvalidOperation
            values[i] = int((value * NANOS_PER_UNIT).to_integral_value())
        except (InvalidOperation, OverflowError):
            reasons[i] = f"'{text[i][:40]}' is not an amount"
            present[i] = False
    return values, present, reasons


def physical_lines(
    sniffed: Sniffed, record_indices: Sequence[int], malformed: int
) -> tuple[dict[int, int], list[int]]:
    """Line numbers (1-based) of well-formed records by 0-based index, and of the first malformed records.

    Run only when a file has rejected rows, so the fast path never pays for it.
    """
    wanted = set(record_indices)
    found: dict[int, int] = {}
    malformed_lines: list[int] = []
    with sniffed.path.open(encoding=sniffed.encoding, newline="", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        index = 0
        start_line = reader.line_num + 1
        for fields in reader:
            if len(fields) == len(header):
                if index in wanted:
                    found[index] = start_line
                index += 1
            elif fields and len(malformed_lines) < malformed:
                malformed_lines.append(start_line)
            if len(found) == len(wanted) and len(malformed_lines) >= malformed:
                break
            start_line = reader.line_num + 1
    return found, malformed_lines
