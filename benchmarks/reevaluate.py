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
import json
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from alignment import evaluate, fmt  # noqa: E402
from kit import load, run_meta, save_results, splits  # noqa: E402

from v2v_store.translator import Translator  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("directory", type=Path, nargs="?", help="where alignment.py --save-translators put them (PAIR_seedN)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--tag", default="reevaluate")
    ap.add_argument("--query-decode", action="store_true",
                    help="also calibrate each translator as v2v fit does now (query decode and mean weight)")
    ap.add_argument("--rewrite", action="store_true",
                    help="only write the markdown again from OUT/TAG.json (e.g. after this script's tables changed)")
    args = ap.parse_args()
    if args.rewrite:
        saved = json.loads((args.out / f"{args.tag}.json").read_text())
        write({k: v for k, v in saved.items() if k != "rows"}, saved["rows"], args.out, args.tag)
        return
    if args.directory is None:
        ap.error("name the directory of saved translators (or --rewrite with --tag)")
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
    write(run_meta(), rows, args.out, args.tag)


def write(meta: dict, rows: list[dict], out: Path, tag: str) -> None:
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
    lines += ["", "Per query decode, over the translators: median (range) top-1, mean-rank range, and how many meet issue 4's "
              "target (top-1 >= 0.95 and mean rank <= 1.2 both ways on wiki).", "",
              "| queries | wiki top-1 A->B | wiki top-1 B->A | mean rank A->B / B->A | fortunes top-1 A->B / B->A | meet |",
              "|---|---|---|---|---|---|"]
    for label in dict.fromkeys(r["queries"] for r in rows):
        lines.append(summary_row(label, [r for r in rows if r["queries"] == label]))
    save_results(out, tag, {**meta, "rows": rows}, lines)


def summary_row(label: str, rows: list[dict]) -> str:
    a, b = rows[0]["translator"].split("_")[:2]

    def values(corpus, x, y, key):
        return [r["metrics"][f"{corpus}:{x}->{y}"][key] for r in rows]

    def median_range(v):
        return f"{np.median(v):.3f} ({min(v):.3f}-{max(v):.3f})"

    top_ab, top_ba = values("wiki", a, b, "top1"), values("wiki", b, a, "top1")
    rank_ab, rank_ba = values("wiki", a, b, "mean_rank"), values("wiki", b, a, "mean_rank")
    meet = sum(t1 >= 0.95 and t2 >= 0.95 and r1 <= 1.2 and r2 <= 1.2
               for t1, t2, r1, r2 in zip(top_ab, top_ba, rank_ab, rank_ba))
    f_ab, f_ba = values("fortunes", a, b, "top1"), values("fortunes", b, a, "top1")
    return (f"| {label} | {median_range(top_ab)} | {median_range(top_ba)} | {min(rank_ab):.2f}-{max(rank_ab):.2f} / "
            f"{min(rank_ba):.2f}-{max(rank_ba):.2f} | {min(f_ab):.3f}-{max(f_ab):.3f} / {min(f_ba):.3f}-{max(f_ba):.3f} | "
            f"{meet}/{len(rows)} |")


if __name__ == "__main__":
    main()
