"""A run's private temporary directories, and those that killed runs left behind.

A run keeps copies of its inputs' data on disk while it works: the members of ZIP archives, the scan tables of
large files and what DuckDB spills. Each directory is made by `tempfile.mkdtemp` (readable by its user only) and
named after its process (`audit-<kind>-<pid>-<random>`), and the run removes it when it ends, also on Ctrl-C or
an error. A killed process cannot: the next run that makes a directory of the same kind removes those of
processes that no longer run, once nothing in them has changed for an hour (a process of another PID namespace
sharing the directory, a container's, looks gone from here). Only the user's own directories are touched, never
through a symbolic link.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import time
from pathlib import Path

import duckdb

from auditor.errors import AuditorError

ORPHAN_IDLE_SECONDS = 3600
"""How long a directory of a process gone stays untouched before the next run removes it."""


class WorkingFilesError(AuditorError):
    """The run cannot write its working files: the temporary directory is full, missing or not writable."""

    def __init__(self, cause: str) -> None:
        super().__init__(
            f"cannot write the run's working files in {tempfile.gettempdir()} ({cause})",
            "free space there, or set TMPDIR to a directory on a disk with room that you can write to",
        )


def private_dir(kind: str) -> Path:
    """A new private temporary directory for this run's `kind` of files (after removing killed runs' ones)."""
    remove_orphans(kind)
    try:
        return Path(tempfile.mkdtemp(prefix=f"audit-{kind}-{os.getpid()}-"))
    except OSError as exc:
        raise WorkingFilesError(str(exc)) from None


def working_files_error(exc: Exception) -> WorkingFilesError | None:
    """The run's error for a DuckDB I/O error that names a file in one of this process's private directories (it
    could not write its spill files or scan tables: never the input's fault); None for any other error."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, duckdb.IOException) and re.search(rf"audit-[a-z]+-{os.getpid()}-", message):
        return WorkingFilesError(message)
    return None


def remove_orphans(kind: str, root: Path | None = None) -> list[Path]:
    """Remove the `kind` directories under `root` (the temporary directory) of processes that no longer run;
    return them."""
    removed = []
    for path in (root or Path(tempfile.gettempdir())).glob(f"audit-{kind}-*-*"):
        pid = path.name.removeprefix(f"audit-{kind}-").split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or running(int(pid)) or not _own_directory(path):
            continue
        if _idle_seconds(path) < ORPHAN_IDLE_SECONDS:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def running(pid: int) -> bool:
    """Whether a process of this id runs (another user's counts as running: it cannot be asked)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _own_directory(path: Path) -> bool:
    try:
        info = path.lstat()
    except OSError:
        return False
    owner = getattr(os, "getuid", lambda: info.st_uid)()  # no user ids on Windows: its temp dir is the user's own
    return stat.S_ISDIR(info.st_mode) and info.st_uid == owner


def _idle_seconds(path: Path) -> float:
    """Seconds since the directory or anything directly in it last changed."""
    try:
        with os.scandir(path) as entries:
            changed = [path.lstat().st_mtime, *(e.stat(follow_symlinks=False).st_mtime for e in entries)]
    except OSError:
        return 0.0
    return time.time() - max(changed)
