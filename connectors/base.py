"""The one protocol every vector store speaks, and the checks shared by all of them.

A store is read in pages, as qdrant-client's ``scroll`` does: each :class:`VectorBatch` carries
``next_position``, an opaque JSON-serialisable value that a later job passes back to
``iter_batches(start=...)`` to resume exactly after that batch (``None`` once the store is exhausted).
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import logging
import os
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from v2v_store.errors import DimensionMismatchError, InvalidVectorsError

from .where import Where

logger = logging.getLogger(__name__)

PointId = int | str
# Metadata key under which a store keeps an id it cannot represent natively
# (a string id in Qdrant or FAISS, an int id in Chroma); restored on read.
ORIGINAL_ID_KEY = "_v2v_id"
_ID_NAMESPACE = uuid.UUID("6f1d6a52-3c1b-4d55-9a3e-0b5c2f7b1e01")
# Metadata (payload) field where a record a migration wrote a translation for, into a collection that also holds
# embeddings (another named vector of the same Qdrant points, an existing collection filled or appended to, a
# collection of mixed spaces' migration), is marked: {vector name ("" for a store's one vector): {"from": the space translated from, "translator": its digest}}.
# A Qdrant point that exists keeps its payload and gets the mark merged in (before its vector is set).
TRANSLATED_KEY = "_v2v_translated"


def holds_translation(metadata: dict[str, Any] | None, vectors: Sequence[str]) -> bool:
    """Whether a record's metadata marks one of ``vectors`` of its point as a translation (:data:`TRANSLATED_KEY`)."""
    marks = (metadata or {}).get(TRANSLATED_KEY)
    return isinstance(marks, dict) and any(v in marks for v in vectors)


def translations_in(batch: "VectorBatch", vector: str | None) -> np.ndarray:
    """Which records of a page (read with its payload) are marked as holding a translation in ``vector`` (a store's
    :attr:`VectorStore.vector_name`; None or "" for its one vector)."""
    return np.array([holds_translation(m, [vector or ""]) for m in batch.metadata],
                    dtype=bool)


class Metric(str, enum.Enum):
    """Similarity a store ranks by. Cosine stores keep L2-normalised vectors."""

    COSINE = "cosine"
    DOT = "dot"
    L2 = "l2"

    @classmethod
    def parse(cls, value: "str | Metric") -> "Metric":
        if isinstance(value, Metric):
            return value
        aliases = {"ip": "dot", "inner_product": "dot", "euclid": "l2", "euclidean": "l2", "cos": "cosine"}
        name = aliases.get(str(value).lower(), str(value).lower())
        try:
            return cls(name)
        except ValueError:
            raise ValueError(f"unknown metric {value!r}: expected one of cosine, dot, l2") from None


@dataclass
class VectorBatch:
    """A page of a collection: ``vectors`` is float32, C-contiguous, shape (n, d). ``other_vectors``: where a read
    was asked for them (:attr:`VectorStore.read_other_vectors`), each record's other vectors by name, to be written
    as they are: plain data (a dense one a list of floats, a multivector a list of those, a sparse one
    ``{"indices": [...], "values": [...]}``), so that a batch pickles; else empty."""

    ids: list[PointId]
    vectors: np.ndarray
    metadata: list[dict[str, Any] | None] = field(default_factory=list)
    documents: list[str | None] = field(default_factory=list)
    next_position: Any = None
    other_vectors: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.vectors = np.ascontiguousarray(self.vectors, dtype=np.float32)
        if self.vectors.ndim != 2:
            raise InvalidVectorsError(f"vectors must be 2-D (n, d), got shape {self.vectors.shape}")
        n = len(self.vectors)
        if not self.metadata:
            self.metadata = [None] * n
        if not self.documents:
            self.documents = [None] * n
        lengths = {"ids": len(self.ids), "metadata": len(self.metadata), "documents": len(self.documents),
                   **({"other_vectors": len(self.other_vectors)} if self.other_vectors else {})}
        bad = {k: v for k, v in lengths.items() if v != n}
        if bad:
            raise InvalidVectorsError(f"batch has {n} vectors but {bad}: give one entry per vector")

    def __len__(self) -> int:
        return len(self.ids)

    def with_vectors(self, vectors: np.ndarray) -> "VectorBatch":
        """The same records (ids, metadata, documents, position) with new vectors."""
        return VectorBatch(list(self.ids), vectors, list(self.metadata), list(self.documents), self.next_position,
                           list(self.other_vectors))

    def select(self, rows: Sequence[int], keep_position: bool = False) -> "VectorBatch":
        """The records at ``rows`` (in that order), without a position (a part of a page, not a page) unless
        ``keep_position`` (what is left of a page once some records are set aside: reading goes on after it)."""
        rows = list(rows)
        return VectorBatch([self.ids[r] for r in rows], self.vectors[rows], [self.metadata[r] for r in rows],
                           [self.documents[r] for r in rows], self.next_position if keep_position else None,
                           [self.other_vectors[r] for r in rows] if self.other_vectors else [])


def no_embedding(vectors: np.ndarray) -> np.ndarray:
    """Which rows hold no embedding: NaN or infinite values, or all zeros (an overflow, a placeholder for a failed
    one). Translated, a zero vector would become the target space's mean direction, a record that matches every
    query a little; a migration stops on them or leaves them out, a fit and a space check leave them out."""
    vectors = np.asarray(vectors)
    return ~np.isfinite(vectors).all(axis=1) | ~np.any(vectors != 0, axis=1)


def check_vectors(vectors: np.ndarray, dim: int | None = None, what: str = "vectors") -> np.ndarray:
    """Validate and return float32 C-contiguous vectors; raise naming the first bad row."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise InvalidVectorsError(f"{what} must be 2-D (n, d), got shape {vectors.shape}")
    if dim is not None and vectors.shape[1] != dim:
        raise DimensionMismatchError(
            f"dimension mismatch: {what} have d={vectors.shape[1]}, the store expects d={dim}; "
            + ("search a collection of their dimension or translate the queries first" if what == "queries" else
               "write to a collection of matching dimension or translate the vectors first")
        )
    doing = "searching" if what == "queries" else "writing"
    finite = np.isfinite(vectors).all(axis=1)
    if not finite.all():
        row = int(np.argmin(finite))
        raise InvalidVectorsError(
            f"{what} contain NaN or inf (first at row {row}, {int((~finite).sum())} rows in all); "
            f"clean or drop those rows before {doing}"
        )
    zero = ~np.any(vectors != 0, axis=1)
    if zero.any():
        raise InvalidVectorsError(
            f"{what} contain all-zero rows (first at row {int(np.argmax(zero))}, {int(zero.sum())} in all): "
            f"they have no direction; drop them before {doing}"
        )
    return vectors


def check_batch(batch: VectorBatch, dim: int) -> VectorBatch:
    """Everything an upsert must verify before it writes anything; the batch to write: ``batch``, or where its
    metadata holds values of Python's or NumPy's other kinds, a copy with them as JSON's (:func:`plain_metadata`)."""
    check_vectors(batch.vectors, dim)
    for i in batch.ids:
        if not isinstance(i, (int, str)) or isinstance(i, bool):
            raise InvalidVectorsError(f"id {i!r} has type {type(i).__name__}: ids must be int or str")
    if len(set(batch.ids)) != len(batch.ids):
        seen: set = set()
        dup = next(i for i in batch.ids if i in seen or seen.add(i))
        raise InvalidVectorsError(f"duplicate id {dup!r} in one batch: ids must be unique")
    metadata = plain_metadata(batch.ids, batch.metadata)
    documents = plain_documents(batch.ids, batch.documents)
    if metadata is batch.metadata and documents is batch.documents:
        return batch
    return VectorBatch(batch.ids, batch.vectors, metadata, documents, batch.next_position, batch.other_vectors)


def plain_documents(ids: Sequence[PointId], documents: list[str | None]) -> list[str | None]:
    """``documents`` as text every store keeps alike (``documents`` itself where they are); a NumPy string as text.
    Anything else is refused with the fix: before, a number or bytes was kept as text by FAISS, refused by Chroma and
    dropped (read back as None) by Qdrant's engines, and text that is no UTF-8 (lone surrogates, as
    ``errors="surrogateescape"`` leaves them) failed with each store's own error or was kept by one."""
    out = documents
    for row, (record_id, document) in enumerate(zip(ids, documents)):
        if document is None or type(document) is str:
            pass
        elif isinstance(document, str):  # np.str_, a str subclass
            out = list(out) if out is documents else out
            out[row] = document = str.__str__(document)
        else:
            raise InvalidVectorsError(
                f"the document of record {record_id!r} is of type {type(document).__name__} ({str(document)[:60]!r}): a "
                "document is text (or None); decode bytes (document.decode()) or write str(document)")
        if document is not None and not document.isascii():
            try:
                document.encode("utf-8")
            except UnicodeEncodeError as e:
                raise InvalidVectorsError(
                    f"the document of record {record_id!r} is no UTF-8 text ({e.reason} at character {e.start}): "
                    "decode its source with the right encoding, or drop the characters "
                    "(document.encode('utf-8', 'replace').decode())") from None
    return out


_JSON_SCALARS = (str, int, float, bool, type(None))


def _is_utf8(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8 (not with lone surrogates, as ``errors="surrogateescape"`` leaves)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_plain(value: Any) -> bool:
    kind = type(value)
    if kind is str:
        return value.isascii() or _is_utf8(value)
    if kind in _JSON_SCALARS:
        return True
    if kind is dict:
        return all(type(k) is str and _is_plain(v) for k, v in value.items())
    return kind is list and all(_is_plain(v) for v in value)


def _plain(value: Any, record_id: PointId, key: str) -> Any:
    """``value`` as JSON's kinds: a NumPy number or array as Python's, a tuple as a list, a date or time as ISO 8601
    text (what Qdrant's date filters and ``--where published>=2024-06-01`` compare), a UUID as its text."""
    if isinstance(value, np.ndarray):
        return [_plain(v, record_id, key) for v in value.tolist()]
    if isinstance(value, np.datetime64):
        return str(np.datetime_as_string(value))
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (datetime.datetime, datetime.date)):  # a pandas Timestamp too
        return value.isoformat()
    if isinstance(value, str):
        if not _is_utf8(value):
            raise InvalidVectorsError(
                f"metadata {key!r} of record {record_id!r} is no UTF-8 text ({str(value.encode('utf-8', 'replace'))[:60]}"
                "): decode its source with the right encoding, or drop the characters "
                "(value.encode('utf-8', 'replace').decode())")
        return str.__str__(value)  # a str enum's value, not its name (str() gives "Kind.A")
    for kind in (bool, int, float):  # a subclass (np.float64, an IntEnum) as the kind itself
        if isinstance(value, kind):
            return kind(value)
    if value is None:
        return None
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v, record_id, key) for v in value]
    if isinstance(value, dict):
        return _plain_fields(value, record_id, key)
    raise InvalidVectorsError(
        f"metadata {key!r} of record {record_id!r} is of type {type(value).__name__} ({str(value)[:60]!r}): metadata "
        "values are text, numbers, booleans, None, dates, and lists and objects of those; convert it before writing (e.g. "
        "str(value), float(value) for a Decimal, a list for a set, base64 text for bytes)")


def _plain_fields(fields: dict, record_id: PointId, within: str | None = None) -> dict:
    """``fields`` (a record's metadata, or an object ``within`` one of its fields) with every value as JSON's kinds
    (:func:`_plain`); a key that is no text is refused."""
    bad = next((k for k in fields if not isinstance(k, str)), None)
    if bad is not None:
        owner = f"metadata {within!r} of record {record_id!r} has" if within else f"record {record_id!r} has metadata"
        raise InvalidVectorsError(f"{owner} the key {bad!r} ({type(bad).__name__}): keys of metadata are text in every "
                                  f"store; write it as {str(bad)!r}")
    return {k: _plain(v, record_id, f"{within}.{k}" if within else k) for k, v in fields.items()}


def plain_metadata(ids: Sequence[PointId], metadata: list[dict[str, Any] | None]) -> list[dict[str, Any] | None]:
    """``metadata`` where every value is one of JSON's kinds, as every store keeps them alike (``metadata`` itself
    when it is, the common case: a walk of it, no copy); NumPy numbers and arrays (a pandas row's), tuples, dates
    and times, UUIDs converted (:func:`_plain`); any other kind (a set, bytes, a Decimal, a key that is no text)
    refused with the fix. Before, FAISS refused them with a bare TypeError, Chroma wrote a NumPy int as the text
    "5", and an edge shard wrote bytes as a list of numbers."""
    if all(m is None or (type(m) is dict and _is_plain(m)) for m in metadata):
        return metadata
    out = []
    for record_id, m in zip(ids, metadata):
        if m is None or (type(m) is dict and _is_plain(m)):
            out.append(m)
            continue
        if not isinstance(m, dict):
            raise InvalidVectorsError(f"the metadata of record {record_id!r} is of type {type(m).__name__} "
                                      f"({str(m)[:60]!r}): a record's metadata is a dict of fields (or None)")
        out.append(_plain_fields(m, record_id))
    return out


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def prepare_for_metric(vectors: np.ndarray, metric: Metric) -> np.ndarray:
    """Cosine stores keep unit vectors (as Qdrant does); dot and l2 stores keep them as given."""
    return l2_normalize(vectors) if metric == Metric.COSINE else vectors


def exact_top_k(queries: np.ndarray, blocks: Iterable[tuple[np.ndarray, np.ndarray]], k: int, metric: Metric
                ) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k of ``queries`` over ``blocks`` of (vectors, their positions), scores higher-is-better as in
    :meth:`VectorStore.search`: (scores, positions), each (queries, up to k)."""
    queries = prepare_for_metric(np.asarray(queries, dtype=np.float32), metric)
    best_s = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), 0), dtype=np.int64)
    for block, at in blocks:
        block = prepare_for_metric(np.asarray(block, dtype=np.float32), metric)
        if metric == Metric.L2:
            sc = -(np.sum(queries**2, 1)[:, None] - 2 * queries @ block.T + np.sum(block**2, 1)[None, :])
        else:
            sc = queries @ block.T
        all_s = np.concatenate([best_s, sc], axis=1)
        all_i = np.concatenate([best_i, np.broadcast_to(at, sc.shape)], axis=1)
        top = np.argsort(-all_s, axis=1, kind="stable")[:, :k]
        best_s, best_i = np.take_along_axis(all_s, top, 1), np.take_along_axis(all_i, top, 1)
    return best_s, best_i


def stable_uuid(value: str) -> str:
    """A deterministic UUID for a string id (Qdrant accepts only unsigned ints and UUIDs): ``str(uuid.uuid5(
    _ID_NAMESPACE, value))``, computed without the uuid module's objects (5x faster; a latent cache maps every id)."""
    digest = bytearray(hashlib.sha1(_ID_NAMESPACE.bytes + value.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class VectorStore(ABC):
    """A collection of vectors with ids, metadata and documents.

    Implementations read in bounded pages, write in batches, create the collection on first write
    when it does not exist (with ``dim`` and ``metric`` given at open time), and never modify data
    except through :meth:`upsert`.
    """

    uri: str = ""
    index_type: str = ""
    # the metadata (payload) field read as each record's document (``?document_key=``), for stores that keep documents
    # in a payload (Qdrant); None where documents are kept apart from metadata (Chroma, a FAISS sidecar)
    document_key: str | None = None
    # disk a new collection takes before its records (files written in full as it fills): a migration's plan adds it
    # to the bytes of the vectors it writes when it checks that they fit on a local destination's disk
    disk_overhead_bytes: int = 0
    # the named vector of each point a store reads (Qdrant ``?vector=NAME``); None where a record has one vector
    vector_name: str | None = None
    # opened with ``open_store(new_vector=True)`` on a Qdrant collection (or edge shard) that lacks its named vector:
    # it does not exist yet as a collection of that vector, and its first write adds the vector to the collection
    adds_vector: bool = False

    @property
    @abstractmethod
    def dim(self) -> int: ...

    @property
    @abstractmethod
    def metric(self) -> Metric: ...

    @abstractmethod
    def exists(self) -> bool:
        """Whether the collection exists (a new one is created by the first upsert)."""

    def missing(self) -> str:
        """Why the collection is not there, for an error that says so: the fix, and where the store knows them (Chroma,
        Qdrant) the collections that are there (a typo in a name is seen at once)."""
        return "check the path and collection name"

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def iter_batches(self, batch_size: int = 1024, start: Any = None, with_payload: bool = True
                     ) -> Iterator[VectorBatch]:
        """Yield pages from ``start`` (a ``next_position`` of an earlier batch; None = beginning). With
        ``with_payload=False`` a store may leave out the records' metadata and documents (None), for readers that need
        only ids and vectors; the ids are the records' own either way."""

    def first_batch(self, batch_size: int, with_payload: bool = True) -> VectorBatch | None:
        """The first page of at most ``batch_size`` records (None when the store is empty); the reader is closed."""
        pages = iter(self.iter_batches(batch_size=batch_size, with_payload=with_payload))
        first = next(pages, None)
        getattr(pages, "close", lambda: None)()
        return first

    # whether records_at reads the records at any positions 0..count-1 (FAISS, .npy, Chroma: records in the order
    # iter_batches reads them; its positions are offsets there, with Chroma's the id of the last record read beside
    # them; Qdrant's are point ids, read in id order)
    reads_at_positions = False
    # whether random_batch draws records at random from the whole collection (Qdrant's random sample query)
    draws_at_random = False

    def records_at(self, positions: np.ndarray, with_payload: bool = True) -> VectorBatch:
        """The records at ``positions`` (sorted offsets within 0..count-1; stores with ``reads_at_positions``)."""
        raise NotImplementedError(f"{type(self).__name__} cannot read records at given positions")

    def random_batch(self, size: int, with_payload: bool = True, seed: int | None = None) -> VectorBatch:
        """Up to ``size`` distinct records drawn at random from the whole collection (stores with
        ``draws_at_random``); drawn by ``seed`` where the store draws in this process (qdrant-client local mode), else
        by the store's own randomness."""
        raise NotImplementedError(f"{type(self).__name__} cannot draw records at random")

    def spread_sample(self, size: int, with_payload: bool = True, seed: int | None = 0,
                      read_whole: bool = True) -> Iterator[VectorBatch]:
        """About ``size`` distinct records drawn at random from all through the collection, for an index to be
        trained on (not only the start of a collection sorted by time or by source): those at random positions where
        a store reads any position (FAISS, .npy, Chroma); else records drawn by the store where it can (Qdrant, up to
        half the collection), else a read of the whole collection keeping ``size`` records at random positions (with
        ``read_whole`` False, NotImplementedError instead where that collection holds more than twice ``size``: for a
        look that must stay cheap, ``v2v inspect``'s). Random positions are seeded (``seed``; None: fresh each call):
        the same sample each time of an unchanged collection (as are qdrant-client local mode's draws; a server's and
        an edge shard's are their own). All of it when it holds no more than ``size``. Yields batches (the caller may
        stop sooner)."""
        count = self.count()
        if count <= size:
            yield from self._thinned(count, count, with_payload)
        elif self.reads_at_positions:
            positions = random_positions(count, size, seed)
            for start in range(0, size, 4096):
                yield self.records_at(positions[start:start + 4096], with_payload)
        elif self.draws_at_random and 2 * size <= count:
            yield from self._draws(size, count, with_payload, seed, read_whole)
        elif read_whole or 2 * size > count:
            yield from self._thinned(size, count, with_payload, seed)
        else:
            raise NotImplementedError(f"{type(self).__name__} can neither read records at given positions nor draw "
                                      "them at random")

    def _draws(self, size: int, count: int, with_payload: bool, seed: int | None = 0,
               read_whole: bool = True) -> Iterator[VectorBatch]:
        """Random draws until ``size`` distinct records are out; ``size`` is at most half the collection, so each draw
        brings at least half new records (three draws with nothing new in a row end it: a collection emptied while it
        is read). A store that refuses to draw (an old server) is read whole instead (:meth:`_thinned`), unless not
        ``read_whole`` (its NotImplementedError raised)."""
        seen: set = set()
        left, fruitless = size, 0
        try:
            batch = self.random_batch(min(4096, 2 * size), with_payload=with_payload, seed=seed)
        except NotImplementedError as error:
            if not read_whole:
                raise
            logger.warning("%s; reading the whole collection for a sample of %d records instead", error, size)
            yield from self._thinned(size, count, with_payload, seed)
            return
        draws = 1
        while True:
            new = [r for r, i in enumerate(batch.ids) if i not in seen][:left]
            fruitless = 0 if new else fruitless + 1
            if new:
                seen.update(batch.ids[r] for r in new)
                left -= len(new)
                yield batch.select(new)
            if left <= 0 or fruitless >= 3:
                return
            batch = self.random_batch(min(4096, max(64, 2 * left)), with_payload=with_payload,
                                      seed=None if seed is None else seed + draws)
            draws += 1

    def _thinned(self, size: int, count: int, with_payload: bool, seed: int | None = 0) -> Iterator[VectorBatch]:
        """The whole collection read in order, keeping the records at ``size`` positions drawn at random (seeded: the
        same sample each time of an unchanged collection)."""
        keep = np.zeros(count, dtype=bool)
        keep[random_positions(count, size, seed)] = True
        offset = 0
        for batch in self.iter_batches(batch_size=4096, with_payload=with_payload):
            rows = np.flatnonzero(keep[offset:offset + len(batch)])
            offset += len(batch)
            if len(rows):
                yield batch.select(rows)
            if offset >= count:
                break

    def fetch(self, ids: Sequence[PointId]) -> list[tuple[dict[str, Any] | None, str | None]]:
        """The metadata and document of each of ``ids`` ((None, None) where the store holds no such record), for the
        few records a search returns. This fallback reads the store until it has seen them all; stores override it
        with a lookup by id."""
        found: dict[PointId, tuple[dict[str, Any] | None, str | None]] = {}
        missing = set(ids)
        pages = iter(self.iter_batches(batch_size=4096))
        for batch in pages:
            for i, meta, doc in zip(batch.ids, batch.metadata, batch.documents):
                if i in missing:
                    found[i] = (meta, doc)
                    missing.discard(i)
            if not missing:
                break
        getattr(pages, "close", lambda: None)()
        return [found.get(i, (None, None)) for i in ids]

    # Keys: how a store itself names its records (Chroma: the id as a string; Qdrant: the point id, an int or a
    # UUID), one per record, listed without reading payloads, where the record ids v2v restores (an int id kept in
    # Chroma metadata, a string id in a Qdrant payload) need those. A latent cache compares them to find the records
    # added and removed since it was built. Here, in the fallbacks, a key is the record id.

    def id_key(self, record_id: PointId) -> Any:
        """The key of the record with id ``record_id``."""
        return record_id

    def iter_keys(self, batch_size: int = 4096) -> Iterator[list[Any]]:
        """Every record's key, a page at a time (this fallback reads the vectors too; Chroma and Qdrant read the keys
        alone)."""
        for batch in self.iter_batches(batch_size=batch_size, with_payload=False):
            yield [self.id_key(i) for i in batch.ids]

    def records_of_keys(self, keys: Sequence[Any], with_payload: bool = True) -> Iterator[VectorBatch]:
        """The records of ``keys`` (distinct) the collection holds, vectors included, in batches, in any order. This
        fallback reads the whole collection; Chroma and Qdrant look them up."""
        wanted = set(keys)
        for batch in self.iter_batches(batch_size=4096, with_payload=with_payload):
            keep = [r for r, i in enumerate(batch.ids) if self.id_key(i) in wanted]
            if keep:
                yield batch.select(keep)

    def holds(self, ids: Sequence[PointId]) -> np.ndarray:
        """Whether the collection holds a record of each of ``ids`` (one bool per id; for a named vector: a point
        that has it), for ``--on-exists fill`` batch by batch without reading the whole collection. This fallback
        reads the collection's ids once, at the first call, and answers as of then; stores override it with a lookup
        by id."""
        if getattr(self, "_ids_at_first_call", None) is None:
            held: set = set()
            if self.exists():
                for batch in self.iter_batches(batch_size=4096, with_payload=False):
                    held.update(batch.ids)
            self._ids_at_first_call = held
        return np.array([i in self._ids_at_first_call for i in ids], dtype=bool)

    @abstractmethod
    def upsert(self, batch: VectorBatch) -> None:
        """Insert or overwrite records by id; validates the whole batch before writing."""

    @abstractmethod
    def search(self, queries: np.ndarray, k: int, where: Where | None = None
               ) -> tuple[np.ndarray, list[list[PointId]]]:
        """Top-k by the store's metric among the records whose metadata meets ``where`` (all: None). Scores are
        higher-is-better: cosine, dot, or -squared L2."""

    def search_where(self, queries: np.ndarray, k: int, where: Where) -> tuple[np.ndarray, list[list[PointId]]]:
        """Exact top-k among the records whose metadata meets ``where``, scored here in one read of the collection: for
        stores whose index cannot filter exactly (FAISS's IVF and HNSW; Chroma's HNSW returned 1 of 3 matching records
        to a query asking for 10, here)."""
        queries = check_vectors(queries, self.dim, "queries")
        kept: list[PointId] = []

        def blocks() -> Iterator[tuple[np.ndarray, np.ndarray]]:
            for batch in self.records_where(where):
                at = np.arange(len(kept), len(kept) + len(batch))
                kept.extend(batch.ids)
                yield batch.vectors, at

        best, best_at = exact_top_k(queries, blocks(), k, self.metric)
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        scores[:, : best.shape[1]] = best
        return scores, [[kept[j] for j in row] for row in best_at.tolist()]

    def records_where(self, where: Where) -> Iterator[VectorBatch]:
        """The records whose metadata meets ``where``, in batches: here those kept of a read of the collection (Chroma
        looks up the ids :meth:`ids_where` finds)."""
        for batch in self.iter_batches(4096):
            rows = where.rows(batch.metadata)
            if rows:
                yield batch.select(rows)

    def count_where(self, where: Where) -> int | None:
        """How many records meet ``where``, where the store's engine filters (then :meth:`filtered_batches` reads only
        those); None where each record must be read and tested (here)."""
        return None

    def filtered_batches(self, where: Where, batch_size: int = 1024, start: Any = None, with_payload: bool = True
                         ) -> Iterator[VectorBatch]:
        """The records whose metadata meets ``where``, page by page as :meth:`iter_batches` gives them (positions
        alike): here each page read and tested; a store whose engine filters (:meth:`count_where`) reads only them."""
        for batch in self.iter_batches(batch_size, start, with_payload=True):
            yield batch.select(where.rows(batch.metadata), keep_position=True)

    def ids_where(self, where: Where) -> list[PointId]:
        """The ids of the records whose metadata meets ``where`` (a store whose engine filters overrides this to filter
        there)."""
        return self.ids_where_each([where])[0]

    def ids_where_each(self, wheres: Sequence[Where]) -> list[list[PointId]]:
        """:meth:`ids_where` of each of ``wheres``: here all tested in one read of the collection, page by page (a
        store whose engine filters asks it for each)."""
        found: list[list[PointId]] = [[] for _ in wheres]
        for batch in self.iter_batches(4096):
            for kept, where in zip(found, wheres):
                kept.extend(batch.ids[r] for r in where.rows(batch.metadata))
        return found

    def check_writable(self) -> None:
        """Raise when records cannot be added to this existing collection (checked before a job writes anything)."""

    def held_ids_it_cannot_overwrite(self, ids: Sequence[PointId]) -> list[PointId]:
        """Those of ``ids`` this collection holds and cannot overwrite; writing one would fail (checked before a job
        writes anything). Most stores overwrite any id: none."""
        return []

    @property
    def overwrites_ids(self) -> bool:
        """Whether writing an id the collection holds replaces that record (False: see
        :meth:`held_ids_it_cannot_overwrite`)."""
        return True

    def delete(self, ids: Sequence[PointId]) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not support delete")

    def settings(self) -> dict[str, Any]:
        """What a new collection of this backend should copy from this one to be set up like it: index and
        quantisation parameters, payload indexes, collection metadata (in the backend's own terms; never the vectors'
        size, metric or records). {} where the backend keeps nothing to carry (a new FAISS index is always an IDMap2
        over a flat index)."""
        return {}

    # the settings the first upsert creates the collection with (create_like); stores that carry none ignore it
    _like: dict[str, Any] = {}

    def create_like(self, settings: dict[str, Any]) -> list[str]:
        """When this collection does not exist yet, have the first upsert create it with ``settings`` (another
        collection's :meth:`settings` of the same backend) besides its own size and metric. Returns one phrase per
        setting carried (:meth:`describe_settings`), for a migration's plan."""
        self._like = dict(settings)
        return self.describe_settings(self._like)

    def describe_settings(self, settings: dict[str, Any]) -> list[str]:
        """One phrase per setting of ``settings`` this store creates a collection with; none where it carries none."""
        return []

    def training_sample_size(self, records: int) -> int:
        """How many records (as they will be written) this collection, not created yet, must be trained on before its
        first upsert (:meth:`train_on`), for a copy of ``records`` records; 0 where it needs none (all but a FAISS
        index built with IVF lists or PQ / SQ codes)."""
        return 0

    def build_seconds(self, records: int, recreated: bool = False) -> tuple[float, float]:
        """Estimated seconds this collection's index spends on ``records`` more records beyond writing them, for a
        migration's plan: (training it, where it is not created yet, or will be ``recreated`` with its own settings,
        and must be trained; adding them: encoding, graph insertions). (0, 0) where that is negligible or not known
        (all but a structured FAISS index)."""
        return 0.0, 0.0

    def train_on(self, vectors: np.ndarray) -> None:
        """Create this collection, trained on ``vectors`` (:meth:`training_sample_size` of them); nothing is added."""
        raise NotImplementedError(f"{type(self).__name__} needs no training")

    def other_vectors(self) -> list[str]:
        """The other vectors this collection's points carry besides the one read (Qdrant named and sparse vectors, as
        ``NAME (dense, D-d)`` / ``NAME (sparse)``): a copy of its records keeps them only in a collection of the same
        :attr:`point_layout` that has them too (:meth:`takes_other_vectors`)."""
        return []

    def other_vector_configs(self) -> dict[str, dict[str, Any]]:
        """The other vectors' parameters by name, in the backend's terms (what a new collection needs to hold them
        as they are); {} where the points carry none."""
        return {}

    # stores whose points are laid out alike (several named dense and sparse vectors a point: Qdrant collections and
    # edge shards) take each other's other vectors; None where a record is one vector
    point_layout: str | None = None

    def layout_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Of this collection's :meth:`settings`, those a new collection of another backend of the same
        :attr:`point_layout` is created with: the point's layout (its other vectors' portable parameters, this
        vector's name), none of the backend's own tuning. {} where a record is one vector."""
        return {}

    # the other vectors (by name) that reads of whole records (with their payloads) carry in VectorBatch.other_vectors:
    # set by a migration to those its destination keeps; none by default (reading them costs)
    read_other_vectors: tuple[str, ...] = ()
    # set by a sync (``v2v migrate --on-exists sync``): where a write sets this vector on points that exist (Qdrant
    # points that carry other vectors too), their payload is written over with the record's as well (the translation
    # marks of their other vectors kept), not kept as it was
    rewrites_held_payloads: bool = False

    def count_without_vector(self) -> int:
        """The points that hold other vectors only, not the one this store reads (Qdrant, whose points may carry
        several): neither counted by :meth:`count` nor read by :meth:`iter_batches`. 0 where a record is one vector."""
        return 0

    def iter_points_without_vector(self, batch_size: int = 1024, start: Any = None) -> Iterator[VectorBatch]:
        """Those points (:meth:`count_without_vector`), as whole records: payload, and the other vectors asked for
        (:attr:`read_other_vectors`) in :attr:`VectorBatch.other_vectors`; each with an empty vector (shape (n, 0)).
        Pages and positions as :meth:`iter_batches`'s."""
        return iter(())

    def write_points_without_vector(self, batch: VectorBatch, keep_held: bool = False) -> VectorBatch:
        """Write ``batch``'s records (read by another collection's :meth:`iter_points_without_vector`) as points
        without this store's vector: their payload and the other vectors this collection has, by their ids (a point
        of the same id is overwritten, or with ``keep_held`` kept as it is: whatever vectors it has). Returns the
        records written."""
        raise NotImplementedError(f"{type(self).__name__} holds one vector a record")

    def takes_other_vectors(self, configs: dict[str, dict[str, Any]]) -> list[str]:
        """Of another collection's other vectors (``configs``: its :meth:`other_vector_configs`), the names this one
        keeps as they are when records carrying them are written: the ones it has with the same parameters, or, not
        created yet, the ones it will be created with (:meth:`create_like`). None where the backend stores one
        vector a record."""
        return []

    def _others_read(self, with_payload: bool) -> tuple[str, ...]:
        """The other vectors a read of whole records (with their payloads) carries: those asked for that exist."""
        configs = self.other_vector_configs() if self.read_other_vectors and with_payload else {}
        return tuple(name for name in self.read_other_vectors if name in configs)

    def left_behind(self) -> list[str]:
        """What a migration of this collection into another one does not carry of a store's own extras (Chroma: its
        embedding function), one phrase each with how to keep it (for the plan and a warning); the points' other
        vectors are :func:`other_vectors_left_behind`'s, the points without this vector
        :func:`points_without_vector_left_behind`'s."""
        return []

    @abstractmethod
    def drop(self, other_vectors_too: bool = False) -> None:
        """Delete the whole collection (used by ``--on-exists replace``); the next upsert recreates it. Where its
        points carry other vectors too (Qdrant), this vector alone is removed from every point, unless
        ``other_vectors_too`` (the points' other vectors all came with the records being written again)."""

    def version(self) -> str | None:
        """A token that differs whenever the records this store reads could differ: its files' sizes and modification
        times, taken when it was opened (FAISS, .npy), or None where the store cannot tell without reading its records
        (Chroma, Qdrant) or holds writes of its own."""
        return None

    def warnings(self) -> list[str]:
        """Known caveats about the data this store gives back (lossy index, ...)."""
        return []

    def flush(self) -> None:
        """Make every write so far durable."""

    def close(self) -> None:
        self.flush()

    def __enter__(self) -> "VectorStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r})"


def other_vectors_left_behind(others: list[str], kept: Sequence[str] = ()) -> list[str]:
    """The phrase of a migration's plan for the source points' other vectors (:meth:`VectorStore.other_vectors`:
    ``NAME (KIND...)`` each) that its destination does not keep (``kept``: their names)."""
    others = [o for o in others if o.rsplit(" (", 1)[0] not in kept]
    return [f"its points' other vectors {', '.join(others)} (the destination holds one vector a record; a new Qdrant "
            "collection or edge shard set up like the source keeps them as they are, and so does another named vector "
            "of the same collection: ?vector=NAME)"] if others else []


def points_without_vector_left_behind(points: int, vector_name: str | None) -> list[str]:
    """The plan's phrase for a source's ``points`` that have other vectors only, not the one migrated
    (:meth:`VectorStore.count_without_vector`), where its destination does not take them."""
    return [f"its {points:,} point{'s' if points != 1 else ''} without a {vector_name or '(unnamed)'!r} vector (other "
            "vectors only: never embedded by the old model; a new Qdrant collection or edge shard set up like the "
            "source keeps them with their other vectors and payload, where they still lack this one: embed their "
            "documents with the new model)"] if points else []


def random_positions(count: int, size: int, seed: int | None = 0) -> np.ndarray:
    """``size`` distinct positions in 0..count-1 drawn at random, sorted; seeded (the same each time), or with
    ``seed=None`` fresh each call."""
    return np.sort(np.random.default_rng(seed).choice(count, size, replace=False))


def file_version(*paths: str) -> str:
    """The size and modification time (ns) of each of ``paths`` (absent: "-"): a token that changes when one of
    them is written or replaced."""
    stats = [os.stat(p) if os.path.exists(p) else None for p in paths]
    return ";".join("-" if st is None else f"{st.st_size}:{st.st_mtime_ns}" for st in stats)


def past_int64(point_id: PointId) -> bool:
    """An int id no int64 holds (Qdrant's ids reach 2**64 - 1; Python's ints have no end)."""
    return isinstance(point_id, int) and not -2**63 <= point_id < 2**63


def kept_id(point_id: PointId) -> Any:
    """What a store keeps under ``ORIGINAL_ID_KEY`` for a record's id: the id itself, or for an int past int64 (which
    a JSON payload's numbers or Chroma's metadata would turn into a float) ``{"int": "its digits"}``."""
    return {"int": str(point_id)} if past_int64(point_id) else point_id


def restore_id(native_id: PointId, metadata: dict[str, Any] | None) -> tuple[PointId, dict[str, Any] | None]:
    """Undo the id mapping a store applied on write (see ``ORIGINAL_ID_KEY`` and :func:`kept_id`)."""
    if metadata and ORIGINAL_ID_KEY in metadata:
        metadata = dict(metadata)
        original = metadata.pop(ORIGINAL_ID_KEY)
        if isinstance(original, dict) and isinstance(original.get("int"), str):
            original = int(original["int"])
        return original, (metadata or None)
    return native_id, metadata


def scores_from_distances(distances: np.ndarray, metric: Metric) -> np.ndarray:
    """Convert 'lower is better' distances of a store to higher-is-better scores."""
    return -distances if metric == Metric.L2 else distances
