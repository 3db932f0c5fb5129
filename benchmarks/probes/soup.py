"""Do finalists that end apart hold independent errors? Averaging ("model soup") their final maps.

    python soup.py minilm e5 1

The default's restarts for one seed (all 8, no early stop, no rivals, no final steps), then the production
half-whitened final steps (20) from every converged restart, each finalist's label-free final score (all
training vectors) and held-out top-1 (de-whitened, both directions); then the polar projection of the average
of the finalists' whitened cross maps ``Wx Wy^T`` (all of them, and the top half by final score), and 60 more
steps from the production pick and from the average."""
import sys
from common import *

a, b, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
A, B = load("wiki", a), load("wiki", b)
x, y, xe, ye, _, _ = setup(a, b)
t0 = time.time()
res = AL.fit_linear(A[SIDE_A], B[SIDE_B], AlignConfig(seed=seed, rival_restarts=0, final_wp_iters=0,
                                                      stop_when_confirmed=False))
bar = AL._converged_bar(res.restarts, res.chosen)
conv = [i for i, r in enumerate(res.restarts) if r.score >= bar]
print(f"restarts {time.time() - t0:.0f} s, chosen {res.chosen}, converged {conv}", flush=True)
d = AlignConfig()
final = AL._FinalSteps(x, y, d, np.random.default_rng(0), None)

held_out = lambda w: held_out_whitened(final, xe, ye, w)  # noqa: E731
score = lambda w: final_score(final, w)  # noqa: E731

finals = {}
for i in conv:
    m = res.candidates[i]
    w = final.run((torch.tensor(m.source_proj), torch.tensor(m.target_proj)), d.final_wp_iters)
    finals[i] = w
    print(f"restart {i} (restart score {res.restarts[i].score:.4f}): final score {score(w)}, held-out {held_out(w)}", flush=True)
cross = {i: w[0] @ w[1].T for i, w in finals.items()}
for i in conv:
    print(i, "agreement of cross maps (cos):", [round(float((cross[i] * cross[j]).sum() / cross[i].norm() / cross[j].norm()), 3) for j in conv])
ranked = sorted(conv, key=lambda i: -score(finals[i]))
soups = {"all": ranked, "top half": ranked[:max(2, len(ranked) // 2)], "top 2": ranked[:2]}
for name, members in soups.items():
    w = procrustes_from_cross(sum(cross[i] for i in members))
    print(f"soup {name} {members}: final score {score(w)}, held-out {held_out(w)}", flush=True)
    soups[name] = w
best = ranked[0]
for name, w in (("production pick", finals[best]), ("soup all", soups["all"])):
    w = final.run(w, d.final_extra_iters, fresh=False)
    print(f"{name} + {d.final_extra_iters} steps: final score {score(w)}, held-out {held_out(w)}", flush=True)
print(f"total {time.time() - t0:.0f} s")
