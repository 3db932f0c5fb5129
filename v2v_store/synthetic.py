"""Synthetic spaces with known ground truth: two different nonlinear views of one shared latent.

``views(n)`` draws latent points from a mixture of Gaussians and embeds them as ``unit(tanh(z A1))``
and ``unit(tanh(z A2 + b))``. Row i of both views is the same 'document', so paired metrics are
exact. Its latent is nearly isotropic inside each cluster, so *unpaired* alignment of these views is
ill-posed (many maps fit equally well): use it for supervised and few-shot checks only.

``nonlinear_views(latent)`` wraps any latent point set, typically real sentence embeddings, in the
same kind of nonlinear views. Real embeddings have the anisotropic, clustered geometry that makes
unpaired alignment identifiable, so this is the ground-truth setting for unsupervised training.
"""

from __future__ import annotations

import numpy as np


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)).astype(np.float32)


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
    return _unit(np.tanh(z @ a1)), _unit(np.tanh(z @ a2 + b2))


def nonlinear_views(latent: np.ndarray, d1: int = 384, d2: int = 512, gain: float = 1.0,
                    map_seed: int = 1234) -> tuple[np.ndarray, np.ndarray]:
    """Two nonlinear views of the rows of ``latent`` (n, k): ``unit(tanh(gain * u A1))`` in d1 dims and
    ``unit(tanh(gain * u A2 + b))`` in d2 dims, where u is the row scaled to unit RMS per coordinate
    and A1, A2 are random isometric embeddings (orthonormal rows, fixed by ``map_seed``; d1, d2 >= k).
    ``gain`` sets how nonlinear the views are: tanh saturates for |gain * (u A)| >~ 1."""
    maps = np.random.default_rng(map_seed)
    k = latent.shape[1]
    if min(d1, d2) < k:
        raise ValueError(f"view dims ({d1}, {d2}) must be >= the latent dim {k}")
    a1 = np.linalg.qr(maps.standard_normal((d1, k)))[0].T * np.sqrt(d1 / k)  # unit RMS per output coordinate
    a2 = np.linalg.qr(maps.standard_normal((d2, k)))[0].T * np.sqrt(d2 / k)
    b2 = 0.3 * maps.standard_normal(d2)
    u = _unit(np.asarray(latent, np.float64)) * np.sqrt(k)  # unit rows, then unit RMS per coordinate
    return _unit(np.tanh(gain * (u @ a1))), _unit(np.tanh(gain * (u @ a2) + b2))


def principal_components(vectors: np.ndarray, k: int, fit_rows: int = 5000) -> np.ndarray:
    """The top-``k`` principal components of ``vectors`` (centred; directions fitted on the first
    ``fit_rows`` rows): a small latent that keeps real embeddings' clustered, non-Gaussian shape."""
    centred = np.asarray(vectors, np.float64) - np.mean(vectors, axis=0)
    _, _, vt = np.linalg.svd(centred[:fit_rows], full_matrices=False)
    return (centred @ vt[:k].T).astype(np.float32)
