"""MiniLM <-> mpnet's second solution is the good map with one direction reflected (basin_diff.py). Can a
label-free search find that direction? At a converged map, the latent cross-covariance of the transport plan,
K = (X Wx)^T (n P) (Y Wy), is symmetric positive; flipping a latent direction v costs 2 v^T K v of the transport
objective under the current plan, so the cheapest flips are K's eigenvectors with the smallest eigenvalues.
Where does the true flip rank among them, and does flip + a few steps + the label-free score find it?

    python flip.py [SEED] [CANDIDATES] [STEPS]
"""
from common import *

seed = int(sys.argv[1]) if len(sys.argv) > 1 else 5
m = int(sys.argv[2]) if len(sys.argv) > 2 else 12
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
x, y, xe, ye, _, yA = setup("minilm", "mpnet")
maps, final = seed_restarts(x, y, seed, 2)
cfg = final.cfg
wo = final.run(whitened_oracle(final, yA), 20)
w = final.run(maps[0], 20)
print("second basin", held_out_whitened(final, xe, ye, w), final_score(final, w), flush=True)
R = (w[0] @ w[1].T) @ (wo[0] @ wo[1].T).T
U, S, _ = torch.linalg.svd(R - torch.eye(len(R)))
cov = final.xw.T @ final.xw / len(final.xw)
j = max((j for j in range(len(S)) if S[j] > 1.5), key=lambda j: (U[:, j] @ cov @ U[:, j]).item())
u_lat = w[0].T @ U[:, j]  # the true flip, in the map's latent
rng = np.random.default_rng(0)
bx = final.xw[torch.as_tensor(rng.choice(len(final.xw), 8000, replace=False))] @ w[0]
by = final.yw[torch.as_tensor(rng.choice(len(final.yw), 8000, replace=False))] @ w[1]
K = bx.T @ (len(bx) * sinkhorn_plan(bx @ by.T, cfg.final_wp_eps) @ by)
K = (K + K.T) / 2
vals, vecs = torch.linalg.eigh(K)
var = torch.einsum("ij,jk,ki->i", vecs.T, bx.T @ bx / len(bx), vecs)
ov = (vecs.T @ u_lat).pow(2)
order = [i for i in range(len(vals)) if var[i] > 1e-3 * var.max()]  # skip the null directions
print("true flip: squared overlap with K's eigenvectors, smallest eigenvalues first:",
      [(r, round(vals[i].item(), 2), round(ov[i].item(), 3)) for r, i in enumerate(order[:m])])
print("   largest overlaps anywhere:", [(order.index(int(i)) if int(i) in order else -1, round(ov[i].item(), 3))
                                        for i in ov.argsort(descending=True)[:5]])
base = final.run(w, steps, fresh=False)
print(f"no flip +{steps}:", held_out_whitened(final, xe, ye, base), final_score(final, base), flush=True)
for r, i in enumerate(order[:m]):
    v = vecs[:, i:i + 1]
    wf = (w[0] @ (torch.eye(len(v)) - 2 * v @ v.T), w[1])
    wf = final.run(wf, steps, fresh=False)
    print(f"flip candidate {r} +{steps}:", held_out_whitened(final, xe, ye, wf), final_score(final, wf), flush=True)
