"""Two more kinds-of-text checks through the anchors' own map (fitted on the anchors alone, so the collections cannot
game it): does either see FOLDOC against package summaries, where the anchor profile (0.41) does not?

    python kinds_bridge.py            # the cases of anchor_profile.py, plus foldoc/debpkg both ways
    N=2000 python kinds_bridge.py ...

Per case (MiniLM -> e5, ``a/b`` as in pair_check.py), in the latent of orthogonal Procrustes on the 5,000 bundled
anchors (centred on the collections' means):
- ``offset cos``: each collection's mean minus its anchors' mean, carried into the latent, cosine of the two offsets
  (collections of one kind lie off the anchors in the same direction);
- ``self profile``: 2,000 vectors of each collection as probes; for each, how near its own collection comes (mean
  centred cosine of the K nearest others) and how near the other collection comes to it under the map; Spearman over
  the probes, the two sides averaged."""
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import load, splits  # noqa: E402

from v2v_store.anchors import anchor_pairs  # noqa: E402
from v2v_store.train.align import fit_procrustes  # noqa: E402

a, b = os.environ.get("MODELS", "minilm,e5").split(",")
K, N, P = int(os.environ.get("K", 50)), int(os.environ.get("N", 13805)), int(os.environ.get("P", 2000))
pairs = anchor_pairs(a, b, 5000)


def unit(v):
    v = torch.as_tensor(np.asarray(v, np.float32))
    return v / v.norm(dim=1, keepdim=True)


def spearman(u, v):
    return np.corrcoef(np.argsort(np.argsort(u)), np.argsort(np.argsort(v)))[0, 1]


def side(corpus, model, which):
    held, sa, sb = splits(corpus, model)
    return load(corpus, model)[sa if which == "a" else sb]


def latent(vectors, mean, proj):
    return unit(unit(vectors) - torch.as_tensor(mean)) @ torch.as_tensor(proj)


def near(probes, collection, skip):
    return (probes @ collection.T).topk(K + skip, dim=1).values[:, skip:].mean(1).numpy()


cases = sys.argv[1:] or ["wiki/wiki", "debpkg/debpkg", "foldoc/foldoc", "fortunes/fortunes", "wiki/debpkg",
                         "debpkg/wiki", "foldoc/debpkg", "debpkg/foldoc", "foldoc/wiki", "wiki/fortunes",
                         "debpkg/debpkg+wiki", "wiki/wiki+fortunes"]
for case in cases:
    s, t = case.split("/")
    source = side(s, a, "a")[:N]
    parts = t.split("+")
    target = np.concatenate([side(c, b, "b")[:len(source) // len(parts)] for c in parts])
    m = fit_procrustes(pairs, centre_on=(source, target))
    off_s = (unit(source).mean(0) - unit(pairs[0]).mean(0)) @ torch.as_tensor(m.source_proj)
    off_t = (unit(target).mean(0) - unit(pairs[1]).mean(0)) @ torch.as_tensor(m.target_proj)
    offset = float(off_s @ off_t / off_s.norm() / off_t.norm())
    zs, zt = latent(source, m.source_mean, m.source_proj), latent(target, m.target_mean, m.target_proj)
    rng = np.random.default_rng(0)
    ps, pt = zs[rng.permutation(len(zs))[:P]], zt[rng.permutation(len(zt))[:P]]
    r_s = spearman(near(ps, zs, 1), near(ps, zt, 0))
    r_t = spearman(near(pt, zt, 1), near(pt, zs, 0))
    print(f"{case:22s} {len(source)} / {len(target)}: offset cos {offset:.3f}, self profile {r_s:.3f} / {r_t:.3f}",
          flush=True)
