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

import pytest

from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.scratch import ORPHAN_IDLE_SECONDS, private_dir, remove_orphans
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
