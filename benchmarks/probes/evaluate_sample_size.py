"""How `v2v evaluate`'s numbers on a sample of n documents relate to those on 8,192 (session 42).

    python benchmarks/probes/evaluate_sample_size.py ~/.cache/v2v-store/s42_translators/minilm_e5_seed0 \
        ~/.cache/v2v-store/s42_translators/minilm_mpnet_seed0 > benchmarks/probes/evaluate_sample_size.txt

Five random samples of n of the kit's 8,192 held-out wiki sentences per size; mean (min-max) of each measure."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import EVAL, load  # noqa: E402

from v2v_store.evaluate import evaluate_translator  # noqa: E402
from v2v_store.translator import Translator  # noqa: E402

for path in sys.argv[1:]:
    a, b = Path(path).name.split("_")[:2]
    tr = Translator.load(path)
    u, v = load("wiki", a)[EVAL], load("wiki", b)[EVAL]
    for n in (100, 300, 1000, 3000, 8192):
        draws = 1 if n == len(u) else 5
        runs = []
        for seed in range(draws):
            rows = np.sort(np.random.default_rng(seed).choice(len(u), n, replace=False))
            r = evaluate_translator(tr, u[rows], v[rows], a, b)
            d = r.directions
            runs.append([d[0].top1, d[1].top1, d[0].migrated_overlap, d[1].migrated_overlap, r.models_overlap])
        runs = np.array(runs)
        cells = " ".join(f"{m:.3f} ({lo:.3f}-{hi:.3f})" for m, lo, hi in zip(runs.mean(0), runs.min(0), runs.max(0)))
        print(f"{Path(path).name} n={n}: top-1 {a}->{b}, {b}->{a}, migrated overlap {a}->{b}, {b}->{a}, models: {cells}",
              flush=True)
