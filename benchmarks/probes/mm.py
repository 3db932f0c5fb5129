from common import *
import logging; logging.basicConfig(level=logging.WARNING)
a, b, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
x, y, xe, ye, (ox, oy), yA = setup(a, b)
A, B = load("wiki", a), load("wiki", b)
def lf(wx, wy):
    _, _, s = mutual_pairs(x @ wx, y @ wy, 10); return round(s.mean().item(), 4), round(len(s) / len(x), 3)
for name, kw in [("default", {}), ("refine10", dict(final_refine_iters=10)), ("nofinal+refine", dict(final_wp_iters=0, final_refine_iters=10))]:
    t0 = time.time()
    r = fit_linear(A[SIDE_A], B[SIDE_B], AlignConfig(seed=seed, solver="wasserstein", **{"final_whiten": 0.0, **kw}))  # orthogonal maps, as when this ran
    wx, wy = torch.tensor(r.mapping.source_proj), torch.tensor(r.mapping.target_proj)
    print(name, ev(xe, ye, wx, wy), ev(ye, xe, wy, wx), "lf", lf(wx, wy), round(time.time() - t0), flush=True)
