"""Which stage of a restart sets MiniLM <-> mpnet's basin? Reproduce a seed's Wasserstein-Procrustes restarts
(same random draws as fit_linear) and send each restart's map through the production final steps (20
half-whitened steps) in four versions: before its mutual-NN refinement, refined on the seed's 6,000-vector
refinement sample (production), refined on another sample, refined on all training vectors. Held-out top-1
after the final steps tells the basin (good ~0.985, second ~0.967).

    python basin_seed.py minilm mpnet SEED [RESTARTS]
"""
from common import *

a, b, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
n_restarts = int(sys.argv[4]) if len(sys.argv) > 4 else 3
x, y, xe, ye, _, _ = setup(a, b)
cfg = AlignConfig(seed=seed)
gen = torch.Generator().manual_seed(seed)
np_rng = np.random.default_rng(seed)
# the same draws as fit_linear: refinement sample first
xr = x[torch.as_tensor(np_rng.choice(len(x), min(len(x), cfg.refine_max), replace=False))]
yr = y[torch.as_tensor(np_rng.choice(len(y), min(len(y), cfg.refine_max), replace=False))]
other = np.random.default_rng(1000 + seed)
xo = x[torch.as_tensor(other.choice(len(x), cfg.refine_max, replace=False))]
yo = y[torch.as_tensor(other.choice(len(y), cfg.refine_max, replace=False))]
versions = []
orig_refine = AL._refine

def recording_refine(xr_, yr_, wx, wy, rounds, k, p, **kw):
    out = orig_refine(xr_, yr_, wx, wy, rounds, k, p, **kw)
    versions.append({"none": (wx, wy), "seed sample": out[:2],
                     "other sample": orig_refine(xo, yo, wx, wy, rounds, k, p, **kw)[:2],
                     "all vectors": orig_refine(x, y, wx, wy, rounds, k, p, **kw)[:2]})
    return out

AL._refine = recording_refine
cfg_run = AlignConfig(seed=seed, stop_when_confirmed=False)
reports, maps, chosen, _ = AL._restarts(x, y, xr, yr, cfg_run, "wasserstein", n_restarts, gen, np_rng, None)
AL._refine = orig_refine
final = AL._FinalSteps(x, y, cfg, np.random.default_rng(seed), None)
for r, vs in enumerate(versions):
    row = []
    for name, w in vs.items():
        t0 = time.perf_counter()
        wf = final.run(w, cfg.final_wp_iters)
        row.append(f"{name}: {held_out_whitened(final, xe, ye, wf)} final score {final_score(final, wf)}")
    print(f"restart {r} (score {reports[r].score:.4f}):", "; ".join(row), flush=True)
