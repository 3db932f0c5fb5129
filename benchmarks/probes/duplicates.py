"""Collections with repeated vectors: does the fit count copies as data? (session 51)

    R=8 python benchmarks/probes/duplicates.py 500x4 1000x2 6000x2 6000x10@0.05

Each argument NxC[@F]: the first N vectors of each kit wiki side (MiniLM -> e5, disjoint texts), each (or with @F the
first share F of them, as boilerplate repeats) stored C times (the copies shuffled in), then ``v2v_store.fit.fit_translator`` with R restarts (one finalist); prints the verdict, each
restart's (label-free score, mutual-NN fraction), held-out top-1 among 1,000 and the reason. A collection of N x C
records that holds N distinct vectors has no more information than N. ``KEEP_COPIES=1`` fits on the copies as given
(``fit_translator`` before session 51 counted them); ``SEED`` the fit's seed (0);
``FINAL_BATCH`` the finalists' transport batch per side. Run from the repository root."""
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import load, splits  # noqa: E402

import v2v_store.fit  # noqa: E402
from v2v_store.fit import fit_translator  # noqa: E402

if os.environ.get("KEEP_COPIES") == "1":
    v2v_store.fit._distinct_sides = lambda source, target, names: (source, target, {})

held, sa, sb = splits("wiki", "minilm")
A, B = load("wiki", "minilm"), load("wiki", "e5")
ea, eb = A[held][:1000], B[held][:1000]
overrides = {"restarts": int(os.environ.get("R", 8)), "more_restarts": 0, "final_candidates": 1}
if os.environ.get("FINAL_BATCH"):  # the finalists' transport batch (default 8,000 per side, or the whole side)
    overrides["final_wp_batch"] = int(os.environ["FINAL_BATCH"])
rng = np.random.default_rng(0)

def stored(vectors: np.ndarray, copies: int, share: float) -> np.ndarray:
    """``vectors`` with the first ``share`` of them stored ``copies`` times (all of them with share 1), shuffled."""
    counts = np.ones(len(vectors), int)
    counts[:int(round(share * len(vectors)))] = copies
    out = np.repeat(vectors, counts, axis=0)
    return out[rng.permutation(len(out))]


for arg in sys.argv[1:]:
    size, _, share = arg.partition("@")
    n, copies = map(int, size.split("x"))
    src, tgt = stored(A[sa][:n], copies, float(share or 1)), stored(B[sb][:n], copies, float(share or 1))
    _, report = fit_translator(src, tgt, ("minilm", "e5"), align_overrides=overrides, eval_pairs=(ea, eb),
                               seed=int(os.environ.get("SEED", 0)))
    restarts = report.details.get("restarts", [])
    print(arg, "trusted" if report.trusted else "untrusted",
          [(round(r["score"], 3), round(r["mutual_fraction"], 3)) for r in restarts],
          round(report.paired["minilm->e5"]["top1"], 3), report.reason, flush=True)
