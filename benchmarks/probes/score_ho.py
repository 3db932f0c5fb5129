"""Label-free scores of the oracle, a found start and the production map on the training halves and on held-out
vectors of disjoint texts (first half of the source's held-out vectors against the second half of the target's).

    START=found_minilm_e5_0.npz python score_ho.py minilm e5

Scores: the aligner's final score (mean mutual CSLS, k = 10) and the mean transport similarity (eps 0.02)."""
import os
import sys
from common import *

a, b = sys.argv[1], sys.argv[2]
x, y, xe, ye, _, yA = setup(a, b)
final = AL._FinalSteps(x, y, AlignConfig(), np.random.default_rng(0), None)
eye = torch.eye(y.shape[1])
h = len(xe) // 2


def scores(X, Y, W):
    xl, yl = unit(X @ W), unit(Y)
    _, _, s = mutual_pairs(xl, yl, 10)
    n = min(len(xl), len(yl), 6000)
    sim = xl[:n] @ yl[:n].T
    ot = (sinkhorn_plan(sim, 0.02) * sim).sum().item()
    return round(s.mean().item(), 5), round(ot, 5)


samples = {"train": (final.xw, final.yw), "held-out disjoint": (xe[:h] @ final.hx, ye[h:] @ final.hy)}
ox, oy = whitened_oracle(final, yA)
maps = {"oracle": ox @ oy.T}
w = whitened_start(final, os.environ["START"])
maps["start"] = w[0] @ w[1].T
for steps in (20, 40):
    w = final.run(w, 20, fresh=False)
    maps[f"production {steps + 1}"] = w[0] @ w[1].T
w = final.run((ox, oy), 40, fresh=False)
maps["oracle + 40 steps"] = w[0] @ w[1].T
for name, W in maps.items():
    print(name, held_out_whitened(final, xe, ye, (W, eye)), {k: scores(X, Y, W) for k, (X, Y) in samples.items()}, flush=True)
