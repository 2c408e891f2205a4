"""Rendering one output in a child process while this process writes the others: two cores, two writers.

The report's PDF takes as long as the workbook and every other output together, and neither needs the other,
so `render_aside` forks: the child starts with the result already in memory (nothing is copied or pickled),
renders its bytes and sends them back through a pipe; the parent writes the other outputs meanwhile, then
collects them. The bytes are the ones the same render gives in this process (rendering is deterministic).

Where a child cannot be forked safely (not Linux, one core, or other threads running: a fork copies only the
calling thread), and whenever the child fails, the render runs here instead, when its bytes are asked for, so
an error is raised from this process exactly as without a child.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TypeVar

T = TypeVar("T")

_OK = b"\x00"


@contextmanager
def render_aside(render: Callable[[T], bytes], value: T) -> Iterator[Callable[[], bytes]]:
    """Within the block, `collect()` gives `render(value)`; the child, if any, is gone when the block ends."""
    if not _can_fork():
        yield lambda: render(value)
        return
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: render, send, and leave without running the parent's exit handlers
        os.close(read_end)
        try:
            payload = _OK + render(value)
        except BaseException:  # the parent renders again and raises it itself
            payload = b""
        with suppress(BaseException), os.fdopen(write_end, "wb") as pipe:
            pipe.write(payload)
        os._exit(0)
    os.close(write_end)
    waited = False

    def collect() -> bytes:
        nonlocal waited
        with os.fdopen(os.dup(read_end), "rb") as pipe:
            payload = pipe.read()
        os.waitpid(pid, 0)
        waited = True
        return payload[1:] if payload[:1] == _OK else render(value)

    try:
        yield collect
    finally:
        os.close(read_end)  # a child still writing gets a broken pipe and leaves
        if not waited:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _can_fork() -> bool:
    return sys.platform == "linux" and (os.cpu_count() or 1) > 1 and threading.active_count() == 1
