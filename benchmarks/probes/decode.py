"""How the linear translator's decode weighs the target mean: top-1 / rank / mean cos in the target space.

    python decode.py minilm e5 [found.npz]

``linear_decode`` returns ``unit(s * unit(dir) + mean)`` with s = 1; the true targets are ``mean + c`` with
|c| ~ 0.5 for e5. Varies s (inf: the centred direction alone, i.e. ranking by the centred dot product)."""
import sys
from common import *

a, b = sys.argv[1], sys.argv[2]
B = load("wiki", b)
x, y, xe, ye, (ox, oy), yA = setup(a, b)
my = unit(torch.tensor(B[SIDE_B])).mean(0)  # the target mean the aligner subtracts
maps = {"oracle": (ox, oy)}
if len(sys.argv) > 3:
    d = np.load(sys.argv[3]); maps["found"] = (torch.tensor(d["Wx"]), torch.tensor(d["Wy"]))
raw_t = unit(torch.tensor(B[EVAL]))
cn = (raw_t - my).norm(dim=1)
print(f"target mean norm {my.norm():.3f}, centred norm of eval targets {cn.mean():.3f} +- {cn.std():.3f}")
for name, (wx, wy) in maps.items():
    print(name, "latent eval", ev(xe, ye, wx, wy))
    direction = unit(unit(xe @ wx) @ wy.T)
    for s in (0.25, 0.5, 1.0, 2.0, 4.0, float("inf")):
        t = direction if s == float("inf") else unit(s * direction + my)
        sim = t @ raw_t.T
        top = (sim.argmax(1) == torch.arange(len(t))).float().mean().item()
        rank = (sim > sim.diag()[:, None]).sum(1).float().add(1).mean().item()
        cos = (unit(s * direction + my) * raw_t).sum(1).mean().item() if s != float("inf") else float("nan")
        print(f"  s={s}: top-1 {top:.4f} rank {rank:.2f} mean cos {cos:.3f}")
