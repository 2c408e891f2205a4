"""Reading one input file into workload segments, with its row accounting: read = used + skipped + rejected."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from auditor.importers.base import Importer
from auditor.importers.reader import (
    DEFAULT_BLOCK_BYTES,
    Batch,
    MalformedRows,
    NeedsTolerantRead,
    Sniffed,
    iter_batches,
    physical_lines,
)
from auditor.ledger import FileAccount, RejectedRow
from auditor.workload import Pricebook, WorkloadAccumulator

# Rejected rows listed one by one (with line numbers) per file; the rest are counted.
MAX_LISTED_REJECTS = 1000


@dataclass
class IngestedFile:
    account: FileAccount
    usage: pd.DataFrame
    shape: pd.DataFrame


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ingest_file(
    sniffed: Sniffed, importer: Importer, pricebook: Pricebook, block_bytes: int = DEFAULT_BLOCK_BYTES
) -> IngestedFile:
    """Stream a file through its importer into workload tables; a file with odd values is re-read tolerantly."""
    try:
        return _ingest(sniffed, importer, pricebook, block_bytes, tolerant=False)
    except NeedsTolerantRead:
        return _ingest(sniffed, importer, pricebook, block_bytes, tolerant=True)


def _ingest(
    sniffed: Sniffed, importer: Importer, pricebook: Pricebook, block_bytes: int, *, tolerant: bool
) -> IngestedFile:
    account = FileAccount(path=str(sniffed.path), format=importer.name, sha256=sha256_of(sniffed.path))
    accumulator = WorkloadAccumulator(pricebook)
    malformed = MalformedRows()
    pending: list[tuple[int, str, str]] = []  # (record index, reason, column)
    first_day: str | None = None
    last_day: str | None = None
    for batch in iter_batches(sniffed, importer, malformed, tolerant=tolerant, block_bytes=block_bytes):
        used = _account_batch(batch, account, pending)
        if not used.empty:
            accumulator.add(used)
            lo, hi = str(used["day"].min()), str(used["day"].max())
            first_day = lo if first_day is None else min(first_day, lo)
            last_day = hi if last_day is None else max(last_day, hi)
    account.period_start, account.period_end = first_day, last_day
    _list_rejects(sniffed, account, pending, malformed)
    return IngestedFile(account, accumulator.usage(), accumulator.shape())


def _account_batch(batch: Batch, account: FileAccount, pending: list[tuple[int, str, str]]) -> pd.DataFrame:
    ledger = batch.ledger
    parse_reason = batch.parse_reasons.to_numpy()
    reject_reason = np.where(parse_reason != "", parse_reason, ledger["reject_reason"].to_numpy())
    reject_column = np.where(
        parse_reason != "", batch.parse_columns.to_numpy(), ledger["reject_column"].to_numpy()
    )
    rejected = reject_reason != ""
    skipped = ~rejected & (ledger["skip_reason"].to_numpy() != "")
    account.rows_read += len(ledger)
    account.rows_rejected += int(rejected.sum())
    account.rows_skipped += int(skipped.sum())
    if skipped.any():
        account.skipped_reasons.update(ledger["skip_reason"].to_numpy()[skipped].tolist())
    room = MAX_LISTED_REJECTS - len(pending)
    for index in np.flatnonzero(rejected)[: max(room, 0)]:
        pending.append(
            (batch.first_record + int(index), str(reject_reason[index]), str(reject_column[index]))
        )
    used: pd.DataFrame = ledger.loc[~rejected & ~skipped].copy()
    account.rows_used += len(used)
    return used


def _list_rejects(
    sniffed: Sniffed, account: FileAccount, pending: list[tuple[int, str, str]], malformed: MalformedRows
) -> None:
    account.rows_read += len(malformed.texts)
    account.rows_rejected += len(malformed.texts)
    if not pending and not malformed.texts:
        return
    listed_malformed = min(len(malformed.texts), MAX_LISTED_REJECTS)
    lines, malformed_lines = physical_lines(sniffed, [p[0] for p in pending], listed_malformed)
    rows = [RejectedRow(lines.get(index, 0), reason, column or None) for index, reason, column in pending]
    for i, line in enumerate(malformed_lines):
        rows.append(
            RejectedRow(line, f"expected {malformed.expected[i]} fields, found {malformed.actual[i]}")
        )
    account.rejected = sorted(rows, key=lambda r: r.line)[:MAX_LISTED_REJECTS]
