"""A plain ``.npy`` array as a read-mostly store: ids are row numbers, no metadata, and the metric
is whatever ``?metric=`` (or ``open_store(metric=...)``) says, cosine by default.
Memory-mapped, so reading a large file never loads it whole. Writing creates the file from
batches whose ids are consecutive row numbers (0, 1, 2, ...), appending as they come."""

from __future__ import annotations

import contextlib
import hashlib
import os
from typing import Any, Iterator

import numpy as np

from v2v_store.errors import InvalidVectorsError, StoreNotFoundError

from .base import (Metric, PointId, VectorBatch, VectorStore, check_batch, check_vectors, exact_top_k, file_version,
                   prepare_for_metric)
from .shared import ProcessLock, hold_writer_lock, lock_file
from .uri import StoreURI
from .where import Where


def read_npy(path: str, ndims: tuple[int, ...] = (2,)) -> np.ndarray:
    """The file's array, memory-mapped: numbers of one of ``ndims`` dimensions ((n, d) vectors; (d,) for a single
    query), or a clear error naming what the file holds."""
    try:
        array = np.load(path, mmap_mode="r")
    except (ValueError, OSError, EOFError) as e:  # objects (pickles), not a .npy file, truncated
        raise InvalidVectorsError(f"{path} is not a .npy array of numbers ({e}): save the vectors with "
                                  "numpy.save(path, vectors.astype(numpy.float32))") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "fiu":
        raise InvalidVectorsError(f"{path} holds {getattr(array, 'dtype', type(array).__name__)} values; "
                                  "expected numbers (float32 vectors)")
    if array.ndim not in ndims:
        raise InvalidVectorsError(f"{path} holds an array of shape {array.shape}; expected (n, d)")
    return array


class NpyStore(VectorStore):
    reads_at_positions = True

    def __init__(self, uri: StoreURI, dim: int | None = None, metric: Metric | None = None):
        self.uri, self.path = uri.raw, uri.path
        self.index_type = "npy"
        self._requested_dim, self._metric = dim, metric or Metric.COSINE
        self._pending: list[np.ndarray] = []
        self._version = file_version(self.path) if self.exists() else None  # before the file is read
        self._array = read_npy(self.path) if self.exists() else None
        # the writer lock, held from the first write until close (see _claim)
        self._lock = ProcessLock(lock_file("npy-" + hashlib.sha1(os.path.realpath(self.path).encode()).hexdigest()[:16]))

    def exists(self) -> bool:
        return os.path.exists(self.path)

    def _require(self) -> np.ndarray:
        if self._array is None:
            raise StoreNotFoundError(f"{self.path} does not exist: check the path")
        return self._array

    @property
    def dim(self) -> int:
        if self._array is None and self._requested_dim is not None:
            return self._requested_dim
        return self._require().shape[1]

    @property
    def metric(self) -> Metric:
        return self._metric

    def count(self) -> int:
        return (0 if self._array is None else len(self._array)) + sum(len(p) for p in self._pending)

    def version(self) -> str | None:
        """The file's size and modification time when it was read (None with writes pending or after one)."""
        return None if self._pending else self._version

    def _rows(self) -> np.ndarray:
        """The array to read: with the rows written since it was opened (saved first), so that what this store wrote
        is read at once, as in every store (it was not there until a flush: a read raised or missed it)."""
        self.flush()
        return self._require()

    def iter_batches(self, batch_size: int = 1024, start: Any = None, with_payload: bool = True
                     ) -> Iterator[VectorBatch]:
        array = self._rows()
        pos, n = int(start or 0), len(array)
        while pos < n:
            stop = min(pos + batch_size, n)
            yield VectorBatch(list(range(pos, stop)), np.array(array[pos:stop], dtype=np.float32),
                              next_position=stop if stop < n else None)
            pos = stop

    def records_at(self, positions: np.ndarray, with_payload: bool = True) -> VectorBatch:
        positions = np.asarray(positions, dtype=np.int64)
        return VectorBatch(positions.tolist(), np.array(self._rows()[positions], dtype=np.float32))

    def fetch(self, ids) -> list[tuple[dict | None, str | None]]:
        return [(None, None)] * len(ids)  # a .npy array holds vectors only

    def holds(self, ids) -> np.ndarray:
        n = self.count()  # a record's id is its row
        return np.array([isinstance(i, int) and 0 <= i < n for i in ids], dtype=bool)

    def _claim(self) -> None:
        """Hold the file's writer lock (on this machine) from this store's first write until it is closed: the array
        is written whole on each flush, so two writers at once would each drop the other's rows. A file another
        writer wrote since this store read it is read again first."""
        if self._lock.held:
            return
        hold_writer_lock(self._lock, self.path,
                         "a .npy array is written whole, so two writers would each lose the other's rows. Wait for it "
                         "to finish and run again (a migration: with --resume where it had begun), or write to "
                         "another path")
        if self.exists() and file_version(self.path) != self._version:
            self._version, self._array = file_version(self.path), read_npy(self.path)

    def upsert(self, batch: VectorBatch) -> None:
        self._claim()
        batch = check_batch(batch, self.dim if self._array is not None or self._requested_dim else batch.vectors.shape[1])
        first = self.count()
        if batch.ids != list(range(first, first + len(batch))):
            raise InvalidVectorsError(
                f"npy stores only append rows in order: expected ids {first}..{first + len(batch) - 1}, "
                "got others; write to faiss://, qdrant:// or chroma:// to keep arbitrary ids"
            )
        self._pending.append(prepare_for_metric(batch.vectors, self._metric))

    def flush(self) -> None:
        if not self._pending:
            return
        parts = ([np.asarray(self._array, dtype=np.float32)] if self._array is not None else []) + self._pending
        tmp = self.path + ".tmp.npy"
        try:
            np.save(tmp, np.concatenate(parts))
            os.replace(tmp, self.path)
        except BaseException:  # a full disk: the file as it was, and no part-written copy taking its space
            with contextlib.suppress(OSError):
                os.remove(tmp)
            raise
        self._pending, self._version = [], None  # written by this store: no version to trust
        self._array = read_npy(self.path)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._lock.release()

    def drop(self, other_vectors_too: bool = False) -> None:
        self._claim()
        if os.path.exists(self.path):
            os.remove(self.path)
        self._array, self._pending, self._version = None, [], None

    def search(self, queries: np.ndarray, k: int, where: Where | None = None
               ) -> tuple[np.ndarray, list[list[PointId]]]:
        if where is not None:
            return self.search_where(queries, k, where)
        array = self._rows()
        queries = check_vectors(queries, self.dim, "queries")
        return brute_force_search(array, queries, k, self._metric)


def brute_force_search(vectors: np.ndarray, queries: np.ndarray, k: int, metric: Metric, chunk: int = 65536):
    """Exact top-k over an (n, d) array, in chunks; scores higher-is-better as in VectorStore.search."""
    blocks = ((vectors[s : s + chunk], np.arange(s, min(s + chunk, len(vectors)))) for s in range(0, len(vectors), chunk))
    best_s, best_i = exact_top_k(queries, blocks, k, metric)
    return best_s, [row.tolist() for row in best_i]
