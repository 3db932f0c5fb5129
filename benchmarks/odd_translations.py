"""How records unlike sentences translate: ids, numbers, prices, dates, e-mail addresses, URLs, log lines, code (the
14 kinds of ``two_models.odd_records``), each embedded by two models (e5 and MiniLM by default), translated by
translators that ``v2v fit`` makes as a user runs it, and scored against their true vectors among the ~1,000 records
of their own kind (top-1: a record's translation lies nearest its own true vector; for a catalogue of ids, whether a
search for an id still finds it). The 8,192 held-out wiki sentences are scored beside them (among all 8,192). One
run, seed 0, this CPU.

    python benchmarks/odd_translations.py --out benchmarks/results                         # e5 <-> MiniLM
    python benchmarks/odd_translations.py --models minilm mpnet --out benchmarks/results   # needs mpnet's weights

Translators (the two models; each is scored both ways):

- ``sentences``: the default fit (``--method auto``: anchors+align) on the kit's wiki side A (first model) and side B
  (second);
- ``with odd records``: the same, each collection also holding 250 records of each kind (20%; other records on each
  side), as a collection that holds such records is fitted;
- ``+ N pair texts``: that, with ``--pair-texts`` of N records of each kind (other records again): what a user can add;
- ``oracle, sentence pairs``: orthogonal Procrustes on the 13,805 true wiki pairs of side A (what a map learnt from
  sentences does at best);
- ``oracle, the kind's pairs``: Procrustes on true pairs of the kind itself (two halves, each scored by the map of the
  other): what one linear map per kind can reach.

Records that occur in a collection or among the pair texts are left out of the scored ones.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import two_models
from kit import EVAL, SIDE_A, SIDE_B, load, markdown_table, run_meta, save_results
from v2v_store.metrics import paired_metrics
from v2v_store.texts import embed_cached
from v2v_store.train.linear import fit_procrustes
from v2v_store.translator import Space, Translator

logger = logging.getLogger("bench.odd_translations")
MODELS = ("e5", "minilm")  # the default pair
IN_COLLECTIONS = 250  # records of each kind in each collection (20% of a side)
SCORED = 1000  # records of each kind scored (before repeats and those seen elsewhere are left out)
PAIR_TEXTS = (20, 50)  # --pair-texts: records of each kind


def embedded(texts: list[str], models: tuple[str, str]) -> dict[str, np.ndarray]:
    return {model: embed_cached(model, texts) for model in models}


def fit(out: Path, models: tuple[str, str], source: np.ndarray, target: np.ndarray,
        eval_pairs: tuple[np.ndarray, np.ndarray], pair_texts: list[str] | None = None) -> tuple[Translator, dict]:
    """``v2v fit`` as a user runs it, on .npy collections (the held-out pairs only for its report)."""
    out.mkdir(parents=True)
    for name, vectors in (("source", source), ("target", target), ("eval_source", eval_pairs[0]),
                          ("eval_target", eval_pairs[1])):
        np.save(out / f"{name}.npy", vectors)
    cmd = [sys.executable, "-m", "v2v_store", "fit", "--source", str(out / "source.npy"), "--target",
           str(out / "target.npy"), "--source-model", models[0], "--target-model", models[1], "--out",
           str(out / "translator"), "--eval-source", str(out / "eval_source.npy"), "--eval-target",
           str(out / "eval_target.npy")]
    if pair_texts:
        (out / "pairs.txt").write_text("\n".join(pair_texts) + "\n")
        cmd += ["--pair-texts", str(out / "pairs.txt")]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    logger.info("fitted %s: %s, %.0f s", out.name, report.get("method"), report.get("seconds", float("nan")))
    return Translator.load(out / "translator"), report


def cross_fitted(x: np.ndarray, y: np.ndarray, models: tuple[str, str]) -> np.ndarray:
    """Each half of ``x`` translated by Procrustes fitted on the true pairs of the other half."""
    half = len(x) // 2
    out = np.empty_like(y)
    for fit_rows, score_rows in ((slice(0, half), slice(half, None)), (slice(half, None), slice(0, half))):
        mapping = fit_procrustes((x[fit_rows], y[fit_rows]))
        out[score_rows] = oracle_translator(mapping, models, x.shape[1], y.shape[1]).translate(
            x[score_rows], *models, role="queries")
    return out


def oracle_translator(mapping, models: tuple[str, str], source_dim: int, target_dim: int) -> Translator:
    return Translator.from_linear_map(mapping, Space(models[0], source_dim), Space(models[1], target_dim))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs=2, default=list(MODELS),
                        help="the pair of offline models (default: e5 minilm)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    models = tuple(args.models)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    wiki = {model: load("wiki", model) for model in models}
    in_source, in_target = two_models.odd_records(IN_COLLECTIONS, seed=2), two_models.odd_records(IN_COLLECTIONS, 3)
    pair_kinds = two_models.odd_records(max(PAIR_TEXTS), seed=9)
    seen = {t for kinds in (in_source, in_target, pair_kinds) for texts in kinds.values() for t in texts}
    scored = {kind: [t for t in dict.fromkeys(texts) if t not in seen]
              for kind, texts in two_models.odd_records(SCORED, seed=5).items()}
    scored_vectors = {kind: embedded(texts, models) for kind, texts in scored.items()}
    source_odd = np.concatenate([embed_cached(models[0], t) for t in in_source.values()])
    target_odd = np.concatenate([embed_cached(models[1], t) for t in in_target.values()])
    rng = np.random.default_rng(0)
    mixed = [np.concatenate([wiki[models[0]][SIDE_A], source_odd]),
             np.concatenate([wiki[models[1]][SIDE_B], target_odd])]
    mixed = [m[rng.permutation(len(m))] for m in mixed]
    eval_pairs = (wiki[models[0]][EVAL], wiki[models[1]][EVAL])

    translators: dict[str, Translator] = {}
    reports: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        runs = {"sentences": (wiki[models[0]][SIDE_A], wiki[models[1]][SIDE_B], None),
                "with odd records": (*mixed, None)}
        for n in PAIR_TEXTS:
            runs[f"with odd records + {n * len(pair_kinds)} pair texts ({n} per kind)"] = (
                *mixed, [t.replace("\n", " ") for texts in pair_kinds.values() for t in texts[:n]])
        for i, (name, (source, target, pairs)) in enumerate(runs.items()):
            translators[name], reports[name] = fit(Path(tmp) / f"fit{i}", models, source, target, eval_pairs, pairs)
    oracle = oracle_translator(fit_procrustes((wiki[models[0]][SIDE_A], wiki[models[1]][SIDE_A])), models,
                               wiki[models[0]].shape[1], wiki[models[1]].shape[1])
    translators["oracle, sentence pairs"] = oracle

    rows, table = [], {}
    for name, translator in translators.items():
        for source_model, target_model in (models, models[::-1]):
            if translator is oracle and source_model != models[0]:
                continue
            direction = f"{source_model} -> {target_model}"
            translate = lambda x: translator.translate(x, source_model, target_model, role="queries")  # noqa: E731
            results = {"wiki": paired_metrics(translate(wiki[source_model][EVAL]), wiki[target_model][EVAL])}
            for kind, vectors in scored_vectors.items():
                results[kind] = paired_metrics(translate(vectors[source_model]), vectors[target_model])
            rows.append({"translator": name, "direction": direction,
                         "fit": {k: reports.get(name, {}).get(k) for k in ("method", "trusted", "seconds")},
                         **{kind: m.to_dict() for kind, m in results.items()}})
            table[f"{name}, {direction}"] = {kind: f"{m.top1:.{3 if kind == 'wiki' else 2}f}"
                                             for kind, m in results.items()}
            logger.info("%s, %s: %s", name, direction, table[f"{name}, {direction}"])
    ceiling = {kind: paired_metrics(cross_fitted(v[models[0]], v[models[1]], models), v[models[1]])
               for kind, v in scored_vectors.items()}
    rows.append({"translator": "oracle, the kind's pairs", "direction": f"{models[0]} -> {models[1]}",
                 **{kind: m.to_dict() for kind, m in ceiling.items()}})
    table[f"oracle, the kind's pairs, {models[0]} -> {models[1]}"] = {k: f"{m.top1:.2f}" for k, m in ceiling.items()}
    meta = run_meta()
    keys = ["wiki", *scored]
    counts = ", ".join(f"{kind} {len(texts)}" for kind, texts in scored.items())
    lines = ["# How records unlike sentences translate", "",
             f"`{meta['command']}` ({meta['date']}, {meta['machine']}): top-1 of each record's translation among the "
             f"records of its own kind (wiki: among the 8,192 held-out sentences), {models[0]} <-> {models[1]}, "
             f"`v2v fit` defaults, seed 0, one run. Records scored per kind: {counts}.", "",
             *markdown_table(table, keys), "",
             "Fits: " + "; ".join(f"{name}: {r.get('method')}, trusted {r.get('trusted')}, {r.get('seconds', 0):.0f} s"
                                  for name, r in reports.items())]
    tag = "odd_translations" if models == MODELS else f"odd_translations_{models[0]}_{models[1]}"
    save_results(args.out, tag, {"meta": meta, "scored": {k: len(v) for k, v in scored.items()},
                                                "rows": rows}, lines)


if __name__ == "__main__":
    main()
