"""Unbalanced transport in the final steps: does letting mass go unmatched slow the drift off the true map?

The two sides hold *different* sentences; a balanced plan must send every source vector somewhere, so vectors with no
counterpart on the other side pull the rotation too. An unbalanced plan (marginals relaxed by a KL penalty of
weight TAU, Chizat et al. 2018) lets such rows carry less mass, so Procrustes is fitted mostly on rows that have a
counterpart. TAU = inf is the production step.

    python unbalanced.py minilm e5 STEPS TAU [TAU ...]        (START=found_minilm_e5_0.npz: from a found map;
                                                                default: from the half-whitened oracle)
"""
from common import *
import math
import os

a, b, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
taus = [float(t) for t in sys.argv[4:]]
x, y, xe, ye, _, yA = setup(a, b)
cfg = AlignConfig()
eps = cfg.final_wp_eps


def unbalanced_cross(bx, by, wx, wy, tau, sinkhorn_iters=30):
    """``bx^T (n P) by`` for the unbalanced entropic plan P between the batches (equal weights 1/n, 1/m)."""
    sim = (unit(bx) @ wx) @ (unit(by) @ wy).T
    if math.isinf(tau):
        return sinkhorn_cross(sim, bx, by, eps, sinkhorn_iters)
    n, m = sim.shape
    fi = tau / (tau + eps)
    r = sim.amax(dim=1)
    kernel = sim.sub_(r[:, None]).div_(eps).exp_()  # K' = K / exp(r / eps) row-wise
    g = (r / (tau + eps)).exp()  # the row shift's share that the damped update keeps (bounded: no overflow)
    v = torch.ones(m)
    for _ in range(sinkhorn_iters):
        u = g * ((1.0 / n) / (kernel @ v)).pow(fi)  # u' = u exp(r / eps)
        v = ((1.0 / m) / (kernel.T @ u)).pow(fi)
    return (n * u[:, None] * bx).T @ (kernel @ (v[:, None] * by))


def steps(final, start, tau, label):
    rng, running, (wx, wy) = np.random.default_rng(0), None, start
    batch = min(cfg.final_wp_batch, len(final.xw), len(final.yw))
    t0 = time.perf_counter()
    for t in range(iters):
        bx = final.xw[torch.as_tensor(rng.choice(len(final.xw), batch, replace=False))]
        by = final.yw[torch.as_tensor(rng.choice(len(final.yw), batch, replace=False))]
        cross = unbalanced_cross(bx, by, wx, wy, tau)
        running = cross if running is None else cfg.final_wp_decay * running + (1 - cfg.final_wp_decay) * cross
        wx, wy = procrustes_from_cross(running)
        if t % 10 == 9 or t == iters - 1:
            print(label, "tau", tau, "step", t + 1, held_out_whitened(final, xe, ye, (wx, wy)),
                  f"{time.perf_counter() - t0:.0f}s", flush=True)


final = AL._FinalSteps(x, y, cfg, np.random.default_rng(0), None)
if os.environ.get("START"):
    start, label = whitened_start(final, os.environ["START"]), "found"
else:
    start, label = whitened_oracle(final, yA), "oracle"
print(label, "start", held_out_whitened(final, xe, ye, start), flush=True)
for tau in taus:
    steps(final, start, tau, label)
