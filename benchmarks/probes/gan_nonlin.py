"""Does the vec2vec network learn the non-linear part a linear map cannot? Views (D1 / D2 dims, gain G) of
the top-K principal components of kit MiniLM vectors where the linear ceiling is well below 1 (K=8, G=2,
16 / 24 dims: Procrustes on all true pairs 0.76, an MLP on them 0.92, nonlin_ceiling.py). The network is
warm-started at START (oracle: Procrustes on the true pairs of side A; align: the unsupervised aligner) and
trained adversarially on disjoint unpaired halves. Usage: python gan_nonlin.py START PRESET STEPS [k=v ...]
(k=v: Vec2VecConfig / TrainConfig overrides, e.g. w_adv=2.0)."""
import sys, os, time, logging
sys.path.insert(0, os.path.dirname(__file__) + "/..")
import torch
torch.set_num_threads(2)
logging.basicConfig(level=logging.WARNING)
from v2v_store.fit import _fit_gan, FitReport, fit_translator
from v2v_store.metrics import paired_metrics
from v2v_store.synthetic import nonlinear_views, principal_components
from v2v_store.translator import Space, Translator
from v2v_store.train.linear import fit_procrustes
from kit import load
from gan_mix import override_preset
start_kind, preset_name, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
K, G, D1, D2 = (int(os.environ.get("K", 8)), float(os.environ.get("G", 2)), int(os.environ.get("D1", 16)), int(os.environ.get("D2", 24)))
seed, side, held_n = int(os.environ.get("SEED", 0)), int(os.environ.get("SIDE", 10000)), 1000
override_preset(preset_name, sys.argv[4:])
lat = principal_components(load("wiki", "minilm")[:2 * side + held_n], K)
a, b = nonlinear_views(lat, D1, D2, gain=G)
train, held = (a[:side], b[side:2 * side]), (a[2 * side:], b[2 * side:])
sp = (Space("x", D1), Space("y", D2))
def show(tag, tr):
    f = paired_metrics(tr.translate(held[0], "x", "y"), held[1]); g = paired_metrics(tr.translate(held[1], "y", "x"), held[0])
    print(tag, round(f.top1, 3), round(g.top1, 3), round(f.mean_rank, 2), round(g.mean_rank, 2), flush=True)
if start_kind == "oracle":
    start = Translator.from_linear_map(fit_procrustes((a[:side], b[:side])), *sp)
else:
    start, rep0 = fit_translator(*train, ("x", "y"), method="align", seed=seed)
    print("align:", rep0.reason)
show("start", start)
t0 = time.time()
tr, rep = _fit_gan(*train, ("x", "y"), seed, None, preset_name, steps, held, start, None, False, FitReport("align", 0, True, "start"))
show(f"gan best_step={rep.details['best_step']} {time.time()-t0:.0f}s", tr)
for e in rep.details["history"]:
    print(e["step"], round(e["csls"], 4), round(e["cycle_cos"], 4), {k: round(v["top1"], 3) for k, v in e["paired"].items()} if e["paired"] else "")
