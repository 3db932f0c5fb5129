"""Is `v2v evaluate` on the collection a map was fitted on (its stored documents) the same as on new documents?
(session 42)

    python benchmarks/probes/evaluate_training_docs.py ~/.cache/v2v-store/s42_translators/minilm_e5_seed0 ... \
        > benchmarks/probes/evaluate_training_docs.txt

Issue 4's kit fits (trained on wiki side A in model a, side B in model b): 2,000 documents, each partner ranked among
8,192 (the pairs and 6,192 other documents of its space), with documents and candidates from the held-out split or
from the training sides."""
import logging
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import EVAL, SIDE_A, SIDE_B, load  # noqa: E402

from v2v_store.evaluate import evaluate_translator  # noqa: E402
from v2v_store.translator import Translator  # noqa: E402

logging.disable(logging.WARNING)
N = 2000
held, sa, sb = (np.arange(s.start, s.stop) for s in (EVAL, SIDE_A, SIDE_B))
for name in sys.argv[1:]:
    a, b = Path(name).name.split("_")[:2]
    tr = Translator.load(name)
    A, B = load("wiki", a), load("wiki", b)
    cases = [("held-out documents, held-out candidates", held[:N], held[N:], held[N:]),
             ("training documents (side A), training candidates (side B in b, side A in a)", sa[:N], sb[:6192],
              sa[N:N + 6192]),
             ("training documents (side A), held-out candidates", sa[:N], held[:6192], held[:6192]),
             ("held-out documents, training candidates", held[:N], sb[:6192], sa[:6192])]
    for label, rows, cand_b, cand_a in cases:
        d = evaluate_translator(tr, A[rows], B[rows], a, b, candidates={b: B[cand_b], a: A[cand_a]}).directions
        print(f"{Path(name).name} {label}: {a}->{b} top-1 {d[0].top1:.3f} rank {d[0].mean_rank:.2f} | {b}->{a} top-1 "
              f"{d[1].top1:.3f} rank {d[1].mean_rank:.2f} (among {d[0].ranked_among})", flush=True)
