"""How good are the restarts' starting maps, and do Wasserstein-Procrustes steps keep the oracle? Per corpus.

    python starts.py wordnet minilm e5 0 6        # corpus, models, seed, restarts
    N=13805 python starts.py wordnet minilm e5 0 6  # the first N vectors of each training side
    BATCH=4000 EPS=0.02 DECAY=0.8 python starts.py ...   # restart steps' batch, eps, running-average decay
    FINAL=1 python starts.py ...                          # then the production final steps (20 + 60)
    WHITEN=0.5 python starts.py ...                       # restarts in half-whitened coordinates (no FINAL)
    GW=100 python starts.py ...                           # 100 linear-kernel Gromov-Wasserstein steps first
    SAMPLE=6000 python starts.py ...                      # signatures of 6,000 points per side (default 2,000)
    ANNEAL=0.3 python starts.py ...                       # eps annealed from 0.3 down to EPS over the restart steps

Per restart (as the aligner draws them: restart 0 from principal directions, the others from signatures): held-out
top-1 / rank of the start and after the 250 restart steps (latent evaluation), the label-free restart score after the
usual refinement; first, the oracle map (Procrustes on side A's true pairs) through the same 250 steps.
"""
import os
from common import *

corpus, a, b, seed, R = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
n = int(os.environ.get("N", 0)) or None
x, y, xe, ye, yA = corpus_setup(corpus, a, b, n)
white = float(os.environ.get("WHITEN", 0))  # restarts in coordinates x C^(-WHITEN/2), as the final steps (0.5)
if white:
    hx, hy = power_whitener(x, white)[0], power_whitener(y, white)[0]
    x, xe, y, ye, yA = x @ hx, xe @ hx, y @ hy, ye @ hy, yA @ hy
oracle = procrustes(x, yA)
cfg = AlignConfig(seed=seed, wp_batch=int(os.environ.get("BATCH", 2000)), wp_eps=float(os.environ.get("EPS", 0.05)),
                  sample_size=int(os.environ.get("SAMPLE", 2000)))
decay = float(os.environ.get("DECAY", 0))  # running average of the cross-covariances, as in the final steps
rng0 = np.random.default_rng(seed)
m = min(cfg.refine_max, len(x), len(y))
xr = x[torch.as_tensor(rng0.choice(len(x), m, replace=False))]
yr = y[torch.as_tensor(rng0.choice(len(y), m, replace=False))]


ANNEAL = float(os.environ.get("ANNEAL", 0))  # first eps of a geometric schedule down to EPS (0: EPS throughout)
GW = int(os.environ.get("GW", 0))  # first GW steps: plans under x M y^T, M the unnormalised cross-covariance


def gw_steps(wx, wy, iters, rng):
    """Entropic Gromov-Wasserstein with linear kernels on fresh batches: its gradient ``C1 T C2 = x M y^T``
    with ``M = x^T T y``, i.e. Wasserstein-Procrustes with the cross-covariance itself (scaled to top singular
    value 1) in place of its polar factor: well-determined directions weigh more. Returns the polar factor."""
    m = wx @ wy.T
    for _ in range(iters):
        bx = x[torch.as_tensor(rng.choice(len(x), cfg.wp_batch, replace=False))]
        by = y[torch.as_tensor(rng.choice(len(y), cfg.wp_batch, replace=False))]
        sim = (unit(bx) @ (m / torch.linalg.matrix_norm(m, 2))) @ unit(by).T
        m = sinkhorn_cross(sim, bx, by, cfg.wp_eps)
    return procrustes_from_cross(m)


def run(name, wx, wy, rng):
    t0 = time.perf_counter()
    start = ev(xe, ye, wx, wy)
    if GW:
        wx, wy = gw_steps(wx, wy, GW, rng)
        print(f"  after {GW} GW steps {ev(xe, ye, wx, wy)}", flush=True)
    if ANNEAL:  # continuation: smooth plans first (coarse structure), sharper ones later, geometric in 10 chunks
        for k in range(10):
            eps = ANNEAL * (cfg.wp_eps / ANNEAL) ** (k / 9)
            wx, wy = AL._wasserstein_procrustes(x, y, wx, wy, cfg.wp_iters // 10, cfg.wp_batch, eps, rng, decay=decay)
    else:
        wx, wy = AL._wasserstein_procrustes(x, y, wx, wy, cfg.wp_iters, cfg.wp_batch, cfg.wp_eps, rng, decay=decay)
    after = ev(xe, ye, wx, wy)
    wx, wy, score, mutual = AL._refine(xr, yr, wx, wy, cfg.refine_iters, cfg.csls_k, None)
    print(f"{name}: start {start}, after {cfg.wp_iters} steps {after}, refined {ev(xe, ye, wx, wy)}, "
          f"score {score:.4f}, mutual {mutual:.2f} ({time.perf_counter() - t0:.0f} s)", flush=True)
    if os.environ.get("FINAL"):  # the production finalist steps (20, half-whitened) and the winner's 60 more
        final = AL._FinalSteps(x, y, AlignConfig(seed=seed), rng, None)
        w = final.run((wx, wy), 20)
        print(f"  + 20 final steps {held_out_whitened(final, xe, ye, w)} score {final_score(final, w)}", flush=True)
        w = final.run(w, 60, fresh=False)
        print(f"  + 60 more {held_out_whitened(final, xe, ye, w)} score {final_score(final, w)}", flush=True)


print(f"{corpus} {a}->{b}, {len(x)} per side, seed {seed}, batch {cfg.wp_batch}, eps {cfg.wp_eps}, decay {decay}, "
      f"sample {cfg.sample_size}, whiten {white}, GW {GW}", flush=True)
if os.environ.get("ORACLE", "1") != "0":  # ORACLE=0: restarts only
    run("oracle", *oracle, np.random.default_rng([seed, 99]))
for r in range(R):
    rng = np.random.default_rng([seed, r])
    k = min(cfg.sample_size, len(x), len(y))
    xs = x[torch.as_tensor(rng.choice(len(x), k, replace=False))]
    ys = y[torch.as_tensor(rng.choice(len(y), k, replace=False))]
    wx, wy = pca_skew_init(xs, ys, cfg.pca_directions) if r == 0 else AL._first_map(xs, ys, cfg, None)
    run(f"restart {r}", wx, wy, rng)
