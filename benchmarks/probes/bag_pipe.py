"""Bagged extra steps from the real pipeline's start: the default fit up to the soup (no extra steps), then
variants of the winner's extra steps from that same map.

    python bag_pipe.py minilm e5 SEED "60x1x1.0x8000" "30x6x0.5x8000" ...

Each variant ITERSxMEMBERSxFRACTIONxBATCH: MEMBERS runs of ITERS steps, each on its own random FRACTION of both
spaces (1 member, fraction 1: the production extra steps), averaged (``bagged`` below). The fit without
extra steps is cached in fit_<a>_<b>_<seed>.npz. A prefix ``P60+`` runs 60 production steps on all vectors
first and bags from their map. Prints held-out top-1 both ways (de-whitened), mean rank and
the variant's wall time."""
import os
import sys
from common import *

a, b, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
x, y, xe, ye, _, yA = setup(a, b)
A, B = load("wiki", a), load("wiki", b)
cfg = AlignConfig(seed=seed)
final = AL._FinalSteps(x, y, cfg, np.random.default_rng(0), None)
cache = f"fit_{a}_{b}_{seed}.npz"
if not os.path.exists(cache):
    t0 = time.time()
    r = fit_linear(A[SIDE_A], B[SIDE_B], AlignConfig(seed=seed, final_extra_iters=0))
    np.savez(cache, sp=r.mapping.source_proj, tp=r.mapping.target_proj)
    print(f"fit without extra steps: {time.time() - t0:.0f} s, soup {r.soup}", flush=True)


def bagged(final, wmap, iters, members, fraction, batch):
    """``members`` runs of ``iters`` final steps from ``wmap`` (half-whitened coordinates), each on its own random
    ``fraction`` of both sides, averaged: the polar factor of the summed cross maps ``Wx Wy^T``, as the soup. (The
    aligner carried this as ``_FinalSteps.bagged`` / ``AlignConfig.final_bag`` for one session; taken out on these
    results.)"""
    cross = 0
    for _ in range(members):
        rows = [torch.as_tensor(final.rng.choice(len(v), round(fraction * len(v)), replace=False)) for v in (final.xw, final.yw)]
        wx, wy = AL._wasserstein_procrustes(final.xw[rows[0]], final.yw[rows[1]], *wmap, iters, batch, cfg.final_wp_eps,
                                            final.rng, None, decay=cfg.final_wp_decay)
        cross = cross + wx @ wy.T
    return procrustes_from_cross(cross)


d = np.load(cache)
start = (final.dx @ torch.tensor(d["sp"]), final.dy @ torch.tensor(d["tp"]))
print("start", held_out_whitened(final, xe, ye, start), flush=True)
for spec in sys.argv[4:]:
    first, _, bag = spec.rpartition("+")
    iters, members, frac, batch = bag.split("x")
    final.rng = np.random.default_rng(seed)
    t0 = time.time()
    w = final.run(start, int(first[1:]), fresh=False) if first else start
    w = bagged(final, w, int(iters), int(members), float(frac), int(batch))
    print(spec, held_out_whitened(final, xe, ye, w), f"{time.time() - t0:.0f} s", flush=True)
