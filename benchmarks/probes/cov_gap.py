"""Another map-light check of kinds of text: the source collection's covariance carried by the anchors' map against
the target collection's covariance (relative Frobenius gap, and the cosine of the two matrices), MiniLM -> e5.

    python cov_gap.py"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import load, splits  # noqa: E402

from v2v_store.anchors import anchor_pairs  # noqa: E402
from v2v_store.train.linear import fit_procrustes  # noqa: E402

a, b = "minilm", "e5"
pairs = anchor_pairs(a, b, 5000)


def side(corpus, model, which):
    held, sa, sb = splits(corpus, model)
    return load(corpus, model)[sa if which == "a" else sb][:13805]


def cov(v):
    u = v / np.linalg.norm(v, axis=1, keepdims=True)
    u = u - u.mean(0)
    return u.T @ u / len(u)


cases = sys.argv[1:] or ["wiki/wiki", "debpkg/debpkg", "foldoc/foldoc", "fortunes/fortunes", "wiki/debpkg",
                         "debpkg/wiki", "foldoc/debpkg", "debpkg/foldoc", "wiki/foldoc", "wiki/fortunes"]
for case in cases:
    s, t = case.split("/")
    source, target = side(s, a, "a"), side(t, b, "b")
    m = fit_procrustes(pairs, centre_on=(source, target))
    w = m.source_proj @ m.target_proj.T  # source -> target, orthogonal
    cx, cy = w.T @ cov(source) @ w, cov(target)
    gap = np.linalg.norm(cx - cy) / np.linalg.norm(cy)
    cosine = (cx * cy).sum() / np.linalg.norm(cx) / np.linalg.norm(cy)
    print(f"{case:18s} gap {gap:.3f}  cosine {cosine:.3f}", flush=True)
