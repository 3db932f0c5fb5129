"""Held-out anchors as a check of a paired fit: do anchor pairs kept out of the fit tell how good the map is?

    python pair_check.py debpkg foldoc wiki wiki/debpkg debpkg/wiki debpkg/debpkg+wiki

For each case (MiniLM -> e5; ``a/b``: source collection of corpus a, target collection of corpus b, evaluated on
a's held-out pairs; ``a/b+c``: the target half b, half c) the 5,000 bundled anchors are split by a seeded permutation into 4,500 for the fit and 500 kept
out; ``--method anchors`` (Procrustes) and ``anchors+align`` are fitted on the 4,500, and each is evaluated on the
500 kept-out anchors (candidates: those 500) and on the corpus's held-out pairs (8,192 candidates). Both ways."""
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import load, splits  # noqa: E402

from v2v_store.anchors import anchor_pairs  # noqa: E402
from v2v_store.fit import fit_translator  # noqa: E402
from v2v_store.metrics import paired_metrics  # noqa: E402

logging.basicConfig(level=logging.WARNING)
a, b = "minilm", "e5"
pairs = anchor_pairs(a, b, 5000)
perm = np.random.default_rng(0).permutation(5000)
fit_rows, check_rows = perm[500:], perm[:500]
fit_pairs = (pairs[0][fit_rows], pairs[1][fit_rows])
check = (pairs[0][check_rows], pairs[1][check_rows])


def both(tr, u, v):
    f, g = paired_metrics(tr.translate(u, a, b), v), paired_metrics(tr.translate(v, b, a), u)
    return f"{f.top1:.3f} / {g.top1:.3f} (cos {f.mean_cos:.3f}, rank {f.mean_rank:.2f})"


for case in sys.argv[1:]:
    src_corpus, tgt_corpus = (case.split("/") + [case])[:2]
    held, sa, _ = splits(src_corpus, a)
    xa = load(src_corpus, a)
    parts = tgt_corpus.split("+")  # "c1+c2": half of each corpus's side B
    target = np.concatenate([load(c, b)[splits(c, b)[2]][:13905 // len(parts)] for c in parts])
    source = xa[sa][:13905]
    truth = (xa[held], load(src_corpus, b)[held])
    for method in ("anchors", "anchors+align"):
        t0 = time.time()
        tr, rep = fit_translator(source, target, (a, b), method, seed=0, pairs=fit_pairs, progress=False)
        print(f"{case} {method} ({len(source)} / {len(target)}, {time.time() - t0:.0f} s): kept-out anchors "
              f"{both(tr, *check)}; collection held out {both(tr, *truth)}; trusted {rep.trusted}", flush=True)
