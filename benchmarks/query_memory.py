"""Peak memory and wall time of one `v2v query` in latent mode over a large collection whose records carry documents
and metadata, as a user runs it (a child process; its peak RSS from ``/usr/bin/time``).

    python benchmarks/query_memory.py --n 200000 --doc-chars 1000 --tag query_memory_200k_1000
    python benchmarks/query_memory.py --n 200000 --doc-chars 1000 --code /tmp/old --tag ...  # another checkout
    python benchmarks/query_memory.py --n 1000000 --doc-chars 1000 --latent-precision float32 --latent-precision float16 \
        --latent-precision int8
    python benchmarks/query_memory.py --n 1000000 --doc-chars 1000 --latent-cache --tag query_cache_faiss_n1000000
    python benchmarks/query_memory.py --n 200000 --doc-chars 1000 --store chroma --latent-cache --tag ...
    python benchmarks/query_memory.py --n 200000 --doc-chars 1000 --store chroma --changes 2000 --tag ...
    python benchmarks/query_memory.py --n 200000 --doc-chars 1000 --store qdrant-edge --changes 2000 --tag ...

The collection is a FAISS index (IndexIDMap2 and v2v's sidecar, as `v2v migrate` writes it) of ``--n`` records: the
kit's MiniLM wiki vectors, repeated with small noise up to n, string ids, a small metadata dict, and a document: the
record's sentence, or with ``--doc-chars C`` a passage of consecutive sentences cut to C characters (the size of a
RAG chunk). The translator is MiniLM <-> e5 by Procrustes on the kit's paired training rows (this measures the query,
not a fit); the queries are e5 vectors of held-out sentences. Collection and translator are built once per (n,
doc-chars) under ``--workdir`` and reused, so two checkouts are measured on the same files. ``--code DIR`` runs the
CLI of another checkout of this repository (e.g. ``git worktree add /tmp/old HEAD~1``), through a shadow package.
``--latent-precision P`` (repeatable) runs the query once per precision of the latent copy; each run after the first
is compared with the first: hits (record ids) in common per query and the largest score difference on them.
``--latent-cache`` adds two runs with ``--latent-cache DIR`` (the first precision): one that builds and writes the
latent indexes (DIR emptied first), one that loads them. ``--store chroma`` queries an embedded Chroma collection of
the same records (copied once from the FAISS one), where the cache is checked by the records' keys and records
drawn at random rather than by the files' times; ``--store qdrant-edge`` a qdrant-edge shard of them. ``--changes N`` (Chroma or
qdrant-edge) measures a cache entry brought up to date: on a copy of the collection, a run writes the cache, then N records are added (noisy copies of other sentences, new ids)
and N / 2 removed, and three runs follow: one that updates the entry, one that reads the updated entry, and one that
builds it again from scratch (the entry deleted first), whose hits the updated one must match. An untimed run first
reads the files into the page cache. Every run reports how often a query's top hit is a copy of its
own sentence (query i is the e5 vector of kit sentence i; the collection holds noisy MiniLM copies of every sentence).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kit import EVAL, SIDE_A, load, run_meta, save_results, texts  # noqa: E402

logger = logging.getLogger("bench.query_memory")
BYTES_PER_DIM = {"float32": 4, "float16": 2, "int8": 1}  # the latent copy's size, by --latent-precision


STORES = {"chroma": ("chroma", "chroma://{}?collection=bench"), "qdrant-edge": ("edge", "qdrant-edge://{}")}


def as_store(work: Path, uri: str, kind: str) -> str:
    """The FAISS collection at ``uri`` copied once into an embedded Chroma collection or a qdrant-edge shard (``kind``);
    its URI."""
    from v2v_store import open_store

    name, template = STORES[kind]
    copy = template.format(work / name)
    if not (work / f"{name}_built").exists():
        shutil.rmtree(work / name, ignore_errors=True)
        with open_store(uri) as source, open_store(copy, dim=source.dim, metric="cosine") as dest:
            for batch in source.iter_batches(batch_size=4096):
                dest.upsert(batch)
        (work / f"{name}_built").touch()
    return copy


def changed_copy(work: Path, kind: str) -> str:
    """A fresh copy of the ``kind`` collection (a directory copy), to add records to and remove from; its URI."""
    name, template = STORES[kind]
    copy = work / f"{name}_changed"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(work / name, copy)
    return template.format(copy)


def change(uri: str, n: int) -> set[str]:
    """Add ``n`` records to the collection at ``uri`` (new noisy copies, as :func:`build` makes them, of the kit
    sentences of records drawn at random through it, ids ``new-wiki-I``) and remove ``n // 2`` others; the added
    ids."""
    from v2v_store import VectorBatch, open_store

    with open_store(uri) as store:
        drawn = [(i, m, d) for b in store.spread_sample(n + n // 2, seed=1)
                 for i, m, d in zip(b.ids, b.metadata, b.documents)]
        added, removed = drawn[:n], [i for i, _, _ in drawn[n:n + n // 2]]
        base = load("wiki", "minilm")[[m["row"] for _, m, _ in added]]
        noisy = base + np.random.default_rng(1).normal(0, 0.01, base.shape).astype(np.float32)
        ids = [f"new-{i}" for i, _, _ in added]
        store.upsert(VectorBatch(ids, noisy, [m for _, m, _ in added], [d for _, _, d in added]))
        store.delete(removed)
    logger.info("added %d records to %s, removed %d", n, uri, n // 2)
    return set(ids)


def build(work: Path, n: int, doc_chars: int) -> tuple[str, Path, Path, list[str]]:
    """(collection URI, translator dir, queries .npy, every record's document), built once per (n, doc_chars)."""
    from v2v_store import VectorBatch, open_store
    from v2v_store.train.linear import fit_procrustes
    from v2v_store.translator import Space, Translator

    sentences = texts("wiki")
    base = load("wiki", "minilm")
    rows = np.arange(n) % len(base)
    if doc_chars:
        documents = [" ".join(sentences[(r + j) % len(sentences)] for j in range(12))[:doc_chars] for r in rows]
    else:
        documents = [sentences[r] for r in rows]
    uri, tr_dir, queries = f"faiss://{work}/collection.faiss", work / "translator", work / "queries.e5.npy"
    if (work / "built").exists():
        return uri, tr_dir, queries, documents
    rng = np.random.default_rng(0)
    with open_store(uri, dim=base.shape[1], metric="cosine") as store:
        for s in range(0, n, 10_000):
            part = rows[s:s + 10_000]
            vectors = base[part] + rng.normal(0, 0.01, (len(part), base.shape[1])).astype(np.float32)
            store.upsert(VectorBatch([f"wiki-{s + i}" for i in range(len(part))], vectors,
                                     [{"row": int(r), "copy": int((s + i) // len(base)), "source": "wiki"}
                                      for i, r in enumerate(part)], documents[s:s + len(part)]))
    a, b = load("wiki", "minilm")[SIDE_A], load("wiki", "e5")[SIDE_A]
    tr = Translator.from_linear_map(fit_procrustes((a, b)), Space("minilm", a.shape[1]), Space("e5", b.shape[1]))
    tr.record_space_stats(a, b)
    tr.calibrate_queries(a, b)
    tr.save(tr_dir)
    np.save(queries, load("wiki", "e5")[EVAL][:100])
    (work / "built").touch()
    return uri, tr_dir, queries, documents


def shadow_package(code: Path) -> Path:
    """A directory whose ``v2v_store`` package is ``code``'s, laid out as installed (connectors/ and train/ inside)."""
    root = Path(tempfile.mkdtemp(prefix="v2v-code-"))
    pkg = root / "v2v_store"
    pkg.mkdir()
    for entry in (code / "v2v_store").iterdir():
        (pkg / entry.name).symlink_to(entry)
    for sub in ("connectors", "train"):
        (pkg / sub).symlink_to(code / sub)
    return root


def run_query(uri: str, tr_dir: Path, queries: Path, k: int, code: Path | None, work: Path,
              precision: str | None, cache: Path | None = None) -> tuple[dict, list[dict]]:
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    if code is not None:
        env["PYTHONPATH"] = str(shadow_package(code))
    stats = work / "time.txt"
    cmd = ["/usr/bin/time", "-o", str(stats), "-f", "%M %e", sys.executable, "-m", "v2v_store", "query",
           "--translator", str(tr_dir), "--collection", f"{uri}#minilm", "--vector", str(queries), "--space", "e5",
           "-k", str(k)] + (["--latent-precision", precision] if precision else []) + (
           ["--latent-cache", str(cache)] if cache else [])
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=work)  # cwd: not this checkout's package
    if out.returncode:
        raise SystemExit(f"v2v query failed ({out.returncode}):\n{out.stderr[-3000:]}")
    peak_kb, wall = stats.read_text().split()[-2:]
    return {"peak_rss_mb": int(peak_kb) / 1024, "wall_s": float(wall)}, [json.loads(line) for line in out.stdout.splitlines()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200_000, help="Records in the collection.")
    ap.add_argument("--doc-chars", type=int, default=0, help="Document length (0: one kit sentence, 30-300 chars).")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--code", type=Path, default=None, help="Another checkout of this repository to run.")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "v2v-query-memory")
    ap.add_argument("--latent-precision", action="append", choices=["float32", "float16", "int8"],
                    help="Run once per precision given (repeatable; default: one run with v2v's default).")
    ap.add_argument("--latent-cache", action="store_true",
                    help="Also run with --latent-cache: once writing it, once reading it.")
    ap.add_argument("--store", choices=["faiss", *STORES], default="faiss", help="Where the collection is kept.")
    ap.add_argument("--changes", type=int, default=0,
                    help="With --store chroma or qdrant-edge: add this many records to a copy of the collection "
                         "and remove half as "
                         "many, then time updating the latent cache against building it again.")
    ap.add_argument("--tag", default=None)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    work = args.workdir / f"n{args.n}_doc{args.doc_chars}"
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    uri, tr_dir, queries, documents = build(work, args.n, args.doc_chars)
    if args.store != "faiss":
        uri = as_store(work, uri, args.store)
    logger.info("collection and translator ready in %.1f s", time.perf_counter() - t0)
    code = args.code or Path(__file__).resolve().parents[1]
    commit = subprocess.run(["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(code), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    where = (f"{code} at {commit.stdout.strip() or 'an unknown commit'}" + (" with uncommitted changes" if dirty else "")
             + ("" if args.code else " (this checkout)"))
    doc_mb = sum(len(d.encode()) for d in documents) / 2**20
    n_queries = int(np.load(queries).shape[0])
    run_query(uri, tr_dir, queries, args.k, args.code, work, (args.latent_precision or [None])[0])  # warm the page cache
    runs, reference = [], None
    variants = [(precision, None) for precision in args.latent_precision or [None]]
    cache = work / "latent_cache"
    if args.latent_cache:
        shutil.rmtree(cache, ignore_errors=True)
        variants += [(variants[0][0], "written"), (variants[0][0], "read")]
    if args.changes:
        if args.store == "faiss":
            raise SystemExit("--changes applies to --store chroma or qdrant-edge (a FAISS entry is built again when "
                             "its file changes)")
        uri, changes = changed_copy(work, args.store), None
        shutil.rmtree(cache, ignore_errors=True)
        variants = [(variants[0][0], "written"), (variants[0][0], f"updated ({args.changes} added, "
                                                                  f"{args.changes // 2} removed)"),
                    (variants[0][0], "read"), (variants[0][0], "built again")]
    for precision, cached in variants:
        if cached and cached.startswith("updated"):
            changes = change(uri, args.changes)
        if cached == "built again":
            shutil.rmtree(cache, ignore_errors=True)
        measured, hits = run_query(uri, tr_dir, queries, args.k, args.code, work, precision,
                                   cache if cached else None)
        by_query = [[h for h in hits if h["query"] == qi] for qi in range(n_queries)]
        run = {"latent_precision": precision or "default", "latent_cache": cached or "-", **measured,
               "hits": len(hits),
               "hits_with_their_document": int(sum(h["document"] == documents[int(h["id"].split("-")[-1]) % args.n]
                                                   for h in hits)),
               "top1_own_sentence": round(float(np.mean([bool(row) and row[0]["metadata"]["row"] == qi
                                                         for qi, row in enumerate(by_query)])), 3),
               "latent_index_mb": round(args.n * 384 * BYTES_PER_DIM.get(precision, 4) / 2**20, 1)}
        if reference is None:
            reference = by_query
        else:
            first = [{h["id"]: h["score"] for h in row} for row in reference]
            this = [{h["id"]: h["score"] for h in row} for row in by_query]
            common = [a.keys() & b.keys() for a, b in zip(first, this)]
            diffs = [abs(a[i] - b[i]) for a, b, ids in zip(first, this, common) for i in ids]  # scores printed to 1e-4
            run.update(hits_in_common_with_first=round(float(np.mean([len(c) / args.k for c in common])), 4),
                       same_top1_as_first=round(float(np.mean([a[0]["id"] == b[0]["id"]
                                                               for a, b in zip(reference, by_query)])), 3),
                       max_score_diff_vs_first=round(max(diffs), 5))
        if cached and cached.startswith("updated"):
            updated_hits = [[h["id"] for h in row] for row in by_query]
            run["added_found"] = sum(h["id"] in changes for h in hits)
        logger.info("%s", run)
        runs.append(run)
    if args.changes:
        runs[-1]["same_hits_as_updated"] = [[h["id"] for h in row] for row in by_query] == updated_hits
    result = {**run_meta(), "n": args.n, "doc_chars": args.doc_chars, "store": args.store, "code": where,
              "queries": n_queries,
              "k": args.k, "documents_mb": round(doc_mb, 1), "runs": runs}
    tag = args.tag or f"query_memory_n{args.n}_doc{args.doc_chars}"
    lines = [f"# `v2v query` (latent mode) peak memory: {args.n:,} records ({args.store}), documents "
             f"{'of ' + str(args.doc_chars) + ' chars' if args.doc_chars else 'one sentence each'}", "",
             f"Command: `{result['command']}`  ", f"Machine: {result['machine']}, {result['date']}  ",
             f"Code: {result['code']}  ", f"Documents: {result['documents_mb']} MB (UTF-8); {n_queries} queries, "
             f"k = {args.k}", "",
             "| latent precision | latent cache | latent copy (MB) | peak RSS (MB) | wall (s) | hits with their document | "
             "top-1 own sentence | hits in common with the first run | same top-1 | max score difference |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r['latent_precision']} | {r['latent_cache']} | {r['latent_index_mb']} | "
                     f"{r['peak_rss_mb']:.0f} | {r['wall_s']:.1f} "
                     f"| {r['hits_with_their_document']} / {r['hits']} | {r['top1_own_sentence']} | "
                     f"{r.get('hits_in_common_with_first', '')} | {r.get('same_top1_as_first', '')} | "
                     f"{r.get('max_score_diff_vs_first', '')} |")
    if args.changes:
        lines += ["", f"The updated entry gave the same hits (ids, in order, every query) as the one built again: "
                      f"{runs[-1]['same_hits_as_updated']}; hits that are added records: {runs[1]['added_found']}."]
    save_results(args.out, tag, result, lines)


if __name__ == "__main__":
    main()
