"""GAN from scratch on the synthetic PCA views with a chosen block style / dropout (model config overrides).

    [SEED=S] python gan_block.py K N STEPS PRESET [FIELD=VALUE ...]     e.g. python gan_block.py 8 10000 3000 tiny block_style=code
"""
import sys, time, logging, dataclasses
import numpy as np, torch
torch.set_num_threads(2)
logging.basicConfig(level=logging.WARNING)
from v2v_store.metrics import paired_metrics
from v2v_store.train.trainer import GanTrainer, preset
from common import pca_views
k, n, steps, name = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
over = dict(a.split("=") for a in sys.argv[5:])
train, held = pca_views(k, n)
import os
mc, tc = preset(name, steps=steps, seed=int(os.environ.get("SEED", 0)), device="cpu")
types = {f.name: f.type for f in dataclasses.fields(mc)}
mc = dataclasses.replace(mc, **{f: (float(v) if types[f] == "float" else int(v) if types[f] == "int" else v) for f, v in over.items()})
t0 = time.time()
tr = GanTrainer(mc, tc, *train, ("x", "y"), eval_pairs=held)
tr.train(progress=False)
for e in tr.history[::max(1, len(tr.history) // 6)] + tr.history[-1:]:
    print(e.step, "csls %.3f cyc %.3f" % (e.csls, e.cycle_cos), {d: (round(m["mean_cos"], 3), round(m["top1"], 3)) for d, m in e.paired.items()})
print(k, n, steps, name, over, "fwd", paired_metrics(tr.translate(held[0], "x", "y"), held[1]),
      "bwd", paired_metrics(tr.translate(held[1], "y", "x"), held[0]), round(time.time() - t0), flush=True)
