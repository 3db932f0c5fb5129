"""overlap.py's statistic under the anchors+align map instead of the anchors' alone (the transport steps see the
collections, so a target of another kind of text may be pulled into overlap).

    python overlap_align.py debpkg/debpkg wiki/debpkg wiki/wiki debpkg/wiki debpkg/debpkg+wiki"""
import sys
import time

import numpy as np

from overlap import a, b, pairs, rng, side, stat  # noqa: E402  (overlap.py's loop runs only with arguments)
from v2v_store.fit import fit_translator  # noqa: E402

for case in sys.argv[1:]:
    s, t = case.split("/")
    source = side(s, a, "a")
    # "c1+c2": half of each corpus's side B (a target partly of another kind of text)
    parts = t.split("+")
    target = np.concatenate([side(c, b, "b")[:13805 // len(parts)] for c in parts])
    t0 = time.time()
    tr, _ = fit_translator(source, target, (a, b), "anchors+align", pairs=pairs, progress=False)
    xs = source[rng.permutation(len(source))[:4000]]
    ys = target[rng.permutation(len(target))[:4000]]
    f_cross, f_self = stat(tr.translate(xs, a, b), target)
    g_cross, g_self = stat(tr.translate(ys, b, a), source)
    print(f"{case:14s} anchors+align ({time.time() - t0:.0f} s) forward {f_cross:.3f} / {f_self:.3f} = "
          f"{f_cross / f_self:.3f}; back {g_cross:.3f} / {g_self:.3f} = {g_cross / g_self:.3f}", flush=True)
