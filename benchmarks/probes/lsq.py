"""Oracle least squares on the true pairs of side A: is the best general linear map (ridge-regularised) better
for retrieval than the best orthogonal one? Also the orthogonal (polar) factor of the least-squares map."""
from common import *
a, b = sys.argv[1], sys.argv[2]
x, y, xe, ye, (ox, oy), yA = setup(a, b)
xd, yd = x.double(), yA.double()
for lam in (1e-5, 1e-3, 1e-2, 1e-1):
    L = torch.linalg.solve(xd.T @ xd + lam * len(x) * torch.eye(x.shape[1], dtype=torch.float64), xd.T @ yd).float()
    print("least squares, ridge", lam, ev_map(xe, ye, L))
L = torch.linalg.solve(xd.T @ xd + 1e-3 * len(x) * torch.eye(x.shape[1], dtype=torch.float64), xd.T @ yd)
u, s, vt = torch.linalg.svd(L)
print("orthogonal oracle", ev_map(xe, ye, ox @ oy.T), "polar factor of L", ev_map(xe, ye, (u @ vt).float()))
print("singular values of L: max %.3f median %.3f min %.3f" % (s.max(), s.median(), s.min()))
