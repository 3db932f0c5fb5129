"""A compressed model: MiniLM's vectors cut to their top-K principal components (a common way to save space), as the
source against e5. Where does it fall on the relatedness scale, and which anchor weight suits it?

    python compressed.py foldoc 32 64 128

The principal directions come from the 5,000 bundled anchors' MiniLM vectors (no collection involved); the source
collection, its held-out rows and the anchors' source side are all projected on them (then unit length). Printed per
K: ``pairs_relatedness``, and top-1 both ways on the held-out rows for the oracle (Procrustes on side A's true pairs),
``anchors+align`` at the size rule's weight and at weight 1."""
import logging
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import load, splits  # noqa: E402

from v2v_store.anchors import anchor_pairs  # noqa: E402
from v2v_store.fit import anchor_pair_weight, fit_translator  # noqa: E402
from v2v_store.metrics import paired_metrics, pairs_relatedness  # noqa: E402
from v2v_store.train.linear import fit_procrustes  # noqa: E402
from v2v_store.translator import Space, Translator  # noqa: E402

logging.basicConfig(level=logging.WARNING)
corpus, ks = sys.argv[1], [int(k) for k in sys.argv[2:]]
anchors = anchor_pairs("minilm", "e5", 5000)
mean = anchors[0].mean(0)
basis = np.linalg.svd(anchors[0] - mean, full_matrices=False)[2]  # rows: principal directions
held, side_a, side_b = splits(corpus, "e5")
x, y = load(corpus, "minilm"), load(corpus, "e5")


def both(tr, u, v):
    f, g = paired_metrics(tr.translate(u, "a", "b"), v), paired_metrics(tr.translate(v, "b", "a"), u)
    return f"{f.top1:.3f} / {g.top1:.3f}"


for k in ks:
    def compress(v):
        z = (v - mean) @ basis[:k].T
        return (z / np.linalg.norm(z, axis=1, keepdims=True)).astype(np.float32)

    pairs = (compress(anchors[0]), anchors[1])
    xa, xh, yb, ya, yh = compress(x[side_a]), compress(x[held]), y[side_b], y[side_a], y[held]
    oracle = Translator.from_linear_map(fit_procrustes((xa, ya)), Space("a", k), Space("b", y.shape[1]))
    line = f"K={k}: relatedness {pairs_relatedness(pairs):.3f}, oracle {both(oracle, xh, yh)}"
    for w in ("rule", "1"):
        weight = anchor_pair_weight(min(len(xa), len(yb))) if w == "rule" else 1.0
        tr, _ = fit_translator(xa, yb, ("a", "b"), method="anchors+align", pairs=pairs,
                               align_overrides={"pair_weight": weight})
        line += f", weight {weight:.2f}: {both(tr, xh, yh)}"
    print(line, flush=True)
