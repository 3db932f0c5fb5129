"""What a new FAISS destination is trained on, from a source sorted by topic: 16 runs of consecutive records (what
``VectorStore.spread_sample`` read from FAISS, .npy and Chroma sources before session 60) against the records at
random positions (what it reads now), from one run.

    python benchmarks/training_sample.py --out benchmarks/results

The records: the kit's MiniLM vectors (384-d, wiki then fortunes: 43,994) and ``--repeat - 1`` jittered copies of
them, unit length, in two orders: as the kit gives them (one corpus after the other) and sorted by topic (their
k-means cluster among ``--topics``: a collection written source by source). Each order is written to a FAISS index
and an embedded Chroma collection; the sample of ``training_size`` records (65,536) is drawn from each both ways
(the read timed, beside one full read of the store), an ``IVF1024,Flat`` index is trained on it as a migration
trains its destination, filled with every record, and searched with 1,000 of the records as queries at ``nprobe``
8: recall@10 against exact search, and how unevenly the lists fill (FAISS's imbalance factor: 1 is even).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from v2v_store.connectors import Metric, VectorBatch, open_store
from v2v_store.connectors.faiss_structure import build_index, training_size

logger = logging.getLogger("bench.training_sample")
SETTINGS = {"index": "IVF1024,Flat", "nprobe": 8}
RUNS = 16


def runs_sample(store, size: int):
    """The sample as spread_sample drew it before session 60: ``RUNS`` runs of consecutive records starting evenly."""
    count, per_run, parts = store.count(), -(-size // RUNS), []
    for r in range(RUNS):
        left = per_run
        for batch in store.iter_batches(batch_size=min(per_run, 4096), start=r * count // RUNS, with_payload=False):
            parts.append(batch.vectors[:left])
            left -= len(parts[-1])
            if left <= 0:
                break
    return np.concatenate(parts)[:size]


def random_sample(store, size: int):
    return np.concatenate([b.vectors for b in store.spread_sample(size, with_payload=False)])


def timed(fn, *args):
    started = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - started


def full_read(store) -> int:
    return sum(len(b) for b in store.iter_batches(batch_size=4096, with_payload=False))


def ivf_quality(sample: np.ndarray, vectors: np.ndarray, queries: np.ndarray, truth: np.ndarray) -> dict:
    index, _ = build_index(SETTINGS, vectors.shape[1], faiss.METRIC_INNER_PRODUCT, len(vectors))
    index.train(sample)
    index.add_with_ids(vectors, np.arange(len(vectors), dtype=np.int64))
    _, found = index.search(queries, 10)
    recall = float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)]))
    return {"recall_at_10": round(recall, 4), "imbalance": round(float(faiss.extract_index_ivf(index).invlists.imbalance_factor()), 3)}


def main() -> None:
    from kit import load, run_meta, save_results

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--repeat", type=int, default=4, help="the kit's records and R-1 jittered copies (default 4)")
    parser.add_argument("--topics", type=int, default=1000, help="k-means clusters the sorted order follows")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    kit = np.concatenate([load("wiki", "minilm"), load("fortunes", "minilm")])
    noise = np.random.default_rng(0)
    vectors = np.concatenate([kit] + [kit + 0.02 * noise.standard_normal(kit.shape) for _ in range(args.repeat - 1)])
    vectors = np.ascontiguousarray(vectors / np.linalg.norm(vectors, axis=1, keepdims=True), dtype=np.float32)
    kmeans = faiss.Kmeans(vectors.shape[1], args.topics, niter=10, seed=0)
    kmeans.train(vectors)
    topic = kmeans.index.search(vectors, 1)[1][:, 0]
    orders = {"as given (wiki, then fortunes)": np.arange(len(vectors)),
              f"sorted by topic ({args.topics} k-means clusters)": np.argsort(topic, kind="stable")}
    size = training_size(SETTINGS, len(vectors))
    queries_at = np.random.default_rng(1).choice(len(vectors), 1000, replace=False)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for o, (order_name, order) in enumerate(orders.items()):
            ordered = vectors[order]
            queries = ordered[queries_at]
            exact = faiss.IndexFlatIP(ordered.shape[1])
            exact.add(ordered)
            truth = exact.search(queries, 10)[1]
            for uri in (f"faiss://{work}/src{o}.faiss", f"chroma://{work}/chroma{o}?collection=src"):
                with open_store(uri, dim=ordered.shape[1], metric=Metric.COSINE) as store:
                    for s in range(0, len(ordered), 4096):
                        stop = min(s + 4096, len(ordered))
                        store.upsert(VectorBatch(list(range(s, stop)), ordered[s:stop]))
                with open_store(uri) as store:
                    _, read_s = timed(full_read, store)
                    for method, draw in (("16 runs (before)", runs_sample), ("random positions (now)", random_sample)):
                        sample, draw_s = timed(draw, store, size)
                        row = {"order": order_name, "store": uri.split(":")[0], "sample": method, "records": len(ordered),
                               "sample_size": len(sample), "draw_s": round(draw_s, 2), "full_read_s": round(read_s, 2),
                               **ivf_quality(sample, ordered, queries, truth)}
                        logger.info("%s", row)
                        rows.append(row)
    lines = [f"# A new FAISS destination's training sample: {RUNS} runs against random positions", "",
             __doc__.split("\n\n")[0].replace("\n", " "), "", f"`{run_meta()['command']}` on {run_meta()['machine']}, "
             f"{run_meta()['date']}; one run. {SETTINGS['index']} at nprobe {SETTINGS['nprobe']}, trained on {size:,} "
             "records; recall@10 of 1,000 records as queries against exact search.", "",
             "| order | store | sample | draw s | full read s | recall@10 | list imbalance |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['order']} | {r['store']} | {r['sample']} | {r['draw_s']} | {r['full_read_s']} | {r['recall_at_10']} | "
              f"{r['imbalance']} |" for r in rows]
    save_results(args.out, "training_sample", {**run_meta(), "settings": SETTINGS, "rows": rows}, lines)


if __name__ == "__main__":
    main()
