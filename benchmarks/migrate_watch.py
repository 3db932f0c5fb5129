"""What checking every window of a migration costs: `migrate` with and without the space check, interleaved.

    python benchmarks/migrate_watch.py --n 100000 --dim 384 --reps 3 --out benchmarks/results

With the check, every window of 2,000 records read is compared with the translator's recorded covariances
(:class:`v2v_store.space_check.SpaceWatch`), so another model's records further down a collection stop the migration.
Vectors: an anisotropic Gaussian seen through two random rotations (the check only needs preferred directions; speed
does not depend on content), npy source, FAISS destination, one process, arms interleaved; the ratio is per rep.
"""

from __future__ import annotations

import argparse
import logging
import platform
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from v2v_store.migrate import migrate
from v2v_store.train.linear import fit_procrustes
from v2v_store.translator import Space, Translator

logger = logging.getLogger("bench.migrate_watch")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    rng = np.random.default_rng(0)
    d, fit_rows = args.dim, 4000
    spectrum = np.linspace(3, 0.1, d).astype(np.float32)
    rot_a, rot_b = (np.linalg.qr(rng.standard_normal((d, d)))[0].astype(np.float32) for _ in range(2))
    z = rng.standard_normal((args.n + fit_rows, d)).astype(np.float32) * spectrum
    x, y = z @ rot_a, z @ rot_b
    tr = Translator.from_linear_map(fit_procrustes((x[:fit_rows], y[:fit_rows])), Space("a", d), Space("b", d))
    tr.record_space_stats(x[:fit_rows], y[:fit_rows])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        np.save(f"{tmp}/src.npy", x[fit_rows:])
        for rep in range(args.reps):
            seconds = {}
            for check in ((False, True) if rep % 2 == 0 else (True, False)):
                t0 = time.perf_counter()
                migrate(tr, f"npy://{tmp}/src.npy", f"faiss://{tmp}/out_{check}_{rep}.faiss", source_space="a",
                        check_space=check, progress=False, checkpoint_seconds=1e9)
                seconds[check] = time.perf_counter() - t0
            rows.append((rep, seconds[False], seconds[True]))
            print(f"rep {rep}: without {seconds[False]:.2f} s, with {seconds[True]:.2f} s", flush=True)
    ratios = [w / wo for _, wo, w in rows]
    lines = [
        f"# Migration with and without the per-window space check, {args.n:,} x {d}",
        "",
        f"Command: `python benchmarks/migrate_watch.py --n {args.n} --dim {d} --reps {args.reps} --out {args.out}`  ",
        f"Machine: {platform.machine()}, {__import__('os').cpu_count()} cores, {platform.python_version()}, {date.today()}",
        "",
        "| rep | without check s | with check s | with / without |",
        "|---|---|---|---|",
        *[f"| {rep} | {wo:.2f} | {w:.2f} | {w / wo:.2f} |" for rep, wo, w in rows],
        "",
        f"Median ratio {np.median(ratios):.2f} (npy -> FAISS flat, linear translator, whole migration including the "
        "plan's first-2,000 check). Absolute times on this shared machine are noisy; the ratio is from one run.",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "migrate_watch.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
