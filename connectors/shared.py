"""One handle per storage location for the whole process, and one process at a time per lock on this machine.

Some embedded engines lock their storage to one opener (qdrant-client local mode locks its directory, a Qdrant edge
shard its write-ahead log), so two stores of one location in one process (a migration between two collections of a
directory, or two named vectors of one shard) must share a handle; the last store to let go closes it. Where nothing
locks the storage (a FAISS index's writer, a migration), :class:`ProcessLock` keeps a second process out.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import IO, Callable, Generic, TypeVar

Handle = TypeVar("Handle")


class SharedHandles(Generic[Handle]):
    def __init__(self, open_handle: Callable[[str], Handle], close_handle: Callable[[Handle], None]):
        self._open, self._close = open_handle, close_handle
        self._handles: dict[str, list] = {}  # resolved path -> [handle, stores holding it]
        self._lock = threading.Lock()

    def acquire(self, path: str) -> Handle:
        """The handle of ``path``, opened on first use."""
        key = os.path.realpath(path)
        with self._lock:
            if key not in self._handles:
                self._handles[key] = [self._open(path), 0]
            entry = self._handles[key]
            entry[1] += 1
            return entry[0]

    def release(self, path: str) -> None:
        key = os.path.realpath(path)
        with self._lock:
            entry = self._handles.get(key)
            if entry is not None:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._handles[key]
                    self._close(entry[0])


def lock_file(name: str) -> Path:
    """Where this user's lock ``name`` lives on this machine (in the temporary directory: wherever a job runs from)."""
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return Path(tempfile.gettempdir()) / f"v2v-store-{user}" / f"{name}.lock"


def hold_writer_lock(lock: "ProcessLock", what: str, why: str) -> None:
    """Take ``lock``, the writer lock of ``what`` on this machine, or refuse naming the process that holds it and
    ``why`` one writer at a time (with the way on)."""
    from v2v_store.errors import StoreBusyError

    holder = lock.acquire()
    if holder is not None:
        raise StoreBusyError(f"{what} is being written by another process (pid {holder}; lock {lock.path}): {why}")


class ProcessLock:
    """An exclusive lock on this machine (``flock`` on ``path``, the holder's pid written in it), released by
    :meth:`release` or when the process ends, however it ends. No lock where the system has no ``fcntl``."""

    def __init__(self, path: Path):
        self.path, self._file = Path(path), None

    def acquire(self) -> str | None:
        """Take the lock: None once it is held by this process, else the pid of the process holding it ("?" if
        unknown)."""
        try:
            import fcntl
        except ImportError:  # not a POSIX system
            return None
        if self._file is not None:
            return None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock: IO[str] = open(self.path, "a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            lock.close()
            return holder
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        self._file = lock
        return None

    @property
    def held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            import fcntl

            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
