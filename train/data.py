"""Training inputs from any store URI or array: a bounded uniform sample, streamed, no pairs needed."""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from v2v_store.connectors import VectorBatch, Where, open_store, translations_in
from v2v_store.connectors.base import l2_normalize, no_embedding
from v2v_store.connectors.llama_index import embedded_text
from v2v_store.errors import InvalidVectorsError, StoreNotFoundError, naming_lost_connections
from v2v_store.inspect import documents_hint

logger = logging.getLogger(__name__)

KEY = np.dtype("V16")  # a 16-byte blake2b digest: sortable, and 16 bytes per record however long the text or id
KeyFn = Callable[[VectorBatch], "tuple[np.ndarray, np.ndarray]"]


@dataclass
class CollectionSample:
    """A uniform sample of a collection's vectors, and of its records that carry a document (their text).

    ``document_vectors[i]`` is the stored vector of ``documents[i]``: where the text is the one its vector embeds,
    another model's embedding of it is a true pair of the two spaces (:func:`v2v_store.anchors.document_pairs`)."""

    vectors: np.ndarray
    document_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    documents: list[str] = field(default_factory=list)
    count: int = 0  # records read
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, KEY))  # every record's key, distinct, sorted (``keys=``)


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


@naming_lost_connections()
def sample_collection(uri: str, max_vectors: int = 50_000, seed: int = 0, documents: int = 0,
                      batch_size: int = 4096, min_vectors: int = 100, keys: KeyFn | None = None,
                      matches: _Matches | None = None, where: Where | None = None) -> CollectionSample:
    """Reservoir-sample up to ``max_vectors`` vectors of a store and, in the same pass, up to ``documents`` of its
    records that carry a non-empty document (memory bounded by the samples). Fewer than ``min_vectors`` (too few to
    learn a translator from) is an error. In the same pass too: ``keys`` collects every record's key (16 bytes each:
    :func:`text_keys`, :func:`id_keys`) into the sample's ``keys``, ``matches`` is offered every page (the records
    another collection also holds). Records marked as holding a translation in the vector read (written by a migration
    into a collection that holds embeddings too: :data:`~v2v_store.connectors.TRANSLATED_KEY`) are left out: not that
    model's embeddings; so are records whose vector is NaN, infinite or all zero (no embedding). ``where``: only the
    records whose metadata meets it are sampled (a part of the collection: one tenant's, one language's; a Qdrant
    engine reads only those)."""
    translations = without = filtered = 0
    with open_store(uri) as store:
        if not store.exists():
            raise StoreNotFoundError(f"{uri} does not exist: {store.missing()}")
        if not store.count():
            raise InvalidVectorsError(f"{uri} is empty: a translator is learned from a collection's vectors (a few "
                                      "thousand at least); check the collection name")
        vectors = _Reservoir(max_vectors, store.dim, np.random.default_rng(seed))
        carrying = _Reservoir(documents, store.dim, np.random.default_rng([seed, 1]))
        texts: list[str] = [""] * documents
        first_metadata: list = []
        key_chunks = []
        counted = None if where is None else store.count_where(where)  # a Qdrant engine's: it reads only those
        if counted is not None:
            filtered = store.count() - counted
        pages = (store.iter_batches(batch_size=batch_size, with_payload=True) if counted is None  # the marks: payload
                 else store.filtered_batches(where, batch_size=batch_size))
        for batch in pages:
            if where is not None and counted is None:
                kept = where.rows(batch.metadata)
                filtered += len(batch) - len(kept)
                batch = batch.select(kept)
            marked = translations_in(batch, store.vector_name)
            missing = no_embedding(batch.vectors) & ~marked  # NaN, infinities, zeros: nothing to learn from
            translations += int(marked.sum())
            without += int(missing.sum())
            embedded = np.flatnonzero(~(marked | missing))
            batch = batch.select(embedded) if len(embedded) < len(batch) else batch
            first_metadata = first_metadata or batch.metadata
            vectors.offer(batch.vectors)
            if keys is not None:
                key_chunks.append(keys(batch)[1])
            if matches is not None:
                matches.offer(batch)
            if documents:
                rows = np.flatnonzero([isinstance(t, str) and bool(t.strip()) for t in batch.documents])
                for slot, row in zip(*carrying.offer(batch.vectors[rows])):  # as its vector embeds it
                    texts[slot] = embedded_text(batch.documents[rows[row]], batch.metadata[rows[row]])
    out, seen, seen_docs = vectors.sample, vectors.seen, carrying.seen
    doc_vectors, texts = carrying.sample, texts[:len(carrying.sample)]
    if without:
        logger.warning("%s: %d records whose vector is NaN, infinite or all zero (no embedding) are left out", uri,
                       without)
    left_out = (f" ({translations:,} more hold translations, marked by a migration beside embeddings or by a sync, and are left out)"
                if translations else "") + (f" ({without:,} more have no embedding: NaN, infinite or zero vectors)"
                                            if without else "") + (
        f" ({filtered:,} more do not meet {where})" if filtered else "")
    if len(out) < min_vectors:
        raise InvalidVectorsError(f"{uri} has only {len(out)} vectors{left_out}: at least a few thousand are needed to "
                                  "learn a translator")
    logger.info("sampled %d of %d vectors from %s%s", len(out), seen, uri, left_out)
    if documents:
        logger.info("%s: %d of its records carry a document; %d sampled", uri, seen_docs, len(texts))
        hint = documents_hint(seen_docs, first_metadata, store)
        if hint:
            logger.warning("%s: %s", uri, hint)
    return CollectionSample(out, doc_vectors, texts, seen,
                            np.unique(np.concatenate(key_chunks)) if key_chunks else np.zeros(0, KEY))


def distinct_rows(vectors: np.ndarray) -> np.ndarray:
    """Ascending indices of the first row of each group of rows that point the same way: their unit vectors' coordinates
    equal to two decimals (copies of one record, also when embedded in two batches and 1e-6 apart; two different
    texts' vectors, even at cosine 0.998, differ there). A translator learns the geometry of distinct vectors: a
    record stored N times is one point, not N (session 51: 1,000 vectors per side each stored twice passed the floor of
    vectors per dimension, and eight restarts "confirmed" a map of top-1 0.005)."""
    if not len(vectors):
        return np.arange(0)
    keys = np.rint(l2_normalize(vectors) * 100).astype(np.int8)  # coordinates of a unit vector: -100..100
    _, first = np.unique(keys.view(np.dtype((np.void, keys.shape[1]))).ravel(), return_index=True)
    return np.sort(first)


NEAR_DUPLICATE_COSINE = 0.9  # centred cosine at and above which two distinct vectors are near-copies of one record
NEAR_DUPLICATE_SHARE = 0.1  # by default near-copies count once only where they are at least this share of a side


def near_duplicate_threshold(vectors: np.ndarray, cosine: float | None = None) -> float:
    """The centred cosine at and above which :func:`near_duplicate_rows` calls two of ``vectors`` near-copies:
    ``cosine`` (default :data:`NEAR_DUPLICATE_COSINE`), or, when the collection spreads over few directions, the
    largest cosine two of as many independent Gaussian points of its covariance reach by chance,
    ``sqrt(4 ln n / d_eff)`` (``d_eff``: the participation ratio of its spectrum; a pair's cosine varies by
    ``1 / d_eff``). The kit's models spread over 58-137 effective dimensions: at 14,000 vectors chance is 0.53-0.61 on
    wiki and 0.81 for e5 on software messages (58 dimensions), so 0.9 holds; in 12 dimensions chance exceeds 1 and
    nothing is near."""
    return _near_threshold(_centred_units(vectors), cosine)


def _centred_units(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` less their mean, each scaled to unit length (float32)."""
    return l2_normalize(vectors - vectors.mean(0)).astype(np.float32) if len(vectors) else vectors


def _near_threshold(units: np.ndarray, cosine: float | None) -> float:
    """:func:`near_duplicate_threshold` of centred unit vectors."""
    cosine = NEAR_DUPLICATE_COSINE if cosine is None else cosine
    n = len(units)
    if n < 2 or cosine >= 1:
        return max(cosine, 1.0)
    spectrum = np.linalg.eigvalsh(np.cov(units.T.astype(np.float64)))
    d_eff = spectrum.sum() ** 2 / max(float((spectrum ** 2).sum()), 1e-30)
    return max(cosine, float(np.sqrt(4 * np.log(n) / d_eff)))


def near_duplicate_rows(vectors: np.ndarray, cosine: float | None = None, block: int = 1024) -> np.ndarray:
    """Ascending indices of the rows kept when each row whose centred unit vector comes within
    :func:`near_duplicate_threshold` (``cosine``, default 0.9, or the chance level of a collection in few directions)
    of an earlier kept row's is left out: one row for each group of near-copies (a templated page with another number
    or date, boilerplate with one word changed, overlapping chunks), which a translator must count as one point like
    exact copies (:func:`distinct_rows`). Each row is compared with the earlier kept rows only (no chains: a row two
    near steps from a kept one stays).

    Session 52 (``benchmarks/probes/near_duplicates.py``, kit wiki, MiniLM -> e5, 6,000 texts per side): a text's
    edited versions sit at centred cosine median 0.98 (MiniLM) / 0.94 (e5) to it, 1st percentile 0.79 / 0.62; distinct
    texts' nearest neighbours at median 0.54 / 0.48. With 5% of the texts stored with nine versions each, every
    restart failed (top-1 0.0 / 0.008, refused, seeds 0 / 1); counted once at 0.9, 0.913 / 0.901 (at 0.8, 0.927 /
    0.903). 0.9 rather than 0.8 because 0.8 also leaves out near-paraphrases that are distinct texts (0.4-2.3% of the
    kit's wiki vectors, 10-13% of software messages; 0.03-0.2% and 3-5% at 0.9), which cost French messages 0.013 /
    0.019 top-1 through `v2v fit` (0.9: 0.001 / 0.005). The price: where *every* text has a version, e5 draws versions
    further apart than MiniLM, at 0.9 MiniLM left out nearly all of them and e5 78%, and that imbalance cost top-1
    (0.826 / 0.854 against 0.896 / 0.913 with all kept; 0.8: 0.906 / 0.908)."""
    n = len(vectors)
    if n < 2 or (cosine is not None and cosine >= 1):
        return np.arange(n)
    units = _centred_units(vectors)
    cosine = _near_threshold(units, cosine)
    if cosine >= 1:
        return np.arange(n)
    kept_units, n_kept, kept = np.empty_like(units), 0, []
    for start in range(0, n, block):
        rows = units[start:start + block]
        alive = np.ones(len(rows), bool)
        for k in range(0, n_kept, 8 * block):  # near an earlier kept row
            alive &= ~(rows @ kept_units[k:min(n_kept, k + 8 * block)].T >= cosine).any(1)
        close = np.triu(rows @ rows.T >= cosine, 1)  # near an earlier row of this block: left out if that one is kept
        for i in np.flatnonzero(close.any(1)):
            if alive[i]:
                alive[i + 1:] &= ~close[i, i + 1:]
        keep = np.flatnonzero(alive)
        kept_units[n_kept:n_kept + len(keep)] = rows[keep]
        n_kept += len(keep)
        kept.append(start + keep)
    return np.concatenate(kept)


@naming_lost_connections()
def sample_vectors(uri: str, max_vectors: int = 50_000, seed: int = 0, batch_size: int = 4096) -> np.ndarray:
    """Reservoir-sample up to ``max_vectors`` vectors of a store (memory bounded by the sample)."""
    return sample_collection(uri, max_vectors, seed, batch_size=batch_size).vectors


@dataclass
class SharedDocuments:
    """Records both collections hold: the same document embedded by both models, a true pair that needs neither model
    (e.g. part of a collection already re-embedded), found by the text both store or, for two named vectors of one
    Qdrant collection, by point id. ``source[i]`` and ``target[i]`` embed one document; ``shared`` counts the distinct
    texts (ids) the two collections share (the pairs are a uniform sample of them)."""

    source: np.ndarray
    target: np.ndarray
    shared: int = 0

    @classmethod
    def none(cls) -> SharedDocuments:
        return cls(np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32))


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _keys(digests: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(digests), dtype=KEY) if digests else np.zeros(0, KEY)


def text_key(text: str) -> str:
    """What makes two stored texts the same: runs of whitespace are one space, none at the ends, and Unicode in its
    composed form (NFC), so a chunker's line breaks or an accent stored decomposed do not part a pair. Case and
    punctuation count (cased models embed them)."""
    return unicodedata.normalize("NFC", " ".join(text.split()))


def text_keys(batch: VectorBatch) -> tuple[np.ndarray, np.ndarray]:
    """(rows, keys) of a page's records that store a non-empty text, keyed by :func:`text_key`."""
    rows = [r for r, t in enumerate(batch.documents) if isinstance(t, str) and t.strip()]
    return np.asarray(rows, dtype=np.int64), _keys([_digest(text_key(batch.documents[r])) for r in rows])


def id_keys(batch: VectorBatch) -> tuple[np.ndarray, np.ndarray]:
    """(rows, keys) of all of a page's records, keyed by id as a string (a FAISS id 7 and a Chroma id "7" are one)."""
    return np.arange(len(batch.ids)), _keys([_digest(str(i)) for i in batch.ids])


def untranslated(key_of: KeyFn, vectors: Sequence[str]) -> KeyFn:
    """``key_of`` of a page's records but those marked as holding a translation in one of ``vectors``
    (:func:`~v2v_store.connectors.holds_translation`: written by a migration beside embeddings): no true pair."""
    from v2v_store.connectors import holds_translation

    def keys(batch: VectorBatch) -> tuple[np.ndarray, np.ndarray]:
        rows, found = key_of(batch)
        keep = np.asarray([not holds_translation(batch.metadata[r], vectors) for r in rows], dtype=bool)
        return rows[keep], found[keep]

    keys.reads_payload, keys.what = True, _what(key_of)  # type: ignore[attr-defined]
    return keys


def _what(key_of: KeyFn) -> str:
    """What records are paired by under ``key_of``: "text" or "ids" (for log lines)."""
    return getattr(key_of, "what", "text" if key_of is text_keys else "ids")


def _reads_text(*key_fns: KeyFn | None) -> bool:
    """Whether any of these keys needs the records' payload (documents, marks; else a store may skip reading it)."""
    return any(k is text_keys or getattr(k, "reads_payload", False) for k in key_fns)


def _lookup(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in ``sorted_keys``, whether there) of each of ``keys``."""
    if not len(sorted_keys):
        return np.zeros(len(keys), np.int64), np.zeros(len(keys), bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return at, sorted_keys[at] == keys


class _Matches:
    """A uniform sample of up to ``most`` records of a stream whose key is among ``keys`` (sorted, distinct), one
    record per key (the first met), with the keys drawn. Memory: one byte per key plus the sample."""

    def __init__(self, keys: np.ndarray, most: int, rng: np.random.Generator, key_of: KeyFn):
        self.keys, self.most, self.rng, self.key_of = keys, most, rng, key_of
        self.met = np.zeros(len(keys), bool)
        self.reservoir: _Reservoir | None = None
        self.drawn = np.zeros(most, KEY)

    def offer(self, batch: VectorBatch) -> None:
        rows, keys = self.key_of(batch)
        at, there = _lookup(self.keys, keys)
        at, first = np.unique(at[there], return_index=True)  # one record per key in the page, in page order below
        fresh = ~self.met[at]
        at, first = at[fresh], first[fresh]
        if not len(at):
            return
        order = np.argsort(first)
        at, rows = at[order], rows[there][first[order]]
        self.met[at] = True
        if self.reservoir is None:
            self.reservoir = _Reservoir(self.most, batch.vectors.shape[1], self.rng)
        slots, taken = self.reservoir.offer(batch.vectors[rows])
        self.drawn[slots] = self.keys[at[taken]]

    @property
    def seen(self) -> int:
        return 0 if self.reservoir is None else self.reservoir.seen

    @property
    def vectors(self) -> np.ndarray:
        return self.reservoir.sample

    @property
    def drawn_keys(self) -> np.ndarray:
        return self.drawn[:len(self.vectors)]


def _vectors_of(uri: str, keys: np.ndarray, key_of: KeyFn, batch_size: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """The vectors of the records of ``uri`` with these keys (the first record met for each), and which were found;
    stops reading once all are."""
    order = np.argsort(keys)
    sorted_keys, found = keys[order], np.zeros(len(keys), bool)
    out = None
    with open_store(uri) as store:
        pages = store.iter_batches(batch_size=batch_size, with_payload=_reads_text(key_of))
        for batch in pages:
            rows, batch_keys = key_of(batch)
            at, there = _lookup(sorted_keys, batch_keys)
            if out is None:
                out = np.zeros((len(keys), batch.vectors.shape[1]), np.float32)
            for row, slot in zip(rows[there], order[at[there]]):
                if not found[slot]:
                    out[slot], found[slot] = batch.vectors[row], True
            if found.all():
                getattr(pages, "close", lambda: None)()  # the reader, before the store closes
                break
    return (out if out is not None else np.zeros((len(keys), 0), np.float32)), found


def _pairs(matches: _Matches, held_uri: str, matches_are_source: bool, what: str, uris: tuple[str, str]
           ) -> SharedDocuments:
    """The pairs of ``matches`` (records of one collection) with the records of the same keys in ``held_uri``."""
    if not matches.seen:
        return SharedDocuments.none()
    other, found = _vectors_of(held_uri, matches.drawn_keys, matches.key_of)
    mine, other = matches.vectors[found], other[found]  # all, unless the collection changed between the passes
    logger.info("%s and %s share the %s of %d records: %d pairs drawn", *uris, what, matches.seen, len(mine))
    source, target = (mine, other) if matches_are_source else (other, mine)
    return SharedDocuments(source, target, matches.seen)


def _count(uri: str) -> int:
    with open_store(uri) as store:
        return store.count() if store.exists() else 0


@naming_lost_connections()
def records_both_hold(source_uri: str, target_uri: str, key_of: KeyFn = text_keys, most: int = 5000, seed: int = 0,
                      batch_size: int = 4096, wheres: tuple[Where | None, Where | None] = (None, None)
                      ) -> SharedDocuments:
    """Pair the records of two collections with the same key (:func:`text_keys`, :func:`id_keys`), up to ``most``
    drawn uniformly, in three passes: the smaller collection's keys, the larger's records that share one (sampled),
    the smaller's vectors of the keys drawn (stopping once all are found). Memory: 16 bytes per record of the smaller
    collection and the sample; nothing else is kept whole. ``wheres``: each collection's filter (None: all its
    records); only the records they keep pair."""
    for uri in (source_uri, target_uri):
        with open_store(uri) as store:
            if not store.exists():
                raise StoreNotFoundError(f"{uri} does not exist: {store.missing()}")
    source_small = _count(source_uri) <= _count(target_uri)
    small, large = (source_uri, target_uri) if source_small else (target_uri, source_uri)
    small_where, large_where = wheres if source_small else wheres[::-1]
    chunks = []
    with open_store(small) as store:
        for batch in store.iter_batches(batch_size=batch_size,
                                        with_payload=_reads_text(key_of) or small_where is not None):
            if small_where is not None:
                batch = batch.select(small_where.rows(batch.metadata))
            chunks.append(key_of(batch)[1])
    keys = np.unique(np.concatenate(chunks)) if chunks else np.zeros(0, KEY)
    if not len(keys):
        return SharedDocuments.none()
    matches = _Matches(keys, most, np.random.default_rng([seed, 2]), key_of)
    with open_store(large) as store:
        for batch in store.iter_batches(batch_size=batch_size,
                                        with_payload=_reads_text(key_of) or large_where is not None):
            matches.offer(batch if large_where is None else batch.select(large_where.rows(batch.metadata)))
    what = _what(key_of)
    return _pairs(matches, small, large == source_uri, what, (source_uri, target_uri))


@naming_lost_connections()
def shared_document_pairs(source_uri: str, target_uri: str, most: int = 5000, seed: int = 0,
                          batch_size: int = 4096, wheres: tuple[Where | None, Where | None] = (None, None)
                          ) -> SharedDocuments:
    """Pair the records of two collections that store the same text (:func:`text_key`; ids play no part),
    up to ``most`` drawn uniformly (:func:`records_both_hold`, of the records ``wheres`` keep), but those marked as
    translations (:func:`untranslated_keys_of`)."""
    return records_both_hold(source_uri, target_uri, untranslated_keys_of(source_uri, target_uri, text_keys), most,
                             seed, batch_size, wheres)


@naming_lost_connections()
def untranslated_keys_of(source_uri: str, target_uri: str, key_of: KeyFn = id_keys) -> KeyFn:
    """``key_of`` (by id, or :func:`text_keys`) for the records two collections share: those marked as holding a
    translation in the vector either reads (its name, "" for a store's one vector) are left out."""
    names = []
    for uri in (source_uri, target_uri):
        with open_store(uri) as store:
            names.append(store.vector_name or "")
    return untranslated(key_of, names)


@naming_lost_connections()
def same_point_keys(source_uri: str, target_uri: str) -> KeyFn | None:
    """For two named vectors of one Qdrant collection, the keys of the points that have both and hold no translation
    in either (:func:`untranslated_keys_of`), else None."""
    from v2v_store.connectors import same_points

    return untranslated_keys_of(source_uri, target_uri) if same_points(source_uri, target_uri) else None


@naming_lost_connections()
def sample_collections(source_uri: str, target_uri: str, max_vectors: int = 50_000, seed: int = 0,
                       documents: int = 0, shared: int = 0, wheres: tuple[Where | None, Where | None] = (None, None)
                       ) -> tuple[CollectionSample, CollectionSample, SharedDocuments]:
    """What ``v2v fit`` reads of its two collections, in as few passes as it can: each one's sample
    (:func:`sample_collection`, seeds ``seed`` and ``seed + 1``) and up to ``shared`` pairs of the records both hold
    (for two named vectors of one Qdrant collection the points that have both, else the records that store the same
    text). The smaller collection's keys are collected while it is sampled and its records drawn from while the larger
    is, so the pairs cost one more pass over the smaller one (none when nothing is shared): three passes in all, where
    sampling and :func:`records_both_hold` apart take five. The same samples and pairs either way. ``wheres``: each
    collection's filter (None: all its records), which its sample and pairs keep to."""
    key_of = same_point_keys(source_uri, target_uri) or text_keys
    source_first = _count(source_uri) <= _count(target_uri)
    first, second = (source_uri, target_uri) if source_first else (target_uri, source_uri)
    seeds = (seed, seed + 1) if source_first else (seed + 1, seed)
    first_where, second_where = wheres if source_first else wheres[::-1]
    a = sample_collection(first, max_vectors, seeds[0], documents=documents, keys=key_of if shared else None,
                          where=first_where)
    matches = _Matches(a.keys, shared, np.random.default_rng([seed, 2]), key_of) if shared and len(a.keys) else None
    b = sample_collection(second, max_vectors, seeds[1], documents=documents, matches=matches, where=second_where)
    pairs = (_pairs(matches, first, not source_first, _what(key_of),
                    (source_uri, target_uri)) if matches is not None else SharedDocuments.none())
    return (a, b, pairs) if source_first else (b, a, pairs)
