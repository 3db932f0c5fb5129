"""Can the final label-free score pick between maps the restarts cannot tell apart? (e5 pairs)

    python final_pick.py minilm e5 1

The default's restarts for one seed (rival search and final steps off, so the restart sequence is the
default's), then the production final transport steps from the top-3 restarts by score (the chosen one
with two batch seeds): final mutual-CSLS on a 6,000-vector sample against held-out top-1. On MiniLM <-> e5
seeds 0 / 1 / 2 the default's restart scores were 0.2499 / 0.2500 / 0.2499 for top-1 0.914 / 0.847 / 0.893."""
import sys
from common import *

a, b, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
A, B = load("wiki", a), load("wiki", b)
x, y, xe, ye, _, _ = setup(a, b)
cfg = AlignConfig(seed=seed, rival_restarts=0, final_wp_iters=0)
t0 = time.time()
res = AL.fit_linear(A[SIDE_A], B[SIDE_B], cfg)
print(f"restarts {time.time() - t0:.0f} s, chosen {res.chosen}", flush=True)
g = np.random.default_rng(100)
xr, yr = x[torch.as_tensor(g.choice(len(x), 6000, replace=False))], y[torch.as_tensor(g.choice(len(y), 6000, replace=False))]
top = sorted(range(len(res.restarts)), key=lambda i: -res.restarts[i].score)[:3]
d = AlignConfig()
for i in top:
    for batch_seed in ((0, 1) if i == res.chosen else (0,)):
        m = res.candidates[i]
        wx, wy = torch.tensor(m.source_proj), torch.tensor(m.target_proj)
        fx, fy = AL._wasserstein_procrustes(x, y, wx, wy, d.final_wp_iters, d.final_wp_batch, d.final_wp_eps,
                                           np.random.default_rng(batch_seed), decay=d.final_wp_decay)
        _, _, sc = mutual_pairs(xr @ fx, yr @ fy, 10)
        print(f"restart {i} ({res.restarts[i].solver}, restart score {res.restarts[i].score:.4f}) batch seed {batch_seed}: "
              f"final score {sc.mean().item():.4f}, held-out {ev(xe, ye, fx, fy)}", flush=True)
