"""What ``v2v inspect`` reports about a store: size, shape, metric, samples, warnings, which known model's vectors it
looks like (:mod:`v2v_store.fingerprints`), given a model, whether that model made them from the stored documents
(:func:`check_model`), and given a translator, which of its spaces each record is in (:func:`record_spaces`: a
collection half way through a re-embedding holds both)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from v2v_store.connectors import VectorBatch, VectorStore, translations_in
from v2v_store.connectors.base import l2_normalize
from v2v_store.connectors.llama_index import embedded_text
from v2v_store.connectors.where import Where, filter_hints, parse_datetime
from v2v_store.errors import StoreNotFoundError, UnsupportedIndexError, V2VError, naming_lost_connections
from v2v_store.space_check import spread_vectors, two_models, two_models_message
from v2v_store.spans import narrow, narrow_warning


@dataclass
class StoreReport:
    uri: str
    count: int
    dim: int | None  # None: an empty collection whose store learns the dimension from its first vector (Chroma)
    metric: str
    index_type: str
    sample_ids: list[Any] = field(default_factory=list)
    sample_metadata: list[Any] = field(default_factory=list)
    sample_documents: list[Any] = field(default_factory=list)
    mean_norm: float | None = None  # of the scanned vectors; None when the collection is empty
    # records among the first ``scanned`` that carry a non-empty document (`v2v fit --document-pairs` pairs those)
    with_documents: int = 0
    scanned: int = 0
    # covariance similarity with each known model of this dimension (None: could not judge), and the best match
    model_similarity: dict[str, float] | None = None
    looks_like: str | None = None
    # ``--model M``: does M make these vectors from these documents (:func:`check_model`)
    model_check: dict[str, Any] | None = None
    # ``--translator T``: how many of the scanned records are in each of its spaces (:func:`record_spaces`)
    spaces: dict[str, Any] | None = None
    # what a migration sets a new collection of this backend up with (:meth:`VectorStore.settings`; payload indexes
    # by type), and the other vectors its points carry, which a migration into another collection leaves behind
    settings: dict[str, Any] = field(default_factory=dict)
    other_vectors: list[str] = field(default_factory=list)
    # points that hold other vectors only, not the one read (not in ``count``): a new collection like it gets them too
    points_without_vector: int = 0
    translations: int = 0  # of the records scanned, those marked as holding a translation (a migration's beside embeddings)
    synced_from: dict[str, int] = field(default_factory=dict)  # of those, how many a sync wrote, by its source's key
    # the metadata fields of the records scanned, each with what it holds (:func:`metadata_fields`): what a --where
    # filter can name
    metadata_fields: dict[str, str] = field(default_factory=dict)
    # ``--where``: the filter, how many records meet it (all of them counted) and the first of those
    where: str | None = None
    where_count: int | None = None
    where_sample: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def text_fields(metadata: list[dict | None], min_share: float = 0.8, min_chars: int = 20) -> list[str]:
    """Metadata (payload) keys that hold text in most records: a string of at least ``min_chars`` characters in at
    least ``min_share`` of them. Where a collection keeps its texts there instead of as documents (a Qdrant payload
    written by another tool: ``text``, ``page_content``, ...), ``?document_key=KEY`` makes them its documents."""
    counts: dict[str, int] = {}
    for meta in metadata:
        for key, value in (meta or {}).items():
            if isinstance(value, str) and len(value.strip()) >= min_chars:
                counts[key] = counts.get(key, 0) + 1
    return sorted(k for k, c in counts.items() if metadata and c >= min_share * len(metadata))


def metadata_fields(metadata: list[dict | None], values: int = 5) -> dict[str, str]:
    """Each metadata field of ``metadata`` (a nested object's fields as dotted paths, ``metadata.source``, an array of
    objects' as ``items[].name``, as a filter names them), with how many records have it and what it holds (a list's items, as a filter matches them): numbers'
    range, dates' range (text that is all dates), text values (all where there are ``values`` or fewer, else the first
    few), booleans."""
    seen: dict[str, list] = {}
    for m in metadata:
        for key, value in (m or {}).items():
            items = value.items() if isinstance(value, dict) else [(None, value)]
            for sub, v in items:
                seen.setdefault(key if sub is None else f"{key}.{sub}", []).append(v)
            objects = [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
            for sub in dict.fromkeys(s for v in objects for s in v):  # an array of objects: key[].sub, as Qdrant
                seen.setdefault(f"{key}[].{sub}", []).append([v[sub] for v in objects if sub in v])
    out = {}
    for name, found in seen.items():
        lists = any(isinstance(v, list) for v in found)
        items = [x for v in found for x in (v if isinstance(v, list) else [v])]
        kinds = sorted({"boolean" if isinstance(v, bool) else "number" if isinstance(v, (int, float)) else "text"
                        if isinstance(v, str) else "null" if v is None else "object" for v in items})
        what = ("list of " if lists else "") + "/".join(kinds) if items else "empty list"
        numbers = [v for v in items if isinstance(v, (int, float)) and not isinstance(v, bool)]
        texts = sorted({v for v in items if isinstance(v, str)})
        if numbers and kinds == ["number"]:
            what += f" {min(numbers):g}..{max(numbers):g}"
        elif texts and kinds == ["text"] and all(parse_datetime(t) for t in texts):  # --where when>=2024-06-01
            moments = sorted(zip(map(parse_datetime, texts), texts))
            what += f", dates {moments[0][1]}..{moments[-1][1]}"
        elif texts and kinds == ["text"]:
            shown = ", ".join(map(repr, texts[:values if len(texts) <= values else 3]))
            counted = f"{len(texts)} value{'s' if len(texts) != 1 else ''}"
            what += f", {counted}: {shown}" if len(texts) <= values else f", {counted}, e.g. {shown}"
        out[name] = f"{what} (in {len(found)} of {len(metadata)})"
    return out


def documents_hint(with_documents: int, metadata: list[dict | None], store: Any) -> str | None:
    """A hint for a collection whose records carry no documents but whose metadata holds text, else None. Stores
    that read documents from a payload field (``?document_key=``: Qdrant's) are told to name it; others (Chroma,
    FAISS) keep documents apart from metadata."""
    fields = text_fields(metadata) if not with_documents else []
    if not fields:
        return None
    fix = (f"open the collection with ?document_key={fields[0]}" if store.document_key is not None else
           "store it as each record's document (this store's metadata cannot stand in for one)")
    return (f"no record carries a document, but the metadata field(s) {', '.join(map(repr, fields))} hold text: if "
            f"that is the whole text each vector embeds (not a title), {fix} so that v2v fit can pair it "
            "(--document-pairs)")


# cosine at or above which a model re-embedding a stored document reproduces its stored vector: the same model and
# preprocessing differ by float noise only (~1e-6); a prompt prefix, another version or a fine-tune lands lower
REPRODUCED_AT = 0.99
# fewer documents than this among the scanned records are too few to judge a model by
MIN_CHECKED = 10


def check_model(vectors: np.ndarray, documents: list[str], model: str, most: int = 200) -> dict[str, Any]:
    """Does ``model`` (minilm, e5, mpnet, a saved sentence-transformers directory or ``py:MODULE:FUNCTION``) make these
    stored ``vectors`` from these ``documents``? Up to ``most`` of them re-embedded (as passages) and compared with
    the stored vector: a model that made them reproduces each (cosine >= :data:`REPRODUCED_AT`), and a record it does
    not reproduce holds a stale vector or an edited document. Unlike the covariance fingerprints, this names the
    model exactly (a fine-tune or another prompt does not pass) and works for any model that can run here."""
    from v2v_store.texts import embed_cached

    vectors, documents = vectors[:most], documents[:most]
    check: dict[str, Any] = {"model": model, "documents": len(documents)}
    if len(documents) < MIN_CHECKED:
        check["verdict"] = (f"not judged: {len(documents)} of the scanned records carry a document (at least "
                            f"{MIN_CHECKED} are needed)")
        return check
    fresh = embed_cached(model, documents)
    if fresh.shape[1] != vectors.shape[1]:
        check["verdict"] = (f"not made by {model}: it embeds {fresh.shape[1]}-d vectors, the collection's are "
                            f"{vectors.shape[1]}-d")
        return check
    cos = (l2_normalize(vectors) * l2_normalize(fresh)).sum(1)
    reproduced, median = int((cos >= REPRODUCED_AT).sum()), float(np.median(cos))
    check.update(median_cos=round(median, 4), reproduced=reproduced)
    n = len(documents)
    if reproduced >= 0.9 * n:
        check["verdict"] = (f"made by {model} from these documents: {reproduced} of {n} re-embedded reproduce their "
                            f"stored vector (cosine >= {REPRODUCED_AT})" + (
                                f"; {n - reproduced} do not: stale vectors, or documents edited since" if reproduced < n
                                else ""))
    elif reproduced >= 0.2 * n:
        check["verdict"] = (f"partly {model}: {reproduced} of {n} re-embedded documents reproduce their stored vector, "
                            f"the rest do not (median cosine {median:.3f}): a collection partly embedded by another "
                            "model, or many stale vectors")
    elif median >= 0.8:  # e5 vectors embedded with its query prefix, checked as passages: 0.965
        check["verdict"] = (f"close to {model} but not it (median cosine {median:.3f}, none or few reproduced): "
                            "other preprocessing (a prompt prefix, truncation) or another version")
    elif median >= 0.4:  # a MiniLM fine-tune (sre-embedding-model) checked as MiniLM: 0.672
        check["verdict"] = (f"not made by {model}, but by a model related to it (median cosine {median:.3f}): a "
                            "fine-tune of it, or one derived from it")
    else:  # e5 checked as MiniLM: -0.006
        check["verdict"] = (f"not made by {model} from these documents (median cosine {median:.3f}): another model, "
                            "or documents that are not the texts the vectors embed")
    return check


MIXED_FROM = 3  # records of each space among those scanned for a collection to be called mixed (SpaceWatch's floor)


def record_spaces(vectors: np.ndarray, translator, drawn: bool = False) -> dict[str, Any]:
    """Which of ``translator``'s spaces each of ``vectors`` (a collection's records: its first, or ``drawn`` from all
    through it) is in, told by the vector (:class:`~v2v_store.mixed.RecordSpaces` ``auto``): the count in each space and
    of neither, and a verdict that says how to migrate the collection."""
    from v2v_store.mixed import AUTO, RecordSpaces
    from v2v_store.space_check import RecordClassifier

    names = [sp.name for sp in translator.spaces]
    out: dict[str, Any] = {"translator_spaces": names, "scanned": len(vectors)}
    if all(sp.dim != vectors.shape[1] for sp in translator.spaces):
        out["verdict"] = (f"not judged: the records are {vectors.shape[1]}-d, the translator's spaces "
                          + ", ".join(f"{sp.name} {sp.dim}-d" for sp in translator.spaces))
        return out
    try:
        spaces = RecordSpaces.parse(AUTO, translator)
    except V2VError as e:  # spaces of two dims (each collection is in one), or a translator that cannot tell them
        out["verdict"] = f"not judged record by record: {e}"
        return out
    labels = spaces.labels(VectorBatch(list(range(len(vectors))), vectors))
    counts = {name: int((labels == name).sum()) for name in names}
    counts["neither"] = len(vectors) - sum(counts.values())
    out["counts"] = counts
    n, found = len(vectors), [name for name in names if counts[name] >= MIXED_FROM]
    scanned = f"{n:,} records from all through the collection" if drawn else f"the first {n:,} records"
    out["drawn"] = drawn
    if len(found) == 2:
        out["verdict"] = (f"mixed: {counts[names[0]]:,} {names[0]!r} and {counts[names[1]]:,} {names[1]!r} among "
                          f"{scanned}: migrate with --source-space {AUTO} --target-space NAME (or @FIELD, "
                          "if a metadata field names each record's model)")
    elif found:
        other = n - counts[found[0]]
        out["verdict"] = f"{found[0]!r}: {counts[found[0]]:,} of {scanned}" + (
            f"; {other:,} not clearly of it (within {RecordClassifier.MARGIN:.0f} nats of the other space, far from both "
            "(another model's?), or too few of the other space to call the collection mixed)" if other else "")
    else:
        out["verdict"] = (f"none of {scanned} is clearly a {names[0]!r} or {names[1]!r} vector: another "
                          "model's collection? (`--model` checks a model against the documents)")
    return out


def filtered_records(store: VectorStore, where: Where, sample: int = 5) -> tuple[int, list[dict[str, Any]]]:
    """(how many records meet ``where``, the first ``sample`` of them as id / metadata / document): counted by a
    Qdrant engine where it filters (then only the first page is read), else in one read of the collection."""
    first: list[dict[str, Any]] = []
    counted, seen = store.count_where(where), 0
    for batch in store.filtered_batches(where, batch_size=4096 if counted is None else max(sample, 1)):
        seen += len(batch)
        first.extend({"id": i, "metadata": m, "document": d[:80] if isinstance(d, str) else d}
                     for i, m, d in zip(batch.ids, batch.metadata, batch.documents))
        del first[sample:]
        if counted is not None and len(first) >= sample:
            break
    return (seen if counted is None else counted), first


def synced_from(batch: VectorBatch, vector: str) -> dict[str, int]:
    """How many records of ``batch`` a sync wrote (``v2v migrate --on-exists sync``), by its source's key."""
    from v2v_store.sync import source_of

    keys = [source_of(m, vector) for m in batch.metadata]
    return {key: keys.count(key) for key in dict.fromkeys(keys) if key is not None}


def spread_records(store: VectorStore, report: StoreReport, rows: int) -> np.ndarray | None:
    """About ``rows`` usable (finite, non-zero) vectors from all through ``store`` (:meth:`VectorStore.spread_sample`),
    or None where they cannot be read without reading the whole collection (an index that reads its start only, a
    Qdrant server too old to draw records at random: noted in ``report``) or it was emptied."""
    try:
        spread = spread_vectors(store, rows, read_whole=False)
    except (UnsupportedIndexError, NotImplementedError) as e:
        report.warnings.append(f"records from all through it could not be read, only its first {report.scanned} ({e})")
        return None
    if spread is None:  # emptied meanwhile
        return None
    return spread[np.isfinite(spread).all(axis=1) & (np.linalg.norm(np.nan_to_num(spread), axis=1) > 0)]


def judged_on_spread(report: StoreReport, spread: np.ndarray) -> None:
    """Judge the collection's model again on ``spread`` (records from all through it, :func:`spread_records`), and
    where that tells something its first records did not, say so. Its first records can be of one narrow kind (ids,
    prices, dates: sorted by kind or time) whose covariance is nothing like the model's (session 74: an e5 collection
    starting with 2,048 product ids, then 3,000 sentences, looked like "none of the known models", e5 -0.05; from all
    through it, e5), or of another model than the rest (session 75: 3,000 e5 records, then 8,000 MiniLM ones, a
    collection whose later records another model embedded, or one re-embedded in id order, looked like e5 0.95): the
    model line then reports the records from all through it, with a warning. Where those look like none of the known
    models and the first records like one, the first stand, with a warning."""
    from v2v_store.fingerprints import identify, looks_like

    similarity = identify(spread)
    name = looks_like(similarity)
    if similarity is None or name == report.looks_like:
        return
    shown = lambda sims: ", ".join(f"{m} {v:.2f}" for m, v in sorted(sims.items(), key=lambda kv: -kv[1]))  # noqa: E731
    whole = f"{len(spread)} records from all through it"
    if report.model_similarity is None:
        first = "could not be judged (too few usable vectors, or no preferred directions)"
    else:
        first = f"look like {report.looks_like or 'none of the known models'} ({shown(report.model_similarity)}"
        first += ": all of one narrow kind, such as ids, numbers or dates?)" if report.looks_like is None else ")"
    if name is None:
        report.warnings.append(f"its first {report.scanned} records {first}, but {whole} look like none of the known "
                               f"models ({shown(similarity)}): records of another model, or of one narrow kind, "
                               "further on?")
        return
    change = ("" if report.looks_like is None else
              ": the collection changes model part way (records added later by another model, or a re-embedding in "
              "id order?)")
    report.warnings.append(f"its first {report.scanned} records {first}; {whole} look like {name}, which the model "
                           f"line reports{change}")
    report.model_similarity, report.looks_like = similarity, name


@naming_lost_connections()
def inspect_store(store: VectorStore, sample: int = 5, scan: int = 2048, model: str | None = None,
                  translator=None, where: Where | None = None) -> StoreReport:
    """Summarise a store from its first ``scan`` vectors, and its model and mixture of models from ``scan`` records
    all through it too (:func:`spread_records`, :func:`judged_on_spread`, where the store reads them without reading
    the whole collection); never reads the whole collection, but for ``where``. ``model``:
    also check whether that model made the vectors from the records' documents (:func:`check_model`); ``translator``:
    which of its spaces each record is in (:func:`record_spaces`, on the records from all through it where the
    collection holds more than the first ``scan``); ``where``: how many records meet that filter and
    the first ``sample`` of them (:func:`filtered_records`: a Qdrant engine counts them, other stores are read whole),
    with what looks wrong with it (:func:`filter_hints`)."""
    from v2v_store.fingerprints import identify, looks_like

    count = store.count()
    try:
        dim = store.dim
    except StoreNotFoundError:  # an empty collection of a store that learns its dimension from the first vector
        dim = None
    report = StoreReport(store.uri, count, dim, store.metric.value, store.index_type)
    report.warnings.extend(store.warnings())
    if store.exists():
        try:
            report.settings = {k: ({name: ix["type"] for name, ix in v.items()} if k == "payload_indexes" else v)
                               for k, v in store.settings().items()}
        except Exception as e:  # an old server, a permission: the rest of the report still stands
            report.warnings.append(f"settings not read ({type(e).__name__}: {e})")
        report.other_vectors = store.other_vectors()
        report.points_without_vector = store.count_without_vector()
    try:
        batch = store.first_batch(scan) if count else None
    except UnsupportedIndexError as e:  # an index whose vectors cannot be read: what it is still says something
        report.warnings.append(str(e))
        return report
    if batch is None:
        report.warnings.append("the collection is empty")
        return report
    report.sample_ids = batch.ids[:sample]
    report.sample_metadata = batch.metadata[:sample]
    report.sample_documents = [d[:80] if isinstance(d, str) else d for d in batch.documents[:sample]]
    report.scanned = len(batch)
    report.with_documents = sum(isinstance(d, str) and bool(d.strip()) for d in batch.documents)
    report.translations = int(translations_in(batch, store.vector_name).sum())
    report.synced_from = synced_from(batch, store.vector_name or "")
    report.metadata_fields = metadata_fields(batch.metadata)
    if where is not None:
        report.where = str(where)
        report.warnings.extend(f"the filter {where}: {hint}" for hint in filter_hints(where, batch.metadata))
        report.where_count, report.where_sample = filtered_records(store, where, sample)
    hint = documents_hint(report.with_documents, batch.metadata, store)
    if hint:
        report.warnings.append(hint)
    vectors = batch.vectors
    bad = ~np.isfinite(vectors).all(axis=1)
    if bad.any():
        report.warnings.append(f"{int(bad.sum())} of the first {len(vectors)} vectors contain NaN/inf")
    norms = np.linalg.norm(np.where(np.isfinite(vectors), vectors, 0), axis=1)
    report.mean_norm = float(norms.mean())
    if (norms == 0).any():
        report.warnings.append(f"{int((norms == 0).sum())} of the first {len(vectors)} vectors are all zero")
    if np.abs(norms - 1).max() > 1e-3:
        report.warnings.append(
            f"vectors are not unit length (norms {norms.min():.3g}..{norms.max():.3g}); translators are trained "
            "on L2-normalised vectors and v2v normalises them on input"
        )
    usable = np.isfinite(vectors).all(axis=1) & (norms > 0)
    # records from all through it too: its first can be of one narrow kind, or of another model than the rest
    spread = spread_records(store, report, scan) if count > len(vectors) else None
    if usable.sum() > 2:
        k, dims, cut = narrow(vectors[usable])
        if cut:
            report.warnings.append(narrow_warning(f"the first {int(usable.sum())} vectors", k, dims))
    found = two_models(vectors[usable]) if usable.sum() > 2 else None
    sampled = f"the sample of the first {int(usable.sum())} records"
    if found is None and spread is not None and len(spread) > 2:
        found, sampled = two_models(spread), f"a sample of {len(spread)} records from all through it"
    if found is not None:
        report.warnings.append(two_models_message(sampled, found)
                               + ": fit a translator on one model's records; migrate or query the collection "
                                 "with --source-space auto")
    if not bad.any() and not (norms == 0).any():
        report.model_similarity = identify(vectors)
        report.looks_like = looks_like(report.model_similarity)
    if spread is not None:
        judged_on_spread(report, spread)
    if model is not None:
        rows = [i for i, d in enumerate(batch.documents)
                if isinstance(d, str) and d.strip() and np.isfinite(vectors[i]).all()]
        # the text each vector embeds (LlamaIndex: its metadata lines too)
        report.model_check = check_model(vectors[rows], [embedded_text(batch.documents[i], batch.metadata[i])
                                                         for i in rows], model)
    if translator is not None:
        report.spaces = (record_spaces(spread, translator, drawn=True) if spread is not None and len(spread) else
                         record_spaces(vectors[usable], translator))
    return report
