from common import *
from kit import SPLITS
pool = np.r_[SIDE_A, SIDE_B]  # wiki training sentences (not its held-out ones)
rng = np.random.default_rng(0); order = rng.permutation(pool)
for corpus, a, b in (("wordnet", "minilm", "e5"), ("fortunes", "minilm", "e5"), ("fortunes", "minilm", "mpnet"), ("fortunes", "mpnet", "e5")):
    Aw, Bw = load("wiki", a), load("wiki", b)
    A, B = load(corpus, a), load(corpus, b)
    if corpus == "wordnet":
        held, sa, sb = SPLITS["wordnet"]; mx, my = unit(torch.tensor(A[sa][:13805])).mean(0), unit(torch.tensor(B[sb][:13805])).mean(0)
    else:
        held = np.arange(8192); mx, my = unit(torch.tensor(A[held])).mean(0), unit(torch.tensor(B[held])).mean(0)
    xe, ye = center_unit(torch.tensor(A[held]), mx), center_unit(torch.tensor(B[held]), my)
    out = []
    for npairs in (500, 1000, 2000, 5000, 27610):
        idx = order[:npairs]
        px = center_unit(torch.tensor(Aw[idx]), mx); py = center_unit(torch.tensor(Bw[idx]), my)
        out.append(f"{npairs}: {ev(xe, ye, *procrustes(px, py))}")
    print(corpus, a, b, "; ".join(out), flush=True)
