"""Third-moment matching: is the oracle map a fixed point of a noise-blind objective?

    START=found_minilm_e5_0.npz python cubic.py minilm e5 ITERS

If y = x A + e with e independent and symmetric, third cumulants of y equal those of x A: the noise that bends
second moments (the final steps' drift) is invisible to them. For orthogonal W, matching the third-moment tensors
of x W and y is maximising G(W) = mean_ij ((x_i W) . y_j)^3 (the cross term of an MMD with the kernel (a.b)^3).
Half-whitened, centred training vectors of both halves; W <- polar(grad G + TAU |grad| W). Prints G and held-out
top-1 both ways (de-whitened) for the oracle, the production map after 60 final steps from START, and along
the ascent from each."""
import os
import sys
from common import *

a, b, iters = sys.argv[1], sys.argv[2], int(sys.argv[3])
tau, power, sub = float(os.environ.get("TAU", 1.0)), int(os.environ.get("POW", 3)), int(os.environ.get("SUB", 0))
x, y, xe, ye, _, yA = setup(a, b)
final = AL._FinalSteps(x, y, AlignConfig(), np.random.default_rng(0), None)
X, Y = final.xw - final.xw.mean(0), final.yw - final.yw.mean(0)
if sub:
    X, Y = X[:sub], Y[:sub]
X, Y = X / X.norm(dim=1).mean(), Y / Y.norm(dim=1).mean()
eye = torch.eye(Y.shape[1])


def G(W, grad=False):
    return third_moment_cross(X, Y, W, power, grad)


def ho(W):
    return held_out_whitened(final, xe, ye, (W, eye))


def ascend(W, name):
    t0 = time.time()
    for t in range(iters):
        val, g = G(W, grad=True)
        u, v = procrustes_from_cross(g + tau * torch.linalg.matrix_norm(g, 2) * W)
        W = u @ v.T
        if t % 5 == 4 or t == iters - 1:
            print(f"{name} step {t + 1}: G {G(W):.6g} held-out {ho(W)} {time.time() - t0:.0f} s", flush=True)
    return W


ox, oy = whitened_oracle(final, yA)
Wo = ox @ oy.T
rnd = torch.linalg.qr(torch.randn(Y.shape[1], Y.shape[1], generator=torch.Generator().manual_seed(0)))[0]
print(f"POW={power} TAU={tau} oracle: G {G(Wo):.6g} {ho(Wo)}; random rotation: G {G(rnd):.6g}", flush=True)
if os.environ.get("START"):
    w = final.run(whitened_start(final, os.environ["START"]), 60, fresh=False)
    Wp = w[0] @ w[1].T
    print(f"production 61 steps: G {G(Wp):.6g} {ho(Wp)}", flush=True)
ascend(Wo, "from oracle")
if os.environ.get("START"):
    ascend(Wp, "from production")
