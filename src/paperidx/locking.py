"""The library's writer lock: one writer at a time, readers never wait.

A second `ingest` waits (bounded) for the first, telling the user what it waits for.
`flock` locks vanish with their process, so a writer killed with `kill -9` never leaves a
stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from paperidx.errors import LibraryError, LockTimeoutError

DEFAULT_WAIT_SECONDS = 600.0
POLL_SECONDS = 0.1


def _holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip() or "another paperidx process"
    except OSError:
        return "another paperidx process"


@contextmanager
def writer_lock(
    path: Path,
    *,
    purpose: str,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the writer lock; wait up to `wait_seconds` for it (0: fail at once if busy)."""
    handle = _open(path)
    try:
        if not _acquire(handle, path, wait_seconds, on_wait):
            raise LockTimeoutError(
                f"the library is busy: {_holder(path)} still holds {path} after {wait_seconds:.0f}s"
            )
        handle.seek(0)
        handle.truncate()
        handle.write(f"paperidx {purpose} (pid {os.getpid()})")
        handle.flush()
        yield
    finally:
        handle.close()


def _open(path: Path) -> TextIO:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "a+", encoding="utf-8")
    except OSError as error:
        raise LibraryError(f"cannot create the lock file {path}: {error.strerror}") from None


def _acquire(
    handle: TextIO, path: Path, wait_seconds: float, on_wait: Callable[[str], None] | None
) -> bool:
    deadline = time.monotonic() + wait_seconds
    told = False
    while True:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            if not told and on_wait is not None:
                on_wait(f"waiting for {_holder(path)} to finish (up to {wait_seconds:.0f}s)…")
                told = True
            time.sleep(POLL_SECONDS)
