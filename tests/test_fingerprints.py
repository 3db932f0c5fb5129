"""Model fingerprints: which known model's vectors a collection looks like (v2v_store/fingerprints.py)."""

from __future__ import annotations

import numpy as np
import pytest

from v2v_store import fingerprints
from v2v_store.errors import SpaceMismatchError


@pytest.fixture()
def two_models(tmp_path, rng, monkeypatch):
    """Two synthetic 'models' of one dimension (anisotropic, each with its own principal directions), their
    fingerprints saved, loaded back and installed as the known ones; returns a sampler of each model's vectors."""
    d = 96
    spectrum = np.linspace(3.0, 0.2, d).astype(np.float32)
    bases = {name: np.linalg.qr(rng.standard_normal((d, d)))[0].astype(np.float32) for name in ("alpha", "beta")}

    def sample(name, n):
        return (rng.standard_normal((n, d)).astype(np.float32) * spectrum) @ bases[name]

    path = tmp_path / "prints.safetensors"
    fingerprints.save_fingerprints({name: fingerprints.fingerprint(sample(name, 4000), rank=8) for name in bases},
                                   path, "test")
    known = fingerprints.known_fingerprints.__wrapped__(path)  # uncached: rank 8 of 96, the tail flattened
    assert set(known) == {"alpha", "beta"} and known["alpha"].shape == (d, d)
    monkeypatch.setattr(fingerprints, "known_fingerprints", lambda: known)
    return sample


def test_identify_names_the_model_whatever_the_sample(two_models):
    for name in ("alpha", "beta"):
        sims = fingerprints.identify(two_models(name, 600))
        assert fingerprints.looks_like(sims) == name, sims
        assert sims[name] > 0.3 and max(v for m, v in sims.items() if m != name) < 0.05
    other_dim = np.random.default_rng(1).standard_normal((600, 16)) * np.linspace(3.0, 0.2, 16)
    assert fingerprints.identify(other_dim) == {}  # no known model of that dimension
    isotropic = np.random.default_rng(2).standard_normal((600, 96))
    assert fingerprints.identify(isotropic) is None  # no preferred directions: cannot be judged
    assert fingerprints.identify(two_models("alpha", 60)) is None  # too few rows


def test_swapped_names_are_refused_and_unknown_models_pass(two_models, caplog):
    a, b = two_models("alpha", 800), two_models("beta", 800)
    judged = fingerprints.check_model_names((a, b), ("alpha", "beta"))
    assert judged["alpha"]["alpha"] > 0.3 and judged["beta"]["beta"] > 0.3
    with pytest.raises(SpaceMismatchError, match="look swapped.*--no-space-check"):
        fingerprints.check_model_names((a, b), ("beta", "alpha"))
    with pytest.raises(SpaceMismatchError, match="--target-name alpha"):  # one wrong name, the other unknown
        fingerprints.check_model_names((b, a), ("mine", "beta"))
    # a model no fingerprint knows (alpha under another rotation) may carry a known name: a warning, not a refusal
    rot = np.linalg.qr(np.random.default_rng(3).standard_normal((96, 96)))[0].astype(np.float32)
    assert fingerprints.check_model_names((a @ rot, b), ("alpha", "beta"))["alpha"]["alpha"] < 0.05
    assert "does not look like alpha" in caplog.text
    assert fingerprints.check_model_names((a, b), ("x", "y")) == {}  # names of no known model are not checked


def test_fit_checks_names_before_fitting(two_models):
    from v2v_store.fit import fit_translator

    a, b = two_models("alpha", 800), two_models("beta", 800)
    with pytest.raises(SpaceMismatchError, match="look swapped"):
        fit_translator(a, b, ("beta", "alpha"), method="procrustes", pairs=(a[:100], b[:100]))
    tr, _ = fit_translator(a, b, ("beta", "alpha"), method="procrustes", pairs=(a[:100], b[:100]), check_spaces=False)
    assert "model_similarity" not in tr.info
    tr, _ = fit_translator(a, b, ("alpha", "beta"), method="align", align_overrides={"restarts": 1})
    assert tr.info["model_similarity"]["alpha"]["alpha"] > 0.3
