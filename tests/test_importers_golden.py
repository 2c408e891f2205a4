"""Each importer: its samples read into reviewed goldens (per-model token and money sums, row accounting)."""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path

import pytest

import auditor.importers as importers_pkg
from auditor.importers import IMPORTERS
from auditor.ledger import SUM_COLUMNS
from tests.conftest import BATCH_DATE, GOLDENS, SAMPLES, ingest_one

# A sample folder may mirror the vendor's own layout (Bedrock's S3 prefixes): its files are found at any depth.
SAMPLE_FILES = sorted(p for p in SAMPLES.glob("*/**/*") if p.is_file() and p.name != "README.md")
_SHARED_MODULES = {"base", "reader", "engine", "xlsx", "mapping", "documents", "parquet"}


def _summary(path: Path) -> dict[str, object]:
    importer, ingested = ingest_one(path, given_day=BATCH_DATE)
    a = ingested.account
    by_model = ingested.usage.groupby(["provider", "model_raw"], sort=True)[list(SUM_COLUMNS)].sum()
    return {
        "format": importer.name,
        "rows": {
            "read": a.rows_read,
            "used": a.rows_used,
            "skipped": a.rows_skipped,
            "rejected": a.rows_rejected,
        },
        "skipped_reasons": dict(sorted(a.skipped_reasons.items())),
        "period": [a.period_start, a.period_end],
        "models": {
            f"{p}|{m}": {k: int(v) for k, v in row.items() if v}
            for (p, m), row in zip(by_model.index, by_model.to_dict("records"), strict=True)
        },
    }


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.relative_to(SAMPLES).as_posix())
def test_sample_matches_golden(path: Path, update_goldens: bool) -> None:
    folder, *_ = path.relative_to(SAMPLES).parts
    golden = GOLDENS / folder / (path.relative_to(SAMPLES / folder).as_posix() + ".json")
    actual = _summary(path)
    assert actual["format"] == folder, "the sample folder names the importer that must detect it"
    if update_goldens:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert actual == json.loads(golden.read_text(encoding="utf-8"))


def test_every_importer_module_is_registered_and_has_samples() -> None:
    modules = {m.name for m in pkgutil.iter_modules(importers_pkg.__path__)} - _SHARED_MODULES
    registered = {i.name for i in IMPORTERS}
    assert modules == registered
    for name in modules:
        module = importlib.import_module(f"auditor.importers.{name}")
        assert module.IMPORTER.name == name
        assert list((SAMPLES / name).glob("*")), f"samples/{name} holds no sample"
        assert (GOLDENS / name).is_dir(), f"tests/goldens/{name} is missing"
