"""Cross-fitted final steps: two maps, each fitted on the transport plans of one half of both sides computed under
the *other* half's map.

    python crossfit.py minilm e5 40                               # from the half-whitened oracle
    START=found_minilm_e5_0.npz python crossfit.py minilm e5 80   # from a found restart map

Session 17 found that the final steps overfit the training sample: the map bends to make the sample's own points
match (on training vectors it outscores the oracle; on held-out vectors the oracle wins). The loop is map -> plan
on these points -> map fitted to that plan. Sample splitting (as in double machine learning) breaks the loop:
the plan on half 1 is formed under map 2, which never saw half 1's points, and map 1 is fitted to it; then
the other way. Prints the held-out top-1 (de-whitened) of map 1, map 2 and their average (polar factor of the
summed whitened maps) every 10 steps, beside the production steps on all vectors (unless FULL=0).

Result (session 31): from the oracle, cross-fitted 10 / 20 / 30 / 40 steps: average 0.960 / 0.949 / 0.942 / 0.937
against the production steps' 0.947 at 40; each half's map drifts faster (half the data), and the loop was not the
cause. Not adopted."""
import os
import sys
from common import *

a, b, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
full_run = os.environ.get("FULL", "1") == "1"
x, y, cfg, final, held_out, start = final_steps_setup(a, b)
print(f"start {held_out(start)}", flush=True)
t0 = time.time()
if full_run:
    full = final.run(start, iters, fresh=False)
    print(f"all vectors, {iters} production steps: {held_out(full)} {time.time() - t0:.0f} s", flush=True)
rng = np.random.default_rng(1)
px, py = (torch.as_tensor(rng.permutation(len(v))) for v in (final.xw, final.yw))
halves = [(final.xw[px[i::2]], final.yw[py[i::2]]) for i in (0, 1)]
batch = int(os.environ.get("BATCH", min(len(h[0]) for h in halves)))
eps, decay = cfg.final_wp_eps, cfg.final_wp_decay
maps, running = [start, start], [None, None]
t0 = time.time()
for t in range(iters):
    new = []
    for i in (0, 1):
        hx, hy = halves[i]
        bx = hx[torch.as_tensor(rng.choice(len(hx), min(batch, len(hx)), replace=False))]
        by = hy[torch.as_tensor(rng.choice(len(hy), min(batch, len(hy)), replace=False))]
        wx, wy = maps[1 - i]  # the other half's map forms this half's plan
        cross = sinkhorn_cross((unit(bx) @ wx) @ (unit(by) @ wy).T, bx, by, eps)
        running[i] = cross if running[i] is None else decay * running[i] + (1 - decay) * cross
        new.append(procrustes_from_cross(running[i]))
    maps = new
    if t % 10 == 9:
        soup = procrustes_from_cross(maps[0][0] @ maps[0][1].T + maps[1][0] @ maps[1][1].T)
        print(f"cross-fitted {t + 1}: map1 {held_out(maps[0])} map2 {held_out(maps[1])} avg {held_out(soup)} "
              f"{time.time() - t0:.0f} s", flush=True)
