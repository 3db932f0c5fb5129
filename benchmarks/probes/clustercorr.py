"""mini-vec2vec's cluster-level correction after the final steps: k-means (K clusters) in the source
space, k-means in the target space started at the mapped source centroids, Procrustes on the centroid
pairs, W <- (1 - a) W + a W_centroids. Centroids average many vectors, so the noise of single
pseudo-pairs between different sentences averages out."""
from common import *
import os
a, b, start, iters = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
K = int(os.environ.get("K", 500)); alpha = float(os.environ.get("ALPHA", 0.5)); rounds = int(os.environ.get("ROUNDS", 3))
x, y, xe, ye, (ox, oy), yA = setup(a, b)
d = np.load(start); wx, wy = torch.tensor(d["Wx"]), torch.tensor(d["Wy"])
def evm(m): return ev_map(xe, ye, m)
# the production final steps first
rng = np.random.default_rng(0); running = None
for t in range(iters):
    bx = x[torch.as_tensor(rng.choice(len(x), 8000, replace=False))]; by = y[torch.as_tensor(rng.choice(len(y), 8000, replace=False))]
    plan = sinkhorn_plan((bx @ wx) @ (by @ wy).T, 0.02)
    cross = bx.T @ (len(bx) * plan @ by)
    running = cross if running is None else 0.8 * running + 0.2 * cross
    wx, wy = procrustes_from_cross(running)
M = wx @ wy.T
print("after final steps", evm(M), "oracle", evm(ox @ oy.T), flush=True)
def kmeans(v, init, it=25):
    c = init.clone()
    for _ in range(it):
        lab = (v @ c.T).argmax(1)
        for_c = torch.zeros_like(c).index_add_(0, lab, v); cnt = torch.bincount(lab, minlength=len(c)).float()
        keep = cnt > 0
        c[keep] = unit(for_c[keep] / cnt[keep, None])
    return c, torch.bincount((v @ c.T).argmax(1), minlength=len(c))
g = torch.Generator().manual_seed(0)
for r in range(rounds):
    cx, nx = kmeans(x, x[torch.randperm(len(x), generator=g)[:K]])
    cy, ny = kmeans(y, unit(cx @ M))
    w = torch.minimum(nx, ny).float().clamp_min(0)
    px, py = procrustes(cx * w.sqrt()[:, None], cy * w.sqrt()[:, None])
    print(r, "centroid cos", round(torch.nn.functional.cosine_similarity(unit(cx @ M), cy).mean().item(), 4),
          "centroid map alone", evm(px @ py.T), end=" ")
    M = (1 - alpha) * M + alpha * (px @ py.T)
    print("mixed", evm(M), flush=True)
