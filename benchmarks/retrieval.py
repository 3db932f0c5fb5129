"""How much retrieval survives a migration, and what it costs, on the kit.

    python benchmarks/retrieval.py --source minilm --target mpnet --out benchmarks/results

A collection of the 8,192 held-out wiki sentences embedded by the source model is migrated into the
target space (FAISS -> FAISS) with (a) the unsupervised translator (``align``, fitted on disjoint halves)
(b) few-shot Procrustes on 500 pairs and (c) Procrustes on all 13,805 true pairs of the training half (the
ceiling of any linear map). Queries: 1,000 other wiki sentences embedded by the target
model. Reported: overlap of each query's top-10 in the migrated collection with its top-10 in the truly
re-encoded collection; recall@10 of a cross-model query (source-model query translated into the target
space, searched in the *re-encoded* target collection) against the same-model query's top-10; identity
(where dims match) as the floor, re-encoding as the ceiling (1.0). Cost: migration throughput beside a
plain copy of the same collection between the same stores, and beside re-encoding (the measured
encoding rates of this machine, passed in).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from kit import EVAL, SIDE_A, SIDE_B, load, run_meta, save_results  # noqa: E402

from v2v_store import VectorBatch, open_store  # noqa: E402
from v2v_store.fit import fit_translator  # noqa: E402
from v2v_store.migrate import migrate  # noqa: E402
from v2v_store.train.linear import fit_procrustes  # noqa: E402
from v2v_store.translator import QUERIES, Space, Translator  # noqa: E402

logger = logging.getLogger("bench.retrieval")


def topk(collection: np.ndarray, queries: np.ndarray, k: int = 10) -> np.ndarray:
    c = collection / np.linalg.norm(collection, axis=1, keepdims=True)
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    return np.argsort(-(q @ c.T), axis=1)[:, :k]


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean([len(set(x) & set(y)) / len(x) for x, y in zip(a, b)]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", default="minilm")
    ap.add_argument("--target", default="mpnet")
    ap.add_argument("--restarts", type=int, default=None, help="aligner restarts (default: the library's)")
    ap.add_argument("--encode-rate", type=float, default=16.0, help="measured target-model sentences/s on this CPU")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    a, b = args.source, args.target
    xa, xb = load("wiki", a), load("wiki", b)
    docs_a, docs_b = xa[EVAL], xb[EVAL]
    queries_b, queries_a = xb[SIDE_B][:1000], xa[SIDE_B][:1000]
    truth = topk(docs_b, queries_b)  # re-encoded collection, same-model query: the ceiling
    translators = {
        "align (unsupervised)": fit_translator(xa[SIDE_A], xb[SIDE_B], (a, b), seed=0,
                                               align_overrides={"restarts": args.restarts} if args.restarts else None,
                                               progress=False),
        "procrustes (500 pairs)": (Translator.from_linear_map(fit_procrustes((xa[SIDE_A][:500], xb[SIDE_A][:500])),
                                                              Space(a, xa.shape[1]), Space(b, xb.shape[1])), None),
        # the best a linear map can do: Procrustes on every true pair of the training half
        "procrustes (all 13,805 pairs, linear ceiling)": (Translator.from_linear_map(
            fit_procrustes((xa[SIDE_A], xb[SIDE_A])), Space(a, xa.shape[1]), Space(b, xb.shape[1])), None),
    }
    rows = []
    root = Path(tempfile.mkdtemp(prefix="v2v-retrieval-"))
    src = f"faiss://{root}/src.faiss"
    with open_store(src, dim=docs_a.shape[1]) as s:
        for st in range(0, len(docs_a), 4096):
            s.upsert(VectorBatch(list(range(st, min(st + 4096, len(docs_a)))), docs_a[st:st + 4096],
                                 [{"row": i} for i in range(st, min(st + 4096, len(docs_a)))]))
    t0 = time.perf_counter()  # plain copy between the same stores: the cost floor
    with open_store(src) as s, open_store(f"faiss://{root}/copy.faiss", dim=s.dim) as d:
        for batch in s.iter_batches(batch_size=1024):
            d.upsert(batch)
    copy_s = time.perf_counter() - t0
    for name, (tr, report) in translators.items():
        dest = f"faiss://{root}/translated_{len(rows)}.faiss"  # one fresh collection per translator
        mig = migrate(tr, src, dest, batch_size=1024, source_space=a, state_dir=root / f"state_{len(rows)}", progress=False)
        with open_store(dest) as d:
            migrated = np.zeros((len(docs_a), xb.shape[1]), np.float32)
            for batch in d.iter_batches(batch_size=4096):
                migrated[batch.ids] = batch.vectors
        cross = topk(docs_b, tr.translate(queries_a, a, b, role=QUERIES))
        rows.append({"translator": name, "trusted": None if report is None else report.trusted,
                     "migrated_top10_overlap": overlap(topk(migrated, queries_b), truth),
                     "cross_query_recall10": overlap(cross, truth),
                     "migration_vec_per_s": mig.vectors_per_s, "migration_s": mig.seconds})
        logger.info("%s: %s", name, rows[-1])
    identity = {"migrated_top10_overlap": overlap(topk(docs_a, queries_b), truth),
                "cross_query_recall10": overlap(topk(docs_b, queries_a), truth)} if xa.shape[1] == xb.shape[1] else None
    reencode_s = len(docs_a) / args.encode_rate
    meta = run_meta()
    out = {"meta": meta, "rows": rows, "identity": identity, "plain_copy_s": copy_s, "reencode_s_estimate": reencode_s}
    lines = [f"# Retrieval after migration: {a} -> {b} (kit wiki, 8,192 docs, 1,000 queries)", "",
             f"Command: `{meta['command']}`  ", f"Machine: {meta['machine']}, {meta['date']}", "",
             "| translator | top-10 overlap, migrated vs re-encoded | recall@10, cross-model query | migration vec/s | "
             "migration s | x plain copy |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['translator']} (trusted: {'n/a, supervised' if r['trusted'] is None else r['trusted']}) | {r['migrated_top10_overlap']:.3f} | "
                     f"{r['cross_query_recall10']:.3f} | {r['migration_vec_per_s']:,.0f} | {r['migration_s']:.2f} | "
                     f"{r['migration_s'] / copy_s:.2f} |")
    lines.append(f"| re-encoding (ceiling) | 1.000 | 1.000 | {args.encode_rate:.0f} (model) | {reencode_s:.0f} | "
                 f"{reencode_s / copy_s:.0f} |")
    if identity:
        lines.append(f"| identity (floor) | {identity['migrated_top10_overlap']:.3f} | {identity['cross_query_recall10']:.3f} | | | |")
    lines += ["", f"Plain FAISS -> FAISS copy of the same collection: {copy_s:.2f} s. Re-encoding time = 8,192 / "
              f"{args.encode_rate:.0f} sentences/s (the target model's rate measured on this CPU, see the command)."]
    save_results(args.out, f"retrieval_{a}_{b}", out, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
