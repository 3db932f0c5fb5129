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
def sym_cross(bx_both, by, wx, wy):
    bx, bx2 = bx_both[:batch], bx_both[batch:]
    tb = batch * sinkhorn_plan((bx @ wx) @ (by @ wy).T, eps) @ by
    sx = batch * sinkhorn_plan((bx @ wx) @ (bx2 @ wx).T, eps) @ bx2
    return sx.T @ tb
t0 = time.time()
transport_steps(x, y, wx, wy, iters, None if mode == "base" else sym_cross, batch=batch,
                x_draw=batch if mode == "base" else 2 * batch, eps=eps,
                show=lambda t, wx, wy: print(t, ev(xe, ye, wx, wy), round(time.time() - t0), flush=True))
