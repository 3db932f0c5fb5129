"""Does a coarse-to-fine transport (large eps first) make more Wasserstein-Procrustes restarts converge?

    python restart_eps.py mpnet e5 0 8 0.05            # the default: eps 0.05 for all 250 steps
    python restart_eps.py mpnet e5 0 8 0.2:0.05:125    # eps from 0.2 down to 0.05 (geometric) over 125 steps, then 0.05
    N=4000 python restart_eps.py minilm e5 0 8 0.05     # the first N vectors of each training half only

Restart r draws its sample and batches from ``default_rng([seed, r])``, so restart r starts from the same map
(restart 0: principal directions; the others: signatures, as in the aligner) under every schedule: a paired
comparison. Per restart: the label-free restart score after the usual refinement and the held-out top-1 (latent
evaluation, 8,192 wiki sentences); a restart counts as converged at top-1 >= 0.3.
"""
import os
from common import *

a, b, seed, R, sched = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
x, y, xe, ye, _, _ = setup(a, b)
n = int(os.environ.get("N", 0))
if n:
    x, y = x[:n], y[:n]
cfg = AlignConfig(seed=seed)
parts = [float(p) for p in sched.split(":")]
eps0, eps1, span = (parts[0], parts[0], 1) if len(parts) == 1 else (parts[0], parts[1], int(parts[2]))
chunk = 25


def eps_at(t):  # geometric from eps0 to eps1 over `span` steps, then eps1
    return eps1 if t >= span else eps0 * (eps1 / eps0) ** (t / span)


rng0 = np.random.default_rng(seed)
m = min(cfg.refine_max, len(x), len(y))
xr = x[torch.as_tensor(rng0.choice(len(x), m, replace=False))]
yr = y[torch.as_tensor(rng0.choice(len(y), m, replace=False))]
converged, t_all = 0, time.perf_counter()
for r in range(R):
    t0 = time.perf_counter()
    rng = np.random.default_rng([seed, r])
    k = min(cfg.sample_size, len(x), len(y))
    xs = x[torch.as_tensor(rng.choice(len(x), k, replace=False))]
    ys = y[torch.as_tensor(rng.choice(len(y), k, replace=False))]
    wx, wy = pca_skew_init(xs, ys, cfg.pca_directions) if r == 0 else AL._first_map(xs, ys, cfg, None)
    for t in range(0, cfg.wp_iters, chunk):
        wx, wy = AL._wasserstein_procrustes(x, y, wx, wy, chunk, cfg.wp_batch, eps_at(t), rng)
    wx, wy, score, _ = AL._refine(xr, yr, wx, wy, cfg.refine_iters, cfg.csls_k, None)
    top, rank = ev(xe, ye, wx, wy)
    converged += top >= 0.3
    print(f"restart {r}: score {score:.4f} top-1 {top:.3f} rank {rank:.1f} ({time.perf_counter() - t0:.0f} s)", flush=True)
print(f"{a}<->{b} N={n or len(x)} seed {seed} schedule {sched}: {converged}/{R} converged "
      f"({time.perf_counter() - t_all:.0f} s)", flush=True)
