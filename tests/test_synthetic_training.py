"""Unsupervised training on synthetic spaces with known ground truth (issue: top-1 >= 0.9 held out).

The shared latent is real: the benchmark kit's MiniLM embeddings of Wikipedia sentences (skipped
when the kit is absent). Two different nonlinear views of it (``tanh`` of random isometric maps into
384 and 512 dims, :func:`v2v_store.synthetic.nonlinear_views`) are the two 'models'. Training sees
disjoint halves (no pairs); the paired metrics are measured on 1,000 held-out sentences.
"""

from __future__ import annotations

import pytest

from conftest import kit_array
from v2v_store.fit import fit_translator
from v2v_store.metrics import paired_metrics
from v2v_store.synthetic import nonlinear_views, principal_components

pytestmark = pytest.mark.slow
SIDE, HELD = 3000, 1000


@pytest.fixture(scope="module")
def views():
    a, b = nonlinear_views(kit_array("wiki.minilm")[: 2 * SIDE + HELD])
    train = (a[:SIDE], b[SIDE:2 * SIDE])  # disjoint sentences: no pairs
    held = (a[2 * SIDE:], b[2 * SIDE:])
    return train, held


def _both_ways(tr, held):
    u, v = held
    return paired_metrics(tr.translate(u, "x", "y"), v), paired_metrics(tr.translate(v, "y", "x"), u)


def test_unsupervised_align_recovers_nonlinear_views(views):
    train, held = views
    tr, report = fit_translator(*train, ("x", "y"), method="align", align_overrides=dict(restarts=2))
    fwd, bwd = _both_ways(tr, held)
    assert fwd.top1 >= 0.9 and bwd.top1 >= 0.9, (fwd, bwd, report.reason)


def test_vec2vec_refinement_keeps_top1(views):
    """align+gan: the vec2vec network, warm-started at the linear map and trained adversarially,
    stays >= 0.9 top-1 on held-out points (model chosen by the label-free criterion)."""
    train, held = views
    tr, report = fit_translator(*train, ("x", "y"), method="align+gan", preset="tiny", steps=300,
                                align_overrides=dict(restarts=2), progress=False)
    assert tr.kind == "vec2vec"
    fwd, bwd = _both_ways(tr, held)
    assert fwd.top1 >= 0.9 and bwd.top1 >= 0.9, (fwd, bwd, report.details.get("best_step"))


def test_gan_from_scratch_learns_the_correspondence():
    """The GAN alone, no warm start (tiny preset: the released code's blocks and spectral-normalised
    discriminators), on nonlinear views (16 / 24 dims) of the top-8 principal components of kit
    sentences, 10,000 per side without pairs: it must find most of the correspondence. With the
    paper-text blocks this setting stayed at top-1 0.002 (benchmarks/probes/README.md)."""
    a, b = nonlinear_views(principal_components(kit_array("wiki.minilm")[:21000], 8), d1=16, d2=24)
    held = (a[20000:], b[20000:])
    tr, report = fit_translator(a[:10000], b[10000:20000], ("x", "y"), method="gan", preset="tiny", steps=10000,
                                progress=False)
    fwd, bwd = _both_ways(tr, held)
    assert fwd.top1 >= 0.4 and bwd.top1 >= 0.4 and fwd.mean_cos >= 0.8 and bwd.mean_cos >= 0.8, (fwd, bwd)
