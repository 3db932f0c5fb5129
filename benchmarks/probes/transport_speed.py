"""One final transport step (8,000 + 8,000 vectors, eps 0.02) with the plan formed, as the aligner did before,
against the fused barycentres it uses now: time per step and whether the maps agree.

    python transport_speed.py minilm e5 5

Both run the production ``_wasserstein_procrustes`` loop from the oracle map on the same batches; the old step is
reproduced here (kernel by ``exp`` into a new matrix, underflow check by a column ``max`` with indices, plan
``u * K * v`` formed, then ``n * plan @ targets``). Maps are compared by what they do to the data (cosine of the
translations): they may differ in null directions, where any completion is a Procrustes solution."""
import sys
from common import *
from v2v_store.train.transport import sinkhorn_plan_log

a, b, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
x, y, _, _, (ox, oy), _ = setup(a, b)


def old_barycentres(sim, targets, eps, iters=30):
    n, m = sim.shape
    kernel = torch.exp((sim - sim.max(dim=1, keepdim=True).values) / eps)
    if bool((kernel.max(dim=0).values < 1e-30).any()):
        return n * sinkhorn_plan_log(sim, eps, iters) @ targets
    v = torch.ones(m)
    for _ in range(iters):
        u = (1.0 / n) / (kernel @ v)
        v = (1.0 / m) / (kernel.T @ u)
    return n * (u[:, None] * kernel * v[None, :]) @ targets


fused = AL.sinkhorn_barycentres
maps = {}
for name, fn in (("plan formed", old_barycentres), ("fused", fused)) * 2:  # twice each: the first call warms up
    AL.sinkhorn_barycentres = fn
    t0 = time.perf_counter()
    maps[name] = AL._wasserstein_procrustes(x, y, ox, oy, steps, 8000, 0.02, np.random.default_rng(0), decay=0.8)
    print(f"{name}: {(time.perf_counter() - t0) / steps:.2f} s per step", flush=True)
AL.sinkhorn_barycentres = fused
mo, mn = (maps[k][0] @ maps[k][1].T for k in ("plan formed", "fused"))
cos = torch.nn.functional.cosine_similarity(x @ mo, x @ mn)
print(f"translations of the training vectors, plan formed vs fused: mean cos {cos.mean():.7f}, min {cos.min():.7f}")
