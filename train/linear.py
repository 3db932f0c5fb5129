"""Linear maps between two embedding spaces through a shared latent, and orthogonal Procrustes.

Every map here works in one normalisation (``unit-center-unit``: L2, minus the space's mean, L2 again) and
encodes each space into a ``k``-dimensional latent; :func:`fit_procrustes` fits one on paired vectors, and
:mod:`.align` learns one without pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class LinearMap:
    """Both spaces into a shared latent: ``z = unit(unit(x) - mean) @ proj``, and back:
    ``unit(spread * unit(z @ decode) + mean)`` (:func:`linear_decode`).

    An orthogonal map (``proj`` with orthonormal columns) decodes with ``proj.T``, its ``decode`` is
    None. A half-whitened map (``AlignConfig.final_whiten``) encodes with ``C^(-a/2) W`` and decodes with
    ``W^T C^(a/2)`` (``C`` the space's covariance, ``W`` orthonormal): a non-orthogonal translation. Its
    ``query_decode`` is ``W^T`` alone: translated *queries* are not de-whitened (:func:`linear_decode_query`)."""

    source_mean: np.ndarray  # (d_s,)
    source_proj: np.ndarray  # (d_s, k)
    target_mean: np.ndarray  # (d_t,)
    target_proj: np.ndarray  # (d_t, k)
    source_decode: np.ndarray | None = None  # (k, d_s); None: source_proj.T
    target_decode: np.ndarray | None = None  # (k, d_t); None: target_proj.T
    source_query_decode: np.ndarray | None = None  # (k, d_s); None: as source_decode
    target_query_decode: np.ndarray | None = None  # (k, d_t); None: as target_decode

    @property
    def orthogonal(self) -> bool:
        return self.source_decode is None and self.target_decode is None


def unit(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


def center_unit(x: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """The normalisation every map in this module works in: unit, minus mean, unit."""
    return unit(unit(x) - mean)


def linear_encode(x: torch.Tensor, mean: torch.Tensor, proj: torch.Tensor) -> torch.Tensor:
    """A space into the shared latent under a :class:`LinearMap`: ``unit(unit(x) - mean) @ proj``."""
    return center_unit(x, mean) @ proj


def linear_decode(z: torch.Tensor, mean: torch.Tensor, decode: torch.Tensor) -> torch.Tensor:
    """Back from the latent into a space: ``unit(spread * unit(z @ decode) + mean)``, ``decode`` (k, d); for an
    orthogonal map ``decode = proj^T``, the inverse of :func:`linear_encode` up to the directions the latent
    drops. ``spread = sqrt(1 - |mean|^2)`` is the RMS distance of the space's own unit vectors from their mean, so a
    translation sits as far from the mean as the space's vectors do: it scores against the space's queries as its
    own vectors would (e5's vectors, mean norm 0.87, share a cosine of ~0.75; a translation decoded at distance 1
    from the mean scored 0.78 with its own text's vector and ranked behind unrelated e5 records in a collection
    holding both, ``benchmarks/results/mixed_migration.md``)."""
    spread = (1 - mean.pow(2).sum()).clamp_min(1e-6).sqrt()
    return unit(spread * unit(z @ decode) + mean)


def linear_decode_query(z: torch.Tensor, mean: torch.Tensor, decode: torch.Tensor, weight: float = 0.0) -> torch.Tensor:
    """A translation that will *search* the space's own vectors: ``unit(unit(z @ decode) + weight * mean)``.

    ``decode``: the translator's query decode (``Translator.query_decode``), the records' decode times the space's
    covariance^(-1/4): for a half-whitened map its orthogonal part ``W^T`` (``LinearMap.target_query_decode``), not
    the records' ``W^T C^(1/4)``, so a query stresses the space's principal directions less than a record does.

    A query's mean part scores ``weight * mean . y`` for every candidate ``y`` whatever the query asks: it moves every
    query towards the records nearest the collection's mean (``weight`` > 0) or away from them (< 0). Which helps
    depends on the space (how unevenly its records spread around the mean), so the weight is chosen per translator
    without labels, as the one that leaves fewest of the target's vectors out of every query's neighbours
    (:func:`v2v_store.metrics.anti_hub_share`; ``Translator.calibrate_queries``). With ``weight`` 0 the centred
    direction alone. A translation stored as a record is decoded by :func:`linear_decode` instead."""
    return unit(unit(z @ decode) + weight * mean)


def power_whitener(x: torch.Tensor, power: float, floor: float = 1e-3) -> tuple[torch.Tensor, torch.Tensor]:
    """``(C^(-power/2), C^(power/2))`` of the rows' second-moment matrix ``C = x^T x / n``, eigenvalues
    clamped below at ``floor`` of the largest (real embeddings are rank-deficient)."""
    lam, u = torch.linalg.eigh((x.T @ x).double() / len(x))
    lam = lam.clamp_min(floor * lam.max())
    return (((u * lam.pow(-power / 2)) @ u.T).to(x.dtype), ((u * lam.pow(power / 2)) @ u.T).to(x.dtype))


def procrustes(xs: torch.Tensor, ys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Orthogonal maps (d_s, k), (d_t, k) maximising trace((xs Wx)^T (ys Wy)) for paired rows."""
    return procrustes_from_cross(xs.T @ ys)


def procrustes_from_cross(cross: torch.Tensor, min_ratio: float = 1e-12) -> tuple[torch.Tensor, torch.Tensor]:
    """The same maps from the cross-covariance ``xs^T ys`` (d_s, d_t) alone: singular vectors of
    ``cross``, (d_s, k) and (d_t, k), whose product ``U V^T`` is the orthogonal Procrustes solution.

    Computed from the eigendecomposition of the smaller Gram matrix in float64 (``C C^T = U S^2 U^T``,
    ``V = C^T U S^-1``): on an H100 3-4x faster than ``torch.linalg.svd`` of the float32 matrix and closer to
    the float64 SVD (384 x 768: 3.8 vs 13.4 ms, error 1e-12 vs 1e-5; on the 2-core CPU 13 vs 27 ms;
    ``benchmarks/probes/polar_gpu.py``); the solvers call this hundreds of times per restart. Directions
    where ``cross`` is (numerically) zero, eigenvalue below ``min_ratio`` of the largest (real embeddings
    are often rank-deficient: the kit's centred MiniLM vectors have 3 of 384 singular values below 1e-7 of the
    largest), carry no information; as in
    the SVD any orthonormal completion is a solution, and they get a deterministic one."""
    transpose = cross.shape[0] > cross.shape[1]
    c = (cross.T if transpose else cross).double()  # (k, d), k <= d
    lam, u = torch.linalg.eigh(c @ c.T)
    lam, u = lam.flip(0), u.flip(1)  # descending, like the SVD
    good = int((lam > min_ratio * lam[0]).sum().item())
    v = c.T @ (u[:, :good] * lam[:good].rsqrt())  # (d, good), orthonormal
    if good < len(lam):
        v = _orthonormal_completion(v, len(lam) - good)
    u, v = u.to(cross.dtype), v.to(cross.dtype)
    return (v, u) if transpose else (u, v)


def _orthonormal_completion(v: torch.Tensor, extra: int) -> torch.Tensor:
    """``v`` (d, m) with orthonormal columns, plus ``extra`` columns orthonormal to them and each other:
    Gram-Schmidt (twice) on the standard basis vectors least covered by ``v``."""
    basis = v
    for j in (basis ** 2).sum(1).argsort().tolist():
        if basis.shape[1] == v.shape[1] + extra:
            break
        e = -basis @ basis[j]
        e[j] += 1.0
        e = e - basis @ (basis.T @ e)
        norm = e.norm()
        if norm > 1e-3:
            basis = torch.cat([basis, (e / norm)[:, None]], dim=1)
    return basis


def fit_procrustes(pairs: tuple[np.ndarray, np.ndarray],
                   centre_on: tuple[np.ndarray, np.ndarray] | None = None) -> LinearMap:
    """Plain orthogonal Procrustes on paired vectors (the supervised baseline).

    Both spaces are centred on the pairs' own means, or with ``centre_on`` (source vectors, target vectors: the
    collections the map is for) on theirs: for anchor pairs from another corpus, whose means differ from the
    collections' (on WordNet, 5,000 Wikipedia anchor pairs gave MiniLM -> e5 top-1 0.892 centred on the anchors, 0.904
    on the collections: ``benchmarks/results/anchors*.md``)."""
    x = torch.as_tensor(np.asarray(pairs[0], np.float32))
    y = torch.as_tensor(np.asarray(pairs[1], np.float32))
    if centre_on is None:
        mean_x, mean_y = unit(x).mean(0), unit(y).mean(0)
    else:
        mean_x, mean_y = (unit(torch.as_tensor(np.asarray(v, np.float32))).mean(0) for v in centre_on)
    wx, wy = procrustes(center_unit(x, mean_x), center_unit(y, mean_y))
    return LinearMap(mean_x.numpy(), wx.numpy(), mean_y.numpy(), wy.numpy())
