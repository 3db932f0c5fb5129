"""What a migrated FAISS collection keeps when it is built like its source (``v2v migrate``'s default since session
58) against a flat destination (``--default-settings``, what every FAISS destination was before), from one run.

    python benchmarks/faiss_structure.py --out benchmarks/results

The sources hold the kit's MiniLM vectors (384-d; wiki then fortunes: 43,994 records; ``--records`` takes the first
N) in FAISS indexes built as users build them for memory or speed: ``IVF256,PQ48`` (48 bytes a vector, nprobe 16) and
``HNSW32`` (efSearch 64). Each is migrated into mpnet's space (768-d) by a linear translator fitted on the kit's wiki
pairs but the 1,000 query documents (Procrustes: what is measured here is the destination's structure, not the
unsupervised translation): like its source, flat (the IVF-PQ source only), and as ``?index=IVF256,PQ96`` asks (the
same dimensions a sub-quantizer as the source, twice the bytes). Each destination is searched one query at a time
(median latency) two ways, recall@10 against exact (brute-force) search over the vectors the migration wrote:

- *stored queries*: the translations of 1,000 of its own documents (the index's own loss; the source row: its own
  MiniLM vectors against its original vectors, the trade its user made);
- *new queries*: the mpnet vectors of the same 1,000 documents, as a user of the migrated collection searches it with
  the new model; also the share whose own document comes first / in the top 10.

Also: the index file's size and the migration's time (training included).

``--sources`` picks the source structures (default: the two above); two more are measured with
``--sources OPQ48,IVF256,PQ48 HNSW32_PQ48 --name faiss_structure_opq``: an OPQ rotation before IVF-PQ codes (carried
as it is, and against ``?index=IVF256,PQ48``: the same bytes without the rotation) and an HNSW graph over PQ codes;
``--sources OPQ48_192,IVF256,PQ48 --name faiss_structure_opq_reduced``: a rotation that keeps half the dimensions,
carried as it is (192 of the new model's 768) against keeping half of the new model's (384).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

logger = logging.getLogger("bench.faiss_structure")
QUERIES, K = 1000, 10
SOURCES = {"IVF256,PQ48": {"nprobe": 16}, "HNSW32": {"efSearch": 64}, "OPQ48,IVF256,PQ48": {"nprobe": 16},
           "HNSW32_PQ48": {"efSearch": 64}, "OPQ48_192,IVF256,PQ48": {"nprobe": 16}}
RUNS = {"IVF256,PQ48": [("flat (--default-settings)", False, ""), ("like the source", True, ""),
                        ("?index=IVF256,PQ96", True, "?index=IVF256,PQ96&nprobe=16")],
        "HNSW32": [("like the source", True, "")],
        "OPQ48,IVF256,PQ48": [("like the source", True, ""),
                              ("?index=IVF256,PQ48 (no OPQ)", True, "?index=IVF256,PQ48&nprobe=16")],
        "HNSW32_PQ48": [("like the source", True, "")],
        "OPQ48_192,IVF256,PQ48": [("like the source (its 192 dimensions kept)", True, ""),
                                  ("?index=OPQ48_384,IVF256,PQ48 (half of the new model's dimensions)", True,
                                   "?index=OPQ48_384,IVF256,PQ48&nprobe=16")]}


def kit_vectors() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(MiniLM records, mpnet vectors of the same documents, the wiki pairs' count): wiki then fortunes."""
    from kit import load

    wiki_a, wiki_b = load("wiki", "minilm"), load("wiki", "mpnet")
    records = np.concatenate([wiki_a, load("fortunes", "minilm")]).astype(np.float32)
    same_docs = np.concatenate([wiki_b, load("fortunes", "mpnet")]).astype(np.float32)
    return records, same_docs, len(wiki_a)


def translator(records: np.ndarray, same_docs: np.ndarray, pairs: int):
    from v2v_store.train.linear import fit_procrustes
    from v2v_store.translator import Space, Translator

    train = slice(QUERIES, pairs)  # the query documents' pairs are not used to fit
    return Translator.from_linear_map(fit_procrustes((records[train], same_docs[train])), Space("minilm", 384),
                                      Space("mpnet", 768))


def build_source(path: Path, factory: str, params: dict, vectors: np.ndarray) -> str:
    from v2v_store.connectors.faiss_structure import core_index

    index = faiss.index_factory(vectors.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    inner = core_index(index)
    if hasattr(inner, "do_polysemous_training"):
        inner.do_polysemous_training = False
    index.train(unit)
    if isinstance(inner, faiss.IndexIVF):
        inner.nprobe = params["nprobe"]
    else:
        inner.hnsw.efSearch = params["efSearch"]
    index.add(unit)
    faiss.write_index(index, str(path))
    return f"faiss://{path}"


def exact_top(queries: np.ndarray, vectors: np.ndarray) -> list[list[int]]:
    """The rows of ``vectors`` nearest each query by cosine, best first (brute force: the exact reference)."""
    scores = queries @ vectors.T
    top = np.argpartition(-scores, K, axis=1)[:, :K]
    return np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1), axis=1).tolist()


def measure(path: Path, queries: np.ndarray, exact: list) -> dict:
    """Search ``queries`` one at a time: median latency, recall@10 against ``exact`` (ids = rows), and whether each
    query's own document (id = its row) comes first / in the top 10."""
    from v2v_store import open_store

    with open_store(f"faiss://{path}") as store:
        times, found = [], []
        for q in queries:
            t0 = time.perf_counter()
            _, ids = store.search(q[None], K)
            times.append(time.perf_counter() - t0)
            found.append(ids[0])
        index_type, settings = store.index_type, store.settings()
    return {"index": index_type, "settings": settings, "file_mb": round(path.stat().st_size / 2**20, 1),
            "search_ms": round(1000 * float(np.median(times)), 3),
            "recall": round(float(np.mean([len(set(f) & set(e)) / K for f, e in zip(found, exact)])), 4),
            "top1": round(float(np.mean([f[:1] == [i] for i, f in enumerate(found)])), 4),
            "top10": round(float(np.mean([i in f for i, f in enumerate(found)])), 4)}


def unit_rows(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=None, help="the first N of the kit's vectors (default: all)")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--sources", nargs="+", choices=sorted(SOURCES), default=["IVF256,PQ48", "HNSW32"],
                        help="source structures to build and migrate (default: IVF256,PQ48 HNSW32)")
    parser.add_argument("--name", default="faiss_structure", help="results file name (default faiss_structure)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from kit import markdown_table, run_meta, save_results

    from v2v_store import open_store
    from v2v_store.migrate import migrate

    records, same_docs, pairs = kit_vectors()
    records, same_docs = unit_rows(records[:args.records]), same_docs[:args.records]
    tr = translator(records, same_docs, min(pairs, len(records)))
    new_queries = unit_rows(same_docs[:QUERIES])  # the target model's vectors of documents in the collection
    runs = {factory: RUNS[factory] for factory in args.sources}
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for factory, dests in runs.items():
            source = build_source(root / f"{factory}.faiss", factory, SOURCES[factory], records)
            own = measure(root / f"{factory}.faiss", records[:QUERIES], exact_top(records[:QUERIES], records))
            rows[f"{factory} source itself (384-d)"] = {"migrate_s": "", "index": own["index"], "file_mb": own["file_mb"],
                                                        "stored_queries_ms": own["search_ms"],
                                                        "stored_queries_recall": own["recall"]}
            with open_store(source) as store:  # what the source gives back (approximations, if it compresses)
                stored = np.concatenate([b.vectors for b in store.iter_batches(batch_size=8192, with_payload=False)])
            translated = unit_rows(tr.translate(stored, source="minilm", target="mpnet"))  # what a migration writes
            for n, (label, copy, query) in enumerate(dests):
                dest = root / f"{factory}-{n}.faiss"
                started = time.perf_counter()
                report = migrate(tr, source, f"faiss://{dest}{query}", copy_settings=copy, state_dir=root / "state",
                                 progress=False, check_space=False, source_space="minilm")
                took = round(time.perf_counter() - started, 2)
                by_stored = measure(dest, translated[:QUERIES], exact_top(translated[:QUERIES], translated))
                by_new = measure(dest, new_queries, exact_top(new_queries, translated))
                rows[f"{factory} source -> {label}"] = {
                    "migrate_s": took, "index": by_new["index"], "file_mb": by_new["file_mb"],
                    "stored_queries_ms": by_stored["search_ms"], "stored_queries_recall": by_stored["recall"],
                    "new_queries_ms": by_new["search_ms"], "new_queries_recall": by_new["recall"],
                    "own_doc_top1": by_new["top1"], "own_doc_top10": by_new["top10"], "settings": by_new["settings"],
                    "written": report.written}
                logger.info("%s: %s", label, rows[f"{factory} source -> {label}"])
    result = {**run_meta(), "faiss": faiss.__version__, "records": len(records), "queries": QUERIES, "rows": rows}
    keys = ["migrate_s", "index", "file_mb", "stored_queries_ms", "stored_queries_recall", "new_queries_ms",
            "new_queries_recall", "own_doc_top1", "own_doc_top10"]
    lines = ["# Migrated FAISS collection built like its source vs flat (MiniLM 384-d -> mpnet 768-d)", "",
             f"`{result['command']}` on {result['machine']}, faiss {faiss.__version__}, {result['date']}; "
             f"{len(records):,} records, {QUERIES} mpnet queries (documents of the collection), one run.", "",
             *markdown_table(rows, keys)]
    save_results(Path(args.out), args.name, result, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
