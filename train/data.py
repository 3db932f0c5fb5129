"""Training inputs from any store URI or array: a bounded uniform sample, streamed, no pairs needed."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

import numpy as np

from v2v_store.connectors import open_store
from v2v_store.errors import InvalidVectorsError, StoreNotFoundError
from v2v_store.inspect import documents_hint

logger = logging.getLogger(__name__)


@dataclass
class CollectionSample:
    """A uniform sample of a collection's vectors, and of its records that carry a document (their text).

    ``document_vectors[i]`` is the stored vector of ``documents[i]``: where the text is the one its vector embeds,
    another model's embedding of it is a true pair of the two spaces (:func:`v2v_store.anchors.document_pairs`)."""

    vectors: np.ndarray
    document_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    documents: list[str] = field(default_factory=list)
    count: int = 0  # records read


class _Reservoir:
    """A uniform sample of up to ``size`` rows of a stream (Algorithm R), taken a batch at a time with numpy: the row
    at stream position p >= ``size`` replaces slot ``rng.integers(p + 1)`` if that is below ``size``, drawn exactly as
    one scalar draw per row would (so the sample does not depend on the batch size)."""

    def __init__(self, size: int, dim: int, rng: np.random.Generator):
        self.rows = np.empty((size, dim), dtype=np.float32)
        self.size, self.seen, self.rng = size, 0, rng

    def offer(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Take a batch; returns (slot, row of the batch) for each row kept, the last one where two share a slot."""
        position = np.arange(self.seen, self.seen + len(rows))
        self.seen += len(rows)
        slot = position.copy()
        late = position >= self.size
        if late.any():
            slot[late] = self.rng.integers(position[late] + 1)
        kept = np.flatnonzero(slot < self.size)[::-1]  # newest first: np.unique keeps the first of each slot
        slots, first = np.unique(slot[kept], return_index=True)
        taken = kept[first]
        self.rows[slots] = rows[taken]
        return slots, taken

    @property
    def sample(self) -> np.ndarray:
        return self.rows[:min(self.seen, self.size)]


def sample_collection(uri: str, max_vectors: int = 50_000, seed: int = 0, documents: int = 0,
                      batch_size: int = 4096, min_vectors: int = 100) -> CollectionSample:
    """Reservoir-sample up to ``max_vectors`` vectors of a store and, in the same pass, up to ``documents`` of its
    records that carry a non-empty document (memory bounded by the samples). Fewer than ``min_vectors`` (too few to
    learn a translator from) is an error."""
    with open_store(uri) as store:
        if not store.exists():
            raise StoreNotFoundError(f"{uri} does not exist: check the path and collection name")
        if not store.count():
            raise InvalidVectorsError(f"{uri} is empty: a translator is learned from a collection's vectors (a few "
                                      "thousand at least); check the collection name")
        vectors = _Reservoir(max_vectors, store.dim, np.random.default_rng(seed))
        carrying = _Reservoir(documents, store.dim, np.random.default_rng([seed, 1]))
        texts: list[str] = [""] * documents
        first_metadata: list = []
        for batch in store.iter_batches(batch_size=batch_size):
            first_metadata = first_metadata or batch.metadata
            vectors.offer(batch.vectors)
            if documents:
                rows = np.flatnonzero([isinstance(t, str) and bool(t.strip()) for t in batch.documents])
                for slot, row in zip(*carrying.offer(batch.vectors[rows])):
                    texts[slot] = batch.documents[rows[row]]
    out, seen, seen_docs = vectors.sample, vectors.seen, carrying.seen
    doc_vectors, texts = carrying.sample, texts[:len(carrying.sample)]
    if not (np.isfinite(out).all() and np.isfinite(doc_vectors).all()):
        raise InvalidVectorsError(f"{uri} contains NaN/inf vectors: clean the collection before training")
    if len(out) < min_vectors:
        raise InvalidVectorsError(f"{uri} has only {len(out)} vectors: at least a few thousand are needed to learn a translator")
    logger.info("sampled %d of %d vectors from %s", len(out), seen, uri)
    if documents:
        logger.info("%s: %d of its records carry a document; %d sampled", uri, seen_docs, len(texts))
        hint = documents_hint(seen_docs, first_metadata)
        if hint:
            logger.warning("%s: %s", uri, hint)
    return CollectionSample(out, doc_vectors, texts, seen)


def sample_vectors(uri: str, max_vectors: int = 50_000, seed: int = 0, batch_size: int = 4096) -> np.ndarray:
    """Reservoir-sample up to ``max_vectors`` vectors of a store (memory bounded by the sample)."""
    return sample_collection(uri, max_vectors, seed, batch_size=batch_size).vectors


@dataclass
class SharedDocuments:
    """Records whose stored text is in both collections: the same document embedded by both models, a true pair that
    needs neither model (e.g. part of a collection already re-embedded). ``source[i]`` and ``target[i]`` embed one
    text; ``shared`` counts the distinct texts the two collections share (the pairs are a uniform sample of them)."""

    source: np.ndarray
    target: np.ndarray
    shared: int = 0

    @classmethod
    def none(cls) -> SharedDocuments:
        return cls(np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32))


def _text_key(text) -> bytes | None:
    if not isinstance(text, str) or not text.strip():
        return None
    return hashlib.blake2b(text.strip().encode("utf-8", "surrogatepass"), digest_size=16).digest()


def shared_document_pairs(source_uri: str, target_uri: str, most: int = 5000, seed: int = 0,
                          batch_size: int = 4096) -> SharedDocuments:
    """Pair the records of two collections that store the same text (after stripping whitespace), up to ``most``
    drawn uniformly, in three passes whose memory is a 16-byte key per distinct text of the target and the sample:
    the target's texts, the source's records that share one, the target's vectors of the chosen texts."""
    def texts_and_vectors(uri: str):
        with open_store(uri) as store:
            for batch in store.iter_batches(batch_size=batch_size):
                keys = [_text_key(t) for t in batch.documents]
                if any(k is not None for k in keys):
                    yield keys, batch.vectors

    target_keys = {k for keys, _ in texts_and_vectors(target_uri) for k in keys if k is not None}
    if not target_keys:
        return SharedDocuments.none()
    reservoir: _Reservoir | None = None
    chosen_keys: list[bytes] = [b""] * most
    offered: set[bytes] = set()  # one record per text
    for keys, vectors in texts_and_vectors(source_uri):
        rows = [r for r, k in enumerate(keys) if k in target_keys and k not in offered]
        offered.update(keys[r] for r in rows)
        if reservoir is None:
            reservoir = _Reservoir(most, vectors.shape[1], np.random.default_rng([seed, 2]))
        for slot, row in zip(*reservoir.offer(vectors[rows])):
            chosen_keys[slot] = keys[rows[row]]
    if reservoir is None or not reservoir.seen:
        return SharedDocuments.none()
    source = reservoir.sample
    slot_of = {k: s for s, k in enumerate(chosen_keys[:len(source)])}
    target = None
    for keys, vectors in texts_and_vectors(target_uri):
        if target is None:
            target, found = np.empty((len(source), vectors.shape[1]), np.float32), np.zeros(len(source), bool)
        for r, k in enumerate(keys):
            s = slot_of.get(k)
            if s is not None and not found[s]:
                target[s], found[s] = vectors[r], True
    if target is None:  # the target lost its texts between the passes
        return SharedDocuments.none()
    keep = np.flatnonzero(found)  # all, unless the target changed between the passes
    logger.info("%s and %s share the text of %d records: %d pairs drawn", source_uri, target_uri, reservoir.seen,
                len(keep))
    return SharedDocuments(source[keep], target[keep], reservoir.seen)


def shared_pairs(source_uri: str, target_uri: str, most: int = 5000, seed: int = 0) -> SharedDocuments:
    """The records two collections both hold, as pairs: for two named vectors of one Qdrant collection the points that
    have both (by id), else the records that store the same text (:func:`shared_document_pairs`)."""
    from v2v_store.connectors import same_points

    if same_points(source_uri, target_uri):
        from v2v_store.evaluate import records_shared_by_id

        source, target = records_shared_by_id(source_uri, target_uri, most)
        return SharedDocuments(source, target, len(source))
    return shared_document_pairs(source_uri, target_uri, most, seed)
