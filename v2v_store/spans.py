"""How many dimensions a collection's vectors span, and what that leaves a translation.

Vectors padded with zeros, projected onto a few directions, or made by a pipeline that kept only some of a model's
output hold the information of fewer dimensions than they have. No translator carries more than they hold: the kit's
MiniLM vectors cut to their top 16 / 32 / 64 / 128 principal directions found their mpnet partner first among 8,192
held-out sentences for 0.13 / 0.48 / 0.83 / 0.96 of them even through the best linear map fitted on every true pair
(0.99 with all 384; ``benchmarks/results/span_ceiling.md``). Padding alone loses nothing (MiniLM padded to 768 zeros
and aligned with mpnet without pairs: top-1 0.999 among 2,000, session 72).

A side spanning fewer than :data:`TRUSTED_SPAN` dimensions, where the other spans at least twice as many, makes a fit
untrusted whatever check confirmed its map: the map may be the right one (MiniLM cut to 32 dimensions, aligned with
mpnet without pairs: top-1 0.51 among 2,000, the ceiling's), but the documents it finds are mostly wrong ones.
"""

from __future__ import annotations

import numpy as np

from v2v_store.space_check import SAMPLE, covariance

TOLERANCE = 1e-6  # a direction counts when its variance is above this share of the largest (float32 noise: ~1e-16)
FULL_SHARE = 0.9  # vectors spanning fewer than this share of what they could (their dimensions, or rows - 1) are narrow
TRUSTED_SPAN = 32  # below: the kit's ceilings are top-1 0.42-0.48 at 32 dimensions, 0.10-0.14 at 16
CEILINGS = ("MiniLM vectors cut to their top 16 / 32 / 64 / 128 principal directions found their mpnet partner first "
            "among 8,192 sentences for 0.13 / 0.48 / 0.83 / 0.96 of them, through the best linear map fitted on every "
            "true pair (0.99 with all 384: benchmarks/results/span_ceiling.md)")


def span(vectors: np.ndarray) -> int:
    """The number of directions the unit-length, centred ``vectors`` have variance in (of the rows
    :func:`v2v_store.space_check.covariance` samples: at most ``SAMPLE``, rows without an embedding left out)."""
    if len(vectors) < 2:
        return 0
    eigenvalues = np.linalg.eigvalsh(covariance(vectors))
    return int((eigenvalues > TOLERANCE * max(eigenvalues[-1], 1e-300)).sum())


def narrow(vectors: np.ndarray) -> tuple[int, int, bool]:
    """``(span, dimensions, narrow)`` of ``vectors``: narrow where they span fewer than :data:`FULL_SHARE` of the
    directions they could (their dimensions, or one fewer than the rows looked at, where those are fewer)."""
    rows, dims = vectors.shape
    k = span(vectors)
    return k, dims, k < FULL_SHARE * min(dims, min(rows, SAMPLE) - 1)


def narrow_warning(vectors: str, k: int, dims: int) -> str:
    """What ``vectors`` (e.g. "the 'source' vectors") spanning ``k`` of their ``dims`` dimensions leave a
    translation."""
    return (f"{vectors} span only {k} of their {dims} dimensions (the others hold nothing: padded, "
            f"projected or otherwise cut vectors): a translation carries only what {k} dimensions hold; at best, "
            f"{CEILINGS}")


def too_narrow(spans: dict[str, int]) -> str | None:
    """Why a fit between sides spanning ``spans`` dimensions (by name) cannot be trusted, or None: one spans fewer than
    :data:`TRUSTED_SPAN` and the other at least twice as many."""
    (a, ka), (b, kb) = spans.items()
    name, k, other = (a, ka, kb) if ka <= kb else (b, kb, ka)
    if k < TRUSTED_SPAN and other >= 2 * k:
        return (f"not trusted: the {name!r} vectors span only {k} dimensions (the other side {other}), too few to tell "
                f"documents apart: {CEILINGS}; fit on the vectors as the model made them")
    return None
