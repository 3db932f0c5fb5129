"""`v2v fit`'s anchors with and without the documentation sentences (session 76), through `anchors+align`.

    python benchmarks/anchor_kinds.py --pair minilm e5 --corpora wiki fortunes debpkg gettext wordnet jargon
    python benchmarks/anchor_kinds.py --pair e5 mpnet --corpora wiki debpkg gettext
    python benchmarks/anchor_kinds.py --pair minilm e5 --corpora gettext wiki --side 13805   # each anchor weighted 0.36
    python benchmarks/anchor_kinds.py --corpora debpkg gettext --kit-split --side 0   # fit_cli.py's collections

The anchors are the product's own (:func:`v2v_store.anchors.anchor_pairs`, 5,000): the bundled Wikipedia sentences
alone (``anchor_texts(docs=False)``, the default before session 76) against the default since, a quarter of them
documentation sentences (sentences of the Python standard library's docstrings, shipped with v2v-store). Per corpus
a source collection of 4,000 texts (`--side`) embedded by A and a disjoint target collection of as many other texts by B
(wiki: the kit's two training sides; fortunes: its 3,072 per side; jargon: the 2,827 texts left for B), 2,000 test
pairs held out (fortunes: the first 2,000 of its 2,048);
`fit_translator(method="anchors+align")` as `v2v fit` calls it, one seed; top-1 among the test pairs, both
directions. The other corpora are `build_kit.py`'s texts (package summaries, software messages, WordNet glosses,
Jargon File sentences), embedded here and cached; none of them is in the anchors. ``--kit-split``: the corpora as
``build_kit.py`` built them, split as ``fit_cli.py`` splits them (up to 8,192 held out, all of them test pairs), so
that both anchor sets meet the very collections ``v2v fit`` met there.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_kit  # noqa: E402
from kit import load, run_meta, save_results, splits  # noqa: E402

from v2v_store.anchors import anchor_pairs, anchor_texts  # noqa: E402
from v2v_store.fit import fit_translator  # noqa: E402
from v2v_store.metrics import translation_metrics  # noqa: E402
from v2v_store.texts import embed_cached  # noqa: E402

logger = logging.getLogger("bench.anchor_kinds")
SIDE, TEST, ANCHORS = 4000, 2000, 5000


def collections(name: str, a: str, b: str, side: int = SIDE,
                kit_split: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(source collection, target collection, test source, test target) of one corpus, ``side`` vectors per side;
    ``kit_split``: the corpus as built in the kit's layout, split as ``fit_cli.py`` splits it (``kit.splits``), all
    its held-out rows the test pairs."""
    if kit_split or name in ("wiki", "fortunes"):  # built in the kit's layout (the kit's own: its fixed splits)
        held, side_a, side_b = splits(name, a)
        xa, yb = load(name, a), load(name, b)
        test = slice(None) if kit_split else slice(TEST)
        return xa[side_a][:side], yb[side_b][:side], xa[held][test], yb[held][test]
    texts = [t["text"] for t in getattr(build_kit, f"{name}_texts")(Path.home() / ".cache/v2v-store/kit")]
    test = texts[:TEST]
    return (embed_cached(a, texts[TEST:TEST + side]), embed_cached(b, texts[TEST + side:TEST + 2 * side]),
            embed_cached(a, test), embed_cached(b, test))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pair", nargs=2, default=["minilm", "e5"])
    ap.add_argument("--corpora", nargs="+", default=["wiki", "fortunes", "debpkg", "gettext", "wordnet", "jargon"],
                    help="the kit's wiki or fortunes, or build_kit.py's corpora by name")
    ap.add_argument("--tag", default=None, help="results file name (default anchor_kinds_<a>_<b>[_side<N>])")
    ap.add_argument("--side", type=int, default=SIDE, help="vectors per side (at most; the kit's sides are 13,805)")
    ap.add_argument("--kit-split", action="store_true",
                    help="the corpora as built by build_kit.py, split as fit_cli.py splits them (with --side 0: "
                         "whole sides; every held-out row a test pair)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = ap.parse_args()
    if args.side <= 0 and not args.kit_split:
        ap.error("--side 0 (whole sides) needs --kit-split")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    a, b = args.pair
    anchor_sets = {"Wikipedia sentences (before)": tuple(embed_cached(m, anchor_texts(ANCHORS, docs=False))
                                                        for m in (a, b)),
                   "a quarter documentation sentences (default)": anchor_pairs(a, b, ANCHORS)}
    rows = []
    for name in args.corpora:
        x, y, tx, ty = collections(name, a, b, args.side or None, args.kit_split)
        for label, pairs in anchor_sets.items():
            t0 = time.perf_counter()
            translator, report = fit_translator(x, y, (a, b), method="anchors+align", pairs=pairs, seed=0,
                                                progress=False)
            rows.append({"corpus": name, "anchors": label, "per_side": [len(x), len(y)], "test": len(tx),
                         "top1": [translation_metrics(translator, tx, ty, a, b).top1,
                                  translation_metrics(translator, ty, tx, b, a).top1],
                         "trusted": report.trusted, "seconds": round(time.perf_counter() - t0, 1)})
            logger.info("%s", rows[-1])
    lines = [f"# `v2v fit`'s anchors with and without documentation sentences: {a} <-> {b}", "",
             f"`{run_meta()['command']}` ({run_meta()['date']}, {run_meta()['machine']}). anchors+align, 5,000 "
             f"anchors (each weighted as `v2v fit` weights them for the collections' size), one seed; top-1 among each corpus's test pairs, {a} -> {b} / {b} -> {a}.", "",
             "| corpus | per side | test | Wikipedia sentences (before) | a quarter documentation sentences "
             "(default) | change |", "|---|---|---|---|---|---|"]
    for name in args.corpora:
        before, after = [r for r in rows if r["corpus"] == name]
        cell = lambda r: f"{r['top1'][0]:.3f} / {r['top1'][1]:.3f} ({r['seconds']:.0f} s)"  # noqa: E731
        change = " / ".join(f"{q - p:+.3f}" for p, q in zip(before["top1"], after["top1"]))
        sizes = " / ".join(f"{n:,}" for n in before["per_side"])
        lines.append(f"| {name} | {sizes} | {before['test']:,} | {cell(before)} | {cell(after)} | {change} |")
    tag = args.tag or (f"anchor_kinds_{a}_{b}" + ("" if args.side in (SIDE, 0) else f"_side{args.side}")
                       + ("_kitsplit" if args.kit_split else ""))
    save_results(args.out, tag, {**run_meta(), "rows": rows}, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
