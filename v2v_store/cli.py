"""The ``v2v`` command line. Library code raises typed errors; this module turns them into a
one-line message on stderr and a non-zero exit status (2 bad input, 3 untrusted result)."""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import sys
import time
from functools import wraps
from inspect import cleandoc
from typing import Callable

import typer

from v2v_store.anchors import DOCUMENT_CHECK, DOCUMENT_PAIRS
from v2v_store.errors import (UntrustedTranslationError, V2VError, disk_full, disk_full_message, lost_connection,
                              lost_connection_message)

app = typer.Typer(help="Move and query vector collections across embedding models without re-encoding.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
logger = logging.getLogger("v2v_store")


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:
        # faiss-cpu's loader reports at INFO each SIMD build it did not find, as a ModuleNotFoundError; the HTTP
        # clients of the Chroma and Qdrant servers (httpx, httpcore) one line per request (thousands in a migration)
        for name in ("faiss.loader", "httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.WARNING)
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:  # `kill`, a stopped container or job: end as Ctrl-C does
        signal.signal(signal.SIGTERM, _terminate)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would raise KeyboardInterrupt, so a migration stops between batches' writes."""


def _finite(value):
    """``value`` with every float JSON cannot hold (NaN, infinity: a metric with nothing to measure) as None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _json(value, **options) -> str:
    """``value`` as strict JSON, which any reader parses (NaN and infinity as null; objects JSON lacks as text)."""
    options.setdefault("default", str)
    return json.dumps(_finite(value), allow_nan=False, **options)


def _terminate(signum, frame) -> None:
    raise Terminated()


def handles_errors(fn: Callable) -> Callable:
    """Turn V2VError (and argument errors) into a clear message and exit code, not a traceback."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except V2VError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt as e:
            typer.echo(f"{'terminated' if isinstance(e, Terminated) else 'interrupted'}: a migration continues from its "
                       "last checkpoint with the same command and --resume; a fit saves its translator only once it "
                       "is done", err=True)
            raise typer.Exit(143 if isinstance(e, Terminated) else 130) from None
        except Exception as e:
            # a server lost, or a disk full, mid-command outside a migration (which names them itself)
            lost, full = lost_connection(e), disk_full(e)
            if lost is None and full is None:
                raise
            typer.echo(f"error: {lost_connection_message(lost) if lost else disk_full_message(full)}", err=True)
            raise typer.Exit(V2VError.exit_code) from None

    return wrapper


def _show_translator(path: str, as_json: bool) -> None:
    """``v2v inspect TRANSLATOR_DIR``: :meth:`~v2v_store.translator.Translator.summary`, as JSON or text."""
    from v2v_store.translator import Translator

    summary = {"path": path, **Translator.load(path, device="cpu").summary()}
    if as_json:
        typer.echo(_json(summary, default=str))
        return
    spaces = " and ".join(f"{s['name']} ({s['dim']}-d{', ' + s['model'] if s['model'] else ''})"
                          for s in summary["spaces"])
    verdict = {True: "trusted", False: "NOT trusted (no label-free check confirmed it: v2v fit exited 3)"}
    typer.echo(f"{path}: a {summary['kind']} translator between {spaces}\n"
               f"  fit: {summary['method'] or 'not recorded'}"
               + (f" (chosen by --method {summary['requested_method']})" if summary["requested_method"] else "")
               + f", {verdict.get(summary['trusted'], 'verdict not recorded')}")
    found, accuracy = summary["warnings"], summary["accuracy_warnings"]
    if found is None:
        typer.echo("  warnings: not recorded (saved before v2v-store recorded them)")
    else:
        marked, note = accuracy or [], ""
        if marked:
            note = f" ({len(marked)} of them accuracy warnings, marked: a far worse map wherever measured)"
        elif accuracy is None and found:
            note = "; accuracy warnings not recorded (saved before they were)"
        typer.echo(f"  warnings: {len(found) or 'none'}{note}"
                   + "".join(f"\n    - {'[accuracy] ' if w in marked else ''}{w}" for w in found))
    for name, value in summary["checks"].items():
        if name in ("paired", "document_check"):  # per direction: the paper's metrics
            first = f"{summary['spaces'][0]['name']}->"  # source -> target first (saved in key order)
            value = "; ".join(f"{d} top-1 {m.get('top1', float('nan')):.3f}, mean rank "
                              f"{m.get('mean_rank', float('nan')):.2f}"
                              for d, m in sorted(value.items(), key=lambda item: not item[0].startswith(first)))
            name = {"paired": "paired evaluation (--eval-source/--eval-target)",
                    "document_check": "document check (stored documents held out of the fit)"}[name]
        typer.echo(f"  {name}: {value}")
    if summary["reason"]:
        typer.echo(f"  reason: {summary['reason']}")


@app.command()
@handles_errors
def inspect(
    uri: str = typer.Argument(..., help="Store URI, e.g. faiss:///data/index.faiss or "
                                        "chroma:///data/db?collection=docs, or a translator directory (what `v2v fit` "
                                        "saved)"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of text."),
    sample: int = typer.Option(5, help="How many sample records to show."),
    model: str = typer.Option(None, help="Check whether this model (minilm | e5 | mpnet | a saved sentence-transformers "
                              "directory | py:MODULE:FUNCTION) made the vectors: up to 200 stored documents "
                              "re-embedded and compared with their stored vectors (stale ones counted)."),
    translator_path: str = typer.Option(None, "--translator", help="A translator directory: count 2,048 records drawn "
                                        "from all through the collection (its first, where it holds no more) in each "
                                        "of its spaces, told by their vectors (a collection half way through a "
                                        "re-embedding holds both: migrate it with --source-space auto)."),
    where: list[str] = typer.Option(None, help="Also count the records whose metadata meets this (as query --where; "
                                               "repeat for all of several) and show the first of them: a filter "
                                               "tried before a migration or query by it (a Qdrant engine counts "
                                               "them; other stores are read whole)."),
) -> None:
    """Count, dimension, metric, index type, settings (those a migration carries to a new collection), other vectors
    of its points, how many of the first records hold a migration's marked translations, their metadata fields
    (what a --where can name), sample ids/metadata, warnings, and which known model (minilm, e5, mpnet) the vectors
    look like, from their covariance (of the first records and of records from all through it); with --model, whether that model made them from the documents; with
    --translator, which of its spaces each record is in; with --where, how many records meet a filter, and which.
    Given a translator directory: its spaces and models, how it was fitted and whether it was confirmed, what the fit
    warned of (the accuracy warnings apart) and what its checks measured."""
    from v2v_store.connectors import Where, open_store
    from v2v_store.inspect import inspect_store
    from v2v_store.translator import is_translator_directory

    if is_translator_directory(uri):
        given = [flag for flag, value in (("--model", model), ("--translator", translator_path), ("--where", where))
                 if value]
        if given:
            raise V2VError(f"{uri} is a translator directory; {', '.join(given)} inspect a collection: give its "
                           f"URI, or drop {', '.join(given)} to see the translator")
        _show_translator(uri, as_json)
        return

    kept = Where.parse(where)  # a bad filter fails before the collection is read
    with open_store(uri) as store:
        if not store.exists():
            from v2v_store.errors import StoreNotFoundError

            raise StoreNotFoundError(f"{uri} does not exist: {store.missing()}")
        if model is not None:
            from v2v_store.models import require_model

            require_model(model, "--model")
        translator = None
        if translator_path is not None:
            from v2v_store.translator import Translator

            translator = Translator.load(translator_path, device="cpu")
        report = inspect_store(store, sample=sample, model=model, translator=translator, where=kept)
    if as_json:
        typer.echo(_json(report.to_dict(), default=str))
        return
    typer.echo(f"{report.uri}\n  count: {report.count}\n  dim: {report.dim or 'not known yet (empty)'}\n"
               f"  metric: {report.metric}\n  index: {report.index_type}")
    if report.scanned:
        typer.echo(f"  mean norm (sample): {report.mean_norm:.4f}\n"
                   f"  documents: {report.with_documents} of the first {report.scanned} records carry one"
                   + (" (v2v fit pairs them with the other model's embeddings: --document-pairs)"
                      if report.with_documents else ""))
    if report.model_similarity is None:
        if report.scanned:
            typer.echo("  model: not judged (too few vectors, or no preferred directions)")
    elif report.model_similarity:
        sims = ", ".join(f"{m} {s:.2f}" for m, s in sorted(report.model_similarity.items(), key=lambda kv: -kv[1]))
        typer.echo(f"  model: looks like {report.looks_like or 'none of the known models'} (covariance similarity: {sims})")
    if report.model_check is not None:
        typer.echo(f"  model check ({report.model_check['model']}): {report.model_check['verdict']}")
    if report.spaces is not None:
        counts = report.spaces.get("counts")
        typer.echo("  translator spaces: " + (", ".join(f"{k} {v:,}" for k, v in counts.items()) + "; " if counts else "")
                   + report.spaces["verdict"])
    settings = {k: v for k, v in report.settings.items() if k not in ("other_vectors", "vector_name")}
    if settings:
        typer.echo("  settings (a new collection of this backend migrated from it gets them): "
                   + _json(settings, default=str))
    if report.other_vectors:
        typer.echo("  other vectors of its points: " + ", ".join(report.other_vectors)
                   + (" (a new Qdrant collection or edge shard migrated from it gets them, as they are)"
                      if "other_vectors" in report.settings else ""))
    if report.points_without_vector:
        typer.echo(f"  points without this vector: {report.points_without_vector:,} (other vectors only, not in the "
                   "count: a new Qdrant collection or edge shard migrated from it gets them as they are; to give them "
                   "this vector from another of theirs: v2v migrate ... --on-exists fill)")
    if report.translations:
        typer.echo(f"  translations: {report.translations:,} of the first {report.scanned:,} records hold one, not "
                   "this model's embedding (marked by a migration beside embeddings, or a sync: _v2v_translated; v2v "
                   "fit and evaluate leave them out)")
    for key, n in report.synced_from.items():
        typer.echo(f"  synced: {n:,} of the first {report.scanned:,} records were written by a sync from source {key} "
                   "(v2v migrate --on-exists sync from it keeps them in step; its plan names the key)")
    if report.metadata_fields:
        typer.echo(f"  metadata fields of the first {report.scanned:,} records (query/migrate --where FIELD=VALUE): "
                   + "; ".join(f"{name}: {what}" for name, what in report.metadata_fields.items()))
    for i, m, d in zip(report.sample_ids, report.sample_metadata, report.sample_documents):
        typer.echo(f"  - id={i!r} metadata={m!r} document={d!r}")
    if report.where is not None:
        typer.echo(f"  filter {report.where}: {report.where_count:,} of {report.count:,} records meet it"
                   + (", the first:" if report.where_sample else ""))
        for r in report.where_sample:
            typer.echo(f"  - id={r['id']!r} metadata={r['metadata']!r} document={r['document']!r}")
    for w in report.warnings:
        typer.echo(f"  warning: {w}")


def _load_array(path: str | None, one_vector: bool = False):
    """All vectors of a store URI or a plain .npy path (``one_vector``: a (d,) array is one query vector)."""
    if path is None:
        return None
    import numpy as np

    from v2v_store.connectors import open_store
    from v2v_store.connectors.npy_store import read_npy
    from v2v_store.errors import StoreNotFoundError

    if "://" not in path:  # a plain .npy file
        if not os.path.exists(path):
            raise StoreNotFoundError(f"{path} does not exist: give a .npy file or a store URI")
        return np.array(np.atleast_2d(read_npy(path, (1, 2) if one_vector else (2,))), np.float32)  # a copy
    with open_store(path) as store:
        return np.concatenate([b.vectors for b in store.iter_batches(batch_size=8192, with_payload=False)])


def _pair(a: str | None, b: str | None, flag: str):
    from v2v_store.errors import V2VError

    if (a is None) != (b is None):
        raise V2VError(f"give both --{flag}-source and --{flag}-target, or neither")
    if a is None:
        return None
    u, v = _load_array(a), _load_array(b)
    if len(u) != len(v):
        raise V2VError(f"--{flag}-source has {len(u)} rows but --{flag}-target has {len(v)}: row i must be the same document")
    return u, v


FIT_HELP = ("Learn a translator between two embedding spaces from unpaired vectors. By default (--method auto), "
            "collections of models v2v-store can run (minilm, e5, mpnet: named, or recognised by their covariance "
            "fingerprints; any saved sentence-transformers model given by its directory, or any Python function "
            "py:MODULE:FUNCTION, with --source-model/--target-model) are aligned with bundled texts embedded by both models as anchor pairs "
            "(anchors+align); others without any pairs (align, unsupervised). Texts the collections keep as documents "
            "join the pairs, embedded by the other collection's model (--document-pairs), so a collection of a model "
            "that can no longer run still gets a few-shot fit when it kept its texts. Exit 3 when no check confirms "
            "the fit; with --fail-on-warning also when it warned (\"warnings\" in the report), with "
            "--fail-on-accuracy-warning only when it warned of a worse map (\"accuracy_warnings\").")


@app.command(help=FIT_HELP)
@handles_errors
def fit(
    source: str = typer.Option(..., help="Store URI (or .npy) of source-space vectors."),
    target: str = typer.Option(..., help="Store URI (or .npy) of target-space vectors: other documents are fine, "
                               "of the same kind of text as the source collection (a target of another kind "
                               "made fits worse or refused: README, limitations)."),
    out: str = typer.Option(..., help="Directory to write the translator to (config.json, model.safetensors, "
                            "space_stats.safetensors): a new one, or a translator saved before, replaced whole; any "
                            "other directory is refused."),
    source_name: str = typer.Option("source", help="Name of the source space (e.g. the model: minilm)."),
    target_name: str = typer.Option("target", help="Name of the target space (e.g. e5)."),
    source_model: str = typer.Option(None, help="The model that embedded the source collection, when it can still be "
                                                "run here: minilm | e5 | mpnet | the directory of a saved "
                                                "sentence-transformers model | py:MODULE:FUNCTION (an importable "
                                                "function: list of texts -> one vector per text). It embeds the "
                                                "anchor texts. Default: "
                                                "--source-name if that names one, else the offline model the "
                                                "collection looks like (covariance fingerprint)."),
    target_model: str = typer.Option(None, help="The same for the target collection (e.g. the new model's directory)."),
    method: str = typer.Option("auto", help="auto (default: anchors+align when both collections' models can be run "
                                            "here: given, named or recognised by their fingerprints; else align) | "
                                            "align (unsupervised) | procrustes (pairs) | anchors (bundled texts "
                                            "embedded by both models: --source-model/--target-model, else those "
                                            "the names name, else the offline models the collections look like; Procrustes "
                                            "on them, seconds) | anchors+align (the same texts as few-shot pairs of "
                                            "align, which adapts the map to the collections: minutes, better off "
                                            "Wikipedia) | gan | align+gan."),
    anchors: int = typer.Option(5000, help="--method auto, anchors(+align) and the fallback: bundled sentences to "
                                          "embed with both models (Wikipedia sentences, a quarter of the English ones "
                                          "sentences of Python's standard-library docstrings, for technical text; "
                                          "cached; at least the dimension; 5,000 by default; when a "
                                          "model cannot be loaded, the 1,000 shipped anchor vectors of each "
                                          "language), added to any "
                                          "--pairs-source/--pairs-target; 0: only those (texts you embedded with "
                                          "both models)."),
    anchor_languages: str = typer.Option("auto", help="Languages of the bundled anchor sentences (--anchors of each), "
                                                      "comma-separated among en, fr, es (the bundled Wikipedia "
                                                      "summaries' languages), or auto (default): English, and French "
                                                      "or Spanish beside it when the collections come nearer its "
                                                      "sentences than the English ones in both models' spaces "
                                                      "(French software messages, MiniLM <-> e5: top-1 0.63 -> "
                                                      "0.75; German ones pick French and stay far below their "
                                                      "oracle, 0.39 against 0.75, 0.73 with 1,000 stored "
                                                      "documents of each collection; Spanish fortunes 0.50, 0.77 "
                                                      "with them: give collections in other languages than "
                                                      "English some of their texts with --pair-texts or keep "
                                                      "their texts as documents; without, auto warns where the "
                                                      "models relate that language's anchors loosely)."),
    preset: str = typer.Option("small", help="GAN preset: paper (the paper's text) | small | tiny (CPU sizes, "
                                               "the released code's blocks)."),
    steps: int = typer.Option(None, help="GAN steps (overrides the preset)."),
    restarts: int = typer.Option(None, help="Most restarts of the aligner (default 8; it stops once three agree; "
                                            "anchors+align with at least one anchor per dimension: 1, the anchors "
                                            "fix the start)."),
    more_restarts: int = typer.Option(None, help="Aligner without pairs: when none of the restarts is confirmed, up to "
                                                 "this many more, stopping at the first confirmation (default 16; 0 "
                                                 "when --method align can fall back to anchor pairs; 0: refuse after "
                                                 "--restarts)."),
    solver: str = typer.Option(None, help="Aligner solver per restart: wasserstein (default) | self-learning | cascade "
                                            "(self-learning restarts first, wasserstein ones if those are not "
                                            "confirmed)."),
    rival_restarts: int = typer.Option(None, help="Aligner: extra restarts that look for a rival solution once a map "
                                                    "is confirmed, with the other solver; the best after the final "
                                                    "steps wins (default 0: off; 2 was the default before session 21)."),
    final_candidates: int = typer.Option(None, help="Aligner: most restarts that get the final steps, the chosen one "
                                                      "and the next best converged ones of its solver; the best final "
                                                      "label-free score wins (default 3; each costs ~20-35 s on a 2-core "
                                                      "CPU at 14k vectors per side; 1: the chosen only)."),
    transport_steps: int = typer.Option(None, help="Aligner: transport steps per restart (default 250). Fewer is "
                                                   "quicker and can align less well: for a quick trial or a smoke "
                                                   "test, not for a migration."),
    whiten: float = typer.Option(None, help="Aligner: the final transport steps see each space times its covariance "
                                            "to the power -WHITEN/2 (default 0.5, a non-orthogonal map; 0: an "
                                            "orthogonal map, the behaviour before format 2)."),
    restart_dims: int = typer.Option(None, help="Aligner: where the latent has more dimensions than this (collections "
                                                "of 768 dimensions or more on both sides), the restarts search in each "
                                                "space's top RESTART_DIMS principal directions and the final steps use "
                                                "all of them (default 384; 0: restarts on all dimensions, ~3x slower "
                                                "at 768)."),
    soup: bool = typer.Option(None, "--soup/--no-soup", help="Aligner: average the finalists' maps that agree with the "
                                                             "winner before its extra steps (default on)."),
    pair_weight: float = typer.Option(None, help="Aligner: how much each anchor or known pair counts against one "
                                                 "transport pseudo-pair of the collections (default: anchors+align "
                                                 "min(1, max(0.25, 5000/n)), n the smaller side's vectors: the more "
                                                 "of them, the more they adapt the map, and --pair-texts / "
                                                 "--pairs-* beside the anchors count 1; else 1). Given, it applies "
                                                 "to every pair."),
    time_budget: float = typer.Option(None, help="Aligner: seconds for the fit (default: no limit). Restarts stop at "
                                                   "60% of it, finalists and extra steps are cut to the rest; the fit "
                                                   "can pass it by one restart. Cuts are named in the reason."),
    seed: int = typer.Option(0),
    device: str = typer.Option("auto", help="auto | cpu | cuda."),
    max_vectors: int = typer.Option(50_000, help="Sample at most this many vectors per side."),
    near_copies: float = typer.Option(None, help="Vectors of one side within this centred cosine of each other "
                                                 "count once in the fit, like exact copies (edited versions of one "
                                                 "text: a page number, a date, a heading). Default: 0.9, where such "
                                                 "near-copies are 10% or more of a side; given, whatever their share. "
                                                 "1: only exact copies count once."),
    pairs_source: str = typer.Option(None, help="Few-shot: .npy/URI of documents embedded by the source model..."),
    pairs_target: str = typer.Option(None, help="...and the same documents, same order, by the target model."),
    pair_texts: str = typer.Option(None, help="Few-shot without embedding them yourself: a file of texts (one per "
                                              "line, or .jsonl with a \"text\" field), e.g. a few hundred of the "
                                              "collection's documents or texts like them, embedded here by both "
                                              "models (as the anchors) and added to the pairs."),
    document_pairs: int = typer.Option(DOCUMENT_PAIRS, help="Texts stored with the collections (Chroma documents, "
                                       "a Qdrant payload's \"document\" or ?document_key=..., FAISS sidecar "
                                       "documents): up to this many records of each collection that carry one are "
                                       "paired with the other collection's model's embeddings of their texts (only "
                                       "that model must run here) and join the pairs as the collections' own, for "
                                       "--method auto, anchors, anchors+align and procrustes. Each is checked against "
                                       "its own vector (a stale vector after an edit does not find its text) and left "
                                       "out if it fails; used when at least 200 remain and they behave like pairs "
                                       "(the report says how many were left out and why). 0: off."),
    document_check: int = typer.Option(DOCUMENT_CHECK, help="Of those document pairs, this many are held out of the "
                                       "fit (when there are at least twice as many) to measure the saved map on the "
                                       "collections' own texts: top-1 / mean rank of each partner among them and the "
                                       "other collection's vectors (\"document_check\" in the report). 0: fit on all."),
    shared_documents: int = typer.Option(5000, help="Records whose stored text is in both collections (the same "
                                         "document embedded by both models, e.g. part of a collection already "
                                         "re-embedded; for two named vectors of one Qdrant collection, the points "
                                         "that have both) are true pairs that need neither model: up to this many "
                                         "(at least 10 to be used) join the pairs and the held-out document "
                                         "check, for every method but gan. Found while the collections are "
                                         "sampled, plus one pass over the smaller. 0: off."),
    eval_source: str = typer.Option(None, help="Paired evaluation: held-out documents by the source model..."),
    eval_target: str = typer.Option(None, help="...and by the target model; prints the paper metrics."),
    checkpoint_dir: str = typer.Option(None, help="GAN: checkpoint here and resume from it."),
    allow_untrusted: bool = typer.Option(False, help="Exit 0 even when no label-free check confirms the fit."),
    fail_on_warning: bool = typer.Option(False, help="Exit 3 also when the fit is confirmed but warned (\"warnings\" "
                                                     "in the report: collections in another language without any of "
                                                     "their texts, collections of different kinds of text, vectors "
                                                     "left out, ...), where such fits were measured far off; the "
                                                     "translator is saved. For pipelines that migrate only on a "
                                                     "clean fit."),
    fail_on_accuracy_warning: bool = typer.Option(
        False, help="Exit 3 only on the warnings that foretell a worse map wherever measured (\"accuracy_warnings\" "
                    "in the report: collections in another language without any of their texts, collections of "
                    "different kinds of text), not on those also seen on good fits (vectors left out, documents that "
                    "pair loosely, the kinds-of-text warning from the pair profile alone for collections in another "
                    "language, ...); the translator is saved."),
    fallback: bool = typer.Option(True, "--fallback/--no-fallback",
                                  help="--method align without pairs: when no label-free check confirms the fit and "
                                       "both collections' models can be run here (--source-model/--target-model, "
                                       "or minilm, e5, mpnet named by --source-name/--target-name or recognised by "
                                       "their covariance fingerprints), "
                                       "embed --anchors bundled sentences with both and fit again as anchors+align "
                                       "(the report says so). --no-fallback: exit 3 instead."),
    space_check: bool = typer.Option(True, "--space-check/--no-space-check",
                                     help="Refuse a --source-name/--target-name of a known model (minilm, e5, mpnet) "
                                          "when the collection looks like another, and pairs or anchors whose vectors "
                                          "do not look like their collection's model (swapped or wrong names); exit 2."),
    source_where: list[str] = typer.Option(None, help="Fit on the source's records whose metadata meets this only (as "
                                                      "query --where: FIELD=VALUE, FIELD>NUMBER, ...; repeat for all "
                                                      "of several): the part of the collection to migrate, e.g. one "
                                                      "tenant's or one language's."),
    target_where: list[str] = typer.Option(None, help="The same for the target collection."),
) -> None:
    """Learn a translator between two embedding spaces from unpaired vectors (the help text: ``FIT_HELP``)."""
    from v2v_store.anchors import anchor_languages as anchor_languages_of
    from v2v_store.anchors import read_texts
    from v2v_store.fit import fit_collections, recorded_warnings, require_trusted
    from v2v_store.train.data import CollectionSample, sample_collection, sample_collections
    from v2v_store.connectors import Where, same_collection
    from v2v_store.translator import check_translator_directory

    check_translator_directory(out)  # a wrong --out fails now, not after minutes of fitting
    if "://" in source and "://" in target and same_collection(source, target):
        raise V2VError(f"--source and --target are the same collection ({source}): a translator is learned between "
                       "the old model's collection and the new model's; give the other model's collection as --target")
    for flag, value in (("--document-pairs", document_pairs), ("--document-check", document_check),
                        ("--shared-documents", shared_documents)):
        if value < 0:
            raise V2VError(f"{flag} {value}: give a count of stored documents (0: off)")
    if transport_steps is not None and transport_steps < 1:
        raise V2VError(f"--transport-steps {transport_steps}: give at least 1 step per restart (default 250)")
    if near_copies is not None and not 0 < near_copies <= 1:
        raise V2VError(f"--near-copies {near_copies}: give a centred cosine in (0, 1], e.g. 0.9 (the default), or 1 to "
                       "count only exact copies once")
    texts = read_texts(pair_texts) if pair_texts else None  # a bad file fails before the collections are read
    wheres = (Where.parse(source_where), Where.parse(target_where))
    for flag, where, uri in (("--source-where", wheres[0], source), ("--target-where", wheres[1], target)):
        if where is not None and "://" not in uri:
            raise V2VError(f"{flag}: {uri} is a .npy file, which holds no metadata to filter; drop {flag}")
    languages = anchor_languages_of(anchor_languages)  # so does an unknown language
    shared = None
    with recorded_warnings() as reading:  # records without an embedding left out, a sample read whole, ...
        if "://" in source and "://" in target:  # both read in three passes: samples, keys, the shared records
            src, trg, found = sample_collections(source, target, max_vectors, seed, document_pairs, shared_documents,
                                                 wheres)
            if len(found.source) >= 10:
                shared = (found.source, found.target)
            elif len(found.source):
                logger.info("only %d records are in both collections: not used as pairs", len(found.source))
        else:
            src, trg = (sample_collection(uri, max_vectors, seed + i, documents=document_pairs, where=where)
                        if "://" in uri else CollectionSample(_load_array(uri))
                        for i, (uri, where) in enumerate(zip((source, target), wheres)))
    translator, report = fit_collections(
        src.vectors, trg.vectors, (source_name, target_name), method=method, anchors=anchors, fallback=fallback,
        anchor_languages=languages,
        models=(source_model, target_model), pair_texts=texts,
        documents=tuple((s.document_vectors, s.documents) if s.documents else None for s in (src, trg)),
        document_check=document_check, shared=shared,
        pairs=_pair(pairs_source, pairs_target, "pairs"), check_spaces=space_check, seed=seed,
        device=None if device == "auto" else device, eval_pairs=_pair(eval_source, eval_target, "eval"),
        preset=preset, steps=steps, checkpoint_dir=checkpoint_dir, near_copies=near_copies,
        align_overrides={**({"solver": solver} if solver is not None else {}),
                         **({"restarts": restarts} if restarts else {}),
                         **({"more_restarts": more_restarts} if more_restarts is not None else {}),
                         **({"rival_restarts": rival_restarts} if rival_restarts is not None else {}),
                         **({"final_candidates": final_candidates} if final_candidates is not None else {}),
                         **({"wp_iters": transport_steps} if transport_steps is not None else {}),
                         **({"final_whiten": whiten} if whiten is not None else {}),
                         **({"restart_dims": restart_dims} if restart_dims is not None else {}),
                         **({"final_soup": soup} if soup is not None else {}),
                         **({"pair_weight": pair_weight} if pair_weight is not None else {}),
                         **({"time_budget": time_budget} if time_budget is not None else {})})
    report.warnings = translator.info["warnings"] = [*reading.messages, *report.warnings]
    report.accuracy_warnings = translator.info["accuracy_warnings"] = [*reading.accuracy, *report.accuracy_warnings]
    translator.save(out)
    summary = {k: v for k, v in report.to_dict().items() if k != "details"}
    if "unsupervised" in report.details:  # the fallback's first attempt, without its restart-by-restart details
        summary["unsupervised"] = {k: v for k, v in report.details["unsupervised"].items() if k != "details"}
    logger.info("__log__:%s", _json({"fit": summary}, default=str))
    typer.echo(_json(summary, indent=2, default=str))
    if not allow_untrusted:
        require_trusted(report)
    for flag, stop, warned in (("--fail-on-warning", fail_on_warning, report.warnings),
                               ("--fail-on-accuracy-warning", fail_on_accuracy_warning, report.accuracy_warnings)):
        if stop and warned:
            raise UntrustedTranslationError(
                f"the fit warned ({len(warned)}: {' | '.join(warned)}); the translator was saved to {out}, but {flag} "
                "stops here. Do what the warning says and fit again, or check the translator with paired vectors "
                f"(--eval-source/--eval-target, `v2v evaluate`) and go on without {flag}")


def _count_gap(report) -> str:
    """Why a migration's destination and source counts disagree (:class:`~v2v_store.migrate.MigrationReport`), and
    what to do."""
    expected = report.expected_count
    gap = (f"{expected - report.dest_count:,} fewer records than the source" if report.dest_count < expected else
           f"{report.dest_count - expected:,} more records than the source")
    return (f"the destination holds {gap}: the source was written while it was read (a live collection), or "
            "another writer wrote the destination. Run again with --on-exists fill to add the source's records the "
            "destination lacks (nothing twice); records deleted from the source meanwhile stay in the destination "
            "(delete them there by id, or migrate again with --on-exists replace once writes have stopped; a "
            "destination a sync wrote is kept in step by --on-exists sync, deletions included)")


@app.command()
@handles_errors
def migrate(
    translator: str = typer.Option(..., help="Translator directory (from `v2v fit`)."),
    source: str = typer.Option(..., help="Collection to migrate (read only)."),
    dest: str = typer.Option(..., help="Destination collection (created if missing). A Qdrant destination without "
                             "?document_key= keeps a Qdrant source's documents field."),
    batch_size: int = typer.Option(1024),
    dry_run: bool = typer.Option(False, help="Print the plan and exit; write nothing."),
    resume: bool = typer.Option(False, help="Finish an interrupted migration from its last checkpoint."),
    on_exists: str = typer.Option("fail", help="If the destination holds data: fail | append (every record, ids it "
                                               "holds overwritten) | fill (only records whose id it lacks: those it "
                                               "holds, e.g. re-embedded by the new model, kept) | sync (as fill, and "
                                               "the records an earlier sync from this source wrote are written again "
                                               "where the source changed them and deleted where it deleted them: a "
                                               "live source kept in step; start with it, into a new collection) | "
                                               "replace. append, fill and sync mark each record written as a "
                                               "translation in its metadata (_v2v_translated; sync: with its source "
                                               "and a digest of it), as a migration into another named vector of the "
                                               "same Qdrant points does."),
    source_space: str = typer.Option(None, help="Translator space of the source (default: by dimension; where "
                                     "both spaces share it, the one its vectors look like by the covariance the fit "
                                     "recorded); for a collection mixing both spaces' records (with --target-space: "
                                     "records of the other space are translated, those already in the target space "
                                     "copied) @FIELD, each record naming its space in metadata field FIELD, or auto, "
                                     "each record's space told by its vector."),
    target_space: str = typer.Option(None, help="Translator space to migrate into (default: the source's other "
                                     "space; required with --source-space @FIELD)."),
    state_dir: str = typer.Option(None, help="Where resume state is kept (default .v2v/migrations)."),
    checkpoint_seconds: float = typer.Option(10.0, help="Flush + record progress at most this often (0: every batch); less "
                                            "often where checkpoints would take over 10% of the time (a FAISS index "
                                            "is rewritten whole at each)."),
    check_source: str = typer.Option(None, help="Paired check: documents by the source model..."),
    check_target: str = typer.Option(None, help="...and by the target model: adds to the report how well each target vector finds its "
                                "translation among them (the paper's metrics, as the migrated collection is searched)."),
    space_check: bool = typer.Option(True, "--space-check/--no-space-check",
                                     help="Refuse a source whose vectors do not look like the translator's source "
                                          "space (the wrong collection, or a wrong --source-space), checked on its "
                                          "first 2,000 records and then on every window of 2,000 read (another "
                                          "model's records further down stop it); exit 2."),
    copy_settings: bool = typer.Option(True, "--copy-settings/--default-settings",
                                       help="A destination this creates in the source's backend gets the "
                                            "source's settings: Qdrant HNSW, quantization, optimizer settings and "
                                            "payload indexes, Chroma HNSW parameters, collection metadata, a FAISS "
                                            "index's structure (IVF / PQ / SQ / RaBitQ / HNSW, OPQ and other "
                                            "pre-transforms, a refinement; or --dest ...?index=FACTORY); a Qdrant "
                                            "collection or edge shard (from either) also gets the points' other "
                                            "vectors (sparse, other named ones), copied as they are, and the "
                                            "points that have those only (the plan lists them); one --on-exists replace drops is recreated with its own. "
                                            "--default-settings: the backend's defaults for either."),
    skip_invalid: bool = typer.Option(False, help="Leave out records whose vector is NaN, infinite or all zero (no "
                                      "embedding to translate), counted and listed in the report; without it such a "
                                      "record stops the migration before its batch is written (exit 2; --resume "
                                      "after)."),
    where: list[str] = typer.Option(None, help="Migrate only the records whose metadata meets this (as query "
                                               "--where: FIELD=VALUE, FIELD!=VALUE, FIELD=[V1,V2] for any of them, "
                                               "FIELD>NUMBER or DATE, >=, <, <=, FIELD~TEXT for text containing it; "
                                               "repeat for all of several), e.g. one tenant's; the others are "
                                               "counted as filtered_out and the count check expects the destination "
                                               "without them. A resumed migration keeps its filter."),
) -> None:
    """Translate a collection into the translator's other space and write it, keeping ids, metadata, documents.
    Into an existing collection ranked by dot product or L2 distance whose own vectors are not unit length, each
    translation takes the length its own vectors have in that direction (the plan says so)."""
    from v2v_store.connectors import Where
    from v2v_store.migrate import MigrationPlan, migrate as run_migration
    from v2v_store.translator import Translator

    kept = Where.parse(where)
    tr = Translator.load(translator)
    result = run_migration(tr, source, dest, batch_size=batch_size, on_exists=on_exists,
                           resume=resume, dry_run=dry_run, source_space=source_space, state_dir=state_dir,
                           checkpoint_seconds=checkpoint_seconds, check_pairs=_pair(check_source, check_target, "check"),
                           check_space=space_check, target_space=target_space, copy_settings=copy_settings,
                           skip_invalid=skip_invalid, where=kept)
    if isinstance(result, MigrationPlan):
        typer.echo(result.describe())
        return
    typer.echo(_json(result.to_dict(), indent=2))
    if not result.count_ok:
        typer.echo(f"error: count check failed: source {result.source_count:,}, destination {result.dest_count:,}: "
                   f"{_count_gap(result)}", err=True)
        raise typer.Exit(4)
    if result.left_out:
        from v2v_store.mixed import RecordSpaces

        spaces = RecordSpaces.parse(result.mixed_by, tr)
        fix = (f"set their {spaces.field!r} and run again with --on-exists append (records are written by id: no "
               "duplicates)" if spaces.field is not None else "check them with `v2v inspect`; a field naming each "
               "record's model (--source-space @FIELD) decides where vectors cannot")
        typer.echo(f"error: {result.left_out:,} records {spaces.neither} and were not migrated (first ids: "
                   f"{', '.join(map(repr, result.left_out_ids))}): {fix}", err=True)
        raise typer.Exit(4)


EVALUATE_HELP = ("Measure a saved translator on documents embedded by both models: per direction the paper's top-1, "
                 "mean rank and mean cosine, and how much of a search survives (top-k overlap with searching "
                 "re-encoded documents: the migrated collection searched by new-model queries, and old-model queries "
                 "translated over the re-encoded documents; beside it, how far the two models' own searches agree). "
                 "Pairs: --source and --target collections sharing record ids (e.g. a sample re-encoded with the new "
                 "model into a scratch collection), two .npy files row by row, --texts embedded here by both models, "
                 "or --source alone: its stored documents embedded here by the other model. Partners are ranked among "
                 "up to 8,192 candidates (the pairs, the paired collections' other records, --candidates); --queries "
                 "measures the overlaps with real queries. Exit 3 below --min-top1.")


@app.command(help=EVALUATE_HELP)
@handles_errors
def evaluate(
    translator: str = typer.Option(..., help="Translator directory (from `v2v fit`)."),
    source: str = typer.Option(None, help="Store URI or .npy of documents embedded by one of the translator's models "
                                          "(with --texts: not needed)."),
    target: str = typer.Option(None, help="Store URI (paired by id; with no id in common, by the text both store) or "
                                          ".npy (paired by row) of the same documents by "
                                          "the other model; omitted: --source's stored documents are embedded by "
                                          "--target-model."),
    texts: str = typer.Option(None, help="Instead of vectors: a file of texts (one per line, or .jsonl with a "
                                         "\"text\" field) embedded here by both models."),
    source_space: str = typer.Option(None, help="Translator space of --source (default: by dimension; where both "
                                                "spaces share it, the one its vectors look like; with --texts: the "
                                                "translator's first)."),
    source_model: str = typer.Option(None, help="With --texts or --queries: the source space's model (default: the "
                                                "space's name, if it names an offline model: minilm | e5 | mpnet)."),
    target_model: str = typer.Option(None, help="With --texts, --queries or stored documents: the other space's model "
                                                "(default: that space's name, if it names an offline model)."),
    candidates: list[str] = typer.Option(None, help="Collection (URI, #SPACE to name its space) of other documents "
                                         "whose vectors join the candidates each partner is ranked among, up to 8,192 "
                                         "in all as in the paper (top-1 among a few hundred flatters a map). Paired "
                                         "collections count already; repeat for several."),
    queries: str = typer.Option(None, help="A file of queries (one per line, or .jsonl with a \"text\" field), e.g. "
                                           "from your search logs, embedded here as queries by both models: the "
                                           "overlaps are measured with them instead of each document's own vector."),
    k: int = typer.Option(10, help="Top-k of the overlaps."),
    max_pairs: int = typer.Option(20_000, help="Use at most this many documents."),
    where: list[str] = typer.Option(None, help="Only --source's records whose metadata meets this (as query --where: "
                                               "FIELD=VALUE, FIELD!=VALUE, FIELD=[V1,V2], FIELD>NUMBER or DATE, >=, "
                                               "<, <=; repeat for all of several): the part of the collection a "
                                               "migration by that filter moves, e.g. one tenant's or one language's; "
                                               "its pairs and its side's candidates."),
    min_top1: float = typer.Option(None, help="Exit 3 when either direction's top-1 is below this (a gate before a "
                                              "migration)."),
    space_check: bool = typer.Option(True, "--space-check/--no-space-check",
                                     help="Refuse vectors that do not look like the space they are given for "
                                          "(swapped --source/--target, the wrong collection); exit 2."),
) -> None:
    """Measure a saved translator on documents embedded by both models (the help text: ``EVALUATE_HELP``)."""
    from v2v_store.anchors import read_texts
    from v2v_store.connectors.where import Where
    from v2v_store.evaluate import PairSources, evaluate_translator, load_pairs, model_for, query_vectors
    from v2v_store.translator import Translator

    kept = Where.parse(where)  # a bad filter fails before anything loads
    if k < 1 or max_pairs < 1:
        raise V2VError(f"--k {k} and --max-pairs {max_pairs} must be positive")
    asked = read_texts(queries, flag="--queries") if queries else None  # a bad file fails before anything loads
    tr = Translator.load(translator)
    pairs = load_pairs(tr, PairSources(source, target, texts, source_space, source_model, target_model,
                                       list(candidates or []), kept), max_pairs)
    if space_check:
        tr.check_space(pairs.source_vectors, pairs.source, "the source vectors")
        tr.check_space(pairs.target_vectors, pairs.target, "the target vectors", how_to_name="--source-space (this "
                       "side looks like {}: are --source and --target the other way round?)")
    if asked is not None:
        asked = query_vectors(asked, {
            pairs.source: model_for(source_model, tr, tr.space(pairs.source), "--source-model"),
            pairs.target: model_for(target_model, tr, tr.space(pairs.target), "--target-model")})
    report = evaluate_translator(tr, pairs.source_vectors, pairs.target_vectors, pairs.source, pairs.target, k=k,
                                 paired_by=pairs.paired_by, candidates=pairs.candidates, queries=asked)
    typer.echo(_json(report.to_dict(), indent=2))
    if min_top1 is not None and report.below(min_top1):
        worst = ", ".join(f"{d.source} -> {d.target} {d.top1:.3f}" for d in report.below(min_top1))
        raise UntrustedTranslationError(f"top-1 {worst} is below --min-top1 {min_top1}: the translator loses too much "
                                        "on these documents; fit again with pairs (--pairs-source/--pairs-target, "
                                        "--pair-texts) or re-encode them")


@app.command()
@handles_errors
def query(
    translator: str = typer.Option(..., help="Translator directory."),
    collection: list[str] = typer.Option(..., help="Collection URI; repeat for several. Append #SPACE to name its space, "
                                         "#@FIELD for a collection mixing both spaces' records that name theirs in "
                                         "metadata field FIELD, or #auto to tell each record's space by its vector. "
                                         "Two named vectors of one Qdrant collection (?vector=A#A, ?vector=B#B) "
                                         "give each point once, where it scored best."),
    vector: str = typer.Option(None, help=".npy file of query vectors (n, d) in --space."),
    text: list[str] = typer.Option(None, help="Query text, encoded offline with --model; repeat for several."),
    texts: str = typer.Option(None, help="File of query texts (one per line, or .jsonl with a \"text\" field and "
                                         "optionally a \"where\": a query's own filter, as an object of field: "
                                         "value, a list of --where conditions or one; a \"k\": its own number of hits; "
                                         "an \"id\", echoed as its hits' \"query_id\"), encoded offline with --model: "
                                         "many queries for one read of the collections (latent mode streams them "
                                         "once per command). '-': read them from standard input, one per line "
                                         "(a line starting with { is a JSON object as in .jsonl), each answered as "
                                         "it arrives, its hits followed by a line {\"query\": N, \"hits\": H} "
                                         "(the answer's end: a filter may keep fewer than k records), until end "
                                         "of input; a bad line is answered with an \"error\" line."),
    model: str = typer.Option(None, help="Model for --text: minilm | e5 | mpnet | a saved sentence-transformers "
                                         "model's directory | py:MODULE:FUNCTION, called with kind='query' if it "
                                         "takes that keyword (an offline model's name is also the query's space)."),
    space: str = typer.Option(None, help="Space of the query vectors (default: --model, or by dimension)."),
    k: int = typer.Option(10, "--k", "-k", min=1, help="Hits to return per query, over all collections."),
    where: list[str] = typer.Option(None, help="Only records whose metadata meets this: FIELD=VALUE, FIELD!=VALUE "
                                               "(records without the field too), FIELD>NUMBER or FIELD>DATE "
                                               "(2024-06-01, RFC 3339: UTC where no zone is given; >=, <, <=), "
                                               "FIELD~TEXT (text containing it, case-sensitive; !~: not), "
                                               "FIELD=null (no value: missing, null or []; !=null: a value); "
                                               "'A | B': either condition (spaces round the bar); repeat "
                                               "for all of several. A value reads as JSON where it is (2020, true, "
                                               "\"2020\" for the text), as text otherwise; a JSON list is any of "
                                               "its values ('lang=[\"en\",\"de\"]'; != none of them); FIELD may "
                                               "be a dotted path into nested metadata (metadata.source; "
                                               "items[].name: into each object of an array); a stored list matches "
                                               "by any item. Exact in both modes."),
    mode: str = typer.Option("latent", help="latent (one merged ranking: scores of the other model's collections "
                                            "mapped onto the query model's scale, by translators fitted since "
                                            "session 41) | native (each store's index, raw scores)."),
    space_check: bool = typer.Option(True, "--space-check/--no-space-check",
                                     help="Refuse a collection whose vectors do not look like its space (its first "
                                          "2,000 records; in latent mode every window of 2,000 as it is read); "
                                          "exit 2."),
    latent_precision: str = typer.Option("float32", help="How latent mode holds the collections' vectors in memory: "
                                                         "float32 (exact) | float16 (half the memory; scores within "
                                                         "1e-3 of exact, only near-ties swap) | int8 (a quarter; each "
                                                         "dimension's range learnt from a collection's first 65,536 "
                                                         "records; scores within a few 1e-3, close hits swap)."),
    refresh_seconds: float = typer.Option(None, min=0, help="With --texts -: before answering a query, read the "
                                                            "collections again if they were last read this many "
                                                            "seconds ago, so records written since are found "
                                                            "(0: before every query; with --latent-cache only "
                                                            "what changed in a Chroma or Qdrant collection that "
                                                            "only gained or lost records)."),
    latent_cache: str = typer.Option(None, help="Latent mode: keep each collection's latent index in this directory "
                                                "and load it from there (memory-mapped) while the collection is "
                                                "unchanged: a FAISS or .npy file's size and time, a Chroma or Qdrant "
                                                "collection's record keys and 1,024 records drawn at random (one "
                                                "that only gained or lost records: its entry updated). Later "
                                                "commands then skip streaming the collections. Entries stay "
                                                "until removed (v2v cache list / prune) or, with "
                                                "--latent-cache-max-size, until the directory would outgrow it."),
    latent_cache_max_size: str = typer.Option(None, help="With --latent-cache: keep the directory within this size "
                                                         "(e.g. 20G; K, M, G, T): after each entry written or "
                                                         "loaded, the least recently used entries go until the rest "
                                                         "fit, never those this query or another open one uses (a "
                                                         "warning where these alone exceed it)."),
) -> None:
    """Search collections of different models as one; prints a ranked list of hits (a JSON line per hit)."""
    from v2v_store.anchors import read_records
    from v2v_store.connectors import Where
    from v2v_store.connectors.where import both
    from v2v_store.errors import V2VError
    from v2v_store.query import CrossQuery
    from v2v_store.translator import Translator

    kept = Where.parse(where)
    tr = Translator.load(translator)
    if sum((vector is not None, bool(text), texts is not None)) != 1:
        raise V2VError("give one of --vector FILE, --text '...' (repeatable) or --texts FILE (the texts with --model)")
    streaming = texts == "-"
    if refresh_seconds is not None and not streaming:
        raise V2VError("--refresh-seconds applies to a long-lived query (--texts -): a single command reads the "
                       "collections once anyway")
    records = [{"text": t} for t in text or []] or (read_records(texts, "--texts", least=1)
                                                     if texts not in (None, "-") else None)
    queries_text = [r["text"] for r in records] if records else None
    wheres = [both(kept, Where.of(r.get("where"), f"--texts query {i}'s \"where\""))
              for i, r in enumerate(records or [])]
    asked = [_query_options(r, k, f"--texts query {i}'s") for i, r in enumerate(records or [])]  # (k, id) each
    if queries_text is not None or streaming:
        if not model:
            raise V2VError("--text/--texts need --model (minilm | e5 | mpnet | a model directory | py:MODULE:FUNCTION) "
                           "to encode them offline")
        from v2v_store.models import require_model

        require_model(model, "--model")
    if latent_cache_max_size is not None and latent_cache is None:
        raise V2VError("--latent-cache-max-size bounds a latent cache: give --latent-cache DIR too")
    max_size = None if latent_cache_max_size is None else _parse_size(latent_cache_max_size, "--latent-cache-max-size")
    cols = _collections(collection)
    # the collections are checked before a model loads
    with CrossQuery(tr, cols, mode=mode, check_space=space_check, latent_precision=latent_precision,
                    latent_cache=latent_cache, latent_cache_max_size=max_size) as cross:
        if streaming or queries_text is not None:
            from v2v_store.models import load_encoder

            encode = load_encoder(model, kind="query")
        if streaming:
            lines = (line.strip() for line in sys.stdin)
            read_at = time.monotonic()
            for qi, line in enumerate(line for line in lines if line):
                if refresh_seconds is not None and time.monotonic() - read_at >= refresh_seconds:
                    cross.refresh()
                    read_at = time.monotonic()
                try:
                    line, where, (line_k, query_id) = _query_line(line, kept, k)
                except V2VError as e:  # a long-lived query answers the others
                    logger.error("query %d: %s", qi, e)
                    typer.echo(_json({"query": qi, "error": str(e)}))
                    continue
                queries = encode([line])
                hits = cross.search(queries, space=space or _query_space(tr, model, queries), k=line_k, where=where)[0]
                _print_hits(hits, qi, line, query_id)
                # the answer's end (a client cannot count on k lines: a filter may keep fewer records, or none)
                typer.echo(_json({"query": qi, **({"query_id": query_id} if query_id is not None else {}),
                                  "hits": len(hits)}))
            return
        if queries_text is not None:
            queries = encode(queries_text)
            space = space or _query_space(tr, model, queries)
        else:
            queries = _load_array(vector, one_vector=True)
            space = space or _query_space(tr, None, queries)
        # the queries of each k (a .jsonl query's own "k", else --k) searched together: no query's hits fetched
        # beyond its own k (a filter's records are read once for the command, whichever k asks)
        hits: list = [None] * len(queries)
        for own_k in sorted({a[0] for a in asked} or {k}):
            rows = [qi for qi in range(len(queries)) if (asked[qi][0] if asked else k) == own_k]
            found = cross.search(queries[rows], space=space, k=own_k,
                                 where=[wheres[r] for r in rows] if wheres else kept)
            for r, row in zip(rows, found):
                hits[r] = row
    for qi, row in enumerate(hits):
        _print_hits(row, qi, queries_text[qi] if queries_text else None, asked[qi][1] if asked else None)


def _query_options(record: dict, k: int, what: str) -> tuple[int, str | int | float | None]:
    """A query object's own "k" (else ``k``: --k) and "id" (a client's name for it, echoed as each hit's
    "query_id"), checked; ``what`` names the query in an error."""
    from v2v_store.errors import V2VError

    own_k, query_id = record.get("k", k), record.get("id")
    if isinstance(own_k, bool) or not isinstance(own_k, int) or own_k < 1:
        raise V2VError(f"{what} \"k\" is {json.dumps(own_k)}: give a whole number of hits, 1 or more")
    if query_id is not None and (isinstance(query_id, bool) or not isinstance(query_id, (str, int, float))):
        raise V2VError(f"{what} \"id\" is {json.dumps(query_id)}: give text or a number (each hit echoes it as "
                       "\"query_id\")")
    return own_k, query_id


def _query_line(line: str, kept, k: int):
    """A line of ``--texts -``: (its text, its filter joined to ``kept``, --where's, (its k, else ``k``, and its id));
    a line starting with ``{`` is a JSON object with a "text" and maybe a "where", a "k" and an "id"."""
    from v2v_store.connectors.where import Where, both
    from v2v_store.errors import V2VError

    if not line.startswith("{"):
        return line, kept, (k, None)
    try:
        record = json.loads(line)
        text = record["text"]
    except (ValueError, KeyError, TypeError) as e:
        raise V2VError(f"a query line starting with {{ must be a JSON object with a \"text\" field "
                       f"({type(e).__name__}: {e}): {line[:80]}") from None
    if not isinstance(text, str):
        raise V2VError(f"the line's \"text\" is {json.dumps(text)}: a query's text is a string")
    text = text.strip()
    if not text:
        raise V2VError("the line's \"text\" is empty")
    return (text, both(kept, Where.of(record.get("where"), "the line's \"where\"")),
            _query_options(record, k, "the line's"))


def _collections(options: list[str]) -> list[tuple[str, str | None]]:
    """(URI, space option or None) of each --collection URI[#SPACE|#@FIELD|#auto]."""
    return [(c.split("#")[0], c.split("#")[1] if "#" in c else None) for c in options]


def _query_space(translator, model: str | None, queries) -> str:
    """The space of query vectors: the space ``model`` names or embeds (:meth:`Translator.space_of_model`: a space
    named after it, or the side its fit used it for), else the translator's space of their dimension."""
    from v2v_store.models import model_spec

    found = (translator.space_of_model(model) or translator.space_of_model(model_spec(model))) if model else None
    return (found or translator.space_for_dim(queries.shape[1], None, "--space {}")).name


def _print_hits(hits, qi: int, text: str | None, query_id: str | int | float | None = None) -> None:
    """One JSON line per hit of query ``qi`` (``text``: the query's text, where it had one; ``query_id``: the id its
    asker gave it, where one did)."""
    for rank, h in enumerate(hits, 1):
        typer.echo(_json({"query": qi, **({"query_id": query_id} if query_id is not None else {}),
                          **({"text": text} if text is not None else {}), "rank": rank,
                          "collection": h.collection, "id": h.id, "score": round(h.score, 4),
                          "metadata": h.metadata, "document": h.document}, default=str))


@app.command()
@handles_errors
def demo(
    workdir: str = typer.Option("demo-out", help="Where the demo's stores, translator and report go."),
    side_size: int = typer.Option(8000, help="Sentences per unpaired side."),
    eval_size: int = typer.Option(1000, help="Held-out sentences embedded by both models (metrics only)."),
    restarts: int = typer.Option(8, help="Most restarts of the unsupervised aligner (it stops once three agree)."),
) -> None:
    """Build two real collections with two offline models, translate one into the other's space without
    pairs, migrate it, run a cross-model query, and print the paper metrics against the truth. Exit 3 when no
    label-free check confirmed the translator (the report is printed all the same)."""
    from pathlib import Path

    from v2v_store.demo import DemoConfig, run_demo

    report = run_demo(DemoConfig(Path(workdir), side_size, eval_size, restarts=restarts))
    typer.echo(_json(report, indent=2, default=str))
    if not report["translator"]["trusted"]:
        raise typer.Exit(3)


cache_app = typer.Typer(help="Fill, list and prune a latent cache directory (v2v query --latent-cache DIR).",
                        no_args_is_help=True)
app.add_typer(cache_app, name="cache")

_SIZE_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def _parse_size(text: str, option: str = "--max-size") -> int:
    """Bytes from '123', '500M', '20G', '1.5TB', '2GiB' (K, M, G, T: powers of 1,024)."""
    number = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = number[-1:] if number[-1:] in _SIZE_UNITS else ""
    try:
        value = float(number[:len(number) - len(unit)]) * _SIZE_UNITS[unit]
    except ValueError:
        value = -1
    if value < 0:
        raise V2VError(f"{option} {text!r} is not a size: give bytes, or a number with K, M, G or T (e.g. 20G)")
    return int(value)


def _human(size: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


@cache_app.command("list")
@handles_errors
def cache_list(
    directory: str = typer.Argument(..., help="The directory given to v2v query --latent-cache."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of text."),
) -> None:
    """Each entry (a collection's latent index under one translator and precision), least recently used first: when
    it was last used, its size on disk, rows, precision, translator digest, space and collection URI (marked where
    the collection's local files are gone, and where an open query uses it: a size bound keeps those)."""
    from v2v_store.latent_cache import cache_entries

    entries = cache_entries(directory)
    total = sum(e.size for e in entries)
    if as_json:
        typer.echo(_json({"directory": directory, "entries": [e.describe() for e in entries], "bytes": total}))
        return
    if entries:
        typer.echo(f"{'last used':24}  {'on disk':>10}  {'rows':>10}  {'precision':9} {'translator':12}  "
                   f"{'space':10}  collection")
    for e in entries:
        d = e.describe()
        typer.echo(f"{d['used_at'] or '-':24}  {_human(e.size):>10}  {e.rows:>10,}  {e.precision or '-':8}  "
                   f"{d['translator'] or '-':12}  {e.space or '-':10}  {e.uri or 'damaged: ' + e.path.name}"
                   f"{'  (its files are gone)' if d['collection_gone'] else ''}{'  (in use)' if e.in_use else ''}")
    typer.echo(f"{len(entries)} entries, {_human(total)}")


@cache_app.command("warm")
@handles_errors
def cache_warm(
    directory: str = typer.Argument(..., help="The directory to give to v2v query --latent-cache."),
    translator: str = typer.Option(..., help="Translator directory (the one the queries will use)."),
    collection: list[str] = typer.Option(..., help="Collection URI, as given to v2v query (#SPACE, #@FIELD, #auto); "
                                         "repeat for several."),
    latent_precision: str = typer.Option("float32", help="float32 | float16 | int8, as the queries will use."),
    space_check: bool = typer.Option(True, "--space-check/--no-space-check",
                                     help="As the queries will use (an entry is kept per setting)."),
    max_size: str = typer.Option(None, help="Keep the directory within this size (e.g. 20G), as v2v query "
                                            "--latent-cache-max-size: the least recently used entries of other "
                                            "collections go after each entry written or loaded."),
) -> None:
    """Build (or bring up to date) the latent cache entries of collections ahead of the queries, so the first
    v2v query --latent-cache DIR loads them instead of reading the collections. Prints one JSON line per collection
    (per space of a collection of mixed spaces): vectors, and how (built, loaded: already there, updated)."""
    from v2v_store.query import CrossQuery
    from v2v_store.translator import Translator

    cols = _collections(collection)
    with CrossQuery(Translator.load(translator), cols, check_space=space_check, latent_precision=latent_precision,
                    latent_cache=directory, latent_cache_max_size=None if max_size is None else _parse_size(max_size)
                    ) as cross:
        for row in cross.prepare():
            typer.echo(_json(row, default=str))


@cache_app.command("prune")
@handles_errors
def cache_prune(
    directory: str = typer.Argument(..., help="The directory given to v2v query --latent-cache."),
    collection: str = typer.Option(None, help="Only entries of this collection URI (as given to v2v query; a "
                                              "#SPACE after it is ignored: every space's entries)."),
    unused_days: float = typer.Option(None, min=0, help="Only entries not used (loaded or written) for this many "
                                                        "days."),
    keep_translator: list[str] = typer.Option(None, help="Only entries built by other translators than this "
                                                         "translator directory's; repeat for several."),
    gone: bool = typer.Option(False, "--gone", help="Only entries of collections whose files are gone (a local "
                                                    "FAISS, .npy, Chroma or Qdrant path that no longer exists)."),
    max_size: str = typer.Option(None, help="Then remove the least recently used entries until the rest take at "
                                            "most this much disk: bytes, or with K, M, G, T (powers of 1,024), "
                                            "e.g. 20G."),
    remove_all: bool = typer.Option(False, "--all", help="Remove every entry."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be removed; remove nothing."),
) -> None:
    """Remove entries that match every filter given (--collection, --unused-days, --keep-translator, --gone), then
    with --max-size the least recently used until the rest fit (not those an open query uses, in any process).
    Damaged entries always go. A query that loaded an entry the filters remove keeps its copy; the next one builds it
    again. Nothing of the collections is touched."""
    from v2v_store.latent_cache import cache_entries, prune

    digests = None
    if keep_translator:
        from v2v_store.translator import Translator

        digests = [Translator.load(path).digest() for path in keep_translator]
    removed = prune(directory, collection=collection and collection.split("#")[0],
                    unused_for=None if unused_days is None else unused_days * 86400, keep_translators=digests,
                    gone=gone, max_size=None if max_size is None else _parse_size(max_size), everything=remove_all,
                    dry_run=dry_run)
    for e in removed:
        typer.echo(f"{'would remove' if dry_run else 'removed'} {e.path.name}  {_human(e.size):>10}  "
                   f"{e.space or '-':10}  {e.uri or 'damaged'}")
    left = [e for e in cache_entries(directory) if e.path not in {r.path for r in removed}]  # dry run: all there
    typer.echo(f"{'would remove' if dry_run else 'removed'} {len(removed)} entries "
               f"({_human(sum(e.size for e in removed))}); {len(left)} left ({_human(sum(e.size for e in left))})")


def _one_line_summaries(*apps: typer.Typer) -> None:
    """Each command's summary in ``v2v --help`` as one line, its help's first paragraph: typer's rich help keeps the
    docstring's line breaks there, and a terminal narrower than them breaks each line again."""
    for typer_app in apps:
        for info in typer_app.registered_commands:
            text = info.help or (info.callback.__doc__ if info.callback else None)
            if text and info.short_help is None:
                info.short_help = " ".join(cleandoc(text).split("\n\n")[0].split())


_one_line_summaries(app, cache_app)
