"""What `--on-exists fill` costs on a large destination: the destination asked by id, batch by batch (``holds``, the
default since session 56), beside the one pass over the destination's ids it made before (the base class's
``VectorStore.holds`` fallback, which is that pass), each in a fresh subprocess, as ratios from one run.

    python benchmarks/fill_lookup.py --dest 100000 --source 8192 --out benchmarks/results

The destination holds ``--dest`` random unit vectors; the source (a FAISS index) holds ``--source`` records, half of
them with ids the destination holds (kept) and half new (written). Peak memory is the highest resident set size sampled
every 20 ms during the migration, less the resident size just before it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

logger = logging.getLogger("bench.fill")
BACKENDS = ["faiss", "qdrant_edge", "chroma", "chroma_server"]
DIM = 384


def uri_for(backend: str, root: Path) -> str:
    if backend == "chroma_server":  # started by main(), its port in the root's file
        return f"chroma+http://127.0.0.1:{(root / 'port').read_text()}?collection=dest"
    return {"faiss": f"faiss://{root}/dest.faiss", "qdrant_edge": f"qdrant-edge://{root}/edge",
            "chroma": f"chroma://{root}/chroma?collection=dest"}[backend]


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def build(root: Path, backends: list[str], dest: int, source: int) -> None:
    """The source index, a translator, and one destination per backend (ids ``doc-0`` .. ``doc-{dest-1}``)."""
    from v2v_store import VectorBatch, open_store
    from v2v_store.train.linear import fit_procrustes
    from v2v_store.translator import Space, Translator

    rng = np.random.default_rng(0)
    a = unit(rng, 4096)
    rotation = np.linalg.qr(rng.standard_normal((DIM, DIM)))[0].astype(np.float32)
    Translator.from_linear_map(fit_procrustes((a, a @ rotation)), Space("old", DIM), Space("new", DIM)).save(
        root / "translator")
    ids = [f"doc-{i}" for i in range(0, source, 2)] + [f"new-{i}" for i in range(1, source, 2)]  # half held
    with open_store(f"faiss://{root}/source.faiss", dim=DIM, metric="cosine") as store:
        store.upsert(VectorBatch(ids, unit(rng, source)))
    held = unit(rng, dest)
    for backend in backends:
        t0 = time.perf_counter()
        with open_store(uri_for(backend, root), dim=DIM, metric="cosine") as store:
            for s in range(0, dest, 5000):
                store.upsert(VectorBatch([f"doc-{i}" for i in range(s, min(s + 5000, dest))], held[s:s + 5000]))
        logger.info("built %s destination of %d records in %.0f s", backend, dest, time.perf_counter() - t0)


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(root: Path, backend: str, mode: str) -> dict:
    """One fill migration into a copy of the built destination; ``mode`` 'scan' makes the store answer from one pass
    over the destination's ids (the behaviour before ``holds`` lookups)."""
    from v2v_store import open_store
    from v2v_store.connectors.base import VectorStore
    from v2v_store.migrate import migrate
    from v2v_store.translator import Translator

    work = Path(tempfile.mkdtemp(dir=root))  # a copy of the destination (a server's: main() deletes what was written)
    for name in os.listdir(root):
        if name.startswith(("dest", "edge", "chroma", "port")):
            (shutil.copytree if (root / name).is_dir() else shutil.copy)(root / name, work / name)
    translator = Translator.load(root / "translator")
    if mode == "scan":
        with open_store(uri_for(backend, work)) as store:
            type(store).holds = VectorStore.holds
    baseline, peak, done = _rss_mb(), [0.0], threading.Event()

    def sample() -> None:  # the process's resident memory every 20 ms, for the migration's peak
        while not done.wait(0.02):
            peak[0] = max(peak[0], _rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    report = migrate(translator, f"faiss://{root}/source.faiss", uri_for(backend, work), on_exists="fill",
                     source_space="old", state_dir=work / "state", progress=False)
    seconds = time.perf_counter() - t0
    done.set()
    sampler.join()
    shutil.rmtree(work)
    return {"backend": backend, "mode": mode, "seconds": round(seconds, 2),
            "peak_rss_growth_mb": round(peak[0] - baseline, 1), "kept": report.kept, "written": report.written,
            "dest_count": report.dest_count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=int, default=100_000, help="records in the destination")
    parser.add_argument("--source", type=int, default=8192, help="records in the source (half held by the destination)")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--tag", default="fill_lookup", help="results file name")
    parser.add_argument("--child", nargs=3, metavar=("ROOT", "BACKEND", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING if args.child else logging.INFO, format="%(message)s")
    if args.child:
        print(json.dumps(child(Path(args.child[0]), args.child[1], args.child[2])))
        return
    backends = args.backends.split(",")
    root = Path(tempfile.mkdtemp(prefix="v2v-fill-"))
    server = None
    try:
        if "chroma_server" in backends:  # a real Chroma server on 127.0.0.1, stopped by its PID at the end
            from export_throughput import start_chroma

            server, port = start_chroma(root / "server-data")
            (root / "port").write_text(str(port))
        build(root, backends, args.dest, args.source)
        rows = []
        for backend in backends:
            for mode in ("lookup", "scan"):
                run = subprocess.run([sys.executable, __file__, "--child", str(root), backend, mode],
                                     capture_output=True, text=True)
                if run.returncode:
                    raise SystemExit(f"{backend} {mode} failed:\n{run.stderr[-3000:]}")
                rows.append(json.loads(run.stdout.strip().splitlines()[-1]))
                logger.info("%s", rows[-1])
                if backend == "chroma_server":  # back to the destination as built, for the next mode
                    from v2v_store import open_store

                    with open_store(uri_for(backend, root)) as store:
                        store.delete([f"new-{i}" for i in range(1, args.source, 2)])
                        assert store.count() == args.dest
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)
    command = "python benchmarks/fill_lookup.py " + " ".join(sys.argv[1:])
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}"
    lines = ["# `--on-exists fill`: lookups by id against one pass over the destination", "",
             f"Command: `{command}`; machine: {machine}; destination {args.dest:,} x {DIM}; source {args.source:,} "
             f"(half held).", "",
             "| backend | mode | seconds | peak RSS growth (MB) | kept | written | scan / lookup time |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        pair = {r["mode"]: r for r in rows if r["backend"] == row["backend"]}
        ratio = pair["scan"]["seconds"] / max(pair["lookup"]["seconds"], 1e-9) if row["mode"] == "scan" else None
        lines.append(f"| {row['backend']} | {row['mode']} | {row['seconds']} | {row['peak_rss_growth_mb']} | "
                     f"{row['kept']} | {row['written']} | {'' if ratio is None else f'{ratio:.1f}x'} |")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.tag}.md").write_text("\n".join(lines) + "\n")
    (args.out / f"{args.tag}.json").write_text(json.dumps({"command": command, "machine": machine, "rows": rows},
                                                          indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
