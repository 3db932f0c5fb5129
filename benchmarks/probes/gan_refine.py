"""Does the GAN learn, given a start? Nonlinear views of MiniLM sentences (gain G), a deliberately weak
linear start (Procrustes on P true pairs), then the vec2vec network refining it (align+gan's warm start)
on disjoint unpaired halves. Prints held-out top-1 of the start, the linear ceiling, and after the GAN."""
import sys, time, logging, os
sys.path.insert(0, os.path.dirname(__file__) + "/..")
import torch
torch.set_num_threads(2)
logging.basicConfig(level=logging.WARNING)
from v2v_store.fit import _fit_gan, FitReport
from v2v_store.metrics import paired_metrics
from v2v_store.synthetic import nonlinear_views
from v2v_store.translator import Space, Translator
from v2v_store.train.linear import fit_procrustes
from kit import load
gain, npairs, preset, steps = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
seed = int(os.environ.get("SEED", 0)); side = int(os.environ.get("SIDE", 3000))
a, b = nonlinear_views(load("wiki", "minilm")[:2 * side + 1000], gain=gain)
train = (a[:side], b[side:2 * side]); held = (a[2 * side:], b[2 * side:])
sp = (Space("x", a.shape[1]), Space("y", b.shape[1]))
def show(tag, tr):
    f = paired_metrics(tr.translate(held[0], "x", "y"), held[1]); g = paired_metrics(tr.translate(held[1], "y", "x"), held[0])
    print(tag, round(f.top1, 3), round(g.top1, 3), round(f.mean_rank, 2), round(g.mean_rank, 2), flush=True)
show("ceiling(procrustes on all side-A pairs)", Translator.from_linear_map(fit_procrustes((a[:side], b[:side])), *sp))
start = Translator.from_linear_map(fit_procrustes((a[:npairs], b[:npairs])), *sp)
show(f"start({npairs} pairs)", start)
t0 = time.time()
tr, rep = _fit_gan(*train, ("x", "y"), seed, None, preset, steps, held, start, None, False, FitReport("align", 0, True, "start"))
show(f"gan best_step={rep.details['best_step']} {time.time()-t0:.0f}s", tr)
for e in rep.details["history"]:
    print(e["step"], round(e["csls"], 4), {k: round(v["top1"], 3) for k, v in e["paired"].items()} if e["paired"] else "")
