from common import *
from kit import SPLITS
pool = np.r_[SIDE_A, SIDE_B]
order = np.random.default_rng(0).permutation(pool)
def evmap(xe, ye, m):
    s = unit(xe @ m) @ ye.T; i = torch.arange(len(xe))
    return round((s.argmax(1) == i).float().mean().item(), 4), round((s > s.diag()[:, None]).sum(1).float().add(1).mean().item(), 2)
for corpus, a, b in (("wordnet", "minilm", "e5"), ("fortunes", "minilm", "e5"), ("fortunes", "mpnet", "e5"), ("fortunes", "minilm", "mpnet")):
    Aw, Bw = load("wiki", a), load("wiki", b)
    A, B = load(corpus, a), load(corpus, b)
    if corpus == "wordnet":
        held, sa, sb = SPLITS["wordnet"]; ux_, uy_ = torch.tensor(A[sa][:13805]), torch.tensor(B[sb][:13805])
    else:
        held = np.arange(8192); ux_, uy_ = torch.tensor(A[held]), torch.tensor(B[held])
    mx, my = unit(ux_).mean(0), unit(uy_).mean(0)
    cx, cy = center_unit(ux_, mx), center_unit(uy_, my)
    xe, ye = center_unit(torch.tensor(A[held]), mx), center_unit(torch.tensor(B[held]), my)
    for npairs in (5000,):
        idx = order[:npairs]
        ax, ay = center_unit(torch.tensor(Aw[idx]), mx), center_unit(torch.tensor(Bw[idx]), my)
        out = []
        for power in (0.0, 0.25, 0.5, 0.75):
            for src in ("collection", "anchors"):
                if power == 0 and src == "anchors": continue
                hx, dx = power_whitener(cx if src == "collection" else ax, power) if power else (torch.eye(ax.shape[1]),) * 2
                hy, dy = power_whitener(cy if src == "collection" else ay, power) if power else (torch.eye(ay.shape[1]),) * 2
                wx, wy = procrustes(ax @ hx, ay @ hy)
                out.append(f"{power}/{src[:4]} {evmap(xe, ye, hx @ wx @ wy.T @ dy)}")
        print(corpus, a, b, npairs, "; ".join(out), flush=True)
