"""Is the drift of the final steps a finite-sample effect of disjoint texts alone, or the two models' mismatch?

    python drift_self.py minilm e5 80

Two problems with the same size (the first / second half of side A's training vectors as source / target
texts, 6,902 each, disjoint) and the production half-whitened final steps (batch 6,000, eps 0.02, decay 0.8)
started on the true map: (self) target = the source model's vectors of the second half under a random rotation,
true map known exactly; (real) target = the other model's vectors of the second half, started on the half-whitened
oracle (Procrustes on side A's true pairs). Top-1 source -> target on the 8,192 held-out sentences (for self: the
source model's held-out vectors against their rotation)."""
import sys
from common import *

a, b, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
x, y, xe, ye, _, yA = setup(a, b)
n = len(x) // 2
cfg = AlignConfig(final_wp_batch=6000)
g = torch.Generator().manual_seed(0)
rot, _ = torch.linalg.qr(torch.randn(x.shape[1], x.shape[1], generator=g))
problems = {"self": (x[:n], x[n:2 * n] @ rot, xe, xe @ rot, None),
            "real": (x[:n], yA[n:2 * n], xe, ye, (x[:n], yA[:n]))}
for name, (src, trg, se, te, oracle_pairs) in problems.items():
    final = AL._FinalSteps(src, trg, cfg, np.random.default_rng(0), None)
    sw, tw = src @ final.hx, trg @ final.hy
    if oracle_pairs is None:  # whitened truth: src C^-1/4 R = trg C_t^-1/4 exactly
        w = procrustes_from_cross(sw.T @ (src @ rot @ final.hy))
    else:
        w = procrustes_from_cross(sw.T @ (oracle_pairs[1] @ final.hy))
    sew, tew = se @ final.hx, te @ final.hy
    def held_out(w):
        f = unit(sew @ w[0] @ w[1].T @ final.dy) @ te.T
        idx = torch.arange(len(se))
        return round((f.argmax(1) == idx).float().mean().item(), 4), round((f > f.diag()[:, None]).sum(1).float().add(1).mean().item(), 2)
    line = [f"{name}: start {held_out(w)}"]
    done = 0
    for step in (5, 20, 40, 80):
        if step > iters:
            break
        w = final.run(w, step - done, fresh=False)
        done = step
        line.append(f"{step}: {held_out(w)}")
    print(", ".join(line), flush=True)
