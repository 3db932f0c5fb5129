"""Anchor pairs (bundled Wikipedia sentences embedded by both models) as few-shot pairs of the unsupervised aligner.

    python anchors_align.py foldoc minilm e5 5000 0      # corpus, models, anchors, seed

``--method anchors`` fits Procrustes on the anchors alone (centred on the collections): a map between the two models
learned on another corpus. Here the aligner (``method="align"``) gets the same pairs as few-shot pairs, so its
transport steps also see the collection's own unpaired vectors: does that adapt the map to the collection's corpus
(up), or pull it towards the sample's own optimum (down)? Collections: the corpus's two unpaired training sides (first
13,805 each), as in ``../anchors.py``, except fortunes: its disjoint kit sides (3,072 each, 2,048 held out, so
top-1 among 2,048); held-out pairs: its held-out rows. Prints both maps' top-1 / mean rank. ``KIT_ANCHORS=1``: the
anchors from the kit's wiki training rows as in ``../anchors.py`` (for wiki itself: the bundled sentences include some of
the kit's held-out ones).
"""
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np  # noqa: E402
from anchors import collections  # noqa: E402
from kit import SPLITS, load  # noqa: E402

from v2v_store.anchors import anchor_pairs  # noqa: E402
from v2v_store.fit import fit_translator  # noqa: E402
from v2v_store.metrics import paired_metrics  # noqa: E402

corpus, a, b, n, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
if corpus == "fortunes":
    held, side_a, side_b = SPLITS["fortunes"]
    xa, yb = load(corpus, a), load(corpus, b)
    x, y, ex, ey = xa[side_a], yb[side_b], xa[held], yb[held]
else:
    x, y, ex, ey = collections(corpus, a, b)
if os.environ.get("KIT_ANCHORS"):
    _, side_a, side_b = SPLITS["wiki"]
    pool = np.random.default_rng(seed).permutation(np.r_[np.arange(35802)[side_a], np.arange(35802)[side_b]])[:n]
    pairs = load("wiki", a)[pool], load("wiki", b)[pool]
else:
    pairs = anchor_pairs(a, b, n)
for method in ("anchors", "align"):
    t0 = time.perf_counter()
    tr, report = fit_translator(x, y, (a, b), method=method, pairs=pairs, seed=seed, progress=False)
    fwd, back = paired_metrics(tr.translate(ex, a, b), ey), paired_metrics(tr.translate(ey, b, a), ex)
    print(f"{corpus} {a}<->{b}, {n} anchors, {method}: {fwd.top1:.3f} / {back.top1:.3f} top-1, rank {fwd.mean_rank:.2f} / "
          f"{back.mean_rank:.2f}, trusted {report.trusted}, {time.perf_counter() - t0:.0f} s", flush=True)
