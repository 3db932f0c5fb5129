"""Out of distribution, e5 -> MiniLM queries lose with the session-40 query decode: is it the decode or the mean's
weight? (session 40)

    python benchmarks/probes/query_decode_ood.py ~/.cache/v2v-store/s39_translators/minilm_e5_seed0

One saved issue-4 translator (fitted on the kit's wiki sides), e5 -> MiniLM queries at fixed mean weights, decoded as
records (before session 40) and with the query decode (``calibrate_queries`` on the fit's wiki sides); top-1 among the
8,192 held-out wiki sentences and the first 8,192 fortunes. Output: ``query_decode_ood.txt``.
"""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import load, splits  # noqa: E402

from v2v_store.metrics import paired_metrics  # noqa: E402
from v2v_store.translator import Translator  # noqa: E402

torch.set_num_threads(1)
_, A, B = splits("wiki", "minilm")
tr = Translator.load(sys.argv[1], device="cpu")
fx, fy = load("fortunes", "e5")[:8192], load("fortunes", "minilm")[:8192]
wx, wy = load("wiki", "e5")[:8192], load("wiki", "minilm")[:8192]
def run(label):
    for w in (-0.5, -0.25, 0.0, 0.25):
        tr.query_weights["minilm"] = w
        print(label, w, "wiki %.4f" % paired_metrics(tr.translate(wx, "e5", "minilm", role="queries"), wy).top1,
              "fortunes %.4f" % paired_metrics(tr.translate(fx, "e5", "minilm", role="queries"), fy).top1, flush=True)


run("records-decode")
tr.calibrate_queries(load("wiki", "minilm")[A], load("wiki", "e5")[B])
print("chosen", tr.query_weights)
run("query-decode")
