"""Anchor pairs: Procrustes on Wikipedia sentences embedded by both models, applied to other corpora.

    python benchmarks/anchors.py --anchors 500 1000 2000 5000 10000 20000
    python benchmarks/anchors.py --bundled --anchors 5000 --cases wordnet:minilm:e5 --tag anchors_bundled
    python benchmarks/anchors.py --anchor-corpus fortunes --anchors 5000 --methods anchors anchors+align \
        --cases wiki:minilm:e5 [--align restarts=1]   # anchors of another corpus for the wiki collections

What ``v2v fit --method anchors`` does (:mod:`v2v_store.anchors`), with the anchors taken from the kit's wiki
embeddings instead of embedding them again: the first N of a seeded permutation of the wiki training sentences
(ids 8192..35801), the same corpus and models as the bundled anchors but not the same sentences (the package's
shuffle differs). Per corpus the map is centred on the collections' own means and evaluated on held-out pairs:

- ``wordnet`` (``build_kit.py wordnet``): collections = the two unpaired training sides (first 13,805 each); evaluated
  on its 8,192 held-out glosses. MiniLM <-> e5 only (mpnet was not embedded there).
- ``fortunes``: collections = the 8,192 embedded fortunes (means only), evaluated on the same 8,192.
- ``wiki``: the kit split (sides A / B, 8,192 held out): anchors from the same corpus, for reference.
- any other corpus in the kit's layout (``build_kit.py foldoc``, or your own texts), named in ``--cases``: as
  ``wordnet``, split by ``kit.splits``.

``--centre-on-anchors``: centred on the anchors' own means instead (``--method procrustes`` on the same pairs).
``--methods anchors anchors+align``: also the anchors as few-shot pairs of the unsupervised aligner (``v2v fit --method
anchors+align``), whose steps see the collections' unpaired vectors; then fortunes, whose collections would otherwise
hold the same texts on both sides, uses its disjoint kit sides (3,072 each) and 2,048 held-out pairs, for every method.
``--bundled``: the anchors ``v2v fit --method anchors`` really uses, embedded here by
:func:`v2v_store.anchors.anchor_pairs` (the embedding time is reported; a second run reads the cache).

Cells: mean cos / top-1 / mean rank among 8,192 candidates, both directions.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kit import SPLITS, load, run_meta, save_results, splits  # noqa: E402

from v2v_store.anchors import anchor_pairs  # noqa: E402
from v2v_store.fit import fit_translator  # noqa: E402
from v2v_store.metrics import translation_metrics  # noqa: E402

logger = logging.getLogger("bench.anchors")
CASES = [("wordnet", "minilm", "e5"), ("fortunes", "minilm", "e5"), ("fortunes", "minilm", "mpnet"),
         ("fortunes", "mpnet", "e5"), ("wiki", "minilm", "e5"), ("wiki", "minilm", "mpnet"), ("wiki", "mpnet", "e5")]


def collections(corpus: str, a: str, b: str, disjoint: bool = False):
    """(source collection, target collection, held-out source, held-out target) of one case. ``disjoint``: fortunes
    as two disjoint sides too (else both collections are all 8,192 fortunes, of which only the means are used)."""
    xa, yb = load(corpus, a), load(corpus, b)
    if corpus == "fortunes" and not disjoint:
        return xa[:8192], yb[:8192], xa[:8192], yb[:8192]
    held, side_a, side_b = splits(corpus, a)
    return xa[side_a][:13805], yb[side_b][:13805], xa[held], yb[held]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--anchors", nargs="+", type=int, default=[500, 1000, 2000, 5000, 10000, 20000])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bundled", action="store_true", help="embed the product's bundled anchors (timed)")
    ap.add_argument("--centre-on-anchors", action="store_true",
                    help="centre on the anchors' own means (--method procrustes) instead of the collections'")
    ap.add_argument("--methods", nargs="+", default=["anchors"], choices=["anchors", "anchors+align"],
                    help="anchors (Procrustes, default) and/or anchors+align (the aligner with the anchors as pairs)")
    ap.add_argument("--cases", nargs="+", default=None, metavar="CORPUS:A:B", help="default: all seven")
    ap.add_argument("--anchor-corpus", default="wiki",
                    help="take the anchors from this kit corpus's embeddings (a seeded permutation of all its rows) "
                         "instead of the wiki training sentences: e.g. fortunes anchors for the wiki collections, a "
                         "corpus that is not the collections' (not with --bundled)")
    ap.add_argument("--align", nargs="*", default=[], metavar="KEY=VALUE",
                    help="AlignConfig overrides for anchors+align, e.g. restarts=1 (numbers parsed as such)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--tag", default="anchors")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    _, side_a, side_b = SPLITS["wiki"]
    pool = np.random.default_rng(args.seed).permutation(np.r_[np.arange(35802)[side_a], np.arange(35802)[side_b]])
    if args.bundled and args.anchor_corpus != "wiki":
        ap.error("--anchor-corpus takes kit embeddings; --bundled embeds the bundled sentences")
    overrides = {k: json.loads(v) if v[:1].isdigit() or v in ("true", "false") else v
                 for k, v in (item.split("=", 1) for item in args.align)}
    rows = []
    cases = [tuple(c.split(":")) for c in args.cases] if args.cases else CASES
    for corpus, a, b in cases:
        x, y, ex, ey = collections(corpus, a, b, disjoint="anchors+align" in args.methods)
        wa, wb = (None, None) if args.bundled else (load(args.anchor_corpus, a), load(args.anchor_corpus, b))
        if args.anchor_corpus != "wiki":
            pool = np.random.default_rng(args.seed).permutation(len(wa))
        for n in args.anchors:
            t0 = time.perf_counter()
            pairs = anchor_pairs(a, b, n) if args.bundled else (wa[pool[:n]], wb[pool[:n]])
            embedded = time.perf_counter() - t0
            for method in args.methods:
                method = "procrustes" if args.centre_on_anchors and method == "anchors" else method
                t1 = time.perf_counter()
                tr, report = fit_translator(x, y, (a, b), method=method, pairs=pairs, seed=args.seed, progress=False,
                                            align_overrides=overrides)
                row = {"corpus": corpus, "pair": f"{a}<->{b}", "anchors": n, "bundled": args.bundled, "method": method,
                       "anchor_corpus": "bundled" if args.bundled else args.anchor_corpus,
                       "anchor_seconds": embedded, "align_overrides": overrides, "seconds": time.perf_counter() - t1,
                       "collection_per_side": len(x),
                       "held_out": len(ex), "trusted": report.trusted,
                       "fwd": translation_metrics(tr, ex, ey, a, b).to_dict(),
                       "back": translation_metrics(tr, ey, ex, b, a).to_dict()}
                rows.append(row)
                logger.info("%s %s<->%s, %d anchors, %s: %s / %s", corpus, a, b, n, method, row["fwd"], row["back"])
    meta = run_meta()
    what = "Wikipedia sentences" if args.bundled or args.anchor_corpus == "wiki" else f"{args.anchor_corpus} texts"
    lines = [f"# Anchor pairs: {what} embedded by both models", "",
             f"Command: `{meta['command']}`  ", f"Machine: {meta['machine']}, {meta['date']}", "",
             __doc__.split("\n\n", 2)[2].strip(), "",
             "| corpus | pair A<->B | anchors | anchors from | embedding s | method | fit s | trusted | held out | A->B | B->A |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        source = "bundled (embedded here)" if r["bundled"] else f"kit {r.get('anchor_corpus', 'wiki')}"
        lines.append(f"| {r['corpus']} | {r['pair']} | {r['anchors']} | {source} | {r['anchor_seconds']:.0f} | "
                     f"{r['method']} | {r['seconds']:.0f} | {r['trusted']} | {r['held_out']:,} | " + " | ".join(
            f"{m['mean_cos']:.3f} / {m['top1']:.3f} / {m['mean_rank']:.2f}" for m in (r["fwd"], r["back"])) + " |")
    save_results(args.out, args.tag, {"meta": meta, "rows": rows}, lines)


if __name__ == "__main__":
    main()
