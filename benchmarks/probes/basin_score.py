"""Is the two basins' gap in the label-free score (mutual CSLS) visible on the aligner's 6,000-vector
scoring sample, as on all 13,805? Final maps of both basins (see basins.py), three random samples."""
from basins import *  # noqa: F401,F403
from basins import _wasserstein_procrustes, d
maps = {}
for name, (wx, wy) in [("good (from oracle)", (ox, oy)), ("second (from found)", (torch.tensor(d["Wx"]), torch.tensor(d["Wy"])))]:
    maps[name] = _wasserstein_procrustes(x, y, wx, wy, cfg.final_wp_iters, cfg.final_wp_batch, cfg.final_wp_eps,
                                         np.random.default_rng(0), decay=cfg.final_wp_decay)
for s in range(3):
    g = np.random.default_rng(100 + s)
    xr, yr = x[torch.as_tensor(g.choice(len(x), 6000, replace=False))], y[torch.as_tensor(g.choice(len(y), 6000, replace=False))]
    out = []
    for name, (wx, wy) in maps.items():
        _, _, sc = mutual_pairs(xr @ wx, yr @ wy, 10)
        out.append(f"{name}: {sc.mean().item():.4f} ({len(sc) / 6000:.3f} mutual)")
    print("sample", s, " | ".join(out), flush=True)
