"""FAISS indexes as a :class:`VectorStore`.

FAISS keeps vectors and int64 ids only. Metadata, documents, ids that are not an int64 (strings, ints past it, and
-1, FAISS's "no result") and the metric name
(FAISS cannot tell cosine from dot) live in a SQLite sidecar next to the index,
``<index>.v2v.sqlite``, which this project writes and reads. Indexes written elsewhere are read
without one: ids are the index's own (IDMap ids or row numbers), metadata is empty.

Read exactly: Flat, HNSW-Flat, IVF-Flat (through a direct map), IDMap/IDMap2 around any of them.
Written: new indexes are IDMap2 over a flat index, or built like another FAISS index (:meth:`FaissStore.create_like`,
a migration's source) or as ``?index=FACTORY`` asks (:mod:`connectors.faiss_structure`: IVF, PQ, SQ, HNSW; trained on
:meth:`FaissStore.train_on` first where they need it); existing IDMap/IDMap2 and (trained) IVF indexes take records by
id. Overwriting or deleting ids an IDMap holds needs an inner index that removes rows in place
(flat codes: Flat, SQ, PQ); around IVF or HNSW it is refused, as FAISS would misnumber the later rows.
PQ / SQ / other compressed indexes give back approximations: a warning says so, with a measured
estimate of the reconstruction error. Pickle sidecars (LangChain's ``index.pkl``) are refused
unless ``?allow_pickle=true``: unpickling runs arbitrary code.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import sqlite3
import time
from typing import Any, Iterator, Sequence

import faiss
import numpy as np

from v2v_store.errors import (
    DimensionMismatchError,
    InvalidURIError,
    InvalidVectorsError,
    StoreNotFoundError,
    UnsupportedIndexError,
)

from .base import (
    Metric,
    PointId,
    VectorBatch,
    VectorStore,
    check_batch,
    check_vectors,
    file_version,
    prepare_for_metric,
    scores_from_distances,
)
from .faiss_structure import (SEARCH_PARAMS, build_index, build_seconds, core_index, describe, describe_index,
                              needs_training, training_size)
from .shared import ProcessLock, hold_writer_lock, lock_file
from .uri import StoreURI
from .where import Where

logger = logging.getLogger(__name__)

EXACT_INDEX_TYPES = {
    "IndexFlat", "IndexFlatIP", "IndexFlatL2", "IndexHNSWFlat", "IndexIVFFlat", "IndexIDMap",
    "IndexIDMap2", "IndexNSGFlat", "IndexRefineFlat",
}
SIDECAR_SUFFIX = ".v2v.sqlite"


def _string_to_faiss_id(value: str) -> int:
    """A stable non-negative int64 for a string id (the original is kept in the sidecar)."""
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "little") & (2**63 - 1)


def _is_native(point_id: PointId) -> bool:
    """Whether an id is its own FAISS id: an int64 other than -1 (FAISS's "no result" in a search's answer). Other ids
    (strings, -1, ints past int64: Qdrant's ids reach 2**64 - 1) are hashed, the original kept in the sidecar."""
    return isinstance(point_id, int) and -2**63 <= point_id < 2**63 and point_id != -1


def _faiss_id(point_id: PointId) -> int:
    if _is_native(point_id):
        return point_id
    return _string_to_faiss_id(point_id if isinstance(point_id, str) else f"\0int:{point_id}")


def _original_id(stored: str) -> PointId:
    """A record's id from its JSON in the sidecar; a string without escapes (the usual id) skips the JSON parser,
    which took a third of reading a million records' ids and vectors."""
    if stored[:1] == '"' and "\\" not in stored:
        return stored[1:-1]
    return json.loads(stored)


def _is_binary_index(path: str) -> bool:
    try:
        faiss.read_index_binary(path)
        return True
    except RuntimeError:
        return False


def _type_chain(index: faiss.Index) -> list[str]:
    """Class names from the outer index inwards, e.g. ['IndexIDMap2', 'IndexIVFPQ']."""
    chain, idx = [], faiss.downcast_index(index)
    while idx is not None:
        chain.append(type(idx).__name__)
        inner = getattr(idx, "index", None) if isinstance(idx, faiss.IndexPreTransform) or chain[-1].startswith(
            "IndexIDMap") else None
        if inner is None and isinstance(idx, faiss.IndexHNSW):
            inner = idx.storage
        idx = faiss.downcast_index(inner) if inner is not None else None
    return chain


# A reader gives a FAISS index's ids and vectors by position 0..n-1: a range of positions (ids, vectors) or any
# positions (ids_at, vectors_at: sorted int64 positions).
class _PositionalReader:
    """Rows 0..n-1 of an index whose stored ids are its row numbers."""

    def __init__(self, index: faiss.Index):
        self.index, self.n = index, index.ntotal

    def ids(self, start: int, stop: int) -> np.ndarray:
        return np.arange(start, stop, dtype=np.int64)

    def vectors(self, start: int, stop: int) -> np.ndarray:
        return self.index.reconstruct_n(start, stop - start)

    def ids_at(self, positions: np.ndarray) -> np.ndarray:
        return positions

    def vectors_at(self, positions: np.ndarray) -> np.ndarray:
        return self.index.reconstruct_batch(positions)


class _IdMapReader:
    """IndexIDMap(2): ids from its id_map, vectors from the inner index's rows."""

    def __init__(self, index: faiss.Index, inner: Any):
        self.inner, self.n = inner, index.ntotal
        self._ids = faiss.rev_swig_ptr(index.id_map.data(), index.id_map.size()) if self.n else np.empty(0, np.int64)

    def ids(self, start: int, stop: int) -> np.ndarray:
        return np.array(self._ids[start:stop], dtype=np.int64)

    def vectors(self, start: int, stop: int) -> np.ndarray:
        return self.inner.vectors(start, stop)

    def ids_at(self, positions: np.ndarray) -> np.ndarray:
        return np.array(self._ids[positions], dtype=np.int64)

    def vectors_at(self, positions: np.ndarray) -> np.ndarray:
        return self.inner.vectors_at(positions)


class _IvfIdReader:
    """IVF indexes that were given their own ids: enumerate inverted lists, reconstruct by id."""

    def __init__(self, ivf: faiss.IndexIVF):
        self.ivf, self.n = ivf, ivf.ntotal
        lists = ivf.invlists
        parts = [
            np.array(faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)), dtype=np.int64)
            for i in range(lists.nlist)
            if lists.list_size(i)
        ]
        self._ids = np.sort(np.concatenate(parts)) if parts else np.empty(0, np.int64)
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)

    def ids(self, start: int, stop: int) -> np.ndarray:
        return self._ids[start:stop]

    def vectors(self, start: int, stop: int) -> np.ndarray:
        return self.vectors_at(np.arange(start, stop))

    def ids_at(self, positions: np.ndarray) -> np.ndarray:
        return self._ids[positions]

    def vectors_at(self, positions: np.ndarray) -> np.ndarray:
        keys = self._ids[positions]
        return self.ivf.reconstruct_batch(keys) if len(keys) else np.empty((0, self.ivf.d), np.float32)


class _UntransformedReader:
    """An IndexPreTransform's rows: the inner index's, taken back through its transforms (an OPQ or random rotation
    exactly; a PCA that dropped dimensions, an L2 normalisation, approximately)."""

    def __init__(self, index: faiss.IndexPreTransform, inner: Any):
        self.index, self.inner, self.n = index, inner, inner.n
        self.chain = [faiss.downcast_VectorTransform(index.chain.at(k)) for k in range(index.chain.size())]

    def _back(self, x: np.ndarray) -> np.ndarray:
        for transform in reversed(self.chain):
            x = transform.reverse_transform(np.ascontiguousarray(x, dtype=np.float32))
        return x

    def ids(self, start: int, stop: int) -> np.ndarray:
        return self.inner.ids(start, stop)

    def vectors(self, start: int, stop: int) -> np.ndarray:
        return self._back(self.inner.vectors(start, stop))

    def ids_at(self, positions: np.ndarray) -> np.ndarray:
        return self.inner.ids_at(positions)

    def vectors_at(self, positions: np.ndarray) -> np.ndarray:
        return self._back(self.inner.vectors_at(positions))


def _build_reader(index: faiss.Index):
    index = faiss.downcast_index(index)
    if type(index).__name__.startswith("IndexIDMap"):
        inner = faiss.downcast_index(index.index)
        if isinstance(core_index(inner), faiss.IndexIVF):
            core_index(inner).make_direct_map(True)  # inner ids of an IDMap are row numbers
        return _IdMapReader(index, _build_reader(inner) if isinstance(inner, faiss.IndexPreTransform)
                            else _PositionalReader(inner))
    if isinstance(index, faiss.IndexPreTransform):
        # the inner index's rows read as its own reader reads them (an IVF given its own ids through its lists' ids:
        # FAISS's reconstruct_n would look for ids 0..n-1), then taken back through the transforms
        return _UntransformedReader(index, _build_reader(index.index))
    if isinstance(index, faiss.IndexIVF):
        try:
            index.make_direct_map(True)
            return _PositionalReader(index)
        except RuntimeError:  # ids were given with add_with_ids: not a dense range
            return _IvfIdReader(index)
    return _PositionalReader(index)


def _ivf_behind_transforms(index: faiss.Index) -> faiss.IndexIVF | None:
    """``index`` itself or the index behind its pre-transforms when that is an IVF index (its lists keep ids), else
    None (an IDMap around an IVF index is not one: it keeps its own id map)."""
    index = faiss.downcast_index(index)
    while isinstance(index, faiss.IndexPreTransform):
        index = faiss.downcast_index(index.index)
    return index if isinstance(index, faiss.IndexIVF) else None


def _round_trip(index: faiss.Index, x: np.ndarray) -> np.ndarray | None:
    """``x`` encoded and decoded by ``index``'s codec: through its pre-transforms (an L2 normalisation skipped: the
    stored vectors are normalised already, and its reverse cannot restore a midpoint's norm), into an HNSW graph's
    storage; None where FAISS has no codec."""
    index = faiss.downcast_index(index)
    if type(index).__name__.startswith("IndexIDMap"):
        return _round_trip(index.index, x)
    if isinstance(index, faiss.IndexPreTransform):
        chain = [faiss.downcast_VectorTransform(index.chain.at(k)) for k in range(index.chain.size())]
        chain = [t for t in chain if not isinstance(t, faiss.NormalizationTransform)]
        for transform in chain:
            x = transform.apply(x)
        x = _round_trip(index.index, np.ascontiguousarray(x, dtype=np.float32))
        for transform in reversed(chain):
            x = None if x is None else transform.reverse_transform(np.ascontiguousarray(x, dtype=np.float32))
        return x
    if isinstance(index, faiss.IndexHNSW):
        return _round_trip(index.storage, x)
    if isinstance(index, faiss.IndexRefine):  # what is read back comes from the refinement's codes
        return _round_trip(index.refine_index, x)
    if _undecodable(index):
        return None
    try:
        return index.sa_decode(index.sa_encode(x))
    except RuntimeError:
        return None


class _IdsOnlyReader:
    """The ids of an index whose vectors FAISS cannot give back (:func:`_undecodable`): enough to tell which records
    it holds (a resumed migration into it); reading a vector raises the reason."""

    def __init__(self, inner: Any, why: str):
        self.inner, self.n, self.why = inner, inner.n, why

    def ids(self, start: int, stop: int) -> np.ndarray:
        return self.inner.ids(start, stop)

    def ids_at(self, positions: np.ndarray) -> np.ndarray:
        return self.inner.ids_at(positions)

    def vectors(self, start: int, stop: int) -> np.ndarray:
        raise UnsupportedIndexError(self.why)

    vectors_at = vectors


def _undecodable(index: faiss.Index) -> str | None:
    """Why FAISS cannot give back the vectors of ``index`` without crashing, or None: an IVF fast-scan index packs its
    codes in SIMD blocks and keeps no plain copy (FAISS 1.15's reconstruct reads that copy: a segmentation fault)."""
    core = core_index(index)
    if isinstance(core, faiss.IndexIVFFastScan) and not core.orig_invlists:
        return (f"FAISS index type {'/'.join(_type_chain(index))} cannot give its vectors back (an IVF fast-scan "
                "index keeps its PQ codes packed for SIMD search, which FAISS does not decode); what needs no vector of "
                "it still works: searching it (v2v query --mode native --no-space-check --collection 'URI#SPACE'), "
                "adding to it (v2v migrate --no-space-check); to read it, export the vectors from the system that "
                "built it, or rebuild it with plain PQ codes (e.g. IVF1024,PQ32)")
    return None


def _make_reader(index: faiss.Index):
    """A positional reader for the index, checked by reading its first vector (an index whose vectors FAISS cannot
    decode: its ids only)."""
    why = _undecodable(index)
    try:
        reader = _build_reader(index)
        if why:
            return _IdsOnlyReader(reader, why)
        if reader.n:
            reader.vectors(0, 1)
    except RuntimeError as e:
        raise UnsupportedIndexError(
            f"FAISS index type {'/'.join(_type_chain(index))} cannot give its vectors back "
            f"({str(e).splitlines()[0][:160]}); export from the system that built it, or rebuild it as "
            "Flat/HNSW/IVF-Flat"
        ) from None
    return reader


def _asked_structure(uri: StoreURI, dim: int | None) -> dict[str, Any]:
    """The structure a URI's ``?index=FACTORY`` (and ``&nprobe=`` / ``&efSearch=`` / ``&efConstruction=``) asks a
    new index to be built to; {} where it names none. A factory FAISS does not know is refused with examples."""
    factory = uri.params.get("index")
    if not factory:
        return {}
    factory = re.sub(r"^IDMap2?,", "", factory)  # v2v keeps ids itself (an IDMap2 around all but IVF lists): an
    try:                                          # IDMap of the user's inside it refused every write
        needs_training(factory, dim)
        asked = {name: (float if name == "k_factor" else int)(uri.params[name]) for name in SEARCH_PARAMS
                 if name in uri.params}
    except (RuntimeError, ValueError) as e:
        raise InvalidURIError(
            f"{uri.raw!r}: ?index={factory} is not a FAISS index structure FAISS can build ({str(e).splitlines()[0][:120]}); "
            "write a factory string, e.g. ?index=IVF1024,PQ32 or ?index=HNSW32 or ?index=SQ8, and integer "
            "&nprobe= / &efSearch= / &efConstruction="
        ) from None
    return {"index": factory, **asked}


class FaissStore(VectorStore):
    reads_at_positions = True

    def __init__(self, uri: StoreURI, dim: int | None = None, metric: Metric | None = None):
        self.uri = uri.raw
        self.path = uri.path
        if os.path.isdir(self.path):
            raise InvalidURIError(
                f"{self.path!r} is a directory: name the index file, e.g. faiss://{self.path.rstrip('/')}/index.faiss"
            )
        self.sidecar_path = self.path + SIDECAR_SUFFIX
        self._check_pickle_sidecar(uri.flag("allow_pickle"))
        self._requested_dim, self._requested_metric = dim, metric
        self._asked = _asked_structure(uri, dim)  # ?index=FACTORY: the structure a new index is built to
        self._index: faiss.Index | None = None
        self._writable = False
        self._version: str | None = None  # the files' sizes and times when opened to read (see version())
        self._reader = None
        self._ids_sorted: np.ndarray | None = None  # holds(): the index's ids when first asked, and those written since
        self._ids_since: set[int] = set()
        self._db: sqlite3.Connection | None = None
        self._dirty = False
        # the writer lock, held from the first write until close (see _claim)
        path_key = hashlib.sha1(os.path.realpath(self.path).encode()).hexdigest()[:16]
        self._lock = ProcessLock(lock_file(f"faiss-{path_key}"))
        if self.exists():
            self._open_index(writable=False)
            built = describe_index(self._index)[0].get("index", "Flat") if self._asked else None
            if built is not None and built != self._asked["index"]:
                logger.warning("?index=%s builds a new index; %s exists as %s and is used as it is", self._asked["index"],
                               self.path, built)
            if dim is not None and dim != self.dim:
                raise DimensionMismatchError(
                    f"dimension mismatch: FAISS index {self.path} has d={self.dim}, expected d={dim}"
                )
            if metric is not None and metric != self.metric:
                raise DimensionMismatchError(
                    f"metric mismatch: FAISS index {self.path} ranks by {self.metric.value}, expected {metric.value}"
                )

    # -- opening ---------------------------------------------------------------------------------
    def _check_pickle_sidecar(self, allowed: bool) -> None:
        pkl = os.path.join(os.path.dirname(self.path), os.path.splitext(os.path.basename(self.path))[0] + ".pkl")
        self._pickle_path = pkl if os.path.exists(pkl) else None
        if self._pickle_path and not allowed:
            raise UnsupportedIndexError(
                f"{pkl} is a pickle sidecar (LangChain layout); unpickling can run arbitrary code, so it is "
                "not read by default. If you trust the file, add ?allow_pickle=true to the URI"
            )

    def exists(self) -> bool:
        return os.path.exists(self.path)

    def _open_index(self, writable: bool) -> None:
        # Read-only opens memory-map what FAISS can map (flat codes: MMAP_IFC; IVF lists: MMAP), so
        # reading a large index pages it in as needed instead of loading it whole.
        attempts = [0] if writable else [
            faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY, faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY, 0]
        # taken before the files are read: a file replaced while it is read counts as changed next time
        self._version = file_version(self.path, self.sidecar_path, self.sidecar_path + "-wal")
        for flags in attempts:
            try:
                index = faiss.read_index(self.path, flags)
                if flags & faiss.IO_FLAG_MMAP_IFC and any("IVF" in t for t in _type_chain(index)):
                    continue  # MMAP_IFC loads IVF lists whole; IO_FLAG_MMAP maps them
                break
            except RuntimeError as e:
                if flags == 0:
                    if _is_binary_index(self.path):
                        raise UnsupportedIndexError(
                            f"{self.path} is a binary FAISS index (IndexBinary*: bit codes, Hamming distance): "
                            "v2v-store translates float embeddings; export the float vectors it was built from"
                        ) from None
                    raise UnsupportedIndexError(f"{self.path} is not a readable FAISS index: {e}") from None
        self._index, self._writable, self._reader = index, writable, None
        self.index_type = "/".join(_type_chain(index))
        if os.path.exists(self.sidecar_path):
            self._db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.sidecar_path)
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute(
            "CREATE TABLE IF NOT EXISTS records (faiss_id INTEGER PRIMARY KEY, original_id TEXT, "
            "metadata TEXT, document TEXT)"
        )
        return db

    def _meta(self, key: str) -> str | None:
        if self._db is None:
            return None
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def _require_index(self) -> faiss.Index:
        if self._index is None:
            raise StoreNotFoundError(
                f"FAISS index {self.path} does not exist; check the path, or write to it to create it"
            )
        return self._index

    # -- properties ------------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        if self._index is None and self._requested_dim is not None:
            return self._requested_dim
        return self._require_index().d

    @property
    def metric(self) -> Metric:
        if self._index is None:
            return self._requested_metric or Metric.COSINE
        stored = self._meta("metric")
        if stored:
            return Metric(stored)
        # inner product: dot (or cosine, as the sidecar says); L2 and FAISS's other distances (L1, Linf, Lp, Canberra,
        # ...: lower ranks higher) as L2
        return Metric.DOT if self._index.metric_type == faiss.METRIC_INNER_PRODUCT else Metric.L2

    def count(self) -> int:
        return self._index.ntotal if self._index is not None else 0

    def version(self) -> str | None:
        """The index file's and sidecar's sizes and modification times when they were opened to read (None once
        written to: v2v replaces the file on each flush)."""
        return None if self._writable or self._index is None else self._version

    @property
    def lossy(self) -> bool:
        return self._index is not None and not set(_type_chain(self._index)) <= EXACT_INDEX_TYPES

    def warnings(self) -> list[str]:
        out = []
        if self.lossy and not _undecodable(self._index):  # else reading it is refused with the reason
            err = self.reconstruction_error()
            estimate = (f"estimated relative reconstruction error {err:.3f}" if err is not None
                        else "FAISS gives no codec to estimate its error")
            out.append(
                f"FAISS index {self.index_type} is compressed: vectors read back are approximations "
                f"({estimate}); results built on them inherit that error"
            )
        if self._index is not None and self._db is None and self._index.metric_type == faiss.METRIC_INNER_PRODUCT:
            out.append("no v2v sidecar: FAISS cannot tell cosine from dot, so metric is reported as 'dot'")
        if self._index is not None and self._index.metric_type not in (faiss.METRIC_L2, faiss.METRIC_INNER_PRODUCT):
            out.append(f"the index ranks by another distance than L2 (FAISS metric type {self._index.metric_type}: L1, "
                       "Linf, ...), which v2v-store has no metric for: it is taken as a distance like L2 (metric "
                       "reported as l2); a new index made from it ranks by cosine")
        return out

    def reconstruction_error(self, sample: int = 512, seed: int = 0) -> float | None:
        """Mean relative L2 error of the index's codec on vectors like the stored ones (None where FAISS has no codec
        for it).

        Decoded vectors sit on the codec's grid, so re-encoding them is exact; midpoints of random
        pairs of them are off-grid and see the codec's real error, which is what this measures.
        """
        index = self._require_index()
        n = index.ntotal
        if _undecodable(index):
            return None
        if n < 2:
            return 0.0
        rng = np.random.default_rng(seed)
        reader = self._get_reader()
        rows = np.sort(rng.choice(n, size=min(sample, n), replace=False))
        stored = np.concatenate([reader.vectors(int(r), int(r) + 1) for r in rows])
        mid = np.ascontiguousarray(0.5 * (stored + stored[rng.permutation(len(stored))]), dtype=np.float32)
        decoded = _round_trip(index, mid)
        if decoded is None:
            return None
        return float(np.mean(np.linalg.norm(decoded - mid, axis=1) / np.maximum(np.linalg.norm(mid, axis=1), 1e-12)))

    # -- reading ---------------------------------------------------------------------------------
    def _get_reader(self):
        if self._reader is None:
            self._reader = _make_reader(self._require_index())
        return self._reader

    def _lookup(self, faiss_ids: np.ndarray, payload: bool = True) -> dict[int, tuple[PointId, dict | None, str | None]]:
        """The sidecar's (id, metadata, document) of each FAISS id it holds; ``payload=False``: ids only (the metadata
        and document None, not read)."""
        if self._db is None or not len(faiss_ids):
            return {}
        out: dict[int, tuple[PointId, dict | None, str | None]] = {}
        keys = [int(i) for i in faiss_ids]
        columns = "metadata, document" if payload else "NULL, NULL"
        for s in range(0, len(keys), 900):
            chunk = keys[s : s + 900]
            rows = self._db.execute(
                f"SELECT faiss_id, original_id, {columns} FROM records WHERE faiss_id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            for fid, orig, meta, doc in rows:
                out[fid] = (_original_id(orig) if orig is not None else fid, json.loads(meta) if meta else None, doc)
        return out

    def iter_batches(self, batch_size: int = 1024, start: Any = None, with_payload: bool = True
                     ) -> Iterator[VectorBatch]:
        if self._index is None:
            self._require_index()
        reader = self._get_reader()
        pos = int(start or 0)
        while pos < reader.n:
            stop = min(pos + batch_size, reader.n)
            yield self._batch(reader.ids(pos, stop), reader.vectors(pos, stop), with_payload,
                              next_position=stop if stop < reader.n else None)
            pos = stop

    def records_at(self, positions: np.ndarray, with_payload: bool = True) -> VectorBatch:
        reader = self._get_reader()
        positions = np.asarray(positions, dtype=np.int64)
        return self._batch(reader.ids_at(positions), reader.vectors_at(positions), with_payload)

    def _batch(self, fids: np.ndarray, vectors: np.ndarray, with_payload: bool, next_position: Any = None
               ) -> VectorBatch:
        """The records of FAISS ids ``fids`` with their ``vectors``: ids, metadata and documents from the sidecar."""
        found = self._lookup(fids, with_payload)
        ids, metadata, documents = [], [], []
        for fid in fids.tolist():
            orig, meta, doc = found.get(fid, (fid, None, None))
            ids.append(orig)
            metadata.append(meta)
            documents.append(doc)
        return VectorBatch(ids, vectors, metadata, documents, next_position=next_position)

    def _sidecar_metadata(self) -> Iterator[tuple[int, str | None, dict | None]] | None:
        """(FAISS id, stored original id, metadata) of every record, from the sidecar alone, where it holds a row for
        each of the index's records (none read through the index: 0.55 s against 3.7 s for 200,000 records here);
        None where records were written elsewhere without a row (then only a read through the index finds them)."""
        held = self._db.execute("SELECT COUNT(*) FROM records").fetchone()[0] if self._db is not None else None
        if held != self.count():
            return None
        rows = self._db.execute("SELECT faiss_id, original_id, metadata FROM records")
        return ((fid, orig, json.loads(meta) if meta else None) for fid, orig, meta in rows)

    def ids_where_each(self, wheres: Sequence[Where]) -> list[list[PointId]]:
        """Test the sidecar's metadata alone, in one pass (:meth:`_sidecar_metadata`); else the base class's read."""
        records = self._sidecar_metadata()
        if records is None:
            return super().ids_where_each(wheres)
        found: list[list[PointId]] = [[] for _ in wheres]
        for fid, orig, metadata in records:
            for kept, where in zip(found, wheres):
                if where.holds(metadata):
                    kept.append(_original_id(orig) if orig is not None else fid)
        return found

    def fetch(self, ids: Sequence[PointId]) -> list[tuple[dict | None, str | None]]:
        self._require_index()
        fids = [_faiss_id(i) for i in ids]
        found = self._lookup(np.unique(np.array(fids, dtype=np.int64)))
        return [found[f][1:] if f in found else (None, None) for f in fids]

    def _flat_ids_where(self, where: Where) -> np.ndarray | None:
        """The FAISS ids of the records whose metadata meets ``where``, tested in the sidecar alone, where the index is
        flat (a search among them is then exact) and the sidecar holds a row for each of its records; else None."""
        index = faiss.downcast_index(self._require_index())
        inner = faiss.downcast_index(index.index) if type(index).__name__.startswith("IndexIDMap") else index
        records = self._sidecar_metadata() if isinstance(inner, faiss.IndexFlat) else None
        if records is None:
            return None
        return np.array([fid for fid, _, metadata in records if where.holds(metadata)], dtype=np.int64)

    def search(self, queries: np.ndarray, k: int, where: Where | None = None
               ) -> tuple[np.ndarray, list[list[PointId]]]:
        """Top-k by the index; with ``where``, a flat index searches the records it keeps (a FAISS selector: exact),
        any other scores them in a read of the collection (its IVF lists and graph cannot filter exactly)."""
        kept = None if where is None else self._flat_ids_where(where)
        if where is not None and kept is None:
            return self.search_where(queries, k, where)
        index = self._require_index()
        queries = prepare_for_metric(check_vectors(queries, self.dim, "queries"), self.metric)
        if kept is not None and not len(kept):
            return np.full((len(queries), k), -np.inf, dtype=np.float32), [[] for _ in queries]
        params = None if kept is None else faiss.SearchParameters(sel=faiss.IDSelectorBatch(kept))
        distances, fids = index.search(queries, k, params=params)
        found = self._lookup(np.unique(fids[fids != -1]))  # -1: no result (an index of fewer than k records)
        ids = [[found.get(int(f), (int(f),))[0] for f in row if f != -1] for row in fids]
        scores = scores_from_distances(distances, self.metric if self.metric == Metric.L2 else Metric.DOT)
        return scores, ids

    # -- structure -------------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """The index's structure (:func:`describe_index`: a factory string and its search parameters); {} for a flat
        index or one v2v cannot rebuild (:meth:`left_behind` names it)."""
        return describe_index(self._index)[0] if self._index is not None else {}

    def _structure(self) -> dict[str, Any]:
        """What a new index is built to: the URI's ``?index=`` first (the user's word), else :meth:`create_like`'s."""
        return self._asked or (self._like if self._like.get("index") else {})

    def describe_settings(self, settings: dict[str, Any]) -> list[str]:
        if self._asked:
            return [line + " (from ?index=)" for line in describe(self._asked, self.dim)]
        return describe(settings, self.dim)

    def left_behind(self) -> list[str]:
        why = describe_index(self._index)[1] if self._index is not None else None
        return super().left_behind() + ([
            f"FAISS index structure {self.index_type} (v2v does not rebuild {why}: a new FAISS destination is IDMap2 "
            "over flat; to build another, add ?index=FACTORY to --dest, e.g. ?index=IVF1024,PQ32)"] if why else [])

    def training_sample_size(self, records: int) -> int:
        return training_size(self._structure(), records, self._requested_dim) if self._index is None else 0

    def build_seconds(self, records: int, recreated: bool = False) -> tuple[float, float]:
        if self._index is None:
            return build_seconds(self._structure(), records, self._requested_dim or 0)
        if recreated:
            return build_seconds(self._asked or self.settings(), records, self.dim)
        return build_seconds(self.settings(), records, self.dim, trained=True)

    def train_on(self, vectors: np.ndarray) -> None:
        self._claim()
        structure = self._structure()
        if self._index is not None or not structure:
            raise UnsupportedIndexError(f"FAISS index {self.path} is not one to train: it exists, or is flat")
        vectors = check_vectors(vectors, self._requested_dim, "training vectors")
        index, factory = self._build(structure, len(vectors))
        started = time.perf_counter()
        index.train(prepare_for_metric(vectors, self._requested_metric or Metric.COSINE))
        logger.info("trained FAISS index %s (%s) on %d vectors in %.1f s", self.path, factory, len(vectors),
                    time.perf_counter() - started)
        self._create(index, factory)

    def _build(self, structure: dict[str, Any], records: int) -> tuple[faiss.Index, str]:
        if self._requested_dim is None:
            raise InvalidVectorsError(f"FAISS index {self.path}: a structured index needs its dimension up front")
        metric = self._requested_metric or Metric.COSINE
        try:
            return build_index(structure, self._requested_dim,
                               faiss.METRIC_L2 if metric == Metric.L2 else faiss.METRIC_INNER_PRODUCT, records)
        except RuntimeError as e:  # a structure of one metric only (LSH: L2), which the factory check cannot tell
            raise UnsupportedIndexError(
                f"FAISS cannot build ?index={structure['index']} for a collection ranked by {metric.value} "
                f"({str(e).splitlines()[0].rsplit('Error: ', 1)[-1][:120]}); choose another structure (e.g. HNSW32, "
                "IVF1024,PQ32, SQ8) or a collection ranked by l2") from None

    def _create(self, index: faiss.Index, described: str) -> None:
        metric = self._requested_metric or Metric.COSINE
        self._index, self._writable, self._dirty = index, True, True
        self.index_type = "/".join(_type_chain(index))
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        self._db = self._connect()
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('metric', ?)", (metric.value,))
        logger.info("creating FAISS index %s (%s, d=%d, metric=%s)", self.path, described, index.d, metric.value)

    # -- writing ---------------------------------------------------------------------------------
    def _claim(self) -> None:
        """Hold the index's writer lock (on this machine) from this object's first write until it is closed. FAISS
        holds an index in memory and writes it whole, so two writers at once each drop the other's records (two
        migrations into one new index both reported all their records written; it held one's): a second writer
        is refused, naming the first. An index another writer created since this object looked is read first."""
        if self._lock.held:
            return
        hold_writer_lock(self._lock, f"FAISS index {self.path}",
                         "FAISS keeps an index in memory and writes it whole, so two writers would each lose the "
                         "other's records. Wait for it to finish and run again (a migration: with --resume where it "
                         "had begun), or write to another path")
        # written by another writer since this object read it (or created since it looked): read it again first
        changed = self._version != file_version(self.path, self.sidecar_path, self.sidecar_path + "-wal")
        if self.exists() and (self._index is None or (changed and not self._writable)):
            self._open_index(writable=True)
            self._ids_sorted, self._ids_since = None, set()
            self.check_writable()

    def _ensure_writable(self, batch: VectorBatch) -> None:
        self._claim()
        if self._index is None:
            self._requested_dim = self._requested_dim or batch.vectors.shape[1]
            structure = self._structure() or {"index": "Flat"}
            if needs_training(structure["index"], self._requested_dim):
                raise UnsupportedIndexError(
                    f"FAISS index {self.path} is to be built as {structure['index']}, which must be trained on "
                    "vectors like the ones it will hold before it takes any: call train_on(vectors) first (a "
                    "migration does), or build it without ?index= (flat)")
            self._create(*self._build(structure, 0))  # untrained: nothing to fit to a collection's size
        elif not self._writable:
            self._open_index(writable=True)
            self.check_writable()  # before the sidecar is created beside an index that cannot take ids
            if self._db is None:
                self._db = self._connect()

    def check_writable(self) -> None:
        """Refuse an index that cannot take records by id: only IndexIDMap/IDMap2 (around any index) and IVF indexes
        (their inverted lists keep ids) can."""
        if self._index is None:
            return
        index = faiss.downcast_index(self._index)
        if _ivf_behind_transforms(index) is not None and not index.is_trained:
            raise UnsupportedIndexError(
                f"FAISS index {self.index_type} at {self.path} is not trained: an IVF index takes vectors only after "
                "its coarse quantizer is trained; train it first, or write to a new faiss:// path and v2v creates one"
            )
        if not (type(index).__name__.startswith("IndexIDMap") or _ivf_behind_transforms(index) is not None):
            raise UnsupportedIndexError(
                f"cannot write ids into FAISS index {self.index_type} at {self.path}: only IndexIDMap/IDMap2 "
                "and IVF indexes keep ids (an IVF's also behind OPQ / PCA transforms); write to a new faiss:// path "
                "and v2v creates one"
            )

    @property
    def overwrites_ids(self) -> bool:
        # IndexIDMap renumbers its rows after a removal; only an inner index that compacts its rows the same way
        # (flat codes: Flat, SQ, PQ) stays in step. Others (IVF, HNSW) would mislabel every later row. An index not
        # built yet: the one its structure (?index=, or a source's) builds
        built, structure = self._index, self._structure()
        if built is None and structure and self._requested_dim is not None:
            built = self._build(structure, 1000)[0]  # held here: its inner index is freed with it
        index = None if built is None else faiss.downcast_index(built)
        return not (index is not None and type(index).__name__.startswith("IndexIDMap")
                    and not isinstance(faiss.downcast_index(index.index), faiss.IndexFlatCodes))

    def _held(self, fids: np.ndarray) -> np.ndarray:
        index = faiss.downcast_index(self._index)
        return fids[np.isin(fids, faiss.rev_swig_ptr(index.id_map.data(), index.id_map.size()))]

    def holds(self, ids: Sequence[PointId]) -> np.ndarray:
        """Answered from the index's ids, read once (sorted, 8 bytes a record: the index itself is in memory) and
        kept up to date by this object's writes."""
        if self._index is None:
            return np.zeros(len(ids), dtype=bool)
        if self._ids_sorted is None:
            reader = self._get_reader()
            self._ids_sorted, self._ids_since = np.sort(reader.ids(0, reader.n)), set()
        fids = np.array([_faiss_id(i) for i in ids], dtype=np.int64)
        at = np.minimum(np.searchsorted(self._ids_sorted, fids), max(len(self._ids_sorted) - 1, 0))
        present = (self._ids_sorted[at] == fids) if len(self._ids_sorted) else np.zeros(len(fids), dtype=bool)
        present |= np.array([int(f) in self._ids_since for f in fids], dtype=bool)
        found = self._lookup(np.unique(fids[present]), payload=False)  # a string's id is its hash: same string?
        return present & np.array([found.get(int(f), (int(f),))[0] == i for f, i in zip(fids, ids)], dtype=bool)

    def held_ids_it_cannot_overwrite(self, ids: Sequence[PointId]) -> list[PointId]:
        if self.overwrites_ids or not ids:
            return []
        held = set(self._held(np.array([_faiss_id(i) for i in ids], dtype=np.int64)).tolist())
        return [i for i in ids if _faiss_id(i) in held]

    def _remove_before_overwrite(self, index: faiss.Index, fids: np.ndarray) -> None:
        """Remove the records of ``fids`` the index holds, so that adding them again overwrites them."""
        if _ivf_behind_transforms(index) is not None:  # not an IDMap around one: its rows would shift, not its lists
            index.remove_ids(fids)  # absent ids are no-ops; the lists keep the ids themselves
            return
        present = self._held(fids)
        if not len(present):
            return
        if not self.overwrites_ids:
            raise UnsupportedIndexError(
                f"FAISS index {self.index_type} at {self.path} already holds {len(present)} of these ids (e.g. "
                f"{int(present[0])}) and cannot remove or overwrite records: its inner index does not remove rows in "
                "place. "
                "Write to a new faiss:// path, or --on-exists replace"
            )
        index.remove_ids(present)

    def upsert(self, batch: VectorBatch) -> None:
        batch = check_batch(batch, self.dim)
        fids = [_faiss_id(i) for i in batch.ids]
        self._ensure_writable(batch)
        index = faiss.downcast_index(self._index)
        fid_arr = np.array(fids, dtype=np.int64)
        ivf = _ivf_behind_transforms(index)
        if ivf is not None and ivf.direct_map.type == faiss.DirectMap.Array:
            ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # an array map cannot take ids
        if index.ntotal:
            self._remove_before_overwrite(index, fid_arr)
        index.add_with_ids(prepare_for_metric(batch.vectors, self.metric), fid_arr)
        self._db.executemany(
            "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)",
            [
                (f, None if _is_native(i) else json.dumps(i), json.dumps(m) if m else None, d)
                for f, i, m, d in zip(fids, batch.ids, batch.metadata, batch.documents)
            ],
        )
        self._reader = None
        self._dirty = True
        if self._ids_sorted is not None:
            self._ids_since.update(fids)

    def delete(self, ids: Sequence[PointId]) -> None:
        if self._index is None or not ids:
            return
        self._ensure_writable(VectorBatch([], np.zeros((0, self.dim), np.float32)))
        fids = np.array([_faiss_id(i) for i in ids], dtype=np.int64)
        self._remove_before_overwrite(faiss.downcast_index(self._index), fids)
        self._db.executemany("DELETE FROM records WHERE faiss_id=?", [(int(f),) for f in fids])
        self._reader, self._dirty, self._ids_sorted = None, True, None

    def drop(self, other_vectors_too: bool = False) -> None:
        self._claim()
        if self._db is not None:
            self._db.close()
        for path in (self.path, self.sidecar_path):
            if os.path.exists(path):
                os.remove(path)
        self._index, self._db, self._reader, self._dirty, self._writable = None, None, None, False, False
        self._ids_sorted = None

    def flush(self) -> None:
        """Write the index atomically (temp file + rename), then commit the sidecar."""
        if not self._dirty:
            return
        tmp = self.path + ".tmp"
        try:
            faiss.write_index(self._index, tmp)
            os.replace(tmp, self.path)
        except BaseException:  # a full disk: the index as it was, and no part-written copy taking its space
            with contextlib.suppress(OSError):
                os.remove(tmp)
            raise
        self._db.commit()
        self._dirty = False

    def close(self) -> None:
        """Flush and let go of the sidecar and the writer lock, both even where the flush fails (a full disk): the
        sidecar's rows since the last flush are then dropped with the index's, and a resume writes them again."""
        try:
            self.flush()
        finally:
            try:
                if self._db is not None:
                    self._db.close()
                    self._db = None
            finally:
                self._lock.release()
