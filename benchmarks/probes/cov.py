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
transport_steps(x, y, wx, wy, iters, show=lambda t, wx, wy: print(t, ev(xe, ye, wx, wy), "cov gap", gap(wx, wy), flush=True))
