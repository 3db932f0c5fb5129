"""Records two collections share by text as pairs: `v2v fit --shared-documents` on the kit's Wikipedia sentences.

    python benchmarks/shared_documents.py [--side 8000] [--shared 0,100,1000] [--methods align,auto]

A user part way through re-embedding keeps the old model's collection (MiniLM: ``--side`` sentences of the kit's side
A, with their texts) and a new one (e5: ``--side`` sentences of side B, disjoint, plus the e5 vectors of ``K`` of the
side-A sentences, re-embedded already). Both are FAISS indexes with their texts in the sidecar; ids differ between
the two. Each row runs the real CLI, ``v2v fit --method M --shared-documents`` (K pairs found by text; 0: off), and
measures the saved translator on the 8,192 held-out sentences (top-1 / mean rank among all 8,192, both ways).
``align`` is the case the pairs matter most: neither model can be run here (retired, or an API), so neither anchor
texts nor the stored documents can be embedded (``--document-pairs 0 --anchors 0 --no-fallback``); ``auto`` (defaults)
recognises MiniLM and e5, embeds the stored documents with the other model and adds the bundled anchors.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kit import load, run_meta, save_results, splits, texts  # noqa: E402

from v2v_store import VectorBatch, open_store  # noqa: E402
from v2v_store.metrics import paired_metrics  # noqa: E402
from v2v_store.translator import Translator  # noqa: E402


# align: as if neither model could run here, so neither their document embeddings nor anchors, nor the fallback
NO_MODEL = {"align": ["--document-pairs", "0", "--anchors", "0", "--no-fallback"], "auto": []}


def write(uri: str, ids: list[int], vectors: np.ndarray, documents: list[str]) -> None:
    with open_store(uri, dim=vectors.shape[1]) as store:
        for s in range(0, len(ids), 4096):
            store.upsert(VectorBatch(ids[s:s + 4096], vectors[s:s + 4096], None, documents[s:s + 4096]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--side", type=int, default=8000)
    ap.add_argument("--shared", default="0,100,1000", help="comma-separated K")
    ap.add_argument("--methods", default="align,auto")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--tag", default="shared_documents")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    held, side_a, side_b = splits("wiki", "minilm")
    minilm, e5 = load("wiki", "minilm"), load("wiki", "e5")
    corpus = texts("wiki")
    a_rows = np.arange(side_a.start, side_a.stop)[:args.side]
    b_rows = np.arange(side_b.start, side_b.stop)[:args.side]
    u, v = minilm[held], e5[held]
    rows, reports = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        source = f"faiss://{tmp}/minilm.faiss"
        write(source, [int(r) for r in a_rows], minilm[a_rows], [corpus[r] for r in a_rows])
        for k in (int(x) for x in args.shared.split(",")):
            shared = np.random.default_rng(k).choice(a_rows, size=k, replace=False) if k else np.zeros(0, int)
            target = f"faiss://{tmp}/e5_{k}.faiss"
            t_rows = np.concatenate([b_rows, shared])
            write(target, [1_000_000 + int(r) for r in t_rows], e5[t_rows], [corpus[r] for r in t_rows])
            for method in args.methods.split(","):
                out = Path(tmp) / f"tr_{method}_{k}"
                t0 = time.perf_counter()
                run = subprocess.run([sys.executable, "-m", "v2v_store", "fit", "--source", source, "--target", target,
                                      "--source-name", "minilm", "--target-name", "e5", "--method", method,
                                      "--shared-documents", str(5000 if k else 0), "--out", str(out),
                                      "--allow-untrusted", *NO_MODEL[method]], capture_output=True, text=True)
                seconds = time.perf_counter() - t0
                if run.returncode != 0:
                    raise SystemExit(f"fit failed ({method}, K={k}): {run.stderr[-2000:]}")
                summary = json.loads(run.stdout)
                tr = Translator.load(out)
                there = paired_metrics(tr.translate(u, "minilm", "e5"), v)
                back = paired_metrics(tr.translate(v, "e5", "minilm"), u)
                rows.append((method, k, summary["method"], there.top1, back.top1, there.mean_rank,
                             back.mean_rank, summary.get("trusted"), seconds))
                reports[f"{method}_{k}"] = summary
                print(rows[-1], flush=True)
    meta = run_meta()
    lines = [f"# Records the two collections share by text, as pairs ({args.side:,} sentences per side)", "",
             f"Command: `{meta['command']}`  ", f"Machine: {meta['machine']}, {meta['date']}", "",
             "Source: MiniLM vectors of kit Wikipedia side-A sentences; target: e5 vectors of as many side-B sentences "
             "plus K of the source's sentences (already re-embedded), texts stored with both, ids different. Each row: "
             "`v2v fit --method M --shared-documents K` (the real CLI), then top-1 / mean rank among the 8,192 held-out "
             "sentences' true vectors.", "",
             "| --method | K shared texts | fitted as | top-1 MiniLM->e5 | top-1 e5->MiniLM | rank there | rank back | "
             "trusted | seconds |", "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {m} | {k:,} | {f} | {a:.3f} | {b:.3f} | {ra:.2f} | {rb:.2f} | {t} | {s:.0f} |"
              for m, k, f, a, b, ra, rb, t, s in rows]
    save_results(args.out, args.tag, {**meta, "rows": rows, "reports": reports}, lines)


if __name__ == "__main__":
    main()
