"""Synthetic spaces with known ground truth: two different nonlinear views of one shared latent.

``views(n)`` draws latent points z (a mixture of Gaussians, so the geometry has structure to align),
then embeds them as ``unit(tanh(z A1))`` in d1 dims and ``unit(tanh(z A2 + b))`` in d2 dims. Row i of
both views is the same 'document', so paired metrics are exact.
"""

from __future__ import annotations

import numpy as np


def views(n: int, d1: int = 64, d2: int = 96, latent: int = 16, clusters: int = 12, seed: int = 0,
          map_seed: int = 1234) -> tuple[np.ndarray, np.ndarray]:
    """(n, d1) and (n, d2) L2-normalised float32 views of the same n latent points.

    ``seed`` draws the points; ``map_seed`` fixes the two view maps (keep it equal across calls so
    training and evaluation sets are views of the same spaces)."""
    maps = np.random.default_rng(map_seed)
    centres = maps.standard_normal((clusters, latent)) * 1.5
    a1 = maps.standard_normal((latent, d1)) / np.sqrt(latent)
    a2 = maps.standard_normal((latent, d2)) / np.sqrt(latent)
    b2 = 0.3 * maps.standard_normal(d2)
    rng = np.random.default_rng(seed)
    z = centres[rng.integers(clusters, size=n)] + rng.standard_normal((n, latent))
    v1, v2 = np.tanh(z @ a1), np.tanh(z @ a2 + b2)
    unit = lambda v: (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)  # noqa: E731
    return unit(v1), unit(v2)
