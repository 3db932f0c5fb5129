"""A FAISS index's structure as settings (a factory string and its search parameters), and a new index built to it.

A flat index holds every vector whole: fine for thousands, not for the millions users compress with IVF lists, PQ or
SQ codes, or search through an HNSW graph. A migration that creates a FAISS destination builds it like its source
(:meth:`FaissStore.settings`), or as a destination URI's ``?index=FACTORY`` asks: the structure is written as a
`FAISS factory string <https://github.com/facebookresearch/faiss/wiki/The-index-factory>`_ (``IVF1024,PQ32``,
``HNSW32``, ``SQ8``, ``OPQ16,IVF1024,PQ16``, ``HNSW32_PQ16``, ``IVF1024,RaBitQ``...) with ``nprobe`` / ``efSearch`` /
``efConstruction`` / ``qb``; pre-transforms (OPQ, PCA, random rotation, L2 normalisation) are carried before any of
them, their output dimensions scaled with the space's (:func:`fit_to`), and a refinement after (``...,RFlat``, or
``...,Refine(SQfp16)``: the hits re-ranked by full or finer vectors, ``k_factor`` times as many fetched). Structures that must be trained
(pre-transforms, IVF lists, PQ / SQ / RaBitQ codes) are trained on translated records first (:func:`training_size` of
them, drawn at random from the source: :meth:`VectorStore.spread_sample`), and fitted to a collection too small for
them (:func:`fit_to`: fewer lists; flat codes where PQ codebooks cannot be trained).
Other structures (ITQ, additive quantizers, NSG) are named as left behind.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import faiss

from .uri import SEARCH_PARAMS

logger = logging.getLogger(__name__)

_SQ_NAMES = {"QT_8bit": "8", "QT_6bit": "6", "QT_4bit": "4", "QT_fp16": "fp16", "QT_bf16": "bf16"}
SQ_CODES = {getattr(faiss.ScalarQuantizer, qt): name for qt, name in _SQ_NAMES.items()
            if hasattr(faiss.ScalarQuantizer, qt)}
POINTS_PER_LIST = 39  # FAISS's k-means warns below 39 training points a centroid
TRAINING_SAMPLE = 65_536  # translated records an index is trained on (more where its lists need them)
MAX_TRAINING_SAMPLE = 1_000_000
_IVF = re.compile(r"^IVF(\d+)(_HNSW\d+)?,(.+)$")
_PQ = re.compile(r"^PQ(\d+)(x(\d+))?(fs)?$")
_HNSW = re.compile(r"^HNSW(\d+)(?:_(.+))?$")  # an HNSW graph over flat vectors or over codes: HNSW32, HNSW32_PQ16
# pre-transforms: OPQ rotation (to d_out), PCA (W: whitened, R: randomly rotated after), random rotation, L2 norm
_PRE = re.compile(r"^(?:OPQ(\d+)(?:_(\d+))?|PCA(W?)(R?)(\d+)|RR(\d+)|L2norm)$")
_REFINE = re.compile(r"^(.+),(RFlat|Refine\((.+)\))$")  # a base structure, then a refinement of its hits


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
    if name in ("IndexRaBitQ", "IndexIVFRaBitQ"):
        bits = int(index.rabitq.nb_bits)
        return "RaBitQ" if bits == 1 else f"RaBitQ{bits}"
    return None


def _transform(vt: Any) -> str | None:
    """The factory name of a pre-transform (e.g. ``OPQ16_192``, ``PCAR64``, ``RR384``, ``L2norm``), or None."""
    vt = faiss.downcast_VectorTransform(vt)
    name = type(vt).__name__
    if name == "OPQMatrix":
        return f"OPQ{vt.M}" + (f"_{vt.d_out}" if vt.d_out != vt.d_in else "")
    if name == "PCAMatrix" and float(vt.eigen_power) in (0.0, -0.5):
        return f"PCA{'W' if vt.eigen_power else ''}{'R' if vt.random_rotation else ''}{vt.d_out}"
    if name == "RandomRotationMatrix":
        return f"RR{vt.d_out}"
    if name == "NormalizationTransform" and float(vt.norm) == 2.0:
        return "L2norm"
    return None


def core_index(index: Any) -> Any:
    """The index that holds the records' codes, inside an IDMap(2), a refinement (its base) and any pre-transforms
    (kept referenced by FAISS's Python objects: the caller holds ``index``)."""
    index = faiss.downcast_index(index)
    while True:
        if type(index).__name__.startswith("IndexIDMap") or isinstance(index, faiss.IndexPreTransform):
            index = faiss.downcast_index(index.index)
        elif isinstance(index, faiss.IndexRefine):
            index = faiss.downcast_index(index.base_index)
        else:
            return index


def _split(factory: str) -> tuple[list[str], str]:
    """A factory string's leading pre-transforms and the rest (``OPQ16,IVF64,PQ16`` -> ``["OPQ16"], "IVF64,PQ16"``)."""
    parts = factory.split(",")
    n = 0
    while n < len(parts) - 1 and _PRE.match(parts[n]):
        n += 1
    return parts[:n], ",".join(parts[n:])


@dataclass
class _Shape:
    """A factory string taken apart: ``OPQ16,IVF64,PQ16,RFlat`` -> prefix ``["OPQ16"]``, core ``IVF64,PQ16`` (its
    ``ivf`` match; ``hnsw`` for ``HNSW32[_CODES]``), codes ``PQ16``, refine ``,RFlat``."""

    prefix: list[str]
    core: str
    ivf: re.Match | None
    hnsw: re.Match | None
    codes: str
    refine: str


def _shape(factory: str) -> _Shape:
    prefix, core = _split(factory)
    refined = _REFINE.match(core)
    core, refine = (refined.group(1), "," + refined.group(2)) if refined else (core, "")
    ivf = _IVF.match(core)
    hnsw = None if ivf else _HNSW.match(core)
    codes = ivf.group(3) if ivf else (hnsw.group(2) or "Flat") if hnsw else core
    return _Shape(prefix, core, ivf, hnsw, codes, refine)


def describe_index(index: Any) -> tuple[dict[str, Any], str | None]:
    """``index``'s structure as settings (``{"index": FACTORY, ...}``; {} for a flat index, which is what a new
    destination is anyway), and why it cannot be carried where it cannot (None where it can)."""
    index = faiss.downcast_index(index)
    if type(index).__name__.startswith("IndexIDMap"):
        index = faiss.downcast_index(index.index)
    if isinstance(index, faiss.IndexRefine):
        return _describe_refined(index)
    if not isinstance(index, faiss.IndexPreTransform):
        return _describe_core(index)
    chain = [faiss.downcast_VectorTransform(index.chain.at(k)) for k in range(index.chain.size())]
    prefix = [_transform(vt) for vt in chain]
    settings, why = _describe_core(core_index(index))
    if why:
        return {}, f"IndexPreTransform over {why}"
    core = settings.pop("index", "Flat")
    pq_m = _pq_m(core)
    last = chain[-1]
    if prefix[-1] is None and pq_m and type(last).__name__ == "LinearTransform" and last.is_orthonormal \
            and not last.have_bias and last.d_out % pq_m == 0:
        # an OPQ rotation read back from a file is a plain orthonormal LinearTransform (FAISS does not write what
        # trained it); before PQ codes it is what the factory's OPQ builds
        prefix[-1] = f"OPQ{pq_m}" + (f"_{last.d_out}" if last.d_out != last.d_in else "")
    if None in prefix:
        return {}, f"IndexPreTransform with a {type(chain[prefix.index(None)]).__name__}"
    return {"index": ",".join(prefix + [core]), **settings, "records": int(index.ntotal), "dim": int(index.d)}, None


def _describe_refined(index: Any) -> tuple[dict[str, Any], str | None]:
    """A refinement (IndexRefineFlat / IndexRefine): its base's structure, then ``RFlat`` or ``Refine(CODES)``."""
    refine = faiss.downcast_index(index.refine_index)
    codec = "Flat" if type(index).__name__ == "IndexRefineFlat" else _codec(refine)
    settings, why = describe_index(faiss.downcast_index(index.base_index))
    if why:
        return {}, f"{type(index).__name__} over {why}"
    if codec is None:
        return {}, f"{type(index).__name__} with a {type(refine).__name__} refinement"
    if not settings.get("index"):  # a flat base: the refinement adds nothing a flat destination lacks
        return {}, None
    suffix = "RFlat" if codec == "Flat" else f"Refine({codec})"
    return {**settings, "index": f"{settings['index']},{suffix}", "k_factor": float(index.k_factor),
            "records": int(index.ntotal), "dim": int(index.d)}, None


def _describe_core(index: Any) -> tuple[dict[str, Any], str | None]:
    name, records = type(index).__name__, int(index.ntotal)
    if name in ("IndexFlat", "IndexFlatIP", "IndexFlatL2"):
        return {}, None
    if name in ("IndexHNSWFlat", "IndexHNSWSQ", "IndexHNSWPQ"):
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
        qb = {"qb": int(index.qb)} if hasattr(index, "qb") else {}
        return {"index": f"IVF{index.nlist}{coarse},{codec}", "nprobe": int(index.nprobe), **qb, "records": records,
                "dim": int(index.d)}, None
    codec = _codec(index)
    if codec is None or codec == "Flat":
        return {}, name
    qb = {"qb": int(index.qb)} if hasattr(index, "qb") else {}
    return {"index": codec, **qb, "records": records, "dim": int(index.d)}, None


def _out_dims(prefix: list[str], dim: int) -> list[int]:
    """The dimension after each pre-transform of ``prefix`` applied to ``dim``-dimensional vectors."""
    dims = []
    for part in prefix:
        m = _PRE.match(part)
        out = dim if part == "L2norm" else int(m.group(2) or dim) if m.group(1) else int(m.group(5) or m.group(6))
        dims.append(out)
        dim = out
    return dims


def _largest_divisor(n: int, at_most: int) -> int:
    return max(d for d in range(1, min(n, at_most) + 1) if n % d == 0)


def fit_to(settings: dict[str, Any], records: int, dim: int) -> tuple[str, list[str]]:
    """The factory string to build ``settings["index"]`` for ``records`` vectors of ``dim`` dimensions, and a phrase
    for each change: an IVF gets at most one list per :data:`POINTS_PER_LIST` records, PQ codes a number of
    sub-quantizers that divides their dimension (the same or fewer bytes a vector), and a collection too small to train
    PQ codebooks (fewer than 2^nbits records) keeps its vectors flat. A pre-transform that reduces the dimension keeps
    the number of dimensions the source kept (``OPQ16_96`` of 384 stays ``OPQ16_96`` at 768: the translations hold no
    more than the source did, and on the kit keeping 192 of 768 did as well as 384 of 768,
    ``benchmarks/results/faiss_structure_opq_reduced.md``), at most ``dim``; one that keeps it keeps ``dim``; one that
    pads (a random rotation into more dimensions) keeps its padding; an OPQ rotation keeps the sub-quantizers of the PQ
    codes it is for."""
    prefix, core = _split(settings["index"])
    source_dim = int(settings.get("dim") or dim)
    fitted, changes, d_src, d = [], [], source_dim, dim
    for part, out_src in zip(prefix, _out_dims(prefix, source_dim)):
        m = _PRE.match(part)
        out = d if out_src == d_src else min(out_src, d) if out_src < d_src else d + out_src - d_src
        if part == "L2norm":
            new = part
        elif m.group(1):  # OPQ: M sub-quantizers, which must divide its output dimension
            opq_m = _largest_divisor(out, int(m.group(1)))
            new = f"OPQ{opq_m}" + (f"_{out}" if out != d else "")
        else:
            new = re.sub(r"\d+$", str(out), part)
        if new != part:
            changes.append(f"{new}, not {part}, at d={d}")
        fitted.append(new)
        d_src, d = out_src, out
    core_fitted, core_changes = _fit_core(core, records, d)
    pq_m = _pq_m(core_fitted)
    for i, part in enumerate(fitted):  # an OPQ rotation for PQ codes of M sub-quantizers follows their new M
        opq = re.match(r"^OPQ(\d+)(_\d+)?$", part)
        src_m = re.match(r"^OPQ(\d+)", prefix[i])
        if opq and pq_m and int(src_m.group(1)) == _pq_m(core) and int(opq.group(1)) != pq_m:
            out = _out_dims(fitted[: i + 1], dim)[-1]
            if out % pq_m == 0:
                fitted[i] = f"OPQ{pq_m}{opq.group(2) or ''}"
    return ",".join(fitted + [core_fitted]), changes + core_changes


def _pq_m(factory: str) -> int | None:
    """The number of PQ sub-quantizers of a factory string's codes (``IVF64,PQ16x8`` -> 16), or None."""
    m = re.search(r"(?:^|[,_])PQ(\d+)", factory)
    return int(m.group(1)) if m else None


def _fit_core(factory: str, records: int, dim: int) -> tuple[str, list[str]]:
    """:func:`fit_to` for a factory string without pre-transforms (a refinement after its base kept as it is)."""
    changes: list[str] = []
    shape = _shape(factory)
    ivf, hnsw, codec = shape.ivf, shape.hnsw, shape.codes
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
            fitted = _largest_divisor(dim, m)
            changes.append(f"PQ{fitted}, not PQ{m}: {m} sub-quantizers do not divide d={dim}")
            codec = codec.replace(f"PQ{m}", f"PQ{fitted}", 1)
    if ivf:
        return f"IVF{nlist}{ivf.group(2) or ''},{codec}{shape.refine}", changes
    if hnsw:
        return f"HNSW{hnsw.group(1)}" + ("" if codec == "Flat" else f"_{codec}") + shape.refine, changes
    return codec + shape.refine, changes


def needs_training(factory: str, dim: int | None = None) -> bool:
    """Whether an index of ``factory`` must be trained before it takes vectors (pre-transforms, IVF lists, PQ codes,
    most SQ); FAISS is asked with an index built at ``dim`` (unknown: at the largest dimension its pre-transforms name,
    at least 8, with one PQ sub-quantizer). Raises FAISS's error for a factory string it cannot build."""
    if not dim:
        dim = max([8] + [int(n) for n in re.findall(r"\d+", ",".join(_split(factory)[0]))])
        factory = re.sub(r"PQ\d+", "PQ1", factory)
    return not faiss.index_factory(dim, factory).is_trained


def training_size(settings: dict[str, Any], records: int, dim: int | None = None) -> int:
    """How many translated records an index built to ``settings`` is trained on: :data:`TRAINING_SAMPLE`, or
    :data:`POINTS_PER_LIST` a list where it has more lists (at most :data:`MAX_TRAINING_SAMPLE`), never more than the
    collection holds; 0 where it needs no training."""
    if not settings.get("index"):
        return 0
    factory = fit_to(settings, records, dim)[0] if dim else settings["index"]
    if not needs_training(factory, dim):
        return 0
    ivf = _shape(factory).ivf
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
# OPQMatrix.train's defaults: 50 rounds of a rotation's Procrustes fit and PQ codebooks (40 k-means iterations in the
# first round, 4 in the others) on at most 65,536 points; its k-means sets the time (each round's encoding of the
# points is batched into matrix products). Measured here: OPQ16 at d=384 trained in 47 s on 20,000 points (estimated
# 40 s) and, with IVF256,PQ16 after it, 129 s on 65,536 (estimated 127 s).
_OPQ_KMEANS_ITERATIONS, _OPQ_MAX_POINTS = 40 + 49 * 4, 65_536


def _pq_training_seconds(m: int, centroids: int, points: int, iterations: int) -> float:
    points = min(points, _POINTS_PER_CENTROID * centroids)
    return m * iterations * (KMEANS_ITERATION_S + points * centroids / PQ_TRAINING_DISTANCES_PER_S)


def _prefix_seconds(prefix: list[str], samples: int, records: int, dim: int) -> tuple[float, float]:
    """Training and applying pre-transforms: OPQ's rounds of PQ training, PCA's covariance, and a matrix product a
    record for each rotation or projection."""
    train = add = 0.0
    for part, out in zip(prefix, _out_dims(prefix, dim)):
        opq = re.match(r"^OPQ(\d+)", part)
        if opq and samples:
            points = min(samples, _OPQ_MAX_POINTS)
            train += _pq_training_seconds(int(opq.group(1)), 256, points, _OPQ_KMEANS_ITERATIONS)
        elif part.startswith("PCA") and samples:
            train += 2.0 * samples * dim * dim / MATRIX_FLOPS_PER_S
        if part != "L2norm":
            add += records * 2.0 * dim * out / MATRIX_FLOPS_PER_S
        dim = out
    return train, add


def build_seconds(settings: dict[str, Any], records: int, dim: int, trained: bool = False) -> tuple[float, float]:
    """Estimated seconds to train an index built to ``settings`` for ``records`` vectors of ``dim`` dimensions, and to
    add them (beyond storing their codes): pre-transforms (OPQ rotations above all), k-means of the IVF lists and PQ
    codebooks on :func:`training_size` records, each record's assignment to its list and its encoding, HNSW
    insertions. (0, 0) for a flat index. An index already ``trained`` (it exists: ``settings`` describe it as built)
    only adds."""
    if not settings.get("index"):
        return 0.0, 0.0
    factory = settings["index"] if trained else fit_to(settings, records, dim)[0]
    samples = 0 if trained else training_size(settings, records, dim)
    shape = _shape(factory)  # a refinement: its vectors, stored
    ivf, hnsw, codes = shape.ivf, shape.hnsw, shape.codes
    train, add = _prefix_seconds(shape.prefix, samples, records, dim)
    dim = _out_dims(shape.prefix, dim)[-1] if shape.prefix else dim
    pq = _PQ.match(codes)
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
        if samples:
            train += _pq_training_seconds(m, centroids, samples, _PQ_KMEANS_ITERATIONS)
        add += records * m * centroids / PQ_ENCODING_DISTANCES_PER_S
    if hnsw:
        ef = int(settings.get("efConstruction") or 40)
        add += records * (ef + 60) * int(hnsw.group(1)) * dim / HNSW_INSERT_UNITS_PER_S
    return train, add


def build_index(settings: dict[str, Any], dim: int, metric_type: int, records: int) -> tuple[Any, str]:
    """A new, empty index built to ``settings`` for ``records`` vectors (:func:`fit_to`), keeping ids (IVF lists keep
    them, pre-transformed or not; other structures are wrapped in an IDMap2), with its search parameters set; and its
    factory string."""
    factory, changes = fit_to(settings, records, dim)
    for change in changes:
        logger.warning("FAISS index %s: %s", settings["index"], change)
    shape = _shape(factory)
    keeps_ids = shape.ivf is not None and not shape.refine  # an IVF's lists keep ids; a refinement does not
    index = faiss.index_factory(dim, factory if keeps_ids else "IDMap2," + factory, metric_type)
    inner = core_index(index)
    if isinstance(inner, faiss.IndexIVF) and settings.get("nprobe"):
        inner.nprobe = min(int(settings["nprobe"]), inner.nlist)
    codes = faiss.downcast_index(inner.storage) if isinstance(inner, faiss.IndexHNSW) else inner
    if hasattr(codes, "do_polysemous_training"):  # the factory's default: minutes of annealing for Hamming-filtered
        codes.do_polysemous_training = False       # search, which a search without polysemous_ht never uses
    for clustering in (getattr(getattr(codes, "pq", None), "cp", None), getattr(inner, "cp", None)):
        if clustering is not None:  # the few-points case is a change logged above, not a FAISS line per sub-quantizer
            clustering.min_points_per_centroid = 1
    if isinstance(inner, faiss.IndexHNSW):
        for name in ("efSearch", "efConstruction"):
            if settings.get(name):
                setattr(inner.hnsw, name, int(settings[name]))
    if hasattr(inner, "qb") and settings.get("qb"):
        inner.qb = int(settings["qb"])
    refine = faiss.downcast_index(index if keeps_ids else faiss.downcast_index(index).index)
    if isinstance(refine, faiss.IndexRefine) and settings.get("k_factor"):
        refine.k_factor = float(settings["k_factor"])
    return index, factory


def describe(settings: dict[str, Any], dim: int) -> list[str]:
    """One phrase for the structure ``settings`` builds at ``dim`` (with the changes a small collection needs)."""
    if not settings.get("index"):
        return []
    factory, changes = fit_to(settings, int(settings.get("records") or MAX_TRAINING_SAMPLE), dim)
    params = [f"{name} {settings[name]}" for name in SEARCH_PARAMS if settings.get(name)]
    trained = " (trained on translated records)" if needs_training(factory, dim) else ""
    notes = changes + _wider(factory, settings, dim)
    return [f"FAISS index {factory}" + (f" ({', '.join(params)})" if params else "") + trained
            + (f"; {'; '.join(notes)}" if notes else "")]


def _wider(factory: str, settings: dict[str, Any], dim: int) -> list[str]:
    """A phrase where PQ codes carried to a wider space hold more dimensions a sub-quantizer than the source's (the
    same bytes, more loss), with the ``?index=`` that keeps the source's ratio (and an OPQ rotation's sub-quantizers
    with it)."""
    source_prefix = _split(settings["index"])[0]
    source_dim = settings.get("dim") and (_out_dims(source_prefix, settings["dim"]) or [settings["dim"]])[-1]
    shape = _shape(factory)
    dim = (_out_dims(shape.prefix, dim) or [dim])[-1]
    pq = _PQ.match(shape.codes)
    if not pq or not source_dim or dim <= source_dim:
        return []
    m = int(pq.group(1))
    per_code = source_dim / m
    wanted = dim / per_code
    if wanted != int(wanted):
        return []
    keep = ",".join([re.sub(rf"^OPQ{m}(?=_|$)", f"OPQ{int(wanted)}", part) for part in shape.prefix]
                    + [re.sub(rf"(^|[,_])PQ{m}", rf"\g<1>PQ{int(wanted)}", shape.core, count=1) + shape.refine])
    return [f"{dim // m} dimensions a PQ sub-quantizer against the source's {per_code:g}: more loss for the same bytes; "
            f"--dest ...?index={keep} keeps the source's ratio ({wanted / m:g}x the bytes)"]
