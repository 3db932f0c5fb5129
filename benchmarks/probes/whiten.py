"""VecMap-style whitening (Artetxe et al. 2018): does the transport estimator drift less from the oracle
map when each space is whitened first? Oracle and estimator in whitened coordinates; evaluated in the
whitened latent and after de-whitening into the target space (and, reverse, into the source space). ALPHA < 1 whitens partially (covariance^-ALPHA/2);
START=found_*.npz starts from a map found in plain coordinates instead of the oracle."""
from common import *
import os
a, b, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
floor = float(os.environ.get("FLOOR", 1e-3)); eps = float(os.environ.get("EPS", 0.02)); alpha = float(os.environ.get("ALPHA", 1.0))
x, y, xe, ye, (ox, oy), yA = setup(a, b)
def whitener(v):
    c = (v.T @ v / len(v)).double(); lam, u = torch.linalg.eigh(c); lam = lam.clamp_min(floor * lam.max())
    return (u * lam.rsqrt() ** alpha) @ u.T, (u * lam.sqrt() ** alpha) @ u.T
(wxh, wxd), (wyh, wyd) = whitener(x), whitener(y)
wxh, wxd, wyh, wyd = wxh.float(), wxd.float(), wyh.float(), wyd.float()
X, Y, XA = x @ wxh, y @ wyh, yA @ wyh
def both(wx, wy):
    lat = ev(xe @ wxh, ye @ wyh, wx, wy)
    yhat = unit(xe @ wxh @ wx @ wy.T @ wyd)
    s = yhat @ ye.T; top = (s.argmax(1) == torch.arange(len(xe))).float().mean().item()
    xhat = unit(ye @ wyh @ wy @ wx.T @ wxd)  # the reverse direction, de-whitened into the source space
    s2 = xhat @ xe.T; back = (s2.argmax(1) == torch.arange(len(ye))).float().mean().item()
    return lat, round(top, 4), round(back, 4)
print("plain oracle", ev(xe, ye, ox, oy))
wx, wy = procrustes(X, XA)
print("whitened oracle (latent, dewhitened)", both(wx, wy), flush=True)
rng = np.random.default_rng(0); running = None; batch = min(8000, len(x), len(y))
Xn, Yn = unit(X), unit(Y)
if os.environ.get("START"):  # a map found in plain coordinates: one plan under it gives the whitened start
    d = np.load(os.environ["START"]); px, py = torch.tensor(d["Wx"]), torch.tensor(d["Wy"])
    print("start (plain)", ev(xe, ye, px, py))
    bi = torch.as_tensor(rng.choice(len(X), batch, replace=False)); bj = torch.as_tensor(rng.choice(len(Y), batch, replace=False))
    wx, wy = procrustes_from_cross(X[bi].T @ (batch * sinkhorn_plan((x[bi] @ px) @ (y[bj] @ py).T, eps) @ Y[bj]))
    print("start (latent, dewhitened)", both(wx, wy), flush=True)
for t in range(iters):
    bi = torch.as_tensor(rng.choice(len(X), batch, replace=False)); bj = torch.as_tensor(rng.choice(len(Y), batch, replace=False))
    plan = sinkhorn_plan((Xn[bi] @ wx) @ (Yn[bj] @ wy).T, eps)
    cross = X[bi].T @ (len(bi) * plan @ Y[bj])
    running = cross if running is None else 0.8 * running + 0.2 * cross
    wx, wy = procrustes_from_cross(running)
    if t % 5 == 4: print(t + 1, both(wx, wy), flush=True)
