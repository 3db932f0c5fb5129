"""Anchor pairs when a model cannot be loaded: the vectors shipped with the package (fast, no model is run)."""

from __future__ import annotations

import numpy as np
import pytest

from v2v_store import anchors
from v2v_store.errors import MissingDependencyError


def without_models(monkeypatch) -> None:
    """Every model is missing: embedding raises as load_encoder does for a model whose package is not installed."""
    def missing(model, texts):
        raise MissingDependencyError(f"model {model!r} needs its package")

    monkeypatch.setattr(anchors, "embed_cached", missing)


@pytest.fixture
def no_models(monkeypatch):
    without_models(monkeypatch)


def test_anchor_pairs_fall_back_to_the_shipped_vectors(no_models, caplog):
    u, v = anchors.anchor_pairs("minilm", "mpnet", 500)
    assert u.shape == (500, 384) and v.shape == (500, 768) and u.dtype == v.dtype == np.float32
    assert np.allclose(np.linalg.norm(u, axis=1), 1, atol=2e-3) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=2e-3)
    assert "using 500 of the anchor vectors shipped" in caplog.text
    # the rows are those of the texts of 500 anchors, whatever the pair (the same texts in every model)
    e5, minilm = anchors.anchor_pairs("e5", "minilm", 5000)
    assert len(e5) == len(minilm) == 1000 and np.array_equal(minilm[anchors.shipped_rows(500, 1000)], u)
    assert "5000 were asked for" in caplog.text
    # MiniLM and e5 are different models of one dimension: the shipped vectors differ (not one model's twice)
    assert np.abs((minilm * e5).sum(1)).mean() < 0.5


def test_anchor_texts_take_each_language_of_the_bundled_corpus():
    """--anchor-languages en,fr: the English anchors unchanged (their cached embeddings stay valid; a quarter of them
    documentation sentences), then as many of the bundled corpus's last French sentences; an unknown language is
    refused with the choices named."""
    from v2v_store.errors import V2VError
    from v2v_store.texts import bundled_sentences, doc_sentences

    assert anchors.anchor_languages(" fr, EN,fr ") == ("en", "fr")
    english = anchors.anchor_texts(300)
    wiki = [s["text"] for s in bundled_sentences("en")]
    assert english == wiki[-225:] + list(doc_sentences()[:75])  # a quarter of the English ones documentation sentences
    assert anchors.anchor_texts(300, docs=False) == wiki[-300:]
    both = anchors.anchor_texts(300, ("en", "fr"))
    french = [s["text"] for s in bundled_sentences("fr")[-300:]]
    assert both == english + french and not set(english) & set(french)
    assert any(" le " in t or " la " in t for t in french) and len(set(french)) == 300
    assert anchors.anchor_texts(300, ("es",))[0] == bundled_sentences("es")[-300]["text"]
    for bad in ("de", "", "en,xx"):
        with pytest.raises(V2VError, match="choose among en, fr, es"):
            anchors.anchor_languages(bad)
    with pytest.raises(V2VError, match="--anchors 99999: choose between 2 and"):
        anchors.anchor_texts(99999, ("en", "es"))


def test_shipped_documentation_sentences_are_distinct_sentences_of_docstrings():
    """The documentation anchors ship with the package: 5,000 distinct sentences of 30-300 characters, no line breaks,
    no doctest examples, under a header naming their source and licence."""
    from v2v_store.texts import DOC_SENTENCES, doc_sentences

    header = DOC_SENTENCES.read_text(encoding="utf-8").split("\n")[0]
    assert header.startswith("# Sentences of the docstrings of the Python") and "PSF License" in header
    texts = doc_sentences()
    assert len(texts) == len(set(texts)) == 5000
    assert all(30 <= len(t) <= 300 and ">>>" not in t and t == " ".join(t.split()) for t in texts)
    assert sum("Return" in t for t in texts) > 400  # docstrings, not prose


def test_shipped_vectors_stand_in_for_each_bundled_language(no_models, caplog, monkeypatch):
    """Since session 82 the shipped vectors hold 1,000 anchors in each bundled language: French anchors follow the
    English ones, the rows of their own texts; a language not shipped is left out and named."""
    u, v = anchors.anchor_pairs("minilm", "mpnet", 500, ("en", "fr"))
    assert u.shape == (1000, 384) and v.shape == (1000, 768) and "using 500 + 500 of the anchor vectors" in caplog.text
    english, french = anchors.shipped_anchor_vectors("en"), anchors.shipped_anchor_vectors("fr")
    assert np.array_equal(u[:500], english["minilm"][anchors.shipped_rows(500, 1000)])
    assert np.array_equal(v[500:], french["mpnet"][500:])  # the last 500 of the 1,000 French ones, as anchor_texts
    assert set(french) == set(anchors.shipped_anchor_vectors("es")) == set(english) == {"minilm", "e5", "mpnet"}
    # the language check's sentences: English ones without the documentation sentences
    assert np.array_equal(anchors.shipped_vectors("e5", "en", 300, docs=False), english["e5"][450:750])
    assert anchors.shipped_vectors("e5", "en", 800, docs=False) is None and anchors.shipped_vectors("x", "fr", 9) is None
    caplog.clear()
    monkeypatch.setattr(anchors, "shipped_anchor_vectors", lambda language="en": english if language == "en" else {})
    u, _ = anchors.anchor_pairs("minilm", "e5", 500, ("en", "fr"))
    assert len(u) == 500 and "none in fr: not shipped for both models" in caplog.text


def test_the_collections_language_is_checked_on_the_shipped_vectors_where_no_model_runs(monkeypatch):
    """French collections of models that cannot be loaded (mpnet without its packages, session 82: they had gone
    unchecked and got English anchors alone, 0.606 / 0.588 against 0.802 / 0.797 with French ones): the check scores
    them on the shipped vectors as on the models' own, the fit adds French anchors, warns of a far worse map (MiniLM
    and e5 relate French anchors loosely) and measures the models' relatedness on the English anchors alone."""
    from v2v_store.fit import RELATED_BELOW, fit_collections
    from v2v_store.metrics import pairs_relatedness
    from v2v_store.texts import bundled_sentences, embed_cached

    texts = [s["text"] for s in bundled_sentences("fr")[:1000]]  # the shipped ones are the last 1,000
    a, b = embed_cached("minilm", texts[:500]), embed_cached("e5", texts[500:])
    found, scores = anchors.collections_language((a, b), ("minilm", "e5"))
    without_models(monkeypatch)
    shipped_found, shipped_scores = anchors.collections_language((a, b), ("minilm", "e5"))
    assert found == shipped_found == "fr"
    assert all(abs(x - y) < 1e-3 for lang in scores for x, y in zip(scores[lang], shipped_scores[lang])), (
        scores, shipped_scores)
    translator, report = fit_collections(a, b, ("minilm", "e5"), method="anchors", anchors=2000)
    assert translator.info["anchor_languages"] == ["en", "fr"] and "in en and fr (1000 of each;" in report.reason
    assert translator.info["added_language_relatedness"] < RELATED_BELOW
    assert any("has none of their own texts" in w for w in report.accuracy_warnings), report.accuracy_warnings
    english = tuple(anchors.shipped_vectors(m, "en", 1000) for m in ("minilm", "e5"))
    assert translator.info["pairs_relatedness"] == round(pairs_relatedness(english), 4)


def test_without_shipped_vectors_the_missing_model_is_the_error(no_models, monkeypatch):
    monkeypatch.setattr(anchors, "shipped_anchor_vectors", lambda language="en": {})
    with pytest.raises(MissingDependencyError, match="needs its package"):
        anchors.anchor_pairs("minilm", "e5", 100)


def test_document_pairs_keep_each_side_and_say_why_documents_are_left_out(monkeypatch, rng):
    """Stored documents pair the collection's stored vectors with the other model's embeddings (here a stand-in model:
    a fixed rotation of each text's true vector, so real pairs are exact); too few documents, a model that cannot
    run, and a model of the wrong dimension are each named, and a collection's documents that do not match its
    vectors are measured and left out while the other collection's are used."""
    from v2v_store.errors import DimensionMismatchError

    n, d = 400, 32
    truth = rng.standard_normal((n, d)).astype(np.float32)
    texts = [f"text {i}" for i in range(n)]
    rot = np.linalg.qr(rng.standard_normal((d, d)))[0].astype(np.float32)

    def embed(model, given):
        rows = [int(t.split()[1]) for t in given]
        return truth[rows] @ rot if model == "new" else truth[rows]

    monkeypatch.setattr(anchors, "embed_cached", embed)
    monkeypatch.setattr(anchors, "can_embed", lambda model: model in ("old", "new"))
    source = (truth[:300], texts[:300])  # the old collection's stored vectors and their own texts
    target = (truth[100:400] @ rot, texts[:300])  # stored new-model vectors beside the wrong texts
    made = anchors.document_pairs((source, target), ("old", "new"), (d, d))
    assert made.counts == {"source": 300} and made.relatedness["source"] > 0.99
    assert made.relatedness["target"] < 0.05 and "not the texts their vectors embed" in made.left_out[0]
    assert np.array_equal(made.pairs[0], truth[:300]) and np.allclose(made.pairs[1], truth[:300] @ rot)
    few = anchors.document_pairs(((truth[:150], texts[:150]), None), ("old", "new"), (d, d))
    assert few.pairs is None and "fewer than 200" in few.left_out[0] and not few.notes
    retired = anchors.document_pairs((None, (truth[:300] @ rot, texts[:300])), ("gone", "new"), (d, d))
    assert retired.pairs is None and "'gone' is not one v2v-store can run" in retired.left_out[0]
    with pytest.raises(DimensionMismatchError, match="the target collection's are 64-d"):
        anchors.document_pairs((source, None), ("old", "new"), (d, 64))


def test_document_pairs_leave_out_each_document_whose_vector_does_not_find_it(monkeypatch, rng):
    """Stale vectors: 30% of a collection's documents were swapped among its records. Each document is checked
    against its own vector under maps fitted on the others, so the swapped ones are left out one by one (counted in
    the note) and every true pair stays; the kept pairs' relatedness is measured afresh."""
    n, d = 600, 32
    truth = rng.standard_normal((n, d)).astype(np.float32)
    texts = [f"text {i}" for i in range(n)]
    rot = np.linalg.qr(rng.standard_normal((d, d)))[0].astype(np.float32)
    monkeypatch.setattr(anchors, "embed_cached", lambda model, given: truth[[int(t.split()[1]) for t in given]] @ rot)
    monkeypatch.setattr(anchors, "can_embed", lambda model: True)
    stored_texts = list(texts)
    swapped = rng.choice(n, 180, replace=False)
    for i, j in zip(swapped, np.roll(swapped, 1)):  # each swapped record holds another swapped record's text
        stored_texts[i] = texts[j]
    made = anchors.document_pairs(((truth, stored_texts), None), ("old", "new"), (d, d))
    kept = made.counts["source"]
    true_kept = np.isclose(made.pairs[0] @ rot, made.pairs[1], atol=1e-4).all(1)
    assert true_kept.sum() == n - 180  # every true pair stays
    assert kept - true_kept.sum() <= 18  # at most 10% of the swapped ones survive (chance: ~2-4%)
    assert made.unmatched == {"source": n - kept} and f"{n - kept} left out" in made.notes[0]
    assert made.relatedness["source"] > 0.9  # afresh on the kept pairs; 0.7 on all of them
    clean = anchors.document_pairs(((truth, texts), None), ("old", "new"), (d, d))
    assert clean.counts == {"source": n} and clean.unmatched == {"source": 0} and "left out" not in clean.notes[0]
