"""Where the aligner's time goes on a GPU: each building block timed alone (synchronised), on random
unit vectors of the kit's shapes. Run on the GPU machine: python benchmarks/probes/align_gpu_profile.py"""
import time

import torch

from v2v_store.train import align as AL

dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def timed(name, fn, reps=20):
    fn()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    print(f"{name:55s} {1000 * (time.perf_counter() - t0) / reps:8.2f} ms", flush=True)


g = torch.Generator(device=dev).manual_seed(0)
x = AL.unit(torch.randn(6000, 384, device=dev))
y = AL.unit(torch.randn(6000, 768, device=dev))
c1, c2 = torch.randn(384, 384, device=dev), torch.randn(384, 768, device=dev)
xs, ys = x[:2000], y[:2000, :384]
wx, wy = AL.procrustes_from_cross(c2)
timed("svd 384x384 (" + dev.type + ")", lambda: torch.linalg.svd(c1, full_matrices=False))
timed("svd 384x768 (" + dev.type + ")", lambda: torch.linalg.svd(c2, full_matrices=False))
timed("svd 384x768 on the host (copy + svd + copy back)", lambda: [t.to(dev) for t in torch.linalg.svd(c2.cpu(), full_matrices=False)])
timed("csls 2000x2000", lambda: AL.csls(xs @ ys.T, 10))
timed("induce 2000x2000 keep 0.5", lambda: AL.induce(AL.csls(xs @ ys.T, 10), 0.5, g))
timed("self-learning iteration (procrustes + csls + item + induce)",
      lambda: (AL.procrustes(xs, ys), AL.csls(xs @ ys.T, 10).max(1).values.mean().item(), AL.induce(AL.csls(xs @ ys.T, 10), 0.5, g)))
timed("sinkhorn_plan 2000x2000 (30 iters)", lambda: AL.sinkhorn_plan(xs @ ys.T, 0.05))
timed("sinkhorn_plan 6000x6000 (30 iters)", lambda: AL.sinkhorn_plan(x @ y[:, :384].T, 0.02), reps=5)
timed("mutual_pairs 6000x6000", lambda: AL.mutual_pairs(x @ wx, y @ wy, 10), reps=5)
import numpy as np
rng = np.random.default_rng(0)
timed("host rng.choice 2000 of 13805 + upload", lambda: torch.as_tensor(rng.choice(13805, 2000, replace=False), device=dev))
cfg = AL.AlignConfig(seed=0)
t0 = time.perf_counter()
AL._self_learn(xs, ys, cfg, g, None)
if dev.type == "cuda":
    torch.cuda.synchronize()
print("one _self_learn restart on random data:", round(time.perf_counter() - t0, 2), "s")
t0 = time.perf_counter()
AL._wasserstein_procrustes(x, y[:, :384], *AL.procrustes_from_cross(c1), 250, 2000, 0.05, rng)
if dev.type == "cuda":
    torch.cuda.synchronize()
print("one 250-step Wasserstein restart:", round(time.perf_counter() - t0, 2), "s")
