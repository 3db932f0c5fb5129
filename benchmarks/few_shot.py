"""Few-shot alignment on the kit: top-1 against the number of known pairs, beside plain Procrustes.

    python benchmarks/few_shot.py --source minilm --target e5 --pairs 0 10 50 500 5000

The unpaired training vectors are the disjoint wiki halves (source side A, target side B, as in
``alignment.py``); the k known pairs are the first k documents of side A embedded by both models
(a user who can re-encode k documents with both models). ``align`` (the default aligner) starts its
Wasserstein-Procrustes restarts from Procrustes on the pairs and adds them to every later fit, the
final half-whitened steps included; ``procrustes`` fits on the pairs alone. k = 0 is the unsupervised
method. Evaluation: the 8,192 held-out wiki sentences, both directions.

``--corpus wordnet`` runs the same on the WordNet corpus of ``build_kit.py wordnet`` (``--train-size``: the first N
vectors of each side).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kit import load, run_meta, save_results, splits  # noqa: E402

from v2v_store.fit import fit_translator  # noqa: E402
from v2v_store.metrics import translation_metrics  # noqa: E402

logger = logging.getLogger("bench.few_shot")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", default="minilm")
    ap.add_argument("--target", default="e5")
    ap.add_argument("--pairs", nargs="+", type=int, default=[0, 10, 50, 500, 5000])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--corpus", default="wiki",
                    help="kit corpus (default wiki), or any in the kit's layout (build_kit.py: wordnet, foldoc, your own)")
    ap.add_argument("--train-size", type=int, default=None, metavar="N",
                    help="the first N vectors of each unpaired side only (default: all)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--tag", default=None, help="result file name (default few_shot_<source>_<target>)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    a, b = args.source, args.target
    held, side_a, side_b = splits(args.corpus, args.source)
    xa, yb = load(args.corpus, a), load(args.corpus, b)
    x, y = xa[side_a][:args.train_size], yb[side_b][:args.train_size]
    known_x, known_y = xa[side_a], yb[side_a]  # the same documents in both spaces
    ex, ey = xa[held], yb[held]
    rows = []
    for k in args.pairs:
        pairs = (known_x[:k], known_y[:k]) if k else None
        methods = ["align"] + (["procrustes"] if k >= 2 else [])
        for method in methods:
            t0 = time.perf_counter()
            tr, report = fit_translator(x, y, (a, b), method=method, seed=args.seed, pairs=pairs, progress=False)
            row = {"pairs": k, "method": method, "seconds": time.perf_counter() - t0, "trusted": report.trusted,
                   f"{a}->{b}": translation_metrics(tr, ex, ey, a, b).to_dict(),
                   f"{b}->{a}": translation_metrics(tr, ey, ex, b, a).to_dict()}
            rows.append(row)
            logger.info("%d pairs, %s: %s / %s (%.0f s)", k, method, row[f"{a}->{b}"], row[f"{b}->{a}"], row["seconds"])
            write(args, rows)


def write(args, rows: list[dict]) -> None:
    a, b = args.source, args.target
    meta = run_meta()
    tag = args.tag or f"few_shot_{a}_{b}"
    lines = [f"# Few-shot alignment {a} <-> {b} ({args.corpus})", "", f"Command: `{meta['command']}`  ",
             f"Machine: {meta['machine']}, {meta['date']}", "",
             f"Unpaired training on the disjoint {args.corpus} halves plus k known pairs; evaluated on the 8,192 held-out "
             "texts. Cells: mean cos / top-1 / mean rank among 8,192 candidates.", "",
             f"| pairs | method | wall s | trusted | {a}->{b} | {b}->{a} |", "|---|---|---|---|---|---|"]
    for r in rows:
        cells = [r[f"{a}->{b}"], r[f"{b}->{a}"]]
        lines.append(f"| {r['pairs']} | {r['method']} | {r['seconds']:.0f} | {r['trusted']} | "
                     + " | ".join(f"{m['mean_cos']:.3f} / {m['top1']:.3f} / {m['mean_rank']:.2f}" for m in cells) + " |")
    save_results(args.out, tag, {"meta": meta, "rows": rows}, lines)


if __name__ == "__main__":
    main()
