"""How translations are decoded into the target space, and what it does to retrieval where they meet genuine vectors.

    python benchmarks/decode_calibration.py

Orthogonal Procrustes fitted on the kit's Wikipedia side A pairs (the ceiling map, so the decode is all that differs),
evaluated on the 8,192 held-out sentences two ways: the paper's metrics (each translation against the true target
vectors: mean cosine, top-1 and mean rank among the translations), and a *mixed* collection (the first half of the
held-out sentences translated, the second half genuine target vectors, each true target vector of the first half
queried against all 8,192: as after a migration into a collection where new documents are embedded by the new model).

Decodes: ``old`` ``unit(unit(z W^T) + mean)`` (before session 38: the centred part at distance 1 from the mean), and
``spread`` ``unit(sqrt(1 - |mean|^2) unit(z W^T) + mean)`` (now, :func:`v2v_store.train.linear.linear_decode`: at the
target vectors' own RMS distance from their mean).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kit import DIMS, load, run_meta, save_results, splits  # noqa: E402

import v2v_store.translator as translator_module  # noqa: E402
from v2v_store.metrics import paired_metrics  # noqa: E402
from v2v_store.train.linear import fit_procrustes, linear_decode, unit  # noqa: E402
from v2v_store.translator import Space, Translator  # noqa: E402

PAIRS = [("minilm", "e5"), ("e5", "minilm"), ("minilm", "mpnet"), ("mpnet", "minilm"), ("mpnet", "e5"), ("e5", "mpnet")]


def old_decode(z, mean, decode):
    return unit(unit(z @ decode) + mean)


def mixed_retrieval(translated: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Top-1 / mean rank of each of the first half's true vectors against its translation, among the first half's
    translations and the second half's genuine vectors."""
    half = len(truth) // 2
    candidates = np.concatenate([translated[:half], truth[half:]])
    candidates = candidates / np.linalg.norm(candidates, axis=1, keepdims=True)
    queries = truth[:half] / np.linalg.norm(truth[:half], axis=1, keepdims=True)
    sims = queries @ candidates.T
    ranks = 1 + (sims > sims[np.arange(half), np.arange(half)][:, None]).sum(1)
    return float((ranks == 1).mean()), float(ranks.mean())


def main() -> None:
    held, side_a, _ = splits("wiki", "minilm")
    rows = []
    for a, b in PAIRS:
        xa, ya = (np.asarray(load("wiki", m)[side_a], np.float32) for m in (a, b))
        xh, yh = (np.asarray(load("wiki", m)[held], np.float32) for m in (a, b))
        tr = Translator.from_linear_map(fit_procrustes((xa, ya)), Space(a, DIMS[a]), Space(b, DIMS[b]))
        mean_norm = float(np.linalg.norm(tr.linear_space(tr.space(b))[0].cpu().numpy()))
        for name, decode in (("old", old_decode), ("spread", linear_decode)):
            translator_module.linear_decode = decode
            translated = tr.translate(xh, a, b)
            paper = paired_metrics(translated, yh)
            mixed = mixed_retrieval(translated, yh)
            rows.append({"pair": f"{a} -> {b}", "target_mean_norm": mean_norm, "decode": name, "mean_cos": paper.mean_cos,
                         "top1": paper.top1, "mean_rank": paper.mean_rank, "mixed_top1": mixed[0], "mixed_rank": mixed[1]})
            print(rows[-1], flush=True)
        translator_module.linear_decode = linear_decode
    meta = run_meta()
    lines = ["# Decoding translations: at distance 1 from the target's mean (old) or at its own spread (now)", "",
             f"Command: `{meta['command']}`  ", f"Machine: {meta['machine']}, {meta['date']}", "",
             "Oracle Procrustes on the kit's Wikipedia side A, 8,192 held-out sentences. Paper metrics: translations "
             "against the true target vectors. Mixed: the first 4,096 translated, the other 4,096 genuine target vectors "
             "in one collection, each true vector of the first half queried against all 8,192.", "",
             "| pair | target mean norm | decode | mean cos | top-1 | mean rank | mixed top-1 | mixed mean rank |",
             "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['pair']} | {r['target_mean_norm']:.2f} | {r['decode']} | {r['mean_cos']:.3f} | {r['top1']:.4f} | "
              f"{r['mean_rank']:.3f} | {r['mixed_top1']:.3f} | {r['mixed_rank']:.1f} |" for r in rows]
    save_results(Path("benchmarks/results"), "decode_calibration", {**meta, "rows": rows}, lines)


if __name__ == "__main__":
    main()
