"""Shared test helpers: the samples, the audit date, and the CLI run in-process."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDENS = Path(__file__).resolve().parent / "goldens"
AS_OF = date(2026, 11, 27)
FORKS = sys.platform == "linux" and (os.cpu_count() or 1) > 1
"""Whether work is done in child processes here (`report.aside`): on multi-core Linux."""


def no_children_left() -> bool:
    """Every child process this one forked is gone (reaped)."""
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


# The day the Message Batches results samples ran: their lines carry no time (`--batch-date` gives it).
BATCH_DATE = date(2026, 10, 20)


def csv_rows(path: Path) -> list[dict[str, str]]:
    """A CSV export's rows read with the csv module: the independent reading tests compare against."""
    import csv

    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def ingest_one(path: Path, given_day: date | None = None):  # type: ignore[no-untyped-def]
    """Detect and ingest one file with a fresh pricebook (importer-level tests); `given_day` dates a file whose
    lines carry no time, as `--batch-date` does."""
    from auditor.importers.engine import GIVEN_DAY_VARIABLE
    from auditor.ingest import ingest_file, survey_file
    from auditor.scan import scan_connection
    from auditor.sources import open_sources
    from auditor.workload import Pricebook

    with open_sources((path,), None) as (sources, _), scan_connection() as con:
        (source,) = sources
        if given_day is not None:
            con.execute(f"SET VARIABLE {GIVEN_DAY_VARIABLE} = DATE '{given_day.isoformat()}'")
        survey = survey_file(con, source.sniffed, source.importer)
        return source.importer, ingest_file(con, source.sniffed, source.importer, Pricebook(), 0, survey)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", help="rewrite golden files (review the diff!)")


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@dataclass
class CliRun:
    status: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    def run(*args: str) -> CliRun:
        status = main(list(args))
        captured = capsys.readouterr()
        return CliRun(status, captured.out, captured.err)

    return run


def without_files(usage: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    """Usage lines of a JSON result without the names of their files (the same data read from other files)."""
    return [{k: v for k, v in u.items() if k not in ("token_files", "billed_files")} for u in usage]


def hybrid_routing_to(refs: list[str]):  # type: ignore[no-untyped-def]
    """A route-by-segment scenario whose project `p<i>` goes to `refs[i]` (for tests of what depends on its routes)."""
    from decimal import Decimal

    from auditor.result import Scenario, SegmentChoice

    segments = [
        SegmentChoice(
            segment=f"p{i}",
            candidate=ref,
            candidate_name=ref,
            baseline_cost=Decimal(2),
            projected_cost=Decimal(1),
            largest_request_tokens=0,
            passing_candidates=len(refs),
        )
        for i, ref in enumerate(refs)
    ]
    n = Decimal(len(refs))
    return Scenario(
        candidate="hybrid",
        candidate_name="hybrid",
        baseline_cost=2 * n,
        projected_cost=n,
        savings=n,
        savings_pct=50.0,
        kind="hybrid",
        segmented_by="project",
        segments=segments,
    )
