"""Richardson extrapolation in the sample size: is the final steps' drift a bias that scales like 1/n?

    K=4 python richardson.py minilm e5 40            # from the half-whitened oracle
    START=found_minilm_e5_0.npz K=4 python richardson.py minilm e5 60

If the map the steps reach on n vectors per side is W* + b/n (+ noise), the maps on half-samples sit at W* + 2b/n,
and (1 + lam) W_n - lam mean(W_{n/2}) with lam = 1 cancels b. Runs the production steps on all vectors (W_n) and K
members on random halves of both sides (as bag.py), then prints the extrapolations' held-out top-1 (polar factor
of the combined whitened cross maps) for several lam; lam = -1 is bag.py's soup."""
import os
import sys
from common import *

a, b, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
k = int(os.environ.get("K", 4))
x, y, cfg, final, held_out, start = final_steps_setup(a, b)
print(f"K={k} start {held_out(start)}", flush=True)
t0 = time.time()
full = final.run(start, iters, fresh=False)
c_full = full[0] @ full[1].T
print(f"all vectors, {iters} steps: {held_out(full)} {time.time() - t0:.0f} s", flush=True)
c_half = 0
for m, w in enumerate(bag_members(final, start, iters, k, 0.5, cfg.final_wp_batch, np.random.default_rng(1),
                                  [np.random.default_rng(m) for m in range(k)])):
    c_half = c_half + w[0] @ w[1].T
    mean_half = c_half / (m + 1)
    row = ", ".join(f"lam {lam}: {held_out(procrustes_from_cross((1 + lam) * c_full - lam * mean_half))}"
                    for lam in (-1.0, 0.5, 1.0, 2.0))
    print(f"member {m}: {held_out(w)}; with {m + 1} halves: {row} {time.time() - t0:.0f} s", flush=True)
