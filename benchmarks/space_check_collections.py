"""Does the collection check of ``migrate`` / ``query`` accept the right model's collections and refuse the others?

    python benchmarks/space_check_collections.py [--rows 2000]

A fit records the covariance of each space's fitting vectors (here: the kit's wiki side A for every model, as a
translator fitted on it would); ``migrate`` and ``CrossQuery`` then compare the first ``--rows`` vectors of a
collection with it (:func:`v2v_store.space_check.check_collection_space`). A user's collection is not always
shuffled: its first rows may all come from a few documents or one category. So each collection is read in three
orders: as stored (the kit is shuffled), grouped by article (wiki ``title``) or category (fortunes), and grouped by
topic (wiki). Every model's collection is scored against every fitted space of the same dimension; a good check has
every same-model cell well above ``THRESHOLD`` and every other-model cell well below. Collections: the kit's wiki
held-out rows (another sample of the fitting corpus) and its fortunes (another corpus, out of distribution).

A second table does the same against the model fingerprints v2v-store ships (``v2v_store/fingerprints.py``, built
from other sentences by ``build_fingerprints.py``): the model ``v2v inspect`` names and ``v2v fit`` checks names with.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kit import DIMS, EVAL, KIT, OOD, SIDE_A, emb_path, load, run_meta, save_results  # noqa: E402

from v2v_store.fingerprints import FINGERPRINTS, identify, looks_like  # noqa: E402
from v2v_store.space_check import CHECK_ROWS, THRESHOLD, covariance, covariance_similarity, judgeable  # noqa: E402


def orders(corpus: str, rows: slice) -> dict[str, np.ndarray]:
    """Row orders of a corpus's collection: as stored, and grouped by each label the kit's texts carry."""
    records = [json.loads(line) for line in (KIT / f"{corpus}.jsonl").open()][rows]
    idx = np.arange(len(records))
    out = {"as stored": idx}
    for label in ("title", "topic", "category"):
        if label in records[0]:
            out[f"grouped by {label}"] = np.array(sorted(idx, key=lambda i: (records[i][label], i)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=CHECK_ROWS, help="the collection's first rows checked (migrate's sample)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--tag", default="space_check_collections")
    args = ap.parse_args()
    models = [m for m in DIMS if emb_path("wiki", m).exists() and emb_path("fortunes", m).exists()]
    fitted = {m: covariance(load("wiki", m)[SIDE_A]) for m in models}
    rows, named = [], []
    for corpus, held_out in (("wiki", EVAL), ("fortunes", OOD)):
        for order, idx in orders(corpus, held_out).items():
            for model in models:
                sample = load(corpus, model)[held_out][idx[: args.rows]]
                cov, ok = covariance(sample), judgeable(sample)
                sims = identify(sample)
                named.append({"corpus": corpus, "order": order, "collection": model, "looks_like": looks_like(sims),
                              "similarity": sims})
                for space in models:
                    if DIMS[space] == DIMS[model]:
                        rows.append({"corpus": corpus, "order": order, "collection": model, "space": space,
                                     "judged": ok, "similarity": covariance_similarity(cov, fitted[space])})
                        print(rows[-1], flush=True)
    meta = run_meta()
    lines = ["# Space check of a collection against a translator's fitted space", "",
             f"Command: `{meta['command']}`  ", f"Machine: {meta['machine']}, {meta['date']}", "",
             f"Covariance similarity (`v2v_store/space_check.py`) of a collection's first {args.rows} vectors with the "
             f"covariance recorded for each space at fit time (the kit's wiki side A, 13,805 rows). `migrate` and "
             f"`query` refuse below {THRESHOLD}. \"judged\": the sample's two halves agree (else the check passes it "
             "unjudged).", "",
             "| collection | order | collection's model | fitted space | judged | similarity |", "|---|---|---|---|---|---|"]
    for r in rows:
        same = "**" if r["collection"] == r["space"] else ""
        lines.append(f"| {r['corpus']} | {r['order']} | {r['collection']} | {r['space']} | {r['judged']} | "
                     f"{same}{r['similarity']:.3f}{same} |")
    same = [r["similarity"] for r in rows if r["collection"] == r["space"]]
    other = [r["similarity"] for r in rows if r["collection"] != r["space"]]
    if same and other:
        lines += ["", f"Same model: {min(same):.3f}-{max(same):.3f}. Other model: {min(other):.3f} to {max(other):.3f}. "
                      f"Refused wrongly: {sum(s < THRESHOLD for s in same)} of {len(same)}; accepted wrongly: "
                      f"{sum(s >= THRESHOLD for s in other)} of {len(other)}."]
    from safetensors import safe_open

    with safe_open(str(FINGERPRINTS), "np") as f:
        provenance = f.metadata().get("provenance", "")
    lines += ["", "## Against the shipped model fingerprints", "",
              f"`v2v_store/model_fingerprints.safetensors` ({provenance}). The model `v2v inspect` names for the "
              f"collection's first {args.rows} vectors, and the similarity with each known model of the dimension.", "",
              "| collection | order | collection's model | looks like | similarities |", "|---|---|---|---|---|"]
    for r in named:
        sims = ", ".join(f"{m} {v:.3f}" for m, v in (r["similarity"] or {}).items())
        lines.append(f"| {r['corpus']} | {r['order']} | {r['collection']} | {r['looks_like']} | {sims} |")
    right = sum(r["looks_like"] == r["collection"] for r in named)
    lines += ["", f"Named the right model for {right} of {len(named)} collections."]
    save_results(args.out, args.tag, {"meta": meta, "threshold": THRESHOLD, "rows": rows, "named": named,
                                      "fingerprints": provenance}, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
