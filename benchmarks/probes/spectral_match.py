"""Find the eigenfunctions' correspondence R without pairs: Wasserstein-Procrustes in the M-dim spectral coordinates.

    python spectral_match.py CORPUS A B M [K] [RESTARTS] [EPS]

Each side's points get their M k-NN-graph eigenfunction values (``spectral.py``; whitened). Random orthogonal
starts R_0, then 40 steps of entropic transport between 2,000-point batches of ``phi`` and ``psi R`` alternating
with Procrustes for R; each end scored by its mean transport similarity on 6,000 points per side. Printed per
restart: score and the held-out agreement with the pairs (mean over functions of corr(phi_k, (psi R)_k) on the
held-out pairs; the oracle correspondence's value first). The best-scoring R's start (``spectral_start.py``) then
goes through 150 restart steps.
"""
from common import *
from spectral import eigenfunctions
from spectral_start import oracle_correspondence, start_from_correspondence, through_restart_steps


def transport_similarity(a, b, eps):
    plan = sinkhorn_plan(a @ b.T, eps)
    return (plan * (a @ b.T)).sum().item()


def match(fa, fb, R, eps, rng, steps=40, batch=2000):
    for _ in range(steps):
        ba = fa[torch.as_tensor(rng.choice(len(fa), batch, replace=False))]
        bb = fb[torch.as_tensor(rng.choice(len(fb), batch, replace=False))]
        plan = sinkhorn_plan(ba @ (bb @ R).T, eps)
        u, _, vt = torch.linalg.svd(bb.T @ (len(ba) * plan.T @ ba))  # psi_matched R ~ phi
        R = u @ vt
    return R


if __name__ == "__main__":
    corpus, a, b, m = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    k = int(sys.argv[5]) if len(sys.argv) > 5 else 30
    restarts = int(sys.argv[6]) if len(sys.argv) > 6 else 50
    eps = float(sys.argv[7]) if len(sys.argv) > 7 else 0.5
    x, y, xe, ye, yA = corpus_setup(corpus, a, b, 13805)
    fx, fy = eigenfunctions(x, m, k), eigenfunctions(y, m, k)
    R_or, fit, (ho_a, ho_b) = oracle_correspondence(x, y, xe, ye, fx, fy)
    ha, hb = (ho_a - ho_a.mean(0)) / ho_a.std(0), (ho_b - ho_b.mean(0)) / ho_b.std(0)
    agree = lambda R: float(((hb @ R) * ha).mean(0).mean())
    fa, fb = torch.tensor(fx, dtype=torch.float32), torch.tensor(fy, dtype=torch.float32)
    rng = np.random.default_rng(0)
    ea = fa[torch.as_tensor(rng.choice(len(fa), 6000, replace=False))]
    eb = fb[torch.as_tensor(rng.choice(len(fb), 6000, replace=False))]
    score = lambda R: transport_similarity(ea, eb @ torch.as_tensor(R, dtype=torch.float32), eps)
    Ro = torch.tensor(R_or, dtype=torch.float32)
    print(f"{corpus} {a}->{b} M={m} K={k} eps={eps}: oracle R score {score(Ro):.4f} agreement {agree(R_or):.3f}; "
          f"after 40 matching steps from it: ", end="")
    Rm = match(fa, fb, Ro, eps, rng)
    print(f"score {score(Rm):.4f} agreement {agree(Rm.double().numpy()):.3f}", flush=True)
    found, t0 = [], time.time()
    for r in range(restarts):
        R0 = torch.linalg.qr(torch.randn(m, m, generator=torch.Generator().manual_seed(r)))[0]
        R = match(fa, fb, R0, eps, rng)
        found.append((score(R), agree(R.double().numpy()), r, R))
    found.sort(key=lambda t: -t[0])
    print(f"  {restarts} restarts in {time.time() - t0:.0f} s; best 10 (score, agreement):",
          [(round(s, 4), round(ag, 3)) for s, ag, _, _ in found[:10]])
    print("  agreement of all, sorted:", sorted(round(ag, 2) for _, ag, _, _ in found)[-10:])
    g = torch.Generator().manual_seed(0)
    for s, ag, r, R in found[:2]:
        start, end, _ = through_restart_steps(x, y, xe, ye, start_from_correspondence(x, y, fx, fy, R.double().numpy(), g), 0)
        print(f"  restart {r} (score {s:.4f}, agreement {ag:.3f}): start {start}, after 150 steps {end}", flush=True)
