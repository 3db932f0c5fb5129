"""Qdrant collections through qdrant-client: local mode (``qdrant:///dir``) or a server
(``qdrant+http://host:port``, API key from ``QDRANT_API_KEY``). The same client calls serve both.

Ids are unsigned ints or UUIDs; other string ids are stored under a stable UUID with the original
kept in the payload (``_v2v_id``) and restored on read. Documents live in the payload under
``document`` (``?document_key=...`` to change). Named vectors: ``?vector=NAME``; where points carry other vectors
too (named or sparse), writes set this vector only (other vectors and payload of existing points kept), reads and
counts see the points that have it, and ``drop`` removes it from every point rather than dropping the collection.
A new collection set up like its source (:meth:`QdrantStore.create_like`) gets the source points' other vectors too,
and records read with them (:attr:`~connectors.base.VectorStore.read_other_vectors`) are written with them, as they are.
Cosine collections store L2-normalised vectors (Qdrant normalises on insert), so a cosine
collection reads back unit vectors, not the raw ones written.
Local mode locks its directory to one client; the stores of one process share a client per directory, so two
collections of one directory can be open at once (a migration from one to the other).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import sqlite3
import uuid
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from v2v_store.errors import (DimensionMismatchError, InvalidURIError, InvalidVectorsError, StoreBusyError,
                              StoreNotFoundError, StoreUnreachableError, UnsupportedIndexError)

from .base import (
    ORIGINAL_ID_KEY,
    TRANSLATED_KEY,
    Metric,
    PointId,
    VectorBatch,
    VectorStore,
    check_batch,
    check_vectors,
    kept_id,
    prepare_for_metric,
    restore_id,
    stable_uuid,
)
from .llama_index import node_text
from .shared import SharedHandles
from .uri import StoreURI
from .where import RANGE_OPERATORS, TEXT_OPERATORS, AnyOf, Condition, Where

logger = logging.getLogger(__name__)


MANHATTAN_WARNING = ("the collection ranks by Manhattan (L1) distance, which v2v-store has no metric for: it is taken as "
                     "a distance like L2 (metric reported as l2; its hits' scores negated); a new collection made from "
                     "it ranks by cosine")


def to_qdrant_id(value: PointId) -> tuple[int | str, bool]:
    """(native id, whether the original must be kept in the payload)."""
    if isinstance(value, int):
        if not 0 <= value < 2**64:  # a point id is an unsigned 64-bit int or a UUID
            return stable_uuid(str(value)), True
        return value, False
    # uuid.UUID's own normalisation: only 32 characters left can be a UUID (skip the slow failing try for the rest)
    if len(value.replace("urn:", "").replace("uuid:", "").strip("{}").replace("-", "")) == 32:
        try:
            return str(uuid.UUID(value)), str(uuid.UUID(value)) != value
        except ValueError:
            pass
    return stable_uuid(value), True


def from_qdrant_id(value: Any) -> PointId:
    return str(value) if isinstance(value, uuid.UUID) else value


def split_payload(payload: dict | None, document_key: str) -> tuple[dict | None, str | None]:
    """A payload as (metadata, document): the text at ``document_key`` is the document; a value there that is not
    text (a number, an object) stays in the metadata, where it is written back from. Without that field, a LlamaIndex
    node's text (in its JSON, ``_node_content``, which stays in the metadata) is the document; written back to
    Qdrant, no field is added for it (:func:`make_payload`)."""
    payload = dict(payload or {})
    doc = payload.pop(document_key) if isinstance(payload.get(document_key), str) else None
    if doc is None and document_key not in payload:  # a LlamaIndex node keeps its text in its own JSON
        doc = node_text(payload)
    return (payload or None), doc


def records_by_id(records, natives: list, document_key: str) -> list[tuple[dict | None, str | None]]:
    """Each of ``natives``'s (metadata, document) among retrieved ``records`` ((None, None) where none came back)."""
    found = {}
    for r in records:
        meta, doc = split_payload(r.payload, document_key)
        found[str(r.id)] = (restore_id(r.id, meta)[1], doc)
    return [found.get(str(n), (None, None)) for n in natives]


def records_to_batch(records, vector_of, document_key: str, next_position: Any = None,
                     others: Sequence[str] = ()) -> VectorBatch:
    """A page of Qdrant records (scrolled or queried; ``vector_of(record)`` picks the vector read) as a batch: ids
    restored, documents taken out of the payloads, and where ``others`` are named, the records' vectors of those
    names (those they have) as they are."""
    ids, vectors, metadata, documents, other_vectors = [], [], [], [], []
    for r in records:
        meta, doc = split_payload(r.payload, document_key)
        rid, meta = restore_id(from_qdrant_id(r.id), meta)
        ids.append(rid)
        vectors.append(vector_of(r))
        metadata.append(meta)
        documents.append(doc)
        if others:
            other_vectors.append({name: plain_vector(r.vector[name]) for name in others if name in (r.vector or {})})
    return VectorBatch(ids, np.asarray(vectors, dtype=np.float32), metadata, documents, next_position, other_vectors)


def points_to_batches(records, vector_of, document_key: str, vector: str | None,
                      others: Sequence[str] = ()) -> Iterator[VectorBatch]:
    """Retrieved ``records`` as a batch (none when empty), keeping, where ``vector`` is named, those that have it."""
    if vector is not None:
        records = [r for r in records if vector in (r.vector or {})]
    if records:
        yield records_to_batch(records, vector_of, document_key, others=others)


def qdrant_filter(where: Where | None, models: Any, range_type: Any, base: Any = None) -> Any:
    """``where`` as a Qdrant filter (``models``: ``qdrant_client.models`` or ``qdrant_edge``, whose range type is
    ``range_type``), joined to the ``base`` filter (None: none). Equality with a number is a range of one value:
    Qdrant's ``MatchValue`` takes no fraction and matches an integer to integers only, never to a value stored as a
    float (``2020`` to ``2020.0``, as pandas writes a column with gaps); a list of values is ``MatchAny`` where they
    are all text, else a nested filter that any of its values' tests meets (``!=``: none); a comparison with a date is
    a datetime range; ``~`` (contains) is ``MatchSubstring``; ``=null`` is ``IsEmpty``; alternatives (``a | b``) a
    nested filter that one of them meets."""
    if where is None:
        return base
    must, must_not = list(base.must or []) if base else [], list(base.must_not or []) if base else []
    for c in where.conditions:
        if isinstance(c, AnyOf):  # one or more of them: each alternative a filter of its own
            must.append(models.Filter(should=[
                models.Filter(must=[test]) if positive else models.Filter(must_not=[test])
                for test, positive in (_condition(a, models, range_type) for a in c.alternatives)]))
            continue
        test, positive = _condition(c, models, range_type)
        (must if positive else must_not).append(test)
    return models.Filter(must=must or None, must_not=must_not or None)


def _condition(c: Condition, models: Any, range_type: Any) -> tuple[Any, bool]:
    """(the Qdrant condition ``c`` tests, whether it must hold: else it must not)."""
    if c.moment is not None:  # dates: RFC 3339 text, UTC where the user gave no zone
        dates = getattr(models, "DatetimeRange", None) or models.RangeDateTime  # the client's, the edge shard's
        return models.FieldCondition(key=c.field, range=dates(**{RANGE_OPERATORS[c.op]: c.moment.isoformat()})), True
    if c.op in RANGE_OPERATORS:
        return models.FieldCondition(key=c.field, range=range_type(**{RANGE_OPERATORS[c.op]: c.value})), True
    if c.op in TEXT_OPERATORS:
        return models.FieldCondition(key=c.field, match=models.MatchSubstring(substring=c.value)), c.op == "~"
    if c.value is None:  # no value: missing, null or [] (the client's condition, or the edge binding's)
        return (models.IsEmptyCondition(is_empty=models.PayloadField(key=c.field)) if hasattr(models, "PayloadField")
                else models.IsEmptyCondition(c.field)), c.op == "="
    values = c.values
    if len(values) == 1:
        test = _equality(c.field, values[0], models, range_type)
    elif all(isinstance(v, str) for v in values):
        test = models.FieldCondition(key=c.field, match=models.MatchAny(any=list(values)))
    else:
        test = models.Filter(should=[_equality(c.field, v, models, range_type) for v in values])
    return test, c.op == "="


def _equality(field: str, value: Any, models: Any, range_type: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):  # integers and floats alike
        return models.FieldCondition(key=field, range=range_type(gte=value, lte=value))
    return models.FieldCondition(key=field, match=models.MatchValue(value=value))


def scrolled_ids(scroll: Callable[[Any], tuple[list, Any]]) -> list[PointId]:
    """The ids (restored: the payload keeps those Qdrant cannot hold) of every page ``scroll(offset)`` returns, from
    the first page to the last (a Qdrant collection's or an edge shard's scroll, filtered as it asks)."""
    found: list[PointId] = []
    offset, first = None, True
    while first or offset is not None:
        first = False
        records, offset = scroll(offset)
        found.extend(restore_id(from_qdrant_id(r.id), r.payload)[0] for r in records)
    return found


def held_among(records, natives: list, ids: Sequence[PointId], vector: str | None) -> np.ndarray:
    """Whether each of ``ids`` (stored as ``natives``) is among retrieved ``records`` (retrieved with the payload's
    original-id key): the same id once restored, and where ``vector`` is named, a point that has that vector."""
    found = {}
    for r in records:
        if vector is None or vector in (r.vector or {}):
            found[str(r.id)] = restore_id(from_qdrant_id(r.id), r.payload)[0]
    return np.array([str(n) in found and found[str(n)] == i for n, i in zip(natives, ids)], dtype=bool)


def _not_json_number(value: Any) -> bool:
    """Whether ``value`` is or holds (in a list or an object) NaN, an infinity or an int that a Qdrant payload turns
    into a float (one beyond [-2**63, 2**64): JSON numbers as a server and an edge shard parse them)."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, int):
        return not -2**63 <= value < 2**64
    if isinstance(value, dict):
        return any(_not_json_number(v) for v in value.values())
    return isinstance(value, list) and any(_not_json_number(v) for v in value)


def held_marks(batch: VectorBatch, held_rows: Sequence[int]) -> list[tuple[dict[str, Any], list[int]]]:
    """The translation marks (:data:`TRANSLATED_KEY`) that the records at ``held_rows`` of ``batch`` bring, each with
    its rows: a point that exists gets this vector set and only these merged into its payload (its own kept)."""
    groups: dict[str, tuple[dict[str, Any], list[int]]] = {}
    for row in held_rows:
        mark = (batch.metadata[row] or {}).get(TRANSLATED_KEY) if batch.metadata else None
        if isinstance(mark, dict) and mark:
            groups.setdefault(json.dumps(mark, sort_keys=True), (mark, []))[1].append(row)
    return list(groups.values())


def rewritten_payloads(batch: VectorBatch, rows: Sequence[int], current: dict[str, dict | None], document_key: str
                       ) -> list[tuple[Any, dict]]:
    """``(point id, payload)`` for the records at ``rows`` of ``batch``, points that exist whose payload a sync writes
    over (:attr:`VectorStore.rewrites_held_payloads`): the record's payload, with the translation marks the point's
    ``current`` payload (by point id as text) holds of its other vectors kept."""
    out = []
    for row in rows:
        native, keep = to_qdrant_id(batch.ids[row])
        payload = make_payload(batch.metadata[row], batch.documents[row], batch.ids[row] if keep else None,
                               document_key)
        held = (current.get(str(native)) or {}).get(TRANSLATED_KEY)
        marks = {**(held if isinstance(held, dict) else {}), **(payload.get(TRANSLATED_KEY) or {})}
        out.append((native, {**payload, TRANSLATED_KEY: marks} if marks else payload))
    return out


def make_payload(metadata: dict | None, document: str | None, original: PointId | None, document_key: str) -> dict:
    """A record's payload: its metadata, its document at ``document_key`` and, where its id is no Qdrant id, the id.
    A record whose metadata already holds another value at ``document_key`` (a Chroma record with a ``document``
    metadata field beside its document) is refused: one of the two would be lost; so is one whose metadata holds NaN
    or an infinity (Chroma and FAISS keep them, JSON has none: a server refuses them, an edge shard too) or an int
    beyond 64 bits (which a server and an edge shard round to a float)."""
    payload = dict(metadata or {})
    bad = next((k for k, v in payload.items() if _not_json_number(v)), None)
    if bad is not None:
        raise InvalidVectorsError(
            f"a record's metadata field {bad!r} holds NaN, an infinity or an int beyond 64 bits ({payload[bad]!r}), "
            "which a Qdrant payload (JSON) cannot hold as it is (an int beyond 64 bits is rounded to a float): set it "
            "to null, a number or its digits as text in the source (then --resume), or migrate into Chroma or FAISS, "
            "which keep it")
    if ORIGINAL_ID_KEY in payload:  # read back, it would be taken for the record's id
        raise InvalidURIError(
            f"a record's metadata holds a field {ORIGINAL_ID_KEY!r}, which v2v-store keeps a Qdrant point's original id "
            "in: read back, it would replace the record's id. Rename that field in the source")
    if document is not None and not (document_key not in payload and node_text(payload) == document):
        if payload.get(document_key, document) != document:
            raise InvalidURIError(
                f"a record's metadata holds a field {document_key!r} beside its document: written as this Qdrant "
                f"payload, one would overwrite the other. Keep the documents in another payload field: add "
                f"?document_key=NAME to the destination (e.g. ?document_key=text; a field no record's metadata has)")
        payload[document_key] = document
    if original is not None:
        payload[ORIGINAL_ID_KEY] = kept_id(original)
    return payload


# What a new collection copies of its source's vector parameters (never size, distance or multivectors; the storage
# datatype only where it is float16: uint8 storage would round translated unit vectors to nothing)
VECTOR_SETTINGS = ("on_disk", "hnsw_config", "quantization_config", "memory")


def vector_settings(params: dict) -> dict:
    """The settings of one vector's parameters (as JSON) that a new collection's vector copies."""
    out = {k: params[k] for k in VECTOR_SETTINGS if params.get(k) not in (None, {})}
    if str(params.get("datatype") or "").lower() == "float16":
        out["datatype"] = "float16"
    return out


def _quantization(config: dict) -> str:
    kind, params = next(iter(config.items())) if config else ("", {})
    detail = (params or {}).get("type") or (params or {}).get("compression") or ""
    return f"{kind} {detail}".strip()


def _hnsw(config: dict) -> str:
    return ", ".join(f"{k}={config[k]}" for k in ("m", "ef_construct", "on_disk") if config.get(k) is not None)


def plain_vector(vector: Any) -> list[float] | dict[str, list]:
    """A vector as a batch carries it (:attr:`VectorBatch.other_vectors`): a dense one as a list of floats, a sparse
    one as ``{"indices": [...], "values": [...]}``: plain data, which pickles (a batch may go to another process)."""
    if hasattr(vector, "indices"):
        return {"indices": [int(i) for i in vector.indices], "values": [float(v) for v in vector.values]}
    return list(vector)


def point_vectors(name: str | None, vector: list[float], others: dict[str, Any], slots: dict[str, Any],
                  sparse: Any) -> list[float] | dict[str, Any]:
    """What a point is written with: its ``vector``, by ``name`` where it has one or where it brings other vectors
    (``others``, :func:`plain_vector`'s) that the collection has (``slots``), with those (``sparse(indices=,
    values=)``: the backend's sparse vector)."""
    kept = kept_other_vectors(others, slots, sparse, but=name or "")
    return {name or "": vector, **kept} if name or kept else vector


def kept_other_vectors(others: dict[str, Any], slots: dict[str, Any], sparse: Any, but: str | None = None
                       ) -> dict[str, Any]:
    """Of a record's ``others`` (:func:`plain_vector`'s, by name), those the collection has (``slots``) but the one
    named ``but``, as the backend writes them (a sparse one as ``sparse(indices=, values=)``)."""
    return {key: sparse(**v) if isinstance(v, dict) else v for key, v in others.items() if key in slots and key != but}


def points_without_vector(batch: VectorBatch, held: set[str], slots: dict[str, Any], sparse: Any,
                          vector_name: str | None, document_key: str) -> tuple[list[tuple[Any, dict, dict]], list[int]]:
    """What :meth:`VectorStore.write_points_without_vector` writes of ``batch``: each record whose point id is not
    ``held``, as (point id, its other vectors the collection has (``slots``: :func:`kept_other_vectors`), payload),
    and the rows of those records."""
    points, rows = [], []
    for row, (i, m, d) in enumerate(zip(batch.ids, batch.metadata, batch.documents)):
        native, keep = to_qdrant_id(i)
        if str(native) in held:
            continue
        rows.append(row)
        points.append((native, kept_other_vectors(batch.other_vectors[row] if batch.other_vectors else {}, slots,
                                                  sparse, but=vector_name or ""),
                       make_payload(m, d, i if keep else None, document_key)))
    return points, rows


def layout_like(settings: dict[str, Any], vector_name: str | None, where: str) -> tuple[dict[str, Any], str | None]:
    """The settings a new collection (or shard: ``where``) is created with, and its vector's name, where it is set up
    like a source (``settings``: the source's; ``vector_name``: the URI's, None where it names none). The source
    points' other vectors are kept (all but one this vector is named as), and this vector takes the source's name
    unless the URI names it: a point laid out as the source's, so that its readers' queries work unchanged. Beside
    other dense vectors a vector is read only by name: without one in the URI, refused."""
    like = dict(settings)
    others, source_name = dict(like.pop("other_vectors", None) or {}), like.pop("vector_name", None)
    if others and vector_name is None:
        dense = [name for name, config in others.items() if "dense" in config]
        if dense:
            raise InvalidURIError(
                f"the source's points carry other dense vectors ({', '.join(dense)}), which the new {where} keeps "
                f"beside the translated one, so its vector is read by name: add ?vector={source_name or 'NAME'} to "
                "the destination" + (" (the source's name)" if source_name else "") + " (or migrate with "
                "--default-settings to leave them and the source's other settings behind)")
        vector_name = source_name or None
        if vector_name:
            like["vector_name"] = vector_name
    others.pop(vector_name or "", None)  # the translated vector takes that name
    if others:
        like["other_vectors"] = others
    return like, vector_name


# the parameters of another vector that both Qdrant's API and an edge shard's configuration take alike
PORTABLE = {"dense": ("size", "distance", "on_disk", "datatype", "multivector_config"), "sparse": ("modifier",)}


def point_layout(configs: dict[str, dict[str, Any]], vector_name: str | None) -> dict[str, Any]:
    """The settings that lay a point out: its other vectors' parameters (``configs``) and, where it is named, this
    vector's name; none where the points carry no other vector."""
    if not configs:
        return {}
    return {"other_vectors": configs, **({"vector_name": vector_name} if vector_name else {})}


def layout_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """A point's layout (:meth:`VectorStore.layout_settings`) out of a Qdrant collection's or edge shard's settings:
    its other vectors' parameters that both take (:data:`PORTABLE`: not their index or quantization tuning, which
    each writes its own way) and this vector's name."""
    others = {name: {kind: {k: v for k, v in params.items() if k in PORTABLE[kind]} for kind, params in c.items()}
              for name, c in (settings.get("other_vectors") or {}).items()}
    return point_layout(others, settings.get("vector_name"))


def taken_other_vectors(mine: dict[str, dict], configs: dict[str, dict]) -> list[str]:
    """Of ``configs`` (a source's other vectors), the names a collection with other vectors ``mine`` holds alike."""
    return [name for name, config in configs.items() if name in mine and same_slot(mine[name], config)]


def other_vector_configs(dense: dict, sparse: dict, this: str) -> dict[str, dict[str, Any]]:
    """The parameters (as JSON) of a collection's named vectors but ``this`` one, by name: ``{"dense": {...}}`` or
    ``{"sparse": {...}}`` each (``dense`` / ``sparse``: its ``VectorParams`` / ``SparseVectorParams`` by name, or an
    edge shard's configuration of them)."""
    def as_json(params: Any) -> dict:
        return params if isinstance(params, dict) else params.model_dump(mode="json", exclude_none=True)

    return {**{name: {"dense": as_json(params)} for name, params in sorted(dense.items()) if name != this},
            **{name: {"sparse": as_json(params)} for name, params in sorted(sparse.items())}}


def other_vector_names(configs: dict[str, dict[str, Any]]) -> list[str]:
    """``NAME (dense, D-d)`` / ``NAME (multivector, D-d)`` / ``NAME (sparse)`` for each of ``configs``
    (:func:`other_vector_configs`)."""
    def kind(config: dict[str, Any]) -> str:
        return "multivector" if config["dense"].get("multivector_config") else "dense"

    return [f"{name or '(unnamed)'} ({kind(config)}, {config['dense'].get('size')}-d)" if "dense" in config
            else f"{name} (sparse)" for name, config in configs.items()]


def same_slot(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two other vectors' parameters (:func:`other_vector_configs`) take the same vectors: both sparse, or
    dense of one size and distance."""
    if "dense" in a and "dense" in b:
        return all(a["dense"].get(k) == b["dense"].get(k) for k in ("size", "distance", "multivector_config"))
    return "sparse" in a and "sparse" in b


def describe_settings(settings: dict) -> list[str]:
    """One phrase per setting a new Qdrant collection (or edge shard) takes from its source (see ``settings()``)."""
    out, s = [], dict(settings)
    metadata = s.pop("metadata", None)
    if metadata:
        out.append("collection metadata (" + ", ".join(map(str, metadata)) + ")")
    name, others = s.pop("vector_name", None), s.pop("other_vectors", None)
    if name:
        out.append(f"its vector named {name!r} as the source's")
    if others:
        out.append(f"the points' other vectors {', '.join(other_vector_names(others))}, copied as they are")
    vector = s.pop("vector", {})
    if vector.get("on_disk"):
        out.append("vectors on disk")
    if vector.get("datatype"):
        out.append(f"{vector['datatype']} vectors")
    for where, config in (("", s.pop("hnsw_config", None)), ("vector's ", vector.get("hnsw_config"))):
        if config:
            out.append(f"{where}HNSW {_hnsw(config)}")
    for where, config in (("", s.pop("quantization_config", None)), ("vector's ", vector.get("quantization_config"))):
        if config:
            out.append(f"{where}quantization {_quantization(config)}")
    optimizers = {k: v for k, v in (s.pop("optimizers", None) or {}).items() if v is not None}
    if optimizers:
        out.append("optimizers " + ", ".join(f"{k}={v}" for k, v in sorted(optimizers.items())))
    if s.pop("on_disk_payload", None):
        out.append("payload on disk")
    indexes = s.pop("payload_indexes", None)
    if indexes:
        out.append("payload indexes " + ", ".join(f"{name} ({ix['type']})" for name, ix in sorted(indexes.items())))
    if s:
        out.append("shard settings " + ", ".join(f"{k}={v}" for k, v in sorted(s.items())))
    return out


def collection_settings(info, vector_params, server: bool) -> dict[str, Any]:
    """What a new collection copies of a Qdrant collection (``info``: its ``get_collection``) whose vector has
    ``vector_params``: the collection's metadata and the vector's own parameters (on disk, HNSW, quantization, float16
    storage); from a ``server`` also the collection's HNSW, quantization and optimizer configs, payload on disk and
    its payload indexes (local mode keeps none of those: it reports fixed defaults). Not the shard and replica numbers:
    those belong to the destination's cluster."""
    config, out = info.config, {}
    if config.metadata:
        out["metadata"] = dict(config.metadata)
    vector = vector_settings(vector_params.model_dump(mode="json", exclude_none=True))
    if vector:
        out["vector"] = vector
    if server:
        if config.hnsw_config is not None:
            out["hnsw_config"] = config.hnsw_config.model_dump(mode="json", exclude_none=True)
        if config.optimizer_config is not None:
            out["optimizers"] = config.optimizer_config.model_dump(mode="json", exclude_none=True)
        if config.quantization_config is not None:
            out["quantization_config"] = config.quantization_config.model_dump(mode="json", exclude_none=True)
        if config.params.on_disk_payload is not None:
            out["on_disk_payload"] = config.params.on_disk_payload
        indexes = {name: {"type": getattr(ix.data_type, "value", str(ix.data_type)),
                          "schema": ix.params if ix.params is not None else ix.data_type}
                   for name, ix in (info.payload_schema or {}).items()}
        if indexes:
            out["payload_indexes"] = indexes
    return out


# One upsert request carries at most ~REQUEST_BYTES of JSON: a Qdrant server refuses requests past 32 MiB (its
# max_request_size_mb), and a float serialises to ~21 bytes (1,024 points of 1,536 floats: ~33 MB).
REQUEST_BYTES = 8 << 20
FLOAT_JSON_BYTES = 24


def _json_bytes(vector: Any) -> int:
    """About how many bytes of JSON a point's vector (a list of floats, a multivector: a list of them, a sparse vector,
    or a dict of those) takes."""
    if isinstance(vector, dict):
        return sum(_json_bytes(v) for v in vector.values())
    if hasattr(vector, "indices"):  # a SparseVector: an index and a value each
        return (FLOAT_JSON_BYTES + 12) * len(vector.indices)
    if len(vector) and isinstance(vector[0], (list, tuple)):
        return sum(_json_bytes(v) for v in vector)
    return FLOAT_JSON_BYTES * len(vector)


def _requests(items: list[tuple[Any, int]]) -> Iterator[list[Any]]:
    """``items`` (each with its size in bytes) in requests of at most ~REQUEST_BYTES (at least one item each)."""
    request, size = [], 0
    for item, bytes_ in items:
        if request and size + bytes_ > REQUEST_BYTES:
            yield request
            request, size = [], 0
        request.append(item)
        size += bytes_
    if request:
        yield request


@contextlib.contextmanager
def numpy_seeded(seed: int | None) -> Iterator[None]:
    """NumPy's global random state seeded with ``seed`` (fresh where None) inside, and given back as it was after."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _open_client(path: str):
    from qdrant_client import QdrantClient

    try:
        return QdrantClient(path=path)
    except (sqlite3.DatabaseError, ValueError) as e:  # a collection's storage.sqlite or meta.json damaged
        raise UnsupportedIndexError(f"Qdrant local storage {path} cannot be read ({e}): restore it from a backup, or "
                                    "name the directory qdrant-client's local mode wrote (the one with meta.json)"
                                    ) from None
    except RuntimeError as e:
        if "already accessed" not in str(e):
            raise
        raise StoreBusyError(
            f"Qdrant local storage {path} is open in another process (qdrant-client local mode lets one "
            "process use a directory at a time): stop that process or close its QdrantClient, or serve the "
            "collection with a Qdrant server and use qdrant+http://HOST:PORT?collection=NAME") from None


# local mode locks its directory: the stores of one process share a client per directory
_local_clients = SharedHandles(_open_client, lambda client: client.close())


def _is_unreachable(error: BaseException) -> bool:
    """A connection that failed, or credentials the server refused (401/403)."""
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    return isinstance(error, ResponseHandlingException) or (
        isinstance(error, UnexpectedResponse) and error.status_code in (401, 403))


# How long a request to a Qdrant server may take before it is given up on (?timeout=): an upsert of up to ~8 MiB of
# JSON waits for the server to apply it (wait=True), which a busy server may take longer than the client's 5 s for.
REQUEST_TIMEOUT_SECONDS = 60


class QdrantStore(VectorStore):
    def __init__(self, uri: StoreURI, dim: int | None = None, metric: Metric | None = None, new_vector: bool = False):
        from qdrant_client import QdrantClient

        self.uri = uri.raw
        self.collection = uri.require("collection")
        self.vector_name: str | None = uri.params.get("vector") or None
        self.document_key = uri.params.get("document_key", "document")
        if uri.scheme == "qdrant":
            if not os.path.isdir(uri.path) and not os.path.isdir(os.path.dirname(uri.path.rstrip("/")) or "/"):
                raise StoreNotFoundError(f"Qdrant local path {uri.path} does not exist and neither does its parent")
            # a directory without Qdrant's storage (meta.json) gets one at the first write: opening never writes
            self._local_path = uri.path
            self.client = _local_clients.acquire(uri.path) if os.path.isfile(os.path.join(uri.path, "meta.json")) else None
        else:
            self._local_path = None
            http = "https" if uri.scheme.endswith("https") else "http"
            self.client = QdrantClient(  # each request may take ?timeout= seconds (the client's own default: 5)
                url=f"{http}://{uri.host}:{uri.server_port}", api_key=os.environ.get("QDRANT_API_KEY") or None,
                timeout=int(uri.params.get("timeout", REQUEST_TIMEOUT_SECONDS)))
        self.index_type = "qdrant"
        self._requested_dim, self._requested_metric = dim, metric
        self._shared = False
        self._other_configs: dict[str, dict[str, Any]] = {}
        self._new_vector = new_vector
        try:
            self._check_existing(dim, metric)
        except BaseException as e:
            self.close()  # a local directory's shared client is released, so other stores can open it
            if uri.scheme != "qdrant" and _is_unreachable(e):
                raise StoreUnreachableError(
                    f"cannot reach a Qdrant server at {uri.host}:{uri.server_port} ({e}): start it, or check the "
                    f"host, port and QDRANT_API_KEY for {uri.raw!r}" + (
                        " (a busy server: a longer ?timeout= than "
                        f"{uri.params.get('timeout', REQUEST_TIMEOUT_SECONDS)} s)" if "timed out" in str(e) else "")
                ) from None
            raise

    def _check_existing(self, dim: int | None, metric: Metric | None) -> None:
        self._params = self._vector_params() if self.exists() else None
        if self._params is not None:
            if dim is not None and dim != self.dim:
                raise DimensionMismatchError(
                    f"dimension mismatch: Qdrant collection {self.collection!r} has d={self.dim}, expected d={dim}"
                )
            if metric is not None and metric != self.metric:
                raise DimensionMismatchError(
                    f"metric mismatch: Qdrant collection {self.collection!r} ranks by {self.metric.value}, "
                    f"expected {metric.value}"
                )

    def exists(self) -> bool:
        return not self.adds_vector and self.client is not None and self.client.collection_exists(self.collection)

    def _vector_params(self):
        params = self.client.get_collection(self.collection).config.params
        vectors = params.vectors
        # other vectors on the same points (named ones, sparse ones): a point is then more than this vector, so
        # writes update this vector only and reads and counts see the points that have it
        self._shared = (isinstance(vectors, dict) and len(vectors) > 1) or bool(params.sparse_vectors)
        if vectors is None or (isinstance(vectors, dict) and not vectors):
            sparse = sorted(params.sparse_vectors or {})
            raise UnsupportedIndexError(
                f"Qdrant collection {self.collection!r} has no dense vectors"
                + (f" (only sparse ones: {', '.join(sparse)})" if sparse else "")
                + ": v2v-store translates dense embeddings; give a collection of them")
        if isinstance(vectors, dict):
            if self.vector_name is None:
                if len(vectors) == 1:
                    self.vector_name = next(iter(vectors))
                else:
                    raise InvalidURIError(
                        f"Qdrant collection {self.collection!r} has named vectors {sorted(vectors)}: "
                        "choose one with ?vector=NAME"
                    )
            if self.vector_name not in vectors and self._new_vector:  # its first write adds it to the points
                self.adds_vector, self._shared = True, True
                return None
            if self.vector_name not in vectors:
                sparse = f" (sparse: {sorted(params.sparse_vectors)})" if params.sparse_vectors else ""
                raise InvalidURIError(
                    f"Qdrant collection {self.collection!r} has no vector named {self.vector_name!r}; "
                    f"it has {sorted(vectors)}{sparse}"
                    + (": v2v-store reads dense vectors" if self.vector_name in (params.sparse_vectors or {}) else "")
                )
            chosen = vectors[self.vector_name]
        elif self.vector_name:
            raise InvalidURIError(f"Qdrant collection {self.collection!r} has one unnamed vector: drop ?vector=")
        else:
            chosen = vectors
        self._other_configs = other_vector_configs(vectors if isinstance(vectors, dict) else {},
                                                   params.sparse_vectors or {}, self.vector_name or "")
        if chosen.multivector_config is not None:
            raise UnsupportedIndexError(
                f"Qdrant collection {self.collection!r}{f' vector {self.vector_name!r}' if self.vector_name else ''} "
                "holds multivectors (a matrix per point, late-interaction models such as ColBERT): v2v-store "
                "translates one dense embedding per record; give a collection (or ?vector=NAME) of single vectors")
        return chosen

    def missing(self) -> str:
        if self.client is None:
            return f"{self._local_path} holds no Qdrant storage (meta.json); fix the path"
        if self.adds_vector:
            return f"its points have no vector {self.vector_name!r} yet"
        names = sorted(c.name for c in self.client.get_collections().collections)
        return (f"no collection {self.collection!r} there; its collections: {', '.join(names)}" if names else
                "it holds no collection; check the path or server")

    def _require(self):
        if self._params is None or self.adds_vector:
            raise StoreNotFoundError(f"Qdrant collection {self.collection!r} does not exist at {self.uri}: "
                                     + self.missing())
        return self._params

    @property
    def dim(self) -> int:
        if self._params is None and self._requested_dim is not None:
            return self._requested_dim
        return self._require().size

    @property
    def metric(self) -> Metric:
        if self._params is None:
            return self._requested_metric or Metric.COSINE
        from qdrant_client.models import Distance

        # Manhattan (L1): no metric of v2v-store's; a distance as L2 is (lower ranks higher: its scores negated)
        return {Distance.COSINE: Metric.COSINE, Distance.DOT: Metric.DOT, Distance.EUCLID: Metric.L2,
                Distance.MANHATTAN: Metric.L2}.get(self._params.distance, Metric.DOT)

    def warnings(self) -> list[str]:
        from qdrant_client.models import Distance

        manhattan = self._params is not None and self._params.distance == Distance.MANHATTAN
        return [MANHATTAN_WARNING] if manhattan else []

    def _with_vector(self):
        """The points that have this vector, where points may have others (None: every point has it)."""
        from qdrant_client.models import Filter, HasVectorCondition

        return Filter(must=[HasVectorCondition(has_vector=self.vector_name or "")]) if self._shared else None

    def count(self) -> int:
        if self._params is None:
            return 0
        return self.client.count(self.collection, count_filter=self._with_vector(), exact=True).count

    def count_without_vector(self) -> int:
        if self._params is None or not self._shared:
            return 0
        return self.client.count(self.collection, exact=True, count_filter=self._without_vector()).count

    def _without_vector(self):
        from qdrant_client.models import Filter, HasVectorCondition

        return Filter(must_not=[HasVectorCondition(has_vector=self.vector_name or "")])

    def iter_batches(self, batch_size: int = 1024, start: Any = None, with_payload: bool = True
                     ) -> Iterator[VectorBatch]:
        self._require()
        yield from self._pages(self._with_vector(), batch_size, start, self._vector_of, self._others_read(with_payload),
                               **self._reading(with_payload))

    def iter_points_without_vector(self, batch_size: int = 1024, start: Any = None) -> Iterator[VectorBatch]:
        if self._params is None or not self._shared:
            return
        others = self._others_read(True)
        yield from self._pages(self._without_vector(), batch_size, start, lambda record: [], others,
                               with_payload=True, with_vectors=list(others) or False)

    def _pages(self, scroll_filter, batch_size: int, start: Any, vector_of, others: Sequence[str], **reading
               ) -> Iterator[VectorBatch]:
        """The points that pass ``scroll_filter``, page by page from ``start`` (a point id), read as ``reading``
        asks (``with_payload`` / ``with_vectors``)."""
        offset, first = start, True
        while first or offset is not None:
            first = False
            records, offset = self.client.scroll(self.collection, scroll_filter=scroll_filter, limit=batch_size,
                                                 offset=offset, **reading)
            if not records:
                return
            yield records_to_batch(records, vector_of, self.document_key,
                                   next_position=from_qdrant_id(offset) if offset is not None else None, others=others)

    def _reading(self, with_payload: bool) -> dict:
        """What a read asks for of each point: the payload (else only the id v2v may keep there) and this vector
        (with the other vectors asked for, :attr:`read_other_vectors`, where the payload is read)."""
        others = list(self._others_read(with_payload))
        return {"with_payload": True if with_payload else [ORIGINAL_ID_KEY],
                "with_vectors": [self.vector_name or ""] + others if self.vector_name or self._shared else True}

    def _vector_of(self, record) -> list[float]:
        v = record.vector
        return v[self.vector_name or ""] if isinstance(v, dict) else v

    draws_at_random = True

    def random_batch(self, size: int, with_payload: bool = True, seed: int | None = None) -> VectorBatch:
        """Qdrant's random sample query (a server from 1.11; local mode): distinct points, any id order. A server that
        refuses the query (an older one) raises NotImplementedError, so that the sample is read another way. Local
        mode draws with NumPy's global random state: it is seeded with ``seed`` for the query and given back as it was
        (the caller's random numbers untouched, the sample the same each time)."""
        from qdrant_client.http.exceptions import UnexpectedResponse
        from qdrant_client.models import Sample, SampleQuery

        self._require()
        try:
            with numpy_seeded(seed) if self._local_path is not None else contextlib.nullcontext():
                points = self.client.query_points(
                    self.collection, query=SampleQuery(sample=Sample.RANDOM), query_filter=self._with_vector(),
                    limit=size, **self._reading(with_payload)).points
        except UnexpectedResponse as error:
            if error.status_code not in (400, 404, 422):
                raise
            raise NotImplementedError(f"the Qdrant server refused a random sample query ({error})") from error
        return records_to_batch(points, self._vector_of, self.document_key, others=self._others_read(with_payload))

    def fetch(self, ids) -> list[tuple[dict | None, str | None]]:
        self._require()
        natives = [to_qdrant_id(i)[0] for i in ids]
        records = [r for start in range(0, len(natives), 1024)
                   for r in self.client.retrieve(self.collection, natives[start:start + 1024], with_payload=True,
                                                 with_vectors=False)]
        return records_by_id(records, natives, self.document_key)

    def id_key(self, record_id: PointId) -> int | str:
        return to_qdrant_id(record_id)[0]  # the point id (a string id is a UUID of it, the id kept in the payload)

    def iter_keys(self, batch_size: int = 16_384) -> Iterator[list[int | str]]:
        """The point ids alone, no payload (reading the payloads' id key means reading whole payloads: documents
        too), in pages of 16,384 by default."""
        self._require()
        offset, first = None, True
        while first or offset is not None:
            first = False
            records, offset = self.client.scroll(self.collection, scroll_filter=self._with_vector(), limit=batch_size,
                                                 offset=offset, with_payload=False, with_vectors=False)
            if not records:
                return
            yield [from_qdrant_id(r.id) for r in records]

    def _matching(self, where: Where) -> Any:
        from qdrant_client import models

        return qdrant_filter(where, models, models.Range, self._with_vector())

    def count_where(self, where: Where) -> int:
        self._require()
        return self.client.count(self.collection, count_filter=self._matching(where), exact=True).count

    def filtered_batches(self, where: Where, batch_size: int = 1024, start: Any = None, with_payload: bool = True
                         ) -> Iterator[VectorBatch]:
        self._require()
        yield from self._pages(self._matching(where), batch_size, start, self._vector_of,
                               self._others_read(with_payload), **self._reading(with_payload))

    def ids_where(self, where: Where) -> list[PointId]:
        self._require()
        matching = self._matching(where)
        return scrolled_ids(lambda offset: self.client.scroll(
            self.collection, scroll_filter=matching, limit=16_384, offset=offset, with_payload=[ORIGINAL_ID_KEY],
            with_vectors=False))

    def ids_where_each(self, wheres: Sequence[Where]) -> list[list[PointId]]:
        return [self.ids_where(where) for where in wheres]  # each filtered in the engine

    def records_of_keys(self, keys, with_payload: bool = True) -> Iterator[VectorBatch]:
        self._require()
        wanted = list(keys)
        for start in range(0, len(wanted), 1024):
            records = self.client.retrieve(self.collection, wanted[start:start + 1024], **self._reading(with_payload))
            yield from points_to_batches(records, self._vector_of, self.document_key,
                                         self.vector_name or "" if self._shared else None,
                                         self._others_read(with_payload))

    def holds(self, ids) -> np.ndarray:
        if self._params is None:
            return np.zeros(len(ids), dtype=bool)
        natives, name = [to_qdrant_id(i)[0] for i in ids], self.vector_name or ""
        records = [r for start in range(0, len(natives), 1024)
                   for r in self.client.retrieve(self.collection, natives[start:start + 1024],
                                                 with_payload=[ORIGINAL_ID_KEY],
                                                 with_vectors=[name] if self._shared else False)]
        return held_among(records, natives, ids, name if self._shared else None)

    def settings(self) -> dict[str, Any]:
        """See :func:`collection_settings`; where the points carry other vectors, their parameters
        (``other_vectors``) and, where it is named, this vector's name (``vector_name``): the layout of a point."""
        self._require()
        return {**collection_settings(self.client.get_collection(self.collection), self._params,
                                      server=self._local_path is None),
                **point_layout(self._other_configs, self.vector_name)}

    describe_settings = staticmethod(describe_settings)
    point_layout = "qdrant"
    layout_settings = staticmethod(layout_settings)

    def other_vectors(self) -> list[str]:
        return other_vector_names(self.other_vector_configs())

    def other_vector_configs(self) -> dict[str, dict[str, Any]]:
        return self._other_configs if self._params is not None else {}

    def takes_other_vectors(self, configs: dict[str, dict[str, Any]]) -> list[str]:
        return taken_other_vectors(self._other_configs if self._params is not None
                                   else self._like.get("other_vectors") or {}, configs)

    def create_like(self, settings: dict[str, Any]) -> list[str]:
        """As :meth:`VectorStore.create_like`, the points laid out as the source's (:func:`layout_like`: its other
        vectors kept, its vector's name taken where ``?vector=`` names none). A vector added to an existing
        collection (:attr:`adds_vector`) takes its size and distance only."""
        if self.adds_vector:
            return []
        self._like, self.vector_name = layout_like(settings, self.vector_name, f"collection {self.collection!r}")
        return describe_settings(self._like)

    def _create(self, dim: int) -> None:
        from pydantic import TypeAdapter
        from qdrant_client import models

        like = self._like
        metric = self._requested_metric or Metric.COSINE
        distance = {Metric.COSINE: models.Distance.COSINE, Metric.DOT: models.Distance.DOT,
                    Metric.L2: models.Distance.EUCLID}[metric]
        if self.adds_vector:  # a vector added to an existing collection's points (a Qdrant server: 1.18 or later)
            logger.info("adding vector %r to Qdrant collection %r (d=%d, metric=%s)", self.vector_name,
                        self.collection, dim, metric.value)
            try:
                self.client.create_vector_name(self.collection, self.vector_name, models.DenseVectorNameConfig(
                    dense=models.DenseVectorConfig(size=dim, distance=distance)), wait=True)
            except Exception as e:
                from qdrant_client.http.exceptions import UnexpectedResponse

                if not isinstance(e, UnexpectedResponse) or e.status_code not in (400, 404, 405):
                    raise
                raise UnsupportedIndexError(
                    f"the Qdrant server at {self.uri} did not add vector {self.vector_name!r} to collection "
                    f"{self.collection!r} ({e.status_code}: adding a named vector to a collection needs Qdrant 1.18 "
                    "or later): upgrade the server, or migrate into a new collection (another ?collection=)") from None
            self.adds_vector = False
            self._params = self._vector_params()
            return
        params = models.VectorParams(size=dim, distance=distance, **like.get("vector", {}))
        extra: dict[str, Any] = {"metadata": like.get("metadata")}
        if like.get("hnsw_config"):
            extra["hnsw_config"] = models.HnswConfigDiff(**like["hnsw_config"])
        if like.get("optimizers"):
            extra["optimizers_config"] = models.OptimizersConfigDiff(**like["optimizers"])
        if like.get("quantization_config"):
            extra["quantization_config"] = TypeAdapter(models.QuantizationConfig).validate_python(
                like["quantization_config"])
        if like.get("on_disk_payload") is not None:
            extra["on_disk_payload"] = like["on_disk_payload"]
        others = like.get("other_vectors") or {}
        dense = {name: models.VectorParams(**c["dense"]) for name, c in others.items() if "dense" in c}
        sparse = {name: models.SparseVectorParams(**c["sparse"]) for name, c in others.items() if "sparse" in c}
        if sparse:
            extra["sparse_vectors_config"] = sparse
        logger.info("creating Qdrant collection %r (d=%d, metric=%s%s)", self.collection, dim, metric.value,
                    "; like its source: " + "; ".join(describe_settings(like)) if like else "")
        if self.client is None:  # a local directory without Qdrant's storage yet
            self.client = _local_clients.acquire(self._local_path)
        try:
            self.client.create_collection(self.collection, vectors_config={self.vector_name: params, **dense}
                                          if self.vector_name else params, **extra)
        except Exception as e:
            if "already exists" not in str(e):
                raise
            logger.info("Qdrant collection %r was created meanwhile by another writer: writing into it",
                        self.collection)
            self._check_existing(dim, metric)  # as the other writer made it: refused where it differs
            return
        for name, index in (like.get("payload_indexes") or {}).items():
            self.client.create_payload_index(self.collection, name, field_schema=index["schema"], wait=True)
        self._params = self._vector_params()

    def upsert(self, batch: VectorBatch) -> None:
        from qdrant_client.models import PointStruct

        batch = check_batch(batch, self.dim if self._params is not None or self._requested_dim else batch.vectors.shape[1])
        if self._params is None:
            self._create(self._requested_dim or batch.vectors.shape[1])
        vectors = prepare_for_metric(batch.vectors, self.metric)
        if self._shared:
            vectors, batch = self._update_held_points(batch, vectors)
        points = []
        for row, (i, m, d) in enumerate(zip(batch.ids, batch.metadata, batch.documents)):
            native, keep = to_qdrant_id(i)
            payload = make_payload(m, d, i if keep else None, self.document_key)
            point = PointStruct(id=native, vector=self._point_vectors(batch, vectors, row), payload=payload)
            points.append((point, _json_bytes(point.vector) + len(json.dumps(payload, default=str)) + 64))
        for request in _requests(points):
            self.client.upsert(self.collection, points=request, wait=True)

    def write_points_without_vector(self, batch: VectorBatch, keep_held: bool = False) -> VectorBatch:
        from qdrant_client.models import PointStruct, SparseVector

        if self._params is None:
            self._create(self.dim)
        held = {str(r.id) for r in self.client.retrieve(self.collection, [to_qdrant_id(i)[0] for i in batch.ids],
                                                        with_payload=False, with_vectors=False)} if keep_held else set()
        bare, rows = points_without_vector(batch, held, self._other_configs, SparseVector, self.vector_name,
                                           self.document_key)
        points = [(PointStruct(id=native, vector=vector, payload=payload),
                   _json_bytes(vector) + len(json.dumps(payload, default=str)) + 64) for native, vector, payload in bare]
        for request in _requests(points):
            self.client.upsert(self.collection, points=request, wait=True)
        return batch.select(rows)

    def _point_vectors(self, batch: VectorBatch, vectors: np.ndarray, row: int) -> list[float] | dict[str, Any]:
        """What a point of ``batch`` is written with (:func:`point_vectors`): this vector, ``vectors[row]``, and the
        other vectors the record brings that this collection has."""
        from qdrant_client.models import SparseVector

        return point_vectors(self.vector_name, vectors[row].tolist(),
                             batch.other_vectors[row] if batch.other_vectors else {}, self._other_configs, SparseVector)

    def _update_held_points(self, batch: VectorBatch, vectors: np.ndarray) -> tuple[np.ndarray, VectorBatch]:
        """Where points carry other vectors too: set this vector (and the other vectors the records bring) on the
        batch's points that exist (their other vectors and payload kept: the point is one document, this vector one
        of its embeddings; but a sync's records bring their payload: :attr:`rewrites_held_payloads`); returns the rest,
        new points, to upsert whole."""
        from qdrant_client.models import OverwritePayloadOperation, PointVectors, SetPayload, SetPayloadOperation

        natives = [to_qdrant_id(i)[0] for i in batch.ids]
        found = self.client.retrieve(self.collection, natives, with_payload=self.rewrites_held_payloads,
                                     with_vectors=False)
        held = {str(r.id): r.payload for r in found}
        is_held = np.array([str(n) in held for n in natives], dtype=bool)
        # first: no translation left unmarked (a sync: the whole payload written over); in few requests
        if self.rewrites_held_payloads:
            payloads = [(OverwritePayloadOperation(overwrite_payload=SetPayload(payload=payload, points=[native])),
                         len(json.dumps(payload, default=str)) + 64)
                        for native, payload in rewritten_payloads(batch, np.flatnonzero(is_held), held,
                                                                  self.document_key)]
        else:
            payloads = [(SetPayloadOperation(set_payload=SetPayload(payload=mark, points=[natives[r] for r in rows],
                                                                    key=TRANSLATED_KEY)),
                         len(json.dumps(mark, default=str)) + 16 * len(rows) + 64)
                        for mark, rows in held_marks(batch, np.flatnonzero(is_held))]
        for request in _requests(payloads):
            self.client.batch_update_points(self.collection, update_operations=request, wait=True)
        updates = []
        for r in np.flatnonzero(is_held):
            vector = self._point_vectors(batch, vectors, r)
            vector = vector if isinstance(vector, dict) else {"": vector}
            updates.append((PointVectors(id=natives[r], vector=vector), _json_bytes(vector) + 64))
        for request in _requests(updates):
            self.client.update_vectors(self.collection, wait=True, points=request)
        new = np.flatnonzero(~is_held)
        return vectors[new], batch.select(new)

    def delete(self, ids) -> None:
        from qdrant_client.models import PointIdsList

        if not len(ids):  # an empty request is refused
            return
        selector = PointIdsList(points=[to_qdrant_id(i)[0] for i in ids])
        if self._shared:  # the points keep their other vectors
            self.client.delete_vectors(self.collection, vectors=[self.vector_name or ""], points=selector)
        else:
            self.client.delete(self.collection, points_selector=selector)

    def drop(self, other_vectors_too: bool = False) -> None:
        """Delete the collection, or where its points carry other vectors too, this vector from every point (unless
        ``other_vectors_too``)."""
        from qdrant_client.models import FilterSelector

        if self.exists() and self._params is not None and self._shared and not other_vectors_too:
            self.client.delete_vectors(self.collection, vectors=[self.vector_name or ""],
                                       points=FilterSelector(filter=self._with_vector()), wait=True)
            return
        if self.exists():
            self.client.delete_collection(self.collection)
        self._params = None

    def search(self, queries: np.ndarray, k: int, where: Where | None = None
               ) -> tuple[np.ndarray, list[list[PointId]]]:
        if where is not None and self._local_path is not None:
            # local mode tests the filter in Python on every point for every query (2,048 queries over 35,802 points:
            # killed after 4 minutes here); one read of the collection serves them all
            return self.search_where(queries, k, where)
        return self.engine_search(queries, k, where)

    def engine_search(self, queries: np.ndarray, k: int, where: Where | None = None
                      ) -> tuple[np.ndarray, list[list[PointId]]]:
        """:meth:`search` by the engine's query, the filter applied there (a server's path; local mode's too)."""
        from qdrant_client import models

        self._require()
        queries = check_vectors(queries, self.dim, "queries")
        matching = qdrant_filter(where, models, models.Range)
        requests = [
            models.QueryRequest(query=q.tolist(), using=self.vector_name, limit=k, with_payload=[ORIGINAL_ID_KEY],
                                filter=matching)
            for q in queries
        ]
        responses = self.client.query_batch_points(self.collection, requests=requests)
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids: list[list[PointId]] = []
        for row, resp in enumerate(responses):
            row_ids = []
            for j, p in enumerate(resp.points):
                pid, _ = restore_id(from_qdrant_id(p.id), p.payload)
                row_ids.append(pid)
                scores[row, j] = -p.score**2 if self.metric == Metric.L2 else p.score
            ids.append(row_ids)
        return scores, ids

    def close(self) -> None:
        if self.client is None:
            return
        if self._local_path is None:
            self.client.close()
        else:  # shared with the directory's other stores: the last one closes it
            _local_clients.release(self._local_path)
        self.client = None
