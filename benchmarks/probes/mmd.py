"""Kernel (MMD) refinement of an orthogonal map: maximise sum_ij exp((<x_i Q, y_j> - 1) / s2) over
rotations Q of the latent by minorise-maximise steps Q <- polar(X^T W Y) (W the kernel weights)."""
from common import *
import os
a, b, start, s2, iters = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
batch, decay = int(os.environ.get("BATCH", 6000)), float(os.environ.get("DECAY", 0.8))
x, y, xe, ye, (ox, oy), yA = setup(a, b)
if start == "oracle": wx, wy = ox, oy
else:
    d = np.load(start); wx, wy = torch.tensor(d["Wx"]), torch.tensor(d["Wy"])
print("start", ev(xe, ye, wx, wy), "oracle", ev(xe, ye, ox, oy), flush=True)
rng = np.random.default_rng(0); running = None; t0 = time.time()
for t in range(iters):
    bx = x[torch.as_tensor(rng.choice(len(x), min(batch, len(x)), replace=False))]
    by = y[torch.as_tensor(rng.choice(len(y), min(batch, len(y)), replace=False))]
    sim = (bx @ wx) @ (by @ wy).T
    w = torch.exp((sim - 1) / s2)
    w = w / w.sum()
    cross = bx.T @ (w @ by)
    running = cross if running is None or not decay else decay * running + (1 - decay) * cross
    wx, wy = procrustes_from_cross(running)
    if t % 5 == 4: print(t + 1, ev(xe, ye, wx, wy), round(time.time() - t0), flush=True)
