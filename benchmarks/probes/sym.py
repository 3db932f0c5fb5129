"""Symmetric smoothing: the transport barycentre of each source vector averages *other* target sentences near
its image, which biases Procrustes (debias.py, same.py). Give the source side the same kind of noise: replace
each source vector by its transport barycentre among an independent batch of *other* source vectors (same eps),
then fit Procrustes between the two barycentres. Mode 'base' = the production step, 'sym' = symmetric."""
from common import *
import os
a, b, mode, iters = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
start = sys.argv[5] if len(sys.argv) > 5 else "oracle"
eps, batch = float(os.environ.get("EPS", 0.02)), int(os.environ.get("BATCH", 6000))
x, y, xe, ye, (ox, oy), yA = setup(a, b)
if start == "oracle": wx, wy = ox, oy
else:
    d = np.load(start); wx, wy = torch.tensor(d["Wx"]), torch.tensor(d["Wy"])
print("start", ev(xe, ye, wx, wy), mode, "eps", eps, "batch", batch, flush=True)
rng = np.random.default_rng(0); running = None; t0 = time.time()
for t in range(iters):
    ix = torch.as_tensor(rng.choice(len(x), 2 * batch if mode != "base" else batch, replace=False))
    bx, bx2 = x[ix[:batch]], x[ix[batch:]]
    by = y[torch.as_tensor(rng.choice(len(y), batch, replace=False))]
    tb = batch * sinkhorn_plan((bx @ wx) @ (by @ wy).T, eps) @ by
    if mode == "sym":
        sx = batch * sinkhorn_plan((bx @ wx) @ (bx2 @ wx).T, eps) @ bx2
    else:
        sx = bx
    cross = sx.T @ tb
    running = cross if running is None else 0.8 * running + 0.2 * cross
    wx, wy = procrustes_from_cross(running)
    if t % 5 == 4: print(t + 1, ev(xe, ye, wx, wy), round(time.time() - t0), flush=True)
