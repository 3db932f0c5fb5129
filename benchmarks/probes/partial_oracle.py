"""How much of the map must a start get right to lie in the Wasserstein-Procrustes basin? Starts that agree with the
oracle map on the source's top-m principal directions only (the rest a random completion), optionally with those
directions' images confined to the target's top-m2 principal subspace; each through 150 restart steps (batch 2,000,
eps 0.05, as the restarts).

    python partial_oracle.py wordnet minilm e5 4 8 16 32 64      # corpus, models (equal dims), m values
"""
from common import *

corpus, a, b = sys.argv[1:4]
n = 13805
x, y, xe, ye, yA = corpus_setup(corpus, a, b, n)
ox, oy = procrustes(x, yA)
T = ox @ oy.T  # the oracle as one orthogonal map of the source space onto the target space
d = T.shape[0]
ux = torch.linalg.eigh(x.T @ x)[1].flip(1)
uy = torch.linalg.eigh(y.T @ y)[1].flip(1)
g = torch.Generator().manual_seed(0)


def partial_start(m, m2=None):
    v = T.T @ ux[:, :m]                               # images of the top-m source directions, (d, m)
    if m2:
        v = uy[:, :m2] @ (uy[:, :m2].T @ v)           # confined to the target's top-m2 subspace
        u, _, vt = torch.linalg.svd(v, full_matrices=False)
        v = u @ vt
    vc = torch.linalg.qr((torch.eye(d) - v @ v.T) @ torch.randn(d, d - m, generator=g))[0]
    return ux[:, :m] @ v.T + ux[:, m:] @ vc.T, torch.eye(d)


for m, m2 in [(int(v), None) for v in sys.argv[4:]] + [(8, 16), (8, 8), (4, 8), (16, 32)]:
    wx, wy = partial_start(m, m2)
    start = ev(xe, ye, wx, wy)
    wx, wy = AL._wasserstein_procrustes(x, y, wx, wy, 150, 2000, 0.05, np.random.default_rng(0))
    where = f" into the target's top-{m2}" if m2 else ""
    print(f"top-{m} source directions{where} as the oracle, rest random: start {start}, after 150 steps "
          f"{ev(xe, ye, wx, wy)}", flush=True)
