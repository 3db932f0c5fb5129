"""Do the low-frequency eigenfunctions of each space's k-NN graph correspond across models (functional maps)?

    python spectral.py CORPUS A B [M] [K]

Each side's k-NN graph (cosine, K neighbours, symmetrised) gives the M smoothest eigenvectors of its normalised
adjacency: functions on the side's points that depend only on who neighbours whom. Each is regressed linearly on the
side's coordinates (``phi_k ~ x a_k``), so it can be evaluated on any vector of that space. If the two models see the
same neighbourhoods, ``x a_k`` and ``y b_k`` should agree (up to sign, and order where eigenvalues are close) on
held-out *pairs*. Printed: for each k, the best |correlation| of ``xe a_k`` with some ``ye b_j`` on the held-out pairs,
and which j; first with both graphs on side A's own texts (each model's vectors of the same sentences), then on
the disjoint sides A and B (the unsupervised setting).
"""
import sys

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.linalg import eigsh

from common import corpus_setup


def knn_graph(v: torch.Tensor, k: int) -> sp.csr_matrix:
    n, rows, cols = len(v), [], []
    u = torch.nn.functional.normalize(v, dim=1)
    for s in range(0, n, 2048):
        sim = u[s:s + 2048] @ u.T
        sim[torch.arange(len(sim)), torch.arange(s, s + len(sim))] = -2
        idx = sim.topk(k, dim=1).indices
        rows.append(np.repeat(np.arange(s, s + len(sim)), k)); cols.append(idx.reshape(-1).numpy())
    w = sp.csr_matrix((np.ones(n * k, dtype=np.float64), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    return ((w + w.T) > 0).astype(np.float64)


def eigenfunctions(v: torch.Tensor, m: int, k: int) -> np.ndarray:
    w = knn_graph(v, k)
    d = np.asarray(w.sum(1)).ravel() ** -0.5
    a = sp.diags(d) @ w @ sp.diags(d)
    vals, vecs = eigsh(a, k=m + 1, which="LA")
    order = np.argsort(-vals)
    vecs = (vecs[:, order] * d[:, None])[:, 1:]  # random-walk eigenvectors, the constant one dropped
    print("  eigenvalues", np.round(vals[order][1:], 4).tolist(), flush=True)
    return vecs / vecs.std(0)


def regress(v: torch.Tensor, f: np.ndarray, ridge: float = 1e-3) -> np.ndarray:
    x = v.double().numpy()
    return np.linalg.solve(x.T @ x + ridge * len(x) * np.eye(x.shape[1]), x.T @ f)


def report(name, xe, ye, ax, by):
    fa, fb = xe.double().numpy() @ ax, ye.double().numpy() @ by
    fa = (fa - fa.mean(0)) / fa.std(0); fb = (fb - fb.mean(0)) / fb.std(0)
    c = fa.T @ fb / len(fa)
    best = np.abs(c).argmax(1)
    print(name, " ".join(f"{k}:{np.abs(c[k, j]):.2f}@{j}" for k, j in enumerate(best)), flush=True)
    qa, qb = np.linalg.qr(fa)[0], np.linalg.qr(fb)[0]
    print("   canonical correlations of the two spans:", np.round(np.linalg.svd(qa.T @ qb, compute_uv=False), 2).tolist())
    return c


if __name__ == "__main__":
    corpus, a, b = sys.argv[1:4]
    m = int(sys.argv[4]) if len(sys.argv) > 4 else 16
    k = int(sys.argv[5]) if len(sys.argv) > 5 else 10
    x, y, xe, ye, ya = corpus_setup(corpus, a, b)
    print(f"{corpus} {a}->{b}: sides {len(x)} / {len(y)}, held out {len(xe)}, M={m}, K={k}", flush=True)
    fx = eigenfunctions(x, m, k)
    ax = regress(x, fx)
    fit = np.corrcoef((x.double().numpy() @ ax).T, fx.T).diagonal(m)
    print("  linear fit of side A's eigenfunctions, corr:", np.round(fit, 2).tolist())
    fya = eigenfunctions(ya, m, k)
    report("same texts (side A in both models):", xe, ye, ax, regress(ya, fya))
    fy = eigenfunctions(y, m, k)
    report("disjoint sides A / B:              ", xe, ye, ax, regress(y, fy))
