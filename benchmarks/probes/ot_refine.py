"""Non-adversarial refinement: can a residual network learn the non-linear part of a map from *unpaired*
vectors by matching distributions with a Sinkhorn divergence (debiased entropic OT, gradients through the
detached plans) plus cycle consistency, where the GAN only drifted down (gan_nonlin.py)? PCA views (K=8, gain 2,
16 / 24 dims: linear ceiling 0.76 / 0.82, MLP on true pairs 0.92). Start: oracle (Procrustes on side A's true
pairs) or align (the unsupervised aligner). Usage: python ot_refine.py START STEPS [EPS W_CYCLE LR BATCH]"""
import sys, os, time
sys.path.insert(0, os.path.dirname(__file__) + "/..")
import torch, torch.nn.functional as F
torch.set_num_threads(2)
from v2v_store.fit import fit_translator
from v2v_store.metrics import paired_metrics
from v2v_store.synthetic import nonlinear_views, principal_components
from v2v_store.train.linear import fit_procrustes, linear_encode, linear_decode
from v2v_store.train.transport import sinkhorn_plan
from kit import load
start_kind, steps = sys.argv[1], int(sys.argv[2])
eps, w_cyc, lr, batch = (float(sys.argv[3]) if len(sys.argv) > 3 else 0.05, float(sys.argv[4]) if len(sys.argv) > 4 else 1.0,
                         float(sys.argv[5]) if len(sys.argv) > 5 else 1e-3, int(sys.argv[6]) if len(sys.argv) > 6 else 1024)
K, G, D1, D2 = int(os.environ.get("K", 8)), float(os.environ.get("G", 2)), int(os.environ.get("D1", 16)), int(os.environ.get("D2", 24))
side = int(os.environ.get("SIDE", 10000))
lat = principal_components(load("wiki", "minilm")[:2 * side + 1000], K)
a, b = nonlinear_views(lat, D1, D2, gain=G)
X, Y = torch.tensor(a[:side]), torch.tensor(b[side:2 * side])
held = (torch.tensor(a[2 * side:]), torch.tensor(b[2 * side:]))
if start_kind == "oracle":
    m = fit_procrustes((a[:side], b[:side]))
    ms, ps, mt, pt = (torch.as_tensor(v) for v in (m.source_mean, m.source_proj, m.target_mean, m.target_proj))
    ds, dt = ps.T, pt.T
else:  # the aligner's map is half-whitened since session 13: decode with its own matrices
    start, _ = fit_translator(a[:side], b[side:2 * side], ("x", "y"), method="align", progress=False)
    (ms, ps, ds), (mt, pt, dt) = (start.linear_space(sp) for sp in start.spaces)
lin_xy = lambda x: linear_decode(linear_encode(x, ms, ps), mt, dt)
lin_yx = lambda y: linear_decode(linear_encode(y, mt, pt), ms, ds)

class Res(torch.nn.Module):
    def __init__(self, d_in, d_out, base):
        super().__init__(); self.base = base
        self.net = torch.nn.Sequential(torch.nn.Linear(d_in, 256), torch.nn.SiLU(), torch.nn.Linear(256, 256),
                                       torch.nn.SiLU(), torch.nn.Linear(256, d_out))
        torch.nn.init.zeros_(self.net[-1].weight); torch.nn.init.zeros_(self.net[-1].bias)
    def forward(self, x):
        return F.normalize(self.base(x) + self.net(x), dim=-1)
torch.manual_seed(0)
fxy, fyx = Res(D1, D2, lin_xy), Res(D2, D1, lin_yx)
opt = torch.optim.Adam(list(fxy.parameters()) + list(fyx.parameters()), lr)

def ot_term(p, q):
    sim = p @ q.T
    with torch.no_grad():
        plan = sinkhorn_plan(sim.detach(), eps)  # eps in cosine units, as in the aligner
    return (plan * (2 - 2 * sim)).sum()
def sinkhorn_div(p, q):
    return ot_term(p, q) - 0.5 * ot_term(p, p) - 0.5 * ot_term(q, q)
def show(tag):
    with torch.no_grad():
        f = paired_metrics(fxy(held[0]).numpy(), held[1].numpy()); g = paired_metrics(fyx(held[1]).numpy(), held[0].numpy())
    print(tag, round(f.top1, 3), round(g.top1, 3), round(f.mean_rank, 2), round(g.mean_rank, 2), round(f.mean_cos, 3), flush=True)
show("start"); t0 = time.time()
gen = torch.Generator().manual_seed(0)
for s in range(1, steps + 1):
    bx, by = X[torch.randint(side, (batch,), generator=gen)], Y[torch.randint(side, (batch,), generator=gen)]
    tx, ty = fxy(bx), fyx(by)
    loss = sinkhorn_div(tx, by) + sinkhorn_div(ty, bx)
    loss = loss + w_cyc * ((1 - F.cosine_similarity(fyx(tx), bx)).mean() + (1 - F.cosine_similarity(fxy(ty), by)).mean())
    opt.zero_grad(); loss.backward(); opt.step()
    if s % max(1, steps // 10) == 0: show(f"{s} ({time.time() - t0:.0f}s) loss {loss.item():.4f}")
