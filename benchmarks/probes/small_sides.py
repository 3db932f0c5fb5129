"""Small collections: does the unsupervised fit trust maps it cannot have found? (session 34)

    R=8 python small_sides.py 500 1000 1500 2000 3000

The first N vectors of each kit wiki side (MiniLM -> e5, disjoint texts), ``v2v_store.fit.fit_translator`` with R
restarts (no extra restarts, one finalist); prints per N the verdict, each restart's (label-free score, mutual-NN
fraction), held-out top-1 among 1,000 and the reason. Run from the repository root: ``python
benchmarks/probes/small_sides.py ...``. ``MIN_PER_DIM=0`` turns the floor of vectors per dimension off (the
behaviour before session 34)."""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import load, splits  # noqa: E402

from v2v_store.fit import fit_translator  # noqa: E402

held, sa, sb = splits("wiki", "minilm")
A, B = load("wiki", "minilm"), load("wiki", "e5")
ea, eb = A[held][:1000], B[held][:1000]
overrides = {"restarts": int(os.environ.get("R", 8)), "more_restarts": 0, "final_candidates": 1,
             "min_per_dim": float(os.environ.get("MIN_PER_DIM", 5))}
for n in map(int, sys.argv[1:]):
    _, report = fit_translator(A[sa][:n], B[sb][:n], ("minilm", "e5"), align_overrides=overrides, eval_pairs=(ea, eb))
    restarts = report.details["restarts"]
    print(n, "trusted" if report.trusted else "untrusted",
          [(round(r["score"], 3), round(r["mutual_fraction"], 3)) for r in restarts],
          round(report.paired["minilm->e5"]["top1"], 3), report.reason, flush=True)
