"""Keeping a migrated collection in step with a live source: ``v2v migrate --on-exists sync``.

A sync writes, as ``fill`` does, the source's records whose id the destination lacks; and it marks each record it
writes with where it came from and what it was (:func:`sync_marks`: the source collection's key and a digest of the
record, its vector, metadata and document, in the translation mark every record written into a collection of
embeddings carries). Run again, it writes again the records whose digest the source no longer matches (re-embedded,
edited), and deletes the records it wrote whose id the source no longer holds (a filtered sync: or whose metadata
its filter no longer keeps). Only records a sync from this very source wrote are ever rewritten or deleted: the
destination's own embeddings, records another migration wrote, and records written before without a sync carry no
such mark and stay as they are.

Every step is a function of one batch (or one page of the destination) and the stores, so it spreads over workers
as the rest of a migration does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from v2v_store.connectors import TRANSLATED_KEY, VectorBatch, VectorStore
from v2v_store.connectors.uri import collection_place
from v2v_store.connectors.where import Where

SAMPLE = 1024  # destination records drawn all through it for the plan's estimate of those to delete


def source_key(uri: str) -> str:
    """A short key of the collection ``uri`` names, the same for every URI of it (paths resolved, this machine's
    loopback names as one): what a sync's marks say they came from."""
    return hashlib.sha1(repr(collection_place(uri)).encode()).hexdigest()[:16]


def record_digest(vector: np.ndarray, metadata: dict | None, document: str | None) -> str:
    """A digest of one source record as read: its vector (float32), metadata (but v2v's translation marks, which a
    sync into another named vector of the same Qdrant points writes into the source's own payload) and document."""
    h = hashlib.sha1(np.ascontiguousarray(vector, dtype=np.float32).tobytes())
    own = {k: v for k, v in (metadata or {}).items() if k != TRANSLATED_KEY}
    h.update(json.dumps([own, document], sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def sync_marks(batch: VectorBatch, mark: dict[str, str], key: str) -> list[dict[str, str]]:
    """The translation mark (``mark``: from which space, by which translator) of each record of ``batch`` (as read
    from the source), with the source's ``key`` and the record's digest added."""
    return [{**mark, "source": key, "record": record_digest(v, m, d)}
            for v, m, d in zip(batch.vectors, batch.metadata, batch.documents)]


def _mark_of(metadata: dict | None, vector: str) -> dict[str, Any]:
    marks = (metadata or {}).get(TRANSLATED_KEY)
    mark = marks.get(vector) if isinstance(marks, dict) else None
    return mark if isinstance(mark, dict) else {}


def source_of(metadata: dict | None, vector: str) -> str | None:
    """The key of the source a sync wrote this record (its ``vector``) from, or None."""
    return _mark_of(metadata, vector).get("source")


def to_write(batch: VectorBatch, dest: VectorStore, vector: str, key: str) -> tuple[VectorBatch, int, int]:
    """The records of ``batch`` (read from the source) a sync writes into ``dest``: those whose id it lacks, and those
    a sync from this source wrote (``key``, in the mark of ``vector``) that the source has changed since (their digest
    differs); with how many it holds that stay as they are, and how many of those written are updates."""
    held = dest.holds(batch.ids) if len(batch) else np.zeros(0, dtype=bool)
    rows = np.flatnonzero(held)
    stale = np.zeros(len(batch), dtype=bool)
    if len(rows):
        found = dest.fetch([batch.ids[r] for r in rows])
        for r, (metadata, _) in zip(rows, found):
            mark = _mark_of(metadata, vector)
            if mark.get("source") == key and mark.get("record") != record_digest(
                    batch.vectors[r], batch.metadata[r], batch.documents[r]):
                stale[r] = True
    write = np.flatnonzero(~held | stale)
    if len(write) == len(batch):
        return batch, 0, int(stale.sum())
    return batch.select(write, keep_position=True), int(held.sum() - stale.sum()), int(stale.sum())


def ours(page: VectorBatch, vector: str, key: str) -> list[Any]:
    """The ids of the records of a page of the destination that a sync from the source ``key`` wrote."""
    return [i for i, m in zip(page.ids, page.metadata) if source_of(m, vector) == key]


def lacking(source: VectorStore, ids: list[Any], where: Where | None = None) -> list[Any]:
    """Those of ``ids`` whose record ``source`` no longer holds, or (``where``: a filtered sync) holds with metadata
    the filter no longer keeps."""
    if not ids:
        return []
    held = source.holds(ids)
    out = [i for i, h in zip(ids, held) if not h]
    if where is not None:
        kept = [i for i, h in zip(ids, held) if h]
        out += [i for i, (metadata, _) in zip(kept, source.fetch(kept)) if not where.holds(metadata)] if kept else []
    return out


def gone(dest: VectorStore, source: VectorStore, vector: str, key: str, batch_size: int = 1024,
         where: Where | None = None) -> list[Any]:
    """The ids of every record of ``dest`` that a sync from ``source`` (``key``) wrote and that it no longer holds
    (:func:`lacking`; the whole destination read, page by page; each page's ids looked up in the source)."""
    out: list[Any] = []
    for page in dest.iter_batches(batch_size=batch_size, with_payload=True):
        out += lacking(source, ours(page, vector, key), where)
    return out


def delete(dest: VectorStore, ids: Sequence[Any], batch_size: int = 1024) -> None:
    """Delete ``ids`` from ``dest`` a batch at a time (after the whole read: a store read by offset would skip)."""
    for start in range(0, len(ids), batch_size):
        dest.delete(list(ids[start:start + batch_size]))


@dataclass
class Drawn:
    """What a sync's plan finds among up to :data:`SAMPLE` records drawn all through the destination."""
    drawn: int = 0
    written: int = 0  # written by a sync from this source
    lacking: int = 0  # of those, records the source no longer holds (or its filter no longer keeps): to delete
    other_translator: int = 0  # of those, records another translator translated (a sync does not translate them anew)


def drawn_from(dest: VectorStore, source: VectorStore, vector: str, key: str, translator: str,
               where: Where | None = None) -> Drawn:
    """:class:`Drawn` of ``dest``, for a sync from ``source`` (``key``) by the translator of digest ``translator``."""
    out = Drawn()
    for page in dest.spread_sample(SAMPLE, with_payload=True):
        out.drawn += len(page)
        mine = ours(page, vector, key)
        out.written += len(mine)
        out.lacking += len(lacking(source, mine, where))
        out.other_translator += sum(_mark_of(m, vector).get("translator") != translator for m in page.metadata
                                    if source_of(m, vector) == key)
    return out
