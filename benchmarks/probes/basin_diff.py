"""How does MiniLM <-> mpnet's second solution differ from the good one? Seed 5's first two Wasserstein-Procrustes
restarts (both land in the second basin in the runner), the production 20 final steps from each and from the
oracle; then the rotation between a second-basin map and the oracle's, in the finalists' half-whitened source
coordinates: its eigen-angles and the source variance along the directions it moves most.

    python basin_diff.py [SEED]
"""
from common import *

seed = int(sys.argv[1]) if len(sys.argv) > 1 else 5
x, y, xe, ye, _, yA = setup("minilm", "mpnet")
maps, final = seed_restarts(x, y, seed, 2)
wo = final.run(whitened_oracle(final, yA), 20)
finals = [final.run(w, 20) for w in maps]
for name, w in [("oracle+20", wo)] + [(f"restart {i}+20", w) for i, w in enumerate(finals)]:
    print(name, held_out_whitened(final, xe, ye, w), final_score(final, w), flush=True)
Co = wo[0] @ wo[1].T
cov = final.xw.T @ final.xw / len(final.xw)
for i, w in enumerate(finals):
    R = (w[0] @ w[1].T) @ Co.T  # source-side rotation taking the oracle's cross map to this one
    U, S, _ = torch.linalg.svd(R - torch.eye(len(R)))
    var = torch.einsum("ij,jk,ki->i", U.T[:12], cov, U[:, :12])
    print(f"restart {i}: singular values of R - I", [round(v, 3) for v in S[:12].tolist()], "median", round(S.median().item(), 3))
    print("   source variance along them", [round(v, 4) for v in var.tolist()], "mean", round(cov.diag().mean().item(), 4))
    print("   agreement with oracle+20 (held-out NN)", round((unit(xe @ w[0]) @ unit(ye @ w[1]).T).argmax(1).eq(
        (unit(xe @ wo[0]) @ unit(ye @ wo[1]).T).argmax(1)).float().mean().item(), 3))
evals, evecs = torch.linalg.eigh(cov)
evals, evecs = evals.flip(0), evecs.flip(1)
print("top source eigenvalues (half-whitened)", [round(v, 4) for v in evals[:10].tolist()])
for i, w in enumerate(finals):
    R = (w[0] @ w[1].T) @ Co.T
    U, S, _ = torch.linalg.svd(R - torch.eye(len(R)))
    flipped = [j for j in range(len(S)) if S[j] > 1.5]
    for j in flipped:
        ov = (evecs.T @ U[:, j]).pow(2)
        top = ov.argsort(descending=True)[:4]
        print(f"restart {i}: flipped direction {j} (variance {(U[:, j] @ cov @ U[:, j]).item():.4f}): squared overlap with "
              "source eigenvectors", [(int(k), round(ov[k].item(), 3)) for k in top])
    # flip the main one back on the restart's own map, re-score and evaluate (label-free score needs no oracle)
    j = max(flipped, key=lambda j: (U[:, j] @ cov @ U[:, j]).item())
    u = U[:, j:j + 1]
    H = torch.eye(len(R)) - 2 * u @ u.T
    wf = (H @ w[0], w[1])
    print(f"restart {i} with that direction flipped:", held_out_whitened(final, xe, ye, wf), final_score(final, wf))
    wf20 = final.run(wf, 20, fresh=True)
    print("   +20 steps:", held_out_whitened(final, xe, ye, wf20), final_score(final, wf20), flush=True)
