"""Does a rotation between the top-k principal subspaces drift less from the oracle (fewer free parameters)?
For k in the list: oracle Procrustes in the subspaces, then the final-stage transport estimator from it."""
from common import *
import os
a, b = sys.argv[1], sys.argv[2]
ks = [int(k) for k in sys.argv[3].split(",")]
iters = int(sys.argv[4])
x, y, xe, ye, (ox, oy), yA = setup(a, b)
print("full oracle", ev(xe, ye, ox, oy), flush=True)
def pcs(v, k):
    _, _, vh = torch.linalg.svd(v - v.mean(0), full_matrices=False)
    return vh[:k].T
for k in ks:
    px, py = pcs(x, k), pcs(y, k)
    X, Y, XA = x @ px, y @ py, yA @ py
    wx, wy = procrustes(X, XA)
    print(k, "oracle", ev(xe @ px, ye @ py, wx, wy), flush=True)
    rng = np.random.default_rng(0); running = None
    batch = min(int(os.environ.get("BATCH", 8000)), len(x), len(y))
    for t in range(iters):
        bx = X[torch.as_tensor(rng.choice(len(X), batch, replace=False))]
        by = Y[torch.as_tensor(rng.choice(len(Y), batch, replace=False))]
        plan = sinkhorn_plan((bx @ wx) @ (by @ wy).T, float(os.environ.get("EPS", 0.02)))
        cross = bx.T @ (len(bx) * plan @ by)
        running = cross if running is None else 0.8 * running + 0.2 * cross
        wx, wy = procrustes_from_cross(running)
        if t % 10 == 9: print(k, t + 1, ev(xe @ px, ye @ py, wx, wy), flush=True)
