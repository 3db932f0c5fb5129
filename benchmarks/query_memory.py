"""Peak memory and wall time of one `v2v query` in latent mode over a large collection whose records carry documents
and metadata, as a user runs it (a child process; its peak RSS from ``/usr/bin/time``).

    python benchmarks/query_memory.py --n 200000 --doc-chars 1000 --tag query_memory_200k_1000
    python benchmarks/query_memory.py --n 200000 --doc-chars 1000 --code /tmp/old --tag ...  # another checkout

The collection is a FAISS index (IndexIDMap2 and v2v's sidecar, as `v2v migrate` writes it) of ``--n`` records: the
kit's MiniLM wiki vectors, repeated with small noise up to n, string ids, a small metadata dict, and a document: the
record's sentence, or with ``--doc-chars C`` a passage of consecutive sentences cut to C characters (the size of a
RAG chunk). The translator is MiniLM <-> e5 by Procrustes on the kit's paired training rows (this measures the query,
not a fit); the queries are e5 vectors of held-out sentences. Collection and translator are built once per (n,
doc-chars) under ``--workdir`` and reused, so two checkouts are measured on the same files. ``--code DIR`` runs the
CLI of another checkout of this repository (e.g. ``git worktree add /tmp/old HEAD~1``), through a shadow package.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kit import EVAL, SIDE_A, load, run_meta, save_results, texts  # noqa: E402

logger = logging.getLogger("bench.query_memory")


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


def run_query(uri: str, tr_dir: Path, queries: Path, k: int, code: Path | None, work: Path) -> tuple[dict, list[dict]]:
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    if code is not None:
        env["PYTHONPATH"] = str(shadow_package(code))
    stats = work / "time.txt"
    cmd = ["/usr/bin/time", "-o", str(stats), "-f", "%M %e", sys.executable, "-m", "v2v_store", "query",
           "--translator", str(tr_dir), "--collection", f"{uri}#minilm", "--vector", str(queries), "--space", "e5",
           "-k", str(k)]
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
    ap.add_argument("--tag", default=None)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    work = args.workdir / f"n{args.n}_doc{args.doc_chars}"
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    uri, tr_dir, queries, documents = build(work, args.n, args.doc_chars)
    logger.info("collection and translator ready in %.1f s", time.perf_counter() - t0)
    measured, hits = run_query(uri, tr_dir, queries, args.k, args.code, work)
    with_document = [h["document"] == documents[int(h["id"].split("-")[1])] for h in hits]
    doc_mb = sum(len(d.encode()) for d in documents) / 2**20
    code = args.code or Path(__file__).resolve().parents[1]
    commit = subprocess.run(["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(code), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    where = (f"{code} at {commit.stdout.strip() or 'an unknown commit'}" + (" with uncommitted changes" if dirty else "")
             + ("" if args.code else " (this checkout)"))
    result = {**run_meta(), "n": args.n, "doc_chars": args.doc_chars, "code": where,
              "queries": int(np.load(queries).shape[0]), "k": args.k, **measured, "hits": len(hits),
              "hits_with_their_document": int(sum(with_document)), "documents_mb": round(doc_mb, 1),
              "latent_index_mb": round(args.n * 384 * 4 / 2**20, 1)}
    logger.info("%s", result)
    tag = args.tag or f"query_memory_n{args.n}_doc{args.doc_chars}"
    lines = [f"# `v2v query` (latent mode) peak memory: {args.n:,} records, documents "
             f"{'of ' + str(args.doc_chars) + ' chars' if args.doc_chars else 'one sentence each'}", "",
             f"Command: `{result['command']}`  ", f"Machine: {result['machine']}, {result['date']}  ",
             f"Code: {result['code']}", "",
             "| peak RSS (MB) | wall (s) | hits | hits with their document | documents (MB, UTF-8) | latent index (MB) |",
             "|---|---|---|---|---|---|",
             f"| {result['peak_rss_mb']:.0f} | {result['wall_s']:.1f} | {len(hits)} | {result['hits_with_their_document']}"
             f" | {result['documents_mb']} | {result['latent_index_mb']} |"]
    save_results(args.out, tag, result, lines)


if __name__ == "__main__":
    main()
