"""How much should each anchor pair count against the transport's pseudo-pairs? (`AlignConfig.pair_weight`)

    python anchor_weight.py debpkg 0.25 0.5 2 4
    SIDE=6000 python anchor_weight.py debpkg 0.5 1 2     # the first 6,000 vectors of each side only

fit_collections on the kit split of CORPUS (MiniLM -> e5, seed 0, the default auto = anchors+align with 5,000 bundled
anchors, one restart) with ``align_overrides={"pair_weight": W}``; top-1 / mean rank both ways on the held-out rows.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import load, splits  # noqa: E402

from v2v_store.fit import fit_collections  # noqa: E402
from v2v_store.metrics import paired_metrics  # noqa: E402

corpus, weights = sys.argv[1], [float(w) for w in sys.argv[2:]]
held, side_a, side_b = splits(corpus, "minilm")
xa, xb = load(corpus, "minilm"), load(corpus, "e5")
side = int(os.environ.get("SIDE", 0)) or None
side_a, side_b = slice(side_a.start, side_a.stop if side is None else side_a.start + side), \
    slice(side_b.start, side_b.stop if side is None else side_b.start + side)
for w in weights:
    t0 = time.perf_counter()
    tr, rep = fit_collections(xa[side_a], xb[side_b], ("minilm", "e5"), align_overrides={"pair_weight": w})
    there = paired_metrics(tr.translate(xa[held], "minilm", "e5"), xb[held])
    back = paired_metrics(tr.translate(xb[held], "e5", "minilm"), xa[held])
    print(f"{corpus} sides {side_a.stop - side_a.start}/{side_b.stop - side_b.start} pair_weight={w}: {there.top1:.3f} / {there.mean_rank:.2f}, {back.top1:.3f} / {back.mean_rank:.2f}, "
          f"{time.perf_counter() - t0:.0f} s, {rep.method}, trusted {rep.trusted}", flush=True)
