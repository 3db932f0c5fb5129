"""What ``v2v inspect`` reports about a store: size, shape, metric, samples, warnings, and which known model's
vectors it looks like (:mod:`v2v_store.fingerprints`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from v2v_store.connectors import VectorStore


@dataclass
class StoreReport:
    uri: str
    count: int
    dim: int
    metric: str
    index_type: str
    sample_ids: list[Any] = field(default_factory=list)
    sample_metadata: list[Any] = field(default_factory=list)
    sample_documents: list[Any] = field(default_factory=list)
    mean_norm: float = float("nan")
    # records among the first ``scanned`` that carry a non-empty document (`v2v fit --document-pairs` pairs those)
    with_documents: int = 0
    scanned: int = 0
    # covariance similarity with each known model of this dimension (None: could not judge), and the best match
    model_similarity: dict[str, float] | None = None
    looks_like: str | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def text_fields(metadata: list[dict | None], min_share: float = 0.8, min_chars: int = 20) -> list[str]:
    """Metadata (payload) keys that hold text in most records: a string of at least ``min_chars`` characters in at
    least ``min_share`` of them. Where a collection keeps its texts there instead of as documents (a Qdrant payload
    written by another tool: ``text``, ``page_content``, ...), ``?document_key=KEY`` makes them its documents."""
    counts: dict[str, int] = {}
    for meta in metadata:
        for key, value in (meta or {}).items():
            if isinstance(value, str) and len(value.strip()) >= min_chars:
                counts[key] = counts.get(key, 0) + 1
    return sorted(k for k, c in counts.items() if metadata and c >= min_share * len(metadata))


def documents_hint(with_documents: int, metadata: list[dict | None]) -> str | None:
    """A hint for a collection whose records carry no documents but whose metadata holds text, else None."""
    fields = text_fields(metadata) if not with_documents else []
    if not fields:
        return None
    return (f"no record carries a document, but the metadata field(s) {', '.join(map(repr, fields))} hold text: if "
            f"that is the text each vector embeds, open a Qdrant collection with ?document_key={fields[0]} so that v2v "
            "fit can pair it (--document-pairs)")


def inspect_store(store: VectorStore, sample: int = 5, scan: int = 2048) -> StoreReport:
    """Summarise a store from its first ``scan`` vectors; never reads the whole collection."""
    from v2v_store.fingerprints import identify, looks_like

    report = StoreReport(store.uri, store.count(), store.dim, store.metric.value, store.index_type)
    report.warnings.extend(store.warnings())
    batch = store.first_batch(scan)
    if batch is None:
        report.warnings.append("the collection is empty")
        return report
    report.sample_ids = batch.ids[:sample]
    report.sample_metadata = batch.metadata[:sample]
    report.sample_documents = [d[:80] if isinstance(d, str) else d for d in batch.documents[:sample]]
    report.scanned = len(batch)
    report.with_documents = sum(isinstance(d, str) and bool(d.strip()) for d in batch.documents)
    hint = documents_hint(report.with_documents, batch.metadata)
    if hint:
        report.warnings.append(hint)
    vectors = batch.vectors
    bad = ~np.isfinite(vectors).all(axis=1)
    if bad.any():
        report.warnings.append(f"{int(bad.sum())} of the first {len(vectors)} vectors contain NaN/inf")
    norms = np.linalg.norm(np.where(np.isfinite(vectors), vectors, 0), axis=1)
    report.mean_norm = float(norms.mean())
    if (norms == 0).any():
        report.warnings.append(f"{int((norms == 0).sum())} of the first {len(vectors)} vectors are all zero")
    if np.abs(norms - 1).max() > 1e-3:
        report.warnings.append(
            f"vectors are not unit length (norms {norms.min():.3g}..{norms.max():.3g}); translators are trained "
            "on L2-normalised vectors and v2v normalises them on input"
        )
    if not bad.any() and not (norms == 0).any():
        report.model_similarity = identify(vectors)
        report.looks_like = looks_like(report.model_similarity)
    return report
