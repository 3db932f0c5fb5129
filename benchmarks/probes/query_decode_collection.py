"""Out of distribution the session-40 query decode (records' decode times the *fit's* target covariance^-1/4) lost
e5 -> MiniLM top-1 on fortunes. Does taking the covariance from the *searched collection* instead (unlabelled, known at
query time) recover it, and what does it do in domain? (session 41)

    python benchmarks/probes/query_decode_collection.py ~/.cache/v2v-store/s39_translators/minilm_e5_seed0 minilm e5

For each direction of one saved issue-4 translator: top-1 of queries decoded as records, with the stored query decode
(fit covariance), and with the records' decode times the covariance^-1/4 of the 8,192 searched vectors themselves
(centred by the fit's mean, as the map sees them); the mean's weight as ``calibrate_queries`` chose it, and the best
of the weights (a diagnostic). Output: ``query_decode_collection.txt``.
"""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import load, splits  # noqa: E402

from v2v_store.train.linear import center_unit, power_whitener  # noqa: E402
from v2v_store.metrics import paired_metrics  # noqa: E402
from v2v_store.translator import QUERY_WEIGHTS, Translator  # noqa: E402

torch.set_num_threads(1)
path, a, b = sys.argv[1:4]
tr = Translator.load(path, device="cpu")
_, A, B = splits("wiki", a)
tr.calibrate_queries(load("wiki", a)[A], load("wiki", b)[B])
chosen = dict(tr.query_weights)
print("#", " ".join(sys.argv[1:]), "chosen weights", chosen)
held = {c: {m: load(c, m)[:8192] for m in (a, b)} for c in ("wiki", "fortunes")}
for src, dst in ((a, b), (b, a)):
    space = tr.space(dst)
    i = 0 if space.name == tr.spaces[0].name else 1
    mean, _, decode = tr.linear_space(space)
    stored = tr.tensors[f"query_decode.{i}"]
    for corpus, vecs in held.items():
        coll = torch.as_tensor(vecs[dst])
        decodes = {"records": decode, "fit-cov": stored,
                   "coll-cov": decode @ power_whitener(center_unit(coll, mean), 0.5)[0]}
        for name, dec in decodes.items():
            tr.tensors[f"query_decode.{i}"] = dec
            top1 = {}
            for w in QUERY_WEIGHTS:
                tr.query_weights[dst] = w
                top1[w] = paired_metrics(tr.translate(vecs[src], src, dst, role="queries"), vecs[dst]).top1
            best = max(top1, key=top1.get)
            print(f"{src}->{dst} {corpus:8s} {name:8s} chosen {top1[chosen[dst]]:.4f}  best {top1[best]:.4f} (w {best})",
                  flush=True)
        tr.tensors[f"query_decode.{i}"] = stored
    tr.query_weights[dst] = chosen[dst]
