"""Do the two spaces' top principal subspaces and directions correspond under the oracle map (Procrustes on side A's
true pairs)?

    python subspaces.py wordnet minilm e5

Prints the top eigenvalue shares of each side, the share of the source's top-m principal subspace that the oracle
sends into the target's top-m and top-2m subspaces, and the oracle's matrix between the source's top-8 and the
target's top-16 principal directions (a signed permutation would mean the directions correspond one to one).
"""
from common import *

corpus, a, b = sys.argv[1:4]
n = 13805
x, y, xe, ye, yA = corpus_setup(corpus, a, b, n)
ox, oy = procrustes(x, yA)
ex, ux = torch.linalg.eigh(x.T @ x / n); ux = ux.flip(1); ex = ex.flip(0)
ey, uy = torch.linalg.eigh(y.T @ y / n); uy = uy.flip(1); ey = ey.flip(0)
print(corpus, a, b, "top eigenvalue shares x", (ex[:8] / ex.sum()).numpy().round(3), "y", (ey[:8] / ey.sum()).numpy().round(3))
for m in (4, 8, 16, 32, 64):
    lx = ux[:, :m].T @ ox
    shares = [(lx @ (uy[:, :m2].T @ oy).T).pow(2).sum().item() / m for m2 in (m, 2 * m)]
    print(f"top-{m}: share inside the target's top-{m} {shares[0]:.2f}, top-{2 * m} {shares[1]:.2f}")
np.set_printoptions(precision=2, suppress=True, linewidth=200)
c = (ux[:, :8].T @ ox @ oy.T @ uy[:, :16]).numpy()
print(c)
print("per source direction, largest |entry|", np.abs(c).max(1))
