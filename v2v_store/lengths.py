"""The lengths of a collection's own vectors, given to the translations written beside them.

A translation is a unit vector. A collection that ranks by cosine needs nothing more, nor does one that ranks by dot
product or L2 distance whose own vectors are unit length (most are: the usual embedding models normalise). But a
collection of vectors that are not (a model run without its normalisation, e.g. mean pooling by hand, or a model
trained for dot products) ranks unit translations beside them by their length as much as by their direction: on the
kit (MiniLM run without its normalisation, lengths ~2-7, in a dot-product index; e5 records appended as translations)
not one translation reached a top 10 (``benchmarks/results/translation_lengths.md``). So a migration into such a
collection writes each translation at the length the collection's own vectors have in its direction: a ridge
regression of their lengths on their directions, fitted on a sample of them (never on translations a migration
marked), clipped to the lengths seen. On the kit's wiki sentences the top-10 lists of the collection then overlapped
those of the collection re-embedded 0.63 by dot product (unit translations 0.49, all at the median length 0.54) and
0.60 under L2 distance (unit 0.33, median 0.52).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

# vectors whose lengths are this close to 1 (95 in 100 of them) are unit: translations need no length (a lossy index
# decodes unit vectors a few per cent off; a model run without its normalisation gives lengths of 2-7)
UNIT_TOLERANCE = 0.05
SAMPLE = 4096  # how many of the collection's own vectors the lengths are fitted on
RIDGE = 0.1  # the ridge penalty, relative to the mean diagonal of the regression's Gram matrix (best on the kit)


@dataclass
class VectorLengths:
    """A collection's vector lengths as a function of their direction: ``weights`` (one per dimension, then the
    intercept), clipped to ``low``..``high`` (the 1st and 99th percentiles of the lengths it was fitted on)."""

    weights: list[float]
    low: float
    high: float
    median: float
    fitted_on: int  # how many of the collection's own vectors

    def of(self, directions: np.ndarray) -> np.ndarray:
        """The length each of ``directions`` (unit vectors) gets."""
        w = np.asarray(self.weights, np.float64)
        return np.clip(np.asarray(directions, np.float64) @ w[:-1] + w[-1], self.low, self.high)

    def scale(self, vectors: np.ndarray) -> np.ndarray:
        """``vectors`` (unit translations) at the lengths of the collection's own vectors in their directions."""
        return (vectors * self.of(vectors)[:, None]).astype(np.float32)

    def describe(self) -> str:
        return (f"median {self.median:.3g}, {self.low:.3g}-{self.high:.3g}, predicted from their directions: fitted "
                f"on {self.fitted_on:,} of them")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict | None) -> VectorLengths | None:
        return None if d is None else cls(**d)


def fit_lengths(vectors: np.ndarray, ridge: float = RIDGE) -> VectorLengths | None:
    """The lengths of a collection's own ``vectors`` (a sample, ``(n, d)``) by direction; None where they are unit
    length (95 in 100 within :data:`UNIT_TOLERANCE`) or there are none: translations are then written as they are."""
    x = np.asarray(vectors, np.float64)
    norms = np.linalg.norm(x, axis=1)
    ok = np.isfinite(norms) & (norms > 0)
    x, norms = x[ok], norms[ok]
    if not len(norms) or np.percentile(np.abs(norms - 1), 95) <= UNIT_TOLERANCE:
        return None
    a = np.hstack([x / norms[:, None], np.ones((len(x), 1))])
    gram = a.T @ a
    penalty = ridge * np.trace(gram) / len(gram)
    weights = np.linalg.solve(gram + penalty * np.eye(len(gram)), a.T @ norms)
    low, median, high = np.percentile(norms, [1, 50, 99])
    return VectorLengths([float(w) for w in weights], float(low), float(high), float(median), len(norms))
