"""Is the transport estimator's drift from the oracle map a finite-sample effect of disjoint halves, or
a mismatch of the two distributions under the best linear map? Run the same estimator with the target
side replaced by the *same* sentences as the source (still used unpaired)."""
from common import *
import os
a, b, mode, iters = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
x, y, xe, ye, (ox, oy), yA = setup(a, b)
if mode == "same": y = yA
wx, wy = ox, oy
print("start", ev(xe, ye, wx, wy), "target side:", mode, flush=True)
rng = np.random.default_rng(0); running = None; t0 = time.time()
batch = min(int(os.environ.get("BATCH", 6000)), len(x), len(y))
for t in range(iters):
    bx = x[torch.as_tensor(rng.choice(len(x), batch, replace=False))]
    by = y[torch.as_tensor(rng.choice(len(y), batch, replace=False))]
    plan = sinkhorn_plan((bx @ wx) @ (by @ wy).T, 0.02)
    cross = bx.T @ (len(bx) * plan @ by)
    running = cross if running is None else 0.8 * running + 0.2 * cross
    wx, wy = procrustes_from_cross(running)
    if t % 5 == 4: print(t + 1, ev(xe, ye, wx, wy), round(time.time() - t0), flush=True)
