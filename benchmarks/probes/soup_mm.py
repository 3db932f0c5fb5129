"""Is a soup safe across MiniLM <-> mpnet's two solutions? (see ``basins.py``)

    python soup_mm.py

The production half-whitened final steps (20, batch 8,000) from the oracle map (the right solution) and from a
Wasserstein restart map of the second solution (``found_minilm_mpnet_1.npz``), their soup (polar of the mean
whitened cross map), and the soup after 60 more steps; held-out top-1 both ways and the label-free final score."""
from common import *

x, y, xe, ye, (ox, oy), _ = setup("minilm", "mpnet")
final = AL._FinalSteps(x, y, AlignConfig(), np.random.default_rng(0), None)

held_out = lambda w: held_out_whitened(final, xe, ye, w)  # noqa: E731
score = lambda w: final_score(final, w)  # noqa: E731

d = np.load("found_minilm_mpnet_1.npz")
good = final.run((ox, oy), 20)
second = final.run((torch.tensor(d["Wx"]), torch.tensor(d["Wy"])), 20)
for name, w in (("right solution", good), ("second solution", second)):
    print(f"{name} after 20 steps: {held_out(w)}, score {score(w)}", flush=True)
s = procrustes_from_cross(good[0] @ good[1].T + second[0] @ second[1].T)
print(f"soup: {held_out(s)}, score {score(s)}", flush=True)
s = final.run(s, 60, fresh=False)
print(f"soup + 60: {held_out(s)}, score {score(s)}", flush=True)
