import sys, time, logging, json
from dataclasses import replace
import numpy as np, torch
torch.set_num_threads(2)
logging.basicConfig(level=logging.WARNING)
from v2v_store.train.trainer import GanTrainer, preset
from v2v_store.metrics import paired_metrics
from common import pca_views
k, n, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
over = dict(kv.split("=") for kv in sys.argv[4:])
train, held = pca_views(k, n)
mc, tc = preset("tiny", steps=steps)
mc = replace(mc, **{kk: (float(v) if "." in v else int(v)) for kk, v in over.items() if not kk.startswith("lr")})
tc = replace(tc, eval_every=500, **{kk: float(v) for kk, v in over.items() if kk.startswith("lr")})
t0 = time.time()
g = GanTrainer(mc, tc, *train, names=("x", "y"), eval_pairs=held)
g.train(progress=False)
for ev in g.history:
    print(ev.step, round(ev.csls, 4), round(ev.cycle_cos, 3), {d: round(m["top1"], 3) for d, m in ev.paired.items()}, {d: round(m["mean_cos"], 3) for d, m in ev.paired.items()})
print(round(time.time() - t0))
