"""Oracle least squares on the true pairs of side A: how far is the best general linear map from the best
orthogonal one, and is its symmetric (polar) factor the Gaussian transport map A of gauss.py?"""
from common import *
a, b = sys.argv[1], sys.argv[2]
x, y, xe, ye, (ox, oy), yA = setup(a, b)
xd, yd = x.double(), yA.double()
for lam in (1e-5, 1e-3, 1e-2, 1e-1):
    L = torch.linalg.solve(xd.T @ xd + lam * len(x) * torch.eye(x.shape[1], dtype=torch.float64), xd.T @ yd).float()
    print("least squares, ridge", lam, ev_map(xe, ye, L))
L = torch.linalg.solve(xd.T @ xd + 1e-3 * len(x) * torch.eye(x.shape[1], dtype=torch.float64), xd.T @ yd)
u, s, vt = torch.linalg.svd(L)
U = u @ vt  # L = U P, P = V S V^T (acts after U, in y coordinates)
P = vt.T @ torch.diag(s) @ vt
print("orthogonal oracle", ev_map(xe, ye, ox @ oy.T), "polar U of L", ev_map(xe, ye, U.float()))
print("singular values of L: max %.3f median %.3f min %.3f" % (s.max(), s.median(), s.min()))
np.savez("lsq_%s_%s.npz" % (a, b), U=U.numpy(), P=P.numpy())
