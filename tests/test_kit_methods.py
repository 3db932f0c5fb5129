"""The alignment methods on a small slice of the shared benchmark kit (skipped when it is absent)."""

from __future__ import annotations

import pytest

from conftest import kit_array
from v2v_store.fit import fit_translator
from v2v_store.metrics import paired_metrics

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wiki():
    return kit_array("wiki.minilm"), kit_array("wiki.mpnet")


def test_few_shot_and_procrustes_on_real_pair(wiki):
    """500 true pairs + unpaired halves: few-shot alignment reaches the Procrustes level on held-out text."""
    x, y = wiki
    eval_x, eval_y = x[:2000], y[:2000]
    pairs = (x[8192:8692], y[8192:8692])
    base, _ = fit_translator(x[8692:14000], y[21997:27000], ("minilm", "mpnet"), method="procrustes", pairs=pairs)
    few, report = fit_translator(x[8692:14000], y[21997:27000], ("minilm", "mpnet"), pairs=pairs,
                                 align_overrides=dict(restarts=1, sample_size=1500, patience=5))
    m_base = paired_metrics(base.translate(eval_x), eval_y)
    m_few = paired_metrics(few.translate(eval_x), eval_y)
    assert m_base.top1 > 0.8, m_base
    assert m_few.top1 >= m_base.top1 - 0.02, (m_few, m_base)
    assert report.trusted


def test_identity_baseline_fails_across_models(wiki):
    """Sanity of the metric on real data: MiniLM vectors are not e5 vectors (identity top-1 near 0)."""
    x = wiki[0][:2000]
    e5 = kit_array("wiki.e5")[:2000]
    assert paired_metrics(x, e5).top1 < 0.05
