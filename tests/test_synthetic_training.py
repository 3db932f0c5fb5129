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
from v2v_store.synthetic import nonlinear_views

pytestmark = pytest.mark.slow
SIDE, HELD = 3000, 1000
# A shorter schedule than the default's 250 transport steps of 2,000 vectors per restart, so that CI stays quick
# (the default's own numbers are in benchmarks/): on these views it still reaches top-1 1.0 both ways, in ~40 s on
# the 2-core CPU against ~230 s with the default schedule (session 55).
QUICK = dict(restarts=2, wp_iters=60, wp_batch=1000, final_wp_iters=10, final_wp_batch=2000, final_extra_iters=0)


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
    tr, report = fit_translator(*train, ("x", "y"), method="align", align_overrides=QUICK)
    fwd, bwd = _both_ways(tr, held)
    assert fwd.top1 >= 0.9 and bwd.top1 >= 0.9, (fwd, bwd, report.reason)


def test_vec2vec_refinement_keeps_top1(views):
    """align+gan: the vec2vec network, warm-started at the linear map and trained adversarially, stays
    >= 0.9 top-1 on held-out points at *every* evaluation during training, not only in the model the
    label-free criterion keeps (which may be the warm start itself)."""
    train, held = views
    tr, report = fit_translator(*train, ("x", "y"), method="align+gan", preset="tiny", steps=300,
                                align_overrides=QUICK, progress=False, eval_pairs=held)
    assert tr.kind == "vec2vec"
    fwd, bwd = _both_ways(tr, held)
    assert fwd.top1 >= 0.9 and bwd.top1 >= 0.9, (fwd, bwd, report.details.get("best_step"))
    trained = [e for e in report.details["history"] if e["step"] > 0]
    assert trained, "no evaluation after any training step"
    for e in trained:
        assert min(m["top1"] for m in e["paired"].values()) >= 0.9, e
