from common import *
a, b = sys.argv[1], sys.argv[2]
x, y, xe, ye, (ox, oy), yA = setup(a, b)
print("oracle", ev(xe, ye, ox, oy))
rng = np.random.default_rng(0)
def self_shrink(y, wy, eps, batch, reps=3):
    # linear smoothing operator of transport within the target latent
    S = 0
    for _ in range(reps):
        i = torch.as_tensor(rng.choice(len(y), 2 * batch, replace=False))
        y1, y2 = y[i[:batch]] @ wy, y[i[batch:]] @ wy
        plan = sinkhorn_plan(y1 @ y2.T, eps)
        bb = len(y1) * plan @ y2
        S = S + torch.linalg.lstsq(y1, bb).solution  # bb ≈ y1 @ S
    return S / reps
def run(wx, wy, iters, debias, eps=0.02, batch=6000, decay=0.8):
    running = None
    for t in range(iters):
        bx = x[torch.as_tensor(rng.choice(len(x), batch, replace=False))]
        by = y[torch.as_tensor(rng.choice(len(y), batch, replace=False))]
        plan = sinkhorn_plan((bx @ wx) @ (by @ wy).T, eps)
        tb = len(bx) * plan @ by
        cross = bx.T @ tb   # d_s x d_t
        if debias:
            S = self_shrink(y, wy, eps, batch // 2 if debias == 2 else batch, reps=1)  # latent coords: zb ≈ z S
            # cross in latent target coords: cross @ wy ; undo S
            cl = cross @ wy @ torch.linalg.inv(S)
            cross = cl @ wy.T
        running = cross if running is None else decay * running + (1 - decay) * cross
        wx, wy = procrustes_from_cross(running)
        if t % 5 == 4: print(t + 1, ev(xe, ye, wx, wy), flush=True)
    return wx, wy
t0 = time.time()
mode = int(sys.argv[3])
start = sys.argv[4] if len(sys.argv) > 4 else "oracle"
if start == "oracle": wx, wy = ox, oy
else:
    d = np.load(start); wx, wy = torch.tensor(d["Wx"]), torch.tensor(d["Wy"]); print("start", ev(xe, ye, wx, wy))
run(wx, wy, 20, mode)
print("time", time.time() - t0)
