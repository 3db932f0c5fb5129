"""Chroma collections: embedded (``chroma:///abs/dir?collection=NAME``, a PersistentClient) or a
server (``chroma+http://host:port?collection=NAME``, an HttpClient). Same calls for both.

Chroma's default embedding function downloads a model, so it is never used: vectors are always
passed in and collections are opened with ``embedding_function=None``. Ids are strings in Chroma;
int ids are written as their decimal string with the int kept in metadata (``_v2v_id``) and
restored on read. Metadata values Chroma cannot hold or would change (nested objects, None, empty or mixed lists,
as Qdrant payloads have; NaN, ints beyond 64 bits) are kept as JSON text, their keys listed under ``_v2v_json``, and
entries under keys Chroma refuses or drops (``$...``, ``#...``, ``chroma:...``) as one JSON object under
``_v2v_entries``; both are restored on read.
Writes go in batches no larger than ``get_max_batch_size()``. Cosine collections
are written with L2-normalised vectors, like the other connectors.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import threading
import time
from itertools import repeat
from typing import Any, Iterator, Sequence

import numpy as np

from v2v_store.errors import (DimensionMismatchError, InvalidVectorsError, StoreChangedError, StoreNotFoundError,
                              StoreUnreachableError, UnsupportedIndexError)

from .base import (
    ORIGINAL_ID_KEY,
    Metric,
    PointId,
    VectorBatch,
    VectorStore,
    check_batch,
    check_vectors,
    past_int64,
    prepare_for_metric,
    restore_id,
)
from .shared import ProcessLock, hold_writer_lock, lock_file
from .uri import StoreURI
from .where import Where

logger = logging.getLogger(__name__)
_SPACES = {"cosine": Metric.COSINE, "ip": Metric.DOT, "l2": Metric.L2}
# a new collection's HNSW parameters (chromadb 1.x): a migration's plan names those its source changed
_HNSW_DEFAULTS = {"ef_construction": 100, "ef_search": 100, "max_neighbors": 16, "resize_factor": 1.2,
                  "sync_threshold": 1000}


# Metadata values Chroma cannot hold (nested objects, None, empty or mixed lists: common in Qdrant payloads, e.g.
# LangChain's nested ``metadata``) or would change (ints beyond 64 bits, NaN and infinities) are stored as JSON text,
# their keys listed under this key, and restored on read.
JSON_KEYS = "_v2v_json"
# Entries whose key Chroma refuses (empty, starting with $ or #) or drops (starting with ``chroma:``), and those whose
# key is one of v2v's own, are stored together as one JSON object under this key, and restored on read.
ENTRIES_KEY = "_v2v_entries"
RESERVED_KEYS = (JSON_KEYS, ENTRIES_KEY, ORIGINAL_ID_KEY)
EMPTY_ID = "_v2v_empty_id"  # the Chroma id of a record whose id is "" (Chroma refuses it), kept under ORIGINAL_ID_KEY
_RECORD_FIELDS = ("ids", "embeddings", "metadatas", "documents", "uris", "data")  # a get()'s per-record lists
ID_PAGE = 65_536  # records_at: ids read (ids only) a page of this many at a time
GET_TRIES = 5  # a read that meets a record deleted meanwhile (a live collection) is asked again this many times


class _WriterLocks:
    """The writer lock of each embedded Chroma database (directory) this process writes: held from a store's first write
    until the last store of the process writing it is closed. Chroma's embedded mode takes one process at a time: two
    migrations into one database from two processes both reported every record written, and left a collection Chroma
    could no longer read ("Error getting embedding"). Stores of one process share the database, so share its lock."""

    def __init__(self) -> None:
        self._held: dict[str, tuple[ProcessLock, int]] = {}
        self._mutex = threading.Lock()  # the stores of a process's threads

    def claim(self, directory: str) -> None:
        directory = os.path.realpath(directory)
        with self._mutex:
            if directory in self._held:
                lock, users = self._held[directory]
                self._held[directory] = (lock, users + 1)
                return
            lock = ProcessLock(lock_file("chroma-" + hashlib.sha1(directory.encode()).hexdigest()[:16]))
            hold_writer_lock(lock, f"Chroma database {directory}",
                             "Chroma's embedded mode takes one process at a time, and two writing at once leave a "
                             "collection it cannot read. Wait for it to finish and run again (a migration: with "
                             f"--resume where it had begun), or serve the database (`chroma run --path {directory}`) "
                             "and write through chroma+http://HOST:PORT")
            self._held[directory] = (lock, 1)

    def release(self, directory: str) -> None:
        directory = os.path.realpath(directory)
        with self._mutex:
            lock, users = self._held.pop(directory, (None, 0))
            if users > 1:
                self._held[directory] = (lock, users - 1)
            elif lock is not None:
                lock.release()


_WRITERS = _WriterLocks()


def _get(col: Any, **kwargs: Any) -> dict:
    """``col.get(**kwargs)``, asked again where a record of its answer was deleted while Chroma read it ("Error
    finding id": 2 of 16 migrations out of a Chroma server that another client deleted from, by hand); refused with the
    way on where that goes on."""
    from chromadb.errors import InternalError

    for attempt in range(GET_TRIES):
        try:
            return col.get(**kwargs)
        except InternalError as e:
            if "Error finding id" not in str(e):
                raise
            logger.debug("Chroma collection %r: a record was deleted while read; asking again", col.name)
            time.sleep(0.05 * 2 ** attempt)
    raise StoreChangedError(
        f"Chroma collection {col.name!r} changed while it was read: records were deleted under each of "
        f"{GET_TRIES} reads of one page. Stop writes to it and run again (a migration: with --resume)")


def _chroma_keeps_key(key: str) -> bool:
    return bool(key) and not key.startswith(("$", "#", "chroma:")) and key not in RESERVED_KEYS


def _chroma_keeps_value(value: Any) -> bool:
    """Whether Chroma holds ``value`` and reads it back unchanged."""
    if isinstance(value, (str, bool)):
        return True
    if isinstance(value, int):
        return -2 ** 63 <= value < 2 ** 63
    if isinstance(value, float):
        return math.isfinite(value)
    return (isinstance(value, list) and bool(value) and isinstance(value[0], (str, bool, int, float))
            and all(type(v) is type(value[0]) and _chroma_keeps_value(v) for v in value))


def _chroma_id(record_id: PointId) -> str:
    """A record's Chroma id: its text (an int's digits), or for "" (which Chroma refuses) :data:`EMPTY_ID`."""
    return EMPTY_ID if record_id == "" else str(record_id)


def _restore_id(native_id: str, metadata: dict | None) -> tuple:
    """:func:`~v2v_store.connectors.base.restore_id` of a Chroma record: the original id v2v keeps beside a Chroma id
    is an int, a text one of digits where it is past int64. A Chroma id with no original kept is the record's id as it
    is: text, digits or not ("0007" stays "0007")."""
    kept = bool(metadata) and ORIGINAL_ID_KEY in metadata
    original, metadata = restore_id(native_id, metadata)
    wide = kept and isinstance(original, str) and original.lstrip("-").isdigit()
    return (int(original) if wide else original), metadata


def to_chroma_metadata(metadata: dict | None) -> dict | None:
    """``metadata`` as Chroma holds it unchanged: values it cannot hold as JSON text (see ``JSON_KEYS``), entries whose
    key it cannot hold in one JSON object (see ``ENTRIES_KEY``)."""
    entries = {k: v for k, v in (metadata or {}).items() if not _chroma_keeps_key(k)}
    encoded = [k for k, v in (metadata or {}).items() if k not in entries and not _chroma_keeps_value(v)]
    if not entries and not encoded:
        return metadata
    out = {k: json.dumps(v, default=str) if k in encoded else v for k, v in metadata.items() if k not in entries}
    if encoded:
        out[JSON_KEYS] = json.dumps(encoded)
    if entries:
        out[ENTRIES_KEY] = json.dumps(entries, default=str)
    return out


def from_chroma_metadata(metadata: dict | None) -> dict | None:
    """Undo :func:`to_chroma_metadata`. A value set since by another tool (Chroma's ``update`` merges metadata, leaving
    the list of encoded keys as it was) is read as it is where it is no JSON text."""
    if not metadata or not (JSON_KEYS in metadata or ENTRIES_KEY in metadata):
        return metadata
    metadata = dict(metadata)
    keys = _json_or(metadata.pop(JSON_KEYS, "[]"), [])
    for key in keys if isinstance(keys, list) else []:
        if isinstance(metadata.get(key), str):
            metadata[key] = _json_or(metadata[key], metadata[key])
    entries = _json_or(metadata.pop(ENTRIES_KEY, "{}"), {})
    metadata.update(entries if isinstance(entries, dict) else {})
    return metadata or None


def _json_or(text: Any, default: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return default


def make_client(uri: StoreURI):
    import chromadb
    from chromadb.config import DEFAULT_DATABASE, DEFAULT_TENANT, Settings
    from chromadb.errors import InternalError, NotFoundError

    settings = Settings(anonymized_telemetry=False)  # and Chroma's own CHROMA_CLIENT_AUTH_* from the environment
    api_key = os.environ.get("CHROMA_API_KEY")
    if uri.scheme != "chroma" and api_key and not settings.chroma_client_auth_provider:  # as Chroma Cloud takes it
        settings.chroma_client_auth_provider = "chromadb.auth.token_authn.TokenAuthClientProvider"
        settings.chroma_client_auth_credentials = api_key
        settings.chroma_auth_token_transport_header = settings.chroma_auth_token_transport_header or "X-Chroma-Token"
    tenant, database = uri.params.get("tenant", DEFAULT_TENANT), uri.params.get("database", DEFAULT_DATABASE)
    try:
        if uri.scheme == "chroma":
            try:
                return chromadb.PersistentClient(path=uri.path, settings=settings, tenant=tenant, database=database)
            except InternalError as e:  # its chroma.sqlite3 is damaged, or no SQLite database at all
                raise UnsupportedIndexError(
                    f"{uri.path} is no readable Chroma database ({e}): restore it from a backup, or name the "
                    "directory that holds the collection's chroma.sqlite3") from None
        return chromadb.HttpClient(host=uri.host, port=uri.server_port, ssl=uri.scheme.endswith("https"),
                                   settings=settings, tenant=tenant, database=database)
    except NotFoundError as e:
        raise StoreNotFoundError(
            f"Chroma at {uri.raw!r}: {e} Check ?tenant= and ?database= (defaults {DEFAULT_TENANT!r}, "
            f"{DEFAULT_DATABASE!r}); a database is created with chromadb.AdminClient().create_database(NAME)") from None
    except ValueError as e:  # chromadb's way of saying the heartbeat failed
        if any(word in str(e) for word in ("Unauthorized", "Forbidden", "401", "403")):
            raise StoreUnreachableError(
                f"the Chroma server at {uri.host}:{uri.server_port} refused the credentials ({str(e)[:160]}): "
                + ("check CHROMA_API_KEY (sent as its X-Chroma-Token header)" if api_key else
                   "set CHROMA_API_KEY to its token (sent as the X-Chroma-Token header, as Chroma Cloud takes it), or "
                   "Chroma's own CHROMA_CLIENT_AUTH_PROVIDER / CHROMA_CLIENT_AUTH_CREDENTIALS")) from None
        if "connect" not in str(e).lower():
            raise
        raise StoreUnreachableError(
            f"cannot reach a Chroma server at {uri.host}:{uri.server_port} ({e}): start it (`chroma run --path DIR "
            f"--host {uri.host} --port {uri.server_port}`) or check the host and port in {uri.raw!r}") from None


class ChromaStore(VectorStore):
    reads_at_positions = True  # by id: the ids at those offsets read first (ids only), then their records

    def __init__(self, uri: StoreURI, dim: int | None = None, metric: Metric | None = None):
        self.uri = uri.raw
        self.name = uri.require("collection")
        if not 3 <= len(self.name) <= 512:
            raise InvalidVectorsError(f"Chroma collection names need 3-512 characters, got {self.name!r}")
        self.index_type = "chroma-hnsw"
        self._parsed = uri
        self._writing = False  # holds the embedded database's writer lock (_claim)
        # An embedded store whose directory holds no Chroma database yet is created by the first upsert, so that
        # opening a mistyped path to read it never leaves a directory or a chroma.sqlite3 behind.
        embedded = os.path.isfile(os.path.join(uri.path, "chroma.sqlite3")) if uri.scheme == "chroma" else True
        self.client = make_client(uri) if embedded else None
        self._requested_dim, self._requested_metric = dim, metric
        self._col = self._get() if self.exists() else None
        if self._col is not None:
            self._check_readable()
        self._dim: int | None = None
        self._max_batch_size: int | None = None
        if self._col is not None:
            self._check_settings(dim, metric)

    def _check_settings(self, dim: int | None, metric: Metric | None) -> None:
        """Refuse the collection where its metric or (once it holds records) dimension is not the one asked for."""
        if metric is not None and metric != self.metric:
            raise DimensionMismatchError(
                f"metric mismatch: Chroma collection {self.name!r} ranks by {self.metric.value}, expected {metric.value}"
            )
        if dim is not None and self.count() and dim != self.dim:
            raise DimensionMismatchError(f"dimension mismatch: Chroma collection {self.name!r} has d={self.dim}, expected d={dim}")

    def _get(self):
        return self.client.get_collection(self.name, embedding_function=None)

    def _check_readable(self) -> None:
        """Refuse, with the way on, a collection whose index files Chroma cannot read (its HNSW segment cut short: one
        written as its disk filled up), rather than failing at its first read with Chroma's own error."""
        from chromadb.errors import InternalError

        try:
            self._col.count()
        except InternalError as e:
            if "segment reader" not in str(e) and "deserializ" not in str(e):
                raise
            raise UnsupportedIndexError(
                f"Chroma collection {self.name!r} at {self.uri} cannot be read: its index files are damaged ({e}); "
                "one written as its disk filled up is left so. Delete it with Chroma's client "
                f"(`client.delete_collection({self.name!r})`) and write it again (a migration: without --resume), "
                "write another collection (?collection=NAME), or restore it from a backup") from None

    def exists(self) -> bool:
        if self.client is None:
            return False
        return self.name in {c if isinstance(c, str) else c.name for c in self.client.list_collections()}

    def _require(self):
        if self._col is None:
            raise StoreNotFoundError(f"Chroma collection {self.name!r} does not exist at {self.uri}: {self.missing()}")
        return self._col

    def missing(self) -> str:
        if self.client is None:
            return f"{self._parsed.path} does not exist or holds no Chroma database (chroma.sqlite3); fix the path"
        names = sorted(c if isinstance(c, str) else c.name for c in self.client.list_collections())
        return (f"no collection {self.name!r} there; its collections: {', '.join(names)}" if names else
                "it holds no collection; check the path")

    @property
    def dim(self) -> int:
        if self._col is None or not self.count():
            if self._requested_dim is not None:
                return self._requested_dim
            if self._col is not None:
                raise StoreNotFoundError(f"Chroma collection {self.name!r} is empty: its dimension is not known yet")
        if self._dim is None:
            first = self._require().get(limit=1, include=["embeddings"])["embeddings"]
            self._dim = len(first[0])
        return self._dim

    @property
    def metric(self) -> Metric:
        if self._col is None:
            return self._requested_metric or Metric.COSINE
        config = self._col.configuration or {}
        space = ((config.get("hnsw") or {}).get("space")) or (self._col.metadata or {}).get("hnsw:space", "l2")
        return _SPACES.get(space, Metric.L2)

    def count(self) -> int:
        return self._col.count() if self._col is not None else 0

    def iter_batches(self, batch_size: int = 1024, start: Any = None, with_payload: bool = True
                     ) -> Iterator[VectorBatch]:
        """Pages in Chroma's order, by offset. Each page is asked from one record before its offset, which must be the
        last record read: records deleted from a live collection meanwhile move the later ones back, and as many of
        those were skipped (50 of 20,000 by hand, with 50 deleted among the first). Where it is not, the read goes
        on after the latest record of the last page still there (found among the records before, ids only).
        Positions are ``[offset, Chroma id of the last record read]`` (a plain offset, from older checkpoints, is
        taken as it is)."""
        col = self._require()
        offset, last = (int(start[0]), [start[1]]) if isinstance(start, list) else (int(start or 0), [])
        total = col.count()
        while offset < total:
            ask = offset - 1 if last else offset
            page = _get(col, include=self._include(with_payload), limit=batch_size + (ask < offset), offset=ask)
            if ask < offset:
                if page["ids"][:1] != last[-1:]:  # records before it were deleted: find where the read is now,
                    offset, last = self._offset_after(col, last, offset)  # and check it again with the next page
                    continue
                page = {key: (values[1:] if key in _RECORD_FIELDS and values is not None else values)
                        for key, values in page.items()}
            if not page["ids"]:
                return
            offset, last = offset + len(page["ids"]), list(page["ids"])
            yield self._to_batch(page, with_payload, next_position=[offset, last[-1]] if offset < total else None)

    @staticmethod
    def _offset_after(col: Any, read: list[str], offset: int) -> tuple[int, list[str]]:
        """The offset just after the latest of ``read`` (the Chroma ids of the last page read, in order) still in the
        collection, looked for among the records before ``offset``, and that record's id (more may be deleted before
        the next page is asked: it is checked there again); refused where none of them is."""
        order = {cid: k for k, cid in enumerate(read)}
        high = offset
        while high > 0:
            low = max(0, high - ID_PAGE)
            ids = _get(col, include=[], limit=high - low, offset=low)["ids"]
            found = [(order[cid], low + j) for j, cid in enumerate(ids) if cid in order]
            if found:
                latest, at = max(found)
                return at + 1, [read[latest]]
            high = low
        raise StoreChangedError(
            f"Chroma collection {col.name!r} changed while it was read: the records read last were all deleted, so "
            "where the read stands cannot be told. Stop writes to it and run again with --on-exists fill (it writes "
            "only the records whose id the destination lacks)")

    def records_at(self, positions: np.ndarray, with_payload: bool = True) -> VectorBatch:
        """The records at sorted ``positions``: the ids from their first to their last read (ids only, in pages of
        ``ID_PAGE``), then those records by id, in the order of ``positions`` (positions past the end are left out)."""
        col, positions = self._require(), np.asarray(positions, dtype=np.int64)
        wanted: list[str] = []
        if len(positions):
            for offset in range(int(positions[0]), int(positions[-1]) + 1, ID_PAGE):
                page_ids = _get(col, include=[], limit=ID_PAGE, offset=offset)["ids"]
                rows = positions[(positions >= offset) & (positions < offset + len(page_ids))] - offset
                wanted.extend(page_ids[r] for r in rows)
        found: dict[str, tuple] = {}  # Chroma answers in its own order
        for s in range(0, len(wanted), self._max_batch()):
            got = _get(col, ids=wanted[s:s + self._max_batch()], include=self._include(with_payload))
            found.update(zip(got["ids"], zip(got["embeddings"], got["metadatas"], got["documents"] or repeat(None))))
        rows = [(cid, *found[cid]) for cid in wanted if cid in found]  # a record deleted meanwhile is left out
        return self._to_batch({key: [row[k] for row in rows] for k, key in
                               enumerate(("ids", "embeddings", "metadatas", "documents"))}, with_payload)

    @staticmethod
    def _include(with_payload: bool) -> list[str]:
        """What a read asks for: the metadata always (the id v2v may keep there), the documents with the payload."""
        return ["embeddings", "metadatas", "documents"] if with_payload else ["embeddings", "metadatas"]

    @staticmethod
    def _to_batch(page: dict, with_payload: bool, next_position: Any = None) -> VectorBatch:
        ids, metadata = [], []
        for cid, meta in zip(page["ids"], page["metadatas"]):
            rid, meta = _restore_id(cid, meta)
            ids.append(rid)
            metadata.append(from_chroma_metadata(meta))
        vectors = np.asarray(page["embeddings"], dtype=np.float32) if len(ids) else np.empty((0, 0), np.float32)
        return VectorBatch(ids, vectors, metadata, list(page["documents"]) if with_payload else [],
                           next_position=next_position)

    def fetch(self, ids) -> list[tuple[dict | None, str | None]]:
        col, found = self._require(), {}
        keys = [_chroma_id(i) for i in ids]
        unique = list(dict.fromkeys(keys))  # Chroma refuses an id asked twice
        for s in range(0, len(unique), self._max_batch()):
            page = _get(col, ids=unique[s : s + self._max_batch()], include=["metadatas", "documents"])
            for cid, meta, doc in zip(page["ids"], page["metadatas"], page["documents"]):
                found[cid] = (from_chroma_metadata(_restore_id(cid, meta)[1]), doc)
        return [found.get(key, (None, None)) for key in keys]

    def ids_where_each(self, wheres: Sequence[Where]) -> list[list[PointId]]:
        """Read the metadata alone, page by page, and test it here: Chroma's own ``where`` cannot see values kept as
        JSON text (nested objects, as Qdrant payloads hold) and does not match a list by its items."""
        col, found, page_size = self._require(), [[] for _ in wheres], self._max_batch()  # more: too many SQL variables
        for offset in range(0, col.count(), page_size):
            page = _get(col, include=["metadatas"], limit=page_size, offset=offset)
            for cid, meta in zip(page["ids"], page["metadatas"]):
                rid, meta = _restore_id(cid, meta)
                meta = from_chroma_metadata(meta)
                for kept, where in zip(found, wheres):
                    if where.holds(meta):
                        kept.append(rid)
        return found

    def records_where(self, where: Where) -> Iterator[VectorBatch]:
        yield from self.records_of_keys([_chroma_id(i) for i in self.ids_where(where)], with_payload=False)

    def id_key(self, record_id: PointId) -> str:
        return _chroma_id(record_id)  # Chroma's own id (an int id is written as its digits, the int kept in the metadata)

    def iter_keys(self, batch_size: int = ID_PAGE) -> Iterator[list[str]]:
        """Chroma's ids alone, in pages of at least ``ID_PAGE`` (each read has a fixed cost of a few 10 ms: 1.1 s for
        200,000 ids in pages of 65,536, 3.7 s in pages of 4,096)."""
        col = self._require()
        for offset in range(0, col.count(), max(batch_size, ID_PAGE)):
            page = _get(col, include=[], limit=max(batch_size, ID_PAGE), offset=offset)["ids"]
            if not page:
                return
            yield page

    def records_of_keys(self, keys, with_payload: bool = True) -> Iterator[VectorBatch]:
        col, wanted = self._require(), list(keys)
        for s in range(0, len(wanted), self._max_batch()):
            batch = self._to_batch(_get(col, ids=wanted[s:s + self._max_batch()], include=self._include(with_payload)),
                                   with_payload)
            if len(batch):
                yield batch

    def holds(self, ids) -> np.ndarray:
        if self._col is None:
            return np.zeros(len(ids), dtype=bool)
        keys, found = [_chroma_id(i) for i in ids], {}
        unique = list(dict.fromkeys(keys))  # Chroma refuses an id asked twice
        for s in range(0, len(unique), self._max_batch()):
            page = _get(self._col, ids=unique[s : s + self._max_batch()], include=["metadatas"])
            for cid, meta in zip(page["ids"], page["metadatas"]):
                found[cid] = _restore_id(cid, meta)[0]  # an int id is kept in the metadata: 5 is not "5"
        return np.array([key in found and found[key] == i for key, i in zip(keys, ids)], dtype=bool)

    def settings(self) -> dict[str, Any]:
        """The collection's metadata (but its legacy ``hnsw:*`` keys, which Chroma reads into its configuration) and
        its HNSW parameters but the space (the destination's metric is its own). Not its embedding function: the
        source's would embed texts with the old model."""
        col, out = self._require(), {}
        metadata = {k: v for k, v in (col.metadata or {}).items() if not k.startswith("hnsw:")}
        if metadata:
            out["metadata"] = metadata
        hnsw = {k: v for k, v in ((col.configuration or {}).get("hnsw") or {}).items() if k != "space" and v is not None}
        if hnsw:
            out["hnsw"] = hnsw
        return out

    def left_behind(self) -> list[str]:
        function = (self._require().configuration or {}).get("embedding_function")
        name = getattr(function, "name", lambda: type(function).__name__)() if function is not None else None
        return [f"its embedding function {name!r} (it embeds texts as the source's model does: query the destination "
                "with the target model's vectors, or give it that model's embedding function)"] if name else []

    def describe_settings(self, settings: dict[str, Any]) -> list[str]:
        """The metadata's keys, and the HNSW parameters other than a new collection's."""
        out = []
        if settings.get("metadata"):
            out.append("collection metadata (" + ", ".join(map(str, settings["metadata"])) + ")")
        changed = {k: v for k, v in (settings.get("hnsw") or {}).items() if _HNSW_DEFAULTS.get(k) != v}
        if changed:
            out.append("HNSW " + ", ".join(f"{k}={v}" for k, v in sorted(changed.items())))
        return out

    def upsert(self, batch: VectorBatch) -> None:
        self._claim()
        batch = check_batch(batch, self.dim if (self._col is not None and self.count()) or self._requested_dim else batch.vectors.shape[1])
        ids, metadata = [], []
        for i, m in zip(batch.ids, batch.metadata):
            m = to_chroma_metadata(dict(m)) if m else None
            if isinstance(i, int):  # past int64 as its digits: Chroma holds no wider int, nor an object
                m = {**(m or {}), ORIGINAL_ID_KEY: str(i) if past_int64(i) else i}
            elif i == "":  # an id Chroma refuses: kept beside a stand-in
                m = {**(m or {}), ORIGINAL_ID_KEY: i}
            ids.append(_chroma_id(i))
            metadata.append(m)
        if len(set(ids)) != len(ids):  # distinct ids (check_batch) that are one Chroma id: 5 and "5"
            first: dict[str, PointId] = {}
            for chroma_id, record_id in zip(ids, batch.ids):
                if chroma_id in first:
                    break
                first[chroma_id] = record_id
            raise InvalidVectorsError(
                f"ids {first[chroma_id]!r} and {record_id!r} are both Chroma id {chroma_id!r} (Chroma's ids are text: "
                "an int id is written as its digits): one would overwrite the other; give one of them another id, or "
                "write into FAISS or Qdrant, which keep the two apart")
        if self._col is None:
            metric = self._requested_metric or Metric.COSINE
            space = {Metric.COSINE: "cosine", Metric.DOT: "ip", Metric.L2: "l2"}[metric]
            if self.client is None:
                os.makedirs(self._parsed.path, exist_ok=True)
                self.client = make_client(self._parsed)
            logger.info("creating Chroma collection %r (metric=%s%s)", self.name, metric.value,
                        "; like its source: " + "; ".join(self.describe_settings(self._like)) if self._like else "")
            try:
                self._col = self.client.create_collection(
                    self.name, embedding_function=None, metadata=self._like.get("metadata") or None,
                    configuration={"hnsw": {**(self._like.get("hnsw") or {}), "space": space}})
            except Exception as e:
                if "already exists" not in str(e):
                    raise
                logger.info("Chroma collection %r was created meanwhile by another writer: writing into it", self.name)
                self._col = self._get()
                self._check_settings(batch.vectors.shape[1], metric)  # as the other writer made it
        vectors = prepare_for_metric(batch.vectors, self.metric)
        step = self._max_batch()
        for s in range(0, len(ids), step):
            page_ids, page_documents = ids[s : s + step], batch.documents[s : s + step]
            # a read of the page's ids first, so that a held record is replaced whole: 4% more time for new ids, 8%
            # where every id is held (benchmarks/results/chroma_replace_wiki.md, one run)
            page_metadata = self._replacing_held(page_ids, metadata[s : s + step], page_documents)
            try:
                self._col.upsert(ids=page_ids, embeddings=vectors[s : s + step], metadatas=page_metadata,
                                 documents=page_documents)
            except ValueError as e:
                raise InvalidVectorsError(f"Chroma refused the batch: {e}") from None

    def _replacing_held(self, ids: list[str], metadata: list[dict | None], documents: list[str | None]
                        ) -> list[dict | None]:
        """``metadata`` that replaces the records Chroma holds under ``ids`` whole, as an upsert does in Qdrant and
        FAISS. Chroma's upsert merges into a record it holds: the old metadata's keys the new one lacks stay (a stale
        field, or v2v's own ``_v2v_json`` naming a field that is no longer JSON), and so does the old document where
        the new one is None. Those keys are set to None here (Chroma drops a key set so), and a record whose document
        would stay is deleted first (Chroma cannot set a document back to None)."""
        held = _get(self._col, ids=ids, include=["metadatas", "documents"])
        if not held["ids"]:
            return metadata
        row_of = {chroma_id: row for row, chroma_id in enumerate(ids)}
        out, to_delete = list(metadata), []
        for chroma_id, old, old_document in zip(held["ids"], held["metadatas"], held["documents"]):
            row = row_of[chroma_id]
            if old_document is not None and documents[row] is None:
                to_delete.append(chroma_id)
                continue
            stale = set(old or {}) - set(out[row] or {})
            if stale:
                out[row] = {**(out[row] or {}), **dict.fromkeys(sorted(stale))}
        if to_delete:
            self._col.delete(ids=to_delete)
        return out

    def _max_batch(self) -> int:
        if self._max_batch_size is None:
            self._max_batch_size = self.client.get_max_batch_size()
        return self._max_batch_size

    def delete(self, ids) -> None:
        if not len(ids):  # Chroma refuses an empty list
            return
        self._claim()
        self._require().delete(ids=[_chroma_id(i) for i in ids])

    def _claim(self) -> None:
        """Hold the embedded database's writer lock from this store's first write until it is closed (servers take
        many writers)."""
        if self._parsed.scheme == "chroma" and not self._writing:
            _WRITERS.claim(self._parsed.path)
            self._writing = True

    def close(self) -> None:
        """Let go of the Chroma client: its files (~11 descriptors per embedded database) are released once no other
        client of the process uses that database (Chroma counts them). Before session 71 they stayed open until the
        process ended, so a process that opened a few hundred databases ran out of file descriptors."""
        try:
            super().close()
        finally:
            if self._writing:
                _WRITERS.release(self._parsed.path)
                self._writing = False
            client, self.client, self._col = self.client, None, None
            if client is not None and hasattr(client, "close"):
                # a server's client and its admin client each hold a pool of connections that Chroma's close leaves
                # to the garbage collector
                sessions = [getattr(getattr(c, "_server", None), "_session", None)
                            for c in (client, getattr(client, "_admin_client", None))]
                client.close()
                for session in sessions:
                    if session is not None and hasattr(session, "close"):
                        session.close()

    def drop(self, other_vectors_too: bool = False) -> None:
        self._claim()
        if self.exists():
            self.client.delete_collection(self.name)
        self._col, self._dim = None, None

    def search(self, queries: np.ndarray, k: int, where: Where | None = None
               ) -> tuple[np.ndarray, list[list[PointId]]]:
        if where is not None:
            return self.search_where(queries, k, where)
        col = self._require()
        queries = prepare_for_metric(check_vectors(queries, self.dim, "queries"), self.metric)
        res = col.query(query_embeddings=queries, n_results=k, include=["distances", "metadatas"])
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids: list[list[PointId]] = []
        for row, (rid, dist, metas) in enumerate(zip(res["ids"], res["distances"], res["metadatas"])):
            d = np.asarray(dist, dtype=np.float32)
            scores[row, : len(d)] = -d if self.metric == Metric.L2 else 1.0 - d
            ids.append([_restore_id(i, m)[0] for i, m in zip(rid, metas)])
        return scores, ids
