"""How wide is the basin around the oracle eigenfunction correspondence? The oracle R (``spectral_start.py``)
rotated by exp(t A), A a random skew matrix with N(0, 1) entries above the diagonal, for growing t; each start through
150 restart steps.

    python spectral_width.py CORPUS A B M T1 T2 ...
"""
from scipy.linalg import expm

from common import *
from spectral import eigenfunctions
from spectral_start import oracle_correspondence, start_from_correspondence, through_restart_steps

corpus, a, b, m = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
x, y, xe, ye, yA = corpus_setup(corpus, a, b, 13805)
fx, fy = eigenfunctions(x, m, 30), eigenfunctions(y, m, 30)
R_or, _, _ = oracle_correspondence(x, y, xe, ye, fx, fy)
gen, g = np.random.default_rng(0), torch.Generator().manual_seed(0)
for t in map(float, sys.argv[5:]):
    A = np.triu(gen.standard_normal((m, m)), 1)
    R = R_or @ expm(t * (A - A.T))
    start, end, _ = through_restart_steps(x, y, xe, ye, start_from_correspondence(x, y, fx, fy, R, g), 0)
    print(f"t={t}: |R - R_oracle| {np.linalg.norm(R - R_or):.2f}, start {start}, after 150 steps {end}", flush=True)
