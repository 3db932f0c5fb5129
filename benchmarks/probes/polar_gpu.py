"""Procrustes needs only the polar factor U V^T of a cross-covariance; the full SVD is ~90% of the
aligner's GPU time. Time the alternatives and their error against the SVD's factor.
Run on the GPU machine: python benchmarks/probes/polar_gpu.py"""
import time

import torch

dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def timed(fn, reps=20):
    fn()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(reps):
        out = fn()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return 1000 * (time.perf_counter() - t0) / reps, out


def svd_polar(c, driver=None):
    u, _, vh = torch.linalg.svd(c, full_matrices=False, driver=driver) if dev.type == "cuda" else torch.linalg.svd(c, full_matrices=False)
    return u @ vh


def eigh_polar(c, dtype=torch.float64):
    # c: (d_s, d_t), d_s <= d_t.  c c^T = U L U^T ; polar = U L^{-1/2} U^T c
    cd = c.to(dtype)
    lam, u = torch.linalg.eigh(cd @ cd.T)
    inv_root = lam.clamp_min(lam.max() * 1e-12).rsqrt()
    return ((u * inv_root) @ (u.T @ cd)).to(c.dtype)


torch.manual_seed(0)
for ds, dt in ((384, 384), (384, 768)):
    for decay in (2, 4):
        a = torch.linalg.qr(torch.randn(ds, ds, device=dev))[0]
        b = torch.linalg.qr(torch.randn(dt, ds, device=dev))[0]
        c = (a * torch.logspace(0, -decay, ds, device=dev)) @ b.T  # singular values 1 .. 10^-decay
        ref = svd_polar(c.double()).float()
        for name, fn in [("svd default", lambda: svd_polar(c)),
                         ("svd gesvd", lambda: svd_polar(c, "gesvd")),
                         ("svd gesvdj", lambda: svd_polar(c, "gesvdj")),
                         ("svd gesvda", lambda: svd_polar(c, "gesvda")),
                         ("eigh float64", lambda: eigh_polar(c)),
                         ("eigh float32", lambda: eigh_polar(c, torch.float32)),
                         ("svd float64", lambda: svd_polar(c.double()).float())]:
            try:
                ms, p = timed(fn)
                err = (p - ref).abs().max().item()
                print(f"{ds}x{dt} sv 1..1e-{decay}  {name:14s} {ms:8.2f} ms  max|diff| {err:.1e}", flush=True)
            except Exception as e:  # a driver missing on this build
                print(f"{ds}x{dt} {name}: {type(e).__name__} {e}"[:200], flush=True)
