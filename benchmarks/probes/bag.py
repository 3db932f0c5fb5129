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
x, y, cfg, final, held_out, start = final_steps_setup(a, b)
print(f"K={k} FRAC={frac} BATCH={batch} start {held_out(start)}", flush=True)
t0 = time.time()
if full_run:
    full = final.run(start, iters, fresh=False)
    print(f"all vectors, {iters} steps: {held_out(full)} {time.time() - t0:.0f} s", flush=True)
cross = 0
for m, w in enumerate(bag_members(final, start, iters, k, frac, batch, np.random.default_rng(1),
                                  [np.random.default_rng(m) for m in range(k)])):
    cross = cross + w[0] @ w[1].T
    print(f"member {m}: {held_out(w)}; soup of {m + 1}: {held_out(procrustes_from_cross(cross))} {time.time() - t0:.0f} s", flush=True)
