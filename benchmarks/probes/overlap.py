"""Do the two collections hold the same kind of text? A label-free overlap statistic under the anchors' map.

    python overlap.py wiki debpkg foldoc

For every (source corpus, target corpus) of the list, MiniLM -> e5: the 5,000 bundled anchors' Procrustes map
(``--method anchors``, centred on the collections), 4,000 source vectors translated into the target space, and the
median cosine (centred on the target collection's mean) of each to its nearest among 4,000 target vectors, against
the same median for 4,000 *other* target vectors (the target's own spread). Both ways (the target translated into
the source space too); ``mix`` targets: half the target corpus, half wiki."""
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import load, splits  # noqa: E402

from v2v_store.anchors import anchor_pairs  # noqa: E402
from v2v_store.fit import fit_translator  # noqa: E402

a, b = "minilm", "e5"
pairs = anchor_pairs(a, b, 5000)
rng = np.random.default_rng(0)


def unit(v):
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def nn_median(q, ref, mean):
    qc, rc = torch.tensor(unit(unit(q) - mean)), torch.tensor(unit(unit(ref) - mean))
    return (qc @ rc.T).max(1).values.median().item()


def side(corpus, model, which):
    held, sa, sb = splits(corpus, model)
    return load(corpus, model)[sa if which == "a" else sb][:13805]


def stat(translated, own):
    """(median NN cos of translated among n of own, the same for n other vectors of own), n = min(4000, len(own) / 2)."""
    n = min(4000, len(own) // 2, len(translated))
    idx = rng.permutation(len(own))
    ref, other = own[idx[:n]], own[idx[n:2 * n]]
    mean = unit(own).mean(0)
    return nn_median(translated[:n], ref, mean), nn_median(other, ref, mean)


def both_ways(tr, source, target):
    """The statistic source -> target and back under translator ``tr``, on 4,000 random vectors of each side:
    ((cross, own), (cross, own))."""
    xs = source[rng.permutation(len(source))[:4000]]
    ys = target[rng.permutation(len(target))[:4000]]
    return stat(tr.translate(xs, a, b), target), stat(tr.translate(ys, b, a), source)


def show(label, forward, back):
    (f_cross, f_self), (g_cross, g_self) = forward, back
    print(f"{label} forward {f_cross:.3f} / {f_self:.3f} = {f_cross / f_self:.3f}; "
          f"back {g_cross:.3f} / {g_self:.3f} = {g_cross / g_self:.3f}", flush=True)


names = sys.argv[1:] if __name__ == "__main__" else []
for s in names:
    for t in names + ["mix"]:
        if t == "mix" and s == "wiki":
            continue
        source = side(s, a, "a")
        target = side(s, b, "b") if t == "mix" else side(t, b, "b")
        if t == "mix":
            target = np.concatenate([target[:6900], side("wiki", b, "b")[:6900]])
        tr, _ = fit_translator(source, target, (a, b), "anchors", pairs=pairs, progress=False)
        show(f"{s:8s} -> {t if t != 'mix' else s + '+wiki':12s}", *both_ways(tr, source, target))
