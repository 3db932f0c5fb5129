"""A FAISS index's structure as settings (a factory string and its search parameters), and a new index built to it.

A flat index holds every vector whole: fine for thousands, not for the millions users compress with IVF lists, PQ or
SQ codes, or search through an HNSW graph. A migration that creates a FAISS destination builds it like its source
(:meth:`FaissStore.settings`), or as a destination URI's ``?index=FACTORY`` asks: the structure is written as a
`FAISS factory string <https://github.com/facebookresearch/faiss/wiki/The-index-factory>`_ (``IVF1024,PQ32``,
``HNSW32``, ``SQ8``...) with ``nprobe`` / ``efSearch`` / ``efConstruction``. Structures that must be trained (IVF
lists, PQ / SQ codes) are trained on translated records first (:func:`training_size` of them, drawn at random from the
source: :meth:`VectorStore.spread_sample`), and fitted to a
collection too small for them (:func:`fit_to`: fewer lists; flat codes where PQ codebooks cannot be trained).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import faiss

logger = logging.getLogger(__name__)

_SQ_NAMES = {"QT_8bit": "8", "QT_6bit": "6", "QT_4bit": "4", "QT_fp16": "fp16", "QT_bf16": "bf16"}
SQ_CODES = {getattr(faiss.ScalarQuantizer, qt): name for qt, name in _SQ_NAMES.items()
            if hasattr(faiss.ScalarQuantizer, qt)}
POINTS_PER_LIST = 39  # FAISS's k-means warns below 39 training points a centroid
TRAINING_SAMPLE = 65_536  # translated records an index is trained on (more where its lists need them)
MAX_TRAINING_SAMPLE = 1_000_000
_IVF = re.compile(r"^IVF(\d+)(_HNSW\d+)?,(.+)$")
_PQ = re.compile(r"^PQ(\d+)(x(\d+))?(fs)?$")


def _hnsw_m(hnsw: Any) -> int:
    return int(hnsw.nb_neighbors(1))


def _codec(index: Any) -> str | None:
    """The factory name of the codes a flat-codes index (or an IVF's lists) stores, or None."""
    name = type(index).__name__
    if name in ("IndexFlat", "IndexFlatIP", "IndexFlatL2", "IndexIVFFlat"):
        return "Flat"
    if name in ("IndexScalarQuantizer", "IndexIVFScalarQuantizer"):
        code = SQ_CODES.get(index.sq.qtype)
        return f"SQ{code}" if code else None
    if name in ("IndexPQ", "IndexIVFPQ"):
        pq = index.pq
        return f"PQ{pq.M}x{pq.nbits}"
    if name in ("IndexPQFastScan", "IndexIVFPQFastScan"):
        return f"PQ{index.pq.M}x4fs"
    return None


def describe_index(index: Any) -> tuple[dict[str, Any], str | None]:
    """``index``'s structure as settings (``{"index": FACTORY, ...}``; {} for a flat index, which is what a new
    destination is anyway), and why it cannot be carried where it cannot (None where it can)."""
    index = faiss.downcast_index(index)
    if type(index).__name__.startswith("IndexIDMap"):
        index = faiss.downcast_index(index.index)
    name, records = type(index).__name__, int(index.ntotal)
    if name in ("IndexFlat", "IndexFlatIP", "IndexFlatL2"):
        return {}, None
    if name in ("IndexHNSWFlat", "IndexHNSWSQ"):
        storage = faiss.downcast_index(index.storage)
        codec = "" if name == "IndexHNSWFlat" else _codec(storage)
        if codec is None:
            return {}, f"{name} over {type(storage).__name__}"
        m = _hnsw_m(index.hnsw)
        return {"index": f"HNSW{m}" + (f"_{codec}" if codec else ""), "efSearch": int(index.hnsw.efSearch),
                "efConstruction": int(index.hnsw.efConstruction), "records": records, "dim": int(index.d)}, None
    if isinstance(index, faiss.IndexIVF):
        quantizer, codec = faiss.downcast_index(index.quantizer), _codec(index)
        coarse = {"IndexFlat": "", "IndexFlatIP": "", "IndexFlatL2": ""}.get(type(quantizer).__name__)
        if coarse is None and isinstance(quantizer, faiss.IndexHNSWFlat):
            coarse = f"_HNSW{_hnsw_m(quantizer.hnsw)}"
        if codec is None or coarse is None:
            return {}, f"{name} with a {type(quantizer).__name__} coarse quantizer"
        return {"index": f"IVF{index.nlist}{coarse},{codec}", "nprobe": int(index.nprobe), "records": records,
                "dim": int(index.d)}, None
    codec = _codec(index)
    if codec is None or codec == "Flat":
        return {}, name
    return {"index": codec, "records": records, "dim": int(index.d)}, None


def fit_to(settings: dict[str, Any], records: int, dim: int) -> tuple[str, list[str]]:
    """The factory string to build ``settings["index"]`` for ``records`` vectors of ``dim`` dimensions, and a phrase
    for each change: an IVF gets at most one list per :data:`POINTS_PER_LIST` records, PQ codes a number of
    sub-quantizers that divides ``dim`` (the same or fewer bytes a vector), and a collection too small to train PQ
    codebooks (fewer than 2^nbits records) keeps its vectors flat."""
    factory, changes = settings["index"], []
    ivf = _IVF.match(factory)
    codec = ivf.group(3) if ivf else factory
    if ivf:
        nlist = int(ivf.group(1))
        if records < POINTS_PER_LIST * nlist:
            fitted = max(1, records // POINTS_PER_LIST)
            if fitted < nlist:
                changes.append(f"{fitted} lists, not {nlist}, for {records:,} records")
                nlist = fitted
    pq = _PQ.match(codec)
    if pq:
        m, nbits = int(pq.group(1)), int(pq.group(3) or 8) if not pq.group(4) else 4
        if records < 2 ** nbits:
            changes.append(f"flat codes, not {codec}: {records:,} records cannot train {2 ** nbits} PQ centroids")
            codec = "Flat"
        elif records < POINTS_PER_LIST * 2 ** nbits:
            changes.append(f"PQ codebooks trained on {records:,} records (FAISS advises "
                           f"{POINTS_PER_LIST * 2 ** nbits:,})")
        if codec != "Flat" and dim % m:
            fitted = max(d for d in range(1, m + 1) if dim % d == 0)
            changes.append(f"PQ{fitted}, not PQ{m}: {m} sub-quantizers do not divide d={dim}")
            codec = codec.replace(f"PQ{m}", f"PQ{fitted}", 1)
    if ivf:
        return f"IVF{nlist}{ivf.group(2) or ''},{codec}", changes
    return ("Flat" if codec == "Flat" else codec), changes


def needs_training(factory: str, dim: int | None = None) -> bool:
    """Whether an index of ``factory`` must be trained before it takes vectors (IVF lists, PQ codes, most SQ); FAISS
    is asked with an index built at ``dim`` (unknown: at d=8, with 8 PQ sub-quantizers). Raises FAISS's error for a
    factory string it cannot build."""
    probe = faiss.index_factory(dim, factory) if dim else faiss.index_factory(8, re.sub(r"PQ\d+", "PQ8", factory))
    return not probe.is_trained


def training_size(settings: dict[str, Any], records: int, dim: int | None = None) -> int:
    """How many translated records an index built to ``settings`` is trained on: :data:`TRAINING_SAMPLE`, or
    :data:`POINTS_PER_LIST` a list where it has more lists (at most :data:`MAX_TRAINING_SAMPLE`), never more than the
    collection holds; 0 where it needs no training."""
    if not settings.get("index") or not needs_training(settings["index"], dim):
        return 0
    ivf = _IVF.match(settings["index"])
    wanted = max(TRAINING_SAMPLE, min(POINTS_PER_LIST * int(ivf.group(1)) if ivf else 0, MAX_TRAINING_SAMPLE))
    return min(records, wanted)


# What building an index costs on a CPU, for a migration's estimate (set from benchmarks/faiss_build_cost.py, on a
# 2-core host; a machine with more cores, or FAISS on a GPU, builds faster). k-means of IVF lists and assignment to
# them are matrix products at full dimension; a PQ sub-quantizer's k-means and a record's encoding are many small
# distance computations (a few dimensions each: their count, not their flops, sets the time) and a fixed cost per
# k-means iteration; an HNSW insertion is a walk of the graph (its cost grows slower than efConstruction).
MATRIX_FLOPS_PER_S = 25e9
PQ_TRAINING_DISTANCES_PER_S = 6e8  # k-means: blocks of points against the codebook
PQ_ENCODING_DISTANCES_PER_S = 2e8  # a batch's records, sub-quantizer by sub-quantizer
KMEANS_ITERATION_S = 1e-3
HNSW_INSERT_UNITS_PER_S = 5e9  # (efConstruction + 60) x M x d, an insertion
_IVF_KMEANS_ITERATIONS, _PQ_KMEANS_ITERATIONS = 10, 25  # FAISS's defaults (IndexIVF.cp, ProductQuantizer.cp)
_POINTS_PER_CENTROID = 256  # FAISS's k-means samples at most this many training points a centroid


def build_seconds(settings: dict[str, Any], records: int, dim: int, trained: bool = False) -> tuple[float, float]:
    """Estimated seconds to train an index built to ``settings`` for ``records`` vectors of ``dim`` dimensions, and to
    add them (beyond storing their codes): k-means of the IVF lists and PQ codebooks on :func:`training_size`
    records, each record's assignment to its list and its encoding, HNSW insertions. (0, 0) for a flat index. An
    index already ``trained`` (it exists: ``settings`` describe it as built) only adds."""
    if not settings.get("index"):
        return 0.0, 0.0
    factory = settings["index"] if trained else fit_to(settings, records, dim)[0]
    samples = 0 if trained else training_size(settings, records, dim)
    ivf = _IVF.match(factory)
    codes = ivf.group(3) if ivf else factory
    pq, hnsw = _PQ.match(codes), re.match(r"^HNSW(\d+)", codes)
    train = add = 0.0
    if ivf:
        nlist = int(ivf.group(1))
        # a flat coarse quantizer compares a vector with every list; an HNSW one walks its graph (~16 x 2M lists)
        compared = nlist if not ivf.group(2) else min(nlist, 32 * int(ivf.group(2).removeprefix("_HNSW")))
        flops = 2.0 * dim * compared  # one vector's assignment
        train += (2.0 * min(samples, _POINTS_PER_CENTROID * nlist) * dim * nlist * _IVF_KMEANS_ITERATIONS
                  + (samples * flops if codes != "Flat" else 0)) / MATRIX_FLOPS_PER_S  # codes of residuals
        add += records * flops / MATRIX_FLOPS_PER_S
    if pq:
        m, centroids = int(pq.group(1)), (16 if pq.group(4) else 2 ** int(pq.group(3) or 8))
        points = min(samples, _POINTS_PER_CENTROID * centroids)
        if samples:
            train += m * _PQ_KMEANS_ITERATIONS * (KMEANS_ITERATION_S + points * centroids / PQ_TRAINING_DISTANCES_PER_S)
        add += records * m * centroids / PQ_ENCODING_DISTANCES_PER_S
    if hnsw:
        ef = int(settings.get("efConstruction") or 40)
        add += records * (ef + 60) * int(hnsw.group(1)) * dim / HNSW_INSERT_UNITS_PER_S
    return train, add


def build_index(settings: dict[str, Any], dim: int, metric_type: int, records: int) -> tuple[Any, str]:
    """A new, empty index built to ``settings`` for ``records`` vectors (:func:`fit_to`), keeping ids (IVF lists keep
    them; other structures are wrapped in an IDMap2), with its search parameters set; and its factory string."""
    factory, changes = fit_to(settings, records, dim)
    for change in changes:
        logger.warning("FAISS index %s: %s", settings["index"], change)
    index = faiss.index_factory(dim, factory if factory.startswith("IVF") else "IDMap2," + factory, metric_type)
    inner = faiss.downcast_index(index if factory.startswith("IVF") else faiss.downcast_index(index).index)
    if isinstance(inner, faiss.IndexIVF) and settings.get("nprobe"):
        inner.nprobe = min(int(settings["nprobe"]), inner.nlist)
    if hasattr(inner, "do_polysemous_training"):  # the factory's default: minutes of annealing for Hamming-filtered
        inner.do_polysemous_training = False       # search, which a search without polysemous_ht never uses
    for clustering in (getattr(getattr(inner, "pq", None), "cp", None), getattr(inner, "cp", None)):
        if clustering is not None:  # the few-points case is a change logged above, not a FAISS line per sub-quantizer
            clustering.min_points_per_centroid = 1
    if isinstance(inner, faiss.IndexHNSW):
        for name in ("efSearch", "efConstruction"):
            if settings.get(name):
                setattr(inner.hnsw, name, int(settings[name]))
    return index, factory


def describe(settings: dict[str, Any], dim: int) -> list[str]:
    """One phrase for the structure ``settings`` builds at ``dim`` (with the changes a small collection needs)."""
    if not settings.get("index"):
        return []
    factory, changes = fit_to(settings, int(settings.get("records") or MAX_TRAINING_SAMPLE), dim)
    params = [f"{name} {settings[name]}" for name in ("nprobe", "efSearch", "efConstruction") if settings.get(name)]
    trained = " (trained on translated records)" if needs_training(factory, dim) else ""
    notes = changes + _wider(factory, settings.get("dim"), dim)
    return [f"FAISS index {factory}" + (f" ({', '.join(params)})" if params else "") + trained
            + (f"; {'; '.join(notes)}" if notes else "")]


def _wider(factory: str, source_dim: int | None, dim: int) -> list[str]:
    """A phrase where PQ codes carried to a wider space hold more dimensions a sub-quantizer than the source's (the
    same bytes, more loss), with the ``?index=`` that keeps the source's ratio."""
    ivf = _IVF.match(factory)
    pq = _PQ.match(ivf.group(3) if ivf else factory)
    if not pq or not source_dim or dim <= source_dim:
        return []
    m = int(pq.group(1))
    per_code = source_dim / m
    wanted = dim / per_code
    if wanted != int(wanted):
        return []
    keep = factory.replace(f"PQ{m}", f"PQ{int(wanted)}", 1)
    return [f"{dim // m} dimensions a PQ sub-quantizer against the source's {per_code:g}: more loss for the same bytes; "
            f"--dest ...?index={keep} keeps the source's ratio ({wanted / m:g}x the bytes)"]
