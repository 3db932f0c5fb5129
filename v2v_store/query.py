"""Query collections embedded by different models as one.

Each collection is tied to a space of a translator. Two modes:

- ``native``: the query is translated into each collection's space (decoded as a query, keeping the share of that
  space's mean the fit calibrated: ``Translator.translate(role="queries")``) and searched there with the
  store's own index (also the query-time *bridge*: new-model queries against an unmigrated
  old-model collection). Scores of different spaces are not calibrated against each other; hits
  are merged by score, so prefer ``latent`` when mixing spaces.
- ``latent``: every collection is streamed once through the shared latent (cached in memory as a FAISS flat index:
  exact float32, or with ``latent_precision="float16"`` half the memory, ``"int8"`` a quarter (a byte per dimension,
  each dimension's range learnt from the collection's first records); :meth:`Translator.to_space`: for a linear
  translator back into the collection's own centred coordinates, for a vec2vec one the latent itself) and the query
  is compared there. A query of another space than the collection's is decoded as a query and its scores mapped
  (``Translator.latent_score``, an affine map calibrated without labels at fit time, so they may exceed 1) onto the
  scale of scores within the query's own space, so hits of collections of both models merge by score. Each window of
  records streamed is space-checked (:class:`~v2v_store.space_check.SpaceWatch`): another model's records in the
  collection stop the query. Only the latent vectors and record ids stay in memory (the read asks the stores for
  ids and vectors only, unless a metadata field names each record's space).

In both modes the metadata and documents of the hits returned are fetched by id (:meth:`VectorStore.fetch`) once the
hits are merged. A search may keep to the records whose metadata meets a filter (a ``Where``, one for all queries or
one per query): latent mode searches only their rows of the latent copy, native mode asks each store for its filtered
search (:meth:`VectorStore.search`). A ``CrossQuery`` keeps its stores open until :meth:`CrossQuery.close` (it is a context manager);
records written to its collections after a latent index was built are searched after :meth:`CrossQuery.refresh`.
With ``latent_cache=DIR`` the latent indexes are kept on disk and reused by later queries while their collections
are unchanged, and updated where a Chroma or Qdrant collection only gained or lost records
(:mod:`v2v_store.latent_cache`); a refresh then reads only what changed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import faiss
import numpy as np

from v2v_store.connectors import PointId, VectorBatch, VectorStore, Where, open_store, same_collection, same_points
from v2v_store.connectors.where import filter_hints
from v2v_store.errors import StoreNotFoundError, V2VError, naming_lost_connections
from v2v_store.latent_cache import LatentCache, LatentPart, Stale, fingerprints
from v2v_store.mixed import RecordSpaces
from v2v_store.space_check import SpaceWatch, decided_on_spread, first_vectors
from v2v_store.translator import QUERIES, Space, Translator

logger = logging.getLogger(__name__)

LATENT_PRECISIONS = ("float32", "float16", "int8")
INT8_TRAINING_ROWS = 65_536  # int8: each dimension's range is learnt from this many of a collection's first records


@dataclass
class Hit:
    collection: str
    id: PointId
    score: float
    metadata: dict | None = None
    document: str | None = None


@dataclass
class _Collection:
    uri: str
    space: str
    mixed: RecordSpaces | None = None  # a collection of mixed spaces: only the records of ``space`` are here
    latent_index: Any = None  # None until built, and after building when no record is of ``space``
    ids: list[PointId] = field(default_factory=list)  # the record id of each latent row
    built: bool = False
    how: str = ""  # how its latent index came: "built", "loaded" (from the latent cache) or "updated" (cache + changes)
    rows_where: dict[Where, np.ndarray] = field(default_factory=dict)  # latent rows of the records each filter keeps


def _best_per_record(hits: list[Hit], points: dict[str, str]) -> list[Hit]:
    """``hits`` best first, each record once: two named vectors of one Qdrant collection (a new model's vector filled
    beside the old one, both searched) find the same points (``points``: each collection's points, by URI), each kept
    where it scored best."""
    best: dict[tuple[str, Any], Hit] = {}
    for h in sorted(hits, key=lambda h: -h.score):
        best.setdefault((points[h.collection], h.id), h)
    return list(best.values())


class CrossQuery:
    """Search several collections, possibly of different models, with one query."""

    read_batch_size = 4096  # records per read while building a latent index

    def __init__(self, translator: Translator, collections: list[tuple[str, str | None]], mode: str = "latent",
                 check_space: bool = True, latent_precision: str = "float32", latent_cache: str | Path | None = None,
                 latent_cache_max_size: int | None = None):
        """``collections``: (URI, space name or None for the space of the collection's dimension, or, where both
        spaces share it, the one its first vectors look like: :meth:`Translator.space_for_dim`). A space given as
        ``@FIELD`` or ``auto`` marks a collection of mixed spaces (records of both models in one index, e.g. half way
        through a re-embedding) whose records each name their space in the metadata field FIELD, or whose records'
        spaces are told by their vectors (:mod:`v2v_store.mixed`): each record is then searched in its own space
        (latent mode only). ``check_space``: each collection's first vectors (of each space) must look
        like its space (:meth:`Translator.check_space`). ``latent_precision``: how latent mode holds each collection's
        latent vectors: ``float32`` (exact scores), ``float16`` (half the memory; a dot product of unit vectors
        within 2^-11 of exact, times the cross-model score map's scale of ~1-1.2, so only near-ties can swap) or
        ``int8`` (a quarter of the memory: each dimension quantised to 256 levels between the least and greatest value
        among the collection's first ``INT8_TRAINING_ROWS`` records, later values clipped to that range; scores within
        a few 1e-3 of exact, so close hits can swap). ``latent_cache``: a directory where latent mode keeps each
        collection's latent index once built and loads it from while the collection is unchanged
        (:mod:`v2v_store.latent_cache`); ``latent_cache_max_size``: bytes it is kept within after each entry written
        or loaded (the least recently used entries of other collections removed, not those another open query
        uses)."""
        if mode not in ("latent", "native"):
            raise V2VError(f"unknown query mode {mode!r}: use 'latent' or 'native'")
        if latent_precision not in LATENT_PRECISIONS:
            raise V2VError(f"unknown latent precision {latent_precision!r}: use {' or '.join(LATENT_PRECISIONS)}")
        if not collections:
            raise V2VError("give at least one collection to query")
        if latent_cache is not None and mode != "latent":
            raise V2VError("a latent cache holds latent mode's indexes: drop it, or query in latent mode")
        self.translator, self.mode, self.check_space = translator, mode, check_space
        translator.log_fit_warnings()
        self.latent_precision = latent_precision
        if latent_cache_max_size is not None and latent_cache is None:
            raise V2VError("a latent cache's maximum size needs a latent cache directory (latent_cache=DIR)")
        self._cache = (None if latent_cache is None else
                       LatentCache(latent_cache, translator.digest(), latent_precision, check_space,
                                   latent_cache_max_size))
        self._requested = list(collections)
        self.collections: list[_Collection] = []
        self._stores: dict[str, VectorStore] = {}  # by URI, open until close()
        self._ids_where: dict[tuple[str, Where], set[PointId]] = {}  # ids each filter keeps of a store, until close()
        self._checked_filters: set[tuple[str, Where]] = set()  # (collection, filter) checked by _check_filter
        self._open()
        spaces = {c.space for c in self.collections}
        if (mode == "latent" and translator.kind == "linear" and len(spaces) > 1
                and not spaces <= set(translator.latent_scores)):
            logger.warning("this translator has no latent score calibration (fitted before session 41): hits of the "
                           "two models' collections are merged by raw cosine, which favours the query's own model; "
                           "`v2v fit` again to calibrate")

    def _open(self) -> None:
        """Open, check and add every collection asked for; an empty one is left out with a warning."""
        empty, added = [], []
        try:
            for uri, space in self._requested:
                twin = next((other for other in added if same_collection(other, uri)), None)
                if twin is not None:  # each record would be found twice
                    logger.warning("collection %s was given before%s: searched once", uri,
                                   "" if twin == uri else f" (as {twin})")
                    continue
                added.append(uri)
                if not self._add(uri, space):
                    empty.append(uri)
        except BaseException:
            self.close()
            raise
        if empty and not self.collections:
            raise V2VError(f"nothing to search: {', '.join(empty)} {'is' if len(empty) == 1 else 'are'} empty; "
                           "check the collection name (`v2v inspect URI`)")
        for uri in empty:
            logger.warning("collection %s is empty: left out of the search", uri)

    def _add(self, uri: str, space: str | None) -> bool:
        """Open and check the collection at ``uri`` (of ``space``, or of mixed spaces: ``@FIELD``/``auto``) and add
        it; an empty one is closed again and left out (False)."""
        if uri not in self._stores:
            self._stores[uri] = open_store(uri)
        store = self._stores[uri]
        if not store.exists():
            raise StoreNotFoundError(f"collection {uri} does not exist: {store.missing()}")
        if not store.count():
            self._stores.pop(uri).close()
            return False
        mixed = RecordSpaces.parse(space, self.translator)
        if mixed is not None:
            self.collections.extend(self._mixed(store, uri, mixed, self.check_space))
            return True
        how_to_name = f"--collection '{uri}#{{}}'"

        def decide(sample: np.ndarray | None) -> Space:
            sp = self.translator.space(space) if space else self.translator.space_for_dim(store.dim, sample, how_to_name)
            if sp.dim != store.dim:
                raise V2VError(f"collection {uri} has d={store.dim} but space {sp.name!r} has d={sp.dim}")
            if self.check_space:
                self.translator.check_space(sample, sp.name, f"collection {uri}", how_to_name)
            return sp

        first = first_vectors(store) if self.check_space or not space else None  # else nothing read before a search
        sp = decided_on_spread(store, first, decide, {s.dim for s in self.translator.spaces}, f"collection {uri}")
        self.collections.append(_Collection(uri, sp.name))
        return True

    def refresh(self) -> None:
        """Reopen and recheck every collection and forget the latent indexes built so far, so the next search sees
        records written, changed or deleted since, by this process or another (a FAISS index is read when opened), and
        collections that were empty then. Also reopens a closed ``CrossQuery``."""
        self.close()
        self.collections = []
        self._open()

    def close(self) -> None:
        """Close the collections' stores (and give back the latent cache entries it used: other processes' size
        bounds may remove them again); a later search is refused until :meth:`refresh`."""
        stores, self._stores = self._stores, {}
        self._ids_where.clear()
        for store in stores.values():
            store.close()
        if self._cache is not None:
            self._cache.release()

    def __enter__(self) -> "CrossQuery":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _require_open(self) -> None:
        if not self._stores:  # closed, or its refresh failed
            raise V2VError("this CrossQuery is closed: refresh() it, or make a new one, to search again")

    def _store(self, uri: str) -> VectorStore:
        self._require_open()
        return self._stores[uri]

    def _mixed(self, store, uri: str, mixed: RecordSpaces, check_space: bool) -> list[_Collection]:
        """One collection per translator space for a store of mixed spaces."""
        what = f"collection {uri}#{mixed.option}"
        if self.mode != "latent":
            raise V2VError(f"{what}: a collection of mixed spaces is searched in latent mode only (its own index holds "
                           "vectors of two spaces, which native scores cannot compare); drop --mode native")
        mixed.check(self.translator, store, what, check_space)
        return [_Collection(uri, sp.name, mixed) for sp in self.translator.spaces]

    def _latent(self, c: _Collection) -> Any:
        """``c``'s latent index, built on first use (or loaded from the latent cache while the collection is
        unchanged); the parts of a collection of mixed spaces are built together, in one pass over the store (each
        record's space told once)."""
        if not c.built:
            parts = [c] if c.mixed is None else [p for p in self.collections if p.uri == c.uri and p.mixed is c.mixed]
            if not self._load_cached(c, parts):
                self._build(c, parts)
        return c.latent_index

    def _load_cached(self, c: _Collection, parts: list[_Collection]) -> bool:
        """Whether ``parts`` were loaded from the latent cache (brought up to date where records were only added or
        removed since)."""
        if self._cache is None:
            return False
        cached = self._cache.load(self._store(c.uri), c.uri, [p.space for p in parts], c.mixed)
        if cached is None:
            return False
        if isinstance(cached, Stale):
            if (self.latent_precision == "int8" and cached.added
                    and any(len(p.ids) < INT8_TRAINING_ROWS for p in cached.parts)):
                logger.info("latent cache of %s: its int8 ranges were learnt from all of its records, which records "
                            "added since would change; building it again", c.uri)
                return False
            self._update(c, parts, cached)
            return True
        for part, entry in zip(parts, cached):
            part.latent_index, part.ids, part.built, part.how = entry.index, entry.ids, True, "loaded"
        return True

    def _build(self, c: _Collection, parts: list[_Collection]) -> None:
        """Stream ``c``'s store through the translator into the latent indexes of ``parts`` (and the cache)."""
        store = self._store(c.uri)
        version, count = store.version(), store.count()  # before the read: what a cache entry is valid for
        by_field = c.mixed is not None and c.mixed.field is not None  # else ids and vectors are all it reads
        start = [LatentPart(None, [], np.zeros(0, np.uint64)) for _ in parts]  # also after a build stopped by the check
        self._translate_into(c, parts, start, store.iter_batches(batch_size=self.read_batch_size,
                                                                 with_payload=by_field), version, count)

    def _update(self, c: _Collection, parts: list[_Collection], stale: Stale) -> None:
        """Bring a cached latent index up to date: the removed records' rows dropped, the added records read by id and
        translated in (then the entry saved again)."""
        for cached in stale.parts:
            gone = np.array([r for r, i in enumerate(cached.ids) if i in stale.removed], dtype=np.int64)
            if len(gone):
                cached.index.remove_ids(faiss.IDSelectorBatch(gone))  # the other rows keep their order
                kept = np.setdiff1d(np.arange(len(cached.ids)), gone)
                cached.ids, cached.fingerprints = [cached.ids[r] for r in kept], cached.fingerprints[kept]
        by_field = c.mixed is not None and c.mixed.field is not None
        store = self._store(c.uri)
        self._translate_into(c, parts, stale.parts, store.records_of_keys(stale.added, with_payload=by_field), None,
                             stale.count, how="updated", left_out=stale.left_out)
        logger.info("latent index of %s updated from %s: %d records added, %d removed", c.uri, self._cache.directory,
                    len(stale.added), len(stale.removed))

    def _translate_into(self, c: _Collection, parts: list[_Collection], start: list[LatentPart],
                        batches: Iterable[VectorBatch], version: str | None, count: int, how: str = "built",
                        left_out: list[PointId] = ()) -> None:
        """Translate the records of ``batches`` (from ``c``'s store) into the latent indexes of ``parts``, after the
        rows they ``start`` with; then save them in the cache when the store was not written meanwhile (``version``
        and ``count`` as when the read began), with the ids of the records of neither space (``left_out`` of those
        before, then these)."""
        tr, store = self.translator, self._store(c.uri)
        for part, first in zip(parts, start):
            part.latent_index, part.ids, part.built = first.index, list(first.ids), False
        fix = (f"Query it as a collection of mixed spaces: --collection '{c.uri}#@FIELD' (a metadata field naming "
               f"each record's model) or '{c.uri}#auto' (each record's space told by its vector)" if c.mixed is None
               else f"Check the {c.mixed.field!r} of those records")
        watched = self.check_space and (c.mixed is None or c.mixed.field is not None)  # auto: all classified
        watches = [SpaceWatch(tr.space_covariances if watched else {}, p.space, f"collection {c.uri}", fix,
                              means=tr.space_means) for p in parts]
        untrained: dict[int, list[np.ndarray]] = {id(p): [] for p in parts}  # int8: rows held until it is trained
        prints: dict[int, list[np.ndarray]] = {id(p): [first.fingerprints] for p, first in zip(parts, start)}
        left_out = list(left_out)
        for batch in batches:
            labels = None if c.mixed is None else c.mixed.labels(batch)
            if labels is not None:
                left_out.extend(batch.ids[r] for r in np.flatnonzero(~np.isin(labels, [p.space for p in parts])))
            for part, watch in zip(parts, watches):
                rows = np.arange(len(batch)) if labels is None else np.flatnonzero(labels == part.space)
                if not len(rows):
                    continue
                watch.add(batch.vectors[rows])
                z = tr.to_space(batch.vectors[rows], space=part.space, into=part.space)
                if part.latent_index is None:
                    part.latent_index = self._new_latent_index(z.shape[1])
                self._add_latent(part.latent_index, z, untrained[id(part)], end=False)
                part.ids.extend(batch.ids[r] for r in rows)
                if self._cache is not None:
                    prints[id(part)].append(fingerprints(batch.vectors[rows]))
        for part, watch in zip(parts, watches):
            watch.finish()
            if part.latent_index is not None:
                self._add_latent(part.latent_index, None, untrained[id(part)], end=True)
            part.built, part.how = True, how
            logger.info("latent index of %s%s: %d vectors", c.uri,
                        f" ({c.mixed.option}: {part.space!r})" if c.mixed else "", len(part.ids))
        if self._cache is not None and (store.version(), store.count()) == (version, count):  # not written meanwhile
            self._cache.save(c.uri, [p.space for p in parts], c.mixed, [
                LatentPart(p.latent_index, p.ids, np.concatenate(prints[id(p)]).astype(np.uint64)) for p in parts],
                version, count, left_out)

    def _new_latent_index(self, dim: int) -> Any:
        if self.latent_precision == "float32":
            return faiss.IndexFlatIP(dim)
        kind = faiss.ScalarQuantizer.QT_fp16 if self.latent_precision == "float16" else faiss.ScalarQuantizer.QT_8bit
        return faiss.IndexScalarQuantizer(dim, kind, faiss.METRIC_INNER_PRODUCT)

    @staticmethod
    def _add_latent(index: Any, z: np.ndarray | None, held: list[np.ndarray], end: bool) -> None:
        """Add latent rows ``z`` to ``index``. An untrained one (int8) holds them in ``held`` until
        ``INT8_TRAINING_ROWS`` are there, or the read ``end``s, learns each dimension's range from those and adds them;
        later rows are added as they come."""
        if index.is_trained:
            if z is not None:
                index.add(z)
            return
        if z is not None:
            held.append(z)
        if held and (end or sum(len(h) for h in held) >= INT8_TRAINING_ROWS):
            first = np.concatenate(held)
            held.clear()
            index.train(first)
            index.add(first)

    def prepare(self) -> list[dict[str, Any]]:
        """Make every collection's latent index now (built, or loaded from the latent cache, or updated there) rather
        than at the first search: to fill a latent cache ahead of the queries (``v2v cache warm``) or warm a service.
        One dict per collection (per space of a collection of mixed spaces): its URI, space, vectors and how."""
        self._require_open()
        if self.mode != "latent":
            raise V2VError("native mode searches each store's own index: there is nothing to prepare")
        for c in self.collections:
            self._latent(c)
        return [{"collection": c.uri, "space": c.space, **({"mixed": c.mixed.option} if c.mixed else {}),
                 "vectors": len(c.ids), "how": c.how} for c in self.collections]

    def search(self, queries: np.ndarray, space: str, k: int = 10,
               where: Where | Sequence[Where | None] | None = None) -> list[list[Hit]]:
        """Top-k hits over all collections for each query vector of ``space``, with their records' metadata and
        documents; with ``where`` (one filter, or one per query, None for none), among the records whose metadata
        meets it (exactly: latent mode searches only their rows; native mode filters in a Qdrant engine, elsewhere
        scores the records kept in a read of the collection, :meth:`VectorStore.search_where`). Which records a
        filter keeps is read once per store and filter, until :meth:`refresh`. A server lost meanwhile raises
        :class:`~v2v_store.errors.StoreUnreachableError`."""
        with naming_lost_connections():
            return self._search(queries, space, k, where)

    def _search(self, queries: np.ndarray, space: str, k: int, where: Where | Sequence[Where | None] | None
                ) -> list[list[Hit]]:
        self._require_open()
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise V2VError(f"k={k!r}: the number of hits per query is a whole number, 1 or more")
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        if not len(queries):
            return []
        if where is None or isinstance(where, Where):
            top = self._ranked(queries, space, k, where)
        else:
            if len(where) != len(queries):
                raise V2VError(f"{len(where)} filters for {len(queries)} queries: give one filter, or one per query")
            if self.mode == "latent":
                self._read_filters([w for w in dict.fromkeys(where) if w is not None])
            top = [[] for _ in queries]
            for one in dict.fromkeys(where):  # the queries of each filter searched together
                rows = [r for r, w in enumerate(where) if w == one]
                for r, hits in zip(rows, self._ranked(queries[rows], space, k, one)):
                    top[r] = hits
        self._fill_records([h for row in top for h in row])
        return top

    def _ranked(self, queries: np.ndarray, space: str, k: int, where: Where | None) -> list[list[Hit]]:
        """Each query's top-k hits over all collections among the records ``where`` keeps, without their records."""
        results: list[list[Hit]] = [[] for _ in queries]
        for c in self.collections:
            if where is not None:
                self._check_filter(c.uri, where)
            if self.mode == "latent":
                index = self._latent(c)
                if index is None:  # an empty collection, or no record of this space
                    continue
                kept = None if where is None else self._rows_where(c, where)
                if kept is not None and not len(kept):
                    continue
                scores, rows = index.search(
                    self.translator.to_space(queries, space=space, into=c.space, role=QUERIES), k,
                    params=None if kept is None else faiss.SearchParameters(sel=faiss.IDSelectorBatch(kept)))
                scale, shift = self.translator.latent_score(space, c.space)
                with np.errstate(over="ignore"):  # FAISS's -FLT_MAX where a query has fewer hits (row -1, left out)
                    scores = scale * scores + shift
                for qi in range(len(queries)):
                    results[qi].extend(Hit(c.uri, c.ids[r], float(s)) for s, r in zip(scores[qi], rows[qi]) if r >= 0)
            else:
                q = self.translator.translate(queries, source=space, target=c.space, role=QUERIES)
                scores, ids = self._store(c.uri).search(q, k, where)
                for qi in range(len(queries)):
                    results[qi].extend(Hit(c.uri, i, float(s)) for s, i in zip(scores[qi], ids[qi]))
        points = {c.uri: self._points_of(c.uri) for c in self.collections}
        return [_best_per_record(r, points)[:k] for r in results]

    def _read_filters(self, wheres: list[Where]) -> None:
        """Which records each of ``wheres`` keeps of every collection, read for all at once where a store tests them
        in one read of its metadata (:meth:`VectorStore.ids_where_each`), not once per filter."""
        for uri in dict.fromkeys(c.uri for c in self.collections):
            missing = [w for w in wheres if (uri, w) not in self._ids_where]
            if missing:
                for where, ids in zip(missing, self._store(uri).ids_where_each(missing)):
                    self._ids_where[uri, where] = set(ids)
                    logger.info("%s: %d records where %s", uri, len(ids), where)

    def _rows_where(self, c: _Collection, where: Where) -> np.ndarray:
        """The rows of ``c``'s latent index whose records' metadata meets ``where``."""
        if where not in c.rows_where:
            self._read_filters([where])
            kept = self._ids_where[c.uri, where]
            c.rows_where[where] = np.array([r for r, i in enumerate(c.ids) if i in kept], dtype=np.int64)
        return c.rows_where[where]

    def _check_filter(self, uri: str, where: Where) -> None:
        """Warn (once per collection and filter) of what looks wrong with ``where`` against the collection's first
        records (:func:`~v2v_store.connectors.where.filter_hints`: a misspelt field, numbers compared with text),
        which would keep nothing, or everything, without an error."""
        if (uri, where) in self._checked_filters:
            return
        self._checked_filters.add((uri, where))
        first = self._store(uri).first_batch(256)
        for hint in filter_hints(where, first.metadata if first is not None else []):
            logger.warning("%s: the filter %s: %s", uri, where, hint)

    def _points_of(self, uri: str) -> str:
        """The first collection URI asked for whose points ``uri``'s are (itself, or another named vector of its
        Qdrant collection)."""
        return next((c.uri for c in self.collections if c.uri == uri or same_points(c.uri, uri)), uri)

    def _fill_records(self, hits: list[Hit]) -> None:
        """Set each hit's metadata and document, fetched by id: one request per collection for all queries' hits."""
        by_uri: dict[str, list[Hit]] = {}
        for h in hits:
            by_uri.setdefault(h.collection, []).append(h)
        for uri, group in by_uri.items():
            ids = list(dict.fromkeys(h.id for h in group))
            records = dict(zip(ids, self._store(uri).fetch(ids)))
            for h in group:
                h.metadata, h.document = records[h.id]
