"""Rendering one output in a child process while this process writes the others: two cores, two writers.

The report's PDF takes as long as the workbook and every other output together, and neither needs the other,
so `render_aside` has a child render it and send its bytes back through a pipe; the parent writes the other
outputs meanwhile, then collects them. The bytes are the ones the same render gives in this process (rendering
is deterministic).

The command forks that child before it reads the inputs (`child_ahead`): while this process reads them, the
child imports reportlab and reads the fonts (a quarter of a second of Python that, in a thread of this process,
held the GIL against the run's own work and, done at the end, delayed the PDF). It then waits for the result,
sent pickled (a few hundredths of a second for the samples'). Without a child ahead, `render_aside` forks when
the result is there, and the child starts with it already in memory.

Where a child cannot be forked safely (not Linux, one core, or other threads running: a fork copies only the
calling thread), and whenever the child fails, the render runs here instead, when its bytes are asked for, so
an error is raised from this process exactly as without a child."""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Generic, NoReturn, TypeVar

T = TypeVar("T")

_OK = b"\x00"

CHILD_NICENESS = 10
"""A child ahead runs below this process: while the inputs are read its imports take a core from DuckDB's scan only
where the scan leaves it idle (the stages after the scan leave one idle)."""

_HELD: set[int] = set()
"""This process's ends of the pipes to its children ahead. Each child forked later closes its copies: a copy of a
pipe's write end held by another child would keep the first from ever reading the pipe's end."""


class Ahead(Generic[T]):
    """A child forked before its value exists (`child_ahead`): it prepares on the other core while this process
    works (its imports, its fonts: work this process would otherwise do, holding the GIL against its own), then
    waits for the value `render_aside` sends it."""

    def __init__(self, pid: int, to_child: int, from_child: int) -> None:
        self.pid, self._to_child, self.from_child = pid, to_child, from_child
        self.sent = False
        """Whether the value was sent: the `render_aside` that sent it owns the child."""

    def send(self, pickled: bytes) -> bool:
        """Send the value, pickled; False if the child cannot take it (it is gone). A value larger than
        the pipe holds is sent as the child reads it, once it has prepared."""
        _HELD.discard(self._to_child)
        try:
            with os.fdopen(self._to_child, "wb") as pipe:
                self._to_child = -1  # the `with` closes it, whatever happens
                pipe.write(pickled)
        except OSError:
            return False
        self.sent = True
        return True

    def _end(self) -> None:
        """A child never sent its value has nothing to do: it is ended at once (it may still be preparing)."""
        _HELD.difference_update((self._to_child, self.from_child))
        if self._to_child >= 0:
            os.close(self._to_child)
        if not self.sent:
            os.close(self.from_child)
            _end_child(self.pid)


def _pickled(value: object) -> bytes | None:
    """`value` as a child ahead is sent it; None if it cannot be pickled."""
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return None


@contextmanager
def child_ahead(prepare: Callable[[], object], render: Callable[[T], bytes]) -> Iterator[Ahead[T] | None]:
    """Within the block, a child that has run `prepare()` and waits to render the value `render_aside` sends it;
    None where a child cannot be forked safely (`render_aside` then renders as without one). A child never sent a
    value is ended with the block. Ctrl-C is this process's to handle: the child ignores it (and leaves when this
    process closes its pipe, if it dies first)."""
    if not _can_fork():
        yield None
        return
    value_read, value_write = os.pipe()
    bytes_read, bytes_write = os.pipe()
    pid = _forked()
    if pid == 0:  # the child: prepare, wait for the value, render it (a value never sent does not unpickle)

        def work() -> bytes:
            os.close(value_write)
            os.close(bytes_read)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            os.nice(CHILD_NICENESS)
            prepare()
            with os.fdopen(value_read, "rb") as pipe:
                return render(pickle.loads(pipe.read()))

        _child_sends(work, bytes_write)
    os.close(value_read)
    os.close(bytes_write)
    ahead: Ahead[T] = Ahead(pid, value_write, bytes_read)
    _HELD.update((value_write, bytes_read))
    try:
        yield ahead
    finally:
        ahead._end()


@contextmanager
def render_aside(
    render: Callable[[T], bytes], value: T, ahead: Ahead[T] | None = None
) -> Iterator[Callable[[], bytes]]:
    """Within the block, `collect()` gives `render(value)`, rendered in a child: `ahead` (forked with the same
    `render`), sent `value` now, or, if it cannot take it, one forked now. The child is gone when the block ends."""
    data = _pickled(value) if ahead is not None else None
    taken = ahead is not None and data is not None and ahead.send(data)
    data = None  # this frame lives as long as the block: the bytes sent are not kept here
    if ahead is not None and taken:
        pid, read_end = ahead.pid, ahead.from_child
        _HELD.discard(read_end)
    elif _can_fork():
        pid, read_end = _fork(render, value)
    else:
        yield lambda: render(value)
        return
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
            _end_child(pid)


@contextmanager
def computed_aside(work: Callable[[], T]) -> Iterator[Callable[[], T]]:
    """Within the block, `collect()` gives `work()`: computed in a child forked now, while this process goes on, and
    sent back pickled; or computed here, when collected, where a child cannot be forked or fails (an error is then
    raised from this process). The child is gone when the block ends."""
    if not _can_fork():
        yield work
        return
    with render_aside(_pickled_value_of, work) as collect:
        yield lambda: pickle.loads(collect())


def _pickled_value_of(work: Callable[[], object]) -> bytes:
    return pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)


def _fork(render: Callable[[T], bytes], value: T) -> tuple[int, int]:
    """A child rendering `value` now: its pid, and the end of the pipe its bytes come through."""
    read_end, write_end = os.pipe()
    pid = _forked()
    if pid == 0:  # the child: render, send, leave

        def work() -> bytes:
            os.close(read_end)
            return render(value)

        _child_sends(work, write_end)
    os.close(write_end)
    return pid, read_end


def _forked() -> int:
    """`os.fork()`, the output flushed first; in the child, the pipes to other children ahead closed."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        for end in _HELD:
            with suppress(OSError):
                os.close(end)
        _HELD.clear()
    return pid


def _child_sends(work: Callable[[], bytes], write_end: int) -> NoReturn:
    """A child's whole life: `work()`'s bytes sent through `write_end` (nothing if it fails: the parent renders
    again and raises the error itself), then gone without running the parent's exit handlers, whatever happens: a
    child must never run on into the parent's own code."""
    try:
        payload = _OK + work()
    except BaseException:
        payload = b""
    with suppress(BaseException), os.fdopen(write_end, "wb") as pipe:
        pipe.write(payload)
    os._exit(0)


def _end_child(pid: int) -> None:
    """A child not waited for is killed (it may still be preparing, or writing) and reaped."""
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def _can_fork() -> bool:
    return sys.platform == "linux" and (os.cpu_count() or 1) > 1 and threading.active_count() == 1
