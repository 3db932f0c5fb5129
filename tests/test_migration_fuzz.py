"""Random migrations checked record by record against what they should leave: a store of each kind as source and as
destination (FAISS Flat, HNSW and IVF, embedded Chroma and a Chroma server, Qdrant local mode and an edge shard, each
with one vector or a named one), ids of every kind, metadata of every shape, documents or none, cosine, dot or L2, a
destination that already holds some of the ids (``append`` / ``fill`` / ``replace``), a filter, batch sizes, and a
crash at a random batch then ``--resume`` (at times in batches of another size, at times crashing again). Each case is
drawn from its seed, so a failure names the seed that replays it (``-k "case-17"``)."""

from __future__ import annotations

import dataclasses
import math
import os
import uuid

import numpy as np
import pytest
from conftest import free_port, read_records, start_chroma_server, stop_chroma_server, translate_batch_crashing_at

from v2v_store import VectorBatch, open_store
from v2v_store.connectors import TRANSLATED_KEY
from v2v_store.connectors.where import Where
from v2v_store.errors import UnsupportedIndexError
from v2v_store.migrate import migrate
from v2v_store.synthetic import views
from v2v_store.train.linear import fit_procrustes
from v2v_store.translator import Space, Translator

STORES = {"faiss": "faiss://{p}/{name}.faiss",
          "faiss-hnsw": "faiss://{p}/{name}.faiss?index=HNSW16",
          "faiss-ivf": "faiss://{p}/{name}.faiss?index=IVF4,Flat",
          "chroma": "chroma://{p}/chroma?collection={name}",
          "chroma-server": "chroma+http://127.0.0.1:{port}?collection={name}",
          "qdrant-edge": "qdrant-edge://{p}/{name}",
          "qdrant-edge-named": "qdrant-edge://{p}/{name}?vector=dense",
          "qdrant": "qdrant://{p}/qdrant?collection={name}",
          "qdrant-named": "qdrant://{p}/qdrant?collection={name}&vector=dense"}
MODES = ["new", "append", "fill", "replace"]
CASES = int(os.environ.get("V2V_FUZZ_CASES", 80))  # more, to hunt: V2V_FUZZ_CASES=1000


@pytest.fixture(scope="module")
def translator():
    a, b = views(2000, seed=11)
    return Translator.from_linear_map(fit_procrustes((a, b)), Space("x", a.shape[1]), Space("y", b.shape[1]))


def random_id(rng: np.random.Generator, i: int) -> int | str:
    kind = rng.integers(6)
    return [i, 2**63 + i, f"doc-{i}", f"{i:05d}", str(uuid.UUID(int=int(rng.integers(2**62)) * 4 + i % 4)),
            f"é-{i}-文"][kind]


def random_metadata(rng: np.random.Generator, i: int) -> dict:
    meta = {"n": i, "tag": ["even", "odd"][i % 2]}
    if rng.random() < 0.3:
        meta["score"] = float(rng.normal())
    if rng.random() < 0.2:
        meta["tags"] = [str(t) for t in rng.integers(5, size=int(rng.integers(1, 4)))]
    if rng.random() < 0.1:
        meta["nested"] = {"depth": {"k": int(rng.integers(100))}}
    if rng.random() < 0.1:
        del meta["tag"]
    if rng.random() < 0.05:
        meta = {}
    return meta


@dataclasses.dataclass
class Case:
    """One random migration: where from, where to, what the destination holds first, how it is run."""
    seed: int
    source: str
    dest: str
    mode: str
    n: int
    batch_size: int
    where: list[str] | None
    crash_at: int | None  # the translate_batch call that raises, or none
    metric: str = "cosine"  # the source's (and a destination's that exists before)
    resume_batch_size: int | None = None  # the --resume run's, where it differs
    crash_again_at: int | None = None  # the --resume run crashes too, then runs again

    @classmethod
    def draw(cls, seed: int) -> Case:
        rng = np.random.default_rng(seed)
        source, dest = rng.choice(list(STORES), size=2)
        mode, n, batch_size = str(rng.choice(MODES)), int(rng.integers(20, 400)), int(rng.choice([7, 32, 64, 150]))
        where = [f"n>={int(rng.integers(0, n))}"] if rng.random() < 0.3 else ["tag=odd"] if rng.random() < 0.15 else None
        crash_at = int(rng.integers(1, 8)) if rng.random() < 0.5 else None
        metric = str(rng.choice(["cosine", "dot", "l2"], p=[0.6, 0.2, 0.2]))
        resume_batch_size = int(rng.choice([5, 50, 200])) if rng.random() < 0.3 else None
        crash_again_at = int(rng.integers(1, 4)) if rng.random() < 0.3 else None
        return cls(seed, str(source), str(dest), mode, n, batch_size, where, crash_at, metric, resume_batch_size,
                   crash_again_at)


def same_metadata(got, want) -> bool:
    """Whether metadata read back is what was written: empty metadata reads as None, and a float may come back one
    unit in the last place off (Chroma's arrays and an edge shard's payload parse their JSON text so, see README)."""
    if isinstance(want, dict) and isinstance(got, dict):
        return got.keys() == want.keys() and all(same_metadata(got[k], want[k]) for k in want)
    if isinstance(want, list) and isinstance(got, list):
        return len(got) == len(want) and all(map(same_metadata, got, want))
    if isinstance(want, float) and isinstance(got, float):
        return abs(got - want) <= math.ulp(want)
    return got == (want or None) if isinstance(want, dict) else type(got) is type(want) and got == want


def write(uri: str, ids: list, vectors: np.ndarray, metadata: list, documents: list, metric: str) -> None:
    with open_store(uri, dim=vectors.shape[1], metric=metric) as store:
        if not store.exists() and store.training_sample_size(len(ids)):
            store.train_on(vectors)
        for start in range(0, len(ids), 100):
            end = start + 100
            store.upsert(VectorBatch(ids[start:end], vectors[start:end], metadata[start:end], documents[start:end]))


def migrate_crashing_at(call: int, *args, **kwargs):
    """:func:`migrate` crashing (RuntimeError "killed") at its ``call``-th batch translated: None where it crashed,
    its report where it finished first (a crash drawn past its last batch)."""
    try:
        with translate_batch_crashing_at(call):
            return migrate(*args, **kwargs)
    except RuntimeError as e:
        assert str(e) == "killed"
        return None


@pytest.fixture(scope="module")
def chroma_server_port(tmp_path_factory):
    """One real Chroma server for the cases that draw one (each its own collections)."""
    port = free_port()
    server = start_chroma_server(tmp_path_factory.mktemp("chroma-server"), port)
    yield port
    stop_chroma_server(server)


def cases() -> list:
    drawn = [Case.draw(seed) for seed in range(CASES)]
    return [pytest.param(c, id=f"case-{c.seed}",
                         marks=[pytest.mark.server] if "chroma-server" in (c.source, c.dest) else [])
            for c in drawn]


@pytest.mark.parametrize("case", cases())
def test_a_random_migration_leaves_exactly_what_it_should(case, translator, tmp_path, request):
    seed = case.seed
    rng = np.random.default_rng(1000 + seed)
    port = request.getfixturevalue("chroma_server_port") if "chroma-server" in (case.source, case.dest) else None
    (tmp_path / "s").mkdir(), (tmp_path / "d").mkdir()
    src = STORES[case.source].format(p=tmp_path / "s", name=f"src{seed}", port=port)
    dst = STORES[case.dest].format(p=tmp_path / "d", name=f"dst{seed}", port=port)
    x, _ = views(case.n, seed=seed)
    ids = list(dict.fromkeys(random_id(rng, i) for i in range(case.n)))  # a uuid's draw may repeat: once each
    x = x[:len(ids)]
    if case.metric != "cosine":  # lengths that rank too
        x = x * rng.uniform(0.5, 2.0, size=(len(x), 1)).astype(np.float32)
    metadata = [random_metadata(rng, i) for i in range(len(ids))]
    documents = [f"text {i}" if rng.random() < 0.8 else None for i in range(len(ids))]
    write(src, ids, x, metadata, documents, case.metric)
    source_before = read_records(src, batch_size=97)

    held = {}  # what the destination holds before: some of the source's ids and some of its own, fewer fields
    if case.mode != "new":
        overlap = [i for i in ids if rng.random() < 0.4]
        own = [f"dest-only-{j}" for j in range(int(rng.integers(0, 30)))]
        held_ids = overlap + own
        if held_ids:
            vectors = rng.normal(size=(len(held_ids), translator.spaces[1].dim)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            held_meta = [{"old": True} if rng.random() < 0.7 else {} for _ in held_ids]
            held_docs = ["old text" if rng.random() < 0.5 else None for _ in held_ids]
            write(dst, held_ids, vectors, held_meta, held_docs, case.metric)
            held = {i: (v, m, d) for i, v, m, d in zip(held_ids, vectors, held_meta, held_docs)}

    where = Where.parse(case.where) if case.where else None
    kept = [i for i, m in zip(ids, metadata) if where is None or where.holds(m)]
    on_exists = {"new": "fail"}.get(case.mode, case.mode)
    run = dict(batch_size=case.batch_size, on_exists=on_exists, state_dir=tmp_path / "state", progress=False,
               checkpoint_seconds=0, where=where)

    if case.dest == "faiss-hnsw" and case.mode == "append" and set(kept) & set(held):
        with pytest.raises(UnsupportedIndexError, match="cannot overwrite records"):  # HNSW removes no rows
            migrate(translator, src, dst, **run)
        got = read_records(dst, batch_size=97)  # refused before anything is written
        assert set(got) == set(held) and all(same_metadata(got[i][1], m) for i, (_, m, _) in held.items())
        return

    report = None
    for attempt, crash_at in enumerate((case.crash_at, case.crash_again_at if case.crash_at else None)):
        if crash_at is None:
            break
        report = migrate_crashing_at(crash_at, translator, src, dst, resume=attempt > 0, **run)
        if report is not None:
            break
        run["batch_size"] = case.resume_batch_size or case.batch_size  # a resume may read in other batches
    if report is None:
        report = migrate(translator, src, dst, resume=case.crash_at is not None, **run)
    assert report.count_ok, (case, report)

    expected = {} if case.mode in ("new", "replace") else dict(held)
    translated = translator.translate(np.stack([source_before[i][0] for i in ids]), "x", "y")
    # written into a collection of embeddings already there: each translation is marked so in its metadata
    mark = {"from": "x", "translator": translator.digest()[:16]} if held and case.mode != "replace" else None
    vector = "dense" if case.dest.endswith("-named") else ""
    written = {i for i in kept if not (case.mode == "fill" and i in held)}
    for j, i in enumerate(ids):
        if i in written:
            meta = {**metadata[j], TRANSLATED_KEY: {vector: mark}} if mark else metadata[j]
            expected[i] = (translated[j], meta, documents[j])
    got = read_records(dst, batch_size=97)
    assert set(got) == set(expected), (case, sorted(map(repr, set(got) ^ set(expected)))[:10])
    for i, (v, m, d) in expected.items():
        gv, gm, gd = got[i]
        assert same_metadata(gm, m) and gd == d, (case, i, (gm, gd), (m, d))
        if case.metric != "cosine" and i in written:  # the direction translated, at a length of the collection's
            gv, v = gv / np.linalg.norm(gv), v / np.linalg.norm(v)
        np.testing.assert_allclose(gv, v, atol=1e-5, err_msg=f"{case} id {i!r}")
    with open_store(dst) as store:
        assert store.count() == len(expected), case

    source_after = read_records(src, batch_size=97)  # the source is never changed
    assert set(source_after) == set(source_before)
    for i, (v, m, d) in source_before.items():
        np.testing.assert_array_equal(source_after[i][0], v)
        assert same_metadata(source_after[i][1], m) and source_after[i][2] == d


SYNC_DESTS = [s for s in STORES if s not in ("faiss-hnsw", "faiss-ivf")]  # those remove no rows: a sync is refused
SYNC_SOURCES = [s for s in STORES if s != "faiss-hnsw"]  # a source the test changes: HNSW overwrites no records
SYNC_CASES = int(os.environ.get("V2V_SYNC_FUZZ_CASES", 40))


def sync_cases() -> list:
    out = []
    for seed in range(SYNC_CASES):
        rng = np.random.default_rng(50_000 + seed)
        source, dest = str(rng.choice(SYNC_SOURCES)), str(rng.choice(SYNC_DESTS))
        marks = [pytest.mark.server] if "chroma-server" in (source, dest) else []
        out.append(pytest.param(seed, source, dest, id=f"sync-{seed}", marks=marks))
    return out


@pytest.mark.parametrize("seed,source,dest", sync_cases())
def test_a_random_sync_leaves_the_destination_in_step_with_its_source(seed, source, dest, translator, tmp_path,
                                                                      request):
    """`--on-exists sync` over random stores, ids, metadata, filters and batch sizes: a first sync, then the source
    changes (records deleted, re-embedded, edited, added; a filter's field flipped) and the destination gains records
    of its own; a second sync, at times crashing at a random batch and resumed. The destination must then hold the
    translation of every source record the filter keeps, as the source holds it now, and its own records, nothing
    else. Each case is drawn from its seed (``-k "sync-7"``)."""
    rng = np.random.default_rng(50_000 + seed)
    rng.choice(SYNC_SOURCES), rng.choice(SYNC_DESTS)  # the draws of sync_cases()
    port = request.getfixturevalue("chroma_server_port") if "chroma-server" in (source, dest) else None
    (tmp_path / "s").mkdir(), (tmp_path / "d").mkdir()
    # (names of their own: the migration cases of the same seeds share the Chroma server)
    src = STORES[source].format(p=tmp_path / "s", name=f"sync-src{seed}", port=port)
    dst = STORES[dest].format(p=tmp_path / "d", name=f"sync-dst{seed}", port=port)
    n = int(rng.integers(20, 300))
    x, _ = views(n + 60, seed=seed)
    ids = list(dict.fromkeys(random_id(rng, i) for i in range(n + 60)))
    x, new_ids, ids = x[:len(ids)], ids[n:], ids[:n]
    metadata = [random_metadata(rng, i) for i in range(len(ids))]
    documents = [f"text {i}" if rng.random() < 0.8 else None for i in range(len(ids))]
    write(src, ids, x[:n], metadata, documents, "cosine")
    where = Where.parse(["tag=odd"]) if rng.random() < 0.3 else None
    run = dict(batch_size=int(rng.choice([7, 32, 64, 150])), on_exists="sync", state_dir=tmp_path / "state",
               progress=False, checkpoint_seconds=0, where=where)
    assert migrate(translator, src, dst, **run).count_ok

    with open_store(src) as store:  # the source moves on
        gone = [i for i in ids if rng.random() < 0.1]
        store.delete(gone)
        changed = [r for r, i in enumerate(ids) if i not in gone and rng.random() < 0.15]
        for r in changed:
            if rng.random() < 0.5:
                x[r] = x[(r + 7) % n]  # re-embedded
            else:
                metadata[r] = {**metadata[r], "tag": "odd" if metadata[r].get("tag") != "odd" else "even", "v": 2}
        if changed:
            store.upsert(VectorBatch([ids[r] for r in changed], x[changed], [metadata[r] for r in changed],
                                     [documents[r] for r in changed]))
        added = new_ids[:int(rng.integers(0, len(new_ids) + 1))]
        added_meta = [random_metadata(rng, i) for i in range(len(added))]
        if added:
            store.upsert(VectorBatch(added, x[n:n + len(added)], added_meta, [None] * len(added)))
    own = {f"dest-only-{j}": rng.normal(size=translator.spaces[1].dim).astype(np.float32)
           for j in range(int(rng.integers(0, 10)))}
    if own:
        with open_store(dst) as store:
            store.upsert(VectorBatch(list(own), np.stack([v / np.linalg.norm(v) for v in own.values()])))

    crash_at = int(rng.integers(1, 6)) if rng.random() < 0.5 else None
    report = None if crash_at is None else migrate_crashing_at(crash_at, translator, src, dst, **run)
    if report is None:
        report = migrate(translator, src, dst, resume=crash_at is not None, **run)
    assert report.count_ok, (seed, source, dest, report)

    now = read_records(src, batch_size=97)
    expected = {i: (translator.translate(v[None], "x", "y")[0], m, d) for i, (v, m, d) in now.items()
                if where is None or where.holds(m)}
    got = read_records(dst, batch_size=97)
    assert set(got) == set(expected) | set(own), (seed, source, dest, sorted(map(repr, set(got) ^ (set(expected)
                                                                                               | set(own))))[:10])
    vector = "dense" if dest.endswith("-named") else ""
    for i, (v, m, d) in expected.items():
        gv, gm, gd = got[i]
        gm = dict(gm or {})
        mark = gm.pop(TRANSLATED_KEY)[vector]
        assert set(mark) == {"from", "translator", "source", "record"}, (seed, i, mark)
        assert same_metadata(gm or None, m) and gd == d, (seed, source, dest, i, (gm, gd), (m, d))
        np.testing.assert_allclose(gv, v, atol=1e-5, err_msg=f"sync-{seed} {source} -> {dest}: id {i!r}")
    for i, v in own.items():
        np.testing.assert_allclose(got[i][0], v / np.linalg.norm(v), atol=1e-5)
