"""One table for many single-seed runs of ``benchmarks/alignment.py``, with the counts issue 4 asks for.

    python benchmarks/seeds_summary.py benchmarks/results/alignment_soup_minilm_e5_seed*.json

Per seed: wall time, the label-free trust verdict, held-out wiki top-1 / mean rank both ways, fortunes (out of
distribution) top-1 both ways. Then per pair: seeds converged, meeting the target (the runner's ``converged`` and
``meets_target`` verdicts), trusted, the spread of top-1 and wall time, and (runs that timed them) the mean wall
time of each phase of the fit. Prints markdown.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict


def main(paths: list[str]) -> None:
    rows = [row for path in paths for row in json.load(open(path))["rows"]]
    rows.sort(key=lambda r: (r["pair"], r["seed"]))
    print("| pair | seed | wall s | trusted | wiki top-1 A->B / B->A | wiki rank A->B / B->A | fortunes top-1 A->B / B->A |")
    print("|---|---|---|---|---|---|---|")
    by_pair = defaultdict(list)
    for r in rows:
        a, b = r["pair"].split("<->")
        m = r["metrics"]
        wiki = m[f"wiki:{a}->{b}"], m[f"wiki:{b}->{a}"]
        ood = m.get(f"fortunes:{a}->{b}"), m.get(f"fortunes:{b}->{a}")
        ood_cell = f"{ood[0]['top1']:.3f} / {ood[1]['top1']:.3f}" if all(ood) else "-"
        print(f"| {r['pair']} | {r['seed']} | {r['seconds']:.0f} | {r['trusted']} | {wiki[0]['top1']:.3f} / "
              f"{wiki[1]['top1']:.3f} | {wiki[0]['mean_rank']:.2f} / {wiki[1]['mean_rank']:.2f} | {ood_cell} |")
        by_pair[r["pair"]].append((r, wiki))
    print()
    for pair, runs in by_pair.items():
        top = [min(w[0]["top1"], w[1]["top1"]) for _, w in runs]
        walls = [r["seconds"] for r, _ in runs]
        converged = sum(bool(r["converged"]) for r, _ in runs)  # the runner's own verdicts
        met = sum(bool(r["meets_target"]) for r, _ in runs)
        trusted = sum(bool(r["trusted"]) for r, _ in runs)
        print(f"- {pair}: {len(runs)} seeds, {converged} converged, {met} meet the target, {trusted} trusted; "
              f"worse direction's top-1 {min(top):.3f}-{max(top):.3f} (median {statistics.median(top):.3f}); "
              f"wall {min(walls):.0f}-{max(walls):.0f} s (mean {statistics.mean(walls):.0f})")
        phased = [r["phase_seconds"] for r, _ in runs if r.get("phase_seconds")]
        if phased:  # runs from session 20 on
            names = list(dict.fromkeys(name for p in phased for name in p))
            print(f"  - mean seconds per phase over {len(phased)} seed(s): " + ", ".join(
                f"{name.replace('_', ' ')} {statistics.mean(p.get(name, 0.0) for p in phased):.0f}" for name in names))


if __name__ == "__main__":
    main(sys.argv[1:])
