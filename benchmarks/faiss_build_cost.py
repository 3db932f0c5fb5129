"""How long a structured FAISS destination takes to train and to fill, against what a migration's plan estimates
(``connectors.faiss_structure.build_seconds``: k-means of lists and assignment to them in floating-point operations
at ``MATRIX_FLOPS_PER_S``, PQ codebooks and encoding in distance computations at ``PQ_TRAINING_DISTANCES_PER_S`` (plus
``KMEANS_ITERATION_S`` an iteration) and ``PQ_ENCODING_DISTANCES_PER_S``, HNSW insertions at ``HNSW_INSERT_UNITS_PER_S``), from one run.

    python benchmarks/faiss_build_cost.py --out benchmarks/results

The records: the kit's mpnet vectors (768-d, wiki then fortunes: 43,994; ``--records`` takes the first N), unit
length, as a migration into mpnet's space writes them; then ``--repeat`` times as many (copies with a little noise:
the times depend on the counts, not on what the vectors say), to see the estimate hold as collections grow. Each structure is built as a migration builds it
(``build_index``: the same fitting, polysemous training off), trained on ``training_size`` records, then filled in
batches of 1,024. *add* is the time over filling a flat index with the same batches (what the plan's 5,000 vec/s
already counts). The ratio measured / estimated is what the constants are set from: an estimate should not be low.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import faiss
import numpy as np

from v2v_store.connectors import faiss_structure as structure
from v2v_store.connectors.faiss_structure import build_index, build_seconds, training_size

logger = logging.getLogger("bench.faiss_build_cost")
STRUCTURES = ({"index": "IVF256,Flat"}, {"index": "IVF1024,Flat"}, {"index": "IVF256_HNSW32,Flat"},
              {"index": "IVF256,PQ48"}, {"index": "IVF1024,PQ96"}, {"index": "IVF256,PQ48x4fs"},
              {"index": "IVF256,SQ8"}, {"index": "PQ48"}, {"index": "SQ8"},
              {"index": "HNSW32"}, {"index": "HNSW32", "efConstruction": 80}, {"index": "HNSW16_SQ8"})
BATCH = 1024
CONSTANTS = ("MATRIX_FLOPS_PER_S", "PQ_TRAINING_DISTANCES_PER_S", "PQ_ENCODING_DISTANCES_PER_S", "KMEANS_ITERATION_S",
             "HNSW_INSERT_UNITS_PER_S")


def fill(index, vectors: np.ndarray) -> float:
    started = time.perf_counter()
    for s in range(0, len(vectors), BATCH):
        index.add_with_ids(vectors[s:s + BATCH], np.arange(s, min(s + BATCH, len(vectors)), dtype=np.int64))
    return time.perf_counter() - started


def main() -> None:
    from kit import load, run_meta, save_results

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--records", type=int, default=None, help="the first N records (default: all 43,994)")
    parser.add_argument("--repeat", type=int, default=4, help="then R times as many records (default 4; 1: no)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    kit = np.concatenate([load("wiki", "mpnet"), load("fortunes", "mpnet")])[:args.records]
    noise = np.random.default_rng(0)
    rows, flat_adds = [], {}
    for repeat in sorted({1, args.repeat}):
        vectors = np.concatenate([kit] + [kit + 0.02 * noise.standard_normal(kit.shape) for _ in range(repeat - 1)])
        vectors = np.ascontiguousarray(vectors / np.linalg.norm(vectors, axis=1, keepdims=True), dtype=np.float32)
        n, dim = vectors.shape
        flat_adds[n] = flat_add = fill(build_index({"index": "Flat"}, dim, faiss.METRIC_INNER_PRODUCT, n)[0], vectors)
        for settings in STRUCTURES:
            index, factory = build_index(settings, dim, faiss.METRIC_INNER_PRODUCT, n)
            sample = training_size(settings, n, dim)
            started = time.perf_counter()
            if sample:
                index.train(vectors[np.linspace(0, n - 1, sample).astype(int)])
            train = time.perf_counter() - started
            add = max(fill(index, vectors) - flat_add, 0.0)
            want_train, want_add = build_seconds(settings, n, dim)
            rows.append({"settings": settings, "factory": factory, "records": n, "training_records": sample,
                         "train_s": round(train, 2), "train_estimate_s": round(want_train, 2),
                         "add_s": round(add, 2), "add_estimate_s": round(want_add, 2)})
            logger.info("%d records, %s: train %.1f s (estimate %.1f), add %.1f s (estimate %.1f)", n, factory, train,
                        want_train, add, want_add)
    meta = run_meta()
    lines = [f"# FAISS build cost against the plan's estimate (d={dim})", "",
             f"`{meta['command']}` on {meta['machine']}, {meta['date']}; one run. Constants: "
             + ", ".join(f"{name}={getattr(structure, name):g}" for name in CONSTANTS) + "; filling a flat index "
             "with the same batches took " + ", ".join(f"{t:.2f} s ({n:,} records)" for n, t in flat_adds.items())
             + " (subtracted from *add*).", "",
             "| records | structure | trained on | train s | estimate | add s | estimate |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        label = r["factory"] + (f" (efConstruction {r['settings']['efConstruction']})"
                                if "efConstruction" in r["settings"] else "")
        lines.append(f"| {r['records']:,} | {label} | {r['training_records']:,} | {r['train_s']:.1f} | "
                     f"{r['train_estimate_s']:.1f} | {r['add_s']:.1f} | {r['add_estimate_s']:.1f} |")
    save_results(args.out, "faiss_build_cost", {**meta, "constants": {c: getattr(structure, c) for c in CONSTANTS},
                                                "flat_add_s": flat_adds, "rows": rows}, lines)


if __name__ == "__main__":
    main()
