"""How well a saved translator serves *your* documents: ``v2v evaluate``, before a migration or after one.

It needs documents embedded by both models (pairs), from one of:

- two collections holding the same records: pairs by id, e.g. a sample of the collection re-encoded with the new
  model into a scratch collection under the same ids (:func:`records_shared_by_id`), or under other ids the same
  stored texts (:func:`v2v_store.train.data.shared_document_pairs`);
- two ``.npy`` files, row i the same document;
- a file of texts, embedded here by both models (both must run here);
- the source collection's stored documents (Chroma documents, a Qdrant payload's ``document``, FAISS sidecar
  documents), embedded here by the other model (:func:`stored_documents`).

Reported per direction: the paper's metrics (top-1 and mean rank of each translated document among the true ones and,
up to :data:`AMONG` candidates in all, other documents of that space: the paired collections' other records and
``--candidates``; the mean cosine of each translation as a migration writes it) and how much of a
search survives, as the overlap of top-k lists with the search a re-encoded collection gives, each document's own
new-model vector (or translated query) standing in for a query: ``migrated_overlap`` (new-model queries over the
translated documents), ``cross_query_overlap`` (old-model queries translated, over the re-encoded documents). For
reference, ``models_overlap``: how far the two models' own top-k lists agree (what keeping the old collection and
the old model's queries gives, measured against re-encoding). The overlaps are computed among the pairs only.

Collections paired by id are each read once more for candidates (a uniform sample of :data:`AMONG` vectors): on a
large source that is a second full pass.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

import numpy as np

from v2v_store.connectors.base import l2_normalize
from v2v_store.connectors.where import Where
from v2v_store.errors import V2VError, naming_lost_connections
from v2v_store.metrics import CHUNK, overlap, top_k_others, translation_metrics
from v2v_store.translator import QUERIES, RECORDS, Space, Translator

logger = logging.getLogger(__name__)

MIN_PAIRS = 50  # fewer documents say little: a top-1 among 20 candidates is easy, a top-10 among 20 is half of them
# Candidates each translated document's partner is ranked among: the paper's 8,192. Fewer pairs are joined by other
# vectors of the partner's space (the collections', --candidates) up to this many, because top-1 among a few
# hundred flatters a map: issue 4's MiniLM -> e5 seed 0 scored 0.991 among 300 kit sentences, 0.934 among 8,192
# (benchmarks/probes/evaluate_sample_size.txt).
AMONG = 8192
# From this share of AMONG on, fewer candidates are not worth a warning: top-1 fell ~0.03 per e-fold of candidates
# (0.963 among 3,000, 0.934 among 8,192: evaluate_sample_size.txt), so 10% fewer flatter it by ~0.003.
NEAR_ENOUGH = 0.9


@dataclass
class DirectionResult:
    """One direction of a translator on paired documents (see the module docstring)."""

    source: str
    target: str
    top1: float
    mean_rank: float
    mean_cos: float
    migrated_overlap: float
    cross_query_overlap: float
    ranked_among: int  # candidates of each top-1 / rank: the pairs (in chunks of 8,192) and other documents


@dataclass
class EvaluationReport:
    pairs: int
    paired_by: str  # "id", "text" (the same stored text under other ids), "row", "texts" or "documents"
    k: int
    models_overlap: float
    directions: list[DirectionResult] = field(default_factory=list)
    overlap_queries: int = 0  # the overlaps' queries: 0, each document's own vectors; else this many real queries

    def to_dict(self) -> dict:
        return asdict(self)

    def below(self, min_top1: float) -> list[DirectionResult]:
        return [d for d in self.directions if d.top1 < min_top1]


def other_documents(candidates: np.ndarray | None, truth: np.ndarray, count: int) -> np.ndarray:
    """Up to ``count`` rows of ``candidates`` that are none of the rows of ``truth`` (the same vector read twice from a
    store is the same record: it would count twice)."""
    if candidates is None or count <= 0:
        return np.zeros((0, truth.shape[1]), np.float32)
    candidates = np.ascontiguousarray(candidates, np.float32)
    seen = {row.tobytes() for row in np.ascontiguousarray(truth, np.float32)}
    keep = [i for i, row in enumerate(candidates) if row.tobytes() not in seen]
    return candidates[keep[:count]]


def evaluate_translator(translator: Translator, source_vectors: np.ndarray, target_vectors: np.ndarray,
                        source: str, target: str, k: int = 10, paired_by: str = "row",
                        candidates: dict[str, np.ndarray] | None = None, among: int = AMONG,
                        queries: dict[str, np.ndarray] | None = None) -> EvaluationReport:
    """Both directions of ``translator`` on paired rows: ``source_vectors[i]`` (space ``source``) and
    ``target_vectors[i]`` (space ``target``) embed the same document. With fewer than ``among`` pairs, each partner is
    also ranked among ``candidates`` of its space (other documents' vectors, by space name), up to ``among`` in all.
    ``queries`` (per space, row j the same query by each model): the overlaps are measured with them instead of the
    documents' own vectors."""
    n = len(source_vectors)
    if n != len(target_vectors):
        raise V2VError(f"{n} source vectors but {len(target_vectors)} target vectors: row i must be the same document")
    if n < max(MIN_PAIRS, k + 1):
        raise V2VError(f"{n} paired documents: evaluating needs at least {max(MIN_PAIRS, k + 1)} (a few hundred or "
                       "more say much more); give more pairs")
    sides = {source: source_vectors, target: target_vectors}
    if queries is not None and (set(queries) != set(sides) or len(queries[source]) != len(queries[target])):
        raise V2VError(f"queries must hold the same queries embedded in both spaces {sorted(sides)}")
    asked = queries or sides  # what searches: real queries, or each document's own vectors
    own = queries is None  # a document searching its own collection leaves itself out
    native = {name: top_k_others(asked[name], v, k, leave_out_self=own) for name, v in sides.items()}
    report = EvaluationReport(n, paired_by, k, round(overlap(native[source], native[target]), 4),
                              overlap_queries=0 if own else len(queries[source]))
    for a, b in ((source, target), (target, source)):
        extra = other_documents((candidates or {}).get(b), sides[b], among - n)
        paper = translation_metrics(translator, sides[a], sides[b], a, b, distractors=extra if len(extra) else None)
        migrated = translator.translate(sides[a], a, b, role=RECORDS)
        translated_queries = translator.translate(asked[a], a, b, role=QUERIES)
        report.directions.append(DirectionResult(
            a, b, round(paper.top1, 4), round(paper.mean_rank, 3), round(paper.mean_cos, 4),
            migrated_overlap=round(overlap(top_k_others(asked[b], migrated, k, leave_out_self=own), native[b]), 4),
            cross_query_overlap=round(overlap(top_k_others(translated_queries, sides[b], k, leave_out_self=own),
                                              native[b]), 4),
            ranked_among=n + len(extra) if len(extra) else min(n, CHUNK)))
        ranked = report.directions[-1].ranked_among
        if among * NEAR_ENOUGH <= ranked < among:
            logger.info("%s -> %s: each partner ranked among %d candidates, nearly the %d asked", a, b, ranked, among)
        elif ranked < among:
            logger.warning("%s -> %s: each partner ranked among only %d candidates, which flatters top-1 and mean rank "
                           "(a map at 0.934 among 8,192 scored 0.991 among 300); give --candidates, a collection of "
                           "%r vectors of other documents, to rank among %d", a, b,
                           report.directions[-1].ranked_among, b, among)
        logger.info("%s -> %s: %s; top-%d overlap with re-encoding: migrated %.3f, cross-model queries %.3f", a, b,
                    paper, k, report.directions[-1].migrated_overlap, report.directions[-1].cross_query_overlap)
    logger.info("the two models' own top-%d lists overlap %.3f", k, report.models_overlap)
    return report


@naming_lost_connections()
def records_shared_by_id(source_uri: str, target_uri: str, max_pairs: int = 20_000, where: Where | None = None
                         ) -> tuple[np.ndarray, np.ndarray]:
    """The records two collections share by id (as strings: a FAISS id 7 and a Chroma id "7" are one record), a
    uniform sample of at most ``max_pairs`` of them, none when no id is shared (:func:`records_both_hold`: memory 16
    bytes per record of the smaller collection and the pairs). Records marked as holding a translation in the vector
    either collection reads are left out (a migration's into a collection of embeddings: no true pair); with
    ``where``, so are the source's records whose metadata does not meet it."""
    from v2v_store.train.data import records_both_hold, untranslated_keys_of

    found = records_both_hold(source_uri, target_uri, untranslated_keys_of(source_uri, target_uri), max_pairs,
                              wheres=(where, None))
    return found.source, found.target


NO_SHARED_IDS = ("share no record id: pairs by id need the same documents under the same ids in both (e.g. re-encode a "
                 "sample of the source's documents with the new model into a scratch collection, keeping their ids)")


def _marked_share(uri: str, scan: int = 1024) -> float:
    """The share of a collection's first ``scan`` records marked as holding a translation in the vector it reads."""
    from v2v_store.connectors import open_store, translations_in

    with open_store(uri) as store:
        batch = store.first_batch(scan) if store.exists() and store.count() else None
        return float(translations_in(batch, store.vector_name).mean()) if batch is not None and len(batch) else 0.0


@naming_lost_connections()
def pairs_by_id(source_uri: str, target_uri: str, max_pairs: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """:func:`records_shared_by_id`, refused when there are none."""
    u, v = records_shared_by_id(source_uri, target_uri, max_pairs)
    if not len(u):
        raise V2VError(f"{source_uri} and {target_uri} {NO_SHARED_IDS}, or give --texts")
    return u, v


@naming_lost_connections()
def stored_documents(uri: str, max_pairs: int = 20_000, seed: int = 0, where: Where | None = None
                     ) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Up to ``max_pairs`` records of a collection that keep their text (a uniform sample; with ``where``, of the
    records whose metadata meets it): their stored vectors and texts, and (same pass) a sample of :data:`AMONG` of its
    vectors, as candidates. Embedded by the other model the texts pair with the vectors; stale documents (edited after
    embedding) then count as errors, so the report measures the collection as it is."""
    from v2v_store.train.data import sample_collection

    sample = sample_collection(uri, max_vectors=AMONG, seed=seed, documents=max_pairs, min_vectors=0, where=where)
    if not sample.documents:
        kept = f" that meet {where}" if where is not None else ""
        raise V2VError(f"{uri} keeps no documents (texts) with its records{kept}: give --target (a collection with the "
                       "same ids, or .npy rows of the same documents) or --texts")
    return sample.document_vectors, sample.documents, sample.vectors


@naming_lost_connections()
def sample_candidates(uri: str, seed: int = 0, where: Where | None = None) -> np.ndarray:
    """Up to :data:`AMONG` vectors of a collection (a uniform sample; with ``where``, of the records it keeps), to rank
    partners among."""
    from v2v_store.train.data import sample_collection

    return sample_collection(uri, max_vectors=AMONG, seed=seed, min_vectors=0, where=where).vectors


@dataclass
class PairSources:
    """Where ``v2v evaluate``'s pairs come from (its options): ``source`` and ``target`` (two collections, paired by id,
    or two ``.npy`` files, by row), ``source`` alone (a collection's stored documents, embedded by ``target_model``),
    or ``texts`` (a file, embedded by both models). Models default to the translator's space names where those name
    offline models."""

    source: str | None = None
    target: str | None = None
    texts: str | None = None
    source_space: str | None = None
    source_model: str | None = None
    target_model: str | None = None
    candidates: list[str] = field(default_factory=list)  # collections (URI[#SPACE]) of other documents
    where: Where | None = None  # only the source collection's records whose metadata meets it


@dataclass
class Pairs:
    source_vectors: np.ndarray
    target_vectors: np.ndarray
    source: str  # the translator's spaces of the two
    target: str
    paired_by: str
    candidates: dict[str, np.ndarray] = field(default_factory=dict)  # per space: other documents' vectors


def _add_candidates(pairs: Pairs, translator: Translator, uris: list[str]) -> Pairs:
    for given in uris:
        uri, _, named = given.partition("#")
        vectors = sample_candidates(uri)
        if not len(vectors):
            raise V2VError(f"--candidates {uri}: the collection is empty; give a collection of other documents")
        space = (translator.space(named) if named else
                 translator.space_for_dim(vectors.shape[1], vectors, f"--candidates '{uri}#{{}}'")).name
        translator.check_space(vectors, space, f"--candidates {uri}", how_to_name=f"--candidates '{uri}#{{}}'")
        before = pairs.candidates.get(space)
        pairs.candidates[space] = vectors if before is None else np.concatenate([before, vectors])
    return pairs


def _is_store(path: str) -> bool:
    return "://" in path or path.startswith("npy:")


def _load_npy(path: str, flag: str) -> np.ndarray:
    try:
        return np.load(path).astype(np.float32)
    except (FileNotFoundError, ValueError) as e:
        raise V2VError(f"{flag} {path}: not a readable .npy file ({type(e).__name__}); give a store URI or a .npy "
                       "file of shape (n, d)") from None


def model_for(given: str | None, translator: Translator, space: Space, flag: str) -> str:
    """The model that embeds texts in ``space``: ``given``, else the one the translator knows for it (the space's
    name where it names an offline model, or the model its fit used for that side: :meth:`Translator.model_of`)."""
    from v2v_store.models import require_model

    model = given or translator.model_of(space.name)
    if model is None:
        raise V2VError(f"which model embeds texts in space {space.name!r}? give {flag} (an offline model, a saved "
                       "sentence-transformers directory or py:MODULE:FUNCTION)")
    require_model(model, flag)
    return model


@naming_lost_connections()
def load_pairs(translator: Translator, given: PairSources, max_pairs: int = 20_000) -> Pairs:
    """The paired documents ``given`` names, at most ``max_pairs``, the translator spaces they are in (the source's
    ``given.source_space``, else the space its vectors look like, by dimension, then covariance; with ``texts``, the
    translator's first space unless named) and candidates of each space to rank partners among: the paired
    collections' own vectors (collections paired by id; the source collection of stored documents) and
    ``given.candidates``."""
    return _add_candidates(_without_own_translations(translator, _load_pairs(translator, given, max_pairs)),
                           translator, given.candidates)


# a stored vector this near (cosine) the translator's own translation of its partner was written by a migration with it
OWN_TRANSLATION_COS = 0.9999


def _without_own_translations(translator: Translator, pairs: Pairs) -> Pairs:
    """``pairs`` less those whose vector in one space is this translator's own translation of its partner (a migration
    wrote it: a named vector filled in place, a collection migrated and kept under the same ids): measured against
    itself, such a pair says nothing of the map. Stored vectors only (pairs of texts were embedded here)."""
    u, v = pairs.source_vectors, pairs.target_vectors
    if pairs.paired_by not in ("id", "text", "row") or len(u) != len(v):  # (rows that do not pair: refused later)
        return pairs
    made = np.zeros(len(u), dtype=bool)
    for vectors, partners, a, b in ((u, v, pairs.source, pairs.target), (v, u, pairs.target, pairs.source)):
        translated = translator.translate(vectors, a, b)  # as a migration writes them (unit vectors)
        made |= (translated * l2_normalize(partners)).sum(1) >= OWN_TRANSLATION_COS
    if made.all():
        raise V2VError(f"every one of the {len(u):,} pairs holds this translator's own translation of its partner (a "
                       "migration with it wrote those vectors): evaluating against them measures nothing. Pair the "
                       "source with vectors the new model embedded: --texts, a scratch collection of re-encoded "
                       "documents under the same ids, or the source alone (its stored documents embedded here)")
    if made.any():
        logger.warning("%d of the %d pairs hold this translator's own translation of their partner (written by a "
                       "migration with it) and are left out: they would measure the translator against itself; so "
                       "would the collections' other vectors as candidates (translations among them), so partners "
                       "are ranked among the other pairs' alone", int(made.sum()), len(u))
        pairs.source_vectors, pairs.target_vectors, pairs.candidates = u[~made], v[~made], {}
    return pairs


def _load_pairs(translator: Translator, given: PairSources, max_pairs: int) -> Pairs:
    if (given.texts is None) == (given.source is None):
        raise V2VError("give --source (a collection or .npy of one model's vectors; with --target, or alone for its "
                       "stored documents) or --texts, one of the two")
    if given.where is not None and (given.source is None or not _is_store(given.source)):
        raise V2VError(f"--where {given.where} keeps records of a --source collection by their metadata; "
                       f"{'--texts' if given.source is None else '.npy files'} carry none: leave it out")

    def spaces(vectors: np.ndarray | None = None) -> tuple[Space, Space]:
        a = (translator.space(given.source_space) if given.source_space or vectors is None
             else translator.space_for_dim(vectors.shape[1], vectors, "--source-space {}"))
        return a, translator.spaces[1] if a is translator.spaces[0] else translator.spaces[0]

    if given.texts is not None:
        from v2v_store.anchors import read_texts, text_pairs

        if given.target is not None:
            raise V2VError("--target pairs with --source; with --texts give neither")
        texts = read_texts(given.texts, flag="--texts")[:max_pairs]  # a bad file fails before any model loads
        a, b = spaces()
        u, v = text_pairs(model_for(given.source_model, translator, a, "--source-model"),
                          model_for(given.target_model, translator, b, "--target-model"), texts, flag="--texts")
        return Pairs(u, v, a.name, b.name, "texts")
    if given.target is None:
        from v2v_store.texts import embed_cached

        if not _is_store(given.source):
            raise V2VError(f"--source {given.source}: a .npy file keeps no documents; give --target with the same rows "
                           "embedded by the other model")
        u, documents, collection = stored_documents(given.source, max_pairs, where=given.where)
        a, b = spaces(u)
        model = model_for(given.target_model, translator, b, "--target-model")
        return Pairs(u, embed_cached(model, documents), a.name, b.name, "documents", {a.name: collection})
    if _is_store(given.source) != _is_store(given.target):
        raise V2VError("give two collections (paired by record id) or two .npy files (paired by row), not one of "
                       "each: a collection's read order is not a row order")
    if not _is_store(given.source):
        u, v = _load_npy(given.source, "--source")[:max_pairs], _load_npy(given.target, "--target")[:max_pairs]
        a, b = spaces(u)
        return Pairs(u, v, a.name, b.name, "row")
    (u, v), how = records_shared_by_id(given.source, given.target, max_pairs, given.where), "id"
    if not len(u):
        from v2v_store.train.data import shared_document_pairs

        shared = shared_document_pairs(given.source, given.target, max_pairs,  # the same texts under other ids
                                       wheres=(given.where, None))
        if not len(shared.source):
            marked = _marked_share(given.target)
            if marked:
                raise V2VError(f"{given.target}: {marked:.0%} of its first records hold translations (marked by a "
                               "migration), not the new model's embeddings, and no other record pairs with "
                               f"{given.source}: evaluating against them measures nothing. Pair the source with "
                               "vectors the new model embedded: --texts, or a scratch collection of re-encoded "
                               "documents under the same ids")
            kept = f" (of the source's records that meet {given.where})" if given.where is not None else ""
            raise V2VError(f"{given.source} and {given.target} {NO_SHARED_IDS}; nor do they store any text in common "
                           f"(pairs by text need the same documents stored with both){kept}; or give --texts")
        u, v, how = shared.source, shared.target, "text"
        logger.info("no shared ids: %d records paired by the text both collections store", len(u))
    a, b = spaces(u)
    return Pairs(u, v, a.name, b.name, how, {a.name: sample_candidates(given.source, where=given.where),
                                             b.name: sample_candidates(given.target)})


def query_vectors(texts: list[str], models: dict[str, str]) -> dict[str, np.ndarray]:
    """``texts`` (e.g. real queries of the collection's users) embedded as queries by each space's model."""
    from v2v_store.texts import embed_cached

    out = {space: embed_cached(model, texts, kind="query") for space, model in models.items()}
    logger.info("%d queries embedded by %s", len(texts), " and ".join(models.values()))
    return out
