import sys, time, logging, json
import numpy as np, torch
torch.set_num_threads(2)
logging.basicConfig(level=logging.WARNING)
from v2v_store.fit import fit_translator
from v2v_store.metrics import paired_metrics
from common import pca_views
k, n, steps, preset = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
seed = int(sys.argv[5]) if len(sys.argv) > 5 else 0
train, held = pca_views(k, n)
t0 = time.time()
tr, rep = fit_translator(*train, ("x", "y"), method="gan", preset=preset, steps=steps, progress=False, seed=seed)
print(k, n, steps, preset, "fwd", paired_metrics(tr.translate(held[0], "x", "y"), held[1]), "bwd", paired_metrics(tr.translate(held[1], "y", "x"), held[0]), round(time.time() - t0), flush=True)
