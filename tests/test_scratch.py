"""A run's private temporary directories: named after the process, removed at the end, and a killed run's removed
by the next run."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import pytest

from auditor import scan
from auditor.errors import ExitStatus, InputFileError
from auditor.importers.reader import sniff
from auditor.ingest import _read_error
from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.scratch import ORPHAN_IDLE_SECONDS, WorkingFilesError, private_dir, remove_orphans
from tests.conftest import SAMPLES

OPENROUTER = SAMPLES / "openrouter_logs_csv"


def _gone_pid() -> int:
    """The id of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _left(root: Path, name: str, idle_seconds: float = 2 * ORPHAN_IDLE_SECONDS) -> Path:
    """A directory as a run leaves it, last changed `idle_seconds` ago."""
    path = root / name
    path.mkdir()
    (path / "scans.duckdb").write_bytes(b"aggregated billing data")
    then = time.time() - idle_seconds
    for changed in (path / "scans.duckdb", path):
        os.utime(changed, (then, then))
    return path


def test_only_directories_of_processes_gone_are_removed(tmp_path: Path) -> None:
    gone = _gone_pid()
    orphan = _left(tmp_path, f"audit-spill-{gone}-abc")
    other_kind = _left(tmp_path, f"audit-members-{gone}-abc")
    live = _left(tmp_path, f"audit-spill-{os.getppid()}-abc")
    mine = _left(tmp_path, f"audit-spill-{os.getpid()}-abc")
    unnamed = _left(tmp_path, "audit-spill-abc")  # no process id in the name
    recent = _left(tmp_path, f"audit-spill-{gone}-recent", idle_seconds=60)  # maybe a run another namespace sees
    target = _left(tmp_path, "kept")
    (tmp_path / f"audit-spill-{gone}-link").symlink_to(target, target_is_directory=True)
    (tmp_path / f"audit-spill-{gone}-file").write_text("not a directory")
    assert remove_orphans("spill", tmp_path) == [orphan]
    assert not orphan.exists()
    for kept in (
        other_kind,
        live,
        mine,
        unnamed,
        recent,
        target / "scans.duckdb",
        tmp_path / f"audit-spill-{gone}-file",
    ):
        assert kept.exists(), kept
    assert (tmp_path / f"audit-spill-{gone}-link").is_symlink()


def test_a_private_dir_is_the_user_s_own_and_named_after_the_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    made = private_dir("spill")
    assert made.parent == tmp_path and made.name.startswith(f"audit-spill-{os.getpid()}-")
    assert made.stat().st_mode & 0o777 == 0o700


def test_a_run_removes_its_own_directories_and_those_a_killed_run_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    gone = _gone_pid()
    left = [_left(scratch, f"audit-spill-{gone}-x"), _left(scratch, f"audit-members-{gone}-x")]
    archive = tmp_path / "exports.zip"
    with zipfile.ZipFile(archive, "w") as packed:  # its members are copied into a private directory
        for path in sorted(OPENROUTER.iterdir()):
            packed.write(path, path.name)
    result = run_audit(AuditOptions(inputs=(archive,), as_of=date(2026, 11, 28)))
    assert result.inputs and all(f.rows_used for f in result.inputs)
    assert not any(path.exists() for path in left)
    assert list(scratch.iterdir()) == [], "the run's own directories are removed at its end"


def test_working_files_that_cannot_be_written_are_reported_as_such_not_as_the_input_s_fault(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    run_cli,  # type: ignore[no-untyped-def]
) -> None:
    """DuckDB cannot create its scan tables' file (a directory is in the way, as a full disk would stop it)."""
    original = scan.private_dir

    def blocked(kind: str) -> Path:
        made = original(kind)
        (made / f"{scan.SCANS}.duckdb").mkdir()
        return made

    monkeypatch.setattr(scan, "private_dir", blocked)
    failed = run_cli(str(OPENROUTER), "--json", str(tmp_path / "out.json"), "--as-of", "2026-11-28")
    assert failed.status == ExitStatus.INPUT_ERROR
    (error, hint) = failed.err.strip().splitlines()
    assert error.startswith("error: cannot write the run's working files in ") and "scans.duckdb" in error
    assert hint == "hint: free space there, or set TMPDIR to a directory on a disk with room that you can write to"


def test_a_read_that_fails_on_the_run_s_own_files_is_not_the_input_s_fault(tmp_path: Path) -> None:
    sniffed = sniff(next(OPENROUTER.iterdir()))
    full = f'IO Error: Could not write file "{tmp_path}/audit-spill-{os.getpid()}-ab/scans.duckdb": No space left'
    with pytest.raises(WorkingFilesError) as caught:
        _read_error(sniffed, duckdb.IOException(full))
    assert "No space left" in caught.value.message
    elsewhere = full.replace(f"-{os.getpid()}-", f"-{_gone_pid()}-")  # another process's file: not ours
    assert isinstance(_read_error(sniffed, duckdb.IOException(elsewhere)), InputFileError)
    assert isinstance(_read_error(sniffed, duckdb.IOException("IO Error: cannot open file")), InputFileError)
