"""What each finalist rule would have returned, from benchmark runs that recorded their finalists.

    python benchmarks/finalists_summary.py benchmarks/results/alignment_final3_minilm_e5.json ...

For every seed: held-out top-1 (A->B / B->A) of the restart chosen at restart level alone (``final_candidates=1``),
of the finalist with the best final score on the 6,000-vector restart sample (the rule before ``final_score_max``),
and of the one with the best score on all training vectors (the rule now). Failed restarts (restart score more than 2%
below the best finalist's; on these runs the aligner's converged bar draws the same line) are left out: they
are no longer finalists. Reads the ``finalists`` rows of ``benchmarks/alignment.py``'s JSON; prints a markdown table.
"""

from __future__ import annotations

import json
import sys


def main(paths: list[str]) -> None:
    print("| pair | seed | chosen restart alone | best sample score | best all-vector score |")
    print("|---|---|---|---|---|")
    gains = {"sample": [], "all": []}
    for path in paths:
        for row in json.load(open(path))["rows"]:
            finalists = row.get("finalists") or []
            if len(finalists) < 2:
                continue
            first = max(finalists, key=lambda f: f["restart_score"])
            finalists = [f for f in finalists if f["restart_score"] >= first["restart_score"] - 0.02 * abs(first["restart_score"])]
            sample = max(finalists, key=lambda f: f["final_score"])
            every = max(finalists, key=lambda f: f["all_mutual_csls"])
            cell = lambda f: f"{f['top1'][0]:.3f} / {f['top1'][1]:.3f} (restart {f['restart']})"  # noqa: E731
            print(f"| {row['pair']} | {row['seed']} | {cell(first)} | {cell(sample)} | {cell(every)} |")
            gains["sample"].append(sample["top1"][0] - first["top1"][0])
            gains["all"].append(every["top1"][0] - first["top1"][0])
    for rule, g in gains.items():
        if g:
            print(f"\n{rule}: A->B top-1 change against the chosen restart alone: mean {sum(g) / len(g):+.4f}, "
                  f"min {min(g):+.3f}, max {max(g):+.3f}, over {len(g)} seeds")


if __name__ == "__main__":
    main(sys.argv[1:])
