"""What keeping a migrated collection in step with a live source costs: `v2v migrate --on-exists sync` against a
plain migration, `--on-exists fill` and a migration redone whole (`--on-exists replace`), per destination backend, one
run each, ratios within a run.

    python benchmarks/sync_catch_up.py --records 50000 --out benchmarks/results

The source is a flat FAISS index of ``--records`` random unit vectors (384-d) with metadata and documents; the
translator a random rotation (the cost does not depend on the map). Backends: FAISS, an edge shard, embedded Chroma
and a real Chroma server on 127.0.0.1 (started here, stopped by its PID). Per backend: (1) a plain migration into a new
collection and (2) a sync into another; (3) the source moves on: 1% of its records deleted, 1% re-embedded (new
vectors), 1% edited (metadata), 1% added; (4) catch-up: sync into (2)'s collection, fill into (1)'s; (5) (1)'s
migrated again whole. After each catch-up the destination is compared with the source, record by record: the
records it should not hold, those it lacks, and those whose vector or metadata is not the source's now.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import tempfile
import time
from pathlib import Path

import numpy as np

from kit import markdown_table, run_meta, save_results
from v2v_store import VectorBatch, open_store
from v2v_store.connectors import TRANSLATED_KEY
from v2v_store.migrate import migrate
from v2v_store.train.linear import fit_procrustes
from v2v_store.translator import Space, Translator

logger = logging.getLogger("bench.sync")
BACKENDS = ["faiss", "qdrant_edge", "chroma", "chroma_server"]
DIM = 384
CHANGED = 0.01  # of the records: deleted, re-embedded, edited and added, each


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def dest_uri(backend: str, root: Path, name: str, port: int | None = None) -> str:
    return {"faiss": f"faiss://{root}/{name}.faiss", "qdrant_edge": f"qdrant-edge://{root}/{name}",
            "chroma": f"chroma://{root}/chroma?collection={name}",
            "chroma_server": f"chroma+http://127.0.0.1:{port}?collection={name}"}[backend]


def build_source(uri: str, records: int) -> dict:
    """The source: ``records`` records ``doc-i``; returns id -> (vector, metadata) as it holds them."""
    rng = np.random.default_rng(0)
    vectors, held = unit(rng, records), {}
    with open_store(uri, dim=DIM, metric="cosine") as store:
        for s in range(0, records, 5000):
            ids = [f"doc-{i}" for i in range(s, min(s + 5000, records))]
            meta = [{"n": i, "tag": "a"} for i in range(s, s + len(ids))]
            store.upsert(VectorBatch(ids, vectors[s:s + len(ids)], meta, [f"text {i}" for i in range(s, s + len(ids))]))
            held.update(zip(ids, zip(vectors[s:s + len(ids)], meta)))
    return held


def move_on(uri: str, held: dict, records: int) -> None:
    """1% of the records deleted, 1% re-embedded, 1% edited, 1% added (``held`` updated to match)."""
    rng, k = np.random.default_rng(1), int(records * CHANGED)
    chosen = [f"doc-{i}" for i in rng.choice(records, 3 * k, replace=False)]
    deleted, embedded, edited = chosen[:k], chosen[k:2 * k], chosen[2 * k:]
    added = [f"new-{i}" for i in range(k)]
    new_vectors, added_vectors = unit(rng, k), unit(rng, k)
    with open_store(uri) as store:
        store.delete(deleted)
        store.upsert(VectorBatch(embedded, new_vectors, [held[i][1] for i in embedded],
                                 [f"text {held[i][1]['n']}" for i in embedded]))
        store.upsert(VectorBatch(edited, np.stack([held[i][0] for i in edited]),
                                 [{**held[i][1], "tag": "edited"} for i in edited],
                                 [f"text {held[i][1]['n']}" for i in edited]))
        store.upsert(VectorBatch(added, added_vectors, [{"n": -1, "tag": "new"}] * k, ["new text"] * k))
    for i in deleted:
        del held[i]
    held.update((i, (v, held[i][1])) for i, v in zip(embedded, new_vectors))
    held.update((i, (held[i][0], {**held[i][1], "tag": "edited"})) for i in edited)
    held.update((i, (v, {"n": -1, "tag": "new"})) for i, v in zip(added, added_vectors))


def out_of_step(uri: str, held: dict, translator: Translator) -> dict:
    """How the destination differs from the source's translation: records it should not hold, records it lacks, and
    records whose vector or metadata (the translation mark aside) is not the source's now."""
    seen, stale = set(), 0
    with open_store(uri) as store:
        for batch in store.iter_batches(batch_size=4096):
            ids = [i for i in batch.ids if i in held]
            seen.update(ids)
            if not ids:
                continue
            rows = [r for r, i in enumerate(batch.ids) if i in held]
            want = translator.translate(np.stack([held[i][0] for i in ids]), "old", "new")
            bad_vector = np.abs(batch.vectors[rows] - want).max(1) > 1e-4
            bad_meta = [{k: v for k, v in (batch.metadata[r] or {}).items() if k != TRANSLATED_KEY} != held[i][1]
                        for r, i in zip(rows, ids)]
            stale += int((bad_vector | np.array(bad_meta)).sum())
        extra = store.count() - len(seen)
    return {"extra": extra, "missing": len(held) - len(seen), "stale": stale}


def timed(label: str, **kwargs) -> tuple[float, object]:
    t0 = time.perf_counter()
    report = migrate(**kwargs, progress=False, checkpoint_seconds=30)
    seconds = time.perf_counter() - t0
    logger.info("%s: %.1f s", label, seconds)
    return seconds, report


def run(backend: str, records: int, root: Path, translator: Translator, port: int | None) -> dict:
    source = f"faiss://{root}/source.faiss"
    held = build_source(source, records)
    plain, synced = dest_uri(backend, root, "plain", port), dest_uri(backend, root, "synced", port)
    common = dict(translator=translator, source_uri=source, state_dir=root / "state", source_space="old")
    row = {}
    row["plain"], _ = timed("plain migration", dest_uri=plain, **common)
    row["sync, new"], _ = timed("sync into a new collection", dest_uri=synced, on_exists="sync", **common)
    move_on(source, held, records)
    row["sync, catch-up"], report = timed("sync, catch-up", dest_uri=synced, on_exists="sync", **common)
    row["sync counts"] = {k: getattr(report, k) for k in ("written", "updated", "deleted", "kept")}
    row["after sync"] = out_of_step(synced, held, translator)
    row["fill, catch-up"], _ = timed("fill, catch-up", dest_uri=plain, on_exists="fill", **common)
    row["after fill"] = out_of_step(plain, held, translator)
    row["replace"], _ = timed("migrated again whole", dest_uri=plain, on_exists="replace", **common)
    row["after replace"] = out_of_step(plain, held, translator)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=50000)
    parser.add_argument("--backends", nargs="+", default=BACKENDS, choices=BACKENDS)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    rng = np.random.default_rng(2)
    a = unit(rng, 4096)
    rotation = np.linalg.qr(rng.standard_normal((DIM, DIM)))[0].astype(np.float32)
    translator = Translator.from_linear_map(fit_procrustes((a, a @ rotation)), Space("old", DIM), Space("new", DIM))
    rows, server, port = {}, None, None
    try:
        if "chroma_server" in args.backends:  # a real Chroma server on 127.0.0.1, stopped by its PID at the end
            from export_throughput import start_chroma

            server_dir = tempfile.TemporaryDirectory()
            server, port = start_chroma(Path(server_dir.name))
        for backend in args.backends:
            with tempfile.TemporaryDirectory() as tmp:
                rows[backend] = run(backend, args.records, Path(tmp), translator, port)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
            server_dir.cleanup()
    table = {}
    for backend, r in rows.items():
        table[backend] = {
            "plain migration s": f"{r['plain']:.1f}", "sync, new s": f"{r['sync, new']:.1f}",
            "sync catch-up s": f"{r['sync, catch-up']:.1f}", "fill catch-up s": f"{r['fill, catch-up']:.1f}",
            "migrated again s": f"{r['replace']:.1f}",
            "sync / migrated again": f"{r['sync, catch-up'] / r['replace']:.2f}",
            "out of step after sync": "{extra} extra, {missing} missing, {stale} stale".format(**r["after sync"]),
            "after fill": "{extra} extra, {missing} missing, {stale} stale".format(**r["after fill"]),
        }
    meta = run_meta()
    k = int(args.records * CHANGED)
    lines = ["# Keeping a migrated collection in step with a live source", "",
             f"`{meta['command']}` ({meta['date']}, {meta['machine']}): {args.records:,} records (384-d, metadata, "
             f"documents) in a flat FAISS source; then {k:,} deleted, {k:,} re-embedded, {k:,} edited and {k:,} "
             "added. One run; seconds of `migrate` each (noisy on this shared machine: compare within a row).", "",
             *markdown_table(table, list(next(iter(table.values())))), "",
             "Sync catch-up counts: " + "; ".join(f"{b}: " + ", ".join(f"{k} {v:,}" for k, v in r["sync counts"].items())
                                                 for b, r in rows.items()),
             "After the migration redone whole: " + "; ".join(
                 f"{b}: " + "{extra} extra, {missing} missing, {stale} stale".format(**r["after replace"])
                 for b, r in rows.items())]
    save_results(args.out, f"sync_catch_up_n{args.records}", {"meta": meta, "rows": rows}, lines)


if __name__ == "__main__":
    main()
