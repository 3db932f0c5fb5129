"""Do the finalists of a failed fit keep moving towards the map under more final steps?

    python continue_final.py CORPUS A B SEED STEPS EVERY

The default fit (no extra steps), then each finalist's half-whitened final steps continued for STEPS more, every
EVERY steps: held-out top-1 A -> B / B -> A and mean rank (latent evaluation), and the label-free final score on
4,000 training vectors per side (what the aligner compares finalists by).
"""
from common import *
import logging; logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
from kit import splits

corpus, a, b, seed, steps, every = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
held, sa, sb = splits(corpus, a)
A, B = load(corpus, a), load(corpus, b)
cfg = AlignConfig(seed=seed, final_extra_iters=0, final_soup=False)
t0 = time.perf_counter()
result = fit_linear(A[sa], B[sb], cfg)
print(f"fit {time.perf_counter() - t0:.0f} s, trusted {result.confidence.trusted}: {result.confidence.reason}", flush=True)
x, y, xe, ye, _ = corpus_setup(corpus, a, b)
final = AL._FinalSteps(x, y, cfg, np.random.default_rng(seed + 100), None)
xw, yw = xe @ final.hx, ye @ final.hy
pick = [torch.as_tensor(np.random.default_rng(1).choice(len(v), 4000, replace=False)) for v in (x, y)]


def report(tag, wmap):
    top = ev(xw, yw, *wmap)
    back = ev(yw, xw, wmap[1], wmap[0])
    _, _, score = mutual_pairs(*final.encode(wmap, pick), cfg.csls_k)
    print(f"{tag}: top-1 {top[0]:.3f} / {back[0]:.3f}, rank {top[1]:.1f}, final score {score.mean().item():.4f}", flush=True)


finalists = [r.restart for r in result.restarts if r.final_score is not None] or [result.chosen]
for i in finalists:
    m = result.candidates[i]
    wmap = (final.dx @ torch.tensor(m.source_proj), final.dy @ torch.tensor(m.target_proj))
    report(f"restart {i} after the fit's 20 final steps", wmap)
    for done in range(every, steps + 1, every):
        wmap = final.run(wmap, every, fresh=False)
        report(f"restart {i} + {done}", wmap)
