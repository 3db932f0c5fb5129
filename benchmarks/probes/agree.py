import sys; sys.path.insert(0, ".")
from common import *
x, y, xe, ye, (ox, oy), yA = setup("minilm", "mpnet")
d = np.load("found_minilm_mpnet_1.npz"); fx, fy = torch.tensor(d["Wx"]), torch.tensor(d["Wy"])
g = torch.Generator().manual_seed(0)
xr = x[torch.randperm(len(x), generator=g)[:6000]]; yr = y[torch.randperm(len(y), generator=g)[:6000]]
maps = [(ox, oy), (fx, fy)]
print("oracle vs second-basin restart map agreement", AL._agreement(xr, yr, maps, 0, 1), ev(xe, ye, fx, fy))
# after the final steps on the second basin map
rng = np.random.default_rng(0)
wx, wy = AL._wasserstein_procrustes(x, y, fx, fy, 40, 8000, 0.02, rng, None, decay=0.8)
wx2, wy2 = AL._wasserstein_procrustes(x, y, ox, oy, 40, 8000, 0.02, rng, None, decay=0.8)
maps = [(wx2, wy2), (wx, wy), (ox, oy)]
print("final good vs final second:", AL._agreement(xr, yr, maps, 0, 1), ev(xe, ye, wx2, wy2), ev(xe, ye, wx, wy))
