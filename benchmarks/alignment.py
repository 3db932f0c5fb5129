"""Unsupervised alignment on the kit: every pair of kit models, both directions, several seeds.

    python benchmarks/alignment.py --seeds 0 1 2 --out benchmarks/results

Per pair and seed: fit on disjoint halves of the wiki training split (source side A, target side B,
no pairs), pick the restart by the label-free score only, then evaluate on the 8,192 held-out wiki
sentences and on 8,192 fortunes (out of distribution): the paper's metrics, each translation searching the true
vectors (``metrics.translation_metrics``), and the other way round, each true vector searching the translations
(``records:``, how a migrated collection is searched). Baselines: identity (where dims match) and
oracle Procrustes on the true pairs of side A (the ceiling of a linear map).

``--train-corpus fortunes`` trains on the kit's fortunes instead (3,072 per side, disjoint), evaluates on
2,048 held-out fortunes and on the 8,192 wiki evaluation sentences (out of distribution).
``--train-corpus wordnet`` trains on WordNet glosses built by ``build_kit.py wordnet`` (27,610 per side, or the first
``--train-size`` of each side), evaluates on 8,192 held-out glosses and on the kit's wiki and fortunes texts. Any other
corpus in the kit's layout (``build_kit.py foldoc``, or your own texts: ``build_kit.py NAME=PATH``) is split by
``kit.splits``: up to 8,192 rows held out, the rest in two disjoint halves.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import fields
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from kit import load, run_meta, save_results, splits  # noqa: E402

from v2v_store.fit import fit_translator  # noqa: E402
from v2v_store.metrics import paired_metrics, translation_metrics  # noqa: E402
from v2v_store.train.align import AlignConfig  # noqa: E402
from v2v_store.train.linear import fit_procrustes  # noqa: E402
from v2v_store.translator import Space, Translator  # noqa: E402

logger = logging.getLogger("bench.align")
TARGET_TOP1, TARGET_RANK = 0.95, 1.2


def eval_split(corpus: str, train_corpus: str, model: str) -> slice:
    """Held-out rows of the training corpus; the first 8,192 rows of any other (out of distribution)."""
    return splits(corpus, model)[0] if corpus == train_corpus else slice(0, 8192)


def evaluate(tr: Translator, a: str, b: str, data: dict, corpora: tuple[str, ...], train_corpus: str = "wiki") -> dict:
    out = {}
    for corpus in corpora:
        sl = eval_split(corpus, train_corpus, a)
        u, v = data[corpus, a][sl], data[corpus, b][sl]
        out[f"{corpus}:{a}->{b}"] = translation_metrics(tr, u, v, a, b).to_dict()
        out[f"{corpus}:{b}->{a}"] = translation_metrics(tr, v, u, b, a).to_dict()
        # as a migration writes them: each true vector searching the translations (the paper's metrics the other way)
        out[f"{corpus}:records:{a}->{b}"] = paired_metrics(v, tr.translate(u, a, b)).to_dict()
        out[f"{corpus}:records:{b}->{a}"] = paired_metrics(u, tr.translate(v, b, a)).to_dict()
        # what a cross-query (`v2v query --mode latent`) ranks by, A as queries against B (Translator.to_space)
        out[f"{corpus}:latent:{a}->{b}"] = paired_metrics(tr.to_space(u, a, into=b), tr.to_space(v, b)).to_dict()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["minilm", "mpnet", "e5"])
    ap.add_argument("--pairs", nargs="+", default=None, help="only these pairs, e.g. minilm:e5 mpnet:e5")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--method", default="align")
    ap.add_argument("--restarts", type=int, default=None)
    ap.add_argument("--align", nargs="+", default=[], metavar="FIELD=VALUE",
                    help="AlignConfig overrides, e.g. wp_batch=4000 final_wp_iters=0")
    ap.add_argument("--train-corpus", default="wiki",
                    help="train (disjoint halves) and evaluate in-domain on this corpus (default wiki): wiki, fortunes, "
                    "or any corpus in the kit's layout, e.g. built by build_kit.py (wordnet, foldoc, your own texts)")
    ap.add_argument("--ood", action=argparse.BooleanOptionalAction, default=True,
                    help="also evaluate on the other kit corpus (out of distribution)")
    ap.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True,
                    help="oracle Procrustes on side A's true pairs, and identity where dims match")
    ap.add_argument("--near-copies", type=float, default=None, metavar="COS",
                    help="centred cosine from which a side's vectors count once (v2v fit --near-copies; default: 0.9 "
                         "where such near-copies are 10%% or more of a side; 1: exact copies only, as before session 52)")
    ap.add_argument("--train-size", type=int, default=None, metavar="N",
                    help="train on the first N vectors of each side only (default: all; 13,805 for wiki): the data-size curve")
    ap.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--tag", default="alignment")
    ap.add_argument("--save-translators", type=Path, default=None, metavar="DIR",
                    help="also save each fitted translator in DIR/PAIR_seedN (to evaluate it again without refitting: "
                    "benchmarks/reevaluate.py)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    overrides = {"restarts": args.restarts} if args.restarts else {}
    types = {f.name: f.type for f in fields(AlignConfig)}  # annotations as strings: "int", "float", "str", ...
    for item in args.align:
        name, _, value = item.partition("=")
        if name not in types:
            ap.error(f"--align {item}: no AlignConfig field {name!r}; fields: {', '.join(types)}")
        parse = {"int": int, "float": float, "bool": lambda v: v.lower() in ("1", "true", "yes")}.get(types[name], str)
        overrides[name] = parse(value)
    tc = args.train_corpus
    pairs = [tuple(p.split(":")) for p in args.pairs] if args.pairs else list(combinations(args.models, 2))
    models = sorted({m for pair in pairs for m in pair})
    held_rows, side_a, side_b = splits(tc, models[0])
    corpora = (tc,) + tuple(c for c in ("wiki", "fortunes") if c != tc and args.ood)
    data = {(c, m): load(c, m) for c in corpora for m in models}
    if args.train_size is not None and args.train_size < 100:
        ap.error(f"--train-size {args.train_size}: use at least 100 vectors per side")
    train = slice(0, args.train_size)  # within each side
    rows, baselines = [], []
    for a, b in pairs:
        wa, wb = data[tc, a], data[tc, b]
        base = {"pair": f"{a}<->{b}"}
        if args.baselines:
            oracle = Translator.from_linear_map(fit_procrustes((wa[side_a], wb[side_a])), Space(a, wa.shape[1]), Space(b, wb.shape[1]))
            base["oracle_procrustes"] = evaluate(oracle, a, b, data, corpora, tc)
        if args.baselines and wa.shape[1] == wb.shape[1]:
            base["identity"] = {f"{tc}:{a}->{b}": paired_metrics(wa[held_rows], wb[held_rows]).to_dict(),
                                f"{tc}:{b}->{a}": paired_metrics(wb[held_rows], wa[held_rows]).to_dict()}
        baselines.append(base)
        for seed in args.seeds:
            t0 = time.perf_counter()
            aligned = []
            tr, report = fit_translator(wa[side_a][train], wb[side_b][train], (a, b), method=args.method, seed=seed, device=args.device,
                                        align_overrides=overrides or None, progress=False, on_align_result=aligned.append,
                                        near_copies=args.near_copies)
            seconds = time.perf_counter() - t0
            if args.save_translators is not None:
                tr.save(args.save_translators / f"{a}_{b}_seed{seed}")
            metrics = evaluate(tr, a, b, data, corpora, tc)
            held_out = [metrics[f"{tc}:{a}->{b}"], metrics[f"{tc}:{b}->{a}"]]  # the in-domain evaluation
            row = {"pair": f"{a}<->{b}", "seed": seed, "train_corpus": tc, "train_per_side": len(wa[side_a][train]), "seconds": seconds, "trusted": report.trusted,
                   "reason": report.reason, "label_free_score": report.score, "metrics": metrics,
                   "restarts": report.details.get("restarts"), "phase_seconds": report.details.get("phase_seconds"),
                   "finalists": finalist_metrics(aligned[0], a, b, data, tc, (wa[side_a][train], wb[side_b][train])) if aligned else [],
                   "meets_target": all(m["top1"] >= TARGET_TOP1 and m["mean_rank"] <= TARGET_RANK for m in held_out),
                   "converged": all(m["top1"] >= 0.5 for m in held_out)}
            rows.append(row)
            logger.info("%s seed %d: %.0f s, trusted=%s, %s %s / %s", row["pair"], seed, seconds, report.trusted,
                        tc, held_out[0], held_out[1])
            write(args, rows, baselines)


def finalist_metrics(result, a: str, b: str, data: dict, tc: str, train: tuple[np.ndarray, np.ndarray]) -> list[dict]:
    """Held-out top-1 / rank of every restart that got the final steps (a diagnostic, never used to pick):
    what ``final_candidates`` = 1, 2, ... would have returned, from one run with the largest (finalists are
    processed in a fixed order, so the first ones' final steps do not depend on how many follow). Beside
    them, other label-free criteria on all training vectors (``label_free_criteria``), to compare with the
    aligner's final score."""
    out = []
    for r in result.restarts:
        if r.final_score is None:
            continue
        lm = result.candidates[r.restart]
        tr = Translator.from_linear_map(lm, Space(a, data[tc, a].shape[1]), Space(b, data[tc, b].shape[1]))
        m = evaluate(tr, a, b, data, (tc,), tc)
        out.append({"restart": r.restart, "solver": r.solver, "restart_score": r.score, "final_score": r.final_score,
                    **label_free_criteria(lm, *train),
                    "chosen": r.restart == result.chosen, "in_soup": r.restart in getattr(result, "soup", []),
                    "top1": [m[f"{tc}:{a}->{b}"]["top1"], m[f"{tc}:{b}->{a}"]["top1"]],
                    "mean_rank": [m[f"{tc}:{a}->{b}"]["mean_rank"], m[f"{tc}:{b}->{a}"]["mean_rank"]]})
    return out


def label_free_criteria(lm, source: np.ndarray, target: np.ndarray, k: int = 10) -> dict:
    """Label-free criteria of a map on all training vectors (no pairs): mean CSLS of mutual nearest
    neighbours (the aligner's final score; before ``final_score_max`` it used the 6,000-vector restart
    sample) and the share of source vectors whose CSLS neighbour is mutual. (The ``alignment_final3*`` result
    files of 2026-11-23 also hold ``all_best_csls``, the mean best CSLS of every source vector.)"""
    import torch

    from v2v_store.train.linear import linear_encode, unit
    from v2v_store.train.matching import mutual_pairs

    xl = linear_encode(torch.as_tensor(source), torch.as_tensor(lm.source_mean), torch.as_tensor(lm.source_proj))
    yl = linear_encode(torch.as_tensor(target), torch.as_tensor(lm.target_mean), torch.as_tensor(lm.target_proj))
    if not lm.orthogonal:  # half-whitened maps: compared by direction, as the aligner scores them
        xl, yl = unit(xl), unit(yl)
    rows, _, scores = mutual_pairs(xl, yl, k)
    return {"all_mutual_csls": scores.mean().item(), "all_mutual_fraction": len(rows) / len(xl)}


def fmt(m: dict | None) -> str:
    return "-" if m is None else f"{m['mean_cos']:.3f} / {m['top1']:.3f} / {m['mean_rank']:.2f}"


def write(args, rows, baselines) -> None:
    meta = run_meta()
    tc = args.train_corpus
    other = [c for c in ("wiki", "fortunes") if c != tc]
    held = splits(tc, rows[0]["pair"].split("<->")[0])[0] if rows else slice(0, 0)
    n_held = held.stop - held.start
    lines = [f"# Unsupervised alignment on the kit ({args.method})", "", f"Command: `{meta['command']}`  ",
             f"Machine: {meta['machine']}, {meta['date']}", "",
             f"Trained on disjoint halves of {tc} (no pairs; {rows[0]['train_per_side'] if rows else '-'} vectors per side); "
             "seed/restart chosen by the label-free score only. "
             f"Cells: mean cos / top-1 / mean rank among the {n_held:,} held-out {tc} texts (in domain) and the first "
             f"8,192 {other[0]} texts (out of distribution): the cosine of each translation as a migration writes it "
             "with its true vector, the ranks of each translation as a query among the true vectors "
             "(`metrics.translation_metrics`; since session 39 queries keep the share of the target's mean that "
             "`calibrate_queries` chose without labels at fit time). "
             "The JSON also holds `records:` (each true vector searching the translations, as a migrated "
             "collection is searched) and `latent:` (what `v2v query --mode latent` ranks by).", "",
             f"| pair | seed | wall s | trusted | {tc} A->B | {tc} B->A | {other[0]} A->B | {other[0]} B->A | target met |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        a, b = r["pair"].split("<->")
        m = r["metrics"]
        lines.append(f"| {r['pair']} | {r['seed']} | {r['seconds']:.0f} | {r['trusted']} | {fmt(m[f'{tc}:{a}->{b}'])} | "
                     f"{fmt(m[f'{tc}:{b}->{a}'])} | {fmt(m.get(f'{other[0]}:{a}->{b}'))} | {fmt(m.get(f'{other[0]}:{b}->{a}'))} | "
                     f"{'yes' if r['meets_target'] else 'no'} |")
    lines += ["", "Summary per pair: seeds converged (top-1 >= 0.5 both ways) / meeting the target (top-1 >= 0.95 and "
              "rank <= 1.2 both ways) / trusted by the label-free confidence check.", ""]
    for base in baselines:
        pr = [r for r in rows if r["pair"] == base["pair"]]
        lines.append(f"- {base['pair']}: {sum(r['converged'] for r in pr)}/{len(pr)} converged, "
                     f"{sum(r['meets_target'] for r in pr)}/{len(pr)} meet target, {sum(r['trusted'] for r in pr)}/{len(pr)} trusted; "
                     f"mean wall time {np.mean([r['seconds'] for r in pr]) if pr else float('nan'):.0f} s")
    with_finalists = [r for r in rows if len(r.get("finalists") or []) > 1]
    if with_finalists:
        lines += ["", f"Finalists (restarts that got the final steps; the best final label-free score wins; {tc} held-out "
                  "top-1 A->B / B->A beside, a diagnostic only, in the order they were run; the chosen one's after its extra "
                  "steps, started from the average of the finalists marked *in the soup* when there are several):", ""]
    for r in with_finalists:
        lines.append(f"- {r['pair']} seed {r['seed']}: " + "; ".join(
            f"restart {f['restart']} ({f['solver']}, restart score {f['restart_score']:.4f}, final {f['final_score']:.4f}, "
            f"on all training vectors {f['all_mutual_csls']:.4f})"
            f" {f['top1'][0]:.3f} / {f['top1'][1]:.3f}{' **chosen**' if f['chosen'] else ''}"
            f"{' (in the soup)' if f.get('in_soup') else ''}" for f in r["finalists"]))
    timed = [r for r in rows if r.get("phase_seconds")]
    if timed:
        lines += ["", "Wall time per phase of the fit, seconds (the rest of the wall time is loading and translating):", ""]
        lines += [f"- {r['pair']} seed {r['seed']}: " + ", ".join(f"{k.replace('_', ' ')} {v:.0f}" for k, v in r["phase_seconds"].items())
                  for r in timed]
    measured = [base for base in baselines if "oracle_procrustes" in base]  # none with --no-baselines
    if measured:
        lines += ["", f"## Baselines ({tc} held-out; {other[0]} in the JSON)", "",
                  "| pair | oracle Procrustes A->B | oracle B->A | identity A->B | identity B->A |", "|---|---|---|---|---|"]
    for base in measured:
        a, b = base["pair"].split("<->")
        o, i = base["oracle_procrustes"], base.get("identity")
        lines.append(f"| {base['pair']} | {fmt(o[f'{tc}:{a}->{b}'])} | {fmt(o[f'{tc}:{b}->{a}'])} | "
                     + (f"{fmt(i[f'{tc}:{a}->{b}'])} | {fmt(i[f'{tc}:{b}->{a}'])} |" if i else "n/a (dims differ) | n/a |"))
    save_results(args.out, args.tag, {"meta": meta, "rows": rows, "baselines": baselines}, lines)


if __name__ == "__main__":
    main()
