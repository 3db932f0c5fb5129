import sys, time, logging, json
from dataclasses import replace
import numpy as np, torch
torch.set_num_threads(2)
logging.basicConfig(level=logging.WARNING)
from v2v_store.train.trainer import GanTrainer, preset
from v2v_store.metrics import paired_metrics
from v2v_store.synthetic import nonlinear_views
k, n, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
over = dict(kv.split("=") for kv in sys.argv[4:])
sys.path.insert(0, __import__("os").path.dirname(__file__) + "/..")
from kit import load
e = load("wiki", "minilm")[:2 * n + 1000]
e = e - e.mean(0)
_, _, vt = np.linalg.svd(e[:5000], full_matrices=False)
lat = e @ vt[:k].T
a, b = nonlinear_views(lat, d1=2 * k, d2=3 * k)
train = (a[:n], b[n:2 * n]); held = (a[2 * n:], b[2 * n:])
mc, tc = preset("tiny", steps=steps)
mc = replace(mc, **{kk: (float(v) if "." in v else int(v)) for kk, v in over.items() if not kk.startswith("lr")})
tc = replace(tc, eval_every=500, **{kk: float(v) for kk, v in over.items() if kk.startswith("lr")})
t0 = time.time()
g = GanTrainer(mc, tc, *train, names=("x", "y"), eval_pairs=held)
g.train(progress=False)
for ev in g.history:
    print(ev.step, round(ev.csls, 4), round(ev.cycle_cos, 3), {d: round(m["top1"], 3) for d, m in ev.paired.items()}, {d: round(m["mean_cos"], 3) for d, m in ev.paired.items()})
print(round(time.time() - t0))
