"""How well a migration's window-by-window space check (``SpaceWatch``) tells one model's records from a mix.

    python benchmarks/space_watch.py [--corpora wiki fortunes] [--pairs minilm:e5] [--reps 5]
    python benchmarks/space_watch.py --corpora wiki fortunes debpkg gettext pydoc --extra-rows 4000

A fit records each space's covariance from its training vectors; here, as a fit on the kit's Wikipedia side A would.
Then collections are streamed through :class:`v2v_store.space_check.SpaceWatch` in windows of 2,000 records (as
``v2v migrate`` and latent ``v2v query`` read them) and each window is judged: of a single model (the claimed one, of
another corpus or the same), or of a share of the other model's records mixed in at random (5 %, 10 %, 50 %, 100 %).
A good check refuses no window of a single model (a refusal stops a user's migration) and refuses every mixed one.
Also: every record of each collection classified on its own (:class:`v2v_store.space_check.RecordClassifier`): how
many land in the wrong space, and the smallest margin.
``--reps``: independent shuffles of each collection (windows differ). Corpora outside the kit (``build_kit.py``'s:
debpkg, gettext, pydoc, ...) are rebuilt from the packages here, ``--extra-rows`` of their texts embedded by each model
(cached in ``~/.cache/v2v-store/space_watch``): corpora the fit's covariances never saw.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kit import load, run_meta, save_results, splits  # noqa: E402
import build_kit  # noqa: E402

from v2v_store.models import cache_dir, load_encoder  # noqa: E402

from v2v_store.errors import SpaceMismatchError  # noqa: E402
from v2v_store.space_check import CHECK_ROWS, RecordClassifier, SpaceWatch, covariance, unit_mean  # noqa: E402

SHARES = (0.0, 0.02, 0.05, 0.1, 0.5, 0.9, 1.0)


def corpus_vectors(corpus: str, model: str, extra_rows: int) -> np.ndarray:
    """A kit corpus's embeddings (wiki: side B, which the fit did not see), or the first ``extra_rows`` texts of a
    corpus ``build_kit.py`` builds, embedded here by ``model`` (cached)."""
    if corpus == "wiki":
        return np.asarray(load("wiki", model)[splits("wiki", model)[2]])
    if corpus == "fortunes":
        return np.asarray(load("fortunes", model))
    path = cache_dir() / "space_watch" / f"{corpus}_{extra_rows}.{model}.npy"
    if not path.exists():
        items = build_kit.SOURCES[corpus](cache_dir() / "kit")[:extra_rows]  # shuffled with seed 0 by build_kit
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, load_encoder(model)([item["text"] for item in items]))
    return np.load(path)


def refused_windows(covariances: dict, means: dict | None, claimed: str, vectors: np.ndarray) -> tuple[int, int]:
    """Windows of ``vectors`` (in order) the watch refuses, and windows in all (each window judged on its own)."""
    refused = total = 0
    for start in range(0, len(vectors) - CHECK_ROWS + 1, CHECK_ROWS):
        watch = SpaceWatch(covariances, claimed, "bench", "", means=means)
        total += 1
        try:
            watch.add(vectors[start:start + CHECK_ROWS])
        except SpaceMismatchError:
            refused += 1
    return refused, total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpora", nargs="+", default=["wiki", "fortunes"])
    ap.add_argument("--pairs", nargs="+", default=["minilm:e5"], help="model pairs of one dimension, a:b")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--extra-rows", type=int, default=4000)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--tag", default="space_watch")
    args = ap.parse_args()
    rows, records = [], []
    for pair in args.pairs:
        a, b = pair.split(":")
        _, side_a, _ = splits("wiki", a)
        covariances = {m: covariance(load("wiki", m)[side_a]) for m in (a, b)}  # what a fit on side A records
        means = {m: unit_mean(load("wiki", m)[side_a]) for m in (a, b)}
        for corpus in args.corpora:
            vecs = {m: corpus_vectors(corpus, m, args.extra_rows) for m in (a, b)}
            classifier = RecordClassifier(covariances, means)
            for claimed, other in ((a, b), (b, a)):
                ratio = classifier.log_likelihood(vecs[claimed], claimed) - classifier.log_likelihood(vecs[claimed], other)
                records.append({"corpus": corpus, "model": claimed, "records": len(ratio), "wrong": int((ratio < 0).sum()),
                                "smallest_margin": float(ratio.min()), "median_margin": float(np.median(ratio))})
                print(records[-1], flush=True)
                for share in SHARES:
                    refused, total = {"covariance": 0, "records": 0}, 0
                    for rep in range(args.reps):
                        rng = np.random.default_rng(rep)
                        order = rng.permutation(len(vecs[claimed]))
                        mixed = np.where((rng.random(len(order)) < share)[:, None], vecs[other][order],
                                         vecs[claimed][order])
                        for stats, recorded in (("covariance", None), ("records", means)):
                            r, t = refused_windows(covariances, recorded, claimed, mixed)
                            refused[stats], total = refused[stats] + r, t
                    rows.append({"corpus": corpus, "claimed": claimed, "other": other, "share": share,
                                 "refused_covariance_only": refused["covariance"], "refused": refused["records"],
                                 "windows": total * args.reps})
                    print(rows[-1], flush=True)
    lines = ["# The migration's window-by-window space check: single-model collections against mixes", "",
             f"Command: `{run_meta()['command']}`  ", f"Machine: {run_meta()['machine']}, {run_meta()['date']}", "",
             f"Covariances recorded from the kit's Wikipedia side A (as a fit there records them); collections streamed "
             f"in windows of {CHECK_ROWS:,} records, {args.reps} random orders each; the other model's records mixed in "
             "at random at each share (0 %: a single-model collection, where any refusal is a false alarm).", "",
             "Windows refused by the covariance alone (translators saved before the spaces' means were recorded) and record "
             "by record (`RecordClassifier` on 250 random records of each window, refused at >= 3 more likely the other "
             "space's: what `v2v migrate` and latent `v2v query` check on translators that record means):", "",
             "| corpus | records said to be | mixed with | share of the other | refused: covariance | refused: per record |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['corpus']} | {r['claimed']} | {r['other']} | {r['share']:.0%} | "
              f"{r['refused_covariance_only']} / {r['windows']} | {r['refused']} / {r['windows']} |" for r in rows]
    lines += ["", "Every record classified on its own (log-likelihood under its model's Gaussian minus the other's; below 0: "
              "the wrong space):", "", "| corpus | model | records | in the wrong space | smallest margin (nats) | "
              "median margin |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['corpus']} | {r['model']} | {r['records']:,} | {r['wrong']} | {r['smallest_margin']:,.0f} | "
              f"{r['median_margin']:,.0f} |" for r in records]
    save_results(args.out, args.tag, {**run_meta(), "rows": rows, "records": records}, lines)


if __name__ == "__main__":
    main()
