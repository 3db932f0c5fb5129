"""Should a translated *query* also reweigh the target's principal directions? (session 40)

    python benchmarks/probes/query_spectrum.py ~/.cache/v2v-store/s39_translators [MORE_DIRS ...]
    python benchmarks/probes/query_spectrum.py procrustes   # orthogonal maps on side A's 13,805 true pairs
    python benchmarks/probes/query_spectrum.py whitened     # the same, fitted in half-whitened coordinates

Session 39 let a query keep a share ``w`` of the target's mean, chosen without labels by hubness
(``metrics.anti_hub_share``). This probes one more degree of freedom of the same kind: the query's centred direction
multiplied by the target's covariance to the power ``delta`` before the mean is added,
``unit(unit(z D C^delta) + w mean)``: delta < 0 flattens the target's spectrum (towards whitening, which is known to
reduce hubness), delta > 0 stresses its top directions. A candidate ``y``'s score is then ``(z D) . (C^delta y)``: the
metric changes, not the map. For each saved translator (``alignment.py --save-translators``), each direction and
delta: ``w`` picked by the share (4,096 of the fit's vectors per side, as ``calibrate_queries``), then held-out wiki
top-1 / mean rank among 8,192, the share and the share of mutual nearest neighbours among the 4,096 (another
label-free criterion); last, the delta each criterion would pick.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import DIMS, load, splits  # noqa: E402

from v2v_store.metrics import anti_hub_share, paired_metrics  # noqa: E402
from v2v_store.train.linear import (LinearMap, center_unit, fit_procrustes, power_whitener, procrustes,  # noqa: E402
                                    unit)
from v2v_store.translator import QUERY_WEIGHTS, Space, Translator  # noqa: E402

DELTAS = (-0.375, -0.25, -0.125, 0.0)


def mutual_share(scores: torch.Tensor) -> float:
    """Label-free: the share of queries (rows) and candidates (columns) that are each other's nearest."""
    best_col = scores.argmax(1)
    return float((scores.argmax(0)[best_col] == torch.arange(len(scores))).double().mean())


def half_whitened_procrustes(x: np.ndarray, y: np.ndarray) -> LinearMap:
    """Procrustes on true pairs in the coordinates the aligner's final steps use (``AlignConfig.final_whiten``
    0.5), de-whitened as ``_FinalStage.linear_map`` does: the best linear map measured on the kit."""
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    mx, my = unit(x).mean(0), unit(y).mean(0)
    cx, cy = center_unit(x, mx), center_unit(y, my)
    (hx, dx), (hy, dy) = power_whitener(cx, 0.5), power_whitener(cy, 0.5)
    wx, wy = procrustes(cx @ hx, cy @ hy)
    return LinearMap(mx.numpy(), (hx @ wx).numpy(), my.numpy(), (hy @ wy).numpy(), (wx.T @ dx).numpy(),
                     (wy.T @ dy).numpy())


def translators(where: list[str], side_a: slice):
    """(name, translator) for each saved translator in the directories; ``procrustes``: orthogonal Procrustes on
    side A's true pairs of each kit model pair (the oracle maps, no whitening)."""
    for d in where:
        if d in ("procrustes", "whitened"):
            for a, b in (("minilm", "e5"), ("mpnet", "e5"), ("minilm", "mpnet")):
                pairs = tuple(np.asarray(load("wiki", m)[side_a], np.float32) for m in (a, b))
                fit = fit_procrustes(pairs) if d == "procrustes" else half_whitened_procrustes(*pairs)
                yield f"{a}_{b}_{d}", Translator.from_linear_map(fit, Space(a, DIMS[a]), Space(b, DIMS[b]))
            continue
        for path in sorted(p for p in Path(d).expanduser().iterdir() if (p / "config.json").exists()):
            yield path.name, Translator.load(path, device="cpu")


def main() -> None:
    torch.set_num_threads(1)
    held, side_a, side_b = splits("wiki", "minilm")
    summary = []
    for name, tr in translators(sys.argv[1:], side_a):
        names = (tr.source.name, tr.target.name)
        fit = {names[0]: np.asarray(load("wiki", names[0])[side_a], np.float32),  # the fit's unpaired sides
               names[1]: np.asarray(load("wiki", names[1])[side_b], np.float32)}
        for a, b in (names, names[::-1]):
            rng = np.random.default_rng(0)
            src = fit[a][np.sort(rng.choice(len(fit[a]), 4096, replace=False))]
            trg = fit[b][np.sort(rng.choice(len(fit[b]), 4096, replace=False))]
            xh, yh = (np.asarray(load("wiki", m)[held], np.float32) for m in (a, b))
            mean, _, decode = tr.linear_space(tr.space(b))
            z_sample = tr._encode(torch.as_tensor(src), tr.space(a)) @ decode
            z_held = tr._encode(torch.as_tensor(xh), tr.space(a)) @ decode
            targets = unit(torch.as_tensor(trg))
            towards_mean = targets @ mean
            rows = []
            centred = center_unit(torch.as_tensor(fit[b]), mean)
            for delta in DELTAS:
                power = power_whitener(centred, -2 * delta)[0]  # C^delta, eigenvalues floored as the aligner's
                q = unit(z_sample @ power)
                shares = {w: anti_hub_share(q, targets, 10, offsets=w * towards_mean) for w in QUERY_WEIGHTS}
                w = min(shares, key=lambda v: (round(shares[v], 9), abs(v)))
                m = paired_metrics(unit(unit(z_held @ power) + w * mean).numpy(), yh)
                mutual = mutual_share(unit(q + w * mean) @ targets.T)
                rows.append((delta, w, shares[w], m.top1, m.mean_rank, mutual))
                print(f"{name} {a}->{b} delta={delta:+.3f} w={w:+.2f} share={shares[w]:.4f} mutual={mutual:.4f} "
                      f"top1={m.top1:.4f} rank={m.mean_rank:.2f}", flush=True)
            now = next(r for r in rows if r[0] == 0.0)
            by_share = min(rows, key=lambda r: (round(r[2], 9), abs(r[0])))
            by_mutual = max(rows, key=lambda r: r[5])
            best = max(rows, key=lambda r: r[3])
            summary.append((name, a, b, now[3], by_share, by_mutual, best))
            print(f"  {a}->{b}: now {now[3]:.4f} | by share delta {by_share[0]:+.3f}: {by_share[3]:.4f} | by mutual NN "
                  f"delta {by_mutual[0]:+.3f}: {by_mutual[3]:.4f} | best delta {best[0]:+.3f}: {best[3]:.4f}", flush=True)
    print("\ntranslator direction: top-1 now (delta 0) / picked by share / by mutual NN / best (delta)")
    for name, a, b, now, s, mu, bt in summary:
        print(f"{name} {a}->{b}: {now:.4f} / {s[3]:.4f} ({s[0]:+.3f}) / {mu[3]:.4f} ({mu[0]:+.3f}) / "
              f"{bt[3]:.4f} ({bt[0]:+.3f})")


if __name__ == "__main__":
    main()
