"""What a collection whose vectors span only k of their dimensions can still be translated to, at best: the source
model's vectors projected onto their top-k principal directions (as padded, truncated-then-projected or otherwise
rank-deficient vectors hold k dimensions of information), then the best linear map to the target model fitted on
*true pairs* (least squares on the kit's source side, the oracle; no unsupervised fit comes near it), scored on the
8,192 held-out wiki sentences (the paper metrics, each translation among all 8,192 targets). One run.

    python benchmarks/span_ceiling.py --out benchmarks/results

These are the numbers ``v2v fit`` and ``v2v inspect`` quote when a side spans fewer dimensions than it has
(``v2v_store.spans``).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from kit import EVAL, SIDE_A, load, markdown_table, run_meta, save_results
from v2v_store.metrics import paired_metrics

logger = logging.getLogger("bench.span_ceiling")
SPANS = (8, 16, 32, 64, 128, 256)
PAIRS = (("minilm", "mpnet"), ("minilm", "e5"), ("e5", "minilm"))


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def ceiling(source: np.ndarray, target: np.ndarray, span: int | None) -> dict:
    """Oracle least squares from ``source`` cut to its top ``span`` principal directions (None: all) to ``target``."""
    x, y = unit(source.astype(np.float64)), unit(target.astype(np.float64))
    mean_x, mean_y = x[SIDE_A].mean(0), y[SIDE_A].mean(0)
    x, y = x - mean_x, y - mean_y
    if span is not None:
        _, _, vt = np.linalg.svd(x[SIDE_A], full_matrices=False)
        x = x @ vt[:span].T  # the coordinates in the span; the null directions would only add zeros
    w, *_ = np.linalg.lstsq(x[SIDE_A], y[SIDE_A], rcond=None)
    return paired_metrics(x[EVAL] @ w, y[EVAL]).to_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    rows, table = [], {}
    for source_model, target_model in PAIRS:
        source, target = load("wiki", source_model), load("wiki", target_model)
        for span in (*SPANS, None):
            metrics = ceiling(source, target, span)
            rows.append({"source": source_model, "target": target_model, "span": span or source.shape[1], **metrics})
            logger.info("%s -> %s, span %s: top-1 %.3f, rank %.2f", source_model, target_model,
                        span or "all", metrics["top1"], metrics["mean_rank"])
            table.setdefault(f"{source_model} -> {target_model}", {})[str(span or f"all ({source.shape[1]})")] = (
                f"{metrics['top1']:.3f} / {metrics['mean_rank']:.1f}")
    keys = list(dict.fromkeys(k for row in table.values() for k in row))
    meta = run_meta()
    lines = ["# The ceiling of a source that spans k dimensions", "",
             f"`{meta['command']}` ({meta['date']}, {meta['machine']}): top-1 / mean rank among the 8,192 held-out "
             "wiki sentences, oracle least squares on the 13,805 true pairs of the source side, the source cut to its "
             "top k principal directions. One run.", "", *markdown_table(table, keys)]
    save_results(args.out, "span_ceiling", {"meta": meta, "rows": rows}, lines)


if __name__ == "__main__":
    main()
