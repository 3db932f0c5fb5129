"""What hybrid search (a dense and a sparse vector on each point, fused) keeps when a Qdrant collection is migrated
into a new model's space: the sparse vectors carried as they are (``v2v migrate``'s default since session 64) against
a destination of the dense vector alone (``--default-settings``, what every migration wrote before), from one run.

    python benchmarks/hybrid_migration.py --out benchmarks/results

The source, a Qdrant edge shard (Qdrant's own engine, in process: qdrant-client's local mode searches sparse vectors
in Python, ~50 ms a query at 2,000 points), holds the kit's wiki training sentences (27,610: ids 8,192-35,801) with two
vectors each: ``dense`` (MiniLM, 384-d) and ``bm25`` (sparse: BM25 term weights of the sentence's words, hashed to
ids; Qdrant's IDF modifier). It is migrated into mpnet's space (768-d) by a linear translator fitted on those
sentences' pairs (Procrustes: what is measured here is what the destination keeps, not the unsupervised
translation). The reference is the collection re-encoded: the same points with their mpnet vectors and the same
``bm25`` vectors. 1,000 held-out sentences (wiki ids 0-999, in no collection) are the queries, each searched three
ways: dense (its mpnet vector; MiniLM for the source), sparse (its words), hybrid (both, top 50 each, fused by
reciprocal rank). Reported: overlap@10 with the same search of the re-encoded collection (1.0: what re-encoding the
documents would give), the migration's time, and the share of the destination's points whose sparse vector is the
source's. The same migration through qdrant-client local mode (the code path of a Qdrant server) is timed and its
sparse vectors compared, not searched (local mode searches sparse vectors in Python).

``--backfill SHARE``: that share of the points (every k-th) have no dense vector, in the source and the re-encoded
collection alike (a dense backfill under way: the points have their BM25 vector only); ``points`` counts each
destination's points, those without the dense vector included (copied since session 65).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import tempfile
import time
import zlib
from collections import Counter
from importlib.metadata import version
from pathlib import Path

import numpy as np

logger = logging.getLogger("bench.hybrid_migration")
QUERIES, K, PREFETCH = 1000, 10, 50
DOCS = slice(8192, 35802)  # the kit's wiki training sides: no query is among them
K1, B = 1.2, 0.75  # BM25's term-frequency saturation and length normalisation


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def term_id(word: str) -> int:
    return zlib.crc32(word.encode()) & 0x7FFFFFFF


def bm25_vectors(texts: list[str]) -> list[tuple[list[int], list[float]]]:
    """Each text's BM25 term-frequency weights by hashed word id (the IDF part is Qdrant's modifier)."""
    counts = [Counter(words(t)) for t in texts]
    mean_length = float(np.mean([sum(c.values()) for c in counts]))
    out = []
    for c in counts:
        length, weights = sum(c.values()), {}
        for word, tf in c.items():
            weights[term_id(word)] = weights.get(term_id(word), 0.0) + tf * (K1 + 1) / (
                tf + K1 * (1 - B + B * length / mean_length))
        out.append((list(weights), list(weights.values())))
    return out


def query_terms(text: str) -> tuple[list[int], list[float]]:
    ids = sorted({term_id(w) for w in words(text)})
    return ids, [1.0] * len(ids)


def point_vectors(i: int, dense: np.ndarray, sparse: list, sparse_type, without: set[int]) -> dict:
    """Point ``i``'s vectors: ``bm25``, and ``dense`` unless ``i`` is among those ``without`` it."""
    return {**({} if i in without else {"dense": dense[i].tolist()}),
            "bm25": sparse_type(indices=sparse[i][0], values=sparse[i][1])}


def build(path: Path, dense: np.ndarray, sparse: list, without: set[int]) -> None:
    """A Qdrant edge shard of points with a ``dense`` (but those ``without`` it) and a ``bm25`` vector (IDF
    modifier)."""
    import qdrant_edge as q

    shard = q.EdgeShard.create(str(path), q.EdgeConfig(
        vectors={"dense": q.EdgeVectorParams(size=dense.shape[1], distance=q.Distance.Cosine)},
        sparse_vectors={"bm25": q.EdgeSparseVectorParams(modifier=q.Modifier.Idf)}))
    for start in range(0, len(dense), 2048):
        shard.update(q.UpdateOperation.upsert_points([q.Point(
            i, point_vectors(i, dense, sparse, q.SparseVector, without), {"document": f"wiki {DOCS.start + i}"})
            for i in range(start, min(start + 2048, len(dense)))]))
    shard.flush()
    shard.close()


def build_local(path: Path, dense: np.ndarray, sparse: list, without: set[int]) -> None:
    """The same points in a qdrant-client local-mode collection ``docs`` (the code path of a Qdrant server)."""
    from qdrant_client import QdrantClient, models as m

    client = QdrantClient(path=str(path))
    client.create_collection("docs", vectors_config={"dense": m.VectorParams(size=dense.shape[1],
                                                                             distance=m.Distance.COSINE)},
                             sparse_vectors_config={"bm25": m.SparseVectorParams(modifier=m.Modifier.IDF)})
    for start in range(0, len(dense), 2048):
        client.upsert("docs", points=[m.PointStruct(
            id=i, vector=point_vectors(i, dense, sparse, m.SparseVector, without),
            payload={"document": f"wiki {DOCS.start + i}"}) for i in range(start, min(start + 2048, len(dense)))])
    client.close()


def sparse_kept(uri: str, sparse: list) -> float:
    """The share of the source's points whose ``bm25`` vector a destination holds as it was (the same terms, the same
    weights to float32 precision; Qdrant keeps a sparse vector's terms sorted), those without a dense one included."""
    from itertools import chain

    from v2v_store import open_store

    same = 0
    with open_store(uri) as store:
        store.read_other_vectors = ("bm25",)
        for batch in chain(store.iter_batches(batch_size=4096), store.iter_points_without_vector(batch_size=4096)):
            for i, others in zip(batch.ids, batch.other_vectors):
                got, order = others.get("bm25"), np.argsort(sparse[i][0])
                same += bool(got) and got["indices"] == list(np.asarray(sparse[i][0])[order]) and np.allclose(
                    got["values"], np.asarray(sparse[i][1])[order], rtol=1e-6)
    return round(same / len(sparse), 4)


def points(uri: str) -> int:
    """A collection's points, those without the dense vector included."""
    from v2v_store import open_store

    with open_store(uri) as store:
        return store.count() + store.count_without_vector()


def search(path: Path, dense_queries: np.ndarray, sparse_queries: list) -> dict[str, list]:
    """Each query's top 10 ids, three ways (dense; where the shard has a sparse vector, sparse and hybrid: the top 50
    of each fused by reciprocal rank, k=60). The dense vector is ``dense`` where the shard names it (a destination not
    laid out as the source: unnamed)."""
    import qdrant_edge as q

    out: dict[str, list] = {"dense": [], "sparse": [], "hybrid": []}
    config = json.loads((path / "edge_config.json").read_text())
    using, hybrid = ("dense" if "dense" in config["vectors"] else None), "bm25" in (config.get("sparse_vectors") or {})
    started, shard = time.perf_counter(), q.EdgeShard.load(str(path))
    try:
        for vector, (ids, values) in zip(dense_queries, sparse_queries):
            dense, sparse = q.Query.Nearest(vector.tolist(), using=using), q.Query.Nearest(
                q.SparseVector(indices=ids, values=values), using="bm25")
            out["dense"].append([p.id for p in shard.query(q.QueryRequest(limit=K, query=dense))])
            if not hybrid:
                continue
            out["sparse"].append([p.id for p in shard.query(q.QueryRequest(limit=K, query=sparse))])
            out["hybrid"].append([p.id for p in shard.query(q.QueryRequest(
                limit=K, prefetches=[q.Prefetch(limit=PREFETCH, query=dense), q.Prefetch(limit=PREFETCH, query=sparse)],
                query=q.Fusion.Rrf(k=60)))])
    finally:
        shard.close()
    logger.info("searched %s: %.1f s", path.name, time.perf_counter() - started)
    return out


def overlap(found: list, reference: list) -> float | str:
    if not found:
        return "not possible"
    return round(float(np.mean([len(set(f) & set(r)) / K for f, r in zip(found, reference)])), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=None, help="the first N of the 27,610 documents (default: all)")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--name", default="hybrid_migration", help="results file name (default hybrid_migration)")
    parser.add_argument("--backfill", type=float, default=0.0,
                        help="the share of points without a dense vector (every k-th; default 0: none)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from kit import load, markdown_table, run_meta, save_results, texts

    from v2v_store.migrate import migrate
    from v2v_store.train.linear import fit_procrustes
    from v2v_store.translator import Space, Translator

    minilm, mpnet, wiki = load("wiki", "minilm"), load("wiki", "mpnet"), texts("wiki")
    stop = DOCS.stop if args.records is None else DOCS.start + args.records
    docs_a, docs_b, doc_texts = minilm[DOCS.start:stop], mpnet[DOCS.start:stop], wiki[DOCS.start:stop]
    tr = Translator.from_linear_map(fit_procrustes((docs_a, docs_b)), Space("minilm", 384), Space("mpnet", 768))
    sparse = bm25_vectors(doc_texts)
    step = round(1 / args.backfill) if args.backfill else 0
    without = set(range(0, len(docs_a), step)) if step else set()  # points without a dense vector
    sparse_queries = [query_terms(t) for t in wiki[:QUERIES]]
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        build(root / "source", docs_a, sparse, without)
        build(root / "reencoded", docs_b, sparse, without)
        logger.info("built the source and the re-encoded shard: %.1f s", time.perf_counter() - started)
        timings = {}
        for dest, copy in (("migrated", True), ("dense_only", False)):
            started = time.perf_counter()
            report = migrate(tr, f"qdrant-edge://{root / 'source'}", f"qdrant-edge://{root / dest}", copy_settings=copy,
                             state_dir=root / "state", progress=False, check_space=False, source_space="minilm")
            timings[dest] = (round(time.perf_counter() - started, 2), report.written, report.settings_carried,
                             points(f"qdrant-edge://{root / dest}"))
            logger.info("%s: %.1f s, %s", dest, timings[dest][0], report.settings_carried)
        # the same migration through qdrant-client local mode (a server's code path): its time, and whether every
        # point's sparse vector arrived as it was (its sparse search runs in Python: not searched here)
        build_local(root / "local", docs_a, sparse, without)
        local = f"qdrant://{root / 'local'}?collection="
        for dest, copy in (("docs_migrated", True), ("docs_dense_only", False)):
            started = time.perf_counter()
            report = migrate(tr, local + "docs", local + dest, copy_settings=copy, state_dir=root / "state",
                             progress=False, check_space=False, source_space="minilm")
            timings[dest] = (round(time.perf_counter() - started, 2), report.written, report.settings_carried,
                             points(local + dest))
            logger.info("local mode %s: %.1f s", dest, timings[dest][0])
        kept_locally = sparse_kept(local + "docs_migrated", sparse)
        kept_on_edge = sparse_kept(f"qdrant-edge://{root / 'migrated'}", sparse)
        new_queries, old_queries = mpnet[:QUERIES], minilm[:QUERIES]
        reference = search(root / "reencoded", new_queries, sparse_queries)
        found = {"source (MiniLM vectors, MiniLM queries)": search(root / "source", old_queries, sparse_queries),
                 "migrated, sparse carried (the default)": search(root / "migrated", new_queries, sparse_queries),
                 "migrated, dense only (--default-settings)": search(root / "dense_only", new_queries, sparse_queries)}
    for label, result in found.items():
        dest = "migrated" if "carried" in label else "dense_only" if "dense only" in label else None
        rows[label] = {"migrate_s": timings[dest][0] if dest else "", "written": timings[dest][1] if dest else "",
                       "points": timings[dest][3] if dest else len(docs_a),
                       **{f"{way}_overlap@10": overlap(result[way], reference[way])
                          for way in ("dense", "sparse", "hybrid")},
                       **({"sparse_vectors_equal": kept_on_edge} if dest == "migrated" else {})}
        logger.info("%s: %s", label, rows[label])
    rows["qdrant-client local mode: migrated, sparse carried"] = {
        "migrate_s": timings["docs_migrated"][0], "written": timings["docs_migrated"][1],
        "points": timings["docs_migrated"][3], "sparse_vectors_equal": kept_locally}
    rows["qdrant-client local mode: dense only (--default-settings)"] = {
        "migrate_s": timings["docs_dense_only"][0], "written": timings["docs_dense_only"][1],
        "points": timings["docs_dense_only"][3]}
    result = {**run_meta(), "qdrant_edge": version("qdrant-edge-py"), "records": len(docs_a), "queries": QUERIES,
              "without_dense": len(without),
              "rows": rows, "settings_carried": {dest: t[2] for dest, t in timings.items()}}
    keys = ["migrate_s", "written", "points", "dense_overlap@10", "sparse_overlap@10", "hybrid_overlap@10",
            "sparse_vectors_equal"]
    lines = ["# Hybrid search after migrating a Qdrant edge shard (MiniLM 384-d -> mpnet 768-d, BM25 sparse vectors)",
             "", f"`{result['command']}` on {result['machine']}, {result['date']}; {len(docs_a):,} points"
             + (f" ({len(without):,} of them, every {step}th, without a dense vector: a backfill under way)"
                if without else "") + ", "
             f"{QUERIES} held-out sentences as queries, overlap@10 with the same search of the re-encoded shard "
             f"(mpnet vectors, the same sparse vectors), qdrant-edge-py {result['qdrant_edge']}; one run.", "",
             *markdown_table(rows, keys)]
    save_results(Path(args.out), args.name, result, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
