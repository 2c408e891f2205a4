"""Writing output files atomically: a temporary file beside the target, renamed over it when complete.

A target that is no regular file (`/dev/null`, a named pipe, `/dev/stdout`) is written to as it is: a rename would
put a regular file in its place (as root, `--json /dev/null` replaced the system's null device).

Inside `all_or_nothing()` (a run's outputs), the renames wait until every output is written: an interrupted
run (Ctrl-C, an error, a kill) leaves the previous report files as they were, all of them. Ctrl-C and
errors remove the temporary files; a killed process cannot, so each temporary file is named after its
process (`.audit-report.pdf.<pid>.<random>.partial`) and the next run removes those of processes gone.
"""

from __future__ import annotations

import glob
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from auditor.scratch import running

_PENDING: list[list[tuple[Path, Path]]] = []
"""Renames (temporary file, target) held back by the open `all_or_nothing()` blocks, innermost last."""


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` then rename tmp over `path`; on any failure the previous file stays intact. A device or a
    pipe at `path` is written to directly, and stays what it is."""
    if is_special(path):
        write(path)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_orphans(path)
    prefix = f".{path.name}.{os.getpid()}."
    tmp: Path | None = None
    held = False
    try:
        handle, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=".partial", dir=path.parent)
        tmp = Path(tmp_name)
        os.close(handle)
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; the output gets the mode any new file gets
        if _PENDING:  # renamed (or removed) when the block ends
            _PENDING[-1].append((tmp, path))
            held = True
        else:
            os.replace(tmp, path)
    finally:
        if tmp is not None and not held:
            tmp.unlink(missing_ok=True)
        elif tmp is None:
            # Ctrl-C between the file's creation and its name being kept here: this process's file of this path.
            for made in path.parent.glob(f"{glob.escape(prefix)}*.partial"):
                made.unlink(missing_ok=True)


@contextmanager
def all_or_nothing() -> Iterator[None]:
    """Files written inside the block replace their targets only when the whole block succeeds."""
    batch: list[tuple[Path, Path]] = []
    _PENDING.append(batch)
    try:
        yield
        while batch:
            tmp, path = batch.pop(0)
            os.replace(tmp, path)
    finally:
        _PENDING.remove(batch)
        for tmp, _ in batch:
            tmp.unlink(missing_ok=True)


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """`data` as the file's bytes, through `write_atomically`."""

    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    write_atomically(path, write)


def is_special(path: Path) -> bool:
    """Whether `path` is a device, a pipe or a socket (followed through links): no file to put in its place."""
    try:
        mode = path.stat().st_mode
    except OSError:  # none there yet (or not to be looked at): written as a new file, whose errors say why
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _remove_orphans(path: Path) -> None:
    """Temporary files of `path` left by processes that no longer run (killed while writing)."""
    for orphan in path.parent.glob(f".{path.name}.*.partial"):
        pid = orphan.name.removeprefix(f".{path.name}.").split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not running(int(pid)):
            orphan.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
