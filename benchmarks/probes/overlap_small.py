"""overlap_align.py's statistic at a small size: N vectors per side, NA true wiki pairs (other sentences) as the
anchors of anchors+align, source = wiki MiniLM, target = wiki e5 (other sentences) or fortunes e5; plus each map's
top-1 on 2,000 held-out wiki pairs.

    python overlap_small.py 2000 500"""
import sys
import time

from overlap import a, b, both_ways  # noqa: E402
from kit import load  # noqa: E402
from v2v_store.fit import fit_translator  # noqa: E402
from v2v_store.metrics import paired_metrics  # noqa: E402

n, na = int(sys.argv[1]), int(sys.argv[2])
wm, we, fe = load("wiki", a), load("wiki", b), load("fortunes", b)
anchors = (wm[8192:8192 + na], we[8192:8192 + na])
source = wm[14000:14000 + n]
for kind, target in (("wiki", we[21997:21997 + n]), ("fortunes", fe[:n])):
    t0 = time.time()
    tr, rep = fit_translator(source, target, (a, b), "anchors+align", pairs=anchors, progress=False)
    (f_cross, f_self), (g_cross, g_self) = both_ways(tr, source, target)
    f = paired_metrics(tr.translate(wm[:2000], a, b), we[:2000])
    g = paired_metrics(tr.translate(we[:2000], b, a), wm[:2000])
    print(f"{n} per side, {na} anchors, target {kind} ({time.time() - t0:.0f} s, trusted {rep.trusted}): overlap "
          f"{f_cross / f_self:.3f} / {g_cross / g_self:.3f}; wiki held-out top-1 {f.top1:.3f} / {g.top1:.3f}", flush=True)
