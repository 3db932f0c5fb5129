from common import *
a, b, f = sys.argv[1], sys.argv[2], sys.argv[3]
keep, n = float(sys.argv[4]), int(sys.argv[5])
x, y, xe, ye, (ox, oy), yA = setup(a, b)
d = np.load(f); wx, wy = torch.tensor(d["Wx"]), torch.tensor(d["Wy"])
print("start", ev(xe, ye, wx, wy), ev(ye, xe, wy, wx))
rng = np.random.default_rng(0); gen = torch.Generator().manual_seed(0)
cfg = AlignConfig()
t0 = time.time()
if keep > 0:
    xs = x[torch.as_tensor(rng.choice(len(x), n, replace=False))]
    ys = y[torch.as_tensor(rng.choice(len(y), n, replace=False))]
    wx, wy, it = AL._self_learn(xs, ys, cfg, gen, None, init=(wx, wy), keep_start=keep)
    print("self-learn", it, "iters", ev(xe, ye, wx, wy), ev(ye, xe, wy, wx), round(time.time() - t0), flush=True)
wx, wy = AL._wasserstein_procrustes(x, y, wx, wy, 40, 8000, 0.02, rng, None, decay=0.8)
print("final", ev(xe, ye, wx, wy), ev(ye, xe, wy, wx), round(time.time() - t0), flush=True)
