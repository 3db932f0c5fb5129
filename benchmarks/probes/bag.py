"""Bagging the final steps: fit K maps on random subsamples of both training halves and average them.

    K=4 FRAC=0.5 python bag.py minilm e5 40            # from the half-whitened oracle
    START=found_minilm_e5_0.npz K=4 FRAC=0.5 python bag.py minilm e5 60

The label-free scores say the final steps overfit the training sample (score_ho.py: on the training vectors the
production map outscores the oracle, on held-out vectors of disjoint texts the oracle wins). If the overfit is
mostly independent between subsamples, the average (polar factor of the summed whitened maps) of K maps fitted
on different subsamples beats one map on all vectors. Production final-step settings (batch 8,000 or the
subsample, eps 0.02, decay 0.8; BATCH sets the members' batch). Prints each member's and the soup's held-out
top-1 (de-whitened) and, unless FULL=0, the map of as many steps on all vectors."""
import os
import sys
from common import *

a, b, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
k, frac = int(os.environ.get("K", 4)), float(os.environ.get("FRAC", 0.5))
batch = int(os.environ.get("BATCH", AlignConfig().final_wp_batch))  # members' batch size
full_run = os.environ.get("FULL", "1") == "1"
x, y, xe, ye, _, yA = setup(a, b)
cfg = AlignConfig()
final = AL._FinalSteps(x, y, cfg, np.random.default_rng(0), None)
held_out = lambda w: held_out_whitened(final, xe, ye, w)  # noqa: E731
if os.environ.get("START"):
    d = np.load(os.environ["START"])
    start = final.run(final.run((torch.tensor(d["Wx"]), torch.tensor(d["Wy"])), 0), 1)
else:
    start = procrustes_from_cross(final.xw.T @ (yA @ final.hy))
print(f"K={k} FRAC={frac} BATCH={batch} start {held_out(start)}", flush=True)
t0 = time.time()
if full_run:
    full = final.run(start, iters, fresh=False)
    print(f"all vectors, {iters} steps: {held_out(full)} {time.time() - t0:.0f} s", flush=True)
rng, cross = np.random.default_rng(1), 0
for m in range(k):
    ix = torch.as_tensor(rng.choice(len(final.xw), int(frac * len(final.xw)), replace=False))
    iy = torch.as_tensor(rng.choice(len(final.yw), int(frac * len(final.yw)), replace=False))
    w = AL._wasserstein_procrustes(final.xw[ix], final.yw[iy], *start, iters, batch, cfg.final_wp_eps,
                                   np.random.default_rng(m), None, decay=cfg.final_wp_decay)
    cross = cross + w[0] @ w[1].T
    print(f"member {m}: {held_out(w)}; soup of {m + 1}: {held_out((procrustes_from_cross(cross)[0] @ procrustes_from_cross(cross)[1].T, torch.eye(cross.shape[1])))} {time.time() - t0:.0f} s", flush=True)
