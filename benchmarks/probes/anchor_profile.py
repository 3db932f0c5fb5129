"""A map-free check that two collections hold the same kind of text: the anchors as a bridge.

    python anchor_profile.py
    MODELS=mpnet,e5 KITPAIRS=1 python anchor_profile.py wiki/wiki wiki/fortunes

For each anchor pair (a text embedded by both models), how close the source collection comes to it in the source
space (mean cosine of its K (default 50, as `v2v_store.metrics.pair_profile_correlation`) nearest collection vectors, all centred on the collection's mean) and how close the
target collection comes to it in the target space; the Spearman correlation of the two profiles over the 5,000
anchors. No map is fitted, so the transport cannot game it. MiniLM -> e5 (``MODELS=mpnet,e5``: others); ``a/b`` as in pair_check.py; N vectors
per side (default all, up to 13,805)."""
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import load, splits  # noqa: E402

from v2v_store.anchors import anchor_pairs  # noqa: E402

a, b = os.environ.get("MODELS", "minilm,e5").split(",")
K, N = int(os.environ.get("K", 50)), int(os.environ.get("N", 13805))
# KITPAIRS=1: the kit's first 5,000 held-out wiki pairs as the probes instead of the bundled anchors (no model to run)
pairs = (load("wiki", a)[:5000], load("wiki", b)[:5000]) if os.environ.get("KITPAIRS") else anchor_pairs(a, b, 5000)


def unit(v):
    return v / v.norm(dim=1, keepdim=True)


def profile(anchors, collection):
    c = unit(torch.tensor(collection))
    mean = c.mean(0)
    c, q = unit(c - mean), unit(unit(torch.tensor(anchors)) - mean)
    return (q @ c.T).topk(K, dim=1).values.mean(1).numpy()


def spearman(u, v):
    ru, rv = np.argsort(np.argsort(u)), np.argsort(np.argsort(v))
    return np.corrcoef(ru, rv)[0, 1]


def side(corpus, model, which):
    held, sa, sb = splits(corpus, model)
    return load(corpus, model)[sa if which == "a" else sb]


cases = sys.argv[1:] or ["wiki/wiki", "debpkg/debpkg", "foldoc/foldoc", "fortunes/fortunes", "wiki/debpkg",
                         "debpkg/wiki", "foldoc/debpkg", "wiki/fortunes", "debpkg/debpkg+wiki", "wiki/wiki+fortunes"]
for case in cases:
    s, t = case.split("/")
    source = side(s, a, "a")[:N]
    parts = t.split("+")
    target = np.concatenate([side(c, b, "b")[:len(source) // len(parts)] for c in parts])
    r = spearman(profile(pairs[0], source), profile(pairs[1], target))
    print(f"{case:22s} {len(source)} / {len(target)}: profile correlation {r:.3f}", flush=True)
