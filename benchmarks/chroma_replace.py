"""What writing a Chroma collection costs since session 70, where a write replaces the records Chroma holds under its
ids whole (a read of those ids first: Chroma's own upsert merges the old metadata and document into the new), against
Chroma's upsert alone (before). Two cases: new ids (a migration into a new collection, the common one: the read finds
nothing) and ids the collection holds (``--on-exists append``, a resumed batch: every record replaced).

    python benchmarks/chroma_replace.py --tag chroma_replace_wiki

The records are the kit's wiki sentences embedded by MiniLM, ``--batches`` pages of ``--batch`` records, each with a
title and its sentence as the document (held records get other metadata and documents). One run; times on a shared
2-core machine are noisy, compare within a row.
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
from kit import load, run_meta, save_results, texts  # noqa: E402

logger = logging.getLogger("bench.chroma_replace")


def _pages(vectors: np.ndarray, documents: list[str], batch: int, tag: str):
    from v2v_store import VectorBatch

    for start in range(0, len(vectors), batch):
        rows = range(start, min(start + batch, len(vectors)))
        yield VectorBatch(list(rows), vectors[start:start + batch], [{"title": f"{tag} {i}", tag: i} for i in rows],
                          [f"{tag}: {documents[i]}" for i in rows])


def _timed_writes(uri: str, vectors: np.ndarray, documents: list[str], batch: int, replacing: bool) -> float:
    """Seconds to write every page into ``uri``, with the read that makes a write replace held records whole, or with
    Chroma's upsert alone."""
    from v2v_store import open_store
    from v2v_store.connectors.chroma_store import ChromaStore

    real = ChromaStore._replacing_held
    if not replacing:
        ChromaStore._replacing_held = lambda self, ids, metadata, documents: metadata
    try:
        with open_store(uri, dim=vectors.shape[1], metric="cosine") as store:
            started = time.perf_counter()
            for page in _pages(vectors, documents, batch, "new"):
                store.upsert(page)
            return time.perf_counter() - started
    finally:
        ChromaStore._replacing_held = real


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--tag", default="chroma_replace_wiki")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from v2v_store import open_store

    n = args.batches * args.batch
    vectors, documents = load("wiki", args.model)[:n], texts("wiki")[:n]
    results = {}
    with tempfile.TemporaryDirectory() as work:
        for case in ("new ids", "held ids"):
            row = {}
            for replacing in (True, False):
                uri = f"chroma://{work}/{case.replace(' ', '_')}_{replacing}?collection=docs"
                if case == "held ids":  # the collection holds every id, with other metadata and documents
                    with open_store(uri, dim=vectors.shape[1], metric="cosine") as store:
                        for page in _pages(vectors, documents, args.batch, "old"):
                            store.upsert(page)
                seconds = _timed_writes(uri, vectors, documents, args.batch, replacing)
                row["replaced whole, s" if replacing else "Chroma's upsert, s"] = round(seconds, 2)
                logger.info("%s, %s: %.2f s", case, "replaced whole" if replacing else "upsert alone", seconds)
            row["ratio"] = round(row["replaced whole, s"] / row["Chroma's upsert, s"], 3)
            results[case] = row
    payload = {**run_meta(), "model": args.model, "records": n, "batch": args.batch, "results": results}
    lines = ["# Chroma writes that replace held records whole (session 70) against Chroma's upsert alone", "",
             f"Command: `{payload['command']}`  ", f"Machine: {payload['machine']}, {payload['date']}", "",
             f"{n:,} records of the kit's wiki sentences by {args.model} ({args.batch} a write), each with metadata and "
             "its sentence as document, written into a collection that holds none of their ids, or all of them "
             "(with other metadata and documents). One run.", "",
             "| ids | s, replaced whole | s, Chroma's upsert | ratio |", "|---|---|---|---|"]
    for case, r in results.items():
        upsert = r["Chroma's upsert, s"]
        lines.append(f"| {case} | {r['replaced whole, s']} | {upsert} | {r['ratio']} |")
    save_results(args.out, args.tag, payload, lines)


if __name__ == "__main__":
    main()
