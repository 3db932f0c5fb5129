"""One handle per storage location for the whole process.

Some embedded engines lock their storage to one opener (qdrant-client local mode locks its directory, a Qdrant edge
shard its write-ahead log), so two stores of one location in one process (a migration between two collections of a
directory, or two named vectors of one shard) must share a handle; the last store to let go closes it.
"""

from __future__ import annotations

import os
import threading
from typing import Callable, Generic, TypeVar

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
