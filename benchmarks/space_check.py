"""How well the space check (``v2v_store/space_check.py``) tells a collection's own model from another model.

    python benchmarks/space_check.py [--corpora wiki fortunes wordnet foldoc] [--draws 20]

For every corpus and model embedded (the kit, or corpora built by ``build_kit.py``), the collection (the corpus's
side A, up to 13,805 rows; all rows of fortunes) against the bundled anchors (:func:`v2v_store.anchors.anchor_pairs`:
5,000 Wikipedia sentences embedded by each named model, cached) of every model of the same dimension: the similarity
with all 5,000 anchors, and the smallest and largest over ``--draws`` random subsets of 50 (the fewest rows the check
judges). The check refuses below ``THRESHOLD``; a good check has every same-model cell well above it and every
other-model cell well below.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kit import DIMS, emb_path, load, run_meta, save_results, splits  # noqa: E402

from v2v_store.anchors import anchor_pairs  # noqa: E402
from v2v_store.space_check import MIN_ROWS, THRESHOLD, space_similarity  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpora", nargs="+", default=["wiki", "fortunes", "wordnet", "foldoc"])
    ap.add_argument("--draws", type=int, default=20)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--tag", default="space_check")
    args = ap.parse_args()
    anchors = {}
    for a, b in (("minilm", "e5"), ("mpnet", "e5")):
        u, v = anchor_pairs(a, b)
        anchors[a], anchors[b] = u, v
    rng, rows = np.random.default_rng(0), []
    for corpus in args.corpora:
        for model in DIMS:
            if not emb_path(corpus, model).exists():
                continue
            vectors = load(corpus, model)
            collection = vectors if corpus == "fortunes" else vectors[splits(corpus, model)[1]][:13805]
            for anchor_model, u in anchors.items():
                if u.shape[1] != collection.shape[1]:
                    continue
                subsets = [space_similarity(collection, u[rng.choice(len(u), MIN_ROWS, replace=False)])
                           for _ in range(args.draws)]
                rows.append({"corpus": corpus, "collection": model, "anchors": anchor_model, "rows": len(collection),
                             "all": space_similarity(collection, u), "min50": min(subsets), "max50": max(subsets)})
                print(rows[-1], flush=True)
    meta = run_meta()
    lines = ["# Space check: a collection against the bundled anchors of each model", "",
             f"Command: `{meta['command']}`  ", f"Machine: {meta['machine']}, {meta['date']}", "",
             f"Covariance similarity beyond a random rotation (`v2v_store/space_check.py`); the check refuses below "
             f"{THRESHOLD}. Columns: with all 5,000 anchors; smallest / largest over {args.draws} random subsets of "
             f"{MIN_ROWS} anchors.", "",
             "| corpus | collection's model | anchors' model | rows | all anchors | 50 anchors: min / max |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        same = "**" if r["collection"] == r["anchors"] else ""
        lines.append(f"| {r['corpus']} | {r['collection']} | {r['anchors']} | {r['rows']} | {same}{r['all']:.3f}{same} | "
                     f"{r['min50']:.3f} / {r['max50']:.3f} |")
    same = [r for r in rows if r["collection"] == r["anchors"]]
    other = [r for r in rows if r["collection"] != r["anchors"]]
    if same and other:
        lines += ["", f"Same model: all anchors {min(r['all'] for r in same):.3f}-{max(r['all'] for r in same):.3f}, "
                      f"50 anchors at least {min(r['min50'] for r in same):.3f}. Other model: at most "
                      f"{max(max(r['all'], r['max50']) for r in other):.3f}."]
    save_results(args.out, args.tag, {"meta": meta, "threshold": THRESHOLD, "rows": rows}, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
