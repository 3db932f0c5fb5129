"""The paper's vec2vec GAN on the kit: all-MiniLM-L6-v2 (384) <-> all-mpnet-base-v2 (768).

    python benchmarks/gan.py --preset small --steps 3000 --seeds 0 --out benchmarks/results

Trained on disjoint halves of the wiki training split, evaluated on the 8,192 held-out sentences
(paper format: mean cos / top-1 / mean rank, both directions). Each run logs the label-free
diagnostics at every evaluation beside the paired metrics, so the table shows how well they track.
``--warm-start`` runs the ``align+gan`` method (the GAN refines the unsupervised linear map as a
residual whose gates start at zero, so training starts exactly at the linear map).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from kit import EVAL, SIDE_A, SIDE_B, load, run_meta, save_results  # noqa: E402

from v2v_store.fit import fit_translator  # noqa: E402

logger = logging.getLogger("bench.gan")


def fmt(m: dict) -> str:
    return f"{m['mean_cos']:.3f} / {m['top1']:.3f} / {m['mean_rank']:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", default="minilm")
    ap.add_argument("--target", default="mpnet")
    ap.add_argument("--preset", default="small")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--warm-start", action="store_true")
    ap.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--tag", default=None, help="results file name (default gan_<method>_<source>_<target>)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    a, b = args.source, args.target
    wa, wb = load("wiki", a), load("wiki", b)
    method = "align+gan" if args.warm_start else "gan"
    rows = []
    for seed in args.seeds:
        t0 = time.perf_counter()
        tr, report = fit_translator(wa[SIDE_A], wb[SIDE_B], (a, b), method=method, seed=seed, preset=args.preset, device=args.device,
                                    steps=args.steps, eval_pairs=(wa[EVAL], wb[EVAL]), progress=False)
        seconds = time.perf_counter() - t0
        history = report.details.get("history", [])
        steps = history[-1]["step"] if history else 0
        rows.append({"seed": seed, "method": method, "seconds": seconds, "steps": steps,
                     "s_per_step": seconds / max(1, steps), "best_step_label_free": report.details.get("best_step"),
                     "final": report.paired, "history": history,
                     "converged": all(m["top1"] >= 0.5 for m in report.paired.values())})
        logger.info("seed %d: %.0f s, %s", seed, seconds, {k: fmt(v) for k, v in report.paired.items()})
    meta = run_meta()
    tag = args.tag or f"gan_{method.replace('+', '_')}_{a}_{b}"
    lines = [f"# vec2vec GAN ({method}, preset {args.preset}) {a} <-> {b}", "", f"Command: `{meta['command']}`  ",
             f"Machine: {meta['machine']}, {meta['date']}", "",
             "Model kept: best label-free score (mean CSLS of translations to real targets) over the run.", "",
             f"| seed | steps | s/step | total s | {a}->{b} cos / top-1 / rank | {b}->{a} cos / top-1 / rank |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['seed']} | {r['steps']} | {r['s_per_step']:.3f} | {r['seconds']:.0f} | {fmt(r['final'][f'{a}->{b}'])} | "
                     f"{fmt(r['final'][f'{b}->{a}'])} |")
    lines += ["", f"Seeds converged (top-1 >= 0.5 both ways): {sum(r['converged'] for r in rows)}/{len(rows)}", "",
              "## Label-free diagnostics vs paired top-1 during training", "",
              "| seed | step | CSLS (label-free) | cycle cos | disc. acc. | top-1 A->B | top-1 B->A |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        for h in r["history"]:
            p = h.get("paired", {})
            lines.append(f"| {r['seed']} | {h['step']} | {h['csls']:.4f} | {h['cycle_cos']:.3f} | {h['disc_accuracy']:.2f} | "
                         f"{p.get(f'{a}->{b}', {}).get('top1', float('nan')):.3f} | {p.get(f'{b}->{a}', {}).get('top1', float('nan')):.3f} |")
    if rows and rows[0]["history"]:
        csls = [h["csls"] for r in rows for h in r["history"]]
        top1 = [np.mean([v["top1"] for v in h["paired"].values()]) for r in rows for h in r["history"]]
        if len(csls) > 2 and np.std(csls) > 0 and np.std(top1) > 0:
            lines += ["", f"Pearson correlation of label-free CSLS with mean paired top-1 across evaluations: "
                          f"{np.corrcoef(csls, top1)[0, 1]:.2f}"]
    save_results(args.out, tag, {"meta": meta, "rows": rows}, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
