"""`v2v evaluate`: a saved translator measured on documents embedded by both models (real FAISS and Chroma stores;
the real-model paths, stored documents and --texts, are in test_models_cli.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from v2v_store import VectorBatch, open_store
from v2v_store.errors import V2VError
from v2v_store.evaluate import evaluate_translator, pairs_by_id
from v2v_store.metrics import overlap, top_k_others
from v2v_store.fit import fit_translator

D = 32


def run(*args):
    return subprocess.run([sys.executable, "-m", "v2v_store", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def spaces():
    """Two 'models' of one anisotropic latent (rotations of it), plus noise in the second: close but not equal."""
    rng = np.random.default_rng(5)
    spectrum = np.linspace(3.0, 0.2, D).astype(np.float32)
    qa, qb = (np.linalg.qr(rng.standard_normal((D, D)))[0].astype(np.float32) for _ in range(2))
    z = rng.standard_normal((1600, D)).astype(np.float32) * spectrum
    a = z @ qa
    b = (z + 0.3 * rng.standard_normal(z.shape).astype(np.float32)) @ qb
    return a, b


@pytest.fixture(scope="module")
def translator(spaces, tmp_path_factory):
    a, b = spaces
    tr, _ = fit_translator(a[:1000], b[:1000], ("a", "b"), method="procrustes", pairs=(a[:1000], b[:1000]))
    path = tmp_path_factory.mktemp("tr") / "tr"
    tr.save(path)
    return tr, path


def brute_top_k(queries, collection, k):
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    c = collection / np.linalg.norm(collection, axis=1, keepdims=True)
    sim = q @ c.T
    np.fill_diagonal(sim, -np.inf)
    return np.argsort(-sim, axis=1)[:, :k]


def test_overlaps_match_brute_force_and_separate_a_good_map_from_a_bad_one(spaces, translator):
    a, b = spaces
    tr, _ = translator
    u, v = a[1000:], b[1000:]  # 600 documents the map was not fitted on
    report = evaluate_translator(tr, u, v, "a", "b", k=5)
    assert (report.pairs, report.k) == (600, 5) and [d.ranked_among for d in report.directions] == [600, 600]
    (ab, ba) = report.directions
    assert (ab.source, ab.target, ba.source, ba.target) == ("a", "b", "b", "a")
    migrated = tr.translate(u, "a", "b")
    expected = np.mean([len(set(x) & set(y)) / 5 for x, y in zip(brute_top_k(v, migrated, 5), brute_top_k(v, v, 5))])
    assert ab.migrated_overlap == pytest.approx(expected, abs=1e-4)
    own = np.mean([len(set(x) & set(y)) / 5 for x, y in zip(brute_top_k(u, u, 5), brute_top_k(v, v, 5))])
    assert report.models_overlap == pytest.approx(own, abs=1e-4)
    assert 0.5 < ab.top1 <= 1 and 0.5 < ba.top1 <= 1 and 0.3 < ab.migrated_overlap < 1
    # the same translator with the documents' order scrambled on one side: its pairs are wrong, everything collapses
    wrong = evaluate_translator(tr, u, v[np.random.default_rng(0).permutation(600)], "a", "b", k=5)
    assert all(d.top1 < 0.05 and d.mean_rank > 100 for d in wrong.directions)
    with pytest.raises(V2VError, match="at least 50"):
        evaluate_translator(tr, u[:20], v[:20], "a", "b")


def test_partners_are_ranked_among_other_documents_too(spaces, translator, caplog):
    """Few pairs flatter top-1; other documents of the partner's space join the candidates (none twice, none a
    partner again), as many as make 8,192 in all."""
    from v2v_store.translator import QUERIES

    a, b = spaces
    tr, _ = translator
    noisy = b + 1.5 * np.random.default_rng(2).standard_normal(b.shape).astype(np.float32)  # a harder target model
    u, v = a[1000:1300], noisy[1000:1300]
    alone = evaluate_translator(tr, u, v, "a", "b")
    others = np.concatenate([noisy[:1000], v[:50]])  # 50 of them are the partners themselves: left out
    crowded = evaluate_translator(tr, u, v, "a", "b", candidates={"b": others})
    ab, ba = crowded.directions
    assert (ab.ranked_among, ba.ranked_among) == (1300, 300)  # no candidates of space a given
    queries = tr.translate(u, "a", "b", role=QUERIES)
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    scores = unit(queries) @ unit(np.concatenate([v, noisy[:1000]])).T
    assert ab.top1 == pytest.approx(np.mean(scores.argmax(1) == np.arange(300)), abs=1e-4)
    assert ab.top1 < alone.directions[0].top1 and ab.mean_rank > alone.directions[0].mean_rank
    assert ba == alone.directions[1]
    capped = evaluate_translator(tr, u, v, "a", "b", candidates={"b": others}, among=500)
    assert capped.directions[0].ranked_among == 500
    # fewer candidates than asked are warned about, unless nearly as many (300 of 320: 94%)
    with caplog.at_level("INFO", logger="v2v_store.evaluate"):
        caplog.clear()
        evaluate_translator(tr, u, v, "a", "b", candidates={"b": others}, among=500)
        assert [r.getMessage()[:16] for r in caplog.records if r.levelname == "WARNING"] == ["b -> a: each par"]
        caplog.clear()
        evaluate_translator(tr, u, v, "a", "b", candidates={"b": others}, among=320)
        assert not [r for r in caplog.records if r.levelname == "WARNING"]
        assert any("ranked among 300 candidates, nearly the 320 asked" in r.getMessage() for r in caplog.records)


def test_overlaps_with_real_queries(spaces, translator):
    """Given queries (the same ones embedded in both spaces), the overlaps use them, with no document left out."""
    a, b = spaces
    tr, _ = translator
    u, v = a[1000:1400], b[1000:1400]
    qa, qb = a[1400:1460], b[1400:1460]  # 60 texts that are no document of the pairs
    report = evaluate_translator(tr, u, v, "a", "b", k=5, queries={"a": qa, "b": qb})
    assert report.overlap_queries == 60
    q = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731
    top = lambda queries, docs: np.argsort(-(q(queries) @ q(docs).T), axis=1)[:, :5]  # noqa: E731
    share = lambda x, y: np.mean([len(set(i) & set(j)) / 5 for i, j in zip(x, y)])  # noqa: E731
    assert report.directions[0].migrated_overlap == pytest.approx(share(top(qb, tr.translate(u, "a", "b")), top(qb, v)), abs=1e-4)
    assert report.models_overlap == pytest.approx(share(top(qa, u), top(qb, v)), abs=1e-4)
    assert report.directions[0].top1 == evaluate_translator(tr, u, v, "a", "b", k=5).directions[0].top1
    with pytest.raises(V2VError, match="same queries"):
        evaluate_translator(tr, u, v, "a", "b", queries={"a": qa, "b": qb[:10]})


def test_top_k_others_leaves_each_document_itself_out():
    x = np.eye(4, dtype=np.float32) + 0.1
    idx = top_k_others(x, x, 3, chunk=3)  # chunks of 3 rows: the offset of the second chunk counts
    assert all(i not in row for i, row in enumerate(idx.tolist()))
    assert overlap(idx, idx) == 1.0


def fill(uri, ids, vectors):
    with open_store(uri, dim=vectors.shape[1], metric="cosine") as s:
        for st in range(0, len(ids), 250):
            s.upsert(VectorBatch(ids[st:st + 250], vectors[st:st + 250], [{"i": str(i)} for i in ids[st:st + 250]],
                                 [None] * len(ids[st:st + 250])))


def test_pairs_by_id_across_stores_and_the_cli(spaces, translator, tmp_path):
    """A FAISS collection (integer ids) and a scratch Chroma collection holding 300 of its documents re-encoded (string
    ids, another order, plus records of its own): the records pair by id, whichever side is larger."""
    a, b = spaces
    tr, path = translator
    src, trg = f"faiss://{tmp_path}/src.faiss", f"chroma://{tmp_path}/chroma?collection=sample"
    fill(src, list(range(1000, 1600)), a[1000:])
    sample = np.random.default_rng(1).permutation(np.arange(1000, 1600))[:300]
    extra = [f"new-{i}" for i in range(40)]
    fill(trg, [str(i) for i in sample] + extra, np.concatenate([b[sample], b[:40]]))
    u, v = pairs_by_id(src, trg)
    assert len(u) == 300
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)  # noqa: E731  (cosine stores keep unit vectors)
    document = lambda vectors: np.argmax(unit(vectors) @ unit(a).T, axis=1)  # noqa: E731  (which row of a)
    np.testing.assert_allclose(v, unit(b[document(u)]), atol=1e-5)  # each pair is one document's two vectors
    v2, u2 = pairs_by_id(trg, src, max_pairs=120)  # the other way round, and capped
    assert len(u2) == 120
    np.testing.assert_allclose(v2, unit(b[document(u2)]), atol=1e-5)

    ok = run("evaluate", "--translator", str(path), "--source", src, "--target", trg)
    assert ok.returncode == 0, ok.stderr[-2000:]
    report = json.loads(ok.stdout)
    assert report["paired_by"] == "id" and report["pairs"] == 300
    # the candidates: the 300 pairs and each collection's other records (40 in the sample, 300 in the source)
    assert [d["ranked_among"] for d in report["directions"]] == [340, 600]
    expected = evaluate_translator(tr, u, v, "a", "b", candidates={"b": b[:40], "a": a[1000:]})
    assert report["directions"][0]["top1"] == pytest.approx(expected.directions[0].top1, abs=1e-4)
    assert report["directions"][1]["mean_rank"] == pytest.approx(expected.directions[1].mean_rank, abs=1e-3)
    gate = run("evaluate", "--translator", str(path), "--source", src, "--target", trg, "--min-top1", "1.01")
    assert gate.returncode == 3 and "below --min-top1 1.01" in gate.stderr and gate.stdout, gate.stderr[-2000:]
    # given the other way round, with the source's space named wrongly: refused, nothing measured
    swapped = run("evaluate", "--translator", str(path), "--source", trg, "--target", src, "--source-space", "a")
    assert swapped.returncode == 2 and "looks like 'b'" in swapped.stderr and not swapped.stdout, swapped.stderr
    # unnamed, the covariance says which side is which
    inferred = run("evaluate", "--translator", str(path), "--source", trg, "--target", src)
    assert inferred.returncode == 0 and json.loads(inferred.stdout)["directions"][0]["source"] == "b"


def test_pairs_that_hold_the_translators_own_translations_are_left_out(spaces, translator, tmp_path):
    """A collection migrated with this translator (or a named vector filled in place) holds its translations under the
    source's ids: paired by id, those pairs would measure the translator against itself. They are left out (and the
    collections as candidates, translations among them); where every pair is one, evaluating is refused."""
    a, b = spaces
    tr, path = translator
    src, trg, mig = (f"faiss://{tmp_path}/{name}.faiss" for name in ("src", "trg", "mig"))
    fill(src, list(range(1000, 1600)), a[1000:])
    made = tr.translate(a[1000:1400], "a", "b")  # what a migration wrote for 400 of them; the other 200: b's own
    fill(trg, list(range(1000, 1600)), np.concatenate([made, b[1400:]]))
    fill(mig, list(range(1000, 1400)), made)
    ok = run("evaluate", "--translator", str(path), "--source", src, "--target", trg)
    assert ok.returncode == 0, ok.stderr[-2000:]
    report = json.loads(ok.stdout)
    assert report["pairs"] == 200 and "400 of the 600 pairs hold this translator's own translation" in ok.stderr
    assert [d["ranked_among"] for d in report["directions"]] == [200, 200]
    expected = evaluate_translator(tr, a[1400:], b[1400:], "a", "b")
    assert report["directions"][0]["top1"] == pytest.approx(expected.directions[0].top1, abs=1e-4)
    only = run("evaluate", "--translator", str(path), "--source", src, "--target", mig)
    assert only.returncode == 2 and "every one of the 400 pairs holds this translator's own translation" in \
        only.stderr and not only.stdout, only.stderr[-2000:]


def test_collections_of_other_ids_pair_by_the_text_they_both_store(spaces, translator, tmp_path):
    """No id in common (a re-embedded copy under new ids), but the same texts stored with both: evaluate pairs the
    records by text; with neither ids nor texts in common it says so."""
    a, b = spaces
    _, path = translator
    src, trg = f"faiss://{tmp_path}/src.faiss", f"chroma://{tmp_path}/chroma?collection=copy"
    with open_store(src, dim=a.shape[1]) as s:
        s.upsert(VectorBatch(list(range(1000, 1400)), a[1000:1400], None, [f"text {i}" for i in range(1000, 1400)]))
    rows = list(range(1200, 1400))
    with open_store(trg, dim=b.shape[1]) as s:
        s.upsert(VectorBatch([f"copy-{i}" for i in rows], b[rows], None, [f"text {i}" for i in rows]))
    ok = run("evaluate", "--translator", str(path), "--source", src, "--target", trg)
    assert ok.returncode == 0, ok.stderr[-2000:]
    report = json.loads(ok.stdout)
    assert report["paired_by"] == "text" and report["pairs"] == 200
    assert report["directions"][0]["top1"] > 0.9, report["directions"]
    fill(f"faiss://{tmp_path}/bare.faiss", list(range(5000, 5200)), b[1200:1400])
    none = run("evaluate", "--translator", str(path), "--source", src, "--target", f"faiss://{tmp_path}/bare.faiss")
    assert none.returncode == 2 and "share no record id" in none.stderr
    assert "nor do they store any text in common" in none.stderr, none.stderr


def test_a_filter_evaluates_the_part_of_the_source_it_keeps(spaces, translator, tmp_path):
    """--where keeps the source's records whose metadata meets it (a tenant's): pairs by id and by stored text are
    theirs alone, and so are the source side's candidates (the target's are all its records); a filter keeping no pair
    says so; one on .npy is refused."""
    a, b = spaces
    tr, path = translator
    src, trg = f"faiss://{tmp_path}/src.faiss", f"chroma://{tmp_path}/chroma?collection=sample"
    ids = list(range(1000, 1600))
    with open_store(src, dim=D) as s:  # tenant "x": every third record; the target holds no metadata to filter by
        s.upsert(VectorBatch(ids, a[1000:], [{"tenant": "x" if i % 3 == 0 else "y", "n": i} for i in ids],
                             [f"text {i}" for i in ids]))
    fill(trg, [str(i) for i in ids[:450]], b[1000:1450])
    ok = run("evaluate", "--translator", str(path), "--source", src, "--target", trg, "--where", "tenant=x")
    assert ok.returncode == 0, ok.stderr[-2000:]
    report = json.loads(ok.stdout)
    rows = [r for r, i in enumerate(ids[:450]) if i % 3 == 0]  # the pairs the filter keeps: 150
    kept = [r for r, i in enumerate(ids) if i % 3 == 0]  # the source's candidates: 200
    assert report["paired_by"] == "id" and report["pairs"] == len(rows) == 150
    # candidates: the target's records (all 450: --where is the source's) and the source's that meet it (200)
    assert [d["ranked_among"] for d in report["directions"]] == [450, 200]
    expected = evaluate_translator(tr, a[1000:][rows], b[1000:][rows], "a", "b",
                                   candidates={"b": b[1000:1450], "a": a[1000:][kept]})
    assert report["directions"][0]["top1"] == pytest.approx(expected.directions[0].top1, abs=1e-4)
    assert report["directions"][1]["mean_rank"] == pytest.approx(expected.directions[1].mean_rank, abs=1e-3)
    big = f"chroma://{tmp_path}/chroma?collection=big"  # larger than the source: the filter applies in the other pass
    fill(big, [str(i) for i in ids] + [f"e{i}" for i in range(100)], np.concatenate([b[1000:], b[:100]]))
    larger = run("evaluate", "--translator", str(path), "--source", src, "--target", big, "--where", "tenant=x")
    assert larger.returncode == 0 and json.loads(larger.stdout)["pairs"] == len(kept), larger.stderr[-2000:]
    # the same texts under other ids: pairs by text, of the kept records only
    copy = f"chroma://{tmp_path}/chroma?collection=copy"
    with open_store(copy, dim=D) as s:
        s.upsert(VectorBatch([f"c{i}" for i in ids[:300]], b[1000:1300], None, [f"text {i}" for i in ids[:300]]))
    by_text = run("evaluate", "--translator", str(path), "--source", src, "--target", copy, "--where", "n>=1150",
                  "--where", "tenant=y")
    assert by_text.returncode == 0, by_text.stderr[-2000:]
    assert json.loads(by_text.stdout)["pairs"] == sum(1 for i in ids[150:300] if i % 3), by_text.stdout
    none = run("evaluate", "--translator", str(path), "--source", src, "--target", trg, "--where", "n>=1450")
    assert none.returncode == 2 and "of the source's records that meet n>=1450" in none.stderr, none.stderr[-2000:]
    np.save(tmp_path / "a.npy", a[1000:1200])
    for args, says in ((("--source", str(tmp_path / "a.npy"), "--target", str(tmp_path / "a.npy")), ".npy files carry none"),
                       (("--source", src, "--where", "tenant"), "is not FIELD=VALUE")):
        out = run("evaluate", "--translator", str(path), *args, "--where", "tenant=x")
        assert out.returncode == 2 and says in out.stderr and not out.stdout, out.stderr[-2000:]


def test_bad_input_is_refused_with_the_fix(spaces, translator, tmp_path):
    a, b = spaces
    _, path = translator
    np.save(tmp_path / "a.npy", a[1000:1200])
    np.save(tmp_path / "b.npy", b[1000:1200])
    np.save(tmp_path / "short.npy", b[1000:1100])
    cases = [
        ((), "give --source"),
        (("--source", str(tmp_path / "a.npy")), "keeps no documents; give --target"),
        (("--source", str(tmp_path / "a.npy"), "--target", str(tmp_path / "short.npy")), "row i must be the same"),
        (("--source", str(tmp_path / "a.npy"), "--texts", str(tmp_path / "t.txt")), "one of the two"),
        (("--texts", str(tmp_path / "missing.txt")), "--texts .*missing.txt: no such file"),
        (("--source", str(tmp_path / "a.npy"), "--target", f"faiss://{tmp_path}/x.faiss"), "not one of each"),
        (("--source", f"faiss://{tmp_path}/none.faiss", "--target", f"faiss://{tmp_path}/none2.faiss"),
         "does not exist"),
    ]
    for args, message in cases:
        out = run("evaluate", "--translator", str(path), *args)
        assert out.returncode == 2 and "Traceback" not in out.stderr, (args, out.stderr[-2000:])
        assert __import__("re").search(message, out.stderr), (args, out.stderr[-2000:])
    ok = run("evaluate", "--translator", str(path), "--source", str(tmp_path / "a.npy"), "--target",
             str(tmp_path / "b.npy"), "--k", "5")
    assert ok.returncode == 0 and json.loads(ok.stdout)["paired_by"] == "row", ok.stderr[-2000:]
