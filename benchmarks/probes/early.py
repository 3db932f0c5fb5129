"""Can a failing restart be told apart early? For R restarts of each solver (the default aligner's sampling), the
label-free score (mutual CSLS on the 6,000-vector restart sample, no refinement) along the iterations, then the
restart score after the usual refinement, and the held-out top-1 of the refined map (latent evaluation).

    python early.py mpnet e5 0 8 [ws]   # pair, seed, restarts per solver, solvers (w: Wasserstein, s: self-learning)
"""
from common import *
import math
a, b, seed, R = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
solvers = sys.argv[5] if len(sys.argv) > 5 else "ws"
x, y, xe, ye, _, _ = setup(a, b)
cfg = AlignConfig(seed=seed)
gen = torch.Generator().manual_seed(seed); rng = np.random.default_rng(seed)
xr = x[torch.as_tensor(rng.choice(len(x), cfg.refine_max, replace=False))]
yr = y[torch.as_tensor(rng.choice(len(y), cfg.refine_max, replace=False))]
def quick(wx, wy):
    _, _, s = mutual_pairs(xr @ wx, yr @ wy, cfg.csls_k); return round(s.mean().item(), 4) if len(s) else float("nan")
def finish(tag, r, wx, wy, trace, t0):
    wx, wy, score, _ = AL._refine(xr, yr, wx, wy, cfg.refine_iters, cfg.csls_k, None)
    print(tag, r, "trace", trace, "restart score", round(score, 4), "top-1", ev(xe, ye, wx, wy), f"{time.perf_counter() - t0:.0f} s", flush=True)
for r in range(R if "w" in solvers else 0):  # Wasserstein-Procrustes restarts, in chunks of 25 steps (equivalent: no running average there)
    t0 = time.perf_counter()
    xs = x[torch.as_tensor(rng.choice(len(x), cfg.sample_size, replace=False))]
    ys = y[torch.as_tensor(rng.choice(len(y), cfg.sample_size, replace=False))]
    wx, wy = pca_skew_init(xs, ys, cfg.pca_directions) if r == 0 else AL._first_map(xs, ys, cfg, None)
    trace = []
    for t in range(0, cfg.wp_iters, 25):
        wx, wy = AL._wasserstein_procrustes(x, y, wx, wy, 25, cfg.wp_batch, cfg.wp_eps, rng)
        trace.append((t + 25, quick(wx, wy)))
    finish("wasserstein", r, wx, wy, trace, t0)
for r in range(R if "s" in solvers else 0):  # self-learning restarts: AL._self_learn's loop with a trace every 50 iterations
    t0 = time.perf_counter()
    xs = x[torch.as_tensor(rng.choice(len(x), cfg.sample_size, replace=False))]
    ys = y[torch.as_tensor(rng.choice(len(y), cfg.sample_size, replace=False))]
    scores = csls(sorted_similarity_signature(xs) @ sorted_similarity_signature(ys).T, cfg.csls_k)
    src, trg = induce(scores, 1.0, gen)
    keep, best, stall, trace = cfg.keep_start, -math.inf, 0, []
    for it in range(1, cfg.max_iters + 1):
        wx, wy = procrustes(xs[src], ys[trg])
        scores = csls((xs @ wx) @ (ys @ wy).T, cfg.csls_k)
        objective = scores.max(dim=1).values.mean().item()
        src, trg = induce(scores, keep, gen)
        if it % 50 == 0:
            trace.append((it, round(objective, 4), quick(wx, wy)))
        if objective > best + 1e-4:
            best, stall = objective, 0
        else:
            stall += 1
            if stall >= cfg.patience:
                if keep >= 1.0:
                    break
                keep, stall = min(1.0, 2 * keep), 0
    trace.append((it, round(objective, 4), quick(wx, wy)))
    finish("self-learning", r, wx, wy, trace, t0)
