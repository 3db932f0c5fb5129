"""What a migrated collection keeps when it is created like its source (``v2v migrate``'s default since session 57)
against the backend's defaults (``--default-settings``), on Qdrant's storage engine (qdrant-edge), from one run.

    python benchmarks/carried_settings.py --records 50000 --out benchmarks/results

The source shard is set up as a user tunes one: HNSW m=32 / ef_construct=200, int8 scalar quantization kept in RAM,
a low indexing threshold (so the HNSW index is built), and a keyword payload index on ``tenant`` (100 tenants, so a
tenant filter keeps 1% of the records). It holds ``--records`` random unit vectors (384-d) translated into another
384-d space by a random rotation. Each destination is optimised (``EdgeShard.optimize``: segments merged, HNSW and
quantization built as its configuration says), then searched: 200 queries with a tenant filter and 200 without,
median latency per query, and recall@10 against exact search (``SearchParams(exact=True)``) on the same shard.
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


def build_source(root: Path, records: int) -> str:
    import qdrant_edge as q

    from v2v_store import VectorBatch, open_store

    shard = q.EdgeShard.create(str(root / "source"), q.EdgeConfig(
        vectors=q.EdgeVectorParams(size=DIM, distance=q.Distance.Cosine),
        hnsw_config=q.HnswIndexConfig(m=32, ef_construct=200, full_scan_threshold=1000),
        quantization_config=q.ScalarQuantizationConfig(type=q.ScalarType.Int8, always_ram=True),
        optimizers=q.EdgeOptimizersConfig(indexing_threshold=1000)))
    shard.update(q.UpdateOperation.create_field_index("tenant", q.PayloadSchemaType.Keyword))
    shard.close()
    rng, uri = np.random.default_rng(0), f"qdrant-edge://{root}/source"
    with open_store(uri) as store:
        for start in range(0, records, 5000):
            n = min(5000, records - start)
            store.upsert(VectorBatch(list(range(start, start + n)), unit(rng, n),
                                     [{"tenant": f"t{i % TENANTS}"} for i in range(start, start + n)]))
    return uri


def translator(root: Path):
    from v2v_store.train.linear import fit_procrustes
    from v2v_store.translator import Space, Translator

    rng = np.random.default_rng(1)
    a = unit(rng, 4096)
    rotation = np.linalg.qr(rng.standard_normal((DIM, DIM)))[0].astype(np.float32)
    return Translator.from_linear_map(fit_procrustes((a, a @ rotation)), Space("old", DIM), Space("new", DIM))


def disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def measure(path: Path) -> dict:
    """Optimise the shard at ``path``, then time filtered and unfiltered searches and their recall against exact."""
    import qdrant_edge as q

    shard = q.EdgeShard.load(str(path))
    started = time.perf_counter()
    shard.optimize()
    optimise_s = time.perf_counter() - started
    info = shard.info()
    queries = unit(np.random.default_rng(2), QUERIES)
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
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from v2v_store.migrate import migrate

    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = build_source(root, args.records)
        tr = translator(root)
        for label, copy in (("like the source", True), ("backend defaults", False)):
            dest = root / ("like" if copy else "defaults")
            started = time.perf_counter()
            report = migrate(tr, source, f"qdrant-edge://{dest}", copy_settings=copy, state_dir=root / "state",
                             progress=False, check_space=False)
            rows[label] = {"migrate_s": round(time.perf_counter() - started, 2), "written": report.written,
                           **measure(dest)}
            logger.info("%s: %s", label, rows[label])
    result = {"command": f"python benchmarks/carried_settings.py --records {args.records}",
              "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
              "records": args.records, "dim": DIM, "queries": QUERIES, "rows": rows}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "carried_settings.json").write_text(json.dumps(result, indent=2))
    keys = list(next(iter(rows.values())))
    lines = [f"# Migrated collection set up like its source vs the backend's defaults (qdrant-edge)", "",
             f"`{result['command']}` on {result['machine']}; {args.records:,} records x {DIM}, {QUERIES} queries "
             f"each way, one run.", "", "| | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    lines += [f"| {label} | " + " | ".join(str(row[k]) for k in keys) + " |" for label, row in rows.items()]
    (out / "carried_settings.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
