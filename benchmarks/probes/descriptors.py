"""Intrinsic per-point descriptors (no sign or rotation to resolve) as direction pairs for a pairless start.

    python descriptors.py CORPUS A B [STEPS]

Each side computes, for each of its own points, scalars defined by its own geometry only: the mean cosine to its k
nearest neighbours (k = 1, 5, 20, 100, 500: density at several scales), its k-occurrence (how often it is among
others' 10 nearest: hubness), and random-walk return probabilities of its K=30 graph (heat-kernel signatures at
several times, from 64 eigenpairs). If a text's descriptors agree across models, each descriptor's cross-covariance
direction ``x^T f / n`` in space A maps to ``y^T f / n`` in space B under the true map: direction pairs with nothing to
search. Printed: each descriptor's correlation across models on the held-out pairs (computed within the held-out set
in each space), the cosine between the oracle's image of its side-A direction and its side-B direction, then the
start from Procrustes on the pairs (rest random) through STEPS restart steps.
"""
import scipy.sparse as sp
from scipy.sparse.linalg import eigsh

from common import *
from spectral import knn_graph
from spectral_start import through_restart_steps

KS = (1, 5, 20, 100, 500)
TIMES = (1, 3, 10, 30, 100)


def descriptors(v: torch.Tensor):
    u = unit(v)
    n, cols, names = len(u), [], []
    top, occ = [], torch.zeros(n)
    for s in range(0, n, 2048):
        sim = u[s:s + 2048] @ u.T
        sim[torch.arange(len(sim)), torch.arange(s, s + len(sim))] = -2
        t = sim.topk(max(KS), dim=1)
        top.append(t.values)
        occ += torch.bincount(t.indices[:, :10].reshape(-1), minlength=n).float()
    top = torch.cat(top)
    for k in KS:
        cols.append(top[:, :k].mean(1)); names.append(f"knn{k}")
    cols.append(occ); names.append("hub10")
    w = knn_graph(v, 30)
    d = np.asarray(w.sum(1)).ravel() ** -0.5
    vals, vecs = eigsh(sp.diags(d) @ w @ sp.diags(d), k=64, which="LA")
    for t in TIMES:
        cols.append(torch.tensor((vecs ** 2 * vals.clip(0, None) ** t).sum(1), dtype=torch.float32)); names.append(f"hks{t}")
    f = torch.stack(cols, 1)
    return (f - f.mean(0)) / f.std(0), names


if __name__ == "__main__":
    corpus, a, b = sys.argv[1:4]
    steps = int(sys.argv[4]) if len(sys.argv) > 4 else 150
    x, y, xe, ye, yA = corpus_setup(corpus, a, b, 13805)
    fe_a, names = descriptors(xe)
    fe_b, _ = descriptors(ye)
    corr = (fe_a * fe_b).mean(0)
    fa, _ = descriptors(x)
    fb, _ = descriptors(y)
    ca, cb = x.T @ fa / len(x), y.T @ fb / len(y)
    ox, oy = procrustes(x, yA)
    T = ox @ oy.T
    cos = torch.nn.functional.cosine_similarity(T.T @ ca, cb, dim=0)
    print(f"{corpus} {a}->{b}")
    for i, nm in enumerate(names):
        print(f"  {nm:7s} held-out corr across models {corr[i]:.2f}  |c^A| {ca[:, i].norm():.3f}  cos(T^T c^A, c^B) {cos[i]:.2f}")
    print("  singular values of the side-A directions (normalised):",
          np.round(torch.linalg.svdvals(ca / ca.norm(dim=0)).numpy(), 2).tolist())
    # start: Procrustes on the direction pairs, rest random
    uu, _, vv = torch.linalg.svd(ca @ cb.T)
    m, dd = ca.shape[1], x.shape[1]
    g = torch.Generator().manual_seed(0)
    src, img = uu[:, :m], vv.T[:, :m]
    comp = lambda q: torch.linalg.qr((torch.eye(dd) - q @ q.T) @ torch.randn(dd, dd - m, generator=g))[0]
    start = src @ img.T + comp(src) @ comp(img).T
    print("  oracle agreement of the start on the pairs' span:",
          round(torch.nn.functional.cosine_similarity((T.T @ src).reshape(-1), img.reshape(-1), dim=0).item(), 3))
    s0, s1, _ = through_restart_steps(x, y, xe, ye, (start, torch.eye(dd)), 0, steps)
    print(f"  start {s0}, after {steps} steps {s1}", flush=True)
