"""Querying a half-migrated corpus: two collections of different models searched as one (``v2v query``).

    python benchmarks/mixed_query.py --old minilm --new e5 --translators DIR [DIR ...] --out benchmarks/results

A user has re-encoded half of a corpus with a NEW model; the other half is still in the OLD model's collection. Each
query (embedded by NEW) searches both collections through :class:`~v2v_store.query.CrossQuery` and gets one merged
top-10. Corpus: the kit's 8,192 held-out wiki sentences; queries: the first held-out sentence of each article with two
or more held out (1,920); documents: every other held-out sentence (6,272), a random half of them (seed 1) in an OLD
FAISS collection, the rest in a NEW one. Out of distribution: fortunes, queries the first 1,000, documents the other
7,192 (no articles there). Reference: the same queries on all documents re-encoded by NEW, plain cosine (what the user
would get after re-encoding everything).

Reported per way of querying: overlap of the merged top-10 with the reference top-10, the share of the merged top-10
from the OLD collection (the reference's share of those documents beside it), and, on wiki, hit@10 of an article-mate
(another sentence of the query's article: relevance labels the translator never saw). Ways: ``latent`` as it was
before session 41 (the query decoded into the OLD collection's coordinates as a record, raw cosines), ``latent`` now
(the query decode, scores of the OLD collection mapped onto NEW's scale: ``Translator.latent_score``, calibrated by
``calibrate_queries`` on the fit's unpaired wiki sides, as ``v2v fit`` does), and ``native`` (each store's own index,
the query translated as a query; merged by raw score). Translators: saved issue-4 fits (``alignment.py
--save-translators``), the first space fitted on side A.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kit import KIT, load, run_meta, save_results, splits  # noqa: E402
from retrieval import overlap  # noqa: E402

from v2v_store import VectorBatch, open_store  # noqa: E402
from v2v_store.query import CrossQuery  # noqa: E402
from v2v_store.translator import Translator  # noqa: E402

K = 10
logger = logging.getLogger("bench.mixed_query")


def corpus_case(corpus: str, old: str, new: str, rng: np.random.Generator) -> dict:
    """Queries, documents (OLD and NEW vectors), which documents are in the OLD collection, article-mates."""
    if corpus == "wiki":
        held = splits("wiki", old)[0]
        titles = [json.loads(line)["title"] for line in open(KIT / "wiki.jsonl")][held]
        by_title: dict[str, list[int]] = {}
        for i, t in enumerate(titles):
            by_title.setdefault(t, []).append(i)
        queries = [ids[0] for ids in by_title.values() if len(ids) >= 2]
        docs = np.setdiff1d(np.arange(len(titles)), queries)
        pos = {d: j for j, d in enumerate(docs)}
        mates = [{pos[d] for d in by_title[titles[q]][1:]} for q in queries]
        vo, vn = load("wiki", old)[held], load("wiki", new)[held]
    else:
        vo, vn = load(corpus, old)[:8192], load(corpus, new)[:8192]
        queries, docs, mates = np.arange(1000), np.arange(1000, len(vo)), None
    return {"queries": vn[queries], "old": vo[docs], "new": vn[docs], "is_old": rng.random(len(docs)) < 0.5,
            "mates": mates}


def write(uri: str, vectors: np.ndarray, ids: np.ndarray) -> None:
    with open_store(uri, dim=vectors.shape[1], metric="cosine") as store:
        for s in range(0, len(ids), 4096):
            store.upsert(VectorBatch([int(i) for i in ids[s:s + 4096]], vectors[s:s + 4096]))


def scores(top: np.ndarray, ref: np.ndarray, is_old: np.ndarray, mates) -> dict:
    cell = {"overlap@10": overlap(top, ref), "old share": float(is_old[top].mean())}
    if mates is not None:
        cell["mate hit@10"] = float(np.mean([bool(set(t) & m) for t, m in zip(top, mates)]))
    return {k: round(v, 4) for k, v in cell.items()}


def run_case(tr: Translator, old: str, new: str, case: dict, calibrate) -> dict:
    q, is_old, mates = case["queries"], case["is_old"], case["mates"]
    ids = np.arange(len(is_old))
    ref = np.argsort(-(q @ case["new"].T), axis=1)[:, :K]  # the stored vectors as a store ranks them
    out = {"reference": {"old share": round(float(is_old[ref].mean()), 4)}}
    if mates is not None:
        out["reference"]["mate hit@10"] = round(float(np.mean([bool(set(r) & m) for r, m in zip(ref, mates)])), 4)
    with tempfile.TemporaryDirectory() as tmp:
        uris = {old: f"faiss://{tmp}/old.faiss", new: f"faiss://{tmp}/new.faiss"}
        write(uris[old], case["old"][is_old], ids[is_old])
        write(uris[new], case["new"][~is_old], ids[~is_old])
        for name in ("latent before", "latent", "native"):
            if name == "latent before":
                tr.latent_scores = {}
            elif name == "latent":
                calibrate()
            with CrossQuery(tr, [(uris[old], old), (uris[new], new)], mode=name.split()[0]) as cross:
                hits = cross.search(q, new, k=K)
            top = np.array([[h.id for h in row] for row in hits])
            out[name] = scores(top, ref, is_old, mates)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--old", required=True)
    p.add_argument("--new", required=True)
    p.add_argument("--translators", nargs="+", required=True, help="saved translators of the (OLD, NEW) pair")
    p.add_argument("--both-ways", action="store_true", help="also NEW's documents half in OLD, queries in OLD")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    p.add_argument("--tag", default=None)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    ways = [(args.old, args.new)] + ([(args.new, args.old)] if args.both_ways else [])
    results = []
    sides = {}  # the fit's unpaired wiki sides, by the translator's first space: loaded once
    for path in args.translators:
        for old, new in ways:
            tr = Translator.load(path, device="cpu")
            first, second = (s.name for s in tr.spaces)
            if first not in sides:
                _, side_a, side_b = splits("wiki", first)
                sides[first] = load("wiki", first)[side_a], load("wiki", second)[side_b]

            def calibrate(tr=tr, fit_sides=sides[first]):
                tr.calibrate_queries(*fit_sides)

            for corpus in ("wiki", "fortunes"):
                case = corpus_case(corpus, old, new, np.random.default_rng(1))
                row = {"translator": Path(path).name, "old": old, "new": new, "corpus": corpus,
                       **run_case(tr, old, new, case, calibrate)}
                logger.warning("%s", row)
                results.append(row)
    tag = args.tag or f"mixed_query_{args.old}_{args.new}"
    meta = run_meta()
    lines = [f"# Querying a half-migrated corpus: {args.old} and {args.new} collections searched as one", "",
             f"Command: `python benchmarks/mixed_query.py {' '.join(sys.argv[1:])}`  ",
             f"Machine: {meta.get('machine', '')}, {meta.get('date', '')}", "",
             "Queries embedded by the NEW model search an OLD collection (a random half of the documents, still in "
             "the old model) and a NEW one (the other half) together; merged top-10 against the top-10 of the same "
             "queries on every document re-encoded by NEW. Cells: overlap@10 / share of the merged top-10 from the "
             "OLD collection / hit@10 of an article-mate (wiki only). See the module docstring for the set-up.", "",
             "| translator | old -> new | corpus | reference share / mate | latent before s41 | latent | native |",
             "|---|---|---|---|---|---|---|"]

    def cell(c: dict) -> str:
        return " / ".join(f"{c[k]:.3f}" for k in ("overlap@10", "old share", "mate hit@10") if k in c)

    for r in results:
        ref = r["reference"]
        lines.append(f"| {r['translator']} | {r['old']} -> {r['new']} | {r['corpus']} | {ref['old share']:.3f}"
                     + (f" / {ref['mate hit@10']:.3f}" if "mate hit@10" in ref else "")
                     + f" | {cell(r['latent before'])} | {cell(r['latent'])} | {cell(r['native'])} |")
    save_results(args.out, tag, {"meta": meta, "command": sys.argv, "results": results}, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
