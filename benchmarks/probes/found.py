from common import *
import logging; logging.basicConfig(level=logging.INFO)
a, b, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
x, y, xe, ye, (ox, oy), yA = setup(a, b)
A, B = load("wiki", a), load("wiki", b)
r = fit_linear(A[SIDE_A], B[SIDE_B], AlignConfig(seed=seed, solver="wasserstein", final_wp_iters=0))
m = r.mapping
np.savez(f"found_{a}_{b}_{seed}.npz", Wx=m.source_proj, Wy=m.target_proj)
print("found", ev(xe, ye, torch.tensor(m.source_proj), torch.tensor(m.target_proj)))
