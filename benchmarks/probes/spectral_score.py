"""Does the full-dimensional transport score of a spectral start prefer the oracle correspondence R?

    python spectral_score.py CORPUS A B M [K] [N_RANDOM]

Starts built from the M eigenfunction directions (``spectral_start.py``) under the oracle R, under R perturbed
towards random by a growing amount, and under random R; each scored at the start (no steps) by the mean transport
similarity between 4,000 source vectors mapped by the start and 4,000 target vectors (eps 0.05), averaged over
three random completions of the rest of the map.
"""
from common import *
from spectral import eigenfunctions
from spectral_start import oracle_correspondence, start_from_correspondence


def full_score(x, y, w, eps=0.05, n=4000, seed=0):
    rng = np.random.default_rng(seed)
    bx = x[torch.as_tensor(rng.choice(len(x), n, replace=False))]
    by = y[torch.as_tensor(rng.choice(len(y), n, replace=False))]
    sim = unit(bx) @ w[0] @ (unit(by) @ w[1]).T
    return (sinkhorn_plan(sim, eps) * sim).sum().item()


if __name__ == "__main__":
    corpus, a, b, m = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    k = int(sys.argv[5]) if len(sys.argv) > 5 else 30
    n_random = int(sys.argv[6]) if len(sys.argv) > 6 else 20
    x, y, xe, ye, yA = corpus_setup(corpus, a, b, 13805)
    fx, fy = eigenfunctions(x, m, k), eigenfunctions(y, m, k)
    R_or, fit, _ = oracle_correspondence(x, y, xe, ye, fx, fy)

    def score(R):
        g = torch.Generator().manual_seed(1)
        return np.mean([full_score(x, y, start_from_correspondence(x, y, fx, fy, R, g), seed=s) for s in range(3)])

    print(f"{corpus} {a}->{b} M={m}: oracle R {score(R_or):.5f}", flush=True)
    gen = np.random.default_rng(0)
    for t in (0.1, 0.3, 0.6):
        A = gen.standard_normal((m, m)); A = (A - A.T) * t
        from scipy.linalg import expm
        Rp = R_or @ expm(A)
        print(f"  oracle R rotated by a random skew of scale {t}: {score(Rp):.5f}", flush=True)
    rs = [score(np.linalg.qr(gen.standard_normal((m, m)))[0]) for _ in range(n_random)]
    print(f"  {n_random} random R: max {max(rs):.5f} mean {np.mean(rs):.5f} sd {np.std(rs):.5f}", flush=True)
    ox, oy = procrustes(x, yA)
    print(f"  the oracle map itself: {full_score(x, y, (ox, oy)):.5f}; identity-like random map: "
          f"{full_score(x, y, (torch.linalg.qr(torch.randn(x.shape[1], x.shape[1]))[0], torch.eye(y.shape[1]))):.5f}")
