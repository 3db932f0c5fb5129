"""Training inputs from any store URI or array: a bounded uniform sample, streamed, no pairs needed."""

from __future__ import annotations

import logging

import numpy as np

from v2v_store.connectors import open_store
from v2v_store.errors import InvalidVectorsError, StoreNotFoundError

logger = logging.getLogger(__name__)


def sample_vectors(uri: str, max_vectors: int = 50_000, seed: int = 0, batch_size: int = 4096) -> np.ndarray:
    """Reservoir-sample up to ``max_vectors`` vectors of a store (memory bounded by the sample)."""
    rng = np.random.default_rng(seed)
    with open_store(uri) as store:
        if not store.exists():
            raise StoreNotFoundError(f"{uri} does not exist: check the path and collection name")
        reservoir = np.empty((max_vectors, store.dim), dtype=np.float32)
        seen = 0
        for batch in store.iter_batches(batch_size=batch_size):
            for row in batch.vectors:
                if seen < max_vectors:
                    reservoir[seen] = row
                else:
                    j = rng.integers(seen + 1)
                    if j < max_vectors:
                        reservoir[j] = row
                seen += 1
    out = reservoir[: min(seen, max_vectors)]
    if not np.isfinite(out).all():
        raise InvalidVectorsError(f"{uri} contains NaN/inf vectors: clean the collection before training")
    if len(out) < 100:
        raise InvalidVectorsError(f"{uri} has only {len(out)} vectors: at least a few thousand are needed to learn a translator")
    logger.info("sampled %d of %d vectors from %s", len(out), seen, uri)
    return out
