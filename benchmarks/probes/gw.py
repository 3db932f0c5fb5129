"""Entropic Gromov-Wasserstein on two random samples as a pairless initialiser: does its objective prefer the true
correspondence, and does its plan give a start inside the Wasserstein-Procrustes basin where signatures do not?

    python gw.py wordnet minilm e5 0 2        # corpus, models, seed, restarts
    KNN=20 KERNEL=knn|cos SAMPLE=2000 ITERS=60 STEPS=150 python gw.py ...

Per restart: a random sample per side (SAMPLE), kernels K1, K2 (knn: symmetric 20-nearest-neighbour graph; cos: the
cosine similarities, i.e. linear-kernel GW), plans T <- Sinkhorn(K1 T K2 / eps) from a random plan (K1 T K2
standardised first, eps relative to its spread: 0.3 and 0.15; log-domain Sinkhorn). The GW objective sum K1 T K2 * T of the found plan
against that of the oracle's plan (a sharp transport plan under the oracle map on the same samples); held-out top-1 /
rank of the found plan's map (Procrustes on its cross-covariance), and after STEPS Wasserstein-Procrustes steps.
"""
import os
from common import *
from v2v_store.train.transport import sinkhorn_plan_log

corpus, a, b, seed, R = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
n = int(os.environ.get("N", 13805))
x, y, xe, ye, yA = corpus_setup(corpus, a, b, n)
ox, oy = procrustes(x, yA)
KNN, ITERS = int(os.environ.get("KNN", 20)), int(os.environ.get("ITERS", 60))
SAMPLE, STEPS, KERNEL = int(os.environ.get("SAMPLE", 2000)), int(os.environ.get("STEPS", 150)), os.environ.get("KERNEL", "knn")


def kernel(v):
    s = v @ v.T
    if KERNEL == "cos":
        return s
    s.fill_diagonal_(-2)
    k = torch.zeros_like(s).scatter_(1, s.topk(KNN, dim=1).indices, 1.0)
    return (k + k.T) / 2


def gw_plan(k1, k2, eps, rng):
    m = len(k1)
    t = sinkhorn_plan(torch.tensor(rng.random((m, m)), dtype=torch.float32), 1.0)
    for _ in range(ITERS):
        g = k1 @ t @ k2
        t = sinkhorn_plan_log((g - g.mean()) / g.std(), eps, 30)  # log domain: sharp plans overflow exp()
    return t


for r in range(R):
    rng = np.random.default_rng([seed, r])
    xs = x[torch.as_tensor(rng.choice(len(x), SAMPLE, replace=False))]
    ys = y[torch.as_tensor(rng.choice(len(y), SAMPLE, replace=False))]
    k1, k2 = kernel(xs), kernel(ys)
    objective = lambda t: round((k1 @ t @ k2 * t).sum().item() * SAMPLE, 4)
    print(f"restart {r} ({KERNEL}): oracle plan's GW objective {objective(sinkhorn_plan((xs @ ox) @ (ys @ oy).T, 0.02))}",
          flush=True)
    for eps in (0.3, 0.15):
        t0 = time.perf_counter()
        t = gw_plan(k1, k2, eps, rng)
        wx, wy = procrustes_from_cross(xs.T @ t @ ys)
        start = ev(xe, ye, wx, wy)
        wx, wy = AL._wasserstein_procrustes(x, y, wx, wy, STEPS, 2000, 0.05, rng)
        print(f"  GW eps {eps}: objective {objective(t)}, start {start}, after {STEPS} steps {ev(xe, ye, wx, wy)} "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
