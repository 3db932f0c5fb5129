"""Latent indexes kept on disk between queries (``v2v query --latent-cache DIR``, ``CrossQuery(latent_cache=)``).

Latent mode streams every record of a collection through the translator before its first search (about 20 s per
million records of 384 dimensions on a 2-core CPU); a query service keeps that copy in memory, but each ``v2v query``
command builds it again. With a cache directory each collection's latent index is written there once built, and
later commands (and :meth:`~v2v_store.query.CrossQuery.refresh`) load it, memory-mapped, while the collection looks
unchanged.

An entry is a directory named by a digest of everything its rows depend on: the translator (its config and tensors,
:meth:`~v2v_store.translator.Translator.digest`), the collection's URI, its space (for a collection of mixed spaces,
how its records are told apart), the latent precision and whether the space check ran. It holds ``latent.faiss``
(the index; none when no record is of the space), ``ids.json`` (each row's record id), ``fingerprints.npy`` (a
64-bit fingerprint of each row's stored vector, exactly as read) and ``entry.json`` (what it is, written last).

Whether a collection is unchanged:

- a FAISS index or a .npy file (:meth:`VectorStore.version`): the same sizes and modification times of its files
  (the index, the v2v sidecar) as when the entry was built. Exact: FAISS and v2v rewrite the file on every write.
- Chroma and Qdrant collections expose no version: the same number of records, and ``SPOT_CHECK`` records drawn at
  random (fresh each time) found under their ids with the same vectors (and, in a collection of mixed spaces, in the
  same space). A change to few records can pass: one that touches 0.3% of the records passes with a 5% chance,
  one record of a million almost always. Delete the directory (or the collection's entry) to rebuild after such edits.

A stale entry is rebuilt and replaced. Entries are written to a staging directory and renamed into place, so an
interrupted write leaves no half entry (a killed writer's staging directory is removed by the next write); nothing
prunes entries of old translators or collections (they take the
latent copy's size on disk: 4 bytes per dimension per record in float32, 2 in float16, 1 in int8, plus the ids).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from v2v_store.connectors import PointId, VectorStore
from v2v_store.errors import V2VError
from v2v_store.mixed import RecordSpaces

logger = logging.getLogger(__name__)

CACHE_FORMAT = 1
SPOT_CHECK = 1024  # records compared with a Chroma or Qdrant collection's entry before it is used
_FINGERPRINT_SEED = 0x76327673


@functools.cache
def _fingerprint_weights(dim: int) -> np.ndarray:
    return np.random.default_rng(_FINGERPRINT_SEED).integers(0, 2**62, dim, dtype=np.uint64) * 2 + 1


def fingerprints(vectors: np.ndarray) -> np.ndarray:
    """A 64-bit fingerprint of each float32 row, exact to the bit: a random odd-weighted sum of its words (mod 2^64),
    so two different rows share one with a chance of about 2^-63."""
    words = np.ascontiguousarray(vectors, dtype=np.float32).view(np.uint32).astype(np.uint64)
    with np.errstate(over="ignore"):
        return (words * _fingerprint_weights(words.shape[1])).sum(axis=1, dtype=np.uint64)


@dataclass
class LatentPart:
    """One space's latent rows of a collection: the index (None when no record is of the space), each row's record
    id and each row's fingerprint (:func:`fingerprints`)."""

    index: Any
    ids: list[PointId]
    fingerprints: np.ndarray


class LatentCache:
    """The latent indexes of one translator, precision and space-check setting, kept under ``directory``."""

    def __init__(self, directory: str | Path, translator_digest: str, precision: str, check_space: bool):
        self.directory = Path(directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise V2VError(f"the latent cache {self.directory} is a file: name a directory (created if missing)")
        self._settings = {"format": CACHE_FORMAT, "translator": translator_digest, "precision": precision,
                          "check_space": bool(check_space)}

    def _describe(self, uri: str, space: str, mixed: RecordSpaces | None) -> dict:
        """What an entry's rows depend on (its key, and the start of its ``entry.json``)."""
        return {**self._settings, "uri": uri, "space": space, "mixed": mixed.option if mixed else None}

    def _path(self, uri: str, space: str, mixed: RecordSpaces | None) -> Path:
        key = json.dumps(self._describe(uri, space, mixed), sort_keys=True)
        return self.directory / hashlib.sha256(key.encode()).hexdigest()[:32]

    def load(self, store: VectorStore, uri: str, spaces: list[str], mixed: RecordSpaces | None
             ) -> list[LatentPart] | None:
        """The parts (one per space in ``spaces``) of ``uri``'s latent index, or None when one is missing or the
        collection has changed since they were built (see the module's docstring)."""
        entries = []
        for space in spaces:
            path = self._path(uri, space, mixed)
            try:
                entries.append((path, json.loads((path / "entry.json").read_text())))
            except (OSError, ValueError):
                return None
        version = store.version()
        if version is not None:
            if any(entry.get("version") != version for _, entry in entries):
                logger.info("latent cache of %s: the collection's files changed since it was built; building it again",
                            uri)
                return None
        else:
            count = store.count()
            if any(entry.get("count") != count for _, entry in entries):
                logger.info("latent cache of %s: the collection holds %d records, %s when it was built; building it "
                            "again", uri, count, entries[0][1].get("count"))
                return None
        try:
            parts = [self._read(path, entry) for path, entry in entries]
        except (OSError, ValueError, RuntimeError, KeyError, TypeError) as error:
            logger.warning("latent cache of %s is unreadable (%s); building it again", uri, error)
            return None
        if version is None and not self._unchanged(store, uri, spaces, mixed, parts):
            return None
        logger.info("latent index of %s loaded from %s (%d vectors)", uri, self.directory,
                    sum(len(p.ids) for p in parts))
        return parts

    @staticmethod
    def _read(path: Path, entry: dict) -> LatentPart:
        ids = json.loads((path / "ids.json").read_text())
        prints = np.load(path / "fingerprints.npy", mmap_mode="r")
        index = (faiss.read_index(str(path / "latent.faiss"), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
                 if entry["rows"] else None)
        if len(ids) != entry["rows"] or len(prints) != entry["rows"] or (index is not None and index.ntotal != len(ids)):
            raise ValueError(f"{path} holds {len(ids)} ids, {len(prints)} fingerprints for {entry['rows']} rows")
        return LatentPart(index, ids, prints)

    @staticmethod
    def _unchanged(store: VectorStore, uri: str, spaces: list[str], mixed: RecordSpaces | None,
                   parts: list[LatentPart]) -> bool:
        """Whether ``SPOT_CHECK`` records drawn at random are where the parts have them, with the same vectors."""
        by_field = mixed is not None and mixed.field is not None
        sample = list(store.spread_sample(SPOT_CHECK, with_payload=by_field, seed=None))
        wanted = {i for batch in sample for i in batch.ids}
        where = {i: (p, row) for p, part in enumerate(parts) for row, i in enumerate(part.ids) if i in wanted}
        for batch in sample:
            labels = mixed.labels(batch) if mixed is not None else [spaces[0]] * len(batch)
            prints = fingerprints(batch.vectors)
            for r, i in enumerate(batch.ids):
                p, row = where.get(i, (None, None))
                found = spaces[p] if p is not None else None
                if found != labels[r] or (p is not None and parts[p].fingerprints[row] != prints[r]):
                    logger.info("latent cache of %s: record %r changed since it was built; building it again", uri, i)
                    return False
        return True

    def save(self, uri: str, spaces: list[str], mixed: RecordSpaces | None, parts: list[LatentPart],
             version: str | None, count: int) -> None:
        """Write the parts of ``uri``'s latent index built from a collection of ``count`` records at ``version``
        (:meth:`VectorStore.version`, taken before it was read). A failure to write is logged, not raised: the query
        goes on with the index in memory."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._sweep_staging()
            for space, part in zip(spaces, parts):
                self._write(self._path(uri, space, mixed), part, {
                    **self._describe(uri, space, mixed), "version": version, "count": count, "rows": len(part.ids),
                    "built_at": time.time()})
        except (OSError, RuntimeError, TypeError, ValueError) as error:
            logger.warning("could not write the latent cache of %s to %s (%s); the query goes on without it", uri,
                           self.directory, error)

    def _sweep_staging(self) -> None:
        """Remove the staging directories of writers that were killed before they finished (their process is gone)."""
        for staging in self.directory.glob(".*.tmp"):
            try:
                os.kill(int(staging.name.split(".")[-2]), 0)
            except ProcessLookupError:
                shutil.rmtree(staging, ignore_errors=True)
            except (ValueError, IndexError, PermissionError):
                pass  # not a staging name of ours, or another user's live process

    @staticmethod
    def _write(path: Path, part: LatentPart, entry: dict) -> None:
        staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        try:
            if part.index is not None:
                faiss.write_index(part.index, str(staging / "latent.faiss"))
            (staging / "ids.json").write_text(json.dumps([i if isinstance(i, str) else int(i) for i in part.ids]))
            np.save(staging / "fingerprints.npy", np.asarray(part.fingerprints, dtype=np.uint64))
            (staging / "entry.json").write_text(json.dumps(entry, indent=1))
            if path.exists():
                shutil.rmtree(path)
            os.replace(staging, path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
