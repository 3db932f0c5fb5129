"""Export throughput and peak memory per backend: v2v's ``iter_batches`` beside the same read done
with the backend's raw client, each in a fresh subprocess, as a ratio from one run.

    python benchmarks/export_throughput.py --n 100000 --dim 384 --out benchmarks/results

Vectors are random unit vectors (read speed does not depend on content). Peak memory is the growth of
the process's max RSS from after the imports to the end of the read (opening included), so it shows whether a read is bounded by the batch size.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

logger = logging.getLogger("bench.export")
BACKENDS = ["npy", "faiss_flat", "faiss_hnsw", "faiss_ivf", "qdrant_local", "qdrant_edge", "chroma", "chroma_server"]


def uri_for(backend: str, root: Path, port: int | None) -> str:
    return {
        "npy": f"npy://{root}/v.npy",
        "faiss_flat": f"faiss://{root}/flat.faiss",
        "faiss_hnsw": f"faiss://{root}/hnsw.faiss",
        "faiss_ivf": f"faiss://{root}/ivf.faiss",
        "qdrant_local": f"qdrant://{root}/qdrant?collection=bench",
        "qdrant_edge": f"qdrant-edge://{root}/edge",
        "chroma": f"chroma://{root}/chroma?collection=bench",
        "chroma_server": f"chroma+http://127.0.0.1:{port}?collection=bench",
    }[backend]


def build(backend: str, uri: str, vectors: np.ndarray) -> None:
    """Create the collection (setup, not timed)."""
    import faiss

    from v2v_store import VectorBatch, open_store

    root = Path(uri.split("://", 1)[1].split("?")[0])
    if backend == "npy":
        np.save(root, vectors)
    elif backend.startswith("faiss"):
        d = vectors.shape[1]
        index = {"faiss_flat": lambda: faiss.IndexFlatIP(d), "faiss_hnsw": lambda: faiss.IndexHNSWFlat(d, 16),
                 "faiss_ivf": lambda: faiss.index_factory(d, "IVF256,Flat")}[backend]()
        index.train(vectors)
        index.add(vectors)
        faiss.write_index(index, str(root))
    else:
        with open_store(uri, dim=vectors.shape[1], metric="cosine") as store:
            for s in range(0, len(vectors), 5000):
                store.upsert(VectorBatch(list(range(s, min(s + 5000, len(vectors)))), vectors[s:s + 5000],
                                         [{"row": i} for i in range(s, min(s + 5000, len(vectors)))]))


READER = r'''
import json, sys, time
import numpy as np
backend, uri, mode, batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
path = uri.split("://", 1)[1].split("?")[0]

def status_mb(field):
    # /proc, not ru_maxrss: ru_maxrss is inherited from the parent across fork+exec on Linux
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith(field + ":")) / 1024

def v2v_read():
    from v2v_store import open_store
    yield
    store = open_store(uri)
    for b in store.iter_batches(batch_size=batch):
        yield len(b)

def raw_read():
    if backend == "npy":
        yield
        a = np.load(path)
        for s in range(0, len(a), batch): yield len(np.ascontiguousarray(a[s:s+batch], dtype=np.float32))
    elif backend.startswith("faiss"):
        import faiss
        yield
        index = faiss.read_index(path)
        if backend == "faiss_ivf":
            faiss.extract_index_ivf(index).make_direct_map()
        for s in range(0, index.ntotal, batch):
            yield len(index.reconstruct_n(s, min(batch, index.ntotal - s)))
    elif backend == "qdrant_local":
        from qdrant_client import QdrantClient
        yield
        client = QdrantClient(path=path)
        offset = None
        while True:
            recs, offset = client.scroll("bench", limit=batch, offset=offset, with_vectors=True, with_payload=True)
            yield len(np.asarray([r.vector for r in recs], dtype=np.float32))
            if offset is None: break
    elif backend == "qdrant_edge":
        import qdrant_edge as q
        yield
        shard = q.EdgeShard.load(path)
        offset = None
        while True:
            recs, offset = shard.scroll(q.ScrollRequest(offset=offset, limit=batch, with_payload=True, with_vector=True))
            yield len(np.asarray([r.vector for r in recs], dtype=np.float32))
            if offset is None: break
    elif backend.startswith("chroma"):
        import chromadb
        from chromadb.config import Settings
        s = Settings(anonymized_telemetry=False)
        yield
        if backend == "chroma":
            client = chromadb.PersistentClient(path=path, settings=s)
        else:
            host, port = uri.split("//")[1].split("?")[0].split(":")
            client = chromadb.HttpClient(host=host, port=int(port), settings=s)
        col = client.get_collection("bench", embedding_function=None)
        n, off = col.count(), 0
        while off < n:
            page = col.get(include=["embeddings", "metadatas", "documents"], limit=batch, offset=off)
            off += len(page["ids"]); yield len(np.asarray(page["embeddings"], dtype=np.float32))

gen = v2v_read() if mode == "v2v" else raw_read()
next(gen)
hwm0, anon0 = status_mb("VmHWM"), status_mb("RssAnon")
peak_anon, n = anon0, 0
t0 = time.perf_counter()
for rows in gen:  # opening the store is inside the timed read for both modes
    n += rows
    peak_anon = max(peak_anon, status_mb("RssAnon"))
dt = time.perf_counter() - t0
print(json.dumps({"n": n, "seconds": dt, "vectors_per_s": n / dt, "peak_rss_growth_mb": status_mb("VmHWM") - hwm0,
                  "peak_anon_growth_mb": peak_anon - anon0}))
'''


def measure(backend: str, uri: str, mode: str, batch: int) -> dict:
    out = subprocess.run([sys.executable, "-c", READER, backend, uri, mode, str(batch)], capture_output=True, text=True,
                         env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    if out.returncode:
        raise RuntimeError(f"{backend}/{mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_chroma(path: Path) -> tuple[subprocess.Popen, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(Path(sys.executable).with_name("chroma")), "run", "--path", str(path), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, port
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("chroma server did not start")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--batch-size", type=int, default=4096)
    ap.add_argument("--backends", default=",".join(BACKENDS))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((args.n, args.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    root = Path(tempfile.mkdtemp(prefix="v2v-export-"))
    server, port = start_chroma(root / "chroma-server") if "chroma_server" in args.backends else (None, None)
    rows = []
    try:
        for backend in args.backends.split(","):
            uri = uri_for(backend, root, port)
            t0 = time.perf_counter()
            build(backend, uri, vectors)
            logger.info("%s: built %d vectors in %.1f s", backend, args.n, time.perf_counter() - t0)
            v2v, raw = measure(backend, uri, "v2v", args.batch_size), measure(backend, uri, "raw", args.batch_size)
            assert v2v["n"] == raw["n"] == args.n, (v2v, raw)
            rows.append({"backend": backend, "v2v": v2v, "raw": raw,
                         "throughput_ratio_v2v_over_raw": v2v["vectors_per_s"] / raw["vectors_per_s"]})
            logger.info("%s: v2v %.0f vec/s (+%.0f MB), raw %.0f vec/s (+%.0f MB)", backend, v2v["vectors_per_s"],
                        v2v["peak_rss_growth_mb"], raw["vectors_per_s"], raw["peak_rss_growth_mb"])
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)
    meta = {"command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]), "n": args.n, "dim": args.dim,
            "batch_size": args.batch_size, "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
            "date": time.strftime("%Y-%m-%d")}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "export_throughput.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    lines = [f"# Export throughput, {args.n:,} x {args.dim}, batch {args.batch_size}", "",
             f"Command: `python {meta['command']}`  ", f"Machine: {meta['machine']}, {meta['date']}", "",
             "| backend | v2v vec/s | raw vec/s | v2v / raw | v2v peak RSS / anon growth MB | raw peak RSS / anon growth MB |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['backend']} | {r['v2v']['vectors_per_s']:,.0f} | {r['raw']['vectors_per_s']:,.0f} | "
                     f"{r['throughput_ratio_v2v_over_raw']:.2f} | {r['v2v']['peak_rss_growth_mb']:.0f} / {r['v2v']['peak_anon_growth_mb']:.0f} | "
                     f"{r['raw']['peak_rss_growth_mb']:.0f} / {r['raw']['peak_anon_growth_mb']:.0f} |")
    lines += ["", f"Collection size: {args.n * args.dim * 4 / 2**20:.0f} MB of float32. 'RSS' is the growth of the peak "
              "resident set (VmHWM), which counts memory-mapped file pages; 'anon' is the peak growth of anonymous memory "
              "(RssAnon, sampled after every batch), the part that cannot be paged back to the file. v2v memory-maps npy "
              "files and FAISS indexes where FAISS allows it (flat codes: IO_FLAG_MMAP_IFC, IVF lists: IO_FLAG_MMAP) "
              "and reads every store in pages."]
    (args.out / "export_throughput.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
