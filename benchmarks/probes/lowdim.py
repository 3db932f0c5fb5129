"""Search the alignment of the top principal subspaces first: a low-dimensional Wasserstein-Procrustes with many
cheap random restarts, then lift the best (by a label-free score) to a full-space start.

    python lowdim.py wordnet minilm e5 0 8 16 40     # corpus, models, seed, M (source dims), M2 (target dims), restarts
    STEPS=60 BATCH=1000 EPS=0.05 LIFT=3 FULL=150 python lowdim.py ...

Each restart: a random M x M2 map with orthonormal rows between the source's top-M and the target's top-M2 principal
coordinates (unit-normalised), STEPS transport steps on batches of BATCH per side. Label-free score: the mean
transport similarity on a fixed batch of 4,000 per side (eps 0.05). Reported against labels (for the probe only): the
lifted start's held-out top-1 / rank, the lifted start being the images of the source's top-M directions with the
rest completed at random; first, the oracle's low-dimensional map and where the steps take it. The LIFT best by the score then run FULL full-space steps (production restart settings).
"""
import os
from common import *

corpus, a, b, seed, M, M2, R = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:8])
n = int(os.environ.get("N", 13805))
x, y, xe, ye, yA = corpus_setup(corpus, a, b, n)
STEPS, BATCH, EPS = int(os.environ.get("STEPS", 60)), int(os.environ.get("BATCH", 1000)), float(os.environ.get("EPS", 0.05))
LIFT, FULL = int(os.environ.get("LIFT", 3)), int(os.environ.get("FULL", 150))
ux = torch.linalg.eigh(x.T @ x)[1].flip(1)
uy = torch.linalg.eigh(y.T @ y)[1].flip(1)
xl, yl = unit(x @ ux[:, :M]), unit(y @ uy[:, :M2])
rng = np.random.default_rng(seed)
g = torch.Generator().manual_seed(seed)
ex = xl[torch.as_tensor(rng.choice(n, 4000, replace=False))]
ey = yl[torch.as_tensor(rng.choice(n, 4000, replace=False))]


def polar(c):
    u, _, vt = torch.linalg.svd(c, full_matrices=False)
    return u @ vt


def low_score(w):
    s = (ex @ w) @ ey.T
    return (sinkhorn_plan(s, 0.05) * s).sum().item()


def lift(w):
    d = x.shape[1]
    v = uy[:, :M2] @ w.T                       # images of the source's top-M directions, (d_y, M)
    p = torch.eye(y.shape[1]) - v @ v.T
    vc = torch.linalg.qr(p @ torch.randn(y.shape[1], d - M, generator=g))[0]
    return ux[:, :M] @ v.T + ux[:, M:] @ vc.T, torch.eye(y.shape[1])   # d_x == d_y here


def low_steps(w, steps):
    for _ in range(steps):
        bx = xl[torch.as_tensor(rng.choice(n, BATCH, replace=False))]
        by = yl[torch.as_tensor(rng.choice(n, BATCH, replace=False))]
        w = polar(bx.T @ sinkhorn_plan((bx @ w) @ by.T, EPS) @ by)
    return w


ox, oy = procrustes(x, yA)
oracle = polar(ux[:, :M].T @ ox @ oy.T @ uy[:, :M2])   # the oracle between the two principal coordinate systems
moved = low_steps(oracle, STEPS)
print(f"oracle low-dim map: score {low_score(oracle):.4f}, lifted start {ev(xe, ye, *lift(oracle))}; after {STEPS} "
      f"low-dim steps from it: score {low_score(moved):.4f}, lifted {ev(xe, ye, *lift(moved))}", flush=True)
found = []
t0 = time.perf_counter()
for r in range(R):
    w = low_steps(polar(torch.randn(M, M2, generator=g)), STEPS)
    wx, wy = lift(w)
    found.append((low_score(w), w, ev(xe, ye, wx, wy)))
print(f"{corpus} {a}->{b} M {M} M2 {M2}: {R} low-dim restarts, {time.perf_counter() - t0:.0f} s", flush=True)
found.sort(key=lambda f: -f[0])
for s, w, e in found:
    print(f"  score {s:.4f}  lifted start {e}")
for s, w, e in found[:LIFT]:
    t0 = time.perf_counter()
    wx, wy = AL._wasserstein_procrustes(x, y, *lift(w), FULL, 2000, 0.05, rng)
    print(f"score {s:.4f}: after {FULL} full steps {ev(xe, ye, wx, wy)} ({time.perf_counter() - t0:.0f} s)", flush=True)
