"""`v2v fit` on collections of more dimensions than the kit's models: time, memory and accuracy at 1,536 and 3,072.

    python benchmarks/high_dim.py --case e5:mpnet:1536 --case mpnet:e5:3072 --tag high_dim
    python benchmarks/high_dim.py --case mpnet:e5:3072 --variant default= --variant "all dims=--restart-dims 0"

Many stored collections hold 1,536- or 3,072-dimensional vectors (hosted embedding APIs), and no model of that size
runs here. A case ``A:B:D`` fits model A's kit vectors (side A of the Wikipedia split) against a *stand-in* for a
D-dimensional model: ``unit(tanh(3 x_B R))`` of model B's vectors (side B, other texts), ``R`` a fixed random
(d_B, D) Gaussian matrix. The stand-in holds B's information spread non-linearly over D dimensions, so its spectrum
is not a real large model's (its variance lies in few directions); what the case measures is the cost of the
dimensions (the latent has min(d_A, D) dimensions: 384 or 768) and that the pipeline works at that size. Each fit is
the real CLI (``v2v fit`` on two ``npy://`` collections, the default method: the stand-in is no model v2v-store can
run, so the unsupervised aligner), held-out pairs (the 8,192 evaluation sentences, A's vectors and the stand-in of
B's) only as ``--eval-source/--eval-target``. Recorded: wall time of the command, its peak memory, the verdict, top-1
and mean rank both ways, the restarts it ran, and the oracle (orthogonal Procrustes fitted on half the held-out
pairs, scored on the other half, top-1 among 4,096). ``--variant LABEL=ARGS`` (repeatable) runs each case once per
variant, with ARGS added to ``v2v fit``'s command line, in the order given.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from kit import SPLITS, load, run_meta, save_results  # noqa: E402


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def stand_in(vectors: np.ndarray, dim: int, seed: int = 0) -> np.ndarray:
    r = np.random.default_rng(seed).standard_normal((vectors.shape[1], dim)).astype(np.float32)
    return unit(np.tanh(3 * vectors @ (r / np.sqrt(vectors.shape[1])))).astype(np.float32)


def oracle(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Top-1 both ways of orthogonal Procrustes fitted on the first half of the pairs, among the second half."""
    a, b = unit(a - a.mean(0)), unit(b - b.mean(0))
    half = len(a) // 2
    u, _, vt = np.linalg.svd(a[:half].T @ b[:half], full_matrices=False)
    w = u @ vt
    ta, tb = unit(a[half:] @ w), b[half:] @ w.T
    truth = np.arange(len(a) - half)
    return (float(((ta @ b[half:].T).argmax(1) == truth).mean()), float(((tb @ a[half:].T).argmax(1) == truth).mean()))


def run_case(case: str, tmp: Path, label: str = "default", extra: tuple[str, ...] = ()) -> dict:
    a, b, dim = case.split(":")
    held, side_a, side_b = SPLITS["wiki"]
    x, y = load("wiki", a), stand_in(load("wiki", b), int(dim))
    paths = {}
    for name, arr in (("source", x[side_a]), ("target", y[side_b]), ("eval_source", x[held]), ("eval_target", y[held])):
        paths[name] = tmp / f"{case.replace(':', '_')}_{name}.npy"
        np.save(paths[name], arr)
    names = (a, f"{b}{dim}")
    cmd = [sys.executable, "-m", "v2v_store", "fit", "--source", f"npy://{paths['source']}",
           "--target", f"npy://{paths['target']}", "--source-name", names[0], "--target-name", names[1],
           "--out", str(tmp / f"tr_{case.replace(':', '_')}"), "--eval-source", str(paths["eval_source"]),
           "--eval-target", str(paths["eval_target"]), *extra]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child so far
    report = json.loads(done.stdout) if done.stdout.strip() else {}
    config = json.loads((tmp / f"tr_{case.replace(':', '_')}" / "config.json").read_text()) if done.returncode in (0, 3) else {}
    restarts = len(((config.get("info") or {}).get("fit") or {}).get("restarts") or []) or None
    paired = report.get("paired", {})
    forward, back = paired.get(f"{names[0]}->{names[1]}", {}), paired.get(f"{names[1]}->{names[0]}", {})
    return {"case": case, "variant": label, "args": list(extra), "dims": [x.shape[1], int(dim)], "exit": done.returncode, "wall_s": round(wall, 1),
            "fit_s": report.get("seconds"), "peak_rss_mb_max_so_far": round(peak_mb), "trusted": report.get("trusted"),
            "method": report.get("method"), "restarts": restarts, "forward": forward, "back": back,
            "oracle": oracle(x[held], y[held]), "stderr_tail": done.stderr[-2000:] if done.returncode not in (0, 3) else ""}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", action="append", required=True, help="A:B:D (see the module docstring)")
    ap.add_argument("--variant", action="append", default=None, metavar="LABEL=ARGS",
                    help="v2v fit arguments added for one run of each case (default: one run, none added)")
    ap.add_argument("--tag", default="high_dim")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = ap.parse_args()
    payload = {**run_meta(), "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        variants = [v.partition("=")[::2] for v in (args.variant or ["default="])]
        for case in args.case:
            for label, extra in variants:
                payload["runs"].append(run_case(case, Path(tmp), label, tuple(extra.split())))
            print(json.dumps(payload["runs"][-1]), flush=True)
    rows = []
    for r in payload["runs"]:
        f, b = r["forward"], r["back"]
        rows.append(f"| {r['case']} | {r.get('variant', 'default')} | {r['dims'][0]} <-> {r['dims'][1]} | {r['exit']} | {r['trusted']} | "
                    f"{r['restarts']} | {r['wall_s']:.0f} ({r['fit_s'] or 0:.0f}) | {r['peak_rss_mb_max_so_far']:,} | "
                    f"{f.get('top1', float('nan')):.3f} / {b.get('top1', float('nan')):.3f} | "
                    f"{f.get('mean_rank', float('nan')):.2f} / {b.get('mean_rank', float('nan')):.2f} | "
                    f"{r['oracle'][0]:.3f} / {r['oracle'][1]:.3f} |")
    lines = [f"# `v2v fit` at 1,536 and 3,072 dimensions ({payload['date']})", "",
             f"Command: `{payload['command']}`  ", f"Machine: {payload['machine']}", "",
             "Case A:B:D: model A's kit vectors (13,805, side A) against a D-dimensional stand-in of model B's (13,805 "
             "other sentences, side B): `unit(tanh(3 x_B R))`, R random; not a real large model (see the script). "
             "The real CLI, default method (the unsupervised aligner); top-1 and mean rank among the 8,192 held-out "
             "sentences, A -> stand-in / back. Peak memory: the largest `v2v fit` process so far (ru_maxrss of "
             "children). Oracle: orthogonal Procrustes on 4,096 held-out pairs, top-1 among the other 4,096.", "",
             "| case | variant | dims | exit | trusted | restarts | wall s (fit s) | peak MB | top-1 | mean rank | "
             "oracle top-1 |", "|---|---|---|---|---|---|---|---|---|---|---|", *rows]
    save_results(args.out, args.tag, payload, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
