"""Does fitting on the collection being migrated help its migration? (session 43)

    python transductive.py minilm e5 0 source   # source side: side A + the held-out rows (model a); target: side B
    python transductive.py minilm e5 0 target   # source side: side A; target: side B + the held-out rows (model b)
    python transductive.py mpnet e5 1 source DIR   # ... and save the translator in DIR

A user migrating a collection fits on that collection (``v2v fit`` samples it), so the vectors it translates are
among the fit's unpaired source vectors. In issue 4's protocol they are not: the fit sees the disjoint halves only
and translates 8,192 held-out rows. Here the held-out rows of one model join that model's side (still unpaired: their
partners in the other model stay out), and the held-out rows are translated *from* that side, the direction a user
migrating them would run. ``source``: a -> b is the migration direction; ``target``: b -> a is. The other direction is
printed too but is not a migration of a collection the fit saw (its candidates were in the fit). Compare with the
seed's protocol fit (README's issue-4 table, ``translation_metrics``: queries decoded as queries).
"""
import sys, time
import numpy as np
from common import load, EVAL, SIDE_A, SIDE_B
from v2v_store.fit import fit_translator
from v2v_store.metrics import translation_metrics

a, b, seed, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
save = sys.argv[5] if len(sys.argv) > 5 else None
A, B = load("wiki", a), load("wiki", b)
source = np.concatenate([A[SIDE_A], A[EVAL]]) if mode == "source" else A[SIDE_A]
target = np.concatenate([B[SIDE_B], B[EVAL]]) if mode == "target" else B[SIDE_B]
t0 = time.perf_counter()
tr, report = fit_translator(source, target, (a, b), method="align", seed=seed, progress=False)
secs = time.perf_counter() - t0
if save:
    tr.save(save)
f = translation_metrics(tr, A[EVAL], B[EVAL], a, b)
g = translation_metrics(tr, B[EVAL], A[EVAL], b, a)
migrated = f"{a}->{b}" if mode == "source" else f"{b}->{a}"
print(f"{a}<->{b} seed {seed} held-out rows on the {mode} side ({len(source)} / {len(target)} vectors): {secs:.0f} s, "
      f"trusted={report.trusted}; top-1 {a}->{b} {f.top1:.4f} (rank {f.mean_rank:.2f}), {b}->{a} {g.top1:.4f} "
      f"(rank {g.mean_rank:.2f}); the migration direction: {migrated}", flush=True)
