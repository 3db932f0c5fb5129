"""Anchor pairs: bundled texts embedded by both models, for when both models can still be run.

A collection's own texts may be gone, or too many to re-encode, while the old and the new model both still run. Then
any texts embedded by both give true pairs *of the two models*, and the map between two models depends little on the
corpus: orthogonal Procrustes fitted on Wikipedia sentences and applied to WordNet glosses or fortunes (texts it never
saw) keeps most of the retrieval quality (``benchmarks/results/anchors.md``). ``v2v fit --method anchors`` embeds
``count`` anchor texts (:func:`anchor_texts`: bundled Wikipedia sentences, a quarter of them sentences of the Python
standard library's docstrings shipped with v2v-store, :mod:`v2v_store.texts`) with both models (cached) and fits
Procrustes on them, centred on the collections' own means (:func:`v2v_store.train.linear.fit_procrustes`). The
documentation sentences are there for collections of technical text (package summaries, software messages), which
Wikipedia sentences alone placed poorly (session 76, ``benchmarks/results/anchor_kinds_*.md``). The collection's
vectors are only read for those means: nothing of theirs is re-encoded. ``--method anchors+align`` gives the same
pairs to the unsupervised aligner as few-shot pairs, whose transport steps also see the collections' own vectors:
minutes instead of seconds, and closer to the collection's own corpus (FOLDOC, MiniLM <-> e5: top-1 0.950 / 0.943
against 0.900 / 0.852; ``benchmarks/results/anchors_align.md``).

When a model cannot be loaded (retired, or mpnet without its weight packages), :func:`anchor_pairs` uses the vectors
shipped with the package instead: the texts of ``anchor_texts(1000)`` embedded by each offline model, and since
session 82 those of ``anchor_texts(1000, (language,))`` for French and Spanish (``anchor_vectors.safetensors``, built
by ``benchmarks/build_anchor_vectors.py``), so anchor pairs, and the check of the collections' language
(:func:`collections_language`), need neither model at run time for the known ones.

Which models? The ones ``--source-model`` / ``--target-model`` give (an offline model, the directory of any saved
sentence-transformers model the user can still run, or ``py:MODULE:FUNCTION``), else those ``--source-name`` /
``--target-name`` name, else, for a side whose name is not a model's, the offline model its collection looks like by its covariance fingerprint
(:func:`anchor_models`, :mod:`v2v_store.fingerprints`): so ``v2v fit`` on unnamed MiniLM and e5 collections still
gets anchor pairs.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from v2v_store.connectors.base import l2_normalize
from v2v_store.errors import DimensionMismatchError, MissingDependencyError, V2VError
from v2v_store.models import MODELS, can_embed
from v2v_store.texts import BUNDLED_LANGUAGES, bundled_sentences, doc_sentences, embed_cached

logger = logging.getLogger(__name__)
DEFAULT_ANCHORS = 5000
# the share of English anchors taken from the shipped documentation sentences (session 76: Wikipedia sentences alone
# placed technical collections poorly; benchmarks/probes/anchor_mixture*.txt)
DOC_SHARE = 0.25
LANGUAGE_SENTENCES = 300  # bundled sentences per language a collection is compared with (collections_language)
# the texts of anchor_texts(1000) (and of anchor_texts(1000, (language,)) for fr and es) embedded by each offline model
# (benchmarks/build_anchor_vectors.py), for when a model cannot be loaded: 1,000 anchors as few-shot pairs reached
# top-1 0.94 on FOLDOC (benchmarks/results/anchors_align_1000.md)
SHIPPED = Path(__file__).with_name("anchor_vectors.safetensors")


@functools.cache
def shipped_anchor_vectors(language: str = "en") -> dict[str, np.ndarray]:
    """``{model: (n, d) float32}``: the shipped anchor vectors of ``language``, rows the same texts for every model
    (empty if missing): in English the texts of ``anchor_texts(n)``, in another bundled language (since session 82)
    those of ``anchor_texts(n, (language,))``, stored as ``MODEL.LANGUAGE``. Read once per language."""
    if not SHIPPED.exists():
        return {}
    from safetensors.numpy import load_file

    found = {key.partition(".")[0]: vectors for key, vectors in load_file(str(SHIPPED)).items()
             if (key.partition(".")[2] or "en") == language}
    return {model: vectors.astype(np.float32) for model, vectors in found.items()}


def shipped_vectors(model: str, language: str, count: int, docs: bool = True) -> np.ndarray | None:
    """``model``'s shipped vectors of ``anchor_texts(count, (language,), docs)``; None where they are not shipped (a
    model or language without them, or more texts than were shipped)."""
    shipped = shipped_anchor_vectors(language).get(model)
    if shipped is None:
        return None
    n = len(shipped)
    if language == "en" and docs:
        return shipped[shipped_rows(count, n)] if count <= n else None
    last = n - round(n * DOC_SHARE) if language == "en" else n  # English: the Wikipedia rows, before the documentation
    return shipped[last - count:last] if count <= last else None


def anchor_models(source: np.ndarray, target: np.ndarray, names: tuple[str, str],
                  given: tuple[str | None, str | None] = (None, None)) -> tuple[str, str]:
    """Per side, the model whose anchor vectors belong with the collection: the one ``given`` (``--source-model`` /
    ``--target-model``: an offline model or a local model directory), else its name when that names a model v2v-store
    can run (``minilm``, ``e5``, ``mpnet``, a local model directory), else the offline model the collection looks like
    by its covariance fingerprint (same model 0.35-0.95, another at most 0.011 on the corpora measured:
    ``benchmarks/results/space_check_collections.md``), else the name unchanged, which :func:`anchor_pairs` then
    refuses with the fix."""
    from v2v_store.fingerprints import identify
    from v2v_store.space_check import looks_like

    models = []
    for vectors, name, model in zip((source, target), names, given):
        if model is None and not can_embed(name):
            model = looks_like(identify(vectors))
            if model is not None:
                logger.info("the %r collection looks like %s vectors (covariance fingerprint): its anchors are %s's",
                            name, model, model)
        models.append(model or name)
    return models[0], models[1]


def anchor_languages(value: str | tuple[str, ...] | list[str]) -> tuple[str, ...] | str:
    """``"en,fr"`` (or a sequence) as a tuple of bundled languages, English first, each once, or ``"auto"``
    (:func:`collections_language` decides); an unknown or empty one is a :class:`V2VError` that names the choices."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    parts = value.split(",") if isinstance(value, str) else list(value)
    languages = tuple(dict.fromkeys(p.strip().lower() for p in parts if p.strip()))
    languages = tuple(sorted(languages, key=lambda lang: lang != "en"))  # English first (it measures relatedness)
    unknown = [lang for lang in languages if lang not in BUNDLED_LANGUAGES]
    if unknown or not languages:
        raise V2VError(f"--anchor-languages {','.join(parts) if parts else repr(value)}: choose among "
                       f"{', '.join(BUNDLED_LANGUAGES)} (the bundled Wikipedia summaries' languages), comma-separated, "
                       f"e.g. en,fr for French collections, or auto")
    return languages


def collections_language(collections: tuple[np.ndarray, np.ndarray], models: tuple[str, str],
                         sentences: int = LANGUAGE_SENTENCES, sample: int = 1000) -> tuple[str, dict[str, list[float]]]:
    """The bundled language the collections come nearest (their own, if it is one), label-free: per side, the mean
    over up to ``sample`` of its vectors of the best cosine to ``sentences`` bundled sentences of each language
    embedded by that side's model (cached). A language other than English wins when it scores above English on *both*
    sides (the highest sum among those); else English (also when the collections' dimensions are not the models').
    Returns it and the scores ``{language: [source, target]}``.

    On MiniLM <-> e5 (``benchmarks/probes/lang_detect.py``) German, French and Spanish software messages were all
    nearer the French or Spanish sentences than the English ones on both sides, and the nearest was their own language
    (German: French); English software messages, fortunes and Wikipedia sentences were nearer the English ones in
    MiniLM's space (0.201 against 0.175; e5, multilingual, scored French 0.842 against English 0.836 there)."""
    rows = [l2_normalize(v[np.random.default_rng(0).permutation(len(v))[:sample]]) for v in collections]
    scores: dict[str, list[float]] = {}
    for language in BUNDLED_LANGUAGES:  # English first: its sentences also tell the models' dimensions
        refs = [l2_normalize(_language_sentences(model, language, sentences)) for model in models]
        if [r.shape[1] for r in rows] != [r.shape[1] for r in refs]:  # not these models' vectors: the fit's checks say so
            logger.info("the collections' language is not checked: their dimensions %s are not the models' %s",
                        [r.shape[1] for r in rows], [r.shape[1] for r in refs])
            return "en", {}
        scores[language] = [round(float((v @ r.T).max(1).mean()), 4) for v, r in zip(rows, refs)]
    nearer = [lang for lang in scores if lang != "en" and all(s > e for s, e in zip(scores[lang], scores["en"]))]
    return max(nearer, key=lambda lang: sum(scores[lang]), default="en"), scores


def _language_sentences(model: str, language: str, sentences: int) -> np.ndarray:
    """``sentences`` bundled sentences of ``language`` embedded by ``model`` (cached), or, where it cannot be loaded,
    its shipped vectors of the same texts (since session 82: a collection of mpnet without its packages had gone
    unchecked, and French ones then got English anchors alone, 0.606 / 0.588 against 0.802 / 0.797 with French ones)."""
    try:
        return embed_cached(model, anchor_texts(sentences, (language,), docs=False))
    except MissingDependencyError:
        shipped = shipped_vectors(model, language, sentences, docs=False)
        if shipped is None:
            raise
        return shipped


def anchor_texts(count: int, languages: tuple[str, ...] = ("en",), docs: bool = True) -> list[str]:
    """``count`` anchor texts in each of ``languages``, language after language: the last sentences of the bundled
    Wikipedia corpus (the demo uses the first 17,000 English ones: disjoint up to ~19,000), and, in English with
    ``docs``, :data:`DOC_SHARE` of them the shipped documentation sentences instead (:func:`doc_sentences`, after the
    Wikipedia ones)."""
    texts = []
    for language in anchor_languages(languages):
        sentences = bundled_sentences(language)
        technical = list(doc_sentences()[:round(count * DOC_SHARE)]) if docs and language == "en" else []
        wiki = count - len(technical)
        if not 2 <= count or wiki > len(sentences):
            raise V2VError(f"--anchors {count}: choose between 2 and {len(sentences) + len(technical)} (the bundled "
                           f"corpus's {language} sentences{' and documentation sentences' if technical else ''}); at "
                           f"least the models' dimension (384 or 768) for a determined map, {DEFAULT_ANCHORS} by "
                           "default")
        texts += [s["text"] for s in sentences[len(sentences) - wiki:]] + technical
    return texts


def require_runnable(source_model: str, target_model: str, why: str, fix: str) -> None:
    """Refuse (:class:`V2VError`) a side whose model v2v-store cannot run here, saying ``why`` it must and the ``fix``."""
    for flag, name in (("--source-model", source_model), ("--target-model", target_model)):
        if not can_embed(name):
            raise V2VError(f"{why}, so {flag} (or --{flag[2:-6]}-name) must name an offline model "
                           f"({', '.join(sorted(MODELS))}), the directory of a saved sentence-transformers model or "
                           f"py:MODULE:FUNCTION (an importable function), not {name!r}; {fix}")


def anchor_pairs(source_model: str, target_model: str, count: int = DEFAULT_ANCHORS,
                 languages: tuple[str, ...] = ("en",)) -> tuple[np.ndarray, np.ndarray]:
    """``count`` bundled sentences of each of ``languages`` embedded by ``source_model`` and by ``target_model`` (rows
    are the same texts). When a model cannot be loaded, the shipped vectors of the same texts (at most 1,000 per
    language: :func:`shipped_vectors`) instead."""
    require_runnable(source_model, target_model, "anchor pairs embed texts with both models",
                     "or embed a few thousand texts with both models yourself and pass them as "
                     "--pairs-source/--pairs-target with --anchors 0")
    languages = anchor_languages(languages)
    try:
        texts = [anchor_texts(count, (lang,)) for lang in languages]  # each language cached on its own
        logger.info("anchor pairs: %d bundled sentences (%s) embedded by %s and %s (cached after the first run)",
                    sum(map(len, texts)), ", ".join(f"{count} {lang}" for lang in languages), source_model,
                    target_model)
        return tuple(np.concatenate([embed_cached(model, t) for t in texts])
                     for model in (source_model, target_model))
    except MissingDependencyError as e:  # a model (or the corpus) not installed: the shipped vectors, if they have both
        made, missing = [], []
        for language in languages:
            shipped = shipped_anchor_vectors(language)
            if source_model not in shipped or target_model not in shipped:
                missing.append(language)
                continue
            n = min(count, len(shipped[source_model]))
            made.append((language, n, *(shipped_vectors(m, language, n) for m in (source_model, target_model))))
        if not made:
            raise
        counts = sorted({n for _, n, _, _ in made})
        logger.warning("%s: using %s of the anchor vectors shipped with v2v-store instead (the anchor texts of "
                       "--anchors %s in %s%s%s)", e, " + ".join(str(n) for _, n, _, _ in made),
                       "/".join(map(str, counts)), ", ".join(lang for lang, *_ in made),
                       "" if counts == [count] else f"; {count} were asked for",
                       f"; none in {', '.join(missing)}: not shipped for both models" if missing else "")
        return tuple(np.concatenate([m[side] for m in made]) for side in (2, 3))


def shipped_rows(count: int, shipped: int) -> np.ndarray:
    """The rows of the shipped anchor vectors (the texts of ``anchor_texts(shipped)``: Wikipedia sentences, then
    documentation sentences) that hold the texts of ``anchor_texts(count)``, ``count <= shipped``."""
    docs_shipped, docs = round(shipped * DOC_SHARE), round(count * DOC_SHARE)
    wiki_shipped = shipped - docs_shipped
    return np.r_[wiki_shipped - (count - docs):wiki_shipped, wiki_shipped:wiki_shipped + docs]


def read_texts(path: str | Path, flag: str = "--pair-texts", least: int = 2) -> list[str]:
    """The texts of a file for :func:`text_pairs`: one per line, or for ``.jsonl`` the ``"text"`` field of each line;
    blank lines skipped. ``flag``: the option that named the file, for the messages; ``least``: fewer texts is an
    error."""
    return [r["text"] for r in read_records(path, flag, least)]


def read_records(path: str | Path, flag: str, least: int) -> list[dict]:
    """:func:`read_texts`'s lines as objects: a ``.jsonl`` file's whole (its other fields kept, e.g. a query's
    ``"where"``), ``{"text": line}`` for a plain file's."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise V2VError(f"{flag} {path}: no such file; give a text file with one text per line (or .jsonl "
                       "with a \"text\" field per line)")
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    if path.suffix == ".jsonl":
        import json

        try:
            records = [json.loads(line) for line in lines if line]
            records = [{**r, "text": str(r["text"]).strip()} for r in records]
        except (ValueError, KeyError, TypeError) as e:
            raise V2VError(f"{flag} {path}: every line of a .jsonl file must be an object with a \"text\" "
                           f"field ({type(e).__name__}: {e}); or give a plain text file, one text per line") from None
    else:
        records = [{"text": line} for line in lines]
    records = [r for r in records if r["text"]]
    if len(records) < least:
        advice = " (a few hundred adapt the map to the collection's corpus)" if flag == "--pair-texts" else ""
        raise V2VError(f"{flag} {path}: {len(records)} text(s); give at least {least}{advice}, one per line")
    return records


def text_pairs(source_model: str, target_model: str, texts: list[str],
               flag: str = "--pair-texts") -> tuple[np.ndarray, np.ndarray]:
    """The user's own ``texts`` (e.g. a few hundred of the collection's documents, or texts like them) embedded by
    both models (cached): few-shot pairs without embedding them by hand. Unlike :func:`anchor_pairs` there is no
    shipped fallback: both models must run here."""
    require_runnable(source_model, target_model, f"{flag} are embedded by both models",
                     "or embed the texts with both models yourself and pass them as --pairs-source/--pairs-target")
    logger.info("pair texts: %d of your texts embedded by %s and %s", len(texts), source_model, target_model)
    return embed_cached(source_model, texts), embed_cached(target_model, texts)


# stored documents per collection that `v2v fit` pairs with the other model's embeddings, and of those pairs how many
# it holds out of the fit to measure it (when there are at least twice as many)
DOCUMENT_PAIRS = 1000
DOCUMENT_CHECK = 200
# Fewer stored documents than this cannot be checked (pairs_relatedness needs 200) and are left out.
MIN_DOCUMENTS = 200
# Kept-out top-1 of document pairs below which the stored documents are judged not to be the texts their vectors
# embed: chance is 1/500; true pairs of the loosest model pair measured, a 64-d static model and MiniLM, gave 0.68.
DOCUMENTS_RELATED_ABOVE = 0.3
# A stored document is kept when its vector finds its text (or the text its vector) within this share of the
# out-of-fold pairs it is ranked among (10 of 500), under maps fitted on the other documents: session 37
# (benchmarks/probes/document_filter.py, 1,000 documents, 0-70% of them permuted among their records; the rule of
# matched_documents) kept 99.3-100% of the true pairs of MiniLM / e5 (a 64-d static model against e5: 95.0-99.3%) and
# 1.4-4.7% of the permuted ones.
DOCUMENT_FOUND_WITHIN = 0.02


@dataclass
class DocumentPairs:
    """What :func:`document_pairs` made: ``pairs`` (None when no collection's documents could be used), how many
    came from each collection, their measured relatedness, how many of each collection's documents were left out
    one by one (``unmatched``: their vectors did not find their texts), a note per collection whose documents were
    used, and one per collection whose documents were left out, saying why (``left_out``)."""

    pairs: tuple[np.ndarray, np.ndarray] | None = None
    counts: dict[str, int] = field(default_factory=dict)
    relatedness: dict[str, float] = field(default_factory=dict)
    unmatched: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)


def document_pairs(documents: tuple[tuple[np.ndarray, list[str]] | None, tuple[np.ndarray, list[str]] | None],
                   models: tuple[str, str], dims: tuple[int, int]) -> DocumentPairs:
    """True pairs from texts stored with the collections (Chroma documents, a Qdrant payload's ``document``, a FAISS
    index's sidecar): for each collection that has them (``documents[side] = (stored vectors, texts)``), its stored
    vectors paired with the *other* side's model's embeddings of the same texts (``dims``: the collections'
    dimensions). Only the other side's model must run here: a collection whose model is retired can still give pairs
    when it kept its texts.

    Each document is checked against its own vector (:func:`matched_documents`): one whose vector does not find its
    text under maps fitted on the other documents (a stale vector after an edit, a title stored beside a chunk's
    vector) is left out, and the count is reported. A collection's documents are used only when they behave like
    pairs: at least :data:`MIN_DOCUMENTS` kept, and kept-out pairs among them finding their partners
    (:func:`v2v_store.metrics.pairs_relatedness`, measured afresh on the kept ones) above
    :data:`DOCUMENTS_RELATED_ABOVE`; stored texts that are not what their vectors embed find ~1/500."""
    from v2v_store.metrics import pairs_relatedness

    made, out = [], DocumentPairs()
    for side, docs in enumerate(documents):
        if docs is None or not len(docs[1]):
            continue
        stored, texts = docs
        where, other = ("source", "target")[side], ("target", "source")[side]
        model = models[1 - side]
        if len(texts) < MIN_DOCUMENTS:
            out.left_out.append(f"the {where} collection's {len(texts)} stored documents unused: fewer than "
                                f"{MIN_DOCUMENTS} cannot be checked to be the texts their vectors embed")
            continue
        if not can_embed(model):
            out.left_out.append(f"the {where} collection's {len(texts)} stored documents unused: they need the {other} "
                                f"model, and {model!r} is not one v2v-store can run here (--{other}-model names it)")
            continue
        embedded = embed_cached(model, texts)
        pair = (stored, embedded) if side == 0 else (embedded, stored)
        if embedded.shape[1] != dims[1 - side]:
            raise DimensionMismatchError(
                f"{model!r} embeds {embedded.shape[1]}-d vectors but the {other} collection's are {dims[1 - side]}-d: "
                f"--{other}-model (or --{other}-name) must name the model that embedded the {other} collection; "
                "--document-pairs 0 skips the stored documents")
        every = pairs_relatedness(pair)
        found = matched_documents(pair)
        pair = (pair[0][found], pair[1][found])
        # afresh on the kept ones (other folds): documents kept by chance (~3% of unmatched ones) find ~1/500 again
        related = pairs_relatedness(pair, seed=1)
        wrong = len(texts) - int(found.sum())
        unmatched = (f"; {wrong} left out, their vectors not finding their texts (nor their texts their vectors) "
                     "among the other documents' pairs: stale vectors, documents that are not the texts their vectors "
                     "embed, or texts a model tells apart poorly (German messages with MiniLM: 2%)" if wrong else "")
        if not related > DOCUMENTS_RELATED_ABOVE:  # also NaN: fewer than 200 kept
            out.relatedness[where] = round(every, 4)
            kept = (f"only {int(found.sum())} of them found their partners among the other documents' pairs"
                    if not np.isfinite(related) else f"kept-out pairs found {every:.3f} of their partners")
            out.left_out.append(f"the {where} collection's {len(texts)} stored documents unused: paired with {model}'s "
                                f"embeddings of them, {kept} (chance {1 / min(500, len(texts)):.3f}, true pairs > "
                                f"{DOCUMENTS_RELATED_ABOVE}): the documents are not the texts their vectors embed, or "
                                f"{model} is not the {other} collection's model (--{other}-model names it)")
            continue
        made.append(pair)
        out.relatedness[where] = round(related, 4)
        out.counts[where], out.unmatched[where] = len(pair[0]), wrong
        out.notes.append(f"{len(pair[0])} documents stored with the {where} collection embedded by {model} (kept-out "
                         f"pairs found {related:.3f} of their partners){unmatched}")
    if made:
        out.pairs = (np.concatenate([u for u, _ in made]), np.concatenate([v for _, v in made]))
    for note in out.notes:
        logger.info("document pairs: %s", note)
    for note in out.left_out:
        logger.warning("document pairs: %s", note)
    return out


def checked_shared_pairs(shared: tuple[np.ndarray, np.ndarray]) -> tuple[tuple[np.ndarray, np.ndarray] | None, str]:
    """The records both collections hold (one text stored with both, or one Qdrant point's two named vectors), checked
    as stored documents are (no model runs): each pair whose vectors do not find each other under maps fitted on the
    other pairs (:func:`matched_documents`: a vector left stale in one collection after its text was edited, a text
    field that differs from what was embedded) is left out, and all are left out when the kept ones do not behave
    like pairs (:data:`DOCUMENTS_RELATED_ABOVE`). Fewer than :data:`MIN_DOCUMENTS` cannot be checked and are used as
    they are. Returns (the pairs to use or None, a note for the fit's reason)."""
    from v2v_store.metrics import pairs_relatedness

    n = len(shared[0])
    what = f"{n:,} records both collections hold (the same text stored with both, or one point's two named vectors)"
    if n < MIN_DOCUMENTS:
        return shared, f"{what}: true pairs, no model needed (too few to check one by one)"
    found = matched_documents(shared)
    kept = (shared[0][found], shared[1][found])
    related = pairs_relatedness(kept, seed=1)  # afresh on the kept ones, as for stored documents
    if not related > DOCUMENTS_RELATED_ABOVE:
        return None, (f"{what} unused: they do not behave like pairs (kept-out pairs found "
                      f"{pairs_relatedness(shared):.3f} of their partners, chance {1 / min(500, n):.3f}): the stored "
                      "texts are not what both vectors embed (check the document field), or the vectors of one "
                      "collection are stale; --shared-documents 0 skips them")
    wrong = n - len(kept[0])
    return kept, (f"{what}: {len(kept[0]):,} true pairs, no model needed (kept-out pairs found {related:.3f} of their "
                  "partners)" + (f"; {wrong:,} left out, their two vectors not finding each other among the other "
                                 "pairs: a vector stale in one collection, or texts that differ from what was embedded"
                                 if wrong else ""))


def matched_documents(pairs: tuple[np.ndarray, np.ndarray], group: int = 500) -> np.ndarray:
    """Which document pairs behave like pairs, one by one: those whose partner ranks within
    :data:`DOCUMENT_FOUND_WITHIN` of the ``group`` out-of-fold pairs it is ranked among, either way
    (:func:`v2v_store.metrics.out_of_fold_ranks`), ranked again under maps refitted on the ones kept (when at least
    :data:`MIN_DOCUMENTS`): with 30-70% of the documents wrong the first maps are blurred by them. Session 37
    (``benchmarks/probes/document_filter.py``: 1,000 documents, a share permuted among their records; kept true /
    kept permuted): MiniLM / e5 package summaries, none permuted 1,000 / -, 30% 704 of 704 / 4 of 296, 50% 501 of 501 /
    21 of 499, 70% 298 of 300 / 26 of 700; wiki sentences 30% 704 of 704 / 13, 70% 300 of 302 / 31; a 64-d static
    model / e5 on FOLDOC, none 993 of 1,000, 30% 692 of 704 / 10, 70% 285 of 300 / 33. Of 12,000 documents all
    permuted 584 were kept, whose relatedness afresh was 0.052: left out by :func:`document_pairs`."""
    from v2v_store.metrics import out_of_fold_ranks

    within = max(1, round(DOCUMENT_FOUND_WITHIN * min(group, len(pairs[0]))))
    there, back, _ = out_of_fold_ranks(pairs, group)
    found = np.minimum(there, back) <= within
    if MIN_DOCUMENTS <= found.sum() < len(found):
        there, back, _ = out_of_fold_ranks(pairs, group, fit_on=found)
        found = np.minimum(there, back) <= within
    return found
