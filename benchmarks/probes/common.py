"""Shared set-up of the probes: kit halves in the aligner's normalisation, the oracle map, a latent-space top-1/rank."""
import sys, time, numpy as np, torch
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import EVAL, SIDE_A, SIDE_B, load  # re-exported to the probes (from common import *)
from v2v_store.train.align import *
from v2v_store.train import align as AL
torch.set_num_threads(2)

def corpus_setup(corpus, a, b, n=None):
    """A kit corpus's unpaired training sides (the first ``n`` vectors of each), its held-out pairs and side A's
    vectors in the target model (the oracle's pairs), all in the aligner's normalisation: (x, y, xe, ye, yA)."""
    from kit import splits
    held, sa, sb = splits(corpus, a)
    A, B = load(corpus, a), load(corpus, b)
    xa, yb = torch.tensor(A[sa][:n]), torch.tensor(B[sb][:n])
    mx, my = unit(xa).mean(0), unit(yb).mean(0)
    return (center_unit(xa, mx), center_unit(yb, my), center_unit(torch.tensor(A[held]), mx),
            center_unit(torch.tensor(B[held]), my), center_unit(torch.tensor(B[sa][:n]), my))

def setup(a, b):
    x, y, xe, ye, yA = corpus_setup("wiki", a, b)
    return x, y, xe, ye, procrustes(x, yA), yA  # oracle: Procrustes on the true pairs of side A

def ev(xe, ye, wx, wy):
    s = (unit(xe @ wx) @ unit(ye @ wy).T)
    top = (s.argmax(1) == torch.arange(len(xe))).float().mean().item()
    rank = (s > s.diag()[:, None]).sum(1).float().add(1).mean().item()
    return round(top, 4), round(rank, 2)

def ev_map(xe, ye, m):
    """Top-1 both ways and mean rank (source -> target) of a (possibly non-orthogonal) map ``m``: x -> x m."""
    s = unit(xe @ m) @ ye.T; f = (s.argmax(1) == torch.arange(len(xe))).float().mean().item()
    r = (s > s.diag()[:, None]).sum(1).float().add(1).mean().item()
    s2 = unit(ye @ m.T) @ xe.T; g = (s2.argmax(1) == torch.arange(len(xe))).float().mean().item()
    return round(f, 4), round(g, 4), round(r, 2)

def pca_views(k, n):
    """Synthetic ground truth for the GAN probes: nonlinear views (2k and 3k dims) of the top-k principal
    components of MiniLM wiki vectors; (train halves without pairs, 1,000 held-out pairs)."""
    from v2v_store.synthetic import nonlinear_views, principal_components
    a, b = nonlinear_views(principal_components(load("wiki", "minilm")[:2 * n + 1000], k), d1=2 * k, d2=3 * k)
    return (a[:n], b[n:2 * n]), (a[2 * n:], b[2 * n:])

def transport_steps(x, y, wx, wy, iters, cross_fn=None, batch=6000, x_draw=None, eps=0.02, decay=0.8, every=5, show=None):
    """The aligner's final steps, open for probing: each step draws ``x_draw`` (default ``batch``) source rows and
    ``batch`` target rows, ``cross_fn(bx, by, wx, wy)`` gives the batch cross-covariance (default: the production
    one, source rows against their transport barycentres), Procrustes fits the running average. ``show(step, wx,
    wy)`` is called every ``every`` steps. Returns the last maps."""
    if cross_fn is None:
        cross_fn = lambda bx, by, wx, wy: bx.T @ (len(bx) * sinkhorn_plan((bx @ wx) @ (by @ wy).T, eps) @ by)
    rng, running = np.random.default_rng(0), None
    for t in range(iters):
        bx = x[torch.as_tensor(rng.choice(len(x), x_draw or batch, replace=False))]
        by = y[torch.as_tensor(rng.choice(len(y), batch, replace=False))]
        cross = cross_fn(bx, by, wx, wy)
        running = cross if running is None else decay * running + (1 - decay) * cross
        wx, wy = procrustes_from_cross(running)
        if show is not None and t % every == every - 1:
            show(t + 1, wx, wy)
    return wx, wy

def held_out_whitened(final, xe, ye, w):
    """Held-out top-1 source -> target and back, and mean rank source -> target, of a finalist's map ``w`` found
    in the aligner's half-whitened coordinates (``final``: its ``_FinalSteps``), de-whitened into each space."""
    wx, wy = w
    f = unit(xe @ final.hx @ wx @ wy.T @ final.dy) @ ye.T
    g = unit(ye @ final.hy @ wy @ wx.T @ final.dx) @ xe.T
    idx = torch.arange(len(xe))
    rank = (f > f.diag()[:, None]).sum(1).float().add(1).mean().item()
    return round((f.argmax(1) == idx).float().mean().item(), 4), round((g.argmax(1) == idx).float().mean().item(), 4), round(rank, 2)

def final_steps_setup(a, b):
    """The set-up of the final-step probes: the wiki halves, the production config, its ``_FinalSteps`` (seed 0), a
    held-out evaluation of a whitened map and the start (``START=found_....npz``: a found restart map moved into the
    half-whitened coordinates; else the half-whitened oracle): (x, y, cfg, final, held_out, start)."""
    import os
    x, y, xe, ye, _, yA = setup(a, b)
    cfg = AlignConfig()
    final = AL._FinalSteps(x, y, cfg, np.random.default_rng(0), None)
    held_out = lambda w: held_out_whitened(final, xe, ye, w)  # noqa: E731
    start = whitened_start(final, os.environ["START"]) if os.environ.get("START") else whitened_oracle(final, yA)
    return x, y, cfg, final, held_out, start


def final_score(final, w):
    """The aligner's label-free final score of a finalist's map on all training vectors."""
    _, _, s = mutual_pairs(*final.encode(w), 10)
    return round(s.mean().item(), 5)

def whitened_oracle(final, yA):
    """The oracle map in the finalists' half-whitened coordinates: Procrustes on side A's true pairs there."""
    return procrustes_from_cross(final.xw.T @ (yA @ final.hy))

def whitened_start(final, path):
    """A map found in plain coordinates (``.npz`` with ``Wx``, ``Wy``, e.g. from found.py) moved into the
    half-whitened ones as the aligner's finalists start: one plan under it, then one production step."""
    d = np.load(path)
    return final.run((torch.tensor(d["Wx"]), torch.tensor(d["Wy"])), 1)

def bag_members(final, start, iters, members, fraction, batch, pick_rng, step_rngs=None):
    """Bagged final steps: yield each of ``members`` maps, ``iters`` production steps from ``start`` (half-whitened
    coordinates) on its own random ``fraction`` of both sides (rows drawn by ``pick_rng``; batches by
    ``step_rngs[m]``, default ``pick_rng``). Their average is the polar factor of the summed ``Wx Wy^T``."""
    cfg = final.cfg
    for m in range(members):
        rows = [torch.as_tensor(pick_rng.choice(len(v), int(fraction * len(v)), replace=False)) for v in (final.xw, final.yw)]
        yield AL._wasserstein_procrustes(final.xw[rows[0]], final.yw[rows[1]], *start, iters, batch, cfg.final_wp_eps,
                                         pick_rng if step_rngs is None else step_rngs[m], None, decay=cfg.final_wp_decay)

def third_moment_cross(X, Y, W, power=3, grad=False, chunk=2048):
    """G(W) = mean_ij ((x_i W) . y_j)^power (for power 3 the cross term of third-moment matching), and with
    ``grad`` its gradient in W."""
    val, g = 0.0, torch.zeros_like(W)
    for i in range(0, len(X), chunk):
        s = (X[i:i + chunk] @ W) @ Y.T
        val += s.pow(power).sum().item()
        if grad:
            g += X[i:i + chunk].T @ (s.pow(power - 1) @ Y)
    n = len(X) * len(Y)
    return (val / n, g * power / n) if grad else val / n

def seed_restarts(x, y, seed, n):
    """Seed ``seed``'s first ``n`` Wasserstein-Procrustes restart maps with ``fit_linear``'s random draws (no early
    stop), and the finalists' ``_FinalSteps`` for that seed."""
    cfg = AlignConfig(seed=seed, stop_when_confirmed=False)
    gen, np_rng = torch.Generator().manual_seed(seed), np.random.default_rng(seed)
    xr = x[torch.as_tensor(np_rng.choice(len(x), cfg.refine_max, replace=False))]
    yr = y[torch.as_tensor(np_rng.choice(len(y), cfg.refine_max, replace=False))]
    _, maps, _, _ = AL._restarts(x, y, xr, yr, cfg, "wasserstein", n, gen, np_rng, None)
    return maps, AL._FinalSteps(x, y, cfg, np.random.default_rng(seed), None)
