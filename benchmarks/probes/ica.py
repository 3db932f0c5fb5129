"""Do independent components of the two spaces correspond (Yamagiwa et al. 2023: ICA axes are shared across
embedding models)? Held-out pairs only to measure it.

    python ica.py wordnet minilm e5 0 64     # corpus, models, seed, components (after PCA to that many dims)

Per side: FastICA on the centred-unit training vectors (reduced to m principal dims); on the held-out pairs, the
correlation matrix of the two sides' component activations; per source component its best |correlation|.
"""
import os
from scipy.optimize import linear_sum_assignment
from sklearn.decomposition import FastICA
from common import *

corpus, a, b, seed, m = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
n = int(os.environ.get("N", 13805))
x, y, xe, ye, yA = corpus_setup(corpus, a, b, n)
t0 = time.perf_counter()
ix = FastICA(m, whiten="unit-variance", random_state=seed, max_iter=500).fit(x.numpy())
iy = FastICA(m, whiten="unit-variance", random_state=seed + 1, max_iter=500).fit(y.numpy())
print(f"ICA {m} comps: {time.perf_counter() - t0:.0f} s", flush=True)
sx, sy = ix.transform(xe.numpy()), iy.transform(ye.numpy())
c = np.corrcoef(sx.T, sy.T)[:m, m:]
best = np.abs(c).max(1)
r, col = linear_sum_assignment(-np.abs(c))
print(f"best |corr| per source component: quantiles 10/50/90% {np.quantile(best, [.1, .5, .9]).round(2)}; "
      f"> 0.5: {(best > 0.5).sum()}, > 0.7: {(best > 0.7).sum()} of {m}; Hungarian mean |corr| {np.abs(c[r, col]).mean():.2f}")
# per-component shape descriptors on the training sides: skewness, kurtosis (sign by skewness)
def shape(s):
    s = (s - s.mean(0)) / s.std(0)
    sk = (s ** 3).mean(0); s = s * np.sign(sk)
    return np.stack([np.abs(sk), (s ** 4).mean(0) - 3, np.quantile(s, 0.99, axis=0), np.quantile(s, 0.01, axis=0)], 1)
dx, dy = shape(ix.transform(x.numpy())), shape(iy.transform(y.numpy()))
order = np.argsort(-best)
for i in order[:12]:
    j = np.abs(c[i]).argmax()
    print(f"  comp {i}: corr {c[i, j]:+.2f} with {j}; shape x {dx[i].round(2)} y {dy[j].round(2)}")
