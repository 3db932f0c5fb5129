"""Where a paper-preset GAN step spends its time on a GPU (run on the lent H100, 2026-11-22).

    python benchmarks/probes/gan_gpu_profile.py

Random Gaussian data of the kit's shapes (12,000 x 384 and 12,000 x 768): the step cost does not depend
on the values. 30 warm-up steps, 100 timed steps, then 20 steps under torch.profiler.
"""

import time

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from v2v_store.train.trainer import GanTrainer, preset

rng = np.random.default_rng(0)
a = rng.standard_normal((12000, 384)).astype(np.float32)
b = rng.standard_normal((12000, 768)).astype(np.float32)
mc, tc = preset("paper", steps=10**6, seed=0, device="cuda")
t = GanTrainer(mc, tc, a, b, ("x", "y"))


def steps(n: int) -> None:
    for _ in range(n):
        x = {k: t._batch(k) for k in t.names}
        t.discriminator_step(x)
        t.generator_step(x)


steps(30)
torch.cuda.synchronize()
t0 = time.perf_counter()
steps(100)
torch.cuda.synchronize()
print("s/step", (time.perf_counter() - t0) / 100)
with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as p:
    steps(20)
    torch.cuda.synchronize()
ka = p.key_averages()
print(ka.table(sort_by="self_cpu_time_total", row_limit=14))
print(ka.table(sort_by="self_device_time_total", row_limit=8))
