"""Can the vec2vec GAN learn from scratch when the correspondence is identifiable from the distributions
and data is plentiful? Latent: a mixture of C anisotropic Gaussians in K dims (random covariances, unequal
weights: no rotation or reflection preserves it); views unit(tanh(G z A1)) (D1 dims) and unit(tanh(G z A2 + b))
(D2 dims). Side A and side B are fresh, independent draws (no pairs); 1,000 paired held-out points.
Usage: python gan_mix.py PRESET STEPS [k=v ...]  (env: K C G D1 D2 N SEED DATA_SEED SPHERE MLP START=align|oracle)"""
import sys, os, time, logging
sys.path.insert(0, os.path.dirname(__file__) + "/..")
import numpy as np, torch
torch.set_num_threads(2)
logging.basicConfig(level=logging.WARNING)
import v2v_store.train.trainer as T
from dataclasses import replace, fields
from v2v_store.fit import FitReport, _fit_gan, fit_translator
from v2v_store.metrics import paired_metrics
from v2v_store.synthetic import nonlinear_views
from v2v_store.translator import Space, Translator
from v2v_store.train.linear import fit_procrustes
env = lambda k, d: type(d)(os.environ.get(k, d))
K, C, G, D1, D2, N = env("K", 8), env("C", 10), env("G", 1.0), env("D1", 16), env("D2", 24), env("N", 20000)
seed, data_seed = env("SEED", 0), env("DATA_SEED", 1234)

def mixture(n, rng, maps):
    centres = maps.standard_normal((C, K)) * 1.2
    shapes = maps.standard_normal((C, K, K)) * maps.uniform(0.1, 0.6, (C, 1, K))  # anisotropic per cluster
    w = maps.uniform(0.5, 1.5, C); w /= w.sum()
    c = rng.choice(C, size=n, p=w)
    return centres[c] + np.einsum("nk,nkj->nj", rng.standard_normal((n, K)), shapes[c])

def views(z, maps):
    a1 = maps.standard_normal((K, D1)) / np.sqrt(K); a2 = maps.standard_normal((K, D2)) / np.sqrt(K)
    b2 = 0.3 * maps.standard_normal(D2)
    u = lambda v: (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
    return u(np.tanh(G * z @ a1)), u(np.tanh(G * z @ a2 + b2))

def draw(n, s):
    maps = np.random.default_rng(data_seed)
    z = mixture(n, np.random.default_rng(s), maps)
    if env("SPHERE", 0):  # latent points on the unit sphere (as embeddings are): the views are then invertible
        return nonlinear_views(z, D1, D2, gain=G, map_seed=data_seed)
    return views(z, maps)

def override_preset(name, args):
    """Apply ``k=v`` overrides (Vec2VecConfig or TrainConfig fields) to the trainer preset ``name`` in place."""
    over = dict(kv.split("=") for kv in args)
    mc, tc = T.PRESETS[name]
    cast = lambda cur, v: v in ("1", "true", "True") if isinstance(cur, bool) else type(cur)(v)
    pick = lambda cfg: {k: cast(getattr(cfg, k), v) for k, v in over.items() if k in {f.name for f in fields(cfg)}}
    T.PRESETS[name] = (replace(mc, **pick(mc)), replace(tc, **pick(tc)))

def mlp_ceiling(pa, pb, held, steps=3000):
    """Held-out metrics of a small MLP fitted on true pairs (pa, pb): a non-linear ceiling."""
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(pa.shape[1], 256), torch.nn.SiLU(), torch.nn.Linear(256, 256),
                              torch.nn.SiLU(), torch.nn.Linear(256, pb.shape[1]))
    opt = torch.optim.Adam(mlp.parameters(), 1e-3)
    X, Y = torch.tensor(pa), torch.tensor(pb)
    for _ in range(steps):
        i = torch.randint(len(X), (256,))
        loss = 1 - torch.nn.functional.cosine_similarity(mlp(X[i]), Y[i]).mean()
        opt.zero_grad(); loss.backward(); opt.step()
    with torch.no_grad():
        return paired_metrics(torch.nn.functional.normalize(mlp(torch.tensor(held[0])), dim=-1).numpy(), held[1])

if __name__ == "__main__":
    preset_name, steps = sys.argv[1], int(sys.argv[2])
    override_preset(preset_name, sys.argv[3:])
    a, _ = draw(N, 1); _, b = draw(N, 2); held = draw(1000, 3); pa, pb = draw(N, 4)
    sp = (Space("x", D1), Space("y", D2))
    def show(tag, tr):
        f = paired_metrics(tr.translate(held[0], "x", "y"), held[1]); g = paired_metrics(tr.translate(held[1], "y", "x"), held[0])
        print(tag, round(f.top1, 3), round(g.top1, 3), round(f.mean_rank, 2), round(g.mean_rank, 2), flush=True)
    show("linear ceiling (procrustes on true pairs)", Translator.from_linear_map(fit_procrustes((pa, pb)), *sp))
    if env("MLP", 0):
        m = mlp_ceiling(pa, pb, held); print("mlp ceiling (supervised)", round(m.top1, 3), round(m.mean_rank, 2), flush=True)
    if steps:
        t0 = time.time()
        start, rep0 = None, None
        if os.environ.get("START") == "align":  # align+gan: the network warm-started at the unsupervised linear map
            start, rep0 = fit_translator(a, b, ("x", "y"), method="align", seed=seed)
            show(f"align start ({rep0.reason})", start)
        elif os.environ.get("START") == "oracle":
            start, rep0 = Translator.from_linear_map(fit_procrustes((pa, pb)), *sp), FitReport("align", 0, True, "oracle")
        tr, rep = _fit_gan(a, b, ("x", "y"), seed, None, preset_name, steps, held, start, None, False, rep0)
        show(f"gan best_step={rep.details['best_step']} {time.time()-t0:.0f}s", tr)
        for e in rep.details["history"]:
            print(e["step"], round(e["csls"], 4), round(e["cycle_cos"], 4), round(e["disc_accuracy"], 3),
                  {k: (round(v["top1"], 3), round(v["mean_rank"], 1)) for k, v in e["paired"].items()})
