"""Wasserstein-Procrustes restarts constrained to map one M-dim subspace of the source onto one of the target.

    python subspace_wp.py CORPUS A B M KIND RESTARTS [STEPS] [K]

KIND ``spectral``: the spans of each side's M k-NN-graph eigenfunction directions (``c = x^T phi / n``,
``spectral.py``); ``pca``: each side's top-M principal directions. Maps ``T = Qa S Qb^T + Qa' C Qb'^T`` (S in O(M),
C orthogonal on the complements): each step draws 2,000-vector batches, takes the entropic plan (eps 0.05) under
T, and fits S and C by Procrustes on the blocks of the plan's cross-covariance. Random S and C starts; the oracle
S (the block of the oracle map) first, as a check that the constrained problem holds the answer. Each end then
goes through 150 free restart steps. Printed: held-out top-1 / rank (latent) at the start, after the constrained
steps, after the free ones, and the full-dimensional transport score (``spectral_score.full_score``) after the
constrained steps.
"""
from common import *
import os
from spectral import eigenfunctions
from spectral_score import full_score


def polar(m):
    u, _, vt = torch.linalg.svd(m)
    return u @ vt


def complement(q):
    return torch.linalg.svd(torch.eye(q.shape[0]) - q @ q.T)[0][:, :q.shape[0] - q.shape[1]]


def constrained_wp(x, y, qa, qb, pa, pb, S, C, steps, rng, eps=0.05, batch=2000, fix_c=False):
    for _ in range(steps):
        T = qa @ S @ qb.T + pa @ C @ pb.T
        bx = x[torch.as_tensor(rng.choice(len(x), batch, replace=False))]
        by = y[torch.as_tensor(rng.choice(len(y), batch, replace=False))]
        cross = sinkhorn_cross(unit(bx) @ T @ unit(by).T, bx, by, eps)
        S = polar(qa.T @ cross @ qb)
        C = C if fix_c else polar(pa.T @ cross @ pb)
    return S, C


if __name__ == "__main__":
    corpus, a, b, m, kind, restarts = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
    steps = int(sys.argv[7]) if len(sys.argv) > 7 else 100
    k = int(sys.argv[8]) if len(sys.argv) > 8 else 30
    x, y, xe, ye, yA = corpus_setup(corpus, a, b, 13805)
    if kind == "spectral":
        fx, fy = eigenfunctions(x, m, k), eigenfunctions(y, m, k)
        qa = torch.linalg.qr(x.T @ torch.tensor(fx, dtype=torch.float32))[0]
        qb = torch.linalg.qr(y.T @ torch.tensor(fy, dtype=torch.float32))[0]
    else:
        qa = torch.linalg.eigh(x.T @ x)[1].flip(1)[:, :m]
        qb = torch.linalg.eigh(y.T @ y)[1].flip(1)[:, :m]
    pa, pb = complement(qa), complement(qb)
    ox, oy = procrustes(x, yA)
    T_or = ox @ oy.T
    print(f"{corpus} {a}->{b} {kind} M={m}: oracle map's mass of the source subspace inside the target subspace "
          f"{(qb.T @ T_or.T @ qa).pow(2).sum().item() / m:.3f}", flush=True)
    starts = [("oracle S", polar(qa.T @ T_or @ qb), polar(pa.T @ T_or @ pb))]
    g = torch.Generator().manual_seed(0)
    d = x.shape[1]
    for r in range(restarts):
        starts.append((f"random {r}", polar(torch.randn(m, m, generator=g)), polar(torch.randn(d - m, d - m, generator=g))))
    eye = torch.eye(d)
    FIX_C = int(os.environ.get('FIX_C', 0))
    for name, S, C in starts:
        t0 = time.time()
        rng = np.random.default_rng(len(name))
        start = ev(xe, ye, qa @ S @ qb.T + pa @ C @ pb.T, eye)
        if FIX_C:
            S, _ = constrained_wp(x, y, qa, qb, pa, pb, S, C, FIX_C, rng, fix_c=True)
            print(f"    S alone, {FIX_C} steps: {ev(xe, ye, qa @ S @ qb.T + pa @ C @ pb.T, eye)} agreement with the oracle S "
                  f"{(S * starts[0][1]).sum().item() / m:.3f}", flush=True)
        S, C = constrained_wp(x, y, qa, qb, pa, pb, S, C, steps, rng)
        T = qa @ S @ qb.T + pa @ C @ pb.T
        mid, sc = ev(xe, ye, T, eye), full_score(x, y, (T, eye))
        w = AL._wasserstein_procrustes(x, y, T, eye, 150, 2000, 0.05, rng)
        print(f"  {name}: start {start} -> constrained {mid} (score {sc:.4f}) -> free {ev(xe, ye, *w)}  "
              f"{time.time() - t0:.0f} s", flush=True)
