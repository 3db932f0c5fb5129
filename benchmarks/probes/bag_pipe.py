"""Bagged extra steps from the real pipeline's start: the default fit up to the soup (no extra steps), then
variants of the winner's extra steps from that same map.

    python bag_pipe.py minilm e5 SEED "60x1x1.0x8000" "30x6x0.5x8000" ...

Each variant ITERSxMEMBERSxFRACTIONxBATCH: MEMBERS runs of ITERS steps, each on its own random FRACTION of both
spaces (1 member, fraction 1: the production extra steps), averaged (``common.bag_members``; the aligner carried
this as ``AlignConfig.final_bag`` for one session and it was taken out on these results). The fit without
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
d = np.load(cache)
start = (final.dx @ torch.tensor(d["sp"]), final.dy @ torch.tensor(d["tp"]))
print("start", held_out_whitened(final, xe, ye, start), flush=True)
for spec in sys.argv[4:]:
    first, _, bag = spec.rpartition("+")
    iters, members, frac, batch = bag.split("x")
    final.rng = np.random.default_rng(seed)
    t0 = time.time()
    w = final.run(start, int(first[1:]), fresh=False) if first else start
    w = procrustes_from_cross(sum(u @ v.T for u, v in bag_members(final, w, int(iters), int(members), float(frac),
                                                                  int(batch), final.rng)))
    print(spec, held_out_whitened(final, xe, ye, w), f"{time.time() - t0:.0f} s", flush=True)
