from common import *
x, y, xe, ye, (ox, oy), yA = setup("minilm", "e5")
rng = np.random.default_rng(0)
i = torch.as_tensor(rng.choice(len(y), 12000, replace=False))
y1, y2 = y[i[:6000]] @ oy, y[i[6000:]] @ oy
for eps in (0.02, 0.05):
    plan = sinkhorn_plan(y1 @ y2.T, eps); bb = 6000 * plan @ y2
    S = torch.linalg.lstsq(y1, bb).solution
    ev_ = torch.linalg.eigvals(S).real.sort().values
    print(eps, ev_[:5], ev_[-5:], "sym err", (S - S.T).norm() / S.norm())
    # cos of b with y1
    print("cos b,y1", (unit(bb) * y1).sum(1).mean())
# compare: cross-space true pair cos under oracle
print("true pair cos", (unit(x @ ox) * unit(yA @ oy)).sum(1).mean())
