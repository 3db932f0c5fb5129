"""One table for many single-seed runs of ``benchmarks/alignment.py``, with the counts issue 4 asks for.

    python benchmarks/seeds_summary.py benchmarks/results/alignment_soup_minilm_e5_seed*.json

Per seed: wall time, the label-free trust verdict, held-out wiki top-1 / mean rank both ways, fortunes (out of
distribution) top-1 both ways. Then per pair: seeds converged, meeting the target (the runner's ``converged`` and
``meets_target`` verdicts), trusted, the spread of top-1 and wall time, and (runs that timed them) the mean wall
time of each phase of the fit. Prints markdown.

    python benchmarks/seeds_summary.py --pairs-only FILES...

prints one row per pair instead (the README's current-default table): seeds, trusted, meeting the target, top-1
(median and range) and mean rank both ways, fortunes top-1, wall time and how many fits took over 10 minutes, and
(when some fit ran the rival search, over the runs that timed their phases) the wall time less that phase.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict


def _span(values: list[float], fmt: str = "{:.3f}") -> str:
    low, high = fmt.format(min(values)), fmt.format(max(values))
    return low if low == high else f"{low}-{high}"


def _seeds(seeds: list[int]) -> str:
    return f"{seeds[0]}-{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else ", ".join(map(str, seeds))


def pairs_table(rows: list[dict]) -> None:
    """One markdown row per pair over its seeds; the last column only when some fit ran the rival search."""
    rivals = any("rivals" in r.get("phase_seconds", {}) for r in rows)
    print("| pair | seeds | trusted | meet target | top-1 A->B median (range) | top-1 B->A median (range) | "
          "mean rank A->B / B->A | fortunes top-1 A->B / B->A | wall s (mean) | over 10 min |"
          + (" wall less rivals s (mean) |" if rivals else ""))
    print("|---|---|---|---|---|---|---|---|---|---|" + ("---|" if rivals else ""))
    by_pair = defaultdict(list)
    for r in rows:
        by_pair[r["pair"]].append(r)
    for pair, runs in by_pair.items():
        a, b = pair.split("<->")
        wiki = [(r["metrics"][f"wiki:{a}->{b}"], r["metrics"][f"wiki:{b}->{a}"]) for r in runs]
        ood = [(r["metrics"].get(f"fortunes:{a}->{b}"), r["metrics"].get(f"fortunes:{b}->{a}")) for r in runs]
        top = [[w[d]["top1"] for w in wiki] for d in (0, 1)]
        rank = [[w[d]["mean_rank"] for w in wiki] for d in (0, 1)]
        walls = [r["seconds"] for r in runs]
        less = [r["seconds"] - r["phase_seconds"].get("rivals", 0.0) for r in runs if r.get("phase_seconds")]
        less_cell = f"{_span(less, '{:.0f}')} ({statistics.mean(less):.0f})" if less else "-"
        if less and len(less) < len(runs):
            less_cell += f", {len(less)} timed"
        ood_cell = (" / ".join(_span([o[d]["top1"] for o in ood]) for d in (0, 1)) if all(all(o) for o in ood) else "-")
        print(f"| {pair} | {_seeds([r['seed'] for r in runs])} | {sum(bool(r['trusted']) for r in runs)}/{len(runs)} | "
              f"{sum(bool(r['meets_target']) for r in runs)}/{len(runs)} | "
              + " | ".join(f"{statistics.median(t):.3f} ({_span(t)})" for t in top)
              + f" | {_span(rank[0], '{:.2f}')} / {_span(rank[1], '{:.2f}')} | {ood_cell} | "
              f"{_span(walls, '{:.0f}')} ({statistics.mean(walls):.0f}) | {sum(w > 600 for w in walls)} |"
              + (f" {less_cell} |" if rivals else ""))


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", metavar="FILE", help="JSON results of benchmarks/alignment.py")
    ap.add_argument("--pairs-only", action="store_true", help="one row per pair (the README's table)")
    args = ap.parse_args(argv)
    pairs_only = args.pairs_only
    rows = [row for path in args.paths for row in json.load(open(path))["rows"]]
    rows.sort(key=lambda r: (r["pair"], r["seed"]))
    if pairs_only:
        pairs_table(rows)
        return
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
