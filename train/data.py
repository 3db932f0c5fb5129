"""Training inputs from any store URI or array: a bounded uniform sample, streamed, no pairs needed."""

from __future__ import annotations

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


def sample_collection(uri: str, max_vectors: int = 50_000, seed: int = 0, documents: int = 0,
                      batch_size: int = 4096) -> CollectionSample:
    """Reservoir-sample up to ``max_vectors`` vectors of a store and, in the same pass, up to ``documents`` of its
    records that carry a non-empty document (memory bounded by the samples)."""
    rng, doc_rng = np.random.default_rng(seed), np.random.default_rng([seed, 1])
    with open_store(uri) as store:
        if not store.exists():
            raise StoreNotFoundError(f"{uri} does not exist: check the path and collection name")
        reservoir = np.empty((max_vectors, store.dim), dtype=np.float32)
        doc_vectors = np.empty((documents, store.dim), dtype=np.float32)
        texts: list[str] = []
        seen = seen_docs = 0
        first_metadata: list = []
        for batch in store.iter_batches(batch_size=batch_size):
            first_metadata = first_metadata or batch.metadata
            for row, text in zip(batch.vectors, batch.documents):
                j = seen if seen < max_vectors else rng.integers(seen + 1)
                if j < max_vectors:
                    reservoir[j] = row
                seen += 1
                if documents and isinstance(text, str) and text.strip():
                    j = seen_docs if seen_docs < documents else doc_rng.integers(seen_docs + 1)
                    if j < documents:
                        doc_vectors[j] = row
                        if j == len(texts):
                            texts.append(text)
                        else:
                            texts[j] = text
                    seen_docs += 1
    out = reservoir[: min(seen, max_vectors)]
    if not (np.isfinite(out).all() and np.isfinite(doc_vectors[:len(texts)]).all()):
        raise InvalidVectorsError(f"{uri} contains NaN/inf vectors: clean the collection before training")
    if len(out) < 100:
        raise InvalidVectorsError(f"{uri} has only {len(out)} vectors: at least a few thousand are needed to learn a translator")
    logger.info("sampled %d of %d vectors from %s", len(out), seen, uri)
    if documents:
        logger.info("%s: %d of its records carry a document; %d sampled", uri, seen_docs, len(texts))
        hint = documents_hint(seen_docs, first_metadata)
        if hint:
            logger.warning("%s: %s", uri, hint)
    return CollectionSample(out, doc_vectors[:len(texts)], texts, seen)


def sample_vectors(uri: str, max_vectors: int = 50_000, seed: int = 0, batch_size: int = 4096) -> np.ndarray:
    """Reservoir-sample up to ``max_vectors`` vectors of a store (memory bounded by the sample)."""
    return sample_collection(uri, max_vectors, seed, batch_size=batch_size).vectors
