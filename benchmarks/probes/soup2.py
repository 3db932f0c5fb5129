"""Soups of finalists against the production pick (e5 pairs), from the default's restarts for one seed.

    python soup2.py minilm e5 1

Restart maps are cached in ``soup_<a>_<b>_<seed>.npz`` (git-ignored). Finalists as in production: the chosen
restart and the next best converged ones, 3 in all. Variants, each with its own batch stream:
P (production): 20 steps each on 8,000-vector batches, pick by final label-free score, 60 more steps.
S1: the same 20-step finals averaged (polar of the mean whitened cross map), then 60 more steps.
S2: each finalist 80 steps on 6,000-vector batches, then averaged (no steps after).
Held-out top-1 both ways (de-whitened) and mean rank source -> target; NN agreement among finals."""
import sys
from common import *

a, b, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
x, y, xe, ye, _, _ = setup(a, b)
t0 = time.time()
cache = Path(f"soup_{a}_{b}_{seed}.npz")
if not cache.exists():
    A, B = load("wiki", a), load("wiki", b)
    res = AL.fit_linear(A[SIDE_A], B[SIDE_B], AlignConfig(seed=seed, final_wp_iters=0))
    fin = AL._finalists(res.restarts, res.chosen, [], 3)
    fin = [i for i in fin if res.restarts[i].solver == res.restarts[res.chosen].solver]
    np.savez(cache, **{f"wx{k}": res.candidates[i].source_proj for k, i in enumerate(fin)},
             **{f"wy{k}": res.candidates[i].target_proj for k, i in enumerate(fin)})
    print(f"restarts {time.time() - t0:.0f} s, finalists {fin}", flush=True)
d = np.load(cache)
starts = [(torch.tensor(d[f"wx{k}"]), torch.tensor(d[f"wy{k}"])) for k in range(len(d.files) // 2)]
cfg = AlignConfig()
final = AL._FinalSteps(x, y, cfg, np.random.default_rng(0), None)

held_out = lambda w: held_out_whitened(final, xe, ye, w)  # noqa: E731
score = lambda w: final_score(final, w)  # noqa: E731

def soup(ws):
    return procrustes_from_cross(sum(w[0] @ w[1].T for w in ws))

def agreement(ws):
    nn = [(lambda l: (l[0][:2000] @ l[1][:2000].T).argmax(1))(final.encode(w)) for w in ws]
    return [[round((p == q).float().mean().item(), 3) for q in nn] for p in nn]

def stage(label, ws, steps, batch, seed, fresh=True):
    t = time.time()
    final.cfg = AlignConfig(final_wp_batch=batch)
    final.rng = np.random.default_rng(seed)
    out = [final.run(w, steps, fresh=fresh) for w in ws]
    for k, w in enumerate(out):
        print(f"{label} finalist {k}: final score {score(w)}, held-out {held_out(w)}", flush=True)
    print(f"{label}: {time.time() - t:.0f} s, agreement {agreement(out)}", flush=True)
    return out

f20 = stage("P 20 steps", starts, 20, 8000, 1)
best = max(f20, key=score)
t = time.time()
final.cfg = AlignConfig()
w = final.run(best, 60, fresh=False)
print(f"P pick + 60: {held_out(w)}, score {score(w)} ({time.time() - t:.0f} s)", flush=True)
s = soup(f20)
print(f"S1 soup of the 20-step finals: {held_out(s)}, score {score(s)}", flush=True)
w = final.run(s, 60, fresh=False)
print(f"S1 soup + 60: {held_out(w)}, score {score(w)}", flush=True)
f80 = stage("S2 80 steps", starts, 80, 6000, 2)
s = soup(f80)
print(f"S2 soup of the 80-step finals: {held_out(s)}, score {score(s)}", flush=True)
print(f"total {time.time() - t0:.0f} s", flush=True)
