"""Latent indexes kept on disk between queries (``v2v query --latent-cache DIR``, ``CrossQuery(latent_cache=)``).

Latent mode streams every record of a collection through the translator before its first search (about 20 s per
million records of 384 dimensions on a 2-core CPU); a query service keeps that copy in memory, but each ``v2v query``
command builds it again. With a cache directory each collection's latent index is written there once built, and
later commands (and :meth:`~v2v_store.query.CrossQuery.refresh`) load it, memory-mapped, while the collection looks
unchanged.

An entry is a directory named by a digest of everything its rows depend on: the translator (its config and tensors,
:meth:`~v2v_store.translator.Translator.digest`), the collection's URI, its space (for a collection of mixed spaces,
how its records are told apart), the latent precision and whether the space check ran. It holds ``latent.faiss``
(the index; none when no record is of the space), ``ids.json`` (each row's record id), ``fingerprints.npy`` (a
64-bit fingerprint of each row's stored vector, exactly as read), for a collection of mixed spaces ``left_out.json``
(the ids of its records of neither space, with its first space's entry) and ``entry.json`` (what it is, written
last).

Whether a collection is unchanged:

- a FAISS index or a .npy file (:meth:`VectorStore.version`): the same sizes and modification times of its files
  (the index, the v2v sidecar) as when the entry was built. Exact: FAISS and v2v rewrite the file on every write.
- Chroma and Qdrant collections expose no version: their records' keys (:meth:`VectorStore.iter_keys`: Chroma's
  string ids, Qdrant's point ids, listed without vectors or payloads) must be the entry's, and ``SPOT_CHECK`` of them
  drawn at random (fresh each time), read by key, must have the same vectors (and, in a collection of mixed spaces,
  the same space). Records added or removed are always seen; a record changed in place under the same id only by the
  spot check: an edit that touches 0.3% of the records passes it with a 5% chance, one record of a million almost
  always. Remove the collection's entry (``v2v cache prune DIR --collection URI``) to rebuild after such edits. When
  records were only added or removed (at most ``UPDATE_SHARE`` of them) and the spot check passes, the entry is
  updated (:class:`Stale`: the caller drops the removed rows, reads the added records by key and translates them)
  rather than built again (:class:`~v2v_store.query.CrossQuery` builds again an int8 entry of fewer than 65,536
  records that records were added to: its ranges were learnt from all of them).

A FAISS or .npy entry whose files changed, and any other stale entry, is rebuilt and replaced. Entries are written
to a staging directory and renamed into place, so an interrupted write leaves no half entry (a killed writer's
staging directory is removed by the next write). An entry takes the latent copy's size on disk (4 bytes per
dimension per record in float32, 2 in float16, 1 in int8, plus the ids and 8 bytes of fingerprint per record);
entries of old translators and of collections no longer queried stay until removed: :func:`cache_entries` lists
them with their size and when each was last used (``v2v cache list``), :func:`prune` removes those asked for
(``v2v cache prune``: of a collection, unused for so long, of translators other than the current ones, of
collections whose files are gone, the least recently used beyond a total size). A cache given a ``max_size``
(``v2v query --latent-cache-max-size 20G``) prunes itself after each entry written or loaded: the least recently used
entries go until the rest fit, never those the query uses (these alone may exceed it: a warning says so), nor those any
other open query uses, in this process or another (each marks the entries it loaded or wrote under ``.in_use`` until
it closes; the marks of a process that is gone count for nothing). ``v2v cache prune``'s filters remove what they
match, in use or not: removing an entry that a running query has loaded is safe, its memory map stays valid until the
query closes it, and the next query builds it again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import faiss
import numpy as np

from v2v_store.connectors import PointId, VectorBatch, VectorStore, parse_uri
from v2v_store.errors import V2VError
from v2v_store.mixed import RecordSpaces

logger = logging.getLogger(__name__)

CACHE_FORMAT = 1
SPOT_CHECK = 1024  # records compared with a Chroma or Qdrant collection's entry before it is used
# a Chroma or Qdrant entry is updated while the records added and removed are at most this share of it (at 200,000
# Chroma records, 45% changed: updated 13.6 s, built again 22.0 s; benchmarks/results/query_cache_update_*.md)
UPDATE_SHARE = 0.5
_FINGERPRINT_SEED = 0x76327673
LEFT_OUT = "left_out.json"  # a collection of mixed spaces' entry (its first space's): the ids of neither space
# markers of the entries running queries use (ENTRY.PID.TOKEN files), which a maximum size never removes
IN_USE = ".in_use"


@functools.cache
def _fingerprint_weights(dim: int) -> np.ndarray:
    return np.random.default_rng(_FINGERPRINT_SEED).integers(0, 2**62, dim, dtype=np.uint64) * 2 + 1


def fingerprints(vectors: np.ndarray) -> np.ndarray:
    """A 64-bit fingerprint of each float32 row, exact to the bit: a random odd-weighted sum of its words (mod 2^64),
    so two different rows share one with a chance of about 2^-63."""
    words = np.ascontiguousarray(vectors, dtype=np.float32).view(np.uint32).astype(np.uint64)
    with np.errstate(over="ignore"):
        return (words * _fingerprint_weights(words.shape[1])).sum(axis=1, dtype=np.uint64)


@dataclass
class LatentPart:
    """One space's latent rows of a collection: the index (None when no record is of the space), each row's record
    id and each row's fingerprint (:func:`fingerprints`)."""

    index: Any
    ids: list[PointId]
    fingerprints: np.ndarray


@dataclass
class Stale:
    """The cached parts of a Chroma or Qdrant collection's latent index that records were added to or removed from
    since they were built (the rest spot-checked unchanged): the parts read into memory, writable, for the caller to
    drop the ``removed`` ids' rows from, and add the ``added`` records to, then :meth:`LatentCache.save` them."""

    parts: list[LatentPart]
    added: list[Any]  # the keys of the records added (VectorStore.id_key)
    removed: set[PointId]
    count: int  # the collection's records when the changes were listed
    left_out: list[PointId]  # a collection of mixed spaces: its records of neither space, those removed since dropped


class LatentCache:
    """The latent indexes of one translator, precision and space-check setting, kept under ``directory``."""

    def __init__(self, directory: str | Path, translator_digest: str, precision: str, check_space: bool,
                 max_size: int | None = None):
        self.directory = Path(directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise V2VError(f"the latent cache {self.directory} is a file: name a directory (created if missing)")
        if max_size is not None and max_size < 0:
            raise V2VError(f"a latent cache's maximum size must be 0 or more bytes, not {max_size}")
        self._settings = {"format": CACHE_FORMAT, "translator": translator_digest, "precision": precision,
                          "check_space": bool(check_space)}
        self.max_size = max_size
        self._in_use: set[Path] = set()  # entries this cache loaded or wrote: never pruned by its own max_size
        self._token = f"{os.getpid()}.{uuid.uuid4().hex[:8]}"  # its markers' suffix (IN_USE), for other processes

    def _describe(self, uri: str, space: str, mixed: RecordSpaces | None) -> dict:
        """What an entry's rows depend on (its key, and the start of its ``entry.json``)."""
        return {**self._settings, "uri": uri, "space": space, "mixed": mixed.option if mixed else None}

    def _path(self, uri: str, space: str, mixed: RecordSpaces | None) -> Path:
        key = json.dumps(self._describe(uri, space, mixed), sort_keys=True)
        return self.directory / hashlib.sha256(key.encode()).hexdigest()[:32]

    def load(self, store: VectorStore, uri: str, spaces: list[str], mixed: RecordSpaces | None
             ) -> list[LatentPart] | Stale | None:
        """The parts (one per space in ``spaces``) of ``uri``'s latent index; :class:`Stale` when records were only
        added to or removed from a Chroma or Qdrant collection since (at most ``UPDATE_SHARE`` of them); None when one
        is missing or the collection has changed otherwise (see the module's docstring)."""
        entries = []
        for space in spaces:
            path = self._path(uri, space, mixed)
            try:
                entries.append((path, json.loads((path / "entry.json").read_text())))
            except (OSError, ValueError):
                return None
        version = store.version()
        if version is not None and any(entry.get("version") != version for _, entry in entries):
            logger.info("latent cache of %s: the collection's files changed since it was built; building it again", uri)
            return None
        try:
            parts = [self._read(path, entry) for path, entry in entries]
        except (OSError, ValueError, RuntimeError, KeyError, TypeError) as error:
            logger.warning("latent cache of %s is unreadable (%s); building it again", uri, error)
            return None
        if version is None:
            loaded = self._compare(store, uri, spaces, mixed, entries, parts)
        else:
            for path, _ in entries:
                self._use(path)
            logger.info("latent index of %s loaded from %s (%d vectors)", uri, self.directory,
                        sum(len(p.ids) for p in parts))
            loaded = parts
        if isinstance(loaded, list) and self.max_size is not None:  # a bound lowered since: kept from now on
            self.keep_within(self.max_size)
        return loaded

    def _compare(self, store: VectorStore, uri: str, spaces: list[str], mixed: RecordSpaces | None,
                 entries: list[tuple[Path, dict]], parts: list[LatentPart]) -> list[LatentPart] | Stale | None:
        """A Chroma or Qdrant collection against its entry: the records it holds now (a read of their keys alone,
        :meth:`VectorStore.iter_keys`) against the entry's, then ``SPOT_CHECK`` of those both hold, drawn at random
        and read by key, for the same vectors (and spaces). The parts when nothing changed, :class:`Stale` when
        records were only added or removed (at most ``UPDATE_SHARE`` of them), else None (build it again)."""
        left_path = entries[0][0] / LEFT_OUT  # a collection of mixed spaces: its records of neither space, not new
        try:  # (an entry of session 61 has no such file: they are counted as added, read and left out again)
            left_out = json.loads(left_path.read_text()) if mixed is not None and left_path.exists() else []
        except (OSError, ValueError) as error:
            logger.warning("latent cache of %s is unreadable (%s); building it again", uri, error)
            return None
        located = {i: (p, row) for p, part in enumerate(parts) for row, i in enumerate(part.ids)}
        cached = {store.id_key(i): i for ids in (located, left_out) for i in ids}
        held = [k for page in store.iter_keys() for k in page]
        added = [k for k in held if k not in cached]
        removed = {cached[k] for k in cached.keys() - set(held)}
        if added or removed:
            logger.info("latent cache of %s: %d records added and %d removed since it was built (%d records then, %d "
                        "now)", uri, len(added), len(removed), len(cached), len(held))
            if len(added) + len(removed) > UPDATE_SHARE * max(len(held), len(cached)):
                logger.info("latent cache of %s: more than %.0f%% of it changed; building it again", uri,
                            100 * UPDATE_SHARE)
                return None
        kept = [k for k in held if k in cached] if added else held
        drawn = [kept[r] for r in np.sort(np.random.default_rng().permutation(len(kept))[:SPOT_CHECK])]
        by_field = mixed is not None and mixed.field is not None
        if not self._unchanged(store.records_of_keys(drawn, with_payload=by_field), uri, spaces, mixed, parts,
                               located):
            return None
        if not (added or removed):
            for path, _ in entries:
                self._use(path)
            logger.info("latent index of %s loaded from %s (%d vectors)", uri, self.directory,
                        sum(len(p.ids) for p in parts))
            return parts
        try:  # the indexes read again into memory, to be changed (a memory-mapped one is read-only)
            writable = [LatentPart(None if part.index is None else faiss.read_index(str(path / "latent.faiss")),
                                   list(part.ids), np.array(part.fingerprints))
                        for (path, _), part in zip(entries, parts)]
        except (OSError, RuntimeError) as error:
            logger.warning("latent cache of %s is unreadable (%s); building it again", uri, error)
            return None
        for path, _ in entries:
            self._use(path)
        return Stale(writable, added, removed, len(held), [i for i in left_out if i not in removed])

    def _use(self, path: Path) -> None:
        _mark_used(path)
        self._in_use.add(path)
        self._claim(path)

    def _claim(self, path: Path) -> None:
        """Mark ``path`` in use by this cache for other processes' size bounds (an unwritable directory: not)."""
        try:
            (self.directory / IN_USE).mkdir(exist_ok=True)
            (self.directory / IN_USE / f"{path.name}.{self._token}").touch()
        except OSError:
            pass

    def release(self) -> None:
        """Unmark the entries this cache used (:meth:`CrossQuery.close`): other processes may remove them again."""
        for path in self._in_use:
            (self.directory / IN_USE / f"{path.name}.{self._token}").unlink(missing_ok=True)
        self._in_use.clear()
        _tidy_marks(self.directory)

    @staticmethod
    def _read(path: Path, entry: dict) -> LatentPart:
        """An entry's part, memory-mapped and read-only."""
        ids = json.loads((path / "ids.json").read_text())
        prints = np.load(path / "fingerprints.npy", mmap_mode="r")
        index = (faiss.read_index(str(path / "latent.faiss"), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
                 if entry["rows"] else None)
        if len(ids) != entry["rows"] or len(prints) != entry["rows"] or (index is not None and index.ntotal != len(ids)):
            raise ValueError(f"{path} holds {len(ids)} ids, {len(prints)} fingerprints for {entry['rows']} rows")
        return LatentPart(index, ids, prints)

    @staticmethod
    def _unchanged(batches: Iterable[VectorBatch], uri: str, spaces: list[str], mixed: RecordSpaces | None,
                   parts: list[LatentPart], where: dict[PointId, tuple[int, int]]) -> bool:
        """Whether the records of ``batches`` are where the parts have them (``where``: each id's part and row), with
        the same vectors."""
        for batch in batches:
            labels = mixed.labels(batch) if mixed is not None else [spaces[0]] * len(batch)
            prints = fingerprints(batch.vectors)
            for r, i in enumerate(batch.ids):
                p, row = where.get(i, (None, None))
                found = spaces[p] if p is not None else None
                if found != labels[r] or (p is not None and parts[p].fingerprints[row] != prints[r]):
                    logger.info("latent cache of %s: record %r changed since it was built; building it again", uri, i)
                    return False
        return True

    def save(self, uri: str, spaces: list[str], mixed: RecordSpaces | None, parts: list[LatentPart],
             version: str | None, count: int, left_out: list[PointId] = ()) -> None:
        """Write the parts of ``uri``'s latent index built from a collection of ``count`` records at ``version``
        (:meth:`VectorStore.version`, taken before it was read); ``left_out``: a collection of mixed spaces' records
        of neither space (kept with the first part). A failure to write is logged, not raised: the query goes on with
        the index in memory."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._sweep_staging()
            for p, (space, part) in enumerate(zip(spaces, parts)):
                self._write(self._path(uri, space, mixed), part, {
                    **self._describe(uri, space, mixed), "version": version, "count": count, "rows": len(part.ids),
                    "built_at": time.time()}, left_out if mixed is not None and p == 0 else None)
                self._in_use.add(self._path(uri, space, mixed))
                self._claim(self._path(uri, space, mixed))
        except (OSError, RuntimeError, TypeError, ValueError) as error:
            logger.warning("could not write the latent cache of %s to %s (%s); the query goes on without it", uri,
                           self.directory, error)
            return
        if self.max_size is not None:
            self.keep_within(self.max_size)

    def keep_within(self, max_size: int) -> list["CacheEntry"]:
        """Remove the least recently used entries until the directory takes at most ``max_size`` bytes, except those
        this cache loaded or wrote (in use); returns those removed."""
        removed = prune(self.directory, max_size=max_size, protect=self._in_use)
        total = sum(e.size for e in cache_entries(self.directory))
        if total > max_size:
            logger.warning("the latent cache %s takes %s, over its maximum of %s, in entries this query uses; raise "
                           "--latent-cache-max-size, or query fewer collections at once", self.directory, total,
                           max_size)
        return removed

    def _sweep_staging(self) -> None:
        """Remove the staging directories of writers that were killed before they finished (their process is gone)."""
        for staging in self.directory.glob(".*.tmp"):
            if _process_gone(staging.name.split(".")[-2]):
                shutil.rmtree(staging, ignore_errors=True)

    @staticmethod
    def _write(path: Path, part: LatentPart, entry: dict, left_out: list[PointId] | None = None) -> None:
        staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        try:
            if part.index is not None:
                faiss.write_index(part.index, str(staging / "latent.faiss"))
            (staging / "ids.json").write_text(json.dumps(_json_ids(part.ids)))
            if left_out is not None:
                (staging / LEFT_OUT).write_text(json.dumps(_json_ids(left_out)))
            np.save(staging / "fingerprints.npy", np.asarray(part.fingerprints, dtype=np.uint64))
            (staging / "entry.json").write_text(json.dumps(entry, indent=1))
            if path.exists():
                shutil.rmtree(path)
            os.replace(staging, path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _json_ids(ids: list[PointId]) -> list[PointId]:
    return [i if isinstance(i, str) else int(i) for i in ids]


def _mark_used(path: Path) -> None:
    """Record that an entry was used now (its ``entry.json``'s modification time), for :func:`prune`'s order; a cache
    directory others own and this user may not write is left as it is."""
    try:
        os.utime(path / "entry.json")
    except OSError:
        pass


@dataclass
class CacheEntry:
    """One entry of a latent cache directory, as :func:`cache_entries` finds it. ``uri`` is None for a damaged entry
    (no readable ``entry.json``), which :func:`prune` always removes."""

    path: Path
    uri: str | None
    space: str | None
    mixed: str | None
    translator: str | None  # Translator.digest() of the translator that built it
    precision: str | None
    rows: int
    size: int  # bytes on disk
    built_at: float | None
    used_at: float  # when it was last loaded or written (its entry.json's modification time)
    group: tuple = ()  # the same for the entries of one collection of mixed spaces (one per space, used together)
    in_use: bool = False  # marked by an open query, of this process or another (:func:`entries_in_use`)

    @property
    def collection_gone(self) -> bool:
        """Whether the collection's files are gone (a local FAISS, .npy, Chroma or Qdrant path that no longer exists;
        False for a server's collection, which is not asked)."""
        if self.uri is None:
            return False
        try:
            parsed = parse_uri(self.uri)
        except V2VError:
            return False
        return parsed.host is None and bool(parsed.path) and not Path(parsed.path).exists()

    def describe(self) -> dict:
        return {"entry": self.path.name, "uri": self.uri, "space": self.space, "mixed": self.mixed,
                "translator": self.translator[:12] if self.translator else None, "precision": self.precision,
                "rows": self.rows, "bytes": self.size, "built_at": _when(self.built_at), "used_at": _when(self.used_at),
                "collection_gone": self.collection_gone, "in_use": self.in_use}


def _when(seconds: float | None) -> str | None:
    return None if seconds is None else time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(seconds))


def entries_in_use(directory: str | Path) -> set[str]:
    """The names of the entries that running queries (of any process) have marked in use (:data:`IN_USE`); markers of
    processes that are gone are removed."""
    names, markers = set(), Path(directory) / IN_USE
    for marker in markers.glob("*.*.*") if markers.is_dir() else ():
        entry, pid, _ = marker.name.split(".", 2)
        if _process_gone(pid):
            marker.unlink(missing_ok=True)
        else:
            names.add(entry)
    return names


def _process_gone(pid: str) -> bool:
    """Whether the process ``pid`` (as written in a file name) is gone; False where that cannot be told (not a pid
    of ours: a name we did not write, or another user's live process)."""
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (ValueError, PermissionError, OverflowError):
        return False
    return False


def _tidy_marks(directory: Path) -> None:
    """Remove the markers' directory once no entry is marked (a cache directory holds only entries between queries)."""
    try:
        (directory / IN_USE).rmdir()
    except OSError:
        pass  # marks left, or none there


def _disk_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def cache_entries(directory: str | Path) -> list[CacheEntry]:
    """The entries of a latent cache directory, least recently used first. Raises V2VError when ``directory`` is not
    a latent cache (missing, a file, or holding other things than entries)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise V2VError(f"no latent cache at {directory}: name the directory given to --latent-cache")
    entries, foreign, in_use = [], [], entries_in_use(directory)
    for path in sorted(directory.iterdir()):
        if (path.name.startswith(".") and path.name.endswith(".tmp")) or path.name == IN_USE:
            continue  # a writer's staging directory (removed by the next write once its writer is gone), markers
        if not path.is_dir() or len(path.name) != 32 or any(ch not in "0123456789abcdef" for ch in path.name):
            foreign.append(path.name)
            continue
        size = _disk_size(path)
        try:
            entry = json.loads((path / "entry.json").read_text())
            used_at = (path / "entry.json").stat().st_mtime
            group = tuple(str(entry.get(k)) for k in ("format", "translator", "precision", "check_space", "uri",
                                                       "mixed"))
            entries.append(CacheEntry(path, entry["uri"], entry["space"], entry.get("mixed"), entry["translator"],
                                      entry["precision"], int(entry["rows"]), size, entry.get("built_at"), used_at,
                                      group, path.name in in_use))
        except (OSError, ValueError, KeyError, TypeError):
            entries.append(CacheEntry(path, None, None, None, None, None, 0, size, None, path.stat().st_mtime,
                                      (path.name,)))
    if foreign and not entries:
        raise V2VError(f"{directory} is not a latent cache (it holds {', '.join(foreign[:3])}"
                       f"{', ...' if len(foreign) > 3 else ''}): name the directory given to --latent-cache")
    return sorted(entries, key=lambda e: e.used_at)


def prune(directory: str | Path, *, collection: str | None = None, unused_for: float | None = None,
          keep_translators: list[str] | None = None, gone: bool = False, max_size: int | None = None,
          everything: bool = False, dry_run: bool = False, protect: Iterable[Path] = ()) -> list[CacheEntry]:
    """Remove entries of a latent cache directory; returns those removed (with ``dry_run``, those that would be).

    An entry is removed when it matches every filter given: ``collection`` (built from that URI), ``unused_for``
    (seconds since it was last loaded or written), ``keep_translators`` (digests, :meth:`Translator.digest`: built by
    a translator not among them), ``gone`` (its collection's files are gone: :attr:`CacheEntry.collection_gone`);
    then, with ``max_size`` (bytes), the least recently used of the rest until they take no more, except the entries
    at the paths in ``protect``, those running queries use (:func:`entries_in_use`), and the others of their
    collection. ``everything`` removes every entry. Damaged
    entries are always removed. Raises V2VError when nothing is asked for."""
    filters = collection is not None or unused_for is not None or keep_translators is not None or gone
    if not (filters or max_size is not None or everything):
        raise V2VError("say which entries to remove: --collection URI, --unused-days D, --keep-translator DIR, "
                       "--gone, --max-size SIZE or --all")
    now = time.time()
    groups: dict[tuple, list[CacheEntry]] = {}  # a collection of mixed spaces has an entry per space, used together
    for entry in cache_entries(directory):
        groups.setdefault(entry.group, []).append(entry)
    removed, kept = [], []
    for group in sorted(groups.values(), key=lambda g: max(e.used_at for e in g)):  # least recently used first
        first = group[0]
        matches = everything or first.uri is None or (filters and (
            (collection is None or first.uri == collection)
            and (unused_for is None or now - max(e.used_at for e in group) >= unused_for)
            and (keep_translators is None or first.translator not in keep_translators)
            and (not gone or first.collection_gone)))
        (removed if matches else kept).append(group)
    if max_size is not None:
        protected = {Path(p).resolve() for p in protect}
        total = sum(e.size for group in kept for e in group)
        for group in [g for g in kept if not any(e.in_use or e.path.resolve() in protected for e in g)]:  # oldest
            if total <= max_size:
                break
            total -= sum(e.size for e in group)
            kept.remove(group)
            removed.append(group)
    removed = [entry for group in removed for entry in group]
    if not dry_run:
        for entry in removed:
            shutil.rmtree(entry.path, ignore_errors=True)
            for mark in (Path(directory) / IN_USE).glob(f"{entry.path.name}.*"):  # explicitly removed while in use
                mark.unlink(missing_ok=True)
            logger.info("removed latent cache entry %s (%s, %d rows, %d bytes)", entry.path.name,
                        entry.uri or "damaged", entry.rows, entry.size)
        _tidy_marks(Path(directory))
    return removed
