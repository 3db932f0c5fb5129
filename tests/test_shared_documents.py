"""Records two collections share by text are true pairs: found across real stores, and used by `v2v fit`."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata

import numpy as np

from v2v_store import VectorBatch, open_store
from v2v_store.inspect import inspect_store
from v2v_store.metrics import paired_metrics
from v2v_store.synthetic import views
from v2v_store.connectors.chroma_store import ChromaStore
from v2v_store.connectors.faiss_store import FaissStore
from v2v_store.train.data import sample_collection, sample_collections, shared_document_pairs
from v2v_store.translator import Translator


def fill(uri, ids, vectors, documents):
    with open_store(uri, dim=vectors.shape[1]) as store:
        for s in range(0, len(ids), 128):  # several pages, as a real collection is read
            store.upsert(VectorBatch(ids[s:s + 128], vectors[s:s + 128], None, documents[s:s + 128]))


def test_records_that_store_the_same_text_are_paired_across_stores(tmp_path):
    """A Chroma collection and a FAISS index share 60 texts (one with other surrounding whitespace, one with other
    line breaks, one with its accent stored decomposed, one stored twice in the target): each pair holds the two
    stores' vectors of one text, ids play no part, and ``most`` draws a uniform sample of the shared texts. Another
    case is another text."""
    x, y = views(400, seed=31)
    texts = [f"sentence number {i}" for i in range(400)]
    texts[242] = "caf\u00e9 number 242"  # é composed
    source, target = f"chroma://{tmp_path}/c?collection=old", f"faiss://{tmp_path}/new.faiss"
    fill(source, [f"doc-{i}" for i in range(300)], x[:300], texts[:300])
    shared = list(range(240, 300))  # the last 60 source texts, re-embedded into the target
    rows = list(range(300, 400)) + shared + [250]  # 250 stored twice
    docs = [texts[r] for r in rows]
    docs[100] = "  " + docs[100] + "\n"  # text 240 with other whitespace
    docs[101] = "sentence\n  number\t241"  # a chunker's line breaks
    docs[102] = unicodedata.normalize("NFD", docs[102])  # e + a combining accent
    docs[103] = docs[103].upper()  # another text: cased models embed case
    fill(target, list(range(len(rows))), y[rows], docs)
    found = shared_document_pairs(source, target, most=1000)
    assert docs[102] != texts[242] and found.shared == 59 and len(found.source) == 59
    got = {tuple(np.round(s, 5)): t for s, t in zip(found.source, found.target)}
    for i in set(shared) - {243}:  # each source vector beside its own text's target vector
        np.testing.assert_allclose(got[tuple(np.round(x[i] / np.linalg.norm(x[i]), 5))], y[i] / np.linalg.norm(y[i]),
                                   atol=1e-6)
    few = shared_document_pairs(source, target, most=20, seed=3)
    assert few.shared == 59 and len(few.source) == 20
    assert len({tuple(np.round(s, 5)) for s in few.source} - set(got)) == 0
    alone = f"faiss://{tmp_path}/other.faiss"
    fill(alone, list(range(100)), y[300:400], texts[300:400])
    assert len(shared_document_pairs(source, alone).source) == 0


def test_cli_fit_pairs_the_records_the_collections_share(tmp_path):
    """Two collections of models v2v-store cannot run, 250 texts in both: `v2v fit --method procrustes` fits on those
    pairs alone (no --pairs given) and says so; with --shared-documents 0 there are no pairs to fit on."""
    x, y = views(2000, seed=37)
    texts = [f"sentence number {i}" for i in range(2000)]
    source, target = f"faiss://{tmp_path}/old.faiss", f"chroma://{tmp_path}/c?collection=new"
    fill(source, list(range(800)), x[:800], texts[:800])
    rows = list(range(800, 1600)) + list(range(550, 800))
    fill(target, [f"n{r}" for r in rows], y[rows], [texts[r] for r in rows])
    run = lambda *a: subprocess.run([sys.executable, "-m", "v2v_store", "fit", "--source", source,  # noqa: E731
                                     "--target", target, "--source-name", "x", "--target-name", "y", "--method",
                                     "procrustes", *a], capture_output=True, text=True)
    fitted = run("--out", str(tmp_path / "tr"))
    assert fitted.returncode == 0, fitted.stderr
    assert "250 records both collections hold" in json.loads(fitted.stdout)["reason"]
    assert "250 true pairs" in json.loads(fitted.stdout)["reason"]
    tr = Translator.load(tmp_path / "tr")
    assert tr.info["shared_documents"] == 250
    held = paired_metrics(tr.translate(x[1600:], "x", "y"), y[1600:])  # texts in neither collection
    assert held.top1 > 0.9, held
    off = run("--out", str(tmp_path / "tr_off"), "--shared-documents", "0")
    assert off.returncode == 2 and "pairs" in off.stderr and not (tmp_path / "tr_off").exists(), off.stderr


def test_cli_fit_pairs_the_points_that_have_both_named_vectors(tmp_path):
    """Two named vectors of one Qdrant collection, the new one filled on 300 of 900 points (no texts stored): those
    points are pairs, so `v2v fit --method procrustes` needs nothing else."""
    from qdrant_client import QdrantClient, models

    x, y = views(2000, seed=41)
    client = QdrantClient(path=str(tmp_path / "q"))
    client.create_collection("docs", vectors_config={
        "x": models.VectorParams(size=x.shape[1], distance=models.Distance.COSINE),
        "y": models.VectorParams(size=y.shape[1], distance=models.Distance.COSINE)})
    client.upsert("docs", points=[models.PointStruct(
        id=i, vector={"x": x[i].tolist(), **({"y": y[i].tolist()} if i >= 600 else {})}) for i in range(900)])
    client.close()
    base = f"qdrant://{tmp_path}/q?collection=docs&vector="
    fitted = subprocess.run([sys.executable, "-m", "v2v_store", "fit", "--source", base + "x", "--target", base + "y",
                             "--source-name", "x", "--target-name", "y", "--method", "procrustes",
                             "--out", str(tmp_path / "tr")], capture_output=True, text=True)
    assert fitted.returncode == 0, fitted.stderr
    assert "300 true pairs" in json.loads(fitted.stdout)["reason"]
    held = paired_metrics(Translator.load(tmp_path / "tr").translate(x[1000:], "x", "y"), y[1000:])
    assert held.top1 > 0.9, held
    # filled in place, each point given a translation is marked so: fitted again, the collection has the same 300
    # true pairs (not 900) and 300 y vectors of y's model to sample (not 600 translations besides)
    filled = subprocess.run([sys.executable, "-m", "v2v_store", "migrate", "--translator", str(tmp_path / "tr"),
                             "--source", base + "x", "--dest", base + "y", "--on-exists", "fill",
                             "--state-dir", str(tmp_path / "st")], capture_output=True, text=True)
    assert filled.returncode == 0, filled.stderr
    with open_store(base + "y") as store:
        marks = {i: (m or {}).get("_v2v_translated") for b in store.iter_batches() for i, m in zip(b.ids, b.metadata)}
    digest = Translator.load(tmp_path / "tr").digest()[:16]
    assert marks == {i: {"y": {"from": "x", "translator": digest}} if i < 600 else None for i in range(900)}
    with open_store(base + "y") as store, open_store(base + "x") as source:
        assert (inspect_store(store).translations, inspect_store(source).translations) == (600, 0)
    refitted = subprocess.run([sys.executable, "-m", "v2v_store", "fit", "--source", base + "x", "--target", base + "y",
                               "--source-name", "x", "--target-name", "y", "--method", "procrustes",
                               "--out", str(tmp_path / "tr2")], capture_output=True, text=True)
    assert refitted.returncode == 0, refitted.stderr
    assert "300 true pairs" in json.loads(refitted.stdout)["reason"]
    assert len(sample_collection(base + "y").vectors) == 300


def count_passes(monkeypatch, *classes):
    """Count the full or partial reads (``iter_batches`` calls) of each store class; the reads themselves are real."""
    passes = {}
    for cls in classes:
        real = cls.iter_batches

        def counted(self, *a, _real=real, **kw):
            passes[self.uri] = passes.get(self.uri, 0) + 1
            return _real(self, *a, **kw)
        monkeypatch.setattr(cls, "iter_batches", counted)
    return passes


def test_fit_reads_each_collection_for_its_sample_and_the_shared_records_together(tmp_path, monkeypatch):
    """`v2v fit`'s reads: the smaller collection (FAISS, 300 records) is sampled and its texts' keys collected in one
    pass, the larger (Chroma, 400) sampled and its records of shared texts drawn in one, and one more pass over the
    smaller fetches those texts' vectors: three passes where sampling and pairing apart took five. The samples and
    the pairs are the ones the separate calls give."""
    x, y = views(700, seed=43)
    texts = [f"sentence number {i}" for i in range(700)]
    small, large = f"faiss://{tmp_path}/old.faiss", f"chroma://{tmp_path}/c?collection=new"
    fill(small, list(range(300)), x[:300], texts[:300])
    rows = list(range(300, 500)) + list(range(100, 300))  # 200 of the smaller's texts re-embedded into the larger
    fill(large, [f"n{r}" for r in rows], y[rows], [texts[r] for r in rows])
    passes = count_passes(monkeypatch, FaissStore, ChromaStore)
    for source, target in ((small, large), (large, small)):
        passes.clear()
        a, b, shared = sample_collections(source, target, max_vectors=250, seed=5, documents=20, shared=150)
        assert sorted(passes.values()) == [1, 2] and passes[small] == 2, passes
        assert shared.shared == 200 and len(shared.source) == 150
        apart = shared_document_pairs(source, target, most=150, seed=5)
        np.testing.assert_array_equal(shared.source, apart.source)
        np.testing.assert_array_equal(shared.target, apart.target)
        for got, uri, seed in ((a, source, 5), (b, target, 6)):
            alone = sample_collection(uri, max_vectors=250, seed=seed, documents=20)
            np.testing.assert_array_equal(got.vectors, alone.vectors)
            assert got.documents == alone.documents
    unit = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)  # noqa: E731
    src_rows = [int(np.argmax(unit(x[:300]) @ s)) for s in shared.target]  # (large, small): target is the FAISS one
    np.testing.assert_allclose(shared.source, unit(y[src_rows]), atol=1e-6)  # each pair embeds one text
    passes.clear()
    plain = f"faiss://{tmp_path}/plain.faiss"
    fill(plain, list(range(300)), x[:300], [None] * 300)  # no texts: nothing to pair, no extra pass
    *_, none = sample_collections(plain, large, max_vectors=250, shared=150)
    assert len(none.source) == 0 and passes == {plain: 1, large: 1}, passes


def test_shared_records_whose_vectors_disagree_are_left_out(tmp_path):
    """400 texts stored with both collections, 80 of them with a target vector left stale (another text's): `v2v fit`
    leaves those out one by one (says how many) and fits on the rest; when all of them disagree none is used."""
    from v2v_store.anchors import checked_shared_pairs

    x, y = views(3000, seed=47)
    texts = [f"sentence number {i}" for i in range(3000)]
    source, target = f"faiss://{tmp_path}/old.faiss", f"chroma://{tmp_path}/c?collection=new"
    fill(source, list(range(1200)), x[:1200], texts[:1200])
    shared = np.arange(800, 1200)
    stale = np.random.default_rng(0).choice(shared, 80, replace=False)
    vectors = y.copy()
    vectors[stale] = y[2000 + np.arange(80)]  # texts re-embedded elsewhere, vectors of other texts kept
    rows = list(range(1200, 2000)) + list(shared)
    fill(target, [f"n{r}" for r in rows], vectors[rows], [texts[r] for r in rows])
    fitted = subprocess.run([sys.executable, "-m", "v2v_store", "fit", "--source", source, "--target", target,
                             "--source-name", "x", "--target-name", "y", "--method", "procrustes",
                             "--document-check", "0", "--out", str(tmp_path / "tr")], capture_output=True, text=True)
    assert fitted.returncode == 0, fitted.stderr
    reason = json.loads(fitted.stdout)["reason"]
    used = Translator.load(tmp_path / "tr").info["shared_documents"]
    # the 320 true ones; of the stale ones, those that land near their text's partner by chance (8 of 80 here)
    assert 316 <= used <= 332 and f"{400 - used} left out" in reason, reason
    held = paired_metrics(Translator.load(tmp_path / "tr").translate(x[2100:], "x", "y"), y[2100:])
    assert held.top1 > 0.9, held
    permuted = (x[shared], y[np.random.default_rng(1).permutation(shared)])
    pairs, note = checked_shared_pairs(permuted)
    assert pairs is None and "unused" in note, note


def test_the_document_check_leaves_out_each_held_document_wherever_it_is_stored():
    """A held-out document's vectors leave the collections whole: the stored row itself, and the same text embedded
    again by the same model (float noise), which is there where both collections are named vectors of one Qdrant
    collection (the point's other vector) or store the same text. Before, only equal rows went, and the check met a
    second copy of each such partner among its candidates (measured: the target's documents 0.485 top-1 back, 0.939
    without it)."""
    from v2v_store.fit import _without

    rng = np.random.default_rng(43)
    stored = rng.normal(size=(500, 16)).astype(np.float32)
    held = stored[:20].copy()
    held[10:] += rng.normal(scale=1e-4, size=(10, 16)).astype(np.float32)  # re-embedded: the same text, float noise
    kept = _without(stored, held)
    assert len(kept) == 480 and (kept == stored[20:]).all()
    near = stored[20:21] + 0.05 * rng.normal(size=(1, 16)).astype(np.float32)  # a neighbour, not the same document
    assert len(_without(stored, near)) == 500 and len(_without(stored, held[:0])) == 500
