"""Shrinkage by averaging (after mini-vec2vec's refinement, W <- 0.5 W + 0.5 Procrustes): does a
*non-orthogonal* map, the average of the transport steps' orthogonal maps, retrieve better than the last
orthogonal map? Directions where successive steps disagree average towards zero.
Modes: 'avg' = the production final steps, then M = mean of wx wy^T over the last half of the steps;
'mix' = W <- (1 - a) W + a P_t, with the neighbour search (transport plan) under the current W."""
from common import *
import os
a, b, start, mode, iters = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
alpha = float(os.environ.get("ALPHA", 0.5)); batch = int(os.environ.get("BATCH", 8000)); eps = float(os.environ.get("EPS", 0.02))
x, y, xe, ye, (ox, oy), yA = setup(a, b)
if start == "oracle": wx, wy = ox, oy
else:
    d = np.load(start); wx, wy = torch.tensor(d["Wx"]), torch.tensor(d["Wy"])
def evm(m): return ev_map(xe, ye, m)
print("start", evm(wx @ wy.T), flush=True)
rng = np.random.default_rng(0); running = None; batch = min(batch, len(x), len(y))
M = wx @ wy.T; acc, n = torch.zeros_like(M), 0
for t in range(iters):
    bx = x[torch.as_tensor(rng.choice(len(x), batch, replace=False))]
    by = y[torch.as_tensor(rng.choice(len(y), batch, replace=False))]
    if mode == "mix":
        sim = unit(bx @ M) @ by.T
    else:
        sim = (bx @ wx) @ (by @ wy).T
    plan = sinkhorn_plan(sim, eps)
    cross = bx.T @ (len(bx) * plan @ by)
    if mode == "mix":
        px, py = procrustes_from_cross(cross); M = (1 - alpha) * M + alpha * (px @ py.T)
    else:
        running = cross if running is None else 0.8 * running + 0.2 * cross
        wx, wy = procrustes_from_cross(running)
        if t >= iters // 2: acc += wx @ wy.T; n += 1
    if t % 10 == 9:
        print(t + 1, "last" if mode != "mix" else "M", evm(M if mode == "mix" else wx @ wy.T), "avg" if n else "", evm(acc / n) if n else "", flush=True)
