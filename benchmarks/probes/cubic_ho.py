"""Is a map's third-moment cross term G higher at the oracle than at the production map on *fresh* samples?

    START=found_minilm_e5_0.npz python cubic_ho.py minilm e5

G as in cubic.py, on (1) the training halves (the sample the production map was fitted to), (2) held-out vectors,
first half of the source against the second half of the target (disjoint texts, not used in fitting), (3) the
held-out vectors of the same texts on both sides."""
import os
import sys
from common import *

a, b = sys.argv[1], sys.argv[2]
x, y, xe, ye, _, yA = setup(a, b)
final = AL._FinalSteps(x, y, AlignConfig(), np.random.default_rng(0), None)
prep = lambda v: (lambda c: c / c.norm(dim=1).mean())(v - v.mean(0))  # noqa: E731
eye = torch.eye(y.shape[1])


h = len(xe) // 2
samples = {"train": (prep(final.xw), prep(final.yw)),
           "held-out disjoint": (prep(xe[:h] @ final.hx), prep(ye[h:] @ final.hy)),
           "held-out same texts": (prep(xe @ final.hx), prep(ye @ final.hy))}
ox, oy = whitened_oracle(final, yA)
maps = {"oracle": ox @ oy.T}
w = whitened_start(final, os.environ["START"])
maps["start"] = w[0] @ w[1].T
w = final.run(w, 60, fresh=False)
maps["production 61"] = w[0] @ w[1].T
for name, W in maps.items():
    print(name, held_out_whitened(final, xe, ye, (W, eye)),
          {k: (f"{third_moment_cross(X, Y, W):.4g}", f"{third_moment_cross(X, Y, W, 4):.4g}") for k, (X, Y) in samples.items()}, flush=True)
