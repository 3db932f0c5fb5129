"""`v2v fit` end to end on one corpus: real stores, the real CLI, the verdict a user gets.

    python benchmarks/fit_cli.py --corpus debpkg --models minilm e5 [--seed 0] [-- extra v2v fit options]
    python benchmarks/fit_cli.py --corpus debpkg --pair-texts 500   # + 500 of the source collection's own texts
    python benchmarks/fit_cli.py --corpus debpkg --target-corpus wiki  # a target of another kind of text
    python benchmarks/fit_cli.py --corpus wiki --source-model DIR       # a user's own model (saved sentence-transformers)
    python benchmarks/fit_cli.py --corpus wiki --models static e5 --source-model py:static_model:get_embeddings

Side A of the corpus embedded by the first model goes into a FAISS index, side B (other texts) embedded by the second
into a qdrant-edge shard; ``v2v fit`` then runs as a user would run it, with ``--source-name``/``--target-name``
naming the models (``--unnamed``: without, so that it must recognise them), and the held-out pairs only as
``--eval-source``/``--eval-target`` for the paper metrics. Recorded: the exit status, the method that made the saved
translator (the default ``--method auto``: anchors+align for these offline models; with ``-- --method align``, the
unsupervised fit or its fallback to anchor pairs, the default before session 29), the verdict, top-1 and mean rank
both ways (held-out texts, among all of them), the wall time of the command, and (since session 34) the restarts of
the saved translator's aligner fit, from its ``config.json``, and (session 35) what its checks measured there
(relatedness, the kinds-of-text statistics, the fingerprints' similarity). ``--pair-texts N``: the texts of the
first N documents of the source collection go to ``v2v fit --pair-texts`` (a user who still has a few of them).
``--documents source|target|both``: those collections keep their texts as documents (Chroma always does), which
``v2v fit``'s default ``--document-pairs`` pairs with the other model's embeddings (session 36); ``--mismatch F``: a
share F of those stored texts permuted among their records (documents partly not the texts their vectors embed).
``--target-corpus C``: the target collection is side B of corpus C instead (a user whose target holds another kind of
text); the held-out pairs stay the source corpus's.
``--source-model MODEL``: the source collection and the held-out source vectors are embedded here by that model (the
directory of a saved sentence-transformers model, or ``py:MODULE:FUNCTION``; the corpus's texts, cached like the anchors) instead of read from the kit, and ``v2v fit``
gets ``--source-model DIR`` (the space keeps the first ``--models`` name only as its label); with ``--keep-model``
it does not, and must make do with what the collection looks like (e.g. a fine-tune recognised as its base model).
Corpora: the kit's, or any built by ``build_kit.py`` (split by ``kit.splits``).
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
from kit import load, run_meta, save_results, splits, texts  # noqa: E402

from v2v_store import VectorBatch, open_store  # noqa: E402

logger = logging.getLogger("bench.fit_cli")


def write_store(uri: str, vectors: np.ndarray, documents: list[str] | None = None, batch: int = 4096) -> None:
    with open_store(uri, dim=vectors.shape[1]) as store:
        for start in range(0, len(vectors), batch):
            chunk = vectors[start:start + batch]
            store.upsert(VectorBatch(list(range(start, start + len(chunk))), chunk,
                                     documents=documents[start:start + len(chunk)] if documents else []))


CHECKS = ("pairs_relatedness", "pairs_profile_correlation", "collection_profile_correlation", "model_similarity",
          "document_pairs", "added_language_relatedness")


def saved_fit(config: Path) -> tuple[list[dict], dict]:
    """From a saved translator's ``config.json``: the restart reports (number, label-free score, mutual-NN share,
    seconds) of the aligner fit that made it (empty for other methods), and what ``v2v fit``'s checks measured
    (``CHECKS``: the models' relatedness on kept-out pairs, the two kinds-of-text statistics, the fingerprints'
    similarity to the named models); both empty when nothing was saved."""
    if not config.exists():
        return [], {}
    info = json.loads(config.read_text()).get("info", {})
    restarts = [{k: r[k] for k in ("restart", "score", "mutual_fraction", "seconds")}
                for r in (info.get("fit") or {}).get("restarts", [])]
    return restarts, {k: info[k] for k in CHECKS if k in info}


def metrics_row(name: str, summary: dict, pair: tuple[str, str]) -> str:
    paired = summary.get("paired") or {}
    there, back = paired.get(f"{pair[0]}->{pair[1]}", {}), paired.get(f"{pair[1]}->{pair[0]}", {})
    cells = [f"{d.get('top1', float('nan')):.3f} / {d.get('mean_rank', float('nan')):.2f}" for d in (there, back)]
    return (f"| {name} | {summary.get('method')} | {'yes' if summary.get('trusted') else 'no'} | {cells[0]} | {cells[1]} "
            f"| {summary.get('seconds', float('nan')):.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True, help="wiki, fortunes, or a corpus built by build_kit.py")
    ap.add_argument("--models", nargs=2, default=["minilm", "e5"], metavar=("SOURCE", "TARGET"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--tag", default=None, help="results file name (default fit_cli_<corpus>_<a>_<b>_seed<S>)")
    ap.add_argument("--unnamed", action="store_true",
                    help="no --source-name/--target-name: v2v fit must recognise the models by their fingerprints")
    ap.add_argument("--pair-texts", type=int, default=0, metavar="N",
                    help="pass the texts of the source collection's first N documents as v2v fit --pair-texts")
    ap.add_argument("--source-model", default=None, metavar="MODEL",
                    help="embed the source side and its held-out texts with this model: the directory of a saved "
                         "sentence-transformers model, or py:MODULE:FUNCTION")
    ap.add_argument("--keep-model", action="store_true",
                    help="with --source-model: embed with it but do not pass it to v2v fit")
    ap.add_argument("--target-corpus", default=None, help="take the target collection from this corpus's side B")
    ap.add_argument("--documents", choices=("none", "source", "target", "both"), default="none",
                    help="which collections keep their texts as documents (as Chroma always does): v2v fit's default "
                         "--document-pairs then pairs up to 1,000 of each with the other model's embeddings")
    ap.add_argument("--mismatch", type=float, default=0.0, metavar="F",
                    help="with --documents: this share of each stored collection's records gets another record's "
                         "text (permuted among them): documents that are partly not the texts their vectors embed")
    ap.add_argument("fit_args", nargs="*", help="more `v2v fit` options, after --")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    a, b = args.models
    held, side_a, side_b = splits(args.corpus, b if args.source_model else a)  # a: no file when embedded here
    xb = load(args.corpus, b)
    corpus_texts = texts(args.corpus) if args.source_model or args.pair_texts or args.documents != "none" else None
    if args.source_model:
        from v2v_store.texts import embed_cached

        rows = [*range(held.start, held.stop), *range(side_a.start, side_a.stop)]
        vectors = embed_cached(args.source_model, [corpus_texts[i] for i in rows])
        xa = np.zeros((len(corpus_texts), vectors.shape[1]), np.float32)  # only the held-out rows and side A are used
        xa[rows] = vectors
    else:
        xa = load(args.corpus, a)
    target_corpus = args.target_corpus or args.corpus
    target_rows = splits(target_corpus, b)[2]
    target_side = load(target_corpus, b)[target_rows]
    keep = {"source": args.documents in ("source", "both"), "target": args.documents in ("target", "both")}

    def stored(documents: list[str]) -> list[str]:
        """The texts a collection stores: its own, but ``--mismatch`` of them permuted among those records."""
        documents = list(documents)
        rng = np.random.default_rng(args.seed + 7)
        wrong = rng.choice(len(documents), int(args.mismatch * len(documents)), replace=False)
        moved = [documents[j] for j in rng.permutation(wrong)]
        for i, text in zip(wrong, moved):
            documents[i] = text
        return documents

    with tempfile.TemporaryDirectory() as tmp:
        src, trg = f"faiss://{tmp}/{a}.faiss", f"qdrant-edge://{tmp}/{b}_shard"
        write_store(src, xa[side_a], stored(corpus_texts[side_a]) if keep["source"] else None)
        write_store(trg, target_side, stored(texts(target_corpus)[target_rows]) if keep["target"] else None)
        np.save(f"{tmp}/eval_{a}.npy", xa[held])
        np.save(f"{tmp}/eval_{b}.npy", xb[held])
        pair_texts = []
        if args.pair_texts:
            mine = corpus_texts[side_a][:args.pair_texts]  # one per line: inner line breaks become spaces
            Path(f"{tmp}/pair_texts.txt").write_text("".join(" ".join(t.split()) + "\n" for t in mine))
            pair_texts = ["--pair-texts", f"{tmp}/pair_texts.txt"]
        cmd = [sys.executable, "-m", "v2v_store", "fit", "--source", src, "--target", trg, "--out", f"{tmp}/translator",
               *([] if args.unnamed else ["--source-name", a, "--target-name", b]), "--seed", str(args.seed),
               *(["--source-model", args.source_model] if args.source_model and not args.keep_model else []),
               "--eval-source", f"{tmp}/eval_{a}.npy", "--eval-target", f"{tmp}/eval_{b}.npy", *pair_texts, *args.fit_args]
        logger.info("running %s", " ".join(cmd))
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        restarts, checks = saved_fit(Path(f"{tmp}/translator/config.json"))
    try:
        summary = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"v2v fit printed no report (exit {done.returncode}):\n{done.stderr[-3000:]}") from None
    stderr_tail = done.stderr.strip().splitlines()[-1:] if done.returncode else []
    meta = run_meta()
    env = {k: os.environ[k] for k in ("PYTHONPATH", "V2V_CACHE", "V2V_EXTRA_KIT", "V2V_KIT") if k in os.environ}
    if env:  # e.g. a model hidden to test the shipped anchor vectors: part of how the result was made
        meta["command"] = " ".join(f"{k}={v}" for k, v in env.items()) + " " + meta["command"]
    tag = args.tag or (f"fit_cli_{args.corpus}_{a}_{b}_seed{args.seed}" + ("_unnamed" if args.unnamed else "")
                       + (f"_pairtexts{args.pair_texts}" if args.pair_texts else "")
                       + (f"_target{target_corpus}" if args.target_corpus else "")
                       + (f"_documents{args.documents}" if args.documents != "none" else "")
                       + (f"_mismatch{args.mismatch:g}" if args.mismatch else "")
                       + (("_keptmodel" if args.keep_model else "_sourcemodel") if args.source_model else ""))
    names = ("source", "target") if args.unnamed else (a, b)  # the spaces' names in the report
    sizes = (held.stop - held.start, side_a.stop - side_a.start, len(target_side))
    lines = [f"# `v2v fit` end to end on {args.corpus}: {a} (FAISS) -> {b} (qdrant-edge), seed {args.seed}"
             + (", spaces not named" if args.unnamed else ""), "",
             f"Command: `{meta['command']}`  ", f"Machine: {meta['machine']}, {meta['date']}", "",
             f"Collections: {sizes[1]:,} {a} vectors and {sizes[2]:,} {b} vectors of other texts"
             + (f" (of {target_corpus})" if args.target_corpus else "") + "; paper metrics on "
             f"{sizes[0]:,} held-out texts embedded by both (top-1 among all of them / mean rank)."
             + (f" `--pair-texts`: the texts of the first {args.pair_texts:,} {a} documents." if args.pair_texts else "")
             + (f" Collections that keep their texts as documents: {args.documents}." if args.documents != "none" else "")
             + (f" A share of {args.mismatch:g} of each one's stored documents permuted among those records (not the "
                "texts their vectors embed)." if args.mismatch else ""),
             "",
             f"Exit status: **{done.returncode}**; wall time of the command {wall:.0f} s.", "",
             f"| fit | method | trusted | top-1 / rank {a} -> {b} | top-1 / rank {b} -> {a} | fit s |",
             "|---|---|---|---|---|---|"]
    if "unsupervised" in summary:
        lines.append(metrics_row("unsupervised attempt", summary["unsupervised"], names))
    lines += [metrics_row("saved translator", summary, names), "", f"Reason: {summary.get('reason')}"]
    if "warnings" in summary:  # since session 80
        found = summary["warnings"]
        lines += ["", f"Warnings in the report: {len(found)}" + "".join(f"\n- {w}" for w in found)]
    if "accuracy_warnings" in summary:  # since session 81: those that foretell a worse map
        lines += ["", f"Of them, accuracy warnings (--fail-on-accuracy-warning exits 3 on these): "
                      f"{len(summary['accuracy_warnings'])}"]
    if restarts:
        scores = ", ".join(f"{r['score']:.3f}" for r in restarts)
        lines += ["", f"Restarts of the saved translator's fit: {len(restarts)} (label-free scores {scores})."]
    if checks:
        lines += ["", "Checks recorded in the saved translator: " + "; ".join(f"{k} {v}" for k, v in checks.items()) + "."]
    if stderr_tail:
        lines += ["", f"Last line of stderr: `{stderr_tail[0]}`"]
    save_results(args.out, tag, {**meta, "exit": done.returncode, "wall_seconds": wall, "sizes": sizes,
                                 "summary": summary, "restarts": restarts, "checks": checks}, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
