"""Can the final transport steps leave the second MiniLM <-> mpnet basin if the plan starts smoother
(larger eps) and sharpens? From found_minilm_mpnet_1.npz (second basin). Usage: anneal.py EPS0 STEPS0"""
from basins import *  # noqa: F401,F403  (the kit, both maps and criteria(); basins' own runs are guarded)
from basins import _wasserstein_procrustes, d
eps0, steps0 = float(sys.argv[1]), int(sys.argv[2])
wx, wy = torch.tensor(d["Wx"]), torch.tensor(d["Wy"])
rng = np.random.default_rng(0)
wx, wy = _wasserstein_procrustes(x, y, wx, wy, steps0, 8000, eps0, rng, decay=0.8)
print("after eps", eps0, steps0, "steps", ev(xe, ye, wx, wy), criteria(wx, wy), flush=True)
wx, wy = _wasserstein_procrustes(x, y, wx, wy, 40, 8000, 0.02, rng, decay=0.8)
print("then 40 at 0.02", ev(xe, ye, wx, wy), ev(ye, xe, wy, wx), criteria(wx, wy), flush=True)
