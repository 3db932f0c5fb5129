"""A Qdrant shard run in process by ``qdrant-edge-py`` (Qdrant's Rust storage engine):
``qdrant-edge:///abs/path/shard[?vector=NAME]``. Same id, payload and document conventions as
:mod:`.qdrant_store`; the shard's ``edge_config.json`` tells its dimension and distance. Without ``?vector=``, the
shard's unnamed vector, or its one named vector where it has no other dense one. Points with other vectors, and a new
shard set up like its source (the source points' other vectors kept), as in :mod:`.qdrant_store`.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Iterator, Sequence

import numpy as np

from v2v_store.errors import (DimensionMismatchError, InvalidURIError, MissingDependencyError, StoreBusyError,
                              StoreNotFoundError, UnsupportedIndexError)

from .base import (ORIGINAL_ID_KEY, TRANSLATED_KEY, Metric, PointId, VectorBatch, VectorStore, check_batch,
                   check_vectors, prepare_for_metric, restore_id)
from .qdrant_store import (MANHATTAN_WARNING, describe_settings, from_qdrant_id, held_among, held_marks, layout_like,
                           layout_settings, make_payload, other_vector_configs, other_vector_names, point_layout,
                           point_vectors, points_to_batches, points_without_vector, qdrant_filter, records_by_id,
                           records_to_batch, rewritten_payloads, scrolled_ids, taken_other_vectors, to_qdrant_id,
                           vector_settings)
from .shared import SharedHandles
from .uri import StoreURI
from .where import Where

logger = logging.getLogger(__name__)
_DISTANCES = {"Cosine": Metric.COSINE, "Dot": Metric.DOT, "Euclid": Metric.L2, "Manhattan": Metric.L2}  # L1: as L2
_DISTANCE_OF = {Metric.COSINE: "Cosine", Metric.DOT: "Dot", Metric.L2: "Euclid"}  # a vector this store creates


def _edge():
    try:
        import qdrant_edge
    except ImportError:
        raise MissingDependencyError("qdrant-edge:// needs the qdrant-edge-py package: pip install qdrant-edge-py") from None
    return qdrant_edge


def _load_shard(path: str):
    try:
        return _edge().EdgeShard.load(path)
    except Exception as e:  # the engine raises a bare Exception
        if "WouldBlock" not in str(e):
            raise UnsupportedIndexError(f"Qdrant edge shard {path} cannot be opened ({str(e)[:200]}): restore it from a "
                                        "backup, or name the directory of a shard written by qdrant-edge") from None
        raise StoreBusyError(f"Qdrant edge shard {path} is open in another process (a shard's write-ahead log takes one "
                             "process at a time): stop that process, or close its EdgeShard") from None


def _close_shard(shard) -> None:
    shard.flush()
    shard.close()


# a shard locks its write-ahead log: the stores of one process (two named vectors of one shard) share it
_shards = SharedHandles(_load_shard, _close_shard)


def _engine_filters(where: Where) -> bool:
    """Whether the edge shard's own filter can apply ``where``: its Python binding's ``MatchValue`` matches no
    boolean (``True`` nor ``1``: qdrant-edge-py 0.9.0), so a test of one is applied here."""
    return not any(isinstance(v, bool) for c in where.leaves() for v in c.values)


class QdrantEdgeStore(VectorStore):
    disk_overhead_bytes = 64 * 2**20  # its write-ahead log: two 32 MiB segments (a full disk there kills the process)

    def __init__(self, uri: StoreURI, dim: int | None = None, metric: Metric | None = None, new_vector: bool = False):
        self.uri, self.path = uri.raw, uri.path.rstrip("/")
        self.vector_name = uri.params.get("vector", "")
        self.document_key = uri.params.get("document_key", "document")
        self.index_type = "qdrant-edge"
        self._requested_dim, self._requested_metric = dim, metric
        self._shard = None
        self._config: dict | None = None  # this vector's parameters
        self._shard_config: dict = {}  # the shard's edge_config.json, as loaded
        self._shared = False
        self._new_vector = new_vector
        if self.exists():
            self._load()
            for want, have, what in ((dim, self.dim, "dimension"), (metric, self.metric, "metric")):
                if want is not None and want != have:
                    raise DimensionMismatchError(f"{what} mismatch: Qdrant edge shard {self.path} has {have}, expected {want}")

    def exists(self) -> bool:
        return not self.adds_vector and os.path.exists(os.path.join(self.path, "edge_config.json"))

    def _read_config(self) -> dict:
        path = os.path.join(self.path, "edge_config.json")
        try:
            with open(path) as f:
                self._shard_config = json.load(f)
        except ValueError as e:  # not JSON: damaged, or not a shard's
            raise UnsupportedIndexError(f"{path} is no edge shard's configuration ({e}): restore the shard from a "
                                        "backup, or name the directory of a shard written by qdrant-edge") from None
        if not isinstance(self._shard_config, dict) or not isinstance(self._shard_config.get("vectors"), dict):
            raise UnsupportedIndexError(f"{path} names no vectors: it is no edge shard's configuration; name the "
                                        "directory of a shard written by qdrant-edge")
        return self._shard_config

    def _load(self) -> None:
        config = self._read_config()
        vectors = config["vectors"]
        if not self.vector_name and "" not in vectors and len(vectors) == 1:  # its one vector, named
            self.vector_name = next(iter(vectors))
        if self.vector_name and self.vector_name not in vectors and self._new_vector:  # its first write adds it
            self.adds_vector, self._shared = True, True
            self._shard = _shards.acquire(self.path)
            return
        if self.vector_name not in vectors:
            names = sorted(vectors)
            raise InvalidURIError(
                f"Qdrant edge shard {self.path} has no vector {self.vector_name or '(unnamed)'!r}; "
                f"it has {names}: choose one with ?vector=NAME"
            )
        self._config = vectors[self.vector_name]
        if self._config.get("multivector_config"):
            raise UnsupportedIndexError(
                f"Qdrant edge shard {self.path} vector {self.vector_name or '(unnamed)'!r} holds multivectors (a matrix "
                "per point, late-interaction models such as ColBERT): v2v-store translates one dense embedding per "
                "record; give a shard (or ?vector=NAME) of single vectors")
        # other vectors on the same points: writes then set this vector only, reads and counts see the points with it
        self._shared = len(vectors) > 1 or bool(config.get("sparse_vectors"))
        self._shard = _shards.acquire(self.path)

    def _require(self):
        if self.adds_vector:
            raise StoreNotFoundError(f"Qdrant edge shard {self.path} has no vector {self.vector_name!r} yet")
        if self._shard is None:
            raise StoreNotFoundError(f"Qdrant edge shard {self.path} does not exist (no edge_config.json there)")
        return self._shard

    @property
    def dim(self) -> int:
        if self._config is None and self._requested_dim is not None:
            return self._requested_dim
        self._require()
        return int(self._config["size"])

    @property
    def metric(self) -> Metric:
        if self._config is None:
            return self._requested_metric or Metric.COSINE
        return _DISTANCES.get(self._config["distance"], Metric.DOT)

    def warnings(self) -> list[str]:
        return [MANHATTAN_WARNING] if self._config is not None and self._config["distance"] == "Manhattan" else []

    def _with_vector(self):
        """The points that have this vector, where points may have others (None: every point has it)."""
        q = _edge()
        return q.Filter(must=[q.HasVectorCondition(self.vector_name)]) if self._shared else None

    def count(self) -> int:
        if self._shard is None:
            return 0
        return self._shard.count(_edge().CountRequest(exact=True, filter=self._with_vector()))

    def count_without_vector(self) -> int:
        if self._shard is None or not self._shared:
            return 0
        return self._shard.count(_edge().CountRequest(exact=True, filter=self._without_vector()))

    def _without_vector(self):
        q = _edge()
        return q.Filter(must_not=[q.HasVectorCondition(self.vector_name)])

    def _vector_of(self, record) -> list[float]:
        v = record.vector
        return v[self.vector_name] if isinstance(v, dict) else v

    def iter_batches(self, batch_size: int = 1024, start: Any = None, with_payload: bool = True
                     ) -> Iterator[VectorBatch]:
        self._require()
        yield from self._pages(self._with_vector(), batch_size, start, self._vector_of, self._others_read(with_payload),
                               with_payload=True if with_payload else [ORIGINAL_ID_KEY])

    def iter_points_without_vector(self, batch_size: int = 1024, start: Any = None) -> Iterator[VectorBatch]:
        if self._shard is None or not self._shared:
            return
        yield from self._pages(self._without_vector(), batch_size, start, lambda record: [], self._others_read(True),
                               with_payload=True)

    def _pages(self, scroll_filter, batch_size: int, start: Any, vector_of, others: Sequence[str], with_payload: Any
               ) -> Iterator[VectorBatch]:
        """The points that pass ``scroll_filter``, page by page from ``start`` (a point id)."""
        q, offset, first = _edge(), start, True
        while first or offset is not None:
            first = False
            records, offset = self._shard.scroll(q.ScrollRequest(offset=offset, limit=batch_size, filter=scroll_filter,
                                                                 with_payload=with_payload, with_vector=True))
            if not records:
                return
            yield records_to_batch(records, vector_of, self.document_key,
                                   next_position=from_qdrant_id(offset) if offset is not None else None, others=others)

    def count_where(self, where: Where) -> int | None:
        if not _engine_filters(where):
            return None  # read and tested here
        q = _edge()
        return self._require().count(q.CountRequest(exact=True, filter=qdrant_filter(where, q, q.RangeFloat,
                                                                                     self._with_vector())))

    def filtered_batches(self, where: Where, batch_size: int = 1024, start: Any = None, with_payload: bool = True
                         ) -> Iterator[VectorBatch]:
        if not _engine_filters(where):
            yield from VectorStore.filtered_batches(self, where, batch_size, start, with_payload)
            return
        q, _ = _edge(), self._require()
        yield from self._pages(qdrant_filter(where, q, q.RangeFloat, self._with_vector()), batch_size, start,
                               self._vector_of, self._others_read(with_payload),
                               with_payload=True if with_payload else [ORIGINAL_ID_KEY])

    def ids_where(self, where: Where) -> list[PointId]:
        if not _engine_filters(where):
            return VectorStore.ids_where_each(self, [where])[0]  # tested here in a read of the shard
        q, shard = _edge(), self._require()
        matching = qdrant_filter(where, q, q.RangeFloat, self._with_vector())
        return scrolled_ids(lambda offset: shard.scroll(q.ScrollRequest(
            offset=offset, limit=16_384, filter=matching, with_payload=[ORIGINAL_ID_KEY], with_vector=False)))

    def ids_where_each(self, wheres: Sequence[Where]) -> list[list[PointId]]:
        return [self.ids_where(where) for where in wheres]  # each filtered in the engine where it can

    draws_at_random = True

    def random_batch(self, size: int, with_payload: bool = True, seed: int | None = None) -> VectorBatch:
        """The shard's random sample query: distinct points, any id order."""
        q, shard = _edge(), self._require()
        points = shard.query(q.QueryRequest(limit=size, query=q.Sample.Random, filter=self._with_vector(),
                                            with_payload=True if with_payload else [ORIGINAL_ID_KEY],
                                            with_vector=True))
        return records_to_batch(points, self._vector_of, self.document_key, others=self._others_read(with_payload))

    def fetch(self, ids) -> list[tuple[dict | None, str | None]]:
        natives = [to_qdrant_id(i)[0] for i in ids]
        return records_by_id(self._require().retrieve(natives, True, False), natives, self.document_key)

    def id_key(self, record_id: PointId) -> int | str:
        return to_qdrant_id(record_id)[0]  # the point id (a string id is a UUID of it, the id kept in the payload)

    def iter_keys(self, batch_size: int = 65_536) -> Iterator[list[int | str]]:
        """The point ids alone, no payload (reading the payloads' id key means reading whole payloads: documents too),
        in pages of 65,536 by default."""
        q, shard = _edge(), self._require()
        offset, first = None, True
        while first or offset is not None:
            first = False
            records, offset = shard.scroll(q.ScrollRequest(offset=offset, limit=batch_size, filter=self._with_vector(),
                                                           with_payload=False, with_vector=False))
            if not records:
                return
            yield [from_qdrant_id(r.id) for r in records]

    def records_of_keys(self, keys, with_payload: bool = True) -> Iterator[VectorBatch]:
        shard, wanted = self._require(), list(keys)
        for start in range(0, len(wanted), 1024):
            records = shard.retrieve(wanted[start:start + 1024], True if with_payload else [ORIGINAL_ID_KEY], True)
            yield from points_to_batches(records, self._vector_of, self.document_key,
                                         self.vector_name if self._shared else None, self._others_read(with_payload))

    def holds(self, ids) -> np.ndarray:
        if self._shard is None:
            return np.zeros(len(ids), dtype=bool)
        natives = [to_qdrant_id(i)[0] for i in ids]
        records = self._shard.retrieve(natives, [ORIGINAL_ID_KEY], [self.vector_name] if self._shared else False)
        return held_among(records, natives, ids, self.vector_name if self._shared else None)

    def settings(self) -> dict[str, Any]:
        """The shard's own settings (HNSW, quantization, optimizers, payload on disk and the engine's other shard
        options, from its ``edge_config.json``), this vector's own parameters, the shard's payload indexes, and where
        the points carry other vectors, theirs and this vector's name (see :meth:`QdrantStore.settings`)."""
        config = self._shard_config
        optimizers = {k: v for k, v in (config.get("optimizers") or {}).items() if v is not None}
        out = {k: v for k, v in {**config, "optimizers": optimizers}.items()
               if k not in ("vectors", "sparse_vectors") and v not in (None, {}, [])}
        vector = vector_settings(self._config or {})
        if vector:
            out["vector"] = vector
        indexes = {name: {"type": str(ix.data_type).rsplit(".", 1)[-1].lower(),
                          "schema": ix.params if ix.params is not None else ix.data_type}
                   for name, ix in (self._require().info().payload_schema or {}).items()}
        if indexes:
            out["payload_indexes"] = indexes
        return {**out, **point_layout(self.other_vector_configs(), self.vector_name)}

    describe_settings = staticmethod(describe_settings)
    point_layout = "qdrant"
    layout_settings = staticmethod(layout_settings)

    def other_vectors(self) -> list[str]:
        return other_vector_names(self.other_vector_configs())

    def other_vector_configs(self) -> dict[str, dict[str, Any]]:
        config = self._shard_config
        return other_vector_configs(config["vectors"], config.get("sparse_vectors") or {},
                                    self.vector_name) if config else {}

    def takes_other_vectors(self, configs: dict[str, dict[str, Any]]) -> list[str]:
        return taken_other_vectors(self.other_vector_configs() if self._shard_config
                                   else self._like.get("other_vectors") or {}, configs)

    def create_like(self, settings: dict[str, Any]) -> list[str]:
        """As :meth:`VectorStore.create_like`, the points laid out as the source's (:func:`layout_like`). A vector
        added to an existing shard (:attr:`adds_vector`) takes its size and distance only."""
        if self.adds_vector:
            return []
        self._like, name = layout_like(settings, self.vector_name or None, f"shard {self.path}")
        self.vector_name = name or ""
        return describe_settings(self._like)

    def _create(self, dim: int) -> None:
        """Create the shard: its vector of ``dim`` and the requested metric, with the settings of ``create_like``; or
        where the shard exists without it (:attr:`adds_vector`), add the vector to its points."""
        q, like = _edge(), dict(self._like)
        metric = self._requested_metric or Metric.COSINE
        if self.adds_vector:
            logger.info("adding vector %r to Qdrant edge shard %s (d=%d, metric=%s)", self.vector_name, self.path, dim,
                        metric.value)
            self._shard.update(q.UpdateOperation.create_dense_vector(self.vector_name, dim,
                                                                     getattr(q.Distance, _DISTANCE_OF[metric])))
            self.adds_vector = False
            self._config = self._read_config()["vectors"][self.vector_name]
            return
        logger.info("creating Qdrant edge shard %s (d=%d, metric=%s%s)", self.path, dim, metric.value,
                    "; like its source: " + "; ".join(describe_settings(like)) if like else "")
        if not like:
            params = q.EdgeVectorParams(size=dim, distance=getattr(q.Distance, _DISTANCE_OF[metric]))
            q.EdgeShard.create(self.path, q.EdgeConfig(vectors={self.vector_name: params} if self.vector_name
                                                       else params)).close()
            self._load()
            return
        indexes, others = like.pop("payload_indexes", {}), like.pop("other_vectors", {})
        like.pop("vector_name", None)  # the name this store took (create_like)
        vector = {"size": dim, "distance": _DISTANCE_OF[metric], **like.pop("vector", {})}
        # the engine's own configuration file, which loading creates a shard from (the Python EdgeConfig would need
        # each setting rebuilt as its object): the source's settings as they are, with this shard's vector
        os.makedirs(self.path, exist_ok=True)
        with open(os.path.join(self.path, "edge_config.json"), "w") as f:
            json.dump({**like, "vectors": {self.vector_name: vector, **{name: c["dense"] for name, c in others.items()
                                                                          if "dense" in c}},
                       "sparse_vectors": {name: c["sparse"] for name, c in others.items() if "sparse" in c}}, f)
        self._load()
        for name, index in indexes.items():
            self._shard.update(q.UpdateOperation.create_field_index(name, index["schema"]))

    def upsert(self, batch: VectorBatch) -> None:
        q = _edge()
        batch = check_batch(batch, self.dim if self._config is not None or self._requested_dim else batch.vectors.shape[1])
        if self._shard is None or self.adds_vector:
            self._create(self._requested_dim or batch.vectors.shape[1])
        vectors = prepare_for_metric(batch.vectors, self.metric)
        natives, keeps = map(list, zip(*(to_qdrant_id(i) for i in batch.ids))) if batch.ids else ([], [])
        held: set[str] = set()
        slots = self.other_vector_configs()

        def vectors_of(row: int) -> list[float] | dict[str, Any]:  # this vector, and the others the record brings
            return point_vectors(self.vector_name, vectors[row].tolist(),
                                 batch.other_vectors[row] if batch.other_vectors else {}, slots, q.SparseVector)

        if self._shared:  # points that exist get this vector set, their other vectors and payload kept (a sync: its
            # payload written over, the marks of its other vectors kept)
            current = {str(r.id): r.payload for r in self._shard.retrieve(natives, self.rewrites_held_payloads, False)}
            held = set(current)
            rows = [r for r, n in enumerate(natives) if str(n) in held]
            if self.rewrites_held_payloads:
                for native, payload in rewritten_payloads(batch, rows, current, self.document_key):
                    self._shard.update(q.UpdateOperation.overwrite_payload([native], payload))
            else:
                for mark, marked in held_marks(batch, rows):
                    self._shard.update(q.UpdateOperation.set_payload([natives[r] for r in marked], mark,
                                                                     TRANSLATED_KEY))
            updates = [q.PointVectors(n, v if isinstance(v := vectors_of(row), dict) else {"": v})
                       for row, n in enumerate(natives) if str(n) in held]
            if updates:
                self._shard.update(q.UpdateOperation.update_vectors(updates))
        points = []
        for row, (i, n, keep, m, d) in enumerate(zip(batch.ids, natives, keeps, batch.metadata, batch.documents)):
            if str(n) in held:
                continue
            points.append(q.Point(n, vectors_of(row), make_payload(m, d, i if keep else None, self.document_key)))
        if points:
            self._shard.update(q.UpdateOperation.upsert_points(points))

    def write_points_without_vector(self, batch: VectorBatch, keep_held: bool = False) -> VectorBatch:
        q = _edge()
        if self._shard is None or self.adds_vector:
            self._create(self.dim)
        held = {str(r.id) for r in self._shard.retrieve([to_qdrant_id(i)[0] for i in batch.ids], False, False)
                } if keep_held else set()
        bare, rows = points_without_vector(batch, held, self.other_vector_configs(), q.SparseVector, self.vector_name,
                                           self.document_key)
        points = [q.Point(native, vectors, payload) for native, vectors, payload in bare]
        if points:
            self._shard.update(q.UpdateOperation.upsert_points(points))
        return batch.select(rows)

    def delete(self, ids) -> None:
        if not len(ids):
            return
        q, natives = _edge(), [to_qdrant_id(i)[0] for i in ids]
        self._require().update(q.UpdateOperation.delete_vectors(natives, [self.vector_name]) if self._shared
                               else q.UpdateOperation.delete_points(natives))

    def drop(self, other_vectors_too: bool = False) -> None:
        """Delete the shard, or where its points carry other vectors too, this vector from every point (unless
        ``other_vectors_too``)."""
        import shutil

        if self._shard is not None and self._shared and not other_vectors_too:
            self._shard.update(_edge().UpdateOperation.delete_vectors_by_filter(self._with_vector(), [self.vector_name]))
            self._shard.flush()
            return
        self.close()
        shutil.rmtree(self.path, ignore_errors=True)
        self._config, self._shard_config = None, {}

    def search(self, queries: np.ndarray, k: int, where: Where | None = None
               ) -> tuple[np.ndarray, list[list[PointId]]]:
        if where is not None and not _engine_filters(where):
            return self.search_where(queries, k, where)
        q, shard = _edge(), self._require()
        queries = prepare_for_metric(check_vectors(queries, self.dim, "queries"), self.metric)
        matching = qdrant_filter(where, q, q.RangeFloat)
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids: list[list[PointId]] = []
        for row, vec in enumerate(queries):
            hits = shard.query(q.QueryRequest(limit=k, query=q.Query.Nearest(vec.tolist(), using=self.vector_name or None),
                                              with_payload=[ORIGINAL_ID_KEY], filter=matching))
            row_ids = []
            for j, p in enumerate(hits):
                pid, _ = restore_id(from_qdrant_id(p.id), p.payload)
                row_ids.append(pid)
                scores[row, j] = -p.score**2 if self.metric == Metric.L2 else p.score
            ids.append(row_ids)
        return scores, ids

    def flush(self) -> None:
        if self._shard is not None:
            self._shard.flush()

    def close(self) -> None:
        if self._shard is not None:
            self._shard.flush()
            _shards.release(self.path)  # the last store of the shard closes it
            self._shard = None
