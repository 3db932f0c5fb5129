"""`v2v evaluate` on saved translators, on the kit's held-out sentences: how much retrieval survives, per direction.

    python benchmarks/evaluate_kit.py ~/.cache/v2v-store/s42_translators/minilm_e5_seed0 ... --tag s42_evaluate

Each translator directory is named ``<a>_<b>_seed<N>`` (the kit's models of its two spaces). For the kit's 8,192
held-out wiki sentences and 8,192 fortunes (out of distribution), both models' vectors are written as ``.npy`` and the
real command runs: ``v2v evaluate --translator DIR --source A.npy --target B.npy``. Reported: the paper's top-1 / mean
rank (among the 8,192) and top-10 overlaps with re-encoding (module docstring of ``v2v_store/evaluate.py``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from kit import EVAL, OOD, load, run_meta, save_results  # noqa: E402


def title_queries(folder: Path, count: int) -> Path:
    """``count`` distinct article titles of the held-out wiki rows (seed 0), one per line: short, query-like texts."""
    from kit import KIT

    rows = [json.loads(line) for line in (KIT / "wiki.jsonl").read_text().splitlines()[EVAL.start:EVAL.stop]]
    titles = sorted({r["title"] for r in rows})
    picked = [titles[i] for i in np.random.default_rng(0).choice(len(titles), min(count, len(titles)), replace=False)]
    path = folder / "titles.txt"
    path.write_text("\n".join(picked) + "\n")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("translators", nargs="+", type=Path)
    ap.add_argument("--title-queries", type=int, default=0,
                    help="also run wiki with this many distinct article titles of the held-out rows as --queries "
                         "(short, query-like texts) for the overlaps")
    ap.add_argument("--tag", default="evaluate_kit")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = ap.parse_args()
    rows, payload = [], {**run_meta(), "results": []}
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.translators:
            a, b = path.name.split("_")[:2]
            runs = [("wiki", "wiki", EVAL, []), ("fortunes", "fortunes", OOD, [])]
            if args.title_queries:
                runs.insert(1, (f"wiki, {args.title_queries} titles as queries", "wiki", EVAL,
                                ["--queries", str(title_queries(Path(tmp), args.title_queries))]))
            for label, corpus, rows_of, extra in runs:
                files = []
                for model in (a, b):
                    files.append(Path(tmp) / f"{corpus}.{model}.npy")
                    np.save(files[-1], load(corpus, model)[rows_of])
                t0 = time.perf_counter()
                out = subprocess.run([sys.executable, "-m", "v2v_store", "evaluate", "--translator", str(path),
                                      "--source", str(files[0]), "--target", str(files[1]), *extra],
                                     capture_output=True, text=True)
                if out.returncode != 0:
                    raise SystemExit(out.stderr[-2000:])
                report = json.loads(out.stdout)
                payload["results"].append({"translator": path.name, "corpus": label,
                                           "seconds": round(time.perf_counter() - t0, 1), **report})
                for d in report["directions"]:
                    rows.append(f"| {path.name} | {label} | {d['source']} -> {d['target']} | {d['top1']:.3f} / "
                                f"{d['mean_rank']:.2f} | {d['migrated_overlap']:.3f} | {d['cross_query_overlap']:.3f} | "
                                f"{report['models_overlap']:.3f} |")
    lines = [f"# `v2v evaluate` on the kit ({payload['date']})", "",
             f"Command: `{payload['command']}`  ", f"Machine: {payload['machine']}", "",
             "8,192 documents per corpus (wiki: the held-out split; fortunes: out of distribution). Top-10 overlaps "
             "with the search re-encoded documents give, each document's own vector standing in for a query: "
             "**migrated** (new-model queries over the translated collection), **cross** (old-model queries "
             "translated, over the re-encoded collection), **models** (the two models' own searches: what keeping "
             "the old collection and its model's queries agrees with re-encoding). Rows \"titles as queries\": the "
             "overlaps measured with article titles (embedded as queries by both models) as the queries instead.", "",
             "| translator | corpus | direction | top-1 / mean rank | migrated | cross | models |",
             "|---|---|---|---|---|---|---|", *rows]
    save_results(args.out, args.tag, payload, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
