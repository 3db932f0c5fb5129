"""What `v2v query --latent-precision` costs in retrieval: the paper's top-1 of cross-model queries searched through a
latent copy held in float32, float16 or int8, on the kit's Wikipedia sentences.

    python benchmarks/latent_precision.py --tag latent_precision_wiki

A FAISS collection holds all 35,802 kit sentences embedded by one model (ids = kit rows); the queries are the other
model's vectors of the 8,192 held-out sentences, so each query's own sentence is the one right answer among 35,802.
Both directions of one pair. The translator is orthogonal Procrustes on the true pairs of the kit's training side A
(this measures the latent copy, not a fit). For each precision: top-1 and mean rank of the own sentence, hits (top-10
ids) in common with float32, the largest score difference on common hits, and the latent copy's bytes. int8 learns each
dimension's range from a collection's first ``INT8_TRAINING_ROWS`` records (65,536: here all of them); the row
``int8, ranges from the first 4,096`` sets it to 4,096 to show what a smaller, earlier sample costs.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kit import EVAL, SIDE_A, load, run_meta, save_results  # noqa: E402

logger = logging.getLogger("bench.latent_precision")
VARIANTS = (("float32", None), ("float16", None), ("int8", None), ("int8", 4096))  # (precision, INT8_TRAINING_ROWS)


def measure(translator, uri: str, queries: np.ndarray, query_space: str, k: int) -> list[dict]:
    from v2v_store import query as query_module
    from v2v_store.query import CrossQuery

    default_rows, runs, reference = query_module.INT8_TRAINING_ROWS, [], None
    for precision, training_rows in VARIANTS:
        query_module.INT8_TRAINING_ROWS = training_rows or default_rows
        try:
            t0 = time.perf_counter()
            with CrossQuery(translator, [(uri, None)], latent_precision=precision, check_space=False) as cross:
                hits = cross.search(queries, space=query_space, k=k)
                index = cross.collections[0].latent_index
                latent_mb = index.sa_code_size() * index.ntotal / 2**20
        finally:
            query_module.INT8_TRAINING_ROWS = default_rows
        ids = np.array([[h.id for h in row] for row in hits])
        scores = np.array([[h.score for h in row] for row in hits])
        truth = np.arange(len(queries))[:, None]
        found = ids == truth
        run = {"precision": precision + (f", ranges from the first {training_rows:,}" if training_rows else ""),
               "latent_mb": round(latent_mb, 1), "seconds": round(time.perf_counter() - t0, 1),
               "top1": round(float(found[:, 0].mean()), 4), f"in_top{k}": round(float(found.any(1).mean()), 4)}
        if reference is None:
            reference = (ids, scores)
        else:
            ref_ids, ref_scores = reference
            common, diffs = [], []
            for a, sa, b, sb in zip(ref_ids, ref_scores, ids, scores):
                shared = set(a) & set(b)
                common.append(len(shared) / k)
                da, db = dict(zip(a, sa)), dict(zip(b, sb))
                diffs.extend(abs(da[i] - db[i]) for i in shared)
            run.update(hits_in_common=round(float(np.mean(common)), 4),
                       same_top1=round(float((ids[:, 0] == ref_ids[:, 0]).mean()), 4),
                       max_score_diff=round(float(max(diffs)), 5))
        logger.info("%s", run)
        runs.append(run)
    return runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pair", default="minilm,e5", help="Two kit models, e.g. minilm,e5.")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--tag", default="latent_precision_wiki")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from v2v_store import VectorBatch, open_store
    from v2v_store.train.linear import fit_procrustes
    from v2v_store.translator import Space, Translator

    a_name, b_name = args.pair.split(",")
    vecs = {m: load("wiki", m) for m in (a_name, b_name)}
    a, b = vecs[a_name][SIDE_A], vecs[b_name][SIDE_A]
    tr = Translator.from_linear_map(fit_procrustes((a, b)), Space(a_name, a.shape[1]), Space(b_name, b.shape[1]))
    tr.record_space_stats(a, b)
    tr.calibrate_queries(a, b)
    results = {}
    with tempfile.TemporaryDirectory() as work:
        for stored, asked in ((a_name, b_name), (b_name, a_name)):
            uri = f"faiss://{work}/{stored}.faiss#{stored}"
            everything = vecs[stored]
            with open_store(uri.split("#")[0], dim=everything.shape[1], metric="cosine") as store:
                for s in range(0, len(everything), 10_000):
                    rows = range(s, min(s + 10_000, len(everything)))
                    store.upsert(VectorBatch(list(rows), everything[s:s + len(rows)]))
            logger.info("%s collection of %d records; %s queries", stored, len(everything), asked)
            results[f"{asked}->{stored}"] = measure(tr, uri.split("#")[0], vecs[asked][EVAL], asked, args.k)
    payload = {**run_meta(), "pair": args.pair, "collection_size": int(len(vecs[a_name])),
               "queries": EVAL.stop - EVAL.start, "k": args.k, "results": results}
    lines = [f"# Latent precision and retrieval: {a_name} <-> {b_name}, kit wiki", "",
             f"Command: `{payload['command']}`  ", f"Machine: {payload['machine']}, {payload['date']}", "",
             f"Collection: all {payload['collection_size']:,} kit sentences in one model; queries: the other model's "
             f"{payload['queries']:,} held-out sentences (one right answer each); Procrustes translator on the true "
             f"pairs of side A; k = {args.k}.", "",
             "| queries -> collection | latent precision | latent copy (MB) | s | top-1 | own sentence in top-10 | "
             "hits in common with float32 | same top-1 | max score difference |", "|---|---|---|---|---|---|---|---|---|"]
    for direction, runs in results.items():
        for r in runs:
            lines.append(f"| {direction} | {r['precision']} | {r['latent_mb']} | {r['seconds']} | {r['top1']} | "
                         f"{r[f'in_top{args.k}']} | {r.get('hits_in_common', '')} | {r.get('same_top1', '')} | "
                         f"{r.get('max_score_diff', '')} |")
    save_results(args.out, args.tag, payload, lines)


if __name__ == "__main__":
    main()
