from common import *
from kit import SPLITS
pool = np.r_[SIDE_A, SIDE_B]
order = np.random.default_rng(0).permutation(pool)
for corpus, a, b in (("wordnet", "minilm", "e5"), ("fortunes", "minilm", "e5"), ("fortunes", "mpnet", "e5")):
    Aw, Bw = load("wiki", a), load("wiki", b)
    A, B = load(corpus, a), load(corpus, b)
    if corpus == "wordnet":
        held, sa, sb = SPLITS["wordnet"]; ux_, uy_ = torch.tensor(A[sa][:13805]), torch.tensor(B[sb][:13805])
    else:
        held = np.arange(8192); ux_, uy_ = torch.tensor(A[held]), torch.tensor(B[held])
    mx, my = unit(ux_).mean(0), unit(uy_).mean(0)
    for npairs in (2000, 5000):
        idx = order[:npairs]
        ax, ay = torch.tensor(Aw[idx]), torch.tensor(Bw[idx])
        amx, amy = unit(ax).mean(0), unit(ay).mean(0)
        own = procrustes(center_unit(ax, amx), center_unit(ay, amy))
        r_own = ev(center_unit(torch.tensor(A[held]), amx), center_unit(torch.tensor(B[held]), amy), *own)
        r_own_user = ev(center_unit(torch.tensor(A[held]), mx), center_unit(torch.tensor(B[held]), my), *own)
        user = procrustes(center_unit(ax, mx), center_unit(ay, my))
        r_user = ev(center_unit(torch.tensor(A[held]), mx), center_unit(torch.tensor(B[held]), my), *user)
        print(f"{corpus} {a}->{b} {npairs} anchors: anchor means throughout {r_own}; fitted with anchor means, applied "
              f"with the collection's {r_own_user}; collection means throughout {r_user}", flush=True)
