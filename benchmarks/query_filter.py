"""What `v2v query --where` costs and gives: cross-model queries over the kit's Wikipedia sentences, each filtered to
its own sentence's topic (the vital articles' topics, 12 with "Uncategorized"), in FAISS, Chroma and Qdrant (local
mode).

    python benchmarks/query_filter.py --tag query_filter_wiki

A collection per store holds all 35,802 kit sentences embedded by one model (ids = kit rows, metadata: topic and
article title); the queries are the other model's vectors of ``--queries`` held-out sentences, so each query's own
sentence is its one right answer. The translator is orthogonal Procrustes on the true pairs of the kit's training side
A (this measures the filter, not a fit). Per store and mode (latent: the default; native: each store's own search):
top-1 of the own sentence without a filter and with ``--where topic=<its topic>`` (queries grouped by topic, a search
per topic), whether every hit met its filter, and seconds: the unfiltered search, the filtered ones, and of those the
reads of the ids each filter keeps. One run; times on a shared 2-core machine are noisy, compare within a row.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kit import EVAL, KIT, SIDE_A, load, run_meta, save_results, write_collection  # noqa: E402

logger = logging.getLogger("bench.query_filter")
STORES = {"faiss": "faiss://{work}/wiki.faiss", "chroma": "chroma://{work}/chroma?collection=wiki",
          "qdrant": "qdrant://{work}/qdrant?collection=wiki"}


def measure(translator, uri: str, mode: str, queries: np.ndarray, topics: list[str], query_space: str, k: int
            ) -> dict:
    from v2v_store.connectors.where import Where
    from v2v_store.query import CrossQuery

    truth = np.arange(len(queries))
    with CrossQuery(translator, [(uri, None)], mode=mode, check_space=False) as cross:
        if mode == "latent":
            cross.prepare()  # the latent copy built before the clocks start: both searches use it
        t0 = time.perf_counter()
        plain = cross.search(queries, space=query_space, k=k)
        plain_s = time.perf_counter() - t0
        wheres = {topic: Where.parse([f"topic={json.dumps(topic)}"]) for topic in sorted(set(topics))}
        t0 = time.perf_counter()
        for where in wheres.values():  # what reading the ids a filter keeps costs, apart
            cross._store(uri).ids_where(where)
        reads = time.perf_counter() - t0
        filtered: list = [None] * len(queries)
        t0 = time.perf_counter()
        for topic, where in wheres.items():
            rows = [r for r, t in enumerate(topics) if t == topic]
            for r, hits in zip(rows, cross.search(queries[rows], space=query_space, k=k, where=where)):
                filtered[r] = hits
        filtered_s = time.perf_counter() - t0
    with CrossQuery(translator, [(uri, None)], mode=mode, check_space=False) as cross:  # nothing read of the filters
        if mode == "latent":
            cross.prepare()
        t0 = time.perf_counter()
        each = cross.search(queries, space=query_space, k=k, where=[wheres[t] for t in topics])
        each_s = time.perf_counter() - t0
    top1 = lambda runs: round(float(np.mean([bool(h) and h[0].id == t for h, t in zip(runs, truth)])), 4)  # noqa: E731
    return {"top1": top1(plain), "top1_filtered": top1(filtered),
            "hits_meet_filter": all(h.metadata["topic"] == t for hits, t in zip(filtered, topics) for h in hits),
            "same_hits_one_call": all([h.id for h in a] == [h.id for h in b] for a, b in zip(filtered, each)),
            "seconds": round(plain_s, 2), "seconds_filtered": round(filtered_s, 2),
            "seconds_one_call": round(each_s, 2),
            "seconds_reading_filters": round(reads, 2), "filters": len(set(topics))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pair", default="minilm,e5", help="Two kit models: the collection's, then the queries'.")
    ap.add_argument("--queries", type=int, default=2048)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--tag", default="query_filter_wiki")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from v2v_store.train.linear import fit_procrustes
    from v2v_store.translator import Space, Translator

    stored, asked = args.pair.split(",")
    vecs = {m: load("wiki", m) for m in (stored, asked)}
    a, b = vecs[stored][SIDE_A], vecs[asked][SIDE_A]
    tr = Translator.from_linear_map(fit_procrustes((a, b)), Space(stored, a.shape[1]), Space(asked, b.shape[1]))
    tr.record_space_stats(a, b)
    tr.calibrate_queries(a, b)
    rows = [json.loads(line) for line in (KIT / "wiki.jsonl").open()]
    metadata = [{"topic": r["topic"], "title": r["title"]} for r in rows]
    queries = vecs[asked][EVAL][: args.queries]
    topics = [m["topic"] for m in metadata[: len(queries)]]
    results = {}
    with tempfile.TemporaryDirectory() as work:
        for name, pattern in STORES.items():
            uri = pattern.format(work=work)
            everything = vecs[stored]
            t0 = time.perf_counter()
            write_collection(uri, everything, metadata)
            logger.info("%s: %d records written in %.0f s", name, len(everything), time.perf_counter() - t0)
            for mode in ("latent", "native"):
                results[f"{name} {mode}"] = run = measure(tr, uri, mode, queries, topics, asked, args.k)
                logger.info("%s %s: %s", name, mode, run)
    payload = {**run_meta(), "pair": args.pair, "collection_size": int(len(vecs[stored])), "queries": len(queries),
               "k": args.k, "results": results}
    lines = [f"# Filtered cross-model queries: {asked} queries over a {stored} collection, kit wiki", "",
             f"Command: `{payload['command']}`  ", f"Machine: {payload['machine']}, {payload['date']}", "",
             f"Collection: all {payload['collection_size']:,} kit sentences embedded by {stored}, metadata topic and "
             f"title; queries: {asked}'s vectors of the first {len(queries):,} held-out sentences, each filtered to its "
             f"own sentence's topic ({results['faiss latent']['filters']} topics: a search per topic); Procrustes "
             f"translator on the true pairs of side A; k = {args.k}. Seconds: all queries; the filtered searches "
             "(a search per topic: latent mode reads the ids each filter keeps in it, native mode scores the records each "
             "keeps, read again: a Qdrant server would filter in its engine, local mode here does not); all queries in one "
             "call, each with its own filter (`where=[...]`: latent mode reads every filter's records in one pass where "
             "a store tests them here, then searches each filter's queries together); the reads of the ids the filters "
             "keep, one by one, timed apart.", "",
             "| store, mode | top-1 | top-1 filtered | every hit meets its filter | s | s filtered | s filtered, one call "
             "(same hits) | s reading the filters |", "|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['top1']} | {r['top1_filtered']} | {r['hits_meet_filter']} | {r['seconds']} | "
                     f"{r['seconds_filtered']} | {r['seconds_one_call']} ({r['same_hits_one_call']}) | "
                     f"{r['seconds_reading_filters']} |")
    save_results(args.out, args.tag, payload, lines)


if __name__ == "__main__":
    main()
