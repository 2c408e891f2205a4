"""A streamed file's head is read once (`ingest.survey_file` with a `head_table`): the survey it gives is the survey of
the head read for models alone, and the projects it keeps are the ones the head names with a model, for the guess at
whether the shape set needs API keys (`ingest._projects_in_heads`, which counts projects of catalog models only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor import ingest
from auditor.importers.engine import head_projects_sql
from auditor.scan import scan_connection
from auditor.sources import open_sources
from auditor.workload import Pricebook
from tests.conftest import SAMPLES

# Every sample folder: every format the auditor reads.
FOLDERS = sorted(p for p in SAMPLES.iterdir() if p.is_dir())


def _sorted_rows(frame) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    return sorted(frame.itertuples(index=False, name=None), key=repr)


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_the_head_read_once_gives_the_survey_and_the_heads_projects(folder: Path) -> None:
    pricebook = Pricebook()
    with open_sources((folder,), None) as (sources, _), scan_connection() as con:
        assert sources, f"the premise: {folder.name} holds files the auditor reads"
        for source in sources:
            sniffed, importer = source.sniffed, source.importer
            alone = ingest.survey_file(con, sniffed, importer)
            kept = ingest.survey_file(con, sniffed, importer, head_table="head_0")
            assert list(kept.columns) == list(alone.columns) == ["provider", "model_raw", "day", "lines"]
            assert list(kept.dtypes) == list(alone.dtypes), sniffed.name
            assert _sorted_rows(kept) == _sorted_rows(alone), sniffed.name
            assert kept["lines"].sum() > 0, f"the premise: {sniffed.name}'s head has lines with a model"
            source_sql = ingest._sources(sniffed, ingest.DEFAULT_BLOCKS, None)
            read = con.execute(head_projects_sql(importer, source_sql, ingest.SURVEY_HEAD_ROWS)).df()
            projects = con.execute("SELECT DISTINCT provider, model_raw, project FROM head_0").df()
            # Lines the survey skips (a record's repeats, lines that are not usage: Claude Code's `<synthetic>` ones)
            # are left out of its table; the guess counts the projects of catalog models only.
            assert set(_sorted_rows(projects)) <= set(_sorted_rows(read)), sniffed.name
            priced = [_sorted_rows(f.loc[pricebook.model_refs(f) != ""]) for f in (projects, read)]
            assert priced[0] == priced[1], sniffed.name
            con.execute("DROP TABLE head_0")


def test_a_head_survey_counts_only_the_head(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The table holds the head's rows only: a project first named after the head is not in it."""
    log = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
    header, *body = log.read_text(encoding="utf-8").splitlines()
    last = body[-1].rsplit(",", 1)[0] + ',"Later project"'
    path = tmp_path / "openrouter_logs.csv"
    path.write_text("\n".join([header, *body[:-1], last]) + "\n", "utf-8")
    monkeypatch.setattr(ingest, "SURVEY_HEAD_ROWS", len(body) - 1)
    with open_sources((path,), None) as (sources, _), scan_connection() as con:
        (source,) = sources
        survey = ingest.survey_file(con, source.sniffed, source.importer, head_table="head_0")
        projects = {p for (p,) in con.execute("SELECT DISTINCT project FROM head_0").fetchall()}
    assert "Later project" not in projects and projects, projects
    assert survey["lines"].sum() == len(body) - 1
