"""Does a larger target side lift the e5 pairs at the full source size? The kit has no wiki rows to spare, so half of
the held-out rows pay for it: the target model's vectors of held-out rows 4,096..8,191 join the target side
(unpaired: the source never sees those texts), and both maps are evaluated on rows 0..4,095 only (top-1 among 4,096).

    python target_growth.py minilm e5 0 0        # baseline: 13,805 per side
    python target_growth.py minilm e5 0 4096     # target side 13,805 + 4,096 = 17,901
"""
import sys, time
import numpy as np
from common import load, SIDE_A, SIDE_B
from v2v_store.fit import fit_translator
from v2v_store.metrics import paired_metrics

a, b, seed, extra = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
A, B = load("wiki", a), load("wiki", b)
evaluate, spare = slice(0, 4096), slice(4096, 4096 + extra)
target = np.concatenate([B[SIDE_B], B[spare]])
t0 = time.perf_counter()
tr, report = fit_translator(A[SIDE_A], target, (a, b), method="align", seed=seed, progress=False)
secs = time.perf_counter() - t0
f = paired_metrics(tr.translate(A[evaluate], a, b), B[evaluate])
g = paired_metrics(tr.translate(B[evaluate], b, a), A[evaluate])
print(f"{a}->{b} source {len(A[SIDE_A])} target {len(target)} seed {seed}: {secs:.0f} s, trusted={report.trusted}; "
      f"top-1 among 4,096 {f.top1:.3f} / {g.top1:.3f}, rank {f.mean_rank:.2f} / {g.mean_rank:.2f}", flush=True)
