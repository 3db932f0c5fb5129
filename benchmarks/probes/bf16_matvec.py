"""A lead for the final steps' Sinkhorn iterations (memory-bound mat-vecs over an 8,000 x 8,000 kernel): how much
faster is a mat-vec over a bfloat16 / float16 copy on this CPU? Timing only, no accuracy.

Usage: python bf16_matvec.py"""
import time, torch
torch.set_num_threads(2)
kernel, v = torch.rand(8000, 8000), torch.ones(8000)

def ms(f, reps=10):
    f(); t = time.perf_counter()
    for _ in range(reps):
        f()
    return round((time.perf_counter() - t) / reps * 1000, 1)

for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16), ("float16", torch.float16)):
    k, u = kernel.to(dtype), v.to(dtype)
    print(f"{name}: K @ v {ms(lambda: k @ u)} ms, K.T @ v {ms(lambda: k.T @ u)} ms")
