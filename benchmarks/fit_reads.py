"""What `v2v fit` reads of its two collections before it fits: sampling and the shared records, apart or together.

    python benchmarks/fit_reads.py --count 200000 --tag fit_reads

Two collections of ``--count`` random 384-d vectors, each record with a text: an embedded Chroma collection (the
source) and a qdrant-edge shard (the target, ``--count`` x ``--target-share`` records), every tenth of the target's
texts also stored in the source. Timed, alternately, ``--repeats`` times each:
- apart (``v2v fit`` up to session 45): ``sample_collection`` of each, then ``shared_document_pairs``;
- together (``sample_collections``, session 46): the smaller collection sampled while its texts' keys are collected,
  the larger sampled while its records of shared texts are drawn, then the smaller read for those texts' vectors.
Both give the same samples and pairs (asserted here); the passes over each collection (``iter_batches`` calls) are
counted, and one plain read of each collection is timed for scale.
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
from kit import run_meta, save_results  # noqa: E402

from v2v_store import VectorBatch, open_store  # noqa: E402
from v2v_store.connectors.chroma_store import ChromaStore  # noqa: E402
from v2v_store.connectors.qdrant_edge_store import QdrantEdgeStore  # noqa: E402
from v2v_store.train.data import sample_collection, sample_collections, shared_document_pairs  # noqa: E402

SAMPLE, DOCUMENTS, SHARED = 50_000, 1000, 5000  # v2v fit's defaults: --max-vectors, --document-pairs, --shared-documents


def fill(uri: str, ids: list, rng: np.random.Generator, texts: list[str], batch: int = 5000) -> None:
    with open_store(uri, dim=384, metric="cosine") as store:
        for s in range(0, len(ids), batch):
            n = min(batch, len(ids) - s)
            store.upsert(VectorBatch(ids[s:s + n], rng.standard_normal((n, 384)).astype(np.float32), None,
                                     texts[s:s + n]))


def counting_passes() -> dict:
    passes: dict = {}
    for cls in (ChromaStore, QdrantEdgeStore):
        real = cls.iter_batches

        def counted(self, *a, _real=real, **kw):
            passes[self.uri] = passes.get(self.uri, 0) + 1
            return _real(self, *a, **kw)
        cls.iter_batches = counted
    return passes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=200_000)
    ap.add_argument("--target-share", type=float, default=0.5, help="target records per source record")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--tag", default="fit_reads")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rng = np.random.default_rng(0)
    n_target = int(args.count * args.target_share)
    texts = [f"document {i}: some sentence of the corpus" for i in range(args.count + n_target)]
    payload = {**run_meta(), "count": args.count, "target_count": n_target, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        source, target = f"chroma://{tmp}/chroma?collection=docs", f"qdrant-edge://{tmp}/shard"
        t0 = time.perf_counter()
        fill(source, [f"d{i}" for i in range(args.count)], rng, texts[:args.count])
        # every tenth target record re-embeds a source text (spread through the collection, as a partial re-embedding
        # written in the same order would be); the others are texts of their own
        target_texts = [texts[j] if j % 10 == 0 else texts[args.count + j] for j in range(n_target)]
        shared = len(range(0, n_target, 10))
        fill(target, list(range(n_target)), rng, target_texts)
        payload["fill_s"] = round(time.perf_counter() - t0, 1)
        passes = counting_passes()
        plain = {}
        for uri in (source, target):
            t0 = time.perf_counter()
            with open_store(uri) as store:
                for _ in store.iter_batches(batch_size=4096):
                    pass
            plain[uri] = round(time.perf_counter() - t0, 1)
        results = {}
        for repeat in range(args.repeats):
            for how in ("apart", "together"):
                passes.clear()
                t0 = time.perf_counter()
                if how == "apart":
                    got = (sample_collection(source, SAMPLE, 0, DOCUMENTS), sample_collection(target, SAMPLE, 1, DOCUMENTS),
                           shared_document_pairs(source, target, SHARED, 0))
                else:
                    got = sample_collections(source, target, SAMPLE, 0, DOCUMENTS, SHARED)
                wall = time.perf_counter() - t0
                payload["runs"].append({"how": how, "repeat": repeat, "wall_s": round(wall, 1),
                                        "passes_source": passes.get(source), "passes_target": passes.get(target)})
                results[how] = got
        for a, b in zip(results["apart"][:2], results["together"][:2]):
            np.testing.assert_array_equal(a.vectors, b.vectors)
        assert results["apart"][2].shared == results["together"][2].shared == shared
        np.testing.assert_array_equal(results["apart"][2].source, results["together"][2].source)
    rows = [f"| {r['how']} | {r['repeat'] + 1} | {r['wall_s']:.1f} | {r['passes_source']} | {r['passes_target']} |"
            for r in payload["runs"]]
    mean = {how: np.mean([r["wall_s"] for r in payload["runs"] if r["how"] == how]) for how in ("apart", "together")}
    lines = [f"# What `v2v fit` reads before it fits ({payload['date']})", "",
             f"Command: `{payload['command']}`  ", f"Machine: {payload['machine']}", "",
             f"Source: embedded Chroma, {args.count:,} records; target: qdrant-edge, {n_target:,} records ({shared:,} "
             "of their texts, every tenth record, also in the source); random 384-d vectors, each record with a text. v2v fit's defaults: "
             f"samples of {SAMPLE:,} vectors and {DOCUMENTS:,} documents per collection, up to {SHARED:,} shared "
             f"pairs. One plain read: source {plain[source]:.1f} s, target {plain[target]:.1f} s. Same samples and "
             "pairs both ways (asserted).", "",
             "| how | run | wall s | passes over the source | passes over the target |", "|---|---|---|---|---|",
             *rows, "", f"Ratio of mean wall times (apart / together): {mean['apart'] / mean['together']:.2f}x."]
    save_results(args.out, args.tag, payload, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
