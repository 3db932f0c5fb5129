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
  the probes, source probes / target probes (written here first, now
  ``v2v_store.metrics.collection_profile_correlation``, which this calls)."""
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import load, splits  # noqa: E402

from v2v_store.anchors import anchor_pairs  # noqa: E402
from v2v_store.metrics import collection_profile_correlation  # noqa: E402
from v2v_store.train.linear import fit_procrustes  # noqa: E402

a, b = os.environ.get("MODELS", "minilm,e5").split(",")
K, N, P = int(os.environ.get("K", 50)), int(os.environ.get("N", 13805)), int(os.environ.get("P", 2000))
pairs = anchor_pairs(a, b, 5000)


def unit(v):
    v = torch.as_tensor(np.asarray(v, np.float32))
    return v / v.norm(dim=1, keepdim=True)


def side(corpus, model, which):
    held, sa, sb = splits(corpus, model)
    return load(corpus, model)[sa if which == "a" else sb]


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
    r_s, r_t = collection_profile_correlation(pairs, source, target, k=K, probes=P)
    print(f"{case:22s} {len(source)} / {len(target)}: offset cos {offset:.3f}, self profile {r_s:.3f} / {r_t:.3f}",
          flush=True)
