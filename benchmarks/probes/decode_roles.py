"""Session 39 probe: decodes of a translation, each measured as a query, as a record and in a mixed collection
(oracle Procrustes, kit wiki). Output: decode_roles.txt. w0 / w.5 / old: unit(unit(z W) + w mean), w = 0 / 0.5 / 1;
spread: records now; tangent: the direction projected orthogonal to the mean, at the spread (not adopted)."""
import sys

import numpy as np
sys.path.insert(0, "benchmarks")  # run from the repository root
from kit import DIMS, load, splits
import v2v_store.translator as tm
from v2v_store.metrics import paired_metrics
from v2v_store.train.linear import fit_procrustes, unit, linear_decode
from v2v_store.translator import Space, Translator
from decode_calibration import mixed_retrieval
def tangent(z, mean, decode):
    mhat = mean / mean.norm().clamp_min(1e-12)
    d = z @ decode
    d = d - (d @ mhat)[..., None] * mhat
    s = (1 - mean.pow(2).sum()).clamp_min(1e-6).sqrt()
    return unit(s * unit(d) + mean)
held, side_a, _ = splits("wiki", "minilm")
decs = {"w0": lambda z,m,d: unit(z@d), "w.5": lambda z,m,d: unit(unit(z@d)+0.5*m), "old": lambda z,m,d: unit(unit(z@d)+m),
        "spread": linear_decode, "tangent": tangent}
for a, b in [("minilm","e5"),("e5","minilm"),("minilm","mpnet"),("mpnet","minilm"),("mpnet","e5"),("e5","mpnet")]:
    xa, ya = (np.asarray(load("wiki", m)[side_a], np.float32) for m in (a, b))
    xh, yh = (np.asarray(load("wiki", m)[held], np.float32) for m in (a, b))
    tr = Translator.from_linear_map(fit_procrustes((xa, ya)), Space(a, DIMS[a]), Space(b, DIMS[b]))
    for name, dec in decs.items():
        tm.linear_decode = dec
        t = tr.translate(xh, a, b)
        q = paired_metrics(t, yh); r = paired_metrics(yh, t); mx = mixed_retrieval(t, yh)
        print(f"{a}->{b} {name:8s} query {q.top1:.4f}/{q.mean_rank:.3f}  records {r.top1:.4f}/{r.mean_rank:.3f}  mixed {mx[0]:.3f}/{mx[1]:.1f} cos {q.mean_cos:.3f}", flush=True)
