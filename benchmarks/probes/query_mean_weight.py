"""How much of the target's mean should a translated *query* keep, and can it be chosen without pairs? (session 39)

    python benchmarks/probes/query_mean_weight.py

Maps: Procrustes on the kit's Wikipedia side A pairs (all 13,805, or a random 1,000 / 300: weaker maps). Queries: the
8,192 held-out source sentences translated as ``unit(unit(z W^T) + w mean)``; top-1 of each among the 8,192 true target
vectors. Label-free: the share of 4,096 unpaired target vectors (side B) in no query's 10 nearest, queries from 4,096
side A source vectors (``metrics.anti_hub_share``). Prints, per map and weight, top-1 / share, and the loss of picking
the weight by the share instead of by top-1.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import DIMS, load, splits  # noqa: E402

from v2v_store.metrics import anti_hub_share, paired_metrics  # noqa: E402
from v2v_store.train.linear import fit_procrustes, unit  # noqa: E402
from v2v_store.translator import Space, Translator  # noqa: E402

PAIRS = [("minilm", "e5"), ("e5", "minilm"), ("minilm", "mpnet"), ("mpnet", "minilm"), ("mpnet", "e5"), ("e5", "mpnet")]
WEIGHTS = (-0.5, 0.0, 0.5, 1.0, 1.5)


def main() -> None:
    held, side_a, side_b = splits("wiki", "minilm")
    rng = np.random.default_rng(0)
    for a, b in PAIRS:
        xa, ya = (np.asarray(load("wiki", m)[side_a], np.float32) for m in (a, b))
        xh, yh = (np.asarray(load("wiki", m)[held], np.float32) for m in (a, b))
        targets = unit(torch.as_tensor(np.asarray(load("wiki", b)[side_b], np.float32)[:4096]))
        for n in (len(xa), 1000, 300):
            rows = np.arange(len(xa)) if n == len(xa) else rng.choice(len(xa), n, replace=False)
            tr = Translator.from_linear_map(fit_procrustes((xa[rows], ya[rows])), Space(a, DIMS[a]), Space(b, DIMS[b]))
            mean = tr.linear_space(tr.space(b))[0]
            held_q = torch.as_tensor(tr.translate(xh, a, b, role="queries"))  # weight 0: the centred direction
            sample_q = torch.as_tensor(tr.translate(xa[:4096], a, b, role="queries"))
            out = [(w, paired_metrics(unit(held_q + w * mean).numpy(), yh).top1,
                    anti_hub_share(sample_q, targets, 10, offsets=w * (targets @ mean))) for w in WEIGHTS]
            best, picked = max(out, key=lambda r: r[1]), min(out, key=lambda r: (r[2], abs(r[0])))
            print(f"{a} -> {b}, {n} pairs: " + " ".join(f"w={w}: {t:.4f}/{s:.3f}" for w, t, s in out)
                  + f" | best {best[0]}, picked {picked[0]}, loss {best[1] - picked[1]:.4f}", flush=True)


if __name__ == "__main__":
    main()
