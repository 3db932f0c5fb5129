"""MiniLM <-> mpnet has two fixed points of the aligner (top-1 ~0.985 and ~0.967). Do label-free
criteria tell them apart? Both basins reached by the production final transport steps, from the oracle
map and from a Wasserstein restart map (found_minilm_mpnet_1.npz, the second basin)."""
from common import *
from v2v_store.train.align import _wasserstein_procrustes
x, y, xe, ye, (ox, oy), yA = setup("minilm", "mpnet")
d = np.load("found_minilm_mpnet_1.npz")
cfg = AlignConfig()

def criteria(wx, wy):
    zx, zy = x @ wx, y @ wy
    _, _, s = mutual_pairs(zx, zy, 10)
    sim = zx[:8000] @ zy[:8000].T
    plan = sinkhorn_plan(sim, 0.02)
    nn = sim.max(1).values.mean().item()
    hits = torch.bincount(sim.argmax(1), minlength=sim.shape[1])
    return dict(mutual_csls=round(s.mean().item(), 4), mutual_frac=round(len(s) / len(x), 3),
                ot_sim=round((plan * sim).sum().item() * 1, 4), nn_cos=round(nn, 4),
                never_nn=round((hits == 0).float().mean().item(), 3), max_hub=int(hits.max()))

if __name__ == "__main__":
    for name, (wx, wy) in [("oracle", (ox, oy)), ("found", (torch.tensor(d["Wx"]), torch.tensor(d["Wy"])))]:
        print(name, "start", ev(xe, ye, wx, wy), criteria(wx, wy), flush=True)
        for seed in (0, 1):
            fx, fy = _wasserstein_procrustes(x, y, wx, wy, cfg.final_wp_iters, cfg.final_wp_batch, cfg.final_wp_eps,
                                             np.random.default_rng(seed), decay=cfg.final_wp_decay)
            print(name, "final seed", seed, ev(xe, ye, fx, fy), ev(ye, xe, fy, fx), criteria(fx, fy), flush=True)
