"""Do k-means clusters found independently in the two spaces correspond, and can matched centroids stand in for
few-shot pairs (mini-vec2vec's anchor discovery)?

    python clusters.py wordnet minilm e5 0 20          # corpus, models, seed, k
    N=13805 QAP=200 STEPS=250 python clusters.py ...    # per side, QAP restarts, restart steps from the centroid map

Per k: how well the two clusterings correspond under the oracle map (matched centroid cosine after Hungarian
matching), the share of the best-of-QAP matching (scipy FAQ, maximise trace(A P B P^T) on the centroid Gram
matrices) that agrees with the oracle matching, and held-out top-1 / rank after Wasserstein-Procrustes steps from
Procrustes on the matched centroids, the centroid pairs joined to every step (as few-shot pairs are), for the QAP
matching and for the oracle matching.
"""
import os
import faiss
from scipy.optimize import linear_sum_assignment, quadratic_assignment
from common import *

corpus, a, b, seed, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
n = int(os.environ.get("N", 13805))
x, y, xe, ye, yA = corpus_setup(corpus, a, b, n)
ox, oy = procrustes(x, yA)


def kmeans(v, k, s):
    km = faiss.Kmeans(v.shape[1], k, niter=30, seed=s, spherical=True)
    km.train(v.numpy().astype(np.float32))
    return unit(torch.tensor(km.centroids))


t0 = time.perf_counter()
cx, cy = kmeans(x, k, seed), kmeans(y, k, seed + 1)
sim = (unit(cx @ ox) @ unit(cy @ oy).T).numpy()
r, oracle_match = linear_sum_assignment(-sim)
print(f"{corpus} {a}->{b} {len(x)} per side, k {k}: oracle-matched centroid cos mean {sim[r, oracle_match].mean():.3f} "
      f"min {sim[r, oracle_match].min():.3f} ({time.perf_counter() - t0:.0f} s)", flush=True)
ga, gb = (cx @ cx.T).numpy(), (cy @ cy.T).numpy()
rng = np.random.default_rng(seed)
best, best_obj, objs = None, -np.inf, []
t0 = time.perf_counter()
for _ in range(int(os.environ.get("QAP", 200))):
    res = quadratic_assignment(ga, gb, method="faq", options={"maximize": True, "P0": "randomized", "rng": rng})
    objs.append(res.fun)
    if res.fun > best_obj:
        best, best_obj = res.col_ind, res.fun
agree = (best == oracle_match).mean()
oracle_obj = np.trace(ga @ gb[np.ix_(oracle_match, oracle_match)].T)
print(f"QAP: best objective {best_obj:.3f} (oracle matching {oracle_obj:.3f}), agrees with oracle on {agree:.2f}; "
      f"distinct optima {len(set(np.round(objs, 4)))} ({time.perf_counter() - t0:.0f} s)", flush=True)
steps = int(os.environ.get("STEPS", 250))
for name, match in (("QAP", best), ("oracle-matched", oracle_match)):
    pairs = (cx, cy[torch.as_tensor(match)])
    wx, wy = procrustes(*pairs)
    start = ev(xe, ye, wx, wy)
    t0 = time.perf_counter()
    wx, wy = AL._wasserstein_procrustes(x, y, wx, wy, steps, 2000, 0.05, np.random.default_rng(seed), pairs)
    print(f"{name} centroids: start {start}, after {steps} steps with the pairs {ev(xe, ye, wx, wy)} "
          f"({time.perf_counter() - t0:.0f} s)", flush=True)
