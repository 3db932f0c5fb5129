"""Final-stage variants from a found map: one-sided (EM / coherent-point-drift style) soft assignment
instead of the balanced Sinkhorn plan, and post-hoc covariance matching of the found map."""
from common import *
import os
a, b, start, mode = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
iters = int(os.environ.get("ITERS", 40))
x, y, xe, ye, (ox, oy), yA = setup(a, b)
rng = np.random.default_rng(0)
d = np.load(start); wx, wy = torch.tensor(d["Wx"]), torch.tensor(d["Wy"])
print("start", ev(xe, ye, wx, wy), "oracle", ev(xe, ye, ox, oy), flush=True)
eps, batch, decay = float(os.environ.get("EPS", 0.02)), int(os.environ.get("BATCH", 6000)), 0.8
running = None
t0 = time.time()
for t in range(iters):
    bx = x[torch.as_tensor(rng.choice(len(x), batch, replace=False))]
    by = y[torch.as_tensor(rng.choice(len(y), batch, replace=False))]
    sim = (bx @ wx) @ (by @ wy).T
    if mode == "rows":      # each source vector: softmax over targets (its target = a kernel average)
        plan = torch.softmax(sim / eps, dim=1) / len(bx)
    elif mode == "cols":    # each target vector: softmax over sources
        plan = torch.softmax(sim / eps, dim=0) / len(by)
    elif mode == "both":    # the two one-sided plans averaged
        plan = 0.5 * (torch.softmax(sim / eps, dim=1) / len(bx) + torch.softmax(sim / eps, dim=0) / len(by))
    else:
        plan = sinkhorn_plan(sim, eps)
    cross = len(bx) * (bx.T @ (plan @ by))
    running = cross if running is None else decay * running + (1 - decay) * cross
    wx, wy = procrustes_from_cross(running)
    if t % 10 == 9: print(t + 1, ev(xe, ye, wx, wy), ev(ye, xe, wy, wx), round(time.time() - t0), flush=True)
np.savez(f"final_{mode}_{a}_{b}.npz", Wx=wx.numpy(), Wy=wy.numpy())
