import sys, time, logging, json
import numpy as np, torch
torch.set_num_threads(2)
logging.basicConfig(level=logging.WARNING)
from v2v_store.fit import fit_translator
from v2v_store.metrics import paired_metrics
from v2v_store.synthetic import nonlinear_views
k, n, steps, preset = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
seed = int(sys.argv[5]) if len(sys.argv) > 5 else 0
sys.path.insert(0, __import__("os").path.dirname(__file__) + "/..")
from kit import load
e = load("wiki", "minilm")[:2 * n + 1000]
e = e - e.mean(0)
_, _, vt = np.linalg.svd(e[:5000], full_matrices=False)
lat = e @ vt[:k].T
a, b = nonlinear_views(lat, d1=2 * k, d2=3 * k)
train = (a[:n], b[n:2 * n]); held = (a[2 * n:], b[2 * n:])
t0 = time.time()
tr, rep = fit_translator(*train, ("x", "y"), method="gan", preset=preset, steps=steps, progress=False, seed=seed)
print(k, n, steps, preset, "fwd", paired_metrics(tr.translate(held[0], "x", "y"), held[1]), "bwd", paired_metrics(tr.translate(held[1], "y", "x"), held[0]), round(time.time() - t0), flush=True)
