"""Migrate a collection into another model's space without re-encoding: read -> translate -> write.

The unit of work is :func:`translate_batch`, a plain function of one batch; :func:`migrate` streams a
source through it and writes to any destination. Resumable and exactly-once in effect: after every
checkpoint the destination is flushed and then a small state file records the source position
reached. A job killed at any point resumes (``resume=True``) from the last checkpoint; the batches
since then are written again by id (upsert), so no id is lost or duplicated. The source is only read.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from v2v_store.connectors import Metric, VectorBatch, VectorStore, open_store
from v2v_store.errors import DestinationExistsError, DimensionMismatchError, StoreNotFoundError, V2VError
from v2v_store.metrics import paired_metrics
from v2v_store.space_check import first_vectors
from v2v_store.translator import Space, Translator

logger = logging.getLogger(__name__)
STATE_VERSION = 1


class OnExists(str, enum.Enum):
    FAIL = "fail"
    APPEND = "append"
    REPLACE = "replace"


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

    def describe(self) -> str:
        return "\n".join([
            f"migrate {self.count:,} vectors",
            f"  from {self.source}  ({self.source_space}, d={self.source_dim}, {self.source_metric})",
            f"  to   {self.dest}  ({self.target_space}, d={self.target_dim}, {self.dest_metric}; "
            + (f"exists with {self.dest_count:,} vectors)" if self.dest_exists else "new)"),
            f"  batches of {self.batch_size}" + (f", resuming after {self.already_written:,} written" if self.resume_from is not None else ""),
            f"  estimate: ~{self.estimated_seconds:.0f} s (at a conservative 5,000 vec/s), "
            f"~{self.estimated_bytes / 2**20:.1f} MiB of vectors written",
        ])


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
    paired: dict = field(default_factory=dict)
    source_space: str = ""  # the translator's spaces the records went from and into
    target_space: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def translate_batch(batch: VectorBatch, translator: Translator, source: str, target: str) -> VectorBatch:
    """The unit of distributed work: one batch in, the same records in the target space out."""
    return batch.with_vectors(translator.translate(batch.vectors, source=source, target=target))


def neighbour_overlap(source: np.ndarray, translated: np.ndarray, k: int = 10) -> float:
    """Mean overlap of each vector's k nearest neighbours before and after translation (label-free)."""
    def knn(v):
        v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        sim = v @ v.T
        np.fill_diagonal(sim, -np.inf)
        return np.argpartition(-sim, k, axis=1)[:, :k]

    a, b = knn(source), knn(translated)
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(a, b)]))


def _state_path(source: str, dest: str, state_dir: str | Path | None) -> Path:
    key = hashlib.sha1(f"{source}\n{dest}".encode()).hexdigest()[:16]
    return Path(state_dir or Path(".v2v") / "migrations") / f"{key}.json"


def _save_state(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)


def _resolve_spaces(translator: Translator, store: VectorStore, source_space: str | None,
                    sample: np.ndarray | None) -> tuple[Space, Space]:
    src = translator.space(source_space) if source_space else translator.space_for_dim(store.dim, sample,
                                                                                        "--source-space {}")
    if src.dim != store.dim:
        raise DimensionMismatchError(
            f"dimension mismatch: collection {store.uri} has d={store.dim}, translator space {src.name!r} "
            f"expects d={src.dim}; pick the translator trained on this collection's model"
        )
    trg = translator.spaces[1] if src.name == translator.spaces[0].name else translator.spaces[0]
    return src, trg


def plan_migration(translator: Translator, source_uri: str, dest_uri: str, batch_size: int = 1024,
                   on_exists: OnExists | str = OnExists.FAIL, resume: bool = False, source_space: str | None = None,
                   state_dir: str | Path | None = None, check_space: bool = True) -> tuple[MigrationPlan, dict | None]:
    """Validate everything a migration needs, write nothing, and describe the job.

    ``check_space``: the source's first vectors must look like the translator's source space
    (:meth:`Translator.check_space`), so the wrong collection or a wrong ``source_space`` is refused up front."""
    on_exists = OnExists(on_exists)
    with open_store(source_uri) as source:
        if not source.exists():
            raise StoreNotFoundError(f"source {source_uri} does not exist: check the path and collection name")
        sample = first_vectors(source)
        src, trg = _resolve_spaces(translator, source, source_space, sample)
        count, src_metric = source.count(), source.metric.value
        if check_space:
            translator.check_space(sample, src.name, f"collection {source_uri}")
    dest = open_store(dest_uri, dim=trg.dim)
    try:
        exists = dest.exists() and dest.count() > 0
        if exists and dest.dim != trg.dim:
            raise DimensionMismatchError(
                f"dimension mismatch: destination {dest_uri} has d={dest.dim}, translations into "
                f"{trg.name!r} have d={trg.dim}; write to a new collection"
            )
        if dest.exists() and dest.metric == Metric.L2:
            raise DimensionMismatchError(
                f"metric mismatch: destination {dest_uri} ranks by l2; translated vectors are unit length and "
                "meant for cosine (or dot) collections: write to a new collection"
            )
        state_path = _state_path(source_uri, dest_uri, state_dir)
        state = json.loads(state_path.read_text()) if resume and state_path.exists() else None
        if exists and state is None and on_exists == OnExists.FAIL:
            raise DestinationExistsError(
                f"destination {dest_uri} already holds {dest.count():,} vectors: pass --on-exists append to add "
                "to it, --on-exists replace to overwrite it, or --resume to finish an interrupted migration"
            )
        dest_count, dest_metric = (dest.count() if dest.exists() else 0), dest.metric.value
    finally:
        dest.close()
    remaining = count - (state["written"] if state else 0)
    plan = MigrationPlan(
        source_uri, dest_uri, count, src.name, src.dim, src_metric, trg.name, trg.dim, dest_metric, exists,
        dest_count, batch_size, state["position"] if state else None, state["written"] if state else 0,
        estimated_seconds=remaining / 5000.0, estimated_bytes=remaining * trg.dim * 4,
    )
    return plan, state


def migrate(translator: Translator, source_uri: str, dest_uri: str, batch_size: int = 1024,
            on_exists: OnExists | str = OnExists.FAIL, resume: bool = False, dry_run: bool = False,
            source_space: str | None = None, state_dir: str | Path | None = None, checkpoint_seconds: float = 10.0,
            check_pairs: tuple[np.ndarray, np.ndarray] | None = None, progress: bool = True,
            check_space: bool = True) -> MigrationPlan | MigrationReport:
    """Translate every vector of ``source_uri`` into the other space of ``translator`` and write it,
    with ids, metadata and documents, to ``dest_uri``. Returns the plan when ``dry_run``. ``check_space``: see
    :func:`plan_migration`."""
    from tqdm import tqdm

    plan, state = plan_migration(translator, source_uri, dest_uri, batch_size, on_exists, resume, source_space, state_dir,
                                 check_space)
    if dry_run:
        return plan
    on_exists = OnExists(on_exists)
    state_path = _state_path(source_uri, dest_uri, state_dir)
    fingerprint = {"translator": translator.config_dict(), "source_space": plan.source_space}
    if state is not None and state.get("fingerprint") != json.loads(json.dumps(fingerprint, default=str)):
        raise V2VError(f"{state_path} records a migration with a different translator or space; "
                       "delete it to start over, or resume with the original translator")
    if state is not None and state.get("done"):
        logger.info("migration already complete per %s", state_path)
    written = state["written"] if state else 0
    position = state["position"] if state else None
    sample_src, sample_trg = [], []
    t0 = time.perf_counter()
    with open_store(source_uri) as source, open_store(dest_uri, dim=plan.target_dim, metric=Metric.COSINE) as dest:
        if state is None:
            if on_exists == OnExists.REPLACE and dest.exists():
                logger.info("replacing existing destination %s", dest_uri)
                dest.drop()
            _save_state(state_path, {"version": STATE_VERSION, "source": source_uri, "dest": dest_uri,
                                     "position": None, "written": 0, "done": False, "fingerprint": fingerprint})
        bar = tqdm(total=plan.count, initial=written, unit="vec", disable=not progress or not os.isatty(2), desc="migrate")
        last_checkpoint = time.perf_counter()
        done = state is not None and state.get("done")
        batches = iter(()) if done else source.iter_batches(batch_size=batch_size, start=position)
        for batch in batches:
            out = translate_batch(batch, translator, plan.source_space, plan.target_space)
            dest.upsert(out)
            written += len(batch)
            bar.update(len(batch))
            if sum(len(s) for s in sample_src) < 2000:
                sample_src.append(batch.vectors[:500])
                sample_trg.append(out.vectors[:500])
            finished = batch.next_position is None
            if finished or time.perf_counter() - last_checkpoint >= checkpoint_seconds:
                dest.flush()  # durable first, then record the position: a crash between repeats, never skips
                _save_state(state_path, {"version": STATE_VERSION, "source": source_uri, "dest": dest_uri,
                                         "position": batch.next_position, "written": written, "done": finished,
                                         "fingerprint": fingerprint})
                last_checkpoint = time.perf_counter()
        bar.close()
        dest.flush()
        if not done:
            _save_state(state_path, {"version": STATE_VERSION, "source": source_uri, "dest": dest_uri, "position": None,
                                     "written": written, "done": True, "fingerprint": fingerprint})
        source_count, dest_count = source.count(), dest.count()
    seconds = time.perf_counter() - t0
    overlap = neighbour_overlap(np.concatenate(sample_src), np.concatenate(sample_trg)) if sample_src else float("nan")
    report = MigrationReport(
        written=written, seconds=seconds, vectors_per_s=written / max(seconds, 1e-9), source_count=source_count,
        dest_count=dest_count, count_ok=(dest_count == source_count if on_exists != OnExists.APPEND else dest_count >= source_count),
        neighbour_overlap_at_10=overlap, translator_fit_score=translator.info.get("score"),
        source_space=plan.source_space, target_space=plan.target_space,
    )
    if check_pairs is not None:
        u, v = check_pairs
        report.paired = paired_metrics(translator.translate(u, source=plan.source_space, target=plan.target_space), v).to_dict()
    logger.info("migrated %d vectors in %.1f s (%.0f vec/s); counts source=%d dest=%d", written, seconds,
                report.vectors_per_s, source_count, dest_count)
    return report
