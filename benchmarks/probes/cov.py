"""Does second-moment agreement tell the oracle map from the drifted transport fixed point? Latent covariances
of both sides under a map, their relative Frobenius gap, along the production transport steps from the oracle."""
from common import *
a, b, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
x, y, xe, ye, (ox, oy), yA = setup(a, b)
cx, cy = x.T @ x / len(x), y.T @ y / len(y)
def gap(wx, wy):
    sx, sy = wx.T @ cx @ wx, wy.T @ cy @ wy
    return round(((sx - sy).norm() / sy.norm()).item(), 4)
half = len(x) // 2
cx1, cx2 = x[:half].T @ x[:half] / half, x[half:].T @ x[half:] / (len(x) - half)
print("sampling noise (two halves of x):", round(((ox.T @ (cx1 - cx2) @ ox).norm() / (ox.T @ cx @ ox).norm()).item(), 4))
wx, wy = ox, oy
print("oracle", ev(xe, ye, wx, wy), "cov gap", gap(wx, wy), flush=True)
rng = np.random.default_rng(0); running = None
for t in range(iters):
    bx = x[torch.as_tensor(rng.choice(len(x), 6000, replace=False))]
    by = y[torch.as_tensor(rng.choice(len(y), 6000, replace=False))]
    cross = bx.T @ (6000 * sinkhorn_plan((bx @ wx) @ (by @ wy).T, 0.02) @ by)
    running = cross if running is None else 0.8 * running + 0.2 * cross
    wx, wy = procrustes_from_cross(running)
    if t % 5 == 4: print(t + 1, ev(xe, ye, wx, wy), "cov gap", gap(wx, wy), flush=True)
