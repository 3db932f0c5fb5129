"""Would corresponding k-NN-graph eigenfunctions give a start inside the basin? (oracle correspondence first)

    python spectral_start.py CORPUS A B M [K]

Each side's M smoothest k-NN-graph eigenfunctions (``spectral.py``) give M directions of its space, the
cross-covariances ``c_k = x^T phi_k / n``. If ``phi`` on side A corresponds to ``psi R`` on side B (R orthogonal,
M x M), an orthogonal map T with ``y ~ x T`` sends ``c^A`` to ``c^B R``: M direction pairs, the rest of T a random
completion. Here R is the *oracle* correspondence (Procrustes of the functions' linear extensions on held-out
pairs), to ask whether the idea can work before asking how to find R without pairs; the start then goes through 150
restart steps (batch 2,000, eps 0.05, as ``partial_oracle.py``).
"""
from common import *
from spectral import eigenfunctions, regress


def oracle_correspondence(x, y, xe, ye, fx, fy):
    """R (M x M, orthogonal) with ``psi R ~ phi`` on the held-out pairs, and each function's held-out corr under it."""
    ho_a = xe.double().numpy() @ regress(x, fx)
    ho_b = ye.double().numpy() @ regress(y, fy)
    u, _, vt = np.linalg.svd(ho_b.T @ ho_a)
    R = u @ vt
    fit = ((ho_b @ R) * ho_a).sum(0) / np.linalg.norm(ho_b @ R, axis=0) / np.linalg.norm(ho_a, axis=0)
    return R, fit, (ho_a, ho_b)


def start_from_correspondence(x, y, fx, fy, R, g):
    """The start map (wx, wy = I) sending the source's function directions ``c^A`` onto ``c^B R``, rest random."""
    m = fx.shape[1]
    ca = x.double().T @ torch.tensor(fx, dtype=torch.float64) / len(x)
    cb = y.double().T @ torch.tensor(fy @ R, dtype=torch.float64) / len(y)
    uu, _, vv = torch.linalg.svd(ca @ cb.T)  # T^T c^A ~ c^B: T = U V^T on the span, random completion elsewhere
    src, v = uu[:, :m].float(), vv.T[:, :m].float()
    d = v.shape[0]
    vc = torch.linalg.qr((torch.eye(d) - v @ v.T) @ torch.randn(d, d - m, generator=g))[0]
    sc = torch.linalg.qr((torch.eye(d) - src @ src.T) @ torch.randn(d, d - m, generator=g))[0]
    return src @ v.T + sc @ vc.T, torch.eye(d)


def through_restart_steps(x, y, xe, ye, w, seed, steps=150):
    start = ev(xe, ye, *w)
    w = AL._wasserstein_procrustes(x, y, *w, steps, 2000, 0.05, np.random.default_rng(seed))
    return start, ev(xe, ye, *w), w


if __name__ == "__main__":
    corpus, a, b, m = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    k = int(sys.argv[5]) if len(sys.argv) > 5 else 30
    x, y, xe, ye, yA = corpus_setup(corpus, a, b, 13805)
    fx, fy = eigenfunctions(x, m, k), eigenfunctions(y, m, k)
    R, fit, _ = oracle_correspondence(x, y, xe, ye, fx, fy)
    print(f"{corpus} {a}->{b} M={m} K={k}: oracle correspondence, per-function held-out corr {np.round(fit, 2).tolist()}")
    g = torch.Generator().manual_seed(0)
    for trial in range(2):
        start, end, _ = through_restart_steps(x, y, xe, ye, start_from_correspondence(x, y, fx, fy, R, g), trial)
        print(f"  trial {trial}: start {start}, after 150 steps {end}", flush=True)
