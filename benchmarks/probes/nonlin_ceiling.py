"""How non-linear are synthetic views? For latents = top-k principal components of kit MiniLM vectors and
views of gain G: held-out top-1 (1,000 candidates) of orthogonal Procrustes and of general least squares on
all true training pairs (the linear ceilings), and of a small MLP fitted on the same pairs (a non-linear
ceiling). Usage: python nonlin_ceiling.py K GAIN [D1 D2]"""
import sys, os
sys.path.insert(0, os.path.dirname(__file__) + "/..")
import numpy as np, torch
torch.set_num_threads(2)
from v2v_store.metrics import paired_metrics
from v2v_store.synthetic import nonlinear_views, principal_components
from v2v_store.translator import Space, Translator
from v2v_store.train.linear import fit_procrustes
from kit import load
from gan_mix import mlp_ceiling
k, gain = int(sys.argv[1]), float(sys.argv[2])
d1, d2 = (int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) > 4 else (2 * k, 3 * k)
side, held_n = int(os.environ.get("SIDE", 10000)), 1000
lat = principal_components(load("wiki", "minilm")[:side + held_n], k)
a, b = nonlinear_views(lat, d1, d2, gain=gain)
tr, he = (a[:side], b[:side]), (a[side:], b[side:])
sp = (Space("x", d1), Space("y", d2))
t = Translator.from_linear_map(fit_procrustes(tr), *sp)
print("procrustes", round(paired_metrics(t.translate(he[0], "x", "y"), he[1]).top1, 3), round(paired_metrics(t.translate(he[1], "y", "x"), he[0]).top1, 3))
x1 = np.c_[tr[0], np.ones(side)]; w = np.linalg.lstsq(x1, tr[1], rcond=None)[0]
pred = np.c_[he[0], np.ones(held_n)] @ w; pred /= np.linalg.norm(pred, axis=1, keepdims=True)
print("lstsq", round(paired_metrics(pred, he[1]).top1, 3))
print("mlp", round(mlp_ceiling(*tr, he).top1, 3))
