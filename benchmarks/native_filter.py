"""What a filtered search of a flat FAISS index costs in native mode: FAISS's selector over the records the sidecar's
metadata keeps (since session 69) against scoring those records in a read of the collection (before; still the way
for IVF and HNSW indexes, which cannot filter exactly).

    python benchmarks/native_filter.py --copies 6 --tag native_filter_wiki_x6

The collection holds the kit's wiki sentences embedded by MiniLM, ``--copies`` times over (ids offset), each record
given one of ``--tenants`` tenants in turn; the queries are the first ``--queries`` held-out sentences' vectors, each
search filtered to one tenant. Per row: seconds each way for all queries, and whether both returned the same ids.
One run; times on a shared 2-core machine are noisy, compare within a row.
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
from kit import EVAL, load, run_meta, save_results, write_collection  # noqa: E402

logger = logging.getLogger("bench.native_filter")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--copies", type=int, default=6)
    ap.add_argument("--tenants", type=int, default=50)
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--tag", default="native_filter_wiki_x6")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from v2v_store import open_store
    from v2v_store.connectors import VectorStore
    from v2v_store.connectors.where import Where

    vectors = np.tile(load("wiki", args.model), (args.copies, 1))
    queries = load("wiki", args.model)[EVAL][: args.queries]
    tenants = [f"t{i % args.tenants}" for i in range(len(vectors))]
    results = {}
    with tempfile.TemporaryDirectory() as work:
        uri = f"faiss://{work}/wiki.faiss"
        write_collection(uri, vectors, [{"tenant": t} for t in tenants], batch=8192)
        with open_store(uri) as store:
            for tenant in ("t0", f"t{args.tenants // 2}"):
                where = Where.parse([f"tenant={tenant}"])
                t0 = time.perf_counter()
                _, selected = store.search(queries, args.k, where=where)  # the selector (a flat index)
                selector_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                _, read = VectorStore.search_where(store, queries, args.k, where)  # every record read and scored
                read_s = time.perf_counter() - t0
                results[tenant] = {"kept": tenants.count(tenant), "selector": round(selector_s, 2),
                                   "read": round(read_s, 2), "same ids": selected == read}
                logger.info("%s: %s", tenant, results[tenant])
    payload = {**run_meta(), "model": args.model, "collection_size": len(vectors), "queries": len(queries),
               "k": args.k, "results": results}
    lines = ["# Native mode's filtered search of a flat FAISS index: a selector against a read of the collection", "",
             f"Command: `{payload['command']}`  ", f"Machine: {payload['machine']}, {payload['date']}", "",
             f"Collection: {len(vectors):,} records (the kit's wiki sentences by {args.model}, {args.copies} times over), "
             f"one of {args.tenants} tenants each; {len(queries)} held-out queries, k = {args.k}, each search filtered "
             "to one tenant. Seconds for all queries: FAISS's selector over the ids the sidecar's metadata keeps, and "
             "the same records scored in a read of the collection.", "",
             "| tenant | records kept | s, selector | s, read | same ids |", "|---|---|---|---|---|"]
    for tenant, r in results.items():
        lines.append(f"| {tenant} | {r['kept']:,} | {r['selector']} | {r['read']} | {r['same ids']} |")
    save_results(args.out, args.tag, payload, lines)


if __name__ == "__main__":
    main()
