import sys, time, logging
sys.path.insert(0, __import__("os").path.dirname(__file__) + "/..")
import numpy as np, torch
torch.set_num_threads(2)
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
from v2v_store.fit import fit_translator
from v2v_store.metrics import paired_metrics
from v2v_store.synthetic import nonlinear_views
from kit import load
lat = load("wiki", "minilm")[:7000]
a, b = nonlinear_views(lat)
train = (a[:3000], b[3000:6000]); held = (a[6000:], b[6000:])
preset, steps = sys.argv[1], int(sys.argv[2])
t0 = time.time()
tr, rep = fit_translator(*train, ("x", "y"), method="gan", preset=preset, steps=steps, progress=False,
                         eval_pairs=held)
print("fwd", paired_metrics(tr.translate(held[0], "x", "y"), held[1]), "bwd", paired_metrics(tr.translate(held[1], "y", "x"), held[0]), time.time() - t0)
