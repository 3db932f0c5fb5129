"""Migrate a collection into another model's space without re-encoding: read -> translate -> write.

The unit of work is :func:`translate_batch`, a plain function of one batch; :func:`migrate` streams a
source through it and writes to any destination. Resumable and exactly-once in effect: after every
checkpoint the destination is flushed and then a small state file records the source position
reached. A job killed at any point resumes (``resume=True``) from the last checkpoint; the batches
since then are written again by id (upsert), so no id is lost or duplicated. The source is only read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import hashlib
import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from v2v_store.connectors import (TRANSLATED_KEY, Metric, VectorBatch, VectorStore, keeping_document_key,
                                  open_store, other_vectors_left_behind, parse_uri, points_without_vector_left_behind,
                                  same_collection, same_points, translations_in)
from v2v_store.connectors.base import no_embedding
from v2v_store.connectors.shared import ProcessLock, lock_file
from v2v_store.connectors.uri import local_directory
from v2v_store.connectors.where import Where, filter_hints
from v2v_store.errors import (DestinationExistsError, DimensionMismatchError, DiskFullError, InvalidVectorsError,
                              StoreBusyError, StoreNotFoundError, UnsupportedIndexError, V2VError, free_bytes,
                              naming_full_disks, naming_lost_connections)
from v2v_store.lengths import SAMPLE as LENGTHS_SAMPLE
from v2v_store.lengths import VectorLengths, fit_lengths
from v2v_store.metrics import overlap, paired_metrics, top_k_others
from v2v_store.mixed import RecordSpaces
from v2v_store.space_check import CHECK_ROWS, SpaceWatch, decided_on_spread, first_vectors
from v2v_store.translator import Space, Translator
from v2v_store import sync

logger = logging.getLogger(__name__)
PROGRESS_LOG_SECONDS = 60.0  # how often a migration without a terminal logs its progress
STATE_VERSION = 1
LEFT_OUT_IDS = 10  # how many ids of records left out a report lists
FILL_SAMPLE_IDS = 1024  # fill into an existing destination: the plan says how many of this many source ids (drawn at
# random from all through the source) it holds
# At most this share of a migration's time goes to checkpoints: a destination whose flush grows with its size (a FAISS
# index is rewritten whole) is checkpointed less often as it grows, instead of spending most of the run rewriting.
MAX_CHECKPOINT_SHARE = 0.1


def checkpoint_interval(checkpoint_seconds: float, last_flush_seconds: float,
                        max_share: float | None = MAX_CHECKPOINT_SHARE) -> float:
    """Seconds of work between checkpoints: ``checkpoint_seconds``, or more where the last checkpoint took so long that
    checkpoints would take more than ``max_share`` of the time (None: never more). 0 (every batch) stays 0: asked for
    explicitly, as tests and tiny collections do."""
    if checkpoint_seconds <= 0 or max_share is None:
        return checkpoint_seconds
    return max(checkpoint_seconds, last_flush_seconds * (1 - max_share) / max_share)


class Checkpoints:
    """A migration's checkpoints: the destination flushed, then the position recorded (a crash between repeats some
    writes by id, never skips one), every ``seconds`` of work, or less often where they would take more than
    ``max_share`` of the time (:func:`checkpoint_interval`); how many this run took and how long."""

    def __init__(self, seconds: float, max_share: float | None = MAX_CHECKPOINT_SHARE):
        self.seconds, self.max_share, self.interval = seconds, max_share, seconds
        self.last, self.taken, self.flushing = time.perf_counter(), 0, 0.0

    def due(self) -> bool:
        return time.perf_counter() - self.last >= self.interval

    def take(self, dest: VectorStore, record: Callable[..., None], *position: Any) -> None:
        """Flush ``dest``, then ``record(*position)`` (the state file written)."""
        started = time.perf_counter()
        dest.flush()
        record(*position)
        self.last, self.taken = time.perf_counter(), self.taken + 1
        self.flushing += self.last - started
        self.interval = checkpoint_interval(self.seconds, self.last - started, self.max_share)


class OnExists(str, enum.Enum):
    FAIL = "fail"
    APPEND = "append"
    REPLACE = "replace"
    FILL = "fill"  # add only the records whose id the destination does not hold: those it holds are kept as they are
    # fill, marking each record written with its source and digest; then write again the records a sync from this
    # source wrote that the source has changed, and delete those whose id it no longer holds (:mod:`v2v_store.sync`)
    SYNC = "sync"

    @property
    def keeps_held(self) -> bool:
        """Whether the records whose id the destination holds are kept (fill, and sync but for its own stale ones)."""
        return self in (OnExists.FILL, OnExists.SYNC)

    @classmethod
    def _missing_(cls, value: object) -> None:
        raise V2VError(f"--on-exists {value}: choose one of " + ", ".join(m.value for m in cls)) from None


@dataclass
class MigrationPlan:
    source: str
    dest: str
    count: int
    source_space: str
    source_dim: int
    source_metric: str
    target_space: str
    target_dim: int
    dest_metric: str
    dest_exists: bool
    dest_count: int
    batch_size: int
    resume_from: Any
    already_written: int
    estimated_seconds: float
    estimated_bytes: int
    mixed_by: str | None = None  # a collection of mixed spaces: @FIELD (a metadata field names each record's space) or auto
    sample_spaces: dict = field(default_factory=dict)  # mixed: records per space among the first read
    fill_sample: tuple[int, int] | None = None  # fill into an existing destination: (held, asked) of source ids drawn
    # a destination this migration creates, of the source's backend: the source's settings it is created with
    carried_settings: list[str] = field(default_factory=list)
    copy_settings: bool = True  # else a new (or replaced) destination gets the backend's defaults
    left_behind: list[str] = field(default_factory=list)  # what the destination will not get (VectorStore.left_behind)
    kept_settings: list[str] = field(default_factory=list)  # --on-exists replace: its own settings it is recreated with
    # points of the source that hold other vectors only (Qdrant), copied with them into a destination that keeps them
    without_vector: int = 0
    vector_name: str | None = None  # the source's vector (where it is named), which they lack
    without_vector_fill: bool = False  # --on-exists fill: only those whose id the destination lacks are written
    # of estimated_seconds: the destination's index trained before the first write, and adding the records to it
    # (encoding, graph insertions) beyond writing them; 0 but for a structured FAISS index
    training_seconds: float = 0.0
    indexing_seconds: float = 0.0
    # where the destination holds embeddings too (in place, an existing collection filled or appended to, a collection
    # of mixed spaces' own records copied): each record written with a translation is marked so, under
    # _v2v_translated.<this> ("" for a store's one vector)
    mark_vector: str | None = None
    # a Qdrant collection (or edge shard) without the destination's named vector: added to its points (created)
    adds_vector: bool = False
    # an existing destination ranking by dot product or L2 distance whose own vectors are not unit length: the lengths
    # its translations are written at (VectorLengths.to_dict; None: unit, as translated)
    lengths: dict | None = None
    # only the records whose metadata meets these conditions (``Where.parse``) are migrated; of the first records read,
    # (how many meet them, how many were read)
    where: list[str] | None = None
    where_sample: tuple[int, int] | None = None
    # how many records meet them, counted by the source's engine (a Qdrant collection's or edge shard's), which then
    # reads only those; None: every record is read and tested, page by page
    where_count: int | None = None
    # --on-exists sync: the source's key its marks carry (v2v_store.sync), and of the destination's records drawn all
    # through it (lacking, written by a sync from this source, drawn): those whose id the source no longer holds
    sync_source: str | None = None
    sync_sample: sync.Drawn | None = None

    @property
    def reads(self) -> int:
        """How many records the migration reads: those its filter keeps where the engine filters, else all."""
        return self.count if self.where_count is None else self.where_count

    def describe(self) -> str:
        mixed = (f"  mixed spaces ({self.mixed_by}): {self.source_space} records translated, {self.target_space} records "
                 "copied, others left out (first records: "
                 + ", ".join(f"{k} {v:,}" for k, v in self.sample_spaces.items()) + ")") if self.mixed_by else None
        return "\n".join(line for line in [
            f"migrate {self.count:,} vectors",
            f"  from {self.source}  ({self.source_space}, d={self.source_dim}, {self.source_metric})",
            (f"  only the records whose metadata meets {' and '.join(self.where)} ("
             + (f"{self.where_count:,} of {self.count:,}, counted by the source's engine, which reads only them)"
                if self.where_count is not None else
                f"{self.where_sample[0]:,} of the first {self.where_sample[1]:,} do)")) if self.where else None,
            mixed,
            f"  to   {self.dest}  ({self.target_space}, d={self.target_dim}, {self.dest_metric}; "
            + (f"exists with {self.dest_count:,} vectors)" if self.dest_exists else
               "new: a vector added to the collection's points, with its size and distance only)" if self.adds_vector
               else "new)"),
            ("  created like the source: " + "; ".join(self.carried_settings)) if self.carried_settings else None,
            (f"  and {self.without_vector:,} point{'s' if self.without_vector != 1 else ''} without a "
             f"{self.vector_name or '(unnamed)'!r} vector (other vectors only), copied as they are"
             + (" where the destination lacks their id" if self.without_vector_fill else ""))
            if self.without_vector else None,
            ("  not carried from the source: " + "; ".join(self.left_behind)) if self.left_behind else None,
            ("  replaced, recreated with its own settings: " + "; ".join(self.kept_settings)) if self.kept_settings
            else None,
            None if self.fill_sample is None else f"  fill: {self._fill_share()}",
            None if self.sync_source is None else f"  sync: {self._sync_share()}",
            (f"  translations written at the lengths of the destination's own vectors ({self.dest_metric} ranks by "
             f"length too: {VectorLengths.from_dict(self.lengths).describe()})") if self.lengths else None,
            (f"  each record written with a translation is marked so in its metadata: {self.mark_field} = {{from: "
             f"{self.source_space!r}, translator: its digest}} (v2v fit and evaluate tell it from the embeddings; "
             "filter on it for the records still to embed with the new model)") if self.mark_vector is not None
            else None,
            f"  batches of {self.batch_size}" + (f", resuming after {self.already_written:,} written" if self.resume_from is not None else ""),
            f"  estimate: ~{_duration(self.estimated_seconds)} (at a conservative 5,000 vec/s{self._index_time()}), "
            f"~{self.estimated_bytes / 2**20:.1f} MiB of vectors written",
        ] if line)

    @property
    def mark_field(self) -> str:
        """The metadata field each record written is marked in (:attr:`mark_vector`)."""
        return TRANSLATED_KEY + (f".{self.mark_vector}" if self.mark_vector else "")

    def _fill_share(self) -> str:
        held, asked = self.fill_sample
        written = fill_writes(self.fill_sample, self.count)
        if asked >= self.count:  # every id checked
            return (f"the destination holds {held:,} of the source's {self.count:,} ids (those records are kept as they "
                    f"are, the other {written:,} written)")
        return (f"the destination holds {held:,} of {asked:,} source ids drawn at random ({held / asked:.0%}: "
                f"~{self.count - written:,} records kept as they are, ~{written:,} written)")

    def _sync_share(self) -> str:
        marks = (f"each record written is marked with its source ({self.sync_source}) and a digest of it, under "
                 f"{self.mark_field}")
        if self.sync_sample is None:
            return marks + ", so that a sync run again writes the records the source changes and deletes those it deletes"
        drawn = self.sync_sample
        if not drawn.written:
            return (f"none of {drawn.drawn:,} destination records drawn was written by a sync from this source, so none "
                    f"is written again or deleted; {marks}")
        gone = ("that the source no longer holds or its filter no longer keeps" if self.where else
                "with an id the source no longer holds")
        other = (f"; {drawn.other_translator:,} of them translated by another translator, which a sync does not "
                 "translate anew (--on-exists replace does)") if drawn.other_translator else ""
        return (f"{drawn.written:,} of {drawn.drawn:,} destination records drawn were written by a sync from this "
                f"source, {drawn.lacking:,} of them {gone} (~{round(drawn.lacking / drawn.drawn * self.dest_count):,} "
                f"to delete once the writes are done){other}; those the source changed are written again; {marks}")

    def _index_time(self) -> str:
        parts = ([f"~{_duration(self.training_seconds)} training the destination's index"]
                 if self.training_seconds >= 0.5 else [])
        parts += [f"~{_duration(self.indexing_seconds)} adding the records to it"] if self.indexing_seconds >= 0.5 else []
        return f"; of it {' and '.join(parts)}, at FAISS's speed on a 2-core CPU" if parts else ""


def _duration(seconds: float) -> str:
    """``12 s``, ``42 min``, ``3.2 h``."""
    if seconds < 600:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


@dataclass
class MigrationReport:
    written: int
    seconds: float
    vectors_per_s: float
    source_count: int
    dest_count: int
    count_ok: bool
    neighbour_overlap_at_10: float  # label-free: kNN overlap of source vectors vs their translations
    translator_fit_score: float | None
    paired: dict = field(default_factory=dict)  # check pairs: each one's target vector searching the translated ones
    source_space: str = ""  # the translator's spaces the records went from and into
    target_space: str = ""
    mixed_by: str | None = None  # mixed spaces: @FIELD or auto (how each record's space was told)
    translator_fit_warnings: list = field(default_factory=list)  # what `v2v fit` warned of (the translator's info)
    translated: int = 0  # records translated from source_space
    copied: int = 0  # mixed spaces: records already in target_space, written unchanged
    left_out: int = 0  # mixed spaces: records of neither space (by their field, or not clearly by their vector): not written
    left_out_ids: list = field(default_factory=list)  # the first of them
    # skip_invalid: records whose vector is NaN, infinite or all zero (no embedding to translate): not written
    invalid: int = 0
    invalid_ids: list = field(default_factory=list)  # the first of them
    checkpoints: int = 0  # flushes of the destination with the position recorded, this run
    checkpoint_seconds: float = 0.0  # time they took
    replaced: int | None = None  # records the destination held before with the id of a migrated one: overwritten
    kept: int = 0  # fill: source records whose id the destination held when their batch was read (not written)
    settings_carried: list = field(default_factory=list)  # the source's settings the new destination was created with
    training_seconds: float = 0.0  # reading, translating and training on the sample a new FAISS IVF / PQ / SQ index needs
    other_vectors_copied: dict = field(default_factory=dict)  # Qdrant: records written with each other vector, by name
    without_vector: int = 0  # Qdrant: points of the source without its vector, copied with their other vectors only
    without_vector_kept: int = 0  # fill: those of them whose id the destination held (kept as they were)
    filtered_out: int = 0  # records whose metadata did not meet the migration's filter (where): not written
    updated: int = 0  # sync: records a sync from this source wrote before, written again as the source changed them
    deleted: int = 0  # sync: records a sync from this source wrote whose id it no longer holds: deleted

    @property
    def expected_count(self) -> int:
        """The records of the source the destination should hold: all but those left out, invalid or filtered out."""
        return self.source_count - self.left_out - self.invalid - self.filtered_out

    def to_dict(self) -> dict:
        return asdict(self)


def translate_batch(batch: VectorBatch, translator: Translator, source: str, target: str,
                    spaces: RecordSpaces | None = None, labels: np.ndarray | None = None,
                    lengths: VectorLengths | None = None) -> VectorBatch:
    """The unit of distributed work: one batch in, the same records in the target space out.

    ``lengths``: the translations are written at these lengths (those of the destination's own vectors, where it
    ranks by them: :mod:`v2v_store.lengths`), else as unit vectors. With ``spaces`` (a collection of mixed spaces;
    ``labels``: each record's space by :meth:`RecordSpaces.labels`, computed when not given): records of ``source``
    are translated and their metadata say so (:meth:`RecordSpaces.translated`), records already of ``target`` pass
    unchanged, and records of neither are left out of the batch returned (which keeps the order otherwise)."""
    def translated(vectors: np.ndarray) -> np.ndarray:
        out = translator.translate(vectors, source=source, target=target)
        return out if lengths is None else lengths.scale(out)

    if spaces is None:
        return batch.with_vectors(translated(batch.vectors))
    labels = spaces.labels(batch) if labels is None else labels
    of_source = labels == source
    vectors = batch.vectors.copy()
    if of_source.any():
        vectors[of_source] = translated(batch.vectors[of_source])
    metadata = [spaces.translated(m, source, target) if s else m for m, s in zip(batch.metadata, of_source)]
    keep = np.flatnonzero(of_source | (labels == target))
    out = VectorBatch(list(batch.ids), vectors, metadata, list(batch.documents), batch.next_position,
                      list(batch.other_vectors))
    return out.select(keep, keep_position=True)


def _marked(batch: VectorBatch, vector: str, mark: dict[str, str] | list[dict[str, str]],
            translated: np.ndarray) -> VectorBatch:
    """``batch`` with the metadata of each ``translated`` record marking its ``vector`` as a translation
    (:data:`TRANSLATED_KEY`, merged with the marks it has of other vectors): ``mark``, or each record's own."""
    def marked(metadata: dict | None, mark: dict[str, str]) -> dict:
        marks = (metadata or {}).get(TRANSLATED_KEY)
        return {**(metadata or {}), TRANSLATED_KEY: {**(marks if isinstance(marks, dict) else {}), vector: mark}}

    each = mark if isinstance(mark, list) else [mark] * len(batch)
    return dataclasses.replace(batch, metadata=[marked(m, k) if t else m
                                                for m, k, t in zip(batch.metadata, each, translated)])


def neighbour_overlap(source: np.ndarray, translated: np.ndarray, k: int = 10) -> float:
    """Mean overlap of each vector's k nearest neighbours before and after translation (label-free): among fewer
    than k + 1 vectors their k = n - 1 others (NaN for one vector: no neighbour)."""
    k = min(k, len(source) - 1)
    if k < 1:
        return float("nan")
    return overlap(top_k_others(source, source, k), top_k_others(translated, translated, k))


def _migration_key(source: str, dest: str) -> str:
    return hashlib.sha1(f"{source}\n{dest}".encode()).hexdigest()[:16]


def _state_path(source: str, dest: str, state_dir: str | Path | None) -> Path:
    return Path(state_dir or Path(".v2v") / "migrations") / f"{_migration_key(source, dest)}.json"


def _lock_path(source: str, dest: str) -> Path:
    """One lock per migration on this machine, wherever it is run from (its checkpoint depends on the directory)."""
    return lock_file(_migration_key(source, dest))


def _save_state(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)


def _resolve_spaces(translator: Translator, store: VectorStore, source_space: str | None, target_space: str | None,
                    sample: np.ndarray | None) -> tuple[Space, Space]:
    if target_space and not source_space:  # e.g. --target-space e5 alone: the source is the other space
        trg = translator.space(target_space)
        src = translator.spaces[1] if trg.name == translator.spaces[0].name else translator.spaces[0]
    else:
        src = translator.space(source_space) if source_space else translator.space_for_dim(store.dim, sample,
                                                                                            "--source-space {}")
        trg = translator.spaces[1] if src.name == translator.spaces[0].name else translator.spaces[0]
    if target_space and trg.name != translator.space(target_space).name:
        raise V2VError(f"--source-space {src.name} and --target-space {target_space} are the same space: a migration "
                       f"goes into the translator's other space ({trg.name})")
    if src.dim != store.dim:
        raise DimensionMismatchError(
            f"dimension mismatch: collection {store.uri} has d={store.dim}, translator space {src.name!r} "
            f"expects d={src.dim}; pick the translator trained on this collection's model"
        )
    return src, trg


def _mixed_spaces(translator: Translator, store: VectorStore, spaces: RecordSpaces, target_space: str | None,
                  check_space: bool) -> tuple[Space, Space, dict[str, int]]:
    """Spaces of a collection of mixed spaces, checked on its first records; also how many of those are in each."""
    what = f"collection {store.uri} (--source-space {spaces.option})"
    if not target_space:
        raise V2VError(f"{what} holds records of both spaces: name the space every record ends in, "
                       + " or ".join(f"--target-space {sp.name}" for sp in translator.spaces))
    trg = translator.space(target_space)
    src = translator.spaces[1] if trg.name == translator.spaces[0].name else translator.spaces[0]
    return src, trg, spaces.check(translator, store, what, check_space)


def _check_payloads(first: VectorBatch, document_key: str) -> None:
    """Refuses, before anything is written, a Qdrant destination for the source's ``first`` records where it cannot
    take their payloads as they are: their metadata already uses its document field (``?document_key=``) beside their
    documents, holds NaN or an infinity, or v2v's own id field (each such record is refused when it is written, too:
    :func:`~v2v_store.connectors.qdrant_store.make_payload`)."""
    from v2v_store.connectors.qdrant_store import make_payload

    for metadata, document in zip(first.metadata, first.documents):
        make_payload(metadata, document, None, document_key)


def plan_migration(translator: Translator, source_uri: str, dest_uri: str, batch_size: int = 1024,
                   on_exists: OnExists | str = OnExists.FAIL, resume: bool = False, source_space: str | None = None,
                   state_dir: str | Path | None = None, check_space: bool = True,
                   target_space: str | None = None, copy_settings: bool = True, where: Where | None = None
                   ) -> tuple[MigrationPlan, dict | None]:
    """Validate everything a migration needs, write nothing, and describe the job.

    ``source_space``: the translator space of the source collection (default: by dimension, or where both spaces share
    it, by the covariance the fit recorded), or for a collection of mixed spaces ``@FIELD`` (each record names its
    space in metadata field FIELD) or ``auto`` (each record's space told by its vector: :mod:`v2v_store.mixed`); then
    ``target_space`` is required: records of the other space are translated into it, its own records copied.
    ``check_space``: the source's first vectors must look like the source space (:meth:`Translator.check_space`), so the
    wrong collection or a wrong ``source_space`` is refused up front. ``copy_settings``: a destination the migration
    creates in the source's backend is created with the source's settings (:meth:`VectorStore.settings`: index and
    quantisation parameters, payload indexes, collection metadata), which the plan lists; one it replaces
    (``--on-exists replace``) is recreated with its own. Without it, either gets the backend's defaults. ``where``:
    only the records whose metadata meets it are migrated (the others counted as filtered out); the plan says how many
    of the first records read do, and a field none of them has is warned of."""
    on_exists, dest_uri = OnExists(on_exists), keeping_document_key(source_uri, dest_uri)
    if state_dir is not None and Path(state_dir).exists() and not Path(state_dir).is_dir():
        raise V2VError(f"--state-dir {state_dir} is a file: give a directory for the migration's checkpoints")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise V2VError(f"--batch-size {batch_size}: give a number of records read and written at a time, at least 1 "
                       "(default 1024)")
    if same_collection(source_uri, dest_uri):
        raise DestinationExistsError(
            f"--dest {dest_uri} is the source collection {source_uri}: a migration only reads its source and writes "
            "a new collection; give another destination (another path, or ?collection=NAME) and point readers at it "
            "once it is done")
    spaces = RecordSpaces.parse(source_space, translator)
    if on_exists == OnExists.SYNC:
        _refuse_what_sync_cannot_keep_in_step(dest_uri, spaces)
    sample_spaces: dict[str, int] = {}
    fill_ids: list = []
    with open_store(source_uri) as source:
        if not source.exists():
            raise StoreNotFoundError(f"source {source_uri} does not exist: {source.missing()}")
        if source.count() == 0:
            raise V2VError(f"source {source_uri} is empty: nothing to migrate (check the collection name)")
        into_qdrant = parse_uri(dest_uri).scheme.startswith("qdrant")
        into_npy = parse_uri(dest_uri).scheme == "npy"  # vectors only, ids its row numbers
        # the first records: the space check's sample, and (into Qdrant) the payloads checked before anything is
        # written, (into .npy) whether there are ids, metadata or documents it cannot keep
        first = (source.first_batch(CHECK_ROWS, with_payload=into_qdrant or into_npy)
                 if spaces is None or into_qdrant or into_npy else None)
        if spaces is not None:
            src, trg, sample_spaces = _mixed_spaces(translator, source, spaces, target_space, check_space)
        else:
            def decide(vectors: np.ndarray) -> tuple[Space, Space]:
                found = _resolve_spaces(translator, source, source_space, target_space, vectors)
                if check_space:
                    translator.check_space(vectors, found[0].name, f"collection {source_uri}")
                return found

            src, trg = decided_on_spread(source, first.vectors, decide, {s.dim for s in translator.spaces},
                                         f"collection {source_uri}")
        if into_qdrant:
            _check_payloads(first, parse_uri(dest_uri).params.get("document_key", "document"))
        where_sample = None if where is None else _where_sample(source, source_uri, where)
        where_count = None if where is None else source.count_where(where)
        count, src_metric = source.count(), source.metric.value
        source_settings = _settings_of(source, source_uri) if copy_settings else {}
        left_behind = [] if same_points(source_uri, dest_uri) else source.left_behind()
        if into_npy:
            left_behind += _npy_leaves_behind(first, source_uri)
        # points that hold other vectors only (not the one migrated), which a destination keeping those may take
        without_vector = 0 if same_points(source_uri, dest_uri) else source.count_without_vector()
        vector_name = source.vector_name
        # the points' other vectors (Qdrant named or sparse ones), which a destination may keep
        source_others = ([], {}) if same_points(source_uri, dest_uri) else (source.other_vectors(),
                                                                            source.other_vector_configs())
        if on_exists.keeps_held:  # ids from all through it: a destination filled in id order holds the first
            fill_ids = [i for batch in source.spread_sample(FILL_SAMPLE_IDS, with_payload=False) for i in batch.ids]
    dest = open_store(dest_uri, dim=trg.dim, new_vector=True)  # a Qdrant vector to add to the points: not refused
    try:
        exists = dest.exists() and dest.count() > 0
        if exists and dest.dim != trg.dim:
            raise DimensionMismatchError(
                f"dimension mismatch: destination {dest_uri} has d={dest.dim}, translations into "
                f"{trg.name!r} have d={trg.dim}; write to a new collection"
            )
        if dest.exists() and on_exists != OnExists.REPLACE:
            dest.check_writable()  # e.g. a FAISS index that keeps no ids: refused before anything is written
        state_path = _state_path(source_uri, dest_uri, state_dir)
        state = json.loads(state_path.read_text()) if resume and state_path.exists() else None
        if resume and exists and state is None and on_exists != OnExists.REPLACE:
            raise DestinationExistsError(
                f"--resume: no checkpoint of a migration from {source_uri} to {dest_uri} at {state_path}, and the "
                f"destination already holds {dest.count():,} vectors. Checkpoints are kept under the directory the "
                "migration was started from (.v2v/migrations) or its --state-dir: run from there or pass that "
                "--state-dir; to start over, --on-exists replace (with --resume: resume if a checkpoint is found, "
                "else start over)"
            )
        adding = on_exists in (OnExists.APPEND, OnExists.FILL, OnExists.SYNC)
        if exists and state is None and adding and check_space:  # one dimension, two models?
            decided_on_spread(dest, first_vectors(dest), lambda vectors: translator.check_space(
                vectors, trg.name, f"destination {dest_uri}", fix=(
                    f"appending translations into {trg.name!r} would mix two models' vectors in one collection; write "
                    "to a new collection")), {trg.dim}, f"destination {dest_uri}")
        if exists and state is None and on_exists == OnExists.APPEND and not dest.overwrites_ids:
            _refuse_ids_the_destination_cannot_overwrite(source_uri, dest, dest_uri, batch_size)
        if exists and state is None and on_exists == OnExists.FAIL:
            raise DestinationExistsError(
                f"destination {dest_uri} already holds {dest.count():,} vectors: pass --on-exists fill to add the "
                "records whose ids it lacks (keeping those it holds, e.g. already re-embedded by the new model), "
                "--on-exists append to add every record (overwriting those ids), --on-exists replace to overwrite it "
                "whole, or --resume to finish an interrupted migration"
            )
        dest_count, dest_metric = (dest.count() if dest.exists() else 0), dest.metric.value
        # beside vectors of their own that rank by their lengths too, translations get lengths like theirs
        lengths = (state.get("lengths") if state else _own_lengths(dest) if (
            exists and adding and dest.metric != Metric.COSINE) else None)
        adds_vector = dest.adds_vector
        # a new destination: the source's settings where both are of one backend (a FAISS ?index= is its own), the
        # point's layout between the two Qdrant engines
        carried = dest.create_like(_settings_for(dest, source, source_settings)) if not dest.exists() else []
        if on_exists == OnExists.SYNC and not dest.overwrites_ids:  # (a new one: as it will be built)
            built = f"a FAISS index {dest.index_type}" if dest.exists() else "; ".join(carried) or "a new FAISS index"
            raise UnsupportedIndexError(
                f"--on-exists sync: destination {dest_uri} cannot overwrite or delete records by id ({built}: its "
                "inner index does not remove rows in place), so it cannot be kept in step; --on-exists fill adds the "
                "records it lacks, or sync into a flat FAISS index (no ?index=, or --default-settings), Qdrant or "
                "Chroma")
        dest_vector = dest.vector_name or ""  # as created (a new Qdrant collection takes its source's vector's name)
        kept_others = dest.takes_other_vectors(source_others[1]) if _alike(source, dest) else []
        left_behind = other_vectors_left_behind(source_others[0], kept_others) + left_behind
        if without_vector and not (state.get("copies_points_without_vector", False) if state else
                                   _keeps_points_without_vector(dest, kept_others, on_exists, copy_settings)):
            left_behind += points_without_vector_left_behind(without_vector, vector_name)
            without_vector = 0
        kept_settings = (dest.create_like(_settings_of(dest, dest_uri)) if dest.exists() and copy_settings and
                         on_exists == OnExists.REPLACE and state is None else [])  # what its recreation keeps
        fill_sample = None
        if exists and state is None and on_exists.keeps_held and fill_ids:
            fill_sample = int(dest.holds(fill_ids).sum()), len(fill_ids)
            if fill_sample[0] == 0:
                logger.warning(
                    "--on-exists %s: the destination's %d records share none of %d of the source's ids%s, so "
                    "every record will be added beside them; if they are the same documents under other ids (another "
                    "id scheme), stop and migrate into a new collection instead", on_exists.value, dest_count,
                    len(fill_ids),
                    " (drawn at random)" if len(fill_ids) < count else "")
        sync_sample = None
        if exists and state is None and on_exists == OnExists.SYNC:
            with open_store(source_uri) as source:
                sync_sample = sync.drawn_from(dest, source, dest_vector, sync.source_key(source_uri),
                                              translator.digest()[:16], where)
            if sync_sample.other_translator:
                logger.warning(
                    "--on-exists sync: %d of %d destination records drawn that a sync from this source wrote were "
                    "translated by another translator: a sync writes again only the records the source changed, so "
                    "the destination will hold both translators' translations; to translate every record with this "
                    "one, migrate again with --on-exists replace", sync_sample.other_translator, sync_sample.written)
            if not sync_sample.written:
                logger.warning(
                    "--on-exists sync: none of %d records drawn from the destination was written by a sync from this "
                    "source: those it holds (its own embeddings, or records migrated without sync, which carry no "
                    "digest of theirs) are kept as they are, and the source's changes and deletions will not reach "
                    "them; only the records this sync writes are kept in step (for a collection migrated before "
                    "without sync: migrate into a new one with --on-exists sync)", sync_sample.drawn)
        for what in left_behind:
            logger.warning("not carried from the source: %s", what)
        remaining = (count if where_count is None else where_count) - (state.get("read", state["written"]) if state
                                                                          else 0)
        to_write = remaining if fill_sample is None else fill_writes(fill_sample, remaining)
        recreated = dest.exists() and on_exists == OnExists.REPLACE and state is None
        _check_disk_space(dest, dest_uri, to_write * trg.dim * 4, recreated)
        if recreated and not copy_settings:  # recreated with the backend's defaults: flat
            training_s = indexing_s = 0.0
        else:
            training_s, indexing_s = dest.build_seconds(to_write, recreated=recreated)
    finally:
        dest.close()
    plan = MigrationPlan(
        source_uri, dest_uri, count, src.name, src.dim, src_metric, trg.name, trg.dim, dest_metric, exists,
        dest_count, batch_size, state["position"] if state else None, state["written"] if state else 0,
        estimated_seconds=remaining / 5000.0 + training_s + indexing_s, estimated_bytes=to_write * trg.dim * 4,
        mixed_by=spaces.option if spaces else None,
        sample_spaces=sample_spaces, fill_sample=fill_sample, carried_settings=carried, copy_settings=copy_settings,
        left_behind=left_behind, kept_settings=kept_settings, training_seconds=training_s, indexing_seconds=indexing_s,
        without_vector=without_vector, vector_name=vector_name,
        without_vector_fill=bool(without_vector) and on_exists.keeps_held,
        adds_vector=adds_vector, lengths=lengths,
        where=None if where is None else [str(c) for c in where.conditions], where_sample=where_sample,
        where_count=where_count,
        # where the destination holds embeddings too: in place, an existing collection filled or appended to, mixed
        # and every record a sync writes (with its source and digest)
        mark_vector=dest_vector if spaces is not None or same_points(source_uri, dest_uri) or (
            exists and adding) or on_exists == OnExists.SYNC else None,
        sync_source=sync.source_key(source_uri) if on_exists == OnExists.SYNC else None, sync_sample=sync_sample,
    )
    return plan, state


def _refuse_what_sync_cannot_keep_in_step(dest_uri: str, spaces: RecordSpaces | None) -> None:
    """Refuse (:class:`V2VError`) an ``--on-exists sync`` it cannot carry through: into a .npy file (no metadata to
    mark records in, no deletes), or of a collection of mixed spaces."""
    why = (".npy files keep no metadata to mark the records written, and delete nothing" if
           parse_uri(dest_uri).scheme == "npy" else
           "a collection of mixed spaces (--source-space @FIELD or auto) is not kept in step yet" if spaces is not None
           else None)
    if why:
        raise V2VError(f"--on-exists sync: {why}; use --on-exists fill (adds the records the destination lacks), or "
                       "sync into a FAISS, Qdrant or Chroma collection without those options")


def _check_disk_space(dest: VectorStore, dest_uri: str, vector_bytes: int, recreated: bool) -> None:
    """Refuse a migration whose vectors alone do not fit on its local destination's disk (a disk that fills stops it
    part way: FAISS and Qdrant local mode then resume, an edge shard's process is killed outright by SIGBUS, a Chroma
    collection's index may be left damaged); warn where they take more than half of it. Not checked for a server, a
    collection replaced (its own space is freed), or a FAISS index of codes (smaller than the vectors)."""
    directory = local_directory(dest_uri)
    free = free_bytes(directory)
    parsed = parse_uri(dest_uri)
    codes = parsed.scheme == "faiss" and ("index" in parsed.params or getattr(dest, "lossy", False))
    if free is None or recreated or codes:
        return
    needed = vector_bytes + (0 if dest.exists() else dest.disk_overhead_bytes)
    said = (f"{directory} has {free / 2**20:,.1f} MiB free, and the migration writes ~{needed / 2**20:,.1f} MiB of "
            "vectors" + (" and the new collection's own files" if needed > vector_bytes else "")
            + " (more with ids, metadata, documents and the index)")
    if needed > free:
        raise DiskFullError(f"--dest {dest_uri}: {said}: free space or migrate to another disk (a disk that fills "
                            "part way stops the migration; an edge shard's process is killed outright)")
    if 2 * needed > free:
        logger.warning("%s: it may fill the disk (then free space and run again with --resume)", said)


def _npy_leaves_behind(first: VectorBatch | None, source_uri: str) -> list[str]:
    """What a .npy destination cannot keep of a source whose first records are ``first``: its metadata and documents
    (for the plan); ids other than the row numbers 0, 1, 2, ... are refused before anything is written."""
    if first is None or not len(first):
        return []
    if first.ids != list(range(len(first))):
        shown = ", ".join(map(repr, first.ids[:3]))
        raise InvalidVectorsError(
            f"{source_uri}'s ids ({shown}, ...) are not the row numbers 0, 1, 2, ... that are a .npy array's only ids: "
            "migrate into faiss://, qdrant:// or chroma://, which keep them")
    if any(first.metadata) or any(d is not None for d in first.documents):
        return ["the records' metadata and documents (a .npy array keeps vectors only: migrate into faiss://, "
                "qdrant:// or chroma:// to keep them)"]
    return []


def _where_sample(source: VectorStore, source_uri: str, where: Where) -> tuple[int, int]:
    """(how many meet ``where``, how many were read) of the source's first records; a field the filter names that
    none of them has is warned of (a misspelt field would migrate nothing)."""
    first = source.first_batch(CHECK_ROWS, with_payload=True)
    metadata = first.metadata if first is not None else []
    for hint in filter_hints(where, metadata):
        logger.warning("%s: the filter %s: %s", source_uri, where, hint)
    return sum(where.holds(m) for m in metadata), len(metadata)


def _own_lengths(dest: VectorStore) -> dict | None:
    """The lengths of an existing destination's own vectors (:func:`~v2v_store.lengths.fit_lengths`, on a sample drawn
    all through it, leaving out translations a migration marked there), or None where they are unit length."""
    own = []
    for batch in dest.spread_sample(LENGTHS_SAMPLE, with_payload=True):
        own.append(batch.vectors[~translations_in(batch, dest.vector_name)])
    lengths = fit_lengths(np.concatenate(own)) if own else None
    if lengths is not None:
        logger.info("destination %s ranks by %s and its vectors are not unit length (%s): translations are written at "
                    "lengths like theirs", dest.uri, dest.metric.value, lengths.describe())
    return None if lengths is None else lengths.to_dict()


def fill_writes(fill_sample: tuple[int, int], records: int) -> int:
    """About how many of ``records`` a fill writes: the share of the ids drawn (``fill_sample``: held, asked) that the
    destination lacks."""
    held, asked = fill_sample
    return round(records * (1 - held / asked))


def _settings_of(store: VectorStore, uri: str) -> dict:
    """``store.settings()``; where the backend will not tell them (an old server, a permission), a warning and {}:
    the migration goes on with the backend's defaults for the destination, as before session 57."""
    try:
        return store.settings()
    except Exception as e:  # a convenience must not stop a migration that would otherwise run
        logger.warning("could not read the settings of %s (%s: %s): the destination gets the backend's defaults",
                       uri, type(e).__name__, e)
        return {}


def _refuse_ids_the_destination_cannot_overwrite(source_uri: str, dest: VectorStore, dest_uri: str,
                                                  batch_size: int) -> None:
    """A destination that cannot overwrite the records it holds (a FAISS IDMap around IVF or HNSW) would stop the
    migration at the first batch holding one of its ids, half written: read the source's ids first (one pass)."""
    logger.info("%s cannot overwrite records: checking the source's ids against it first", dest_uri)
    held: list = []
    with open_store(source_uri) as source:
        for batch in source.iter_batches(batch_size=max(batch_size, 4096), with_payload=False):
            held.extend(dest.held_ids_it_cannot_overwrite(batch.ids))
    if held:
        raise UnsupportedIndexError(
            f"destination {dest_uri} already holds {len(held):,} of the source's ids (e.g. {held[0]!r}) and cannot "
            f"overwrite records ({getattr(dest, 'index_type', type(dest).__name__)}: its inner index does not remove "
            "rows in place); nothing was written. Write to a new collection, or --on-exists replace")


def _alike(source: VectorStore, dest: VectorStore) -> bool:
    """Whether ``dest`` can hold ``source``'s points as they are laid out (their other vectors: Qdrant collections and
    edge shards, either way)."""
    return source.point_layout is not None and source.point_layout == dest.point_layout


def _settings_for(dest: VectorStore, source: VectorStore, settings: dict) -> dict:
    """What a new ``dest`` is created with of ``source``'s ``settings``: all of them in the same backend; only the
    point's layout (:meth:`VectorStore.layout_settings`) in another of the same layout; none otherwise."""
    if type(dest) is type(source):
        return settings
    return source.layout_settings(settings) if _alike(source, dest) else {}


def _keeps_points_without_vector(dest: VectorStore, kept_others: list[str], on_exists: OnExists,
                                 copy_settings: bool) -> bool:
    """Whether a migration copies the source's points that hold other vectors only into ``dest``, which keeps
    ``kept_others`` of them: where it creates ``dest`` (or drops it whole to recreate it, as :func:`_migrate` does
    where every other vector of its points comes from the source), so that it holds each point of the source; and
    with ``--on-exists fill`` those whose id it lacks (an earlier migration brought up to date); not over the points
    of a collection that has its own (``append``), whose points of the same ids they would overwrite."""
    if not kept_others:
        return False
    if not dest.exists() or on_exists.keeps_held:
        return True
    return (on_exists == OnExists.REPLACE and copy_settings
            and set(dest.other_vector_configs()) <= set(kept_others))


def _other_vectors_all_from(source: VectorStore, dest: VectorStore, source_uri: str, dest_uri: str) -> bool:
    """Whether every other vector of ``dest``'s points (Qdrant) comes with ``source``'s records, as a destination
    migrated from it before holds them: replaced, it is then dropped whole (points the source no longer holds go with
    their other vectors) rather than emptied of its translated vector alone (the way to replace one named vector of
    points that hold others: a new model's vector beside the old one)."""
    others = dest.other_vector_configs()
    return (bool(others) and _alike(source, dest) and not same_points(source_uri, dest_uri)
            and set(others) <= set(dest.takes_other_vectors(source.other_vector_configs())))


def _tally(state: dict | None) -> dict:
    """What a migration has done so far (from its state file; older state files have only ``written``)."""
    state = state or {}
    written = state.get("written", 0)
    return {"read": state.get("read", written), "written": written, "translated": state.get("translated", written),
            "copied": state.get("copied", 0), "left_out": state.get("left_out", 0),
            "left_out_ids": state.get("left_out_ids", []), "kept": state.get("kept", 0),
            "invalid": state.get("invalid", 0), "invalid_ids": state.get("invalid_ids", []),
            "dest_before": state.get("dest_before"),  # None: not recorded (a fresh run records it; older states not)
            "training_seconds": state.get("training_seconds", 0.0),
            "other_vectors": dict(state.get("other_vectors", {})), "without_vector": state.get("without_vector", 0),
            "without_vector_kept": state.get("without_vector_kept", 0), "filtered_out": state.get("filtered_out", 0),
            "updated": state.get("updated", 0), "deleted": state.get("deleted", 0)}


def migrate(translator: Translator, source_uri: str, dest_uri: str, batch_size: int = 1024,
            on_exists: OnExists | str = OnExists.FAIL, resume: bool = False, dry_run: bool = False,
            source_space: str | None = None, state_dir: str | Path | None = None, checkpoint_seconds: float = 10.0,
            check_pairs: tuple[np.ndarray, np.ndarray] | None = None, progress: bool = True,
            check_space: bool = True, target_space: str | None = None,
            max_checkpoint_share: float | None = MAX_CHECKPOINT_SHARE,
            copy_settings: bool = True, skip_invalid: bool = False, where: Where | None = None
            ) -> MigrationPlan | MigrationReport:
    """Translate every vector of ``source_uri`` into the other space of ``translator`` and write it,
    with ids, metadata and documents, to ``dest_uri``. Returns the plan when ``dry_run``. ``source_space`` (a space, or
    ``@FIELD`` / ``auto`` for a collection of mixed spaces), ``target_space``, ``check_space`` and ``copy_settings``:
    see :func:`plan_migration`; with ``check_space`` every window of records read is also checked
    (:class:`SpaceWatch`), so records of the other model further down the collection stop the migration where they
    start. ``check_pairs``
    (documents embedded by the source and the target model) adds to the report how well the target model's vector of
    each finds its translation among theirs (the paper's metrics, the other way round: a migrated collection is
    searched by the target's queries). ``checkpoint_seconds``: the destination is flushed and the position recorded at
    most this often, and less often where checkpoints would otherwise take more than ``max_checkpoint_share`` of the
    time (:func:`checkpoint_interval`; an interrupted run then redoes more, by id, so without duplicates).
    A record whose vector is NaN, infinite or all zero (no embedding: a failed or placeholder one) stops the migration
    before its batch is written, naming it; ``skip_invalid`` leaves such records out instead (the report counts them
    and lists the first ids). ``where``: only the records whose metadata meets it are migrated (:func:`plan_migration`;
    the report counts the others as ``filtered_out``, and the final count check expects the destination without
    them)."""
    if keeping_document_key(source_uri, dest_uri) != dest_uri:
        dest_uri = keeping_document_key(source_uri, dest_uri)
        logger.info("the documents stay in the source's payload field: --dest %s", dest_uri)
    plan, state = plan_migration(translator, source_uri, dest_uri, batch_size, on_exists, resume, source_space, state_dir,
                                 check_space, target_space, copy_settings, where)
    translator.log_fit_warnings()
    if dry_run:
        return plan
    state_path = _state_path(source_uri, dest_uri, state_dir)
    # locked after the plan, so bad input leaves no lock file behind
    with _one_at_a_time(_lock_path(source_uri, dest_uri), source_uri, dest_uri):
        if state is not None:  # as the run before this one left it
            state = json.loads(state_path.read_text())
        chroma = ("; a Chroma collection written as its disk filled may be left damaged: where the resume cannot "
                  "read it, it says how to start again") if dest_uri.startswith("chroma") else ""
        with naming_lost_connections(), naming_full_disks(local_directory(dest_uri), chroma):
            return _migrate(translator, plan, state, state_path, OnExists(on_exists), check_pairs, progress,
                            check_space, checkpoint_seconds, max_checkpoint_share, skip_invalid)


@contextlib.contextmanager
def _one_at_a_time(lock_path: Path, source_uri: str, dest_uri: str) -> Iterator[None]:
    """Hold the migration's lock while it runs: a second run of the same migration on this machine (from any
    directory) stops at once instead of writing the same destination (or dropping it, with --on-exists replace).
    No lock where the system has none (the checkpoint still makes a rerun exactly-once)."""
    lock = ProcessLock(lock_path)
    holder = lock.acquire()
    if holder is not None:
        raise StoreBusyError(
            f"the migration from {source_uri} to {dest_uri} is already running (pid {holder}; lock {lock_path}): wait "
            "for it to finish, or stop it and run again with --resume")
    try:
        yield
    finally:
        lock.release()


def _migrate(translator: Translator, plan: MigrationPlan, state: dict | None, state_path: Path, on_exists: OnExists,
             check_pairs: tuple[np.ndarray, np.ndarray] | None, progress: bool, check_space: bool,
             checkpoint_seconds: float, max_checkpoint_share: float | None, skip_invalid: bool) -> MigrationReport:
    """:func:`migrate` once it is planned and its lock is held."""
    from tqdm import tqdm

    source_uri, dest_uri, batch_size = plan.source, plan.dest, plan.batch_size
    mark = {"from": plan.source_space, "translator": translator.digest()[:16]} if plan.mark_vector is not None else None
    spaces = RecordSpaces.parse(plan.mixed_by, translator)
    lengths = VectorLengths.from_dict(plan.lengths)
    where = Where.parse(plan.where)
    fingerprint = {"translator": translator.config_dict(), "source_space": plan.source_space}
    if spaces is not None:
        fingerprint.update(mixed_by=spaces.option, target_space=plan.target_space)
    if where is not None:
        fingerprint.update(where=plan.where)
    if state is not None and state.get("fingerprint") != json.loads(json.dumps(fingerprint, default=str)):
        raise V2VError(f"{state_path} records a migration with a different translator, space or filter (--where); "
                       "delete it to start over, or resume with the original ones")
    if state is not None and state.get("done"):
        logger.info("migration already complete per %s", state_path)
    tally, position = _tally(state), state["position"] if state else None
    # "translate": the records of the source's vector (then, where the plan copies them, the points without it);
    # "without_vector": those points, ``position`` being theirs
    stage = state.get("stage", "translate") if state else "translate"

    def save(position: Any, done: bool, stage: str = "translate") -> None:
        _save_state(state_path, {"version": STATE_VERSION, "source": source_uri, "dest": dest_uri, "position": position,
                                 "done": done, "stage": stage, "fingerprint": fingerprint,
                                 "copies_points_without_vector": plan.without_vector > 0, "lengths": plan.lengths,
                                 **tally})

    fix = (f"Migrate it as a collection of mixed spaces: --source-space @FIELD (a metadata field naming each record's "
           f"model) or --source-space auto (each record's space told by its vector), with --target-space "
           f"{plan.target_space}" if spaces is None else f"Check the {spaces.field!r} of those records")
    fix += "; then start again with --on-exists replace (the destination holds the records migrated before these)"
    watched = [] if not check_space or (spaces and spaces.field is None) else (  # auto: every record is classified
        [plan.source_space] if spaces is None else [plan.source_space, plan.target_space])
    watches = {name: SpaceWatch(translator.space_covariances, name, f"collection {source_uri}", fix,
                                means=translator.space_means) for name in watched}
    sample_src, sample_trg = [], []
    t0 = time.perf_counter()
    # an existing destination keeps its metric (translations at its vectors' lengths where it ranks by them:
    # plan.lengths), a new one is created for cosine (the plan's dest_metric then)
    dest_metric = Metric(plan.dest_metric)
    with open_store(source_uri) as source, open_store(dest_uri, dim=plan.target_dim, metric=dest_metric,
                                                      new_vector=True) as dest:
        if state is None:
            if on_exists == OnExists.REPLACE and dest.exists():
                logger.info("replacing existing destination %s", dest_uri)
                own_settings = _settings_of(dest, dest_uri) if plan.copy_settings else {}
                # dropped whole where it is recreated with its other vectors, which all come with the records
                dest.drop(other_vectors_too=bool(own_settings) and _other_vectors_all_from(source, dest, source_uri,
                                                                                            dest_uri))
                if own_settings:  # recreated as it was set up, with the migrated records only
                    dest.create_like(own_settings)
            tally["dest_before"] = dest.count() if dest.exists() else 0
            save(None, False)
        carried: list[str] = []
        if plan.carried_settings and not dest.exists():  # created by the first write, like the source
            carried = dest.create_like(_settings_for(dest, source, _settings_of(source, source_uri))
                                       if plan.copy_settings else {})
        training = dest.training_sample_size(plan.reads) if not dest.exists() else 0
        if training:  # an index that must be trained before it takes vectors (FAISS IVF / PQ / SQ)
            started = time.perf_counter()
            dest.train_on(_training_sample(source, translator, plan, spaces, training, where))
            tally["training_seconds"] = time.perf_counter() - started
        if _alike(source, dest) and not same_points(source_uri, dest_uri):  # written with the records
            source.read_other_vectors = tuple(dest.takes_other_vectors(source.other_vector_configs()))
        dest.rewrites_held_payloads = plan.sync_source is not None  # a record the source edited: its payload too
        done = state is not None and state.get("done")
        # fill: each batch asks the destination which of its ids it holds (a lookup by id, not a read of the whole
        # destination); a destination created by this migration holds none of the ids it has not written yet. sync:
        # of those it holds, the ones a sync from this source wrote and the source has changed are written again
        fill = on_exists.keeps_held and dest.exists() and not done
        if fill:
            logger.info("--on-exists %s: the destination holds %d records; source records with their ids are kept "
                        "as they are%s", on_exists.value, dest.count(), " (but for those a sync from this source wrote "
                        "and the source has changed since)" if plan.sync_source else "")
        resumed_fill = state is not None and not done and on_exists.keeps_held
        # a resumed run into a destination that cannot overwrite ids (a FAISS IDMap2 around HNSW): records it holds past
        # the checkpoint were written by the interrupted run (its index saved, its state not yet), as this run would
        # write them: skipped and counted as written, up to the first batch that holds none
        rewritten = state is not None and not done and not fill and dest.exists() and not dest.overwrites_ids
        bar = tqdm(total=plan.reads, initial=tally["read"], unit="vec", disable=not progress or not os.isatty(2),
                   desc="migrate")
        logged, read_at_start = time.perf_counter(), tally["read"]  # without a terminal (a job's log): a line a minute
        checkpoints = Checkpoints(checkpoint_seconds, max_checkpoint_share)
        # a filter the source's engine applies: it reads only the records kept (their count is the plan's)
        pushed = where is not None and plan.where_count is not None
        batches = (iter(()) if done or stage != "translate" else
                   source.filtered_batches(where, batch_size=batch_size, start=position) if pushed else
                   source.iter_batches(batch_size=batch_size, start=position))
        for batch in batches:
            if where is not None and not pushed:  # the records the filter keeps, the position kept
                kept_rows = where.rows(batch.metadata)
                tally["read"] += len(batch) - len(kept_rows)
                tally["filtered_out"] += len(batch) - len(kept_rows)
                bar.update(len(batch) - len(kept_rows))
                batch = batch.select(kept_rows, keep_position=True)
            if fill:  # the records whose id the destination holds are kept as they are
                if plan.sync_source:  # but for those a sync from this source wrote, changed since
                    batch, held_here, updated = sync.to_write(batch, dest, plan.mark_vector, plan.sync_source)
                    tally["updated"] += updated
                else:
                    batch, held_here = _without_held(batch, dest)
                tally["read"] += held_here
                tally["kept"] += held_here
                bar.update(held_here)
            elif rewritten:
                batch, held_here = _without_held(batch, dest)
                tally["read"] += held_here
                tally["written"] += held_here
                tally["translated"] += held_here if spaces is None else 0
                bar.update(held_here)
                rewritten = held_here > 0
                if held_here:
                    logger.info("%d records the interrupted run wrote after its last checkpoint were in place and not "
                                "written again", held_here)
            if len(batch):
                read = len(batch)
                batch = _without_invalid(batch, tally, source_uri, skip_invalid)
                bar.update(read - len(batch))
            if len(batch):
                labels = None if spaces is None else spaces.labels(batch)
                of_source = np.ones(len(batch), dtype=bool) if labels is None else labels == plan.source_space
                of_target = of_source if labels is None else labels == plan.target_space
                for name, watch in watches.items():
                    watch.add(batch.vectors[of_source if name == plan.source_space else of_target])
                out = translate_batch(batch, translator, plan.source_space, plan.target_space, spaces, labels, lengths)
                in_out = of_source | of_target  # the rows of ``batch`` that ``out`` holds, in order
                if mark is not None:  # told from the embeddings the destination holds too (sync: and each record's source)
                    out = _marked(out, plan.mark_vector, sync.sync_marks(batch, mark, plan.sync_source)
                                  if plan.sync_source else mark, of_source[in_out])
                dest.upsert(out)
                _count(tally, batch, out, of_source, in_out)
                bar.update(len(batch))
                if sum(len(s) for s in sample_src) < 2000 and of_source.any():
                    sample_src.append(batch.vectors[of_source][:500])
                    sample_trg.append(out.vectors[np.flatnonzero(of_source[in_out])][:500])
            if progress and bar.disable and time.perf_counter() - logged >= PROGRESS_LOG_SECONDS:
                logged = time.perf_counter()
                rate = (tally["read"] - read_at_start) / max(logged - t0, 1e-9)
                logger.info("migrated %d of %d records (%.0f/s, about %.0f s left)", tally["read"], plan.reads, rate,
                            max(plan.reads - tally["read"], 0) / max(rate, 1e-9))
            finished = batch.next_position is None
            if finished and plan.without_vector:  # the points without the vector next, from their first
                checkpoints.take(dest, save, None, False, "without_vector")
            elif finished and plan.sync_source:  # the records the source no longer holds next
                checkpoints.take(dest, save, None, False, "delete")
            elif finished or checkpoints.due():
                checkpoints.take(dest, save, batch.next_position, finished)
        bar.close()
        for watch in watches.values():
            watch.finish()
        if plan.without_vector and not done and stage != "delete":
            _copy_points_without_vector(source, dest, batch_size, position if stage == "without_vector" else None,
                                        tally, checkpoints, save, keep_held=on_exists.keeps_held, where=where)
            if plan.sync_source:
                checkpoints.take(dest, save, None, False, "delete")
        if plan.sync_source and not done:  # read whole again on a resume: deleting an id twice does nothing
            dest.flush()
            ids = sync.gone(dest, source, plan.mark_vector, plan.sync_source, batch_size, where)
            sync.delete(dest, ids, batch_size)
            tally["deleted"] += len(ids)
        dest.flush()
        source_count, dest_count = source.count(), dest.count()
        if where is not None and plan.where_count is not None:  # not read: those the engine counts as not kept
            tally["filtered_out"] = max(source_count - source.count_where(where), 0)
        if resumed_fill:
            _credit_resumed_writes(tally, dest_count, translated_only=spaces is None)
        if not done:
            save(None, True)
    seconds = time.perf_counter() - t0
    overlap = neighbour_overlap(np.concatenate(sample_src), np.concatenate(sample_trg)) if sample_src else float("nan")
    report = MigrationReport(
        written=tally["written"], seconds=seconds, vectors_per_s=tally["read"] / max(seconds, 1e-9),
        source_count=source_count, dest_count=dest_count,
        count_ok=False,
        neighbour_overlap_at_10=overlap, translator_fit_score=translator.info.get("score"),
        translator_fit_warnings=translator.fit_warnings,
        source_space=plan.source_space, target_space=plan.target_space, mixed_by=plan.mixed_by,
        translated=tally["translated"], copied=tally["copied"], left_out=tally["left_out"],
        left_out_ids=tally["left_out_ids"], invalid=tally["invalid"], invalid_ids=tally["invalid_ids"],
        checkpoints=checkpoints.taken,
        checkpoint_seconds=round(checkpoints.flushing, 3),
        # (a sync's updates overwrite records by design, and its deletions shrink the destination)
        replaced=(None if tally["dest_before"] is None else max(
            tally["dest_before"] + tally["written"] - tally["deleted"] - dest_count - tally["updated"], 0)),
        kept=tally["kept"], settings_carried=carried, training_seconds=tally["training_seconds"],
        other_vectors_copied=tally["other_vectors"], without_vector=tally["without_vector"],
        without_vector_kept=tally["without_vector_kept"], filtered_out=tally["filtered_out"],
        updated=tally["updated"], deleted=tally["deleted"],
    )
    adding = on_exists in (OnExists.APPEND, OnExists.FILL, OnExists.SYNC)
    report.count_ok = dest_count >= report.expected_count if adding else dest_count == report.expected_count
    if check_pairs is not None:
        u, v = check_pairs
        # as the migrated collection is used: the target model's vector of each check document searches the check
        # documents translated as this migration wrote them
        records = translator.translate(u, source=plan.source_space, target=plan.target_space)
        report.paired = paired_metrics(v, records).to_dict()
    if report.replaced:
        logger.warning("%d records the destination held before had the id of a migrated record and were overwritten "
                       "by it (writes are upserts by id); to keep both, migrate into a new collection", report.replaced)
    if report.kept:
        logger.info("%d records whose id the destination held were kept as they were (--on-exists %s)", report.kept,
                    on_exists.value)
    if report.updated or report.deleted:
        logger.info("--on-exists sync: %d records the source changed were written again, %d it no longer holds were "
                    "deleted", report.updated, report.deleted)
    if report.other_vectors_copied:
        logger.info("the points' other vectors, copied as they were: %s", ", ".join(
            f"{name} on {n:,} records" for name, n in report.other_vectors_copied.items()))
    if report.without_vector:
        logger.info("%d points of the source without a %r vector (other vectors only) were copied with them, as they "
                    "are", report.without_vector, plan.vector_name or "(unnamed)")
    if report.without_vector_kept:
        logger.info("%d points without a %r vector whose id the destination held were kept as they were (--on-exists "
                    "fill)", report.without_vector_kept, plan.vector_name or "(unnamed)")
    if report.filtered_out:
        logger.info("%d records whose metadata does not meet %s were not migrated", report.filtered_out,
                    " and ".join(plan.where))
    if report.invalid:
        logger.warning("%d records whose vector is NaN, infinite or all zero were left out (--skip-invalid; first ids: "
                       "%s)", report.invalid, ", ".join(map(repr, report.invalid_ids)))
    if report.left_out:
        logger.warning("%d records %s and were not migrated (first ids: %s)", report.left_out, spaces.neither,
                       ", ".join(map(repr, report.left_out_ids)))
    logger.info("migrated %d vectors in %.1f s (%.0f vec/s); counts source=%d dest=%d", tally["written"], seconds,
                report.vectors_per_s, source_count, dest_count)
    return report


def _copy_points_without_vector(source: VectorStore, dest: VectorStore, batch_size: int, start: Any, tally: dict,
                                checkpoints: Checkpoints, save: Callable[..., None], keep_held: bool,
                                where: Where | None = None) -> None:
    """A migration's second stage: ``source``'s points that hold other vectors only, from ``start`` (a position of
    theirs), copied as they are into ``dest`` (their other vectors that it keeps, their payload; with ``keep_held``
    only where it lacks their id; with ``where`` only those whose metadata meets it), checkpointed as the first stage
    is (the last checkpoint is the migration's end)."""
    for batch in source.iter_points_without_vector(batch_size, start):
        if where is not None:
            batch = batch.select(where.rows(batch.metadata), keep_position=True)
        written = dest.write_points_without_vector(batch, keep_held=keep_held)
        tally["without_vector"] += len(written)
        tally["without_vector_kept"] += len(batch) - len(written)
        _count_other_vectors(tally, written)
        if batch.next_position is not None and checkpoints.due():
            checkpoints.take(dest, save, batch.next_position, False, "without_vector")


def _training_sample(source: VectorStore, translator: Translator, plan: MigrationPlan, spaces: RecordSpaces | None,
                     size: int, where: Where | None = None) -> np.ndarray:
    """``size`` records of ``source`` spread over it (:meth:`VectorStore.spread_sample`; those ``where`` keeps) as the
    migration will write them (translated; a collection of mixed spaces' own records copied), for a destination index
    to be trained on before it takes them."""
    logger.info("reading %d records to train the destination's index on their translations", size)
    parts, held = [], 0
    drawn = size if where is None else _drawn_for(size, plan)
    for batch in source.spread_sample(drawn, with_payload=spaces is not None or where is not None):
        kept = ~no_embedding(batch.vectors)  # no embedding: nothing to train on
        if where is not None:
            kept &= np.array([where.holds(m) for m in batch.metadata], dtype=bool)
        batch = batch.select(np.flatnonzero(kept))
        labels = None if spaces is None else spaces.labels(batch)
        out = translate_batch(batch, translator, plan.source_space, plan.target_space, spaces, labels)
        parts.append(out.vectors)
        held += len(out)
        if held >= size:
            break
    if not held:
        raise V2VError(f"none of the {size:,} records drawn all through {plan.source} to train the destination's index "
                       "is one the migration writes" + (" (its --where keeps none of them)" if where else "")
                       + ": check the filter, or migrate into a flat index (no ?index=)")
    return np.concatenate(parts)[:size]


def _drawn_for(size: int, plan: MigrationPlan) -> int:
    """How many records to draw all through a filtered source for about ``size`` the filter keeps: ``size`` over the
    share it keeps (counted by the source's engine, else in the plan's first records), a quarter more for chance."""
    kept, of = (plan.where_count, plan.count) if plan.where_count is not None else (plan.where_sample or (0, 0))
    if not kept or not of:
        return size
    return min(plan.count, math.ceil(1.25 * size * of / kept))


def _credit_resumed_writes(tally: dict, dest_count: int, translated_only: bool) -> None:
    """A fill resumed after a crash finds what the interrupted run wrote after its last checkpoint among the
    destination's ids and skips it as if the destination had held it before: counted as kept. A fill writes only
    ids the destination lacked, so the destination's growth over the whole migration is what the migration wrote;
    the difference moves from kept to written (and to translated where every written record is a translation). Left
    as counted when the growth does not fit (another writer, a store whose count lags, or a state file without
    ``dest_before``)."""
    if tally["dest_before"] is None:
        return
    found = dest_count - tally["dest_before"] - tally["written"]
    if 0 < found <= tally["kept"]:
        tally["written"] += found
        tally["kept"] -= found
        if translated_only:
            tally["translated"] += found
        logger.info("%d records the interrupted run wrote after its last checkpoint were in place and not written "
                    "again; counted as written, not kept", found)


def _without_invalid(batch: VectorBatch, tally: dict, source_uri: str, skip: bool) -> VectorBatch:
    """``batch`` less its records without an embedding (:func:`~v2v_store.connectors.base.no_embedding`; counted
    in ``tally``) where ``skip``; else, where it has any, the migration stops before the batch is written, naming
    them and the fix."""
    bad = no_embedding(batch.vectors)
    if not bad.any():
        return batch
    ids = [batch.ids[i] for i in np.flatnonzero(bad)]
    if not skip:
        raise InvalidVectorsError(
            f"{len(ids)} record(s) of {source_uri} in this batch have a vector that is NaN, infinite or all zero (no "
            f"embedding to translate; first id {ids[0]!r}): the batch was not written. Fix or embed them in the "
            "source, or leave such records out with --skip-invalid (counted and listed in the report); then run "
            "again with --resume")
    tally["read"] += len(ids)
    tally["invalid"] += len(ids)
    tally["invalid_ids"] = (tally["invalid_ids"] + ids)[:LEFT_OUT_IDS]
    return batch.select(np.flatnonzero(~bad), keep_position=True)


def _without_held(batch: VectorBatch, dest: VectorStore) -> tuple[VectorBatch, int]:
    """``batch`` less the records whose id ``dest`` holds, and how many those were (the position is kept)."""
    rows = np.flatnonzero(~dest.holds(batch.ids)) if len(batch) else np.zeros(0, dtype=np.int64)
    if len(rows) == len(batch):
        return batch, 0
    return batch.select(rows, keep_position=True), len(batch) - len(rows)


def _count(tally: dict, batch: VectorBatch, out: VectorBatch, of_source: np.ndarray, kept: np.ndarray) -> None:
    """Add one batch to a migration's tally (records read, written, translated, copied, left out)."""
    tally["read"] += len(batch)
    tally["written"] += len(out)
    tally["translated"] += int(of_source.sum())
    tally["copied"] += len(out) - int(of_source.sum())
    missing = [batch.ids[i] for i in np.flatnonzero(~kept)]
    tally["left_out"] += len(missing)
    tally["left_out_ids"] = (tally["left_out_ids"] + missing)[:LEFT_OUT_IDS]
    _count_other_vectors(tally, out)


def _count_other_vectors(tally: dict, written: VectorBatch) -> None:
    """Count the points' other vectors ``written`` (copied as they are) in a migration's tally, by name."""
    for others in written.other_vectors:
        for name in others:
            tally["other_vectors"][name] = tally["other_vectors"].get(name, 0) + 1
