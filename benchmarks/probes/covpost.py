"""Post-hoc covariance matching of a map: translate x -> y as Cy^p Q Cx^-p in the latent."""
from common import *
a, b, f = sys.argv[1], sys.argv[2], sys.argv[3]
x, y, xe, ye, (ox, oy), yA = setup(a, b)
d = np.load(f); wx, wy = torch.tensor(d["Wx"]), torch.tensor(d["Wy"])
def mpow(c, p):
    e, v = torch.linalg.eigh(c); return (v * e.clamp_min(1e-6) ** p) @ v.T
for name, (mx, my) in {"found": (wx, wy), "oracle": (ox, oy)}.items():
    zx, zy = x @ mx, y @ my
    cx, cy = zx.T @ zx / len(zx), zy.T @ zy / len(zy)
    for p in (0, 0.125, 0.25, 0.5):
        m = mpow(cx, -p) @ mpow(cy, p)   # rows: z_x @ Cx^-p @ Cy^p
        s = unit(xe @ mx @ m) @ unit(ye @ my).T
        top = (s.argmax(1) == torch.arange(len(xe))).float().mean().item()
        rank = (s > s.diag()[:, None]).sum(1).float().add(1).mean().item()
        print(name, p, round(top, 4), round(rank, 2), flush=True)
