"""Can each stored document be checked against its own vector? Out-of-fold ranks of document pairs (session 37).

``python document_filter.py CORPUS SOURCE TARGET N F [F ...]``: N random records of CORPUS's side A, their SOURCE
vectors paired with TARGET's embeddings of their texts, a share F of the texts permuted among the records (stale or
wrong documents); each pair's partner ranked among ``group`` out-of-fold pairs under Procrustes fitted on the other
nine folds (as :func:`v2v_store.metrics.pairs_relatedness`), both ways. Prints, for true and for permuted pairs, the
share whose better rank is within R, for a few R; then one round of refitting on the kept pairs, and the product's
rule (``anchors.matched_documents``). The shares F draw their permutations in turn from one generator, so a row
depends on the shares listed before it (the README's rows: ``... 1000 0 0.3 0.5 0.7 0.9 1.0``)."""

import sys

import numpy as np

sys.path.insert(0, "..")
from kit import load, splits, texts  # noqa: E402

from v2v_store.anchors import matched_documents  # noqa: E402
from v2v_store.metrics import out_of_fold_ranks, pairs_relatedness  # noqa: E402


def main():
    corpus, a, b, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    shares = [float(s) for s in sys.argv[5:]]
    side_a = splits(corpus, b)[1]
    rng = np.random.default_rng(0)
    rows = rng.choice(side_a.stop - side_a.start, n, replace=False)
    xb = load(corpus, b)[side_a][rows]
    if a.startswith("py:") or "/" in a:  # a model of the user's: embed the texts here (cached)
        from v2v_store.texts import embed_cached

        xa = embed_cached(a, [texts(corpus)[side_a][i] for i in rows])
    else:
        xa = load(corpus, a)[side_a][rows]
    rows = np.arange(n)
    for share in shares:
        partner = rows.copy()
        wrong = rng.choice(n, int(share * n), replace=False)
        partner[wrong] = rows[rng.permutation(wrong)]
        true = partner == rows
        pairs = (xa[rows], xb[partner])
        keep = None
        for rnd in range(2):
            fwd, back, _ = out_of_fold_ranks(pairs, fit_on=keep)
            best = np.minimum(fwd, back)
            line = [f"F={share:g} round {rnd}: top-1 {np.mean(np.r_[fwd, back] == 1):.3f};"]
            for r in (1, 3, 10, 25):
                line.append(f"R={r}: true {np.mean(best[true] <= r):.3f} wrong {np.mean(best[~true] <= r) if (~true).any() else float('nan'):.3f}")
            print(" ".join(line), flush=True)
            keep = best <= 10
        found = matched_documents(pairs)  # the product's rule
        kept = (pairs[0][found], pairs[1][found])
        print(f"  matched_documents: kept {found.sum()} of {n}: {np.sum(found & true)} of {true.sum()} true, "
              f"{np.sum(found & ~true)} of {(~true).sum()} permuted; relatedness all {pairs_relatedness(pairs):.3f}, "
              f"kept (afresh) {pairs_relatedness(kept, seed=1):.3f}", flush=True)

if __name__ == "__main__":
    main()
