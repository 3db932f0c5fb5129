"""Densified final steps: each side's training vectors plus interpolations between neighbours of the same side.

    python mixup.py minilm e5 40                               # from the half-whitened oracle
    START=found_minilm_e5_0.npz python mixup.py minilm e5 80   # from a found restart map

Sessions 17-31 found the final steps' limit is their estimator's error at 13,805 vectors per side (half the data
drifts further; batch size, plan sharpness, bagging, jitter and cross-fitting do not help). A linear map commutes with
interpolation: W(t x_i + (1 - t) x_j) = t W x_i + (1 - t) W x_j, and where the two spaces' neighbourhoods agree, the
interpolations between neighbours in one space correspond to those in the other. So each side is densified with
AUG x n points, each between a vector and one of its K nearest neighbours in its own space (t uniform in [LO, 1 - LO]),
drawn afresh every step (FRESH=1) or once. Prints held-out top-1 (de-whitened) every 10 steps beside the production
steps on the original vectors (unless FULL=0)."""
import os
import sys
from common import *

a, b, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
K, AUG, LO = int(os.environ.get("K", 5)), float(os.environ.get("AUG", 1.0)), float(os.environ.get("LO", 0.25))
FRESH, REAL = os.environ.get("FRESH", "1") == "1", os.environ.get("REAL", "1") == "1"
x, y, cfg, final, held_out, start = final_steps_setup(a, b)
print(f"start {held_out(start)} K={K} AUG={AUG} LO={LO} FRESH={FRESH} REAL={REAL}", flush=True)
if os.environ.get("FULL", "1") == "1":
    t0 = time.time()
    print(f"production, {iters} steps: {held_out(final.run(start, iters, fresh=False))} {time.time() - t0:.0f} s", flush=True)


def neighbours(v, k, chunk=2048):
    u, out = unit(v), []
    for s in range(0, len(u), chunk):
        sim = u[s:s + chunk] @ u.T
        sim[torch.arange(len(sim)), torch.arange(s, s + len(sim))] = -2
        out.append(sim.topk(k, dim=1).indices)
    return torch.cat(out)


rng = np.random.default_rng(1)
nbrs = [neighbours(v, K) for v in (x, y)]  # neighbours in each space's own (centred, unit) coordinates
pools = (final.xw, final.yw)


def densify(v, nb):
    m = int(AUG * len(v))
    i = torch.as_tensor(rng.integers(0, len(v), m))
    j = nb[i, torch.as_tensor(rng.integers(0, nb.shape[1], m))]
    t = torch.as_tensor(rng.uniform(LO, 1 - LO, m), dtype=v.dtype)[:, None]
    aug = t * v[i] + (1 - t) * v[j]
    return torch.cat([v, aug]) if REAL else aug


data = [densify(v, nb) for v, nb in zip(pools, nbrs)]
batch, eps, decay = cfg.final_wp_batch, cfg.final_wp_eps, cfg.final_wp_decay
w, running, t0 = start, None, time.time()
for t in range(iters):
    if FRESH and t:
        data = [densify(v, nb) for v, nb in zip(pools, nbrs)]
    bx, by = (d[torch.as_tensor(rng.choice(len(d), min(batch, len(d)), replace=False))] for d in data)
    cross = sinkhorn_cross((unit(bx) @ w[0]) @ (unit(by) @ w[1]).T, bx, by, eps)
    running = cross if running is None else decay * running + (1 - decay) * cross
    w = procrustes_from_cross(running)
    if t % 10 == 9:
        print(f"densified {t + 1}: {held_out(w)} {time.time() - t0:.0f} s", flush=True)
