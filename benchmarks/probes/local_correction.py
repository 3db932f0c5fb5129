"""A per-kind residual correction on top of a fitted map, learnt from the few pairs of each kind a user gives as
`--pair-texts` (session 74, `README.md`, "Odd records in a collection"). Run from this directory with the project
venv, on the kit:

    python local_correction.py TRANSLATOR

TRANSLATOR: `v2v fit` on `odd_records.py`'s src.npy / tgt.npy with `--source-model e5 --target-model minilm
--pair-texts PAIRS` (PAIRS: `two_models.odd_records(50, seed=9)`, one text per line: 700). Each kind's residual
(true MiniLM vector minus the translation of its e5 vector) is fitted by ridge on those 50 pairs, centred on their
mean, and added to records nearest that kind's centroid (or, as the oracle, to every record of the kind); sentences
nearest the anchors' centroid get none. Prints top-1 among each kind's records: the map alone > the oracle
assignment / the nearest centroid, per ridge.
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import two_models  # noqa: E402
from kit import load  # noqa: E402

from v2v_store.metrics import paired_metrics  # noqa: E402
from v2v_store.texts import embed_cached  # noqa: E402
from v2v_store.translator import Translator  # noqa: E402

u = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)
pairs = two_models.odd_records(50, seed=9)
seen = ({t for s in (2, 3) for v in two_models.odd_records(250, seed=s).values() for t in v}
        | {t for v in pairs.values() for t in v})
test = {k: [t for t in dict.fromkeys(v) if t not in seen] for k, v in two_models.odd_records(1000, seed=5).items()}
E = lambda m, d: {k: embed_cached(m, v) for k, v in d.items()}
px, py, tx, ty = E("e5", pairs), E("minilm", pairs), E("e5", test), E("minilm", test)
tr = Translator.load(sys.argv[1])
G = lambda x: tr.translate(x, "e5", "minilm", role="queries")
e5, mi = load("wiki", "e5"), load("wiki", "minilm")
anchors = u(e5[8192:8192 + 2000])
kinds = list(pairs)
cent = {k: u(px[k]).mean(0) for k in kinds}
cent["__sent"] = anchors.mean(0)
def fit_R(k, lam):
    x = u(px[k]) - cent[k]; r = u(py[k]) - G(px[k])
    return np.linalg.solve(x.T @ x + lam * np.eye(x.shape[1]), x.T @ r)
def correct(x, Rs, assign):
    out = G(x).copy()
    if assign == "none": return out
    xs = u(x)
    names = list(cent); C = np.stack([cent[n] for n in names])
    lab = [names[i] for i in (xs @ C.T).argmax(1)]
    for i, l in enumerate(lab):
        k = assign if assign != "nearest" else l
        if k in Rs:
            out[i] += (xs[i] - cent[k]) @ Rs[k]
    return out
for lam in (0.01, 0.03, 0.1, 1.0, 10.0):
    Rs = {k: fit_R(k, lam) for k in kinds}
    row = [f"lam {lam}"]
    w = paired_metrics(correct(e5[:8192], Rs, "nearest"), mi[:8192]).top1
    row.append(f"wiki(nearest) {w:.3f}")
    for k in kinds:
        base = paired_metrics(G(tx[k]), ty[k]).top1
        orac = paired_metrics(correct(tx[k], Rs, k), ty[k]).top1
        near = paired_metrics(correct(tx[k], Rs, "nearest"), ty[k]).top1
        row.append(f"{k} {base:.2f}>{orac:.2f}/{near:.2f}")
    print(" | ".join(row), flush=True)
