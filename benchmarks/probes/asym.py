"""Which side's size limits the e5 pairs: fewer source vectors or fewer target vectors?

    python asym.py minilm e5 6902 13805 0     # source: first 6,902 of side A; target: all 13,805 of side B
    python asym.py minilm e5 6902 13805 0 rest   # ... target also side A's other 6,903 texts (model B): 20,708
    python asym.py minilm e5 13805 13805 0 fortunes   # ... target also the kit's 8,192 fortunes (another corpus)

The default pipeline (`fit_translator`, method `align`, seed as given) on the first NS vectors of side A and
the first NT of side B (disjoint texts, no pairs); held-out wiki top-1 / mean rank both ways. Equal sizes are
in the runner's results: 6,902 per side 0.820 / 0.819 (`alignment_soup_half_minilm_e5_seed0.md`), 13,805 per
side 0.928 / 0.915 (`alignment_soup_minilm_e5_seed0.md`).
"""
import sys, time
import numpy as np
from common import load, EVAL, SIDE_A, SIDE_B
from v2v_store.fit import fit_translator
from v2v_store.metrics import paired_metrics

a, b, ns, nt, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
extra = sys.argv[6:]  # "rest": side A's texts the source does not use (disjoint from it); "fortunes": another corpus
A, B = load("wiki", a), load("wiki", b)
target = np.concatenate([B[SIDE_B][:nt]] + ([B[SIDE_A][ns:]] if "rest" in extra else []) +
                        ([load("fortunes", b)] if "fortunes" in extra else []))
nt = len(target)
t0 = time.perf_counter()
tr, report = fit_translator(A[SIDE_A][:ns], target, (a, b), method="align", seed=seed, progress=False)
secs = time.perf_counter() - t0
f = paired_metrics(tr.translate(A[EVAL], a, b), B[EVAL])
g = paired_metrics(tr.translate(B[EVAL], b, a), A[EVAL])
print(f"{a}->{b} source {ns} target {nt} seed {seed}: {secs:.0f} s, trusted={report.trusted}; "
      f"top-1 {f.top1:.3f} / {g.top1:.3f}, rank {f.mean_rank:.2f} / {g.mean_rank:.2f}", flush=True)
