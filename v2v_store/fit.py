"""Learn a translator between two spaces with one of the methods, and report what was measured.

Methods (``v2v fit --method``):

- ``auto`` (:func:`fit_collections`, which is what ``v2v fit`` runs; its default): ``anchors+align`` when both
  collections' models can be run here (given by ``models``, named, or recognised by their fingerprints), else
  ``align``. Either way, texts the collections keep as documents join the pairs, each collection's stored vectors
  beside the other model's embeddings of its texts (``documents``, :func:`v2v_store.anchors.document_pairs`).
- ``align`` (:func:`fit_translator`'s default): unsupervised linear alignment with restarts (:mod:`v2v_store.train.align`);
  with ``pairs`` it becomes few-shot (the pairs give the first map and join every later Procrustes fit). With a
  ``fallback`` (:func:`fit_collections` gives one when both spaces are of offline models, named or recognised by
  their covariance fingerprints: :func:`v2v_store.anchors.anchor_models`), a fit no label-free check confirms is done
  again as ``anchors+align``, and the report says so.
- ``procrustes``: plain orthogonal Procrustes on ``pairs`` (needs pairs; the supervised baseline).
- ``anchors``: Procrustes on anchor pairs, texts that are not the collection's embedded by both models
  (:mod:`v2v_store.anchors`), centred on the collections' own means: for when both models can still be run.
- ``anchors+align``: the same anchor pairs as few-shot pairs of ``align``, whose transport steps also see the
  collections' own unpaired vectors and so adapt the anchors' map to the collections' corpus (minutes, not seconds);
  with at least one anchor per dimension, one restart and each anchor weighted :func:`anchor_pair_weight`.
- ``gan``: the paper's vec2vec GAN from scratch (:mod:`v2v_store.train.trainer`).
- ``align+gan``: the GAN warm-started from the ``align`` map: the network refines it as a residual whose
  gates start at zero, and the label-free selection keeps the start unless training beats it.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from v2v_store.anchors import (DEFAULT_ANCHORS, DOCUMENT_CHECK, anchor_models, anchor_pairs, checked_shared_pairs,
                               document_pairs, text_pairs)
from v2v_store.anchors import anchor_languages as anchor_languages_of, collections_language
from v2v_store.connectors.base import l2_normalize, no_embedding
from v2v_store.errors import (DimensionMismatchError, InvalidVectorsError, MissingDependencyError,
                              SpaceMismatchError, UntrustedTranslationError, V2VError)
from v2v_store.fingerprints import check_model_names
from v2v_store.metrics import (collection_profile_correlation, pair_profile_correlation, pairs_relatedness,
                               translation_metrics)
from v2v_store.models import MODELS, can_embed, model_spec, require_model
from v2v_store.space_check import check_pairs_space, two_models, two_models_message
from v2v_store.spans import narrow, narrow_warning, too_narrow
from v2v_store.translator import Space, Translator

if TYPE_CHECKING:
    from v2v_store.train.align import AlignResult

logger = logging.getLogger(__name__)
METHODS = ("align", "procrustes", "anchors", "anchors+align", "gan", "align+gan")  # and "auto": fit_collections
# methods that pair the collections' stored documents with the other model's embeddings of them (fit_collections);
# an explicit --method align stays unsupervised
DOCUMENT_METHODS = ("auto", "procrustes", "anchors", "anchors+align")
# below it the collections' nearness to the paired texts disagrees across the two spaces: likely different kinds of
# text (v2v_store.metrics.pair_profile_correlation: 0.33-0.67 same kind, -0.37-0.06 another kind, on the kit)
KINDS_WARNING_BELOW = 0.2
# below it, on either side, a collection's own density disagrees with the other collection's under the pairs' map
# (v2v_store.metrics.collection_profile_correlation: lower side 0.16-0.92 same kind, -0.19-0.12 another kind on the
# corpora measured, except fortunes against Wikipedia, 0.10-0.29, which the pair profile catches; the line sits
# midway between the highest mismatch only it catches, 0.103, and the lowest match, 0.158: session 32)
COLLECTIONS_WARNING_BELOW = 0.13
# said when `auto` adds anchors in another language: the check can only name a bundled language, and collections in
# any other come nearest one of them (German software messages and fortunes: French; Italian fortunes: Spanish)
# without being placed well (session 77: MiniLM -> e5, anchors in English and French, no kinds-of-text warning;
# benchmarks/results/fit_cli_gettext-de_*_s77_*.md; with 1,000 stored documents of each collection, session 78: 0.733 /
# 0.735, fit_cli_gettext-de_*_documentsboth_s78.md)
OTHER_LANGUAGES = ("the bundled languages are en, fr and es, and collections in another language come nearest one of "
                   "them: German software messages were placed at top-1 0.39 against their oracle's 0.75, 0.62 with "
                   "500 of their texts, 0.73 with 1,000 stored documents of each collection")
# logged as a warning when `auto` adds a language, the fit has none of the collections' own texts, and the two models
# relate that language's anchors only loosely (pairs_relatedness below RELATED_BELOW): even in a bundled language the
# anchors (Wikipedia and documentation sentences) then place other kinds of text far less well than English ones
# (session 79, MiniLM -> e5, whose French and Spanish anchors relate at 0.957 and 0.929 (English 0.997); `v2v fit` as
# the default runs it, top-1 without texts / with 1,000 stored documents of each collection / oracle: French messages
# 0.75 / 0.89 / 0.83, Spanish messages 0.76 / 0.86 / 0.83, Spanish fortunes 0.50 / 0.77 / 0.85, Italian fortunes 0.42 /
# 0.74 / 0.79, German messages 0.39 / 0.73 / 0.75, German fortunes 0.25 / 0.51 / 0.74;
# benchmarks/results/fit_cli_{gettext,fortunes}-*_s7[789].md; English software messages 0.93 / 0.95). Two models that
# relate the language closely place it well without: MiniLM -> mpnet, both English-only, Spanish anchors 0.995,
# Spanish fortunes 0.981 / 0.976 without their texts (oracle 0.983 / 0.950; e5 and mpnet relate Spanish at 0.965)
WITHOUT_OWN_TEXTS = ("collections not in English were placed far less well without some of their own texts where the "
                     "models relate that language's anchors loosely (MiniLM -> e5: top-1 0.25-0.76 on six corpora in "
                     "four languages, 0.51-0.89 with 1,000 stored documents of each collection)")
OWN_TEXTS_FIX = "give a few hundred of their texts with --pair-texts, or keep their texts as documents (--document-pairs)"
# below it two models are only loosely related by a rotation (v2v_store.metrics.pairs_relatedness on the 5,000 anchors
# v2v fit embeds, a quarter documentation sentences since session 76): anchors+align then counts each anchor fully, and
# the kinds-of-text lines, calibrated on closely related models, are not applied. Drawn midway between the highest
# model where weight 1 beat the size rule's weight and the lowest where the rule won, measured with these anchors
# (session 79, benchmarks/probes/weights_s79.txt): MiniLM cut to its top 64 principal components 0.975 (weight 1
# +0.008 / +0.004 on FOLDOC; top-48 0.958 and a MiniLM fine-tune 0.954 won by more) and paraphrase-MiniLM-L3 0.9875
# (the rule +0.008 / +0.008 on package summaries, +0.003 / +0.003 on FOLDOC); top-128 0.992 a tie; MiniLM, mpnet and
# e5 with each other 0.995-0.9996. (First 0.95, then 0.975 in session 32 and 0.985 in session 33, drawn the same way on
# Wikipedia anchors; the documentation sentences lowered the loosely related models most: session 79,
# benchmarks/probes/relatedness_kinds_s79.txt.)
RELATED_BELOW = 0.981
# A collection's stored documents whose kept-out pairs find their partners this much less often than the anchors'
# (the same two models on other texts) get a note: documents that are a title or a prefix of what each vector embeds
# pass the check one by one and help the map a little or not at all, but its document check then measures them
# (Jargon File, MiniLM -> e5, 1,000 documents of each record's first 20 / 40 characters: relatedness 0.40 / 0.70
# against the anchors' 0.997, document check top-1 0.20 / 0.47 where held-out true pairs gave 0.973 / 0.979; the whole
# texts: 0.995, check 0.980, held out 0.987; benchmarks/probes/document_fields.txt). The whole texts of Wikipedia and
# fortunes find 0.992-0.995, French messages 0.910; German ones, the texts themselves but in a language MiniLM barely
# knows, 0.821: noted too, so the note names both causes.
DOCUMENTS_LOOSER_BY = 0.1


def other_languages_note(stored_documents: bool, document_check: bool, pair_texts: bool,
                         language_relatedness: float = float("nan")) -> str:
    """:data:`OTHER_LANGUAGES`, and what this fit did about it: the collections' own texts it paired (their stored
    documents, and whether its document check measures it on some held out, or ``--pair-texts``), or, where it had
    none, how closely the two models relate the added language's anchors (``language_relatedness``,
    :func:`~v2v_store.metrics.pairs_relatedness`) and, below :data:`RELATED_BELOW` or unknown, a warning
    (:data:`WITHOUT_OWN_TEXTS`); how to give them either way."""
    if stored_documents:
        done = "this fit pairs the collections' stored documents" + (
            ", and its document check measures it on some of them" if document_check else "")
    elif pair_texts:
        done = "this fit has your --pair-texts among its pairs"
    elif language_relatedness >= RELATED_BELOW:
        done = (f"the two models relate that language's anchors closely ({language_relatedness:.3f}, not below "
                f"{RELATED_BELOW}), as MiniLM and mpnet do Spanish (0.995: Spanish fortunes 0.98 without their texts); "
                f"should the map fall short, {OWN_TEXTS_FIX}")
    else:
        known = f" (these two: {language_relatedness:.3f})" if np.isfinite(language_relatedness) else ""
        done = f"warning: {WITHOUT_OWN_TEXTS}{known}: {OWN_TEXTS_FIX}"
    return f"{OTHER_LANGUAGES}; {done}"


@dataclass
class FitReport:
    method: str
    seconds: float
    trusted: bool
    reason: str
    score: float | None = None
    details: dict = field(default_factory=dict)
    paired: dict = field(default_factory=dict)
    # fit_collections: the collections' documents held out from the fit, each direction's retrieval among them and the
    # other collection's vectors (metrics.translation_metrics with those as distractors)
    document_check: dict = field(default_factory=dict)
    # fit_collections: what v2v-store logged as a warning during the fit (another language without its texts, kinds of
    # text that differ, vectors left out, ...), in order: a trusted fit can still be far off where these say so
    warnings: list[str] = field(default_factory=list)
    # of those, the ones whose condition went with a map far below what the collections allow wherever it was measured
    # (logged with ``extra=ACCURACY``: another language without its texts, different kinds of text, see _compare_kinds);
    # the others (vectors left out, documents that pair loosely, ...) were also seen on fits at their oracle
    accuracy_warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


# logger.warning(..., extra=ACCURACY): a warning that foretells a worse map (FitReport.accuracy_warnings)
ACCURACY = {"v2v_accuracy": True}


@dataclass
class RecordedWarnings:
    """What :func:`recorded_warnings` found: every warning's message, and those logged with ``extra=ACCURACY``."""
    messages: list[str] = field(default_factory=list)
    accuracy: list[str] = field(default_factory=list)


class _WarningRecorder(logging.Handler):
    def __init__(self, found: RecordedWarnings):
        super().__init__(logging.WARNING)
        self.found, self.thread = found, threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:  # not another fit's, run at the same time in another thread
            self.found.messages.append(record.getMessage())
            if getattr(record, "v2v_accuracy", False):
                self.found.accuracy.append(record.getMessage())


@contextlib.contextmanager
def recorded_warnings() -> Iterator[RecordedWarnings]:
    """The messages v2v-store's loggers log as warnings (or worse) inside the block, in order, each once; only
    this thread's (v2v-store logs where it is called: a fit reads and fits in its caller's thread)."""
    found = RecordedWarnings()
    recorder, package = _WarningRecorder(found), logging.getLogger("v2v_store")
    package.addHandler(recorder)
    try:
        yield found
    finally:
        package.removeHandler(recorder)
        found.messages[:], found.accuracy[:] = dict.fromkeys(found.messages), dict.fromkeys(found.accuracy)


def fit_translator(source: np.ndarray, target: np.ndarray, names: tuple[str, str] = ("source", "target"),
                   method: str = "align", seed: int = 0, device: str | None = None,
                   pairs: tuple[np.ndarray, np.ndarray] | None = None,
                   eval_pairs: tuple[np.ndarray, np.ndarray] | None = None,
                   align_overrides: dict | None = None, preset: str = "small", steps: int | None = None,
                   checkpoint_dir: str | None = None, progress: bool = True,
                   on_align_result: Callable[[AlignResult], None] | None = None,
                   check_spaces: bool = True,
                   fallback: Callable[[], tuple[np.ndarray, np.ndarray]] | None = None,
                   own_pairs: int = 0, relatedness_pairs: int | Callable[[], int] = 0,
                   other_language: bool | Callable[[], bool] = False,
                   near_copies: float | None = None) -> tuple[Translator, FitReport]:
    """Fit a translator from unpaired ``source`` and ``target`` vectors (plus optional ``pairs``).

    Each side's copies count once, and near-copies too where they are 10% or more of a side (:func:`_distinct_sides`).
    ``near_copies``: the centred cosine from which two vectors are near-copies, counted once whatever their share
    (default: :data:`v2v_store.train.data.NEAR_DUPLICATE_COSINE`, 0.9, with the share rule; 1: only exact copies count
    once, as before session 52).

    ``check_spaces``: refuse names of known models given to collections that look like another known model
    (:func:`v2v_store.fingerprints.check_model_names`: swapped names), and ``pairs`` whose sides do not look like their
    collections' models (:func:`v2v_store.space_check.check_pairs_space`: wrong model names, pairs of another model).

    ``on_align_result``: called with the aligner's full :class:`~v2v_store.train.align.AlignResult` (every
    restart's map, not only the chosen one) for diagnostics, e.g. the benchmark scoring each finalist.

    ``other_language``: the collections were found to be in another language than English (``fit_collections``'
    ``auto`` added that language's anchors): the kinds-of-text warning from the pair profile alone is then not an
    accuracy warning (:func:`_compare_kinds`). The fallback's fit is given it too.

    ``own_pairs``: the first ``own_pairs`` of ``pairs`` are of the collections' own kind of text (``--pairs-*``,
    ``--pair-texts``), the rest anchor pairs of other texts. With ``anchors+align`` only the anchors get
    :func:`anchor_pair_weight`, the own pairs count fully, and the models' relatedness is measured on the anchors alone
    (session 35: 500 German texts of a German collection had made MiniLM and e5 look loosely related, 0.965 against
    0.994 on the anchors, and, weighted like the anchors, counted less). ``relatedness_pairs``: only the first that
    many anchor pairs measure it (0: all): the English anchors of anchors in several languages (session 50: with French
    anchors beside them MiniLM and e5 looked loosely related, 0.980, the anchors then counted fully, and French
    messages reached top-1 0.701 / 0.713 against 0.733 / 0.748 weighted as on the English anchors). It and
    ``other_language`` may be callables, asked only when the anchors are made (by ``fallback``, for one).

    ``fallback``: for the unsupervised ``align`` (no ``pairs``) only. That fit then skips its final stage when its restarts
    are not confirmed (``AlignConfig.final_when_unconfirmed``: the stage never changes the verdict, and on a 2-core CPU it
    took ~3 of a failing fit's ~7 minutes). When no label-free check confirms the fit, ``fallback`` is called for anchor
    pairs (texts that are not the collections', embedded by both models:
    :func:`v2v_store.anchors.anchor_pairs`) and the fit is done again as ``anchors+align`` (as ``anchors``, Procrustes
    in under a second, when a ``time_budget`` in ``align_overrides`` is already spent). The unsupervised attempt stays
    in the report (``details["unsupervised"]``, and the reason). On WordNet glosses and FOLDOC, where every unsupervised
    restart failed, ``anchors+align`` reached top-1 0.92-0.95 (``benchmarks/results/anchors_align.md``)."""
    from v2v_store.train.linear import fit_procrustes

    if method not in METHODS:
        raise V2VError(f"unknown method {method!r}: choose one of {', '.join(METHODS)}")
    source, target, repeated = _distinct_sides(source, target, names, near_copies)
    spans = side_spans(source, target, names)
    spaces = (Space(names[0], source.shape[1]), Space(names[1], target.shape[1]))
    for given in (pairs, eval_pairs):
        for side, collection, name in zip(given or (), (source, target), names):
            if side.shape[1] != collection.shape[1]:
                hint = " (for --method anchors, --source-name / --target-name name that model)" if "anchors" in method else ""
                raise DimensionMismatchError(f"the paired vectors of {name!r} are {side.shape[1]}-d but its collection's are "
                                             f"{collection.shape[1]}-d: pairs must come from the model that embedded "
                                             f"the collection{hint}")
    space_similarity, model_similarity = None, None
    if check_spaces:
        model_similarity = check_model_names((source, target), names)
        check_one_model((source, target), names)
    if pairs is not None and check_spaces:
        what = "anchor pairs (bundled texts embedded by the named models)" if "anchors" in method else "paired vectors"
        space_similarity = check_pairs_space(source, target, pairs, names, what)
    t0 = time.perf_counter()
    # the unsupervised default: the one fit that ``fallback`` can replace
    # (and not where a side spans too few dimensions for any fit to be trusted: anchors would not change that)
    fallback = fallback if method == "align" and pairs is None and not _too_narrow(spans) else None
    if method in ("procrustes", "anchors", "anchors+align"):
        if pairs is None or len(pairs[0]) < 2:
            raise V2VError(f"method {method!r} needs paired vectors: " + (
                "pass --pairs-source and --pairs-target" if method == "procrustes" else
                "from the CLI, --source-name and --target-name naming offline models, or --pairs-source and "
                "--pairs-target; from Python, pairs=v2v_store.anchors.anchor_pairs(source_model, target_model)"))
    n_pairs, dims = (0 if pairs is None else len(pairs[0])), min(source.shape[1], target.shape[1])
    # pairs alone determine the map with at least one per dimension; with fewer, Procrustes on them is underdetermined
    # (WordNet, MiniLM -> e5: 10 / 50 / 500 pairs gave held-out top-1 0.001 / 0.034 / 0.764) and a fit that uses them
    # needs the aligner's own check (10 pairs were enough on WordNet, 0.85, but not on FOLDOC, 0.005)
    determined = n_pairs >= dims
    measured = pairs  # the models' relatedness, on the anchors alone when there are enough of them beside own pairs
    if pairs is not None and own_pairs and len(pairs[0]) - own_pairs >= 200:
        measured = (pairs[0][own_pairs:], pairs[1][own_pairs:])
    english = _decided(relatedness_pairs)
    if measured is not None and len(measured[0]) > english >= 200:
        measured = (measured[0][:english], measured[1][:english])
    relatedness = pairs_relatedness(measured) if pairs is not None else float("nan")  # NaN below 200 pairs
    loose = bool(relatedness < RELATED_BELOW)  # False for NaN
    if method in ("procrustes", "anchors"):
        anchors = method == "anchors"
        mapping = fit_procrustes(pairs, centre_on=(source, target) if anchors else None)
        translator = Translator.from_linear_map(mapping, *spaces, info={"method": method})
        what = "anchor pairs (texts embedded by both models), centred on the collections" if anchors else "pairs"
        fix = "raise --anchors" if anchors else "use --method align with these pairs"
        reason = f"supervised on {n_pairs} {what}" + ("" if determined else f"; fewer than the {dims} dimensions: the "
                                                      f"map is underdetermined; {fix}")
        report = FitReport(method, 0.0, determined, reason)
    else:
        translator, report = None, None
        if method in ("align", "align+gan", "anchors+align"):
            overrides = dict(align_overrides or {})
            if fallback is not None:
                # an unconfirmed map will be replaced by the fallback's: skip its final stage (the verdict stays), and
                # do not search on with more restarts (anchor pairs beat a rarely found map: pydoc 0.94 against 0.85)
                overrides = {"final_when_unconfirmed": False, "more_restarts": 0, **overrides}
            one_restart = method == "anchors+align" and determined and "restarts" not in overrides
            if one_restart:
                # at least one anchor per dimension fixes the start (every restart begins at the anchors' Procrustes
                # map) and the anchors stay in every step, so restarts only repeat it: on the kit's wiki split one
                # restart gave the map of three in half the time (MiniLM <-> e5 0.954 / 0.939 in 135 s, against
                # 0.954 / 0.940 in 264 s: benchmarks/results/anchors_fortunes_for_wiki_minilm_e5*.md)
                overrides["restarts"] = 1
            weighted = method == "anchors+align" and determined and "pair_weight" not in overrides
            if weighted:
                overrides["pair_weight"] = anchor_pair_weight(min(len(source), len(target)), loose)
                overrides["full_weight_pairs"] = own_pairs
            result = _align(source, target, seed, device, overrides, pairs, on_align_result)
            conf = result.confidence
            info = {"method": "anchors+align" if method == "anchors+align" else "align", "score": result.score,
                    "fit": result.report()}
            translator = Translator.from_linear_map(result.mapping, *spaces, info=info)
            if method == "anchors+align":
                check = "one restart, started from the anchors' map" if one_restart else conf.reason
                weight = (f", each weighted {overrides['pair_weight']:.2f} against the collections' transport "
                          "pseudo-pairs" + (f" except the first {own_pairs}, the collections' own kind of text, which "
                                            "count fully" if own_pairs else "") if weighted else "")
                if weighted and loose:
                    weight += (f" (the models are loosely related: kept-out pairs found {relatedness:.3f} of their "
                               f"partners, below {RELATED_BELOW}, so the anchors count fully)")
                reason = (f"aligned with {n_pairs} anchor pairs (texts embedded by both models) as few-shot pairs"
                          f"{weight}; {check}" + ("" if determined else f"; fewer anchors than the {dims} dimensions"))
            else:
                reason = conf.reason if pairs is None else f"few-shot ({n_pairs} pairs); {conf.reason}"
            reason = "; ".join([reason, *result.budget_cuts])
            report = FitReport(method, 0.0, conf.trusted or determined, reason, result.score, result.report())
        if method in ("gan", "align+gan"):
            translator, report = _fit_gan(source, target, names, seed, device, preset, steps, eval_pairs, translator,
                                          checkpoint_dir, progress, report)
    if np.isfinite(relatedness):
        report.details["pairs_relatedness"] = translator.info["pairs_relatedness"] = round(relatedness, 4)
    if pairs is not None and len(pairs[0]) >= 200:
        _compare_kinds(pairs, source, target, translator, report, judge=not loose,
                       other_language=_decided(other_language))
    if translator.kind == "linear":  # how much of each space's mean the queries translated into it keep (label-free)
        report.details["query_mean_weight"] = translator.calibrate_queries(source, target, seed=seed)
    report.seconds = time.perf_counter() - t0
    translator.record_space_stats(source, target)
    translator.info.update({"trusted": report.trusted, "reason": report.reason, "seconds": report.seconds})
    if space_similarity is not None:
        translator.info["pairs_space_similarity"] = space_similarity
    if model_similarity:
        translator.info["model_similarity"] = model_similarity
    if eval_pairs is not None:
        u, v = eval_pairs
        report.paired = {
            f"{names[0]}->{names[1]}": translation_metrics(translator, u, v, *names).to_dict(),
            f"{names[1]}->{names[0]}": translation_metrics(translator, v, u, names[1], names[0]).to_dict(),
        }
        translator.info["paired"] = report.paired
    if (method == "align" and pairs is None and not report.trusted and fallback is None and not set(names) <= set(MODELS)
            and not _too_narrow(spans)):
        report.reason += _model_name_hint(source, target)
        translator.info["reason"] = report.reason
    if fallback is not None and not report.trusted:
        translator, report = _fall_back(source, target, names, seed, device, eval_pairs, align_overrides, check_spaces,
                                        fallback, relatedness_pairs, other_language, translator, report)
    if repeated:
        report.details["repeated_vectors"] = repeated
        report.reason += "; " + ", ".join(f"{n}: {k} vectors repeat others (copies or near-copies) and count once"
                                          for n, k in repeated.items())
        translator.info["reason"] = report.reason
    _judge_spans(spans, translator, report)
    return translator, report


def check_one_model(collections: tuple[np.ndarray, np.ndarray], names: tuple[str, str]) -> None:
    """Refuse (:class:`SpaceMismatchError`) a side holding two models' vectors (:func:`v2v_store.space_check.two_models`):
    one map cannot fit both, and the fit would be trusted on the larger one's (session 72: MiniLM and e5 vectors mixed
    50/50 against mpnet, trusted; the MiniLM half then translated at top-1 0.989, the e5 half at 0.000, and
    ``migrate`` wrote both without a word)."""
    for vectors, name, side in zip(collections, names, ("source", "target")):
        found = two_models(vectors)
        if found is not None:
            raise SpaceMismatchError(
                f"{two_models_message(f'the {name!r} collection', found)}: one translator cannot fit both. Fit on one "
                f"model's records (--{side}-where FIELD=VALUE where a metadata field names each record's model, or "
                f"another collection of that model alone); a collection of both is migrated or queried with a "
                f"translator between the two models and --source-space auto. If you are sure it is one model's, skip "
                f"this check with --no-space-check")


def side_spans(source: np.ndarray, target: np.ndarray, names: tuple[str, str]) -> dict[str, tuple[int, int, bool]]:
    """Each side's ``(span, dimensions, narrow)`` (:func:`v2v_store.spans.narrow`); the narrow ones logged."""
    found = {name: narrow(side) for name, side in zip(names, (source, target))}
    for name, (k, dims, cut) in found.items():
        if cut:
            logger.warning(narrow_warning(f"the {name!r} vectors", k, dims))
    return found


def _too_narrow(spans: dict[str, tuple[int, int, bool]]) -> str | None:
    return too_narrow({name: k for name, (k, _, _) in spans.items()})


def _judge_spans(spans: dict[str, tuple[int, int, bool]], translator: Translator, report: FitReport) -> None:
    """Into the report: the sides that span fewer dimensions than they have, and the verdict where one spans too
    few to tell documents apart (:func:`v2v_store.spans.too_narrow`)."""
    cut = {name: (k, dims) for name, (k, dims, is_narrow) in spans.items() if is_narrow}
    if not cut:
        return
    report.details["spans"] = {name: {"span": k, "dims": dims} for name, (k, dims) in cut.items()}
    verdict = _too_narrow(spans)
    if verdict is not None:
        report.trusted = False
        report.details["too_narrow"] = True
        report.reason = f"{verdict}; {report.reason}"
    else:
        report.reason += "; " + "; ".join(narrow_warning(f"the {name!r} vectors", k, dims)
                                          for name, (k, dims) in cut.items())
    translator.info.update({"trusted": report.trusted, "reason": report.reason})


def _distinct_sides(source: np.ndarray, target: np.ndarray, names: tuple[str, str],
                    near_copies: float | None = None) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Each side with its repeated vectors left out, copies (:func:`v2v_store.train.data.distinct_rows`) and then
    near-copies (:func:`v2v_store.train.data.near_duplicate_rows` from centred cosine ``near_copies``, by default
    ``NEAR_DUPLICATE_COSINE`` or what a collection in few directions reaches by chance; 1: none), and how many were,
    by side name (none: empty). By default (``near_copies=None``) near-copies count once only where they are at least
    ``NEAR_DUPLICATE_SHARE`` (10%) of either side's distinct vectors, and then on both sides: repeated boilerplate
    (24-27% in session 52's probe, which made every restart fail) and not the near-paraphrases of natural
    collections (at most 4.7% on the kit's corpora). A ``near_copies`` given applies whatever the share."""
    from v2v_store.train import data

    if near_copies is not None and not 0 < near_copies <= 1:
        raise V2VError(f"near-copies at centred cosine {near_copies}: give a cosine in (0, 1], e.g. 0.9 (the default), "
                       "or 1 to count only exact copies once")

    distinct, kept = [], []
    for vectors, name in zip((source, target), names):
        if np.ndim(vectors) != 2:
            raise InvalidVectorsError(f"the {name!r} vectors have shape {np.shape(vectors)}: give a 2-D array, one "
                                      "vector per row")
        missing = no_embedding(vectors)
        if missing.all():
            raise InvalidVectorsError(f"the {name!r} vectors are all NaN, infinite or zero: no embedding to fit on "
                                      "(check the collection with `v2v inspect`)")
        if missing.any():  # an overflow, a placeholder for a failed embedding: nothing to learn from
            logger.warning("%s: %d of its %d vectors are NaN, infinite or all zero (no embedding) and are left out",
                           name, int(missing.sum()), len(vectors))
            vectors = vectors[~missing]
        distinct.append(vectors[data.distinct_rows(vectors)])
        kept.append(distinct[-1][data.near_duplicate_rows(distinct[-1], near_copies)])
    shares = [1 - len(k) / max(len(d), 1) for k, d in zip(kept, distinct)]
    if near_copies is None and max(shares) < data.NEAR_DUPLICATE_SHARE:
        # natural collections hold a few near-paraphrases (kit: wiki 0.03-0.2%, fortunes ~1%, software messages 3-5%),
        # and dropping them only perturbs the fit (session 52: French messages -0.001 / -0.005 top-1, and on 3,072
        # fortunes per side a trusted fit became a refused one)
        if max(shares) > 0:
            logger.info("near-copies: %s of the vectors, below %.0f%%: counted as distinct (--near-copies to count "
                        "them once)", " and ".join(f"{100 * x:.1f}%" for x in shares), 100 * data.NEAR_DUPLICATE_SHARE)
        kept = distinct
    repeated = {}
    for vectors, d, k, name in zip((source, target), distinct, kept, names):
        if len(k) < len(vectors):
            repeated[name] = len(vectors) - len(k)
            logger.info("%s: %d of its %d vectors repeat others (%d copies, %d near-copies): each group counts once",
                        name, repeated[name], len(vectors), len(vectors) - len(d), len(d) - len(k))
    return kept[0], kept[1], repeated


def _records_warnings(fit: Callable[..., tuple[Translator, FitReport]]) -> Callable[..., tuple[Translator, FitReport]]:
    """``fit``, with what v2v-store warned of while it ran in the report's and the saved translator's ``warnings``."""
    @functools.wraps(fit)
    def recording(*args, **kwargs) -> tuple[Translator, FitReport]:
        with recorded_warnings() as found:
            translator, report = fit(*args, **kwargs)
        report.warnings = translator.info["warnings"] = found.messages
        report.accuracy_warnings = translator.info["accuracy_warnings"] = found.accuracy
        return translator, report
    return recording


@_records_warnings
def fit_collections(source: np.ndarray, target: np.ndarray, names: tuple[str, str] = ("source", "target"),
                    method: str = "auto", anchors: int = DEFAULT_ANCHORS,
                    anchor_languages: tuple[str, ...] | str = "auto",
                    pairs: tuple[np.ndarray, np.ndarray] | None = None, fallback: bool = True,
                    check_spaces: bool = True, models: tuple[str | None, str | None] = (None, None),
                    pair_texts: list[str] | None = None,
                    documents: tuple[tuple[np.ndarray, list[str]] | None, tuple[np.ndarray, list[str]] | None] = (None, None),
                    document_check: int = DOCUMENT_CHECK,
                    shared: tuple[np.ndarray, np.ndarray] | None = None, **kwargs) -> tuple[Translator, FitReport]:
    """What ``v2v fit`` does: :func:`fit_translator` with anchor pairs made for it.

    ``method="auto"`` (the CLI's default) fits ``anchors+align`` when both collections are of models v2v-store can
    embed, else the unsupervised ``align``: on the kit's wiki split, with 5,000 anchors of another corpus,
    ``anchors+align`` beat the unsupervised fit on all three model pairs (MiniLM <-> e5 0.954 / 0.940 against a median
    of 0.929 / 0.916, ``benchmarks/results/anchors_fortunes_for_wiki_*.md``), and off Wikipedia the unsupervised fit
    found nothing. A side's model is the one ``models`` gives (an offline model: minilm, e5, mpnet, the directory
    of a saved sentence-transformers model, or ``py:MODULE:FUNCTION``; None: not given), else its name when that
    names one, else the offline model its collection looks like (:func:`v2v_store.anchors.anchor_models`).
    ``anchors``: bundled sentences embedded by both models, added to ``pairs`` for ``anchors`` / ``anchors+align``
    (0: ``pairs`` alone); ``anchor_languages``: that many of each of these languages of the bundled corpus (English,
    French, Spanish: ``v2v_store.texts.BUNDLED_LANGUAGES``), or ``"auto"``: English, and beside it the language whose
    sentences both collections come nearer than the English ones, if any
    (:func:`v2v_store.anchors.collections_language`). ``fallback``: for ``align`` without pairs on offline models,
    refit with the anchors when the unsupervised fit is not confirmed. ``kwargs`` go to :func:`fit_translator`. With
    ``auto``, anchors that cannot be made (a model missing and not shipped) or that do not look like the collections
    leave the unsupervised fit, with a warning, unless ``models`` named them (then the error is raised: the given
    model is wrong or broken). ``pair_texts``: the user's own texts, embedded here by both
    models (:func:`v2v_store.anchors.text_pairs`) and added to ``pairs``: few-shot without embedding them by hand.
    ``documents``: per collection, ``(stored vectors, texts)`` of records that carry their text
    (:func:`v2v_store.train.data.sample_collection`); for the methods in ``DOCUMENT_METHODS`` each collection's are
    paired with the other side's model's embeddings of them (:func:`v2v_store.anchors.document_pairs`, checked to
    behave like pairs) and added to ``pairs``. Only that other model must run here, so with ``auto`` a collection of
    a model v2v-store cannot run gets a few-shot ``align`` when the other collection's model can embed its texts.
    ``document_check`` of those pairs (when there are at least twice as many) are held out of the fit and measure the
    saved map on the collections' own texts: each direction's top-1 / mean rank of the partner among the held-out
    partners and every vector of the other collection (``report.document_check``). ``shared``: the collections' records
    that store the same text, or both hold by id (:func:`v2v_store.train.data.sample_collections`), true pairs that need neither model:
    they join the document pairs (and their held-out check) for every method but ``gan``; with ``auto``, collections
    of models v2v-store cannot run get a few-shot ``align`` from them. The saved translator records each side's model
    (``info["models"]``, for ``query --model`` and ``evaluate``); the reason warns when both collections are of one
    model, notes documents that pair more loosely than the anchors (:data:`DOCUMENTS_LOOSER_BY`), and splits the
    document check by whose documents they are when they are of more than one collection. Every warning logged
    meanwhile is also in ``report.warnings`` and the translator's ``info["warnings"]`` (``v2v fit --fail-on-warning``
    exits 3 on any), and those that foretell a worse map (another language without its texts, different kinds of text)
    in ``report.accuracy_warnings`` and ``info["accuracy_warnings"]`` (``--fail-on-accuracy-warning``)."""
    given, languages = tuple(models), anchor_languages_of(anchor_languages)
    for flag, model in zip(("--source-model", "--target-model"), given):
        if model is not None:
            require_model(model, flag)
    models = tuple(m or n for m, n in zip(given, names))  # whose anchors: given, named, or looked like
    use_documents = method in DOCUMENT_METHODS and any(d is not None and len(d[1]) for d in documents)
    if pair_texts or use_documents or (anchors and (method in ("auto", "anchors", "anchors+align") or fallback)):
        models = anchor_models(source, target, names, given)
    requested, known = method, bool(anchors) and all(can_embed(m) for m in models)
    why = ("both collections are of models v2v-store can embed" if known else
           "no anchor pairs for these collections (a model v2v-store does not know, or anchors=0)")
    if method == "auto":
        method = "anchors+align" if known else "align"
    if check_spaces and ((method in ("anchors", "anchors+align") and anchors) or pair_texts or use_documents):
        check_model_names((source, target), models, ("--source-model", "--target-model") if any(given) else
                          ("--source-name", "--target-name"))  # swapped or wrong: refuse before embedding anchors
    if pair_texts:
        pairs = _joined(pairs, text_pairs(*models, list(pair_texts)))
    stored = document_pairs(documents, models, (source.shape[1], target.shape[1])) if use_documents else None
    held, made = None, stored.pairs if stored is not None else None
    # whose documents each pair is: the source collection's, the target's (document_pairs' order), shared records
    origin = [side for side, count in (stored.counts.items() if stored is not None else ()) for _ in range(count)]
    shared = shared if shared is not None and len(shared[0]) and method != "gan" else None
    shared_note = None
    if shared is not None:
        shared, shared_note = checked_shared_pairs(shared)
        (logger.info if shared is not None else logger.warning)("shared records: %s", shared_note)
    if shared is not None:
        made = _joined(made, shared)
        origin += ["shared"] * len(shared[0])
    held_origin = None
    if made is not None:
        if document_check and len(made[0]) >= 2 * document_check:
            order = np.random.default_rng(kwargs.get("seed", 0)).permutation(len(made[0]))
            held = (made[0][order[:document_check]], made[1][order[:document_check]])
            held_origin = np.asarray(origin)[order[:document_check]]
            made = (made[0][order[document_check:]], made[1][order[document_check:]])
            # nor are their stored vectors among the collections' unpaired ones: at 1,200 per side the fit had pulled
            # its own training vectors onto their transport partners, and the check then found 0.24 top-1 where pairs
            # of unseen texts found 0.95
            source, target = _without(source, held[0]), _without(target, held[1])
        pairs = _joined(pairs, made)
        if requested == "auto" and not known:
            why = (f"{why}; documents stored with the collections give {len(made[0])} pairs: few-shot (a model "
                   "v2v-store cannot run needs only the other collection's model to embed its documents, or none "
                   "for texts both collections store)")

    @functools.cache
    def languages_for_anchors() -> tuple[tuple[str, ...], dict[str, list[float]]]:
        """``anchor_languages``, with ``auto`` decided once, when anchors are first needed, and the check's scores."""
        if languages != "auto":
            return languages, {}
        try:
            found, scores = collections_language((source, target), models)
        except MissingDependencyError as e:  # the shipped vectors may still stand in, in English
            logger.info("the collections' language is not checked (%s): English anchors", e)
            return ("en",), {}
        if found != "en":
            logger.info("the collections came nearer the bundled %s sentences than the English ones in both models' "
                        "spaces (%s): anchor sentences in en and %s", found, scores, found)
        return ("en",) if found == "en" else ("en", found), scores

    @functools.cache
    def added_language_anchors() -> tuple[np.ndarray, np.ndarray] | None:
        """The anchors in the language `auto` adds beside the English ones, once; None when it adds none."""
        more = languages_for_anchors()[0][1:]
        return anchor_pairs(*models, anchors, more) if more else None

    # how many anchors of each language were made, and of English, leading them (fewer where shipped vectors stand in)
    made_anchors = {"each": anchors, "english": anchors}

    def anchors_for_fit() -> tuple[np.ndarray, np.ndarray]:
        if languages != "auto":  # (English first where it is one)
            made = [anchor_pairs(*models, anchors, (language,)) for language in languages]
            made_anchors.update(each=len(made[0][0]), english=len(made[0][0]) if languages[0] == "en" else 0)
            return functools.reduce(_joined, made)
        english = anchor_pairs(*models, anchors)  # first: a bad count or a missing model fails before the check
        made_anchors.update(each=len(english[0]), english=len(english[0]))
        added = added_language_anchors()
        return english if added is None else _joined(english, added)

    def in_other_language() -> bool:
        """Whether ``auto`` found the collections in another language than English (asked once anchors are made)."""
        return languages == "auto" and languages_for_anchors()[0] != ("en",)

    # English first: the relatedness line was drawn on English anchors (asked once the anchors are made)
    kwargs.update(check_spaces=check_spaces, fallback=anchors_for_fit if fallback and known else None,
                  relatedness_pairs=lambda: made_anchors["english"])
    if kwargs["fallback"] is not None and pairs is None:  # (pairs of their own: no fallback, and of their language)
        kwargs["other_language"] = in_other_language  # decided when the fallback makes its anchors
    try:
        with_anchors, own = pairs, 0
        if method in ("anchors", "anchors+align") and anchors:
            with_anchors = _joined(pairs, anchors_for_fit())
            own = 0 if pairs is None else len(pairs[0])  # the collections' own pairs first, then the anchors
            kwargs["other_language"] = in_other_language()
        translator, report = fit_translator(source, target, names, method=method, pairs=with_anchors, own_pairs=own,
                                            **kwargs)
    except (MissingDependencyError, SpaceMismatchError) as e:  # auto: no anchors, or anchors unlike the collections
        if requested != "auto" or method == "align" or pairs is not None or any(given):
            raise
        logger.warning("no anchor pairs for these collections (%s): fitting without them", e)
        method, why = "align", f"the anchor pairs could not be used ({e})"
        kwargs["fallback"] = None  # it would fail the same way
        translator, report = fit_translator(source, target, names, method=method, pairs=pairs, **kwargs)
    identified = [f"{name!r} as {model}" for name, model, g in zip(names, models, given) if name != model and not g]
    if models != names and report.method in ("anchors", "anchors+align"):
        report.reason += f"; anchors of {models[0]} and {models[1]}" + (
            f": {' and '.join(identified)} by the collections' covariance fingerprints" if identified else "")
        translator.info["anchor_models"] = list(models)
    # each side's model where v2v-store can run it (given, named, or recognised by its fingerprint): `query --model`
    # and `evaluate` embed texts of that space with it
    translator.info["models"] = {name: model_spec(model) for name, model in zip(names, models) if can_embed(model)}
    if report.method in ("anchors", "anchors+align") and anchors:  # anchors were made: the languages are decided
        used, scores = languages_for_anchors()
        if scores:
            translator.info["anchor_language_scores"] = scores
        if used != ("en",):
            paired_documents = stored is not None and stored.pairs is not None
            related, without_texts = float("nan"), languages == "auto" and not paired_documents and not pair_texts
            if without_texts:  # does the added language need them?
                related = pairs_relatedness(added_language_anchors())
                if np.isfinite(related):
                    translator.info["added_language_relatedness"] = round(related, 4)
            note = other_languages_note(paired_documents, held is not None, bool(pair_texts), related)
            if without_texts and not related >= RELATED_BELOW:  # NaN (too few anchors to tell) warns too
                logger.warning("the collections came nearer the bundled %s sentences than the English ones, and this fit "
                               "has none of their own texts: %s", used[-1], note, extra=ACCURACY)
            looks = (f"; the collections came nearer the bundled {used[-1]} sentences than the English ones in both "
                     f"models' spaces; {note}" if languages == "auto" else "")
            report.reason += f"; anchor sentences in {' and '.join(used)} ({made_anchors['each']} of each{looks})"
        translator.info["anchor_languages"] = list(used)
    if pair_texts:
        report.reason += f"; {len(pair_texts)} of the pairs are your --pair-texts, embedded by {models[0]} and {models[1]}"
        translator.info["pair_texts"] = len(pair_texts)
    if shared_note:
        report.reason += f"; {shared_note}"
        translator.info["shared_documents"] = 0 if shared is None else len(shared[0])
    if stored is not None:  # (document_pairs logged them)
        report.reason += "; " + "; ".join(stored.notes + stored.left_out)
        translator.info["document_pairs"] = {"counts": stored.counts, "relatedness": stored.relatedness,
                                             "unmatched": stored.unmatched}
    if held is not None:
        report.document_check = {
            f"{names[0]}->{names[1]}": translation_metrics(translator, *held, *names, target).to_dict(),
            f"{names[1]}->{names[0]}": translation_metrics(translator, held[1], held[0], names[1], names[0],
                                                           source).to_dict()}
        there, back = report.document_check.values()
        report.reason += (f"; on {len(held[0])} of those documents held out of the fit, top-1 {there['top1']:.3f} / "
                          f"{back['top1']:.3f} (mean rank {there['mean_rank']:.2f} / {back['mean_rank']:.2f}) among "
                          f"them and the other collection's {len(target):,} / {len(source):,} vectors")
        translator.info["document_check"] = report.document_check
        by_origin = _document_check_by_origin(translator, held, held_origin, names, (source, target))
        if by_origin:  # documents of both collections (or shared records too): each one's own numbers
            report.details["document_check_by_collection"] = translator.info["document_check_by_collection"] = by_origin
            report.reason += "; of those, " + ", ".join(
                (f"the {who} collection's {m['n']} documents" if who != "shared" else f"{m['n']} shared records")
                + f" {m['top1']:.3f} / {m['back_top1']:.3f}" for who, m in by_origin.items())
    if models[0] == models[1] and can_embed(models[0]):
        note = (f"both collections are of one model ({models[0]}), so their vectors can already be compared "
                "as they are and no translator is needed; if one is another model (a fine-tune of it), name it "
                "(--source-model/--target-model) so that the anchors are that model's")
        logger.warning("%s", note)
        report.reason += f"; {note}"
    if stored is not None and report.method in ("anchors", "anchors+align") and anchors:
        note = _loose_documents_note(stored, translator.info.get("pairs_relatedness"))
        if note:
            logger.warning("document pairs: %s", note)
            report.reason += f"; {note}"
    if requested == "auto":
        report.reason = f"--method auto chose {method}, {why}; {report.reason}"
        translator.info["requested_method"] = "auto"
    translator.info["reason"] = report.reason
    return translator, report


def _document_check_by_origin(translator: Translator, held: tuple[np.ndarray, np.ndarray], origin: np.ndarray | None,
                              names: tuple[str, str], collections: tuple[np.ndarray, np.ndarray]) -> dict:
    """The held-out document check split by whose documents the pairs are (``origin``: source, target, shared), where
    they are of more than one: top-1 both ways and how many. Empty when they are all of one."""
    if origin is None or len(set(origin)) < 2:
        return {}
    out = {}
    for who in dict.fromkeys(origin):
        rows = np.flatnonzero(origin == who)
        there = translation_metrics(translator, held[0][rows], held[1][rows], *names, collections[1])
        back = translation_metrics(translator, held[1][rows], held[0][rows], names[1], names[0], collections[0])
        out[str(who)] = {"n": len(rows), "top1": round(there.top1, 4), "back_top1": round(back.top1, 4)}
    return out


def _loose_documents_note(stored, anchors: float | None) -> str | None:
    """A note on the collections whose stored documents (used in the fit) pair more loosely than the anchors do,
    by :data:`DOCUMENTS_LOOSER_BY` or more; None when none does (or the anchors' relatedness is unknown)."""
    if anchors is None:
        return None
    looser = {side: stored.relatedness[side] for side in stored.counts
              if stored.relatedness.get(side, anchors) < anchors - DOCUMENTS_LOOSER_BY}
    if not looser:
        return None
    return (f"the {' and '.join(looser)} collection's documents pair more loosely than the anchors (kept-out pairs "
            f"found {' and '.join(f'{r:.3f}' for r in looser.values())} of their partners, the anchors {anchors:.3f}): "
            "they may not be the whole texts their vectors embed (a title or a prefix: check the document field) or "
            "be texts a model represents poorly (another language); the document check measures them as much as the map")


def _joined(pairs: tuple[np.ndarray, np.ndarray] | None,
            more: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``pairs`` (None: none yet) followed by ``more``, row for row."""
    if pairs is None:
        return more
    return np.concatenate([pairs[0], more[0]]), np.concatenate([pairs[1], more[1]])


# a vector of a collection this near (cosine) a held-out pair's vector is the same document's: the same text embedded
# again by the same model (float noise: ~1e-7), e.g. the other named vector of a held-out document's own point where
# both collections are named vectors of one Qdrant collection, or the same text stored in both collections
SAME_DOCUMENT_COS = 0.9999


def _without(vectors: np.ndarray, rows: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """``vectors`` less every row that is one of ``rows`` (the held-out documents' vectors, stored or embedded here):
    equal to it, or the same document embedded again (:data:`SAME_DOCUMENT_COS`). Before session 65 only equal rows
    went, and a held-out document whose point also held the other model's vector met that vector among the check's
    candidates, a second copy of its partner that won about half the time."""
    if not len(rows) or not len(vectors):
        return vectors
    held = l2_normalize(np.asarray(rows, dtype=np.float32))
    keep = np.concatenate([(l2_normalize(np.asarray(vectors[s:s + chunk], dtype=np.float32)) @ held.T).max(1)
                           < SAME_DOCUMENT_COS for s in range(0, len(vectors), chunk)])
    return vectors[keep]


def _model_name_hint(source: np.ndarray, target: np.ndarray) -> str:
    """When both collections look like two offline models (their fingerprints), that anchor pairs of those models can
    replace an unconfirmed fit; else nothing."""
    found = anchor_models(source, target, ("", ""))  # "" where a collection looks like no offline model
    if "" in found or found[0] == found[1]:
        return ""
    return (f"; the collections look like {found[0]} and {found[1]} vectors: if both models can still be run, anchor "
            f"pairs of those models can replace this fit (`v2v fit` falls back to them unless --no-fallback; "
            f"--method anchors+align)")


def _decided(value):
    """``value``, or what it gives where it is a callable: a fact decided only when the anchors are made."""
    return value() if callable(value) else value


def _fall_back(source, target, names, seed, device, eval_pairs, align_overrides, check_spaces, fallback,
               relatedness_pairs: int | Callable[[], int], other_language: bool | Callable[[], bool],
               translator: Translator, unsupervised: FitReport) -> tuple[Translator, FitReport]:
    """Fit again with the anchor pairs ``fallback()`` gives, after the unsupervised ``translator`` could not be
    confirmed; if that raises a :class:`V2VError` (``fallback`` or the second fit), the unsupervised translator is
    returned with the error in its reason."""
    logger.warning("the unsupervised fit could not be confirmed (%s): falling back to anchor pairs (texts embedded by "
                   "both models)", unsupervised.reason)
    t0 = time.perf_counter()
    overrides = dict(align_overrides or {})
    try:
        anchor_pairs = fallback()
        method = "anchors+align"
        if overrides.get("time_budget") is not None:
            left = overrides["time_budget"] - unsupervised.seconds - (time.perf_counter() - t0)
            if left > 0:
                overrides["time_budget"] = left
            else:
                method = "anchors"  # the budget is spent: Procrustes on the anchors, under a second
        second, report = fit_translator(source, target, names, method=method, seed=seed, device=device,
                                        pairs=anchor_pairs, eval_pairs=eval_pairs, align_overrides=overrides,
                                        check_spaces=check_spaces, relatedness_pairs=relatedness_pairs,
                                        other_language=other_language,
                                        near_copies=1.0)  # the sides were made distinct by the first fit
    except V2VError as e:  # a model that is not installed, anchors unlike the collection: keep the unsupervised fit
        logger.warning("no fallback: %s", e)
        unsupervised.reason += f"; no fallback to anchor pairs: {e}"
        translator.info["reason"] = unsupervised.reason
        return translator, unsupervised
    report.reason = (f"the unsupervised fit could not be confirmed ({unsupervised.reason}); fell back to {method}: "
                     f"{report.reason}")
    report.seconds = unsupervised.seconds + time.perf_counter() - t0
    report.details["unsupervised"] = unsupervised.to_dict()
    second.info.update({"reason": report.reason, "seconds": report.seconds, "fallback_from": "align"})
    return second, report


def _compare_kinds(pairs: tuple[np.ndarray, np.ndarray], source: np.ndarray, target: np.ndarray,
                   translator: Translator, report: FitReport, most: int = 20000, judge: bool = True,
                   other_language: bool = False) -> None:
    """Warn (in the reason and the log; the verdict stays) when the two collections look like different kinds of text
    by either of two statistics over at most ``most`` vectors of each collection:
    :func:`v2v_store.metrics.pair_profile_correlation` (how near each collection comes to the paired texts) and
    :func:`v2v_store.metrics.collection_profile_correlation` (each collection's own vectors as probes, under the
    pairs' map alone). ``anchors`` centres the map on the collections' means and the transport steps of ``align`` and
    ``anchors+align`` match their distributions, both of which assume one kind of text on both sides: on the kit
    (MiniLM -> e5, 5,000 anchors, ~14k vectors per side) ``anchors+align`` of package summaries against a Wikipedia
    target gave top-1 0.445 / 0.250 and FOLDOC against package summaries 0.599 / 0.608, both reported trusted, where
    the anchors alone gave 0.614 / 0.313 and 0.804 / 0.712 (``benchmarks/probes/README.md``, sessions 31-32). A
    warning, not a refusal: the statistics were calibrated on a handful of corpora, and where half the target was of
    the source's kind ``anchors+align`` was still the better map (0.890 / 0.776 against the anchors' 0.687 / 0.301).
    ``judge=False`` (loosely related models, :data:`RELATED_BELOW`): the statistics are recorded, not judged; with a
    64-dimensional static model against e5 the pair profile of matched collections fell to 0.01-0.29 and the
    collection profile of mismatched ones rose to 0.04-0.29 (session 32). Both statistics also fall when the two
    collections hold one kind of text and the pairs another (session 35: German software messages against the English
    anchors, 0.05 and 0.12; ``anchors+align`` 0.246 / 0.214, ``anchors`` 0.165 / 0.088, the oracle 0.797 / 0.695), so
    the warning names that case too, and its fix, pairs of the collections' kind (``--pair-texts``). Since the anchors
    hold documentation sentences (session 77) German messages no longer fall below the lines (pair profile 0.36):
    collections in an unbundled language are then named by :func:`other_languages_note` instead.

    The warning is an accuracy warning (``extra=ACCURACY``: ``v2v fit --fail-on-accuracy-warning``) unless it rests on
    the pair profile alone and ``other_language`` (collections in another language than most pairs): the profile then
    measures the language gap as much as the kinds, and it fell below its line on two fits at their oracle (Italian
    fortunes, MiniLM / mpnet, English and Spanish anchors: 0.15 and 0.18, top-1 0.984 and 0.992, session 81), while the
    bad fits it came with in another language were named by the language warning too."""
    rng = np.random.default_rng(0)
    sample = lambda v: v if len(v) <= most else v[np.sort(rng.choice(len(v), most, replace=False))]  # noqa: E731
    source, target = sample(source), sample(target)
    found, collections_apart = [], False
    r = pair_profile_correlation(pairs, source, target)
    if np.isfinite(r):  # not finite: a constant profile (e.g. identical vectors), nothing to compare
        report.details["pairs_profile_correlation"] = translator.info["pairs_profile_correlation"] = round(r, 4)
        if r < KINDS_WARNING_BELOW:
            found.append(f"how near each comes to the {len(pairs[0])} paired texts correlates only {r:.2f} across the "
                         "two spaces (on the kit 0.33-0.67 where both held the same kind, -0.37-0.06 where not)")
    sides = collection_profile_correlation(pairs, source, target)
    if all(np.isfinite(sides)):
        report.details["collection_profile_correlation"] = [round(c, 4) for c in sides]
        translator.info["collection_profile_correlation"] = report.details["collection_profile_correlation"]
        if min(sides) < COLLECTIONS_WARNING_BELOW:
            collections_apart = True
            which = "source" if sides[0] <= sides[1] else "target"
            found.append(f"how crowded the {which} collection's vectors are among their own collection and, under "
                         f"the pairs' map, among the other's correlates only {min(sides):.2f} (on the corpora measured "
                         "0.16-0.92 where both held the same kind, mostly -0.19-0.12 where not)")
    if not judge:
        note = "the kinds-of-text check is not judged for loosely related models, whose statistics move with them"
        if found:
            logger.info("%s: %s", note, "; ".join(found))
        report.reason += f"; {note}" + (" (here they would have warned)" if found else "")
    elif found:
        alternative = "" if report.method in ("anchors", "procrustes") else (
            ", or a map the collections do not bend: --method anchors (procrustes with your own --pairs-*; on the kit "
            "anchors beat anchors+align in 6 of 7 such pairs of collections, not where half the target was of the "
            "source's kind)")
        warning = ("warning: the two collections may hold different kinds of text (" + "; ".join(found) + "), and a "
                   "fit that matches unlike collections can be far off even when trusted; use a target collection of "
                   f"the source's kind of text{alternative}; if both do hold one kind of text, it may be the paired "
                   "texts' kind that differs (another language, a narrow domain): give a few hundred texts of the "
                   "collections' kind with --pair-texts, or keep the texts in the collections as documents, which v2v "
                   "fit pairs by itself (--document-pairs; German software messages with the English anchors: top-1 "
                   "0.25, with 500 of their texts 0.57, with 1,000 stored documents in each collection 0.68)")
        logger.warning(warning, extra=ACCURACY if collections_apart or not other_language else None)
        report.reason += f"; {warning}"


def anchor_pair_weight(collection_size: int, loose: bool = False) -> float:
    """How much each anchor pair counts in ``anchors+align``, against 1 for each transport pseudo-pair of the
    collections: ``min(1, max(0.25, 5000 / n))`` for ``n`` vectors on the smaller side; 1 when the two models are
    ``loose``-ly related (:data:`RELATED_BELOW`), whose pseudo-pairs are mostly wrong: a 64-dimensional static model
    against e5, default rule / 1 / 3, top-1 both ways: FOLDOC 0.464 / 0.621, 0.504 / 0.660, 0.523 / 0.660; package
    summaries 0.434 / 0.587, 0.459 / 0.621, 0.471 / 0.596; against MiniLM on FOLDOC 0.115 / 0.172, 0.132 / 0.199,
    0.141 / 0.186; MiniLM cut to its top 32 principal components against e5 on FOLDOC, rule / 1: 0.153 / 0.309,
    0.183 / 0.385, where at 64 and 128 components (closely related) the rule was as good or better (session 32); at 40
    and 48 components 0.240 / 0.432, 0.266 / 0.480 and 0.333 / 0.546, 0.353 / 0.576; the MiniLM fine-tune
    ``sre-embedding-model`` against e5 on the kit's wiki split 0.917 / 0.861, 0.927 / 0.871 (session 33). Anchors are true pairs of
    *other* texts; the more of the collections' own vectors there are, the more their pseudo-pairs can adapt the map to
    the collections' corpus. Measured with 5,000 anchors, MiniLM <-> e5, one restart (top-1 both ways; 1.0 was the
    weight before session 30): Debian package summaries, 13,903 per side, weight 2 / 1 / 0.5 / 0.25 / 0.1 / 0.05:
    0.880 / 0.903 / 0.917 / 0.917 / 0.910 / 0.906 one way; the same at 6,000 per side, 2 / 1 / 0.5: 0.846 / 0.863 /
    0.863; kit wiki, 13,805 per side, fortunes anchors, 1 / 0.5 / 0.25: 0.954 / 0.957 / 0.955; kit fortunes, 3,072
    per side, 2 / 1 / 0.5 / 0.25: 0.958 / 0.960 / 0.946 / 0.909 (``benchmarks/probes/README.md``, session 30). Checked
    on FOLDOC (15,150 per side, not used to choose it): 0.954 / 0.948 against 0.950 / 0.943 at weight 1."""
    return 1.0 if loose else min(1.0, max(0.25, 5000 / max(collection_size, 1)))


def _align(source, target, seed, device, align_overrides, pairs, on_align_result) -> AlignResult:
    from v2v_store.train.align import AlignConfig, fit_linear

    try:
        cfg = AlignConfig(seed=seed, device=device, **(align_overrides or {}))
    except (TypeError, ValueError) as e:
        raise V2VError(f"bad aligner setting: {e}") from e
    result = fit_linear(source, target, cfg, pairs=pairs)
    if on_align_result is not None:
        on_align_result(result)
    return result


def _fit_gan(source, target, names, seed, device, preset_name, steps, eval_pairs, init: Translator | None,
             checkpoint_dir, progress, init_report):
    from v2v_store.train.trainer import GanTrainer, preset

    model_cfg, train_cfg = preset(preset_name, steps=steps, seed=seed, device=device)
    base = None
    if init is not None:
        base = {space.name: init.linear_space(space) for space in init.spaces}
        model_cfg.base_dim = base[names[0]][1].shape[1]
        model_cfg.latent_dim = max(model_cfg.latent_dim, model_cfg.base_dim)
    trainer = GanTrainer(model_cfg, train_cfg, source, target, names, eval_pairs=eval_pairs, linear_base=base)
    trainer.train(checkpoint_dir=checkpoint_dir, progress=progress)
    translator = Translator("vec2vec", (Space(names[0], source.shape[1]), Space(names[1], target.shape[1])),
                            {k: v.detach().cpu() for k, v in trainer.model.state_dict().items()},
                            info={"method": "gan" if init is None else "align+gan", "score": trainer.best_score,
                                  "best_step": trainer.best_step},
                            model_config=model_cfg.to_dict(), device=str(trainer.device))
    history = [asdict(e) for e in trainer.history]
    trusted = init_report.trusted if init_report is not None else False
    reason = (init_report.reason + "; refined by GAN") if init_report is not None else \
        "GAN from scratch: no label-free check confirms convergence"
    return translator, FitReport("gan" if init is None else "align+gan", 0.0, trusted, reason, trainer.best_score,
                                 {"history": history, "best_step": trainer.best_step})


def require_trusted(report: FitReport) -> None:
    if report.trusted:
        return
    if report.details.get("too_narrow"):
        fix = ("fit on vectors as their model made them, with all the dimensions it gives (no translator carries more "
               "than the vectors hold), or keep this translator knowingly (--allow-untrusted)")
    elif report.method == "procrustes":
        fix = "use --method align with these pairs (few-shot), or give at least as many pairs as dimensions"
    elif report.method in ("anchors", "anchors+align"):
        fix = "give at least as many anchors as dimensions (--anchors)"
    elif report.method == "gan":
        fix = "use --method align (the default), which checks its own result"
    else:  # align, align+gan
        fix = ("check that both collections embed the same kind of texts (on the kit, 8,192 fortunes added to 13,805 "
               "Wikipedia target vectors made a fit that works without them fail); "
               "give documents embedded by both models (--pairs-source/--pairs-target; where every unsupervised "
               "restart failed, 10 pairs gave top-1 0.85 on WordNet glosses but 0.005 on FOLDOC, 50 gave 0.92 there); "
               "or, if both models can still be run, name them (--source-name/--target-name minilm|e5|mpnet, for "
               "collections their fingerprints do not recognise: `v2v fit` then fits --method anchors+align, bundled "
               "texts embedded by both as few-shot pairs, 0.92 there with 5,000; with --method align it falls back "
               "to that) or use the faster --method anchors (0.90); or try more restarts (--restarts, --more-restarts)")
    raise UntrustedTranslationError(
        f"the translator could not be confirmed ({report.reason}); it was saved, but check it with paired vectors "
        f"(--eval-source/--eval-target) before using it. To fix it, {fix}")
