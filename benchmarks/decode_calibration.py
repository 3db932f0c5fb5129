"""How translations are decoded into the target space, and what it does to retrieval, for each use of a translation.

    python benchmarks/decode_calibration.py

Orthogonal Procrustes fitted on the kit's Wikipedia side A pairs (the ceiling map, so the decode is all that differs),
evaluated on the 8,192 held-out sentences three ways:

- *as queries* (the paper's metrics): each translation searches the true target vectors (a cross-query);
- *as records*: each true target vector searches the translations (a migrated collection searched by the new model);
- *mixed*: the first half of the held-out sentences translated, the second half genuine target vectors, each true
  target vector of the first half searching all 8,192 (a migrated collection that new documents join).

Decodes: ``old`` ``unit(unit(z W^T) + mean)`` (every translation before session 38: the centred part at distance 1
from the mean); ``spread`` ``unit(sqrt(1 - |mean|^2) unit(z W^T) + mean)`` (records since session 38,
:func:`v2v_store.train.linear.linear_decode`: at the target vectors' own RMS distance from their mean); ``centred``
``unit(z W^T)`` (queries in session 39 before calibration); ``calibrated`` ``unit(unit(z W^T) + w mean)``
(queries in session 39, :func:`v2v_store.train.linear.linear_decode_query`, the weight ``w`` chosen label-free by
``Translator.calibrate_queries`` on side A's source vectors against side B's target vectors, unpaired); ``query
decode`` ``unit(unit(z W^T C^-1/4) + w mean)`` (queries since session 40, ``Translator.query_decode``; ``C`` the
target's covariance, ``w`` chosen again for this decode).
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
from v2v_store.translator import QUERIES, QUERY_WHITEN, RECORDS, Space, Translator  # noqa: E402

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
    held, side_a, side_b = splits("wiki", "minilm")
    rows = []
    for a, b in PAIRS:
        xa, ya = (np.asarray(load("wiki", m)[side_a], np.float32) for m in (a, b))
        xh, yh = (np.asarray(load("wiki", m)[held], np.float32) for m in (a, b))
        oracle = fit_procrustes((xa, ya))
        tr = Translator.from_linear_map(oracle, Space(a, DIMS[a]), Space(b, DIMS[b]))
        mean_norm = float(np.linalg.norm(tr.linear_space(tr.space(b))[0].cpu().numpy()))
        translator_module.linear_decode = old_decode
        decoded = {"old": tr.translate(xh, a, b)}
        translator_module.linear_decode = linear_decode
        decoded["spread"] = tr.translate(xh, a, b, role=RECORDS)
        decoded["centred"] = tr.translate(xh, a, b, role=QUERIES)
        yb = np.asarray(load("wiki", b)[side_b], np.float32)
        weights = {}
        for name, whiten in (("calibrated", 0.0), ("query decode", QUERY_WHITEN)):  # session 39's queries; now
            tr = Translator.from_linear_map(oracle, Space(a, DIMS[a]), Space(b, DIMS[b]))
            weights[name] = tr.calibrate_queries(xa, yb, whiten=whiten)[b]["weight"]
            decoded[name] = tr.translate(xh, a, b, role=QUERIES)
        for name, translated in decoded.items():
            as_queries, as_records = paired_metrics(translated, yh), paired_metrics(yh, translated)
            mixed = mixed_retrieval(translated, yh)
            rows.append({"pair": f"{a} -> {b}", "target_mean_norm": mean_norm,
                         "decode": f"{name} (w = {weights[name]:.2f})" if name in weights else name,
                         "mean_cos": as_queries.mean_cos, "queries_top1": as_queries.top1,
                         "queries_rank": as_queries.mean_rank, "records_top1": as_records.top1,
                         "records_rank": as_records.mean_rank, "mixed_top1": mixed[0], "mixed_rank": mixed[1]})
            print(rows[-1], flush=True)
    meta = run_meta()
    lines = ["# Decoding translations: as records and as queries", "",
             f"Command: `{meta['command']}`  ", f"Machine: {meta['machine']}, {meta['date']}", "",
             "Oracle Procrustes on the kit's Wikipedia side A, 8,192 held-out sentences. As queries (the paper's "
             "metrics): each translation searches the true target vectors. As records: each true target vector searches "
             "the translations. Mixed: the first 4,096 translated, the other 4,096 genuine target vectors in one "
             "collection, each true vector of the first half searching all 8,192. Decodes: `old` (all translations "
             "before session 38), `spread` (records now), `centred` (queries without the mean), `calibrated` (queries "
             "in session 39: the mean's weight w chosen label-free, `Translator.calibrate_queries`), `query decode` "
             "(queries now: the direction times the target's covariance^-1/4, `Translator.query_decode`, then w "
             "chosen for it).", "",
             "| pair | target mean norm | decode | mean cos | as queries top-1 / rank | as records top-1 / rank | "
             "mixed top-1 / rank |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['pair']} | {r['target_mean_norm']:.2f} | {r['decode']} | {r['mean_cos']:.3f} | "
              f"{r['queries_top1']:.4f} / {r['queries_rank']:.3f} | {r['records_top1']:.4f} / {r['records_rank']:.3f} | "
              f"{r['mixed_top1']:.3f} / {r['mixed_rank']:.1f} |" for r in rows]
    save_results(Path("benchmarks/results"), "decode_calibration", {**meta, "rows": rows}, lines)


if __name__ == "__main__":
    main()
