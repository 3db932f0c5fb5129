"""``v2v query --mode latent`` compares a query of the other space with the collection's centred vectors through the
records' decode (``Translator.to_space``). Would the query decode (session 40) rank better there? (session 41)

    python benchmarks/probes/latent_query_decode.py minilm e5 DIR [DIR ...]

For saved issue-4 translators (calibrated as ``v2v fit`` does, on the fit's wiki sides): top-1 / mean rank of each
held-out source vector among the 8,192 held-out target vectors in the target's centred coordinates, the query
decoded as now (records' decode) and with the query decode, on wiki and fortunes. Then the case latent mode is for,
one query searching two collections of different models whose scores are merged: the first half of the held-out
sentences in the target model, the second half in the query's own model; top-1 of the merged ranking (each query's own
sentence, wherever it is). Output: ``latent_query_decode.txt``.
"""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import load, splits  # noqa: E402

from v2v_store.metrics import paired_metrics  # noqa: E402
from v2v_store.train.linear import linear_encode  # noqa: E402
from v2v_store.translator import Translator, _unit  # noqa: E402

torch.set_num_threads(1)
a, b, *paths = sys.argv[1:]
_, A, B = splits("wiki", a)
print("#", " ".join(sys.argv[1:]))
held = {c: {m: load(c, m)[:8192] for m in (a, b)} for c in ("wiki", "fortunes")}
for path in paths:
    tr = Translator.load(path, device="cpu")
    tr.calibrate_queries(load("wiki", a)[A], load("wiki", b)[B])
    for src, dst in ((a, b), (b, a)):
        s, t = tr.space(src), tr.space(dst)
        for corpus, vecs in held.items():
            coll = torch.as_tensor(tr.to_space(vecs[dst], space=dst, into=dst))
            z = linear_encode(torch.as_tensor(vecs[src]), *tr.linear_space(s)[:2])
            cells = []
            for name, dec in (("records", tr.linear_space(t)[2]), ("query", tr.query_decode(t))):
                m = paired_metrics(_unit(z @ dec).numpy(), coll.numpy())
                cells.append(f"{name} {m.top1:.4f} / {m.mean_rank:.2f}")
            print(Path(path).name, f"{src}->{dst}", f"{corpus:8s}", "  ".join(cells), flush=True)
            half = len(coll) // 2
            own = torch.as_tensor(tr.to_space(vecs[src], space=src, into=src))
            cells = []
            for name, dec in (("records", tr.linear_space(t)[2]), ("query", tr.query_decode(t))):
                q = _unit(z @ dec)
                cross = q @ coll[:half].T  # queries against the target-model half, through the latent
                same = own @ own[half:].T  # the same queries, native, against their own model's half
                best = torch.cat([cross, same], 1).argmax(1)
                hit = (best == torch.arange(len(q))).float()
                cells.append(f"{name} merged top-1 {hit.mean():.4f} (cross half {hit[:half].mean():.4f}, "
                             f"same half {hit[half:].mean():.4f})")
            print(Path(path).name, f"{src}->{dst}", f"{corpus:8s}", "  ".join(cells), flush=True)
