"""Evaluate translators saved by ``alignment.py --save-translators`` again, without refitting them: with the query
weights they were saved with (``Translator.calibrate_queries``), and with queries decoded without the target's mean
(weight 0), on the kit's held-out Wikipedia sentences and fortunes; with ``--query-decode``, a translator saved
without a query decode (before session 40) also as ``v2v fit`` calibrates it now: its queries' direction times the
target's covariance^(-1/4) (``Translator.query_decode``, derived from the kit vectors the benchmark fitted it on:
side A for the source, side B for the target; for a half-whitened map exactly its orthogonal part) and the mean's
weight chosen again for that decode.

    python benchmarks/reevaluate.py ~/.cache/v2v-store/s39_translators --tag s39_minilm_e5_query_weights
    python benchmarks/reevaluate.py ~/.cache/v2v-store/s39_translators --query-decode --tag s40_minilm_e5_query_decode

The fit is the same in every row of a translator (the map does not depend on the decode), so the difference is what
the queries' decode does on maps found without pairs.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from alignment import evaluate, fmt  # noqa: E402
from kit import load, run_meta, save_results, splits  # noqa: E402

from v2v_store.translator import Translator  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("directory", type=Path, help="where alignment.py --save-translators put them (PAIR_seedN)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--tag", default="reevaluate")
    ap.add_argument("--query-decode", action="store_true",
                    help="also calibrate each translator as v2v fit does now (query decode and mean weight)")
    args = ap.parse_args()
    _, side_a, side_b = splits("wiki", "minilm")
    saved = sorted(p for p in args.directory.iterdir() if (p / "config.json").exists())
    if not saved:
        ap.error(f"no saved translators in {args.directory}: run alignment.py with --save-translators {args.directory}")
    rows, data = [], {}
    for path in saved:
        tr = Translator.load(path, device="cpu")
        a, b = tr.source.name, tr.target.name
        for corpus in ("wiki", "fortunes"):
            for m in (a, b):
                data.setdefault((corpus, m), load(corpus, m))
        variants = [("calibrated", dict(tr.query_weights)), ("weight 0", {})]
        if args.query_decode and not any(k.startswith("query_decode.") for k in tr.tensors):
            variants.append(("query decode", None))
        for label, weights in variants:
            if weights is None:
                seed = re.search(r"seed(\d+)$", path.name)  # calibrated on the fit's seed, as the fit does
                tr.calibrate_queries(data[("wiki", a)][side_a], data[("wiki", b)][side_b], seed=int(seed[1]) if seed else 0)
                weights = dict(tr.query_weights)
            tr.query_weights = weights
            m = evaluate(tr, a, b, data, ("wiki", "fortunes"))
            rows.append({"translator": path.name, "queries": label, "weights": weights, "metrics": m})
            print(path.name, label, weights, fmt(m[f"wiki:{a}->{b}"]), fmt(m[f"wiki:{b}->{a}"]), flush=True)
    meta = run_meta()
    lines = ["# Saved translators evaluated again: how their queries are decoded", "",
             f"Command: `{meta['command']}`  ", f"Machine: {meta['machine']}, {meta['date']}", "",
             "Cells: mean cos (of the records) / top-1 / mean rank (of the queries) among 8,192 held-out wiki sentences "
             "and the first 8,192 fortunes (`metrics.translation_metrics`). Queries: `calibrated` as saved, "
             "`weight 0` without the target's mean, `query decode` calibrated as `v2v fit` does since session 40 "
             "(direction times the target covariance^-1/4, mean weight chosen again).", "",
             "| translator | queries | mean weights | wiki A->B | wiki B->A | fortunes A->B | fortunes B->A |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        a, b = r["translator"].split("_")[:2]
        m = r["metrics"]
        weights = ", ".join(f"{k} {v:+.2f}" for k, v in r["weights"].items()) or "-"
        lines.append(f"| {r['translator']} | {r['queries']} | {weights} | {fmt(m[f'wiki:{a}->{b}'])} | "
                     f"{fmt(m[f'wiki:{b}->{a}'])} | {fmt(m[f'fortunes:{a}->{b}'])} | {fmt(m[f'fortunes:{b}->{a}'])} |")
    save_results(args.out, args.tag, {**meta, "rows": rows}, lines)


if __name__ == "__main__":
    main()
