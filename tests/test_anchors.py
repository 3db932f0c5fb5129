"""Anchor pairs when a model cannot be loaded: the vectors shipped with the package (fast, no model is run)."""

from __future__ import annotations

import numpy as np
import pytest

from v2v_store import anchors
from v2v_store.errors import MissingDependencyError


@pytest.fixture
def no_models(monkeypatch):
    """Every model is missing: embedding raises as load_encoder does for a model whose package is not installed."""
    def missing(model, texts):
        raise MissingDependencyError(f"model {model!r} needs its package")

    monkeypatch.setattr(anchors, "embed_cached", missing)


def test_anchor_pairs_fall_back_to_the_shipped_vectors(no_models, caplog):
    u, v = anchors.anchor_pairs("minilm", "mpnet", 500)
    assert u.shape == (500, 384) and v.shape == (500, 768) and u.dtype == v.dtype == np.float32
    assert np.allclose(np.linalg.norm(u, axis=1), 1, atol=2e-3) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=2e-3)
    assert "using the 500 anchor vectors shipped" in caplog.text
    # the rows are the last `count` of the shipped ones, whatever the pair (the same texts in every model)
    e5, minilm = anchors.anchor_pairs("e5", "minilm", 5000)
    assert len(e5) == len(minilm) == 1000 and np.array_equal(minilm[-500:], u)
    assert "5000 were asked for" in caplog.text
    # MiniLM and e5 are different models of one dimension: the shipped vectors differ (not one model's twice)
    assert np.abs((minilm * e5).sum(1)).mean() < 0.5


def test_without_shipped_vectors_the_missing_model_is_the_error(no_models, monkeypatch):
    monkeypatch.setattr(anchors, "shipped_anchor_vectors", lambda: {})
    with pytest.raises(MissingDependencyError, match="needs its package"):
        anchors.anchor_pairs("minilm", "e5", 100)
