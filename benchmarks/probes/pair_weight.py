"""Do in-domain pairs (the collection's own texts) gain from counting more than the bundled anchors?

    python pair_weight.py debpkg 500 1 4 10

fit_collections on the kit split of CORPUS (MiniLM -> e5, seed 0, the default auto = anchors+align with 5,000 bundled
anchors) with the texts of side A's first N documents as pair texts, each repeated W times (W = 1: `--pair-texts`).
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import load, splits, texts  # noqa: E402

from v2v_store.fit import fit_collections  # noqa: E402
from v2v_store.metrics import paired_metrics  # noqa: E402
from v2v_store.texts import embed_cached  # noqa: E402

corpus, n, weights = sys.argv[1], int(sys.argv[2]), [int(w) for w in sys.argv[3:]]
held, side_a, side_b = splits(corpus, "minilm")
xa, xb = load(corpus, "minilm"), load(corpus, "e5")
mine = texts(corpus)[side_a][:n]
u, v = embed_cached("minilm", mine), embed_cached("e5", mine)
for w in weights:
    t0 = time.perf_counter()
    tr, rep = fit_collections(xa[side_a], xb[side_b], ("minilm", "e5"), pairs=(np.tile(u, (w, 1)), np.tile(v, (w, 1))))
    there = paired_metrics(tr.translate(xa[held], "minilm", "e5"), xb[held])
    back = paired_metrics(tr.translate(xb[held], "e5", "minilm"), xa[held])
    print(f"N={n} W={w}: {there.top1:.3f} / {there.mean_rank:.2f}, {back.top1:.3f} / {back.mean_rank:.2f}, "
          f"{time.perf_counter() - t0:.0f} s, {rep.method}", flush=True)
