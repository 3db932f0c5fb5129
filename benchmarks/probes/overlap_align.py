"""overlap.py's statistic under the anchors+align map instead of the anchors' alone (the transport steps see the
collections, so a target of another kind of text may be pulled into overlap).

    python overlap_align.py debpkg/debpkg wiki/debpkg wiki/wiki debpkg/wiki debpkg/debpkg+wiki"""
import sys
import time

import numpy as np

from overlap import a, b, both_ways, pairs, show, side  # noqa: E402  (overlap.py's loop runs only with arguments)
from v2v_store.fit import fit_translator  # noqa: E402

for case in sys.argv[1:]:
    s, t = case.split("/")
    source = side(s, a, "a")
    # "c1+c2": half of each corpus's side B (a target partly of another kind of text)
    parts = t.split("+")
    target = np.concatenate([side(c, b, "b")[:13805 // len(parts)] for c in parts])
    t0 = time.time()
    tr, _ = fit_translator(source, target, (a, b), "anchors+align", pairs=pairs, progress=False)
    show(f"{case:14s} anchors+align ({time.time() - t0:.0f} s)", *both_ways(tr, source, target))
