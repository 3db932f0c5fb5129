"""Does ``v2v_store.space_check.two_models`` tell a collection of two models' vectors from one model's, on the kit?
One model's collections (wiki sentences, fortunes, both together; English with French bundled sentences, embedded
here by MiniLM and e5; wiki sentences with 10% of odd records - ids, numbers, prices, dates, e-mail addresses, URLs,
log lines, code - generated here and embedded by the same model) must pass; MiniLM and e5 vectors mixed in one
collection (different texts, with and without odd records) must be found, with their shares. One run.

    python benchmarks/two_models.py --out benchmarks/results

For each collection: what ``two_models`` returns (the smaller model's share, the covariance similarity of the two
groups; none: one model), and the lowest similarity of any k-means group against the rest over its four k-means
draws. One model's groups of sentences keep something of its covariance (the bar is ``THRESHOLD``, 0.05); a narrow
group of odd records may not (below the bar, even negative), so a group is only called another model's where its
similarity is also within ``UNRELATED`` of 0 and its vectors find no nearer neighbours in the rest than in rotated
copies of it (``NEIGHBOURS_Z``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import time
import uuid
from pathlib import Path

import numpy as np
import torch

from kit import load, markdown_table, run_meta, save_results, texts as kit_texts
from v2v_store.space_check import (NEIGHBOURS_Z, THRESHOLD, UNRELATED, _kmeans, _spread_rows, _unit_sample, judgeable,
                                   space_similarity, two_models)

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


def odd_records(n: int = 400, seed: int = 0) -> dict[str, list[str]]:
    """``n`` generated records of each of 14 kinds a collection of sentences may also hold (session 73: narrow groups
    of these had been called another model's)."""
    rng = random.Random(seed)
    words = sorted({w.strip(".,;:()\"'").lower() for d in kit_texts("wiki")[:5000] for w in d.split()
                    if w.isalpha() and len(w) > 3})
    word = lambda: rng.choice(words)  # noqa: E731
    code = [line.strip() for path in sorted(Path(json.__file__).parent.parent.glob("*.py"))[:200]
            for line in path.read_text(errors="ignore").splitlines() if 20 <= len(line.strip()) <= 120
            and not line.strip().startswith("#")]
    rng.shuffle(code)
    kinds = {
        "sku": lambda: f"{rng.choice('ABCDEFGHJK')}{rng.choice('XYZQ')}-{rng.randint(1000, 99999)}-"
                       f"{rng.choice(['S', 'M', 'L', 'XL'])}",
        "numbers": lambda: str(rng.choice([rng.randint(0, 10**9), round(rng.uniform(0, 1000), 2),
                                           f"+1 {rng.randint(200, 999)} {rng.randint(100, 999)} "
                                           f"{rng.randint(1000, 9999)}"])),
        "urls": lambda: f"https://www.{word()}.com/{word()}/{word()}-{rng.randint(1, 999)}.html",
        "logs": lambda: f"2024-0{rng.randint(1, 9)}-{rng.randint(10, 28)} {rng.randint(10, 23)}:{rng.randint(10, 59)}:"
                        f"{rng.randint(10, 59)} {rng.choice(['ERROR', 'WARN', 'INFO', 'DEBUG'])} "
                        f"[worker-{rng.randint(1, 16)}] {word()} "
                        f"{rng.choice(['failed', 'timeout', 'connected', 'retrying'])} id={rng.randint(1000, 9999)}",
        "words": word,
        "json": lambda: json.dumps({"id": rng.randint(1, 10**6), "status": rng.choice(["ok", "failed"]),
                                    "name": word()}),
        "dates": lambda: f"{rng.randint(1990, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "prices": lambda: f"${rng.randint(1, 999)}.{rng.randint(0, 99):02d}",
        "hashes": lambda: hashlib.sha1(str(rng.random()).encode()).hexdigest(),
        "uuids": lambda: str(uuid.UUID(int=rng.getrandbits(128))),
        "ints": lambda: str(rng.randint(0, 10**6)),
        "emails": lambda: f"user{rng.randint(1, 99999)}@example{rng.randint(1, 50)}.org",
        "short codes": lambda: rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + str(rng.randint(0, 99)),
    }
    out = {kind: [make() for _ in range(n)] for kind, make in kinds.items()}
    out["python code"] = code[:n]
    return out


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
    odd = {m: {kind: embed_cached(m, texts) for kind, texts in odd_records().items()} for m in ("minilm", "e5")}
    for m, other in (("minilm", "e5"), ("e5", "minilm")):
        for kind, vectors in odd[m].items():
            out[f"{m}: wiki + 10% {kind}"] = np.concatenate([wiki[m][:3600], vectors]), None
        all_kinds = [wiki[m][:2800]] + [v[:200] for v in odd[m].values()]
        out[f"{m}: wiki + 50% of all 14 kinds"] = np.concatenate(all_kinds), None
        out[f"{m}: wiki + 5% {other} wiki + 10% numbers"] = np.concatenate(
            [wiki[m][:3400], odd[m]["numbers"], wiki[other][N:N + 200]]), 0.05
        out[f"{m}: wiki + 5% {other} wiki + 14 kinds, 20%"] = np.concatenate(
            [wiki[m][:3000], wiki[other][N:N + 200]] + [v[:57] for v in odd[m].values()]), 0.05
        for kind in ("numbers", "emails", "prices"):
            out[f"{m}: wiki + 10% {other} {kind}"] = np.concatenate([wiki[m][:3600], odd[other][kind]]), 0.1
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
             f"collection (at most 5,000 rows sampled; a group below similarity {THRESHOLD} against the rest, within "
             f"{UNRELATED} of 0 and with no nearer neighbours in the rest than chance (z < {NEIGHBOURS_Z}) means two "
             "models). One run.", "",
             *markdown_table(table, ["rows", "truth", "found", "lowest group vs rest", "seconds"])]
    save_results(args.out, "two_models", {"meta": meta, "rows": rows}, lines)


if __name__ == "__main__":
    main()
