"""Does ``v2v_store.space_check.two_models`` tell a collection of two models' vectors from one model's, on the kit?
One model's collections (wiki sentences, fortunes, both together; English with French bundled sentences, embedded
here by MiniLM and e5) must pass; MiniLM and e5 vectors mixed in one collection (different texts) must be found,
with their shares. One run.

    python benchmarks/two_models.py --out benchmarks/results

For each collection: what ``two_models`` returns (the smaller model's share, the covariance similarity of the two
groups; none: one model), and the lowest similarity of any k-means group against the rest (one model's groups keep
something of its covariance; the detector's bar is ``THRESHOLD``, 0.05), over its four k-means draws.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import torch

from kit import load, markdown_table, run_meta, save_results
from v2v_store.space_check import THRESHOLD, _kmeans, _spread_rows, _unit_sample, judgeable, space_similarity, two_models

logger = logging.getLogger("bench.two_models")
N = 10_000


def lowest_group(vectors: np.ndarray, groups: int = 8, tries: int = 4) -> float:
    """The lowest similarity of a (judgeable) k-means group against the rest over the ``tries`` k-means draws, as
    ``two_models`` computes them."""
    u = _unit_sample(vectors, 0)
    u = u[torch.randperm(len(u), generator=torch.Generator().manual_seed(0))]
    lowest = np.inf
    for seed in range(tries):
        label = _kmeans(u, [u[i] for i in _spread_rows(u, groups, seed)], 25)
        lowest = min([lowest] + [space_similarity(u[label == j].numpy(), u[label != j].numpy(), seed)
                                 for j in range(groups) if (label == j).sum() >= 100 and judgeable(u[label == j].numpy())])
    return float(lowest)


def collections() -> dict[str, tuple[np.ndarray, float | None]]:
    """name -> (vectors, the share of the smaller model, None for one model)."""
    from v2v_store.texts import bundled_sentences, embed_cached

    wiki = {m: load("wiki", m) for m in ("minilm", "e5", "mpnet")}
    fortunes = {m: load("fortunes", m) for m in ("minilm", "e5", "mpnet")}
    out = {}
    for m in wiki:
        out[f"{m}: wiki"] = wiki[m][:N], None
        out[f"{m}: fortunes"] = fortunes[m], None
        out[f"{m}: wiki + fortunes"] = np.concatenate([wiki[m][:N // 2], fortunes[m][:N // 2]]), None
    english = [d["text"] for d in bundled_sentences("en")][:2000]
    french = [d["text"] for d in bundled_sentences("fr")][:2000]
    for m in ("minilm", "e5"):
        out[f"{m}: English + French sentences"] = np.concatenate([embed_cached(m, english), embed_cached(m, french)]), None
    for share in (0.5, 0.2, 0.05, 0.02, 0.01):
        k = int(N * share)
        out[f"wiki: MiniLM + {share:.0%} e5"] = np.concatenate([wiki["minilm"][:N - k], wiki["e5"][N - k:N]]), share
    out["wiki: e5 + 5% MiniLM"] = np.concatenate([wiki["e5"][:N - 500], wiki["minilm"][N - 500:N]]), 0.05
    out["fortunes: MiniLM + 50% e5"] = np.concatenate([fortunes["minilm"][:4096], fortunes["e5"][4096:]]), 0.5
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    rows, table = [], {}
    for name, (vectors, share) in collections().items():
        start = time.perf_counter()
        found = two_models(vectors)
        seconds = time.perf_counter() - start
        low = lowest_group(vectors)
        rows.append({"collection": name, "rows": len(vectors), "mixed_share": share, "found": found,
                     "lowest_group_similarity": low, "seconds": seconds})
        logger.info("%s: %s (lowest group %.3f, %.2f s)", name, found, low, seconds)
        table[name] = {"rows": len(vectors), "truth": "one model" if share is None else f"{share:.0%} of another",
                       "found": "one model" if found is None else f"{found[0]:.1%} at {found[1]:.4f}",
                       "lowest group vs rest": f"{low:.3f}", "seconds": f"{seconds:.2f}"}
    meta = run_meta()
    lines = ["# Two models' vectors in one collection", "",
             f"`{meta['command']}` ({meta['date']}, {meta['machine']}): `v2v_store.space_check.two_models` on each "
             f"collection (at most 5,000 rows sampled; a group found below similarity {THRESHOLD} against the rest "
             "means two models). One run.", "",
             *markdown_table(table, ["rows", "truth", "found", "lowest group vs rest", "seconds"])]
    save_results(args.out, "two_models", {"meta": meta, "rows": rows}, lines)


if __name__ == "__main__":
    main()
