from common import *
a, b, p = sys.argv[1], sys.argv[2], float(sys.argv[3])
start = sys.argv[4]
iters = int(sys.argv[5]) if len(sys.argv) > 5 else 30
x, y, xe, ye, (ox, oy), yA = setup(a, b)
rng = np.random.default_rng(0)
if start == "oracle": wx, wy = ox, oy
else:
    d = np.load(start); wx, wy = torch.tensor(d["Wx"]), torch.tensor(d["Wy"])
print("start", ev(xe, ye, wx, wy), "oracle", ev(xe, ye, ox, oy), flush=True)
running, w = None, None
import os; eps, batch, decay = float(os.environ.get("EPS", 0.02)), int(os.environ.get("BATCH", 6000)), float(os.environ.get("DECAY", 0.8))
batch = min(batch, len(x), len(y))
t0 = time.time()
for t in range(iters):
    bx = x[torch.as_tensor(rng.choice(len(x), batch, replace=False))]
    by = y[torch.as_tensor(rng.choice(len(y), batch, replace=False))]
    zx, zy = bx @ wx, by @ wy
    if w is not None:
        sim = (zx * w) @ zy.T
        sim = sim / (w.mean())  # keep the scale comparable
    else:
        sim = zx @ zy.T
    plan = sinkhorn_plan(sim, eps)
    cross = bx.T @ (len(bx) * plan @ by)
    running = cross if running is None else decay * running + (1 - decay) * cross
    u, s, vh = torch.linalg.svd(running, full_matrices=False)
    wx, wy = u, vh.T
    if p: w = (s / s.max()) ** p
    if t % 5 == 4: print(t + 1, ev(xe, ye, wx, wy), round(time.time() - t0), flush=True)
