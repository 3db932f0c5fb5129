"""What a migrated collection keeps when it is created like its source (``v2v migrate``'s default since session 57)
against the backend's defaults (``--default-settings``), on Qdrant's storage engine (qdrant-edge), from one run.

    python benchmarks/carried_settings.py --out benchmarks/results

The source shard is set up as a user tunes one: HNSW m=32 / ef_construct=200, int8 scalar quantization kept in RAM,
a low indexing threshold (so the HNSW index is built), and a keyword payload index on ``tenant`` (100 tenants, so a
tenant filter keeps 1% of the records). It holds the kit's MiniLM vectors, real 384-d embeddings (wiki, then
fortunes but its last 200: 43,794; ``--records`` takes the first N), migrated into another 384-d space by a random
rotation (what is measured is the destination's storage, not the translation). The queries are those last 200
fortunes vectors (in no collection), rotated the same way. Each destination is optimised (``EdgeShard.optimize``:
segments merged, HNSW and quantization built as its configuration says), then searched: the 200 queries with a tenant
filter and without, median latency per query, and recall@10 against exact search (``SearchParams(exact=True)``) on the
same shard.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

logger = logging.getLogger("bench.settings")
DIM, TENANTS, QUERIES, K = 384, 100, 200, 10


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def kit_vectors() -> tuple[np.ndarray, np.ndarray]:
    """(records, queries): the kit's MiniLM wiki and fortunes vectors, the last 200 fortunes ones held out."""
    from kit import load

    fortunes = load("fortunes", "minilm")
    records = np.concatenate([load("wiki", "minilm"), fortunes[:-QUERIES]])
    return records / np.linalg.norm(records, axis=1, keepdims=True), fortunes[-QUERIES:]


def build_source(root: Path, vectors: np.ndarray) -> str:
    import qdrant_edge as q

    from v2v_store import VectorBatch, open_store

    shard = q.EdgeShard.create(str(root / "source"), q.EdgeConfig(
        vectors=q.EdgeVectorParams(size=DIM, distance=q.Distance.Cosine),
        hnsw_config=q.HnswIndexConfig(m=32, ef_construct=200, full_scan_threshold=1000),
        quantization_config=q.ScalarQuantizationConfig(type=q.ScalarType.Int8, always_ram=True),
        optimizers=q.EdgeOptimizersConfig(indexing_threshold=1000)))
    shard.update(q.UpdateOperation.create_field_index("tenant", q.PayloadSchemaType.Keyword))
    shard.close()
    uri = f"qdrant-edge://{root}/source"
    with open_store(uri) as store:
        for start in range(0, len(vectors), 5000):
            rows = range(start, min(start + 5000, len(vectors)))
            store.upsert(VectorBatch(list(rows), vectors[rows.start:rows.stop],
                                     [{"tenant": f"t{i % TENANTS}"} for i in rows]))
    return uri


def translator():
    """A translator that rotates: (translator, rotation)."""
    from v2v_store.train.linear import fit_procrustes
    from v2v_store.translator import Space, Translator

    rng = np.random.default_rng(1)
    a = unit(rng, 4096)
    rotation = np.linalg.qr(rng.standard_normal((DIM, DIM)))[0].astype(np.float32)
    return Translator.from_linear_map(fit_procrustes((a, a @ rotation)), Space("old", DIM), Space("new", DIM)), rotation


def disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def measure(path: Path, queries: np.ndarray) -> dict:
    """Optimise the shard at ``path``, then time filtered and unfiltered searches and their recall against exact."""
    import qdrant_edge as q

    shard = q.EdgeShard.load(str(path))
    started = time.perf_counter()
    shard.optimize()
    optimise_s = time.perf_counter() - started
    info = shard.info()
    out = {"optimise_s": round(optimise_s, 2), "indexed_vectors": info.indexed_vectors_count,
           "segments": info.segments_count, "payload_indexes": sorted(info.payload_schema)}
    for name, make_filter in (("filtered", lambda i: q.Filter(must=[q.FieldCondition(
            "tenant", match=q.MatchValue(f"t{i % TENANTS}"))])), ("unfiltered", lambda i: None)):
        times, recalls = [], []
        for i, vec in enumerate(queries):
            request = dict(limit=K, query=q.Query.Nearest(vec.tolist()), filter=make_filter(i))
            t0 = time.perf_counter()
            hits = shard.query(q.QueryRequest(**request))
            times.append(time.perf_counter() - t0)
            exact = shard.query(q.QueryRequest(**request, params=q.SearchParams(exact=True)))
            want = {h.id for h in exact}
            recalls.append(len(want & {h.id for h in hits}) / max(len(want), 1))
        out[f"{name}_ms_median"] = round(1000 * float(np.median(times)), 3)
        out[f"{name}_recall_at_{K}"] = round(float(np.mean(recalls)), 4)
    shard.close()
    out["disk_mb"] = round(disk_mb(path), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=None, help="the first N of the kit's vectors (default: all)")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from kit import markdown_table

    from v2v_store.migrate import migrate

    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        records, queries = kit_vectors()
        records = records[:args.records]
        source = build_source(root, records)
        tr, rotation = translator()
        queries = queries @ rotation  # into the destinations' space, as the records were
        for label, copy in (("like the source", True), ("backend defaults", False)):
            dest = root / ("like" if copy else "defaults")
            started = time.perf_counter()
            report = migrate(tr, source, f"qdrant-edge://{dest}", copy_settings=copy, state_dir=root / "state",
                             progress=False, check_space=False, source_space="old")
            rows[label] = {"migrate_s": round(time.perf_counter() - started, 2), "written": report.written,
                           **measure(dest, queries)}
            logger.info("%s: %s", label, rows[label])
    command = "python benchmarks/carried_settings.py" + (f" --records {args.records}" if args.records else "")
    result = {"command": command,
              "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
              "records": len(records), "dim": DIM, "queries": QUERIES, "rows": rows}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "carried_settings.json").write_text(json.dumps(result, indent=2))
    keys = list(next(iter(rows.values())))
    lines = ["# Migrated collection set up like its source vs the backend's defaults (qdrant-edge)", "",
             f"`{result['command']}` on {result['machine']}; {len(records):,} records x {DIM}, {QUERIES} queries "
             f"each way, one run.", "", *markdown_table(rows, keys)]
    (out / "carried_settings.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
