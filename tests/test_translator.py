"""Translator artefacts, metrics and the fit methods on synthetic data with known ground truth."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from conftest import small_disk

from v2v_store.errors import (DestinationExistsError, DimensionMismatchError, StoreNotFoundError, V2VError,
                              disk_full)
from v2v_store.fit import fit_translator
from v2v_store.metrics import paired_metrics, retrieval_among
from v2v_store.synthetic import views
from v2v_store.train.linear import fit_procrustes
from v2v_store.translator import Space, Translator


@pytest.fixture(scope="module")
def paired():
    return views(1500, seed=5)


def test_paired_metrics_identity_and_shuffle(paired):
    a, _ = paired
    perfect = paired_metrics(a, a)
    assert perfect.top1 == 1.0 and perfect.mean_rank == 1.0 and abs(perfect.mean_cos - 1) < 1e-5
    shuffled = paired_metrics(a, a[np.random.default_rng(0).permutation(len(a))])
    assert shuffled.top1 < 0.05 and shuffled.mean_rank > 100


def test_paired_metrics_chunks_of_candidates():
    x = np.random.default_rng(0).standard_normal((10, 4)).astype(np.float32)
    m = paired_metrics(x, x, chunk=3)  # 4 chunks: 3, 3, 3, 1 candidates
    assert m.top1 == 1.0 and m.n == 10


def test_retrieval_among_counts_the_distractors_and_not_ties(paired):
    """The held-out document check: each partner is ranked against the other held-out partners and the collection's
    vectors; a distractor closer than the partner costs a rank, one equal to it (the same record) does not."""
    a, _ = paired
    alone = retrieval_among(a[:100], a[:100], a[:0])
    assert alone.top1 == 1.0 and alone.mean_rank == 1.0 and alone.n == 100
    assert retrieval_among(a[:100], a[:100], a).top1 == 1.0  # every partner is also among the distractors: ties
    noisy = a[:100] + 0.3 * np.random.default_rng(1).standard_normal(a[:100].shape).astype(np.float32)
    closer = retrieval_among(noisy, a[:100], noisy[:10])  # the first ten queries' own vectors are nearer than a partner
    assert closer.mean_rank > retrieval_among(noisy, a[:100], a[:0]).mean_rank
    assert closer.top1 <= 0.9


def test_linear_translator_roundtrip_save_load(paired, tmp_path):
    a, b = paired
    tr = Translator.from_linear_map(fit_procrustes((a, b)), Space("x", a.shape[1]), Space("y", b.shape[1]))
    out = tr.translate(a[:100])
    assert out.shape == (100, b.shape[1]) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)
    tr.save(tmp_path / "t")
    cfg = json.loads((tmp_path / "t" / "config.json").read_text())
    assert cfg["format_version"] == 2 and cfg["source"] == {"name": "x", "dim": a.shape[1]}
    loaded = Translator.load(tmp_path / "t", device="cpu")  # same device: bit-identical (across devices: test_gpu)
    np.testing.assert_array_equal(loaded.translate(a[:100]), out)
    back = loaded.translate(b[:100], source="y", target="x")
    assert back.shape == (100, a.shape[1])
    za, zb = loaded.to_latent(a[:50], space="x"), loaded.to_latent(b[:50], space="y")
    assert za.shape == zb.shape
    with pytest.raises(DimensionMismatchError, match="expects d=64"):
        loaded.translate(b[:3], source="x")
    with pytest.raises(StoreNotFoundError, match="not a translator directory"):
        Translator.load(tmp_path / "missing")


def test_model_of_a_space_is_the_fits_record_else_an_offline_models_name(paired, tmp_path):
    """`evaluate` and `query --model` embed a space's texts with the model its fit recorded (saved and loaded), else
    with the offline model the space is named after; translators saved before session 53 kept anchor fits' models
    only, as a list, and are read the same way; a space can be named by its model; an unknown space is an error that
    names the spaces and their models."""
    a, b = paired
    mapping = fit_procrustes((a, b))
    tr = Translator.from_linear_map(mapping, Space("x", a.shape[1]), Space("e5", b.shape[1]),
                                    info={"models": {"x": "minilm"}})
    tr.save(tmp_path / "tr")
    loaded = Translator.load(tmp_path / "tr")
    assert (loaded.model_of("x"), loaded.model_of("e5")) == ("minilm", "e5")
    assert loaded.space("minilm").name == "x"  # a space may be named by its recorded model
    with pytest.raises(V2VError, match=r"unknown space 'mpnet': this translator knows x \(minilm\), e5"):
        loaded.space("mpnet")
    old = Translator.from_linear_map(mapping, Space("source", a.shape[1]), Space("target", b.shape[1]),
                                     info={"anchor_models": ["minilm", "mpnet"]})
    assert (old.model_of("source"), old.model_of("target")) == ("minilm", "mpnet")
    bare = Translator.from_linear_map(mapping, Space("source", a.shape[1]), Space("target", b.shape[1]))
    assert bare.model_of("source") is None
    with pytest.raises(V2VError, match="unknown space 'minilm'"):
        bare.model_of("minilm")


def test_saving_replaces_a_translator_whole_and_refuses_a_directory_of_other_files(paired, tmp_path):
    a, b = paired
    first = Translator.from_linear_map(fit_procrustes((a, b)), Space("x", a.shape[1]), Space("y", b.shape[1]))
    first.space_covariances = {"x": np.cov(a.T), "y": np.cov(b.T)}
    first.space_means = {"x": a.mean(0), "y": b.mean(0)}
    first.save(tmp_path / "t")
    assert (tmp_path / "t" / "space_stats.safetensors").exists()
    second = Translator.from_linear_map(fit_procrustes((b, a)), Space("y", b.shape[1]), Space("x", a.shape[1]))
    second.save(tmp_path / "t")  # no space stats: the first one's must not stay behind as if they were its own
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == ["config.json", "model.safetensors"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]  # no staging or replaced copies left
    assert Translator.load(tmp_path / "t").source.name == "y"

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "vectors.npy").write_bytes(b"keep me")
    for out in (tmp_path / "data", tmp_path / "data" / "vectors.npy"):
        with pytest.raises(DestinationExistsError, match="give a new directory"):
            second.save(out)
    assert (tmp_path / "data" / "vectors.npy").read_bytes() == b"keep me"
    (tmp_path / "empty").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path / "empty")
        with pytest.raises(DestinationExistsError, match="is the working directory"):
            second.save(".")
        second.save("translator")  # a subdirectory of it is fine
        assert Translator.load("translator").source.name == "y"


def test_a_save_onto_a_full_disk_keeps_the_translator_there_and_leaves_no_part_written_copy(paired, tmp_path):
    """A 4 MiB translator saved over a small one on a 2 MiB disk fails with the disk's error, the translator saved
    before still loads, and the staging directory is gone (it was left taking the space before session 71)."""
    a, b = paired
    small = Translator.from_linear_map(fit_procrustes((a, b)), Space("x", a.shape[1]), Space("y", b.shape[1]))
    rng = np.random.default_rng(0)
    wide = rng.standard_normal((2000, 1024)).astype(np.float32)
    large = Translator.from_linear_map(fit_procrustes((wide, np.roll(wide, 1, axis=1))), Space("x", 1024), Space("y", 1024))
    with small_disk(tmp_path / "disk", "2M"):
        small.save(tmp_path / "disk" / "t")
        with pytest.raises(Exception) as raised:  # safetensors' own error, "No space left on device"
            large.save(tmp_path / "disk" / "t")
        assert disk_full(raised.value) is not None
        assert sorted(p.name for p in (tmp_path / "disk").iterdir()) == ["t"]
        np.testing.assert_allclose(Translator.load(tmp_path / "disk" / "t").translate(a[:5]), small.translate(a[:5]),
                                   atol=1e-6)


@pytest.mark.parametrize("style", ["text", "code"])
def test_vec2vec_translator_save_load_strict(paired, tmp_path, style):
    from v2v_store.train.model import Vec2Vec, Vec2VecConfig

    a, b = paired
    cfg = Vec2VecConfig(latent_dim=32, adapter_depth=2, backbone_depth=1, disc_depth=2, disc_width=32, block_style=style)
    model = Vec2Vec(cfg, {"x": a.shape[1], "y": b.shape[1]})
    tr = Translator("vec2vec", (Space("x", a.shape[1]), Space("y", b.shape[1])), model.state_dict(),
                    model_config=cfg.to_dict(), device="cpu")
    tr.save(tmp_path / "g")
    loaded = Translator.load(tmp_path / "g", device="cpu")
    np.testing.assert_allclose(loaded.translate(a[:20]), tr.translate(a[:20]), atol=1e-6)
    assert json.loads((tmp_path / "g" / "config.json").read_text())["model_config"]["block_style"] == style


def test_translators_saved_before_block_style_still_load(paired, tmp_path):
    """A config.json without ``block_style`` (saved before the option existed) means the paper-text blocks."""
    from v2v_store.train.model import Vec2Vec, Vec2VecConfig

    a, b = paired
    cfg = Vec2VecConfig(latent_dim=32, adapter_depth=2, backbone_depth=1, disc_depth=2, disc_width=32)
    old_config = {k: v for k, v in cfg.to_dict().items() if k != "block_style"}
    model = Vec2Vec(cfg, {"x": a.shape[1], "y": b.shape[1]})
    Translator("vec2vec", (Space("x", a.shape[1]), Space("y", b.shape[1])), model.state_dict(),
               model_config=old_config, device="cpu").save(tmp_path / "old")
    loaded = Translator.load(tmp_path / "old", device="cpu")
    with torch.no_grad():
        np.testing.assert_allclose(loaded.translate(a[:20]), model.eval().translate(torch.as_tensor(a[:20]), "x", "y").numpy(), atol=1e-6)


def test_block_style_is_checked():
    from v2v_store.train.model import Vec2VecConfig

    with pytest.raises(ValueError, match="block_style"):
        Vec2VecConfig(block_style="released")


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def test_few_shot_pairs_beat_nothing(paired, device):
    """With 200 true pairs, the aligner must find the synthetic map (near the Procrustes ceiling), on
    the CPU and on CUDA."""
    a, b = views(4000, seed=7)
    ea, eb = views(1000, seed=8)
    ceiling = paired_metrics(Translator.from_linear_map(fit_procrustes((a, b)), Space("x", 64), Space("y", 96)).translate(ea), eb)
    tr, report = fit_translator(a[1000:], b[1000:][::-1].copy(), ("x", "y"), pairs=(a[:200], b[:200]), device=device,
                                align_overrides=dict(restarts=1, sample_size=800, patience=5))
    assert report.details["device"] == device
    assert {s: w["weight"] for s, w in report.details["query_mean_weight"].items()} == tr.query_weights  # calibrated
    assert set(tr.query_weights) == {"x", "y"}
    got = paired_metrics(tr.translate(ea), eb)
    assert got.top1 >= 0.9 * ceiling.top1, (got, ceiling)


def test_gan_trainer_learns_and_resumes(tmp_path):
    """The GAN's generator losses fall, and a run resumed from its checkpoint ends where an
    uninterrupted run ends (seeded CPU training is reproducible)."""
    from v2v_store.train.trainer import GanTrainer, preset

    a, _ = views(1500, seed=1)
    _, b = views(1500, seed=2)
    mc, tc = preset("tiny", steps=60, seed=3, device="cpu")
    tc.eval_every, tc.checkpoint_every, tc.log_every = 30, 30, 30
    full = GanTrainer(mc, tc, a, b, ("x", "y"))
    full.train(progress=False)
    first, last = full.history[0], full.history[-1]
    assert last.cycle_cos > first.cycle_cos - 0.05

    half_cfg = preset("tiny", steps=30, seed=3, device="cpu")[1]
    half_cfg.eval_every, half_cfg.checkpoint_every, half_cfg.log_every = 30, 30, 30
    GanTrainer(mc, half_cfg, a, b, ("x", "y")).train(checkpoint_dir=tmp_path, progress=False)
    resumed = GanTrainer(mc, tc, a, b, ("x", "y"))
    resumed.train(checkpoint_dir=tmp_path, progress=False)
    for (k, v), (_, w) in zip(full.model.state_dict().items(), resumed.model.state_dict().items()):
        torch.testing.assert_close(v, w, msg=k)


def test_warm_start_begins_exactly_at_the_linear_map(paired, tmp_path):
    """align+gan: the network starts as the linear translator (zero gates) and saves/loads as vec2vec."""
    from v2v_store.train.trainer import GanTrainer, preset

    a, b = paired
    linear = Translator.from_linear_map(fit_procrustes((a, b)), Space("x", a.shape[1]), Space("y", b.shape[1]))
    model_cfg, train_cfg = preset("tiny", steps=1, seed=0, device="cpu")
    model_cfg.base_dim = a.shape[1]
    base = {s.name: linear.linear_space(s) for s in linear.spaces}
    trainer = GanTrainer(model_cfg, train_cfg, a, b, ("x", "y"), linear_base=base)
    np.testing.assert_allclose(trainer.translate(a[:50], "x", "y"), linear.translate(a[:50]), atol=1e-5)
    np.testing.assert_allclose(trainer.translate(b[:50], "y", "x"), linear.translate(b[:50], "y", "x"), atol=1e-5)
    trainer.train(progress=False)
    assert trainer.history[0].step == 0  # the start itself was a selection candidate
    tr = Translator("vec2vec", linear.spaces, trainer.model.state_dict(), model_config=model_cfg.to_dict(), device="cpu")
    tr.save(tmp_path / "w")
    np.testing.assert_allclose(Translator.load(tmp_path / "w", device="cpu").translate(a[:20]), tr.translate(a[:20]), atol=1e-6)


def _whitened_map(a: np.ndarray, b: np.ndarray):
    """A non-orthogonal LinearMap of the kind ``AlignConfig.final_whiten`` returns, from true pairs."""
    from v2v_store.train.linear import LinearMap, center_unit, power_whitener, procrustes, unit

    x, y = torch.as_tensor(a), torch.as_tensor(b)
    mx, my = unit(x).mean(0), unit(y).mean(0)
    xc, yc = center_unit(x, mx), center_unit(y, my)
    (hx, dx), (hy, dy) = power_whitener(xc, 0.5), power_whitener(yc, 0.5)
    wx, wy = procrustes(xc @ hx, yc @ hy)
    return LinearMap(mx.numpy(), (hx @ wx).numpy(), my.numpy(), (hy @ wy).numpy(), (wx.T @ dx).numpy(), (wy.T @ dy).numpy(),
                     wx.T.numpy(), wy.T.numpy()), (mx, my, hx, wx, wy, dy)


def test_non_orthogonal_linear_translator_saves_loads_and_decodes_with_its_own_matrix(paired, tmp_path):
    """A half-whitened map translates as ``unit(s unit(unit(unit(x) - mx) Hx Wx Wy^T Dy) + my)``, s = sqrt(1 - |my|^2)
    (its decode matrix, not the transposed projection; at the target's own spread from its mean) and survives save /
    load."""
    from v2v_store.train.linear import center_unit, unit

    a, b = paired
    lm, (mx, my, hx, wx, wy, dy) = _whitened_map(a, b)
    tr = Translator.from_linear_map(lm, Space("x", a.shape[1]), Space("y", b.shape[1]))
    spread = torch.sqrt(1 - my.pow(2).sum())
    expected = unit(spread * unit(center_unit(torch.as_tensor(a[:100]), mx) @ hx @ wx @ wy.T @ dy) + my).numpy()
    np.testing.assert_allclose(tr.translate(a[:100]), expected, atol=1e-5)
    tr.save(tmp_path / "w")
    loaded = Translator.load(tmp_path / "w", device="cpu")
    np.testing.assert_array_equal(loaded.translate(a[:100]), tr.translate(a[:100]))
    assert set(loaded.tensors) == {"mean.0", "proj.0", "decode.0", "query_decode.0", "mean.1", "proj.1", "decode.1",
                                   "query_decode.1"}
    np.testing.assert_array_equal(loaded.translate(a[:100], role="queries"), tr.translate(a[:100], role="queries"))
    orthogonal = Translator.from_linear_map(fit_procrustes((a, b)), Space("x", a.shape[1]), Space("y", b.shape[1]))
    assert np.abs(tr.translate(a[:100]) - orthogonal.translate(a[:100])).max() > 1e-3  # the decode matrix matters


def test_translations_as_queries_leave_out_the_targets_mean_and_its_whitening_and_unknown_roles_are_refused(paired):
    """``role="queries"``: ``unit(unit(unit(x) - mx) Hx Wx Wy^T)``: without the target's mean and without the records'
    de-whitening ``Dy`` (``query_decode``); a translator without ``query_decode`` tensors (saved before session 40)
    decodes queries with the records' matrix; the default role is ``"records"``; any other role is an error that names
    both."""
    from v2v_store.train.linear import center_unit, unit

    a, b = paired
    lm, (mx, my, hx, wx, wy, dy) = _whitened_map(a, b)
    tr = Translator.from_linear_map(lm, Space("x", a.shape[1]), Space("y", b.shape[1]))
    z = center_unit(torch.as_tensor(a[:100]), mx) @ hx @ wx
    np.testing.assert_allclose(tr.translate(a[:100], role="queries"), unit(z @ wy.T).numpy(), atol=1e-5)
    older = Translator("linear", tr.spaces, {k: v for k, v in tr.tensors.items() if not k.startswith("query_")},
                       device="cpu")
    np.testing.assert_allclose(older.translate(a[:100], role="queries"), unit(z @ wy.T @ dy).numpy(), atol=1e-5)
    np.testing.assert_array_equal(older.translate(a[:100]), tr.translate(a[:100]))  # records: unchanged
    np.testing.assert_array_equal(tr.translate(a[:100], role="records"), tr.translate(a[:100]))
    older.calibrate_queries(a, b)  # derives W^T from the records' decode and the vectors the map was fitted on
    for i, w in enumerate((wx, wy)):
        torch.testing.assert_close(older.tensors[f"query_decode.{i}"], w.T, atol=1e-4, rtol=0)
    tr.calibrate_queries(a, b)
    torch.testing.assert_close(tr.tensors["query_decode.1"], wy.T)  # the aligner's W^T is kept
    session39 = Translator("linear", tr.spaces, dict(older.tensors), device="cpu")
    for i in range(2):
        del session39.tensors[f"query_decode.{i}"]
    session39.calibrate_queries(a, b, whiten=0.0)  # whiten 0: queries keep the records' direction
    torch.testing.assert_close(session39.tensors["query_decode.1"], wy.T @ dy, atol=1e-4, rtol=0)
    with pytest.raises(V2VError, match="'records'.*'queries'"):
        tr.translate(a[:10], role="query")


def test_query_mean_weights_are_calibrated_without_labels_used_and_saved(paired, tmp_path):
    """``calibrate_queries`` picks each space's weight from ``QUERY_WEIGHTS`` by the anti-hub share of unpaired
    samples; queries then keep that much of the target's mean (``unit(unit(z W) + w mean)``), records are unchanged,
    and the weights survive save / load."""
    from v2v_store.metrics import anti_hub_share
    from v2v_store.train.linear import unit
    from v2v_store.translator import QUERY_WEIGHTS

    from v2v_store.train.linear import center_unit, power_whitener

    a, b = paired
    tr = Translator.from_linear_map(fit_procrustes((a[:1000], b[:1000])), Space("x", a.shape[1]), Space("y", b.shape[1]))
    records = tr.translate(a[:100])
    chosen = tr.calibrate_queries(a[:1000], b[1000:])  # unpaired: the target sample holds other rows
    assert set(chosen) == {"x", "y"} and all(tr.query_weights[s] in QUERY_WEIGHTS for s in chosen)
    assert all(c["anti_hub_share"] <= c["anti_hub_share_at_0"] for c in chosen.values())
    # queries: the direction times the target covariance^(-1/4) (of the given target vectors), plus w of the mean
    w, (mean_x, proj_x, _), (mean, proj, _) = tr.query_weights["y"], *(tr.linear_space(s) for s in tr.spaces)
    c_inv_quarter = power_whitener(center_unit(torch.as_tensor(b[1000:]), mean), 0.5)[0]
    z = center_unit(torch.as_tensor(a[:100]), mean_x) @ proj_x
    expected = unit(unit(z @ proj.T @ c_inv_quarter) + w * mean).numpy()
    np.testing.assert_allclose(tr.translate(a[:100], role="queries"), expected, atol=1e-5)
    np.testing.assert_array_equal(tr.translate(a[:100]), records)
    # the share is the candidates in no query's top k: one query, k=1, finds one of three
    assert anti_hub_share(np.eye(3)[:1], np.eye(3), k=1) == pytest.approx(2 / 3)
    tr.save(tmp_path / "w")
    loaded = Translator.load(tmp_path / "w", device="cpu")
    assert loaded.query_weights == tr.query_weights
    np.testing.assert_array_equal(loaded.translate(a[:100], role="queries"), tr.translate(a[:100], role="queries"))


def test_format_version_1_translators_still_load_and_newer_ones_are_refused(paired, tmp_path):
    """Version 1 (orthogonal linear maps, no decode.* tensors; warm-started networks without base_decode_*)
    loads and translates as before; an unknown version names itself and the fix."""
    from v2v_store.train.model import Vec2Vec, Vec2VecConfig

    a, b = paired
    tr = Translator.from_linear_map(fit_procrustes((a, b)), Space("x", a.shape[1]), Space("y", b.shape[1]))
    tr.save(tmp_path / "v1")
    cfg_path = tmp_path / "v1" / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg_path.write_text(json.dumps({**cfg, "format_version": 1}))
    np.testing.assert_array_equal(Translator.load(tmp_path / "v1", device="cpu").translate(a[:20]), tr.translate(a[:20]))

    mcfg = Vec2VecConfig(latent_dim=32, adapter_depth=1, backbone_depth=1, disc_depth=2, disc_width=16, base_dim=32)
    model = Vec2Vec(mcfg, {"x": a.shape[1], "y": b.shape[1]})
    base = tr.linear_space(tr.source), tr.linear_space(tr.target)
    for name, (mean, proj, _) in zip(("x", "y"), base):
        model.set_linear_base(name, mean, proj[:, :32])
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("base_decode_")}  # as version 1 saved it
    old = Translator("vec2vec", tr.spaces, state, model_config=mcfg.to_dict(), device="cpu")
    new = Translator("vec2vec", tr.spaces, model.state_dict(), model_config=mcfg.to_dict(), device="cpu")
    np.testing.assert_array_equal(old.translate(a[:20]), new.translate(a[:20]))

    cfg_path.write_text(json.dumps({**cfg, "format_version": 99}))
    with pytest.raises(V2VError, match="format_version 99 is not supported.*upgrade v2v-store"):
        Translator.load(tmp_path / "v1")


def test_to_space_scores_are_centred_cosines_within_a_space_and_translation_cosines_across(paired):
    """What `v2v query --mode latent` ranks by, for an orthogonal and a half-whitened map: across spaces the
    cosine of the translation (without the mean) against the centred target vector; within a space the
    centred cosines. For an orthogonal map with k = d those are the latent's dot products (format 1's ranking)."""
    from v2v_store.train.linear import center_unit, unit

    a, b = paired
    lm, (mx, my, hx, wx, wy, dy) = _whitened_map(a, b)
    ortho = fit_procrustes((a, b))
    yc, xc = center_unit(torch.as_tensor(b[:40]), my), center_unit(torch.as_tensor(a[:30]), mx)
    for m, moved in ((ortho, unit(xc @ torch.as_tensor(ortho.source_proj) @ torch.as_tensor(ortho.target_proj).T)),
                     (lm, unit(xc @ hx @ wx @ wy.T @ dy))):
        tr = Translator.from_linear_map(m, Space("x", a.shape[1]), Space("y", b.shape[1]))
        ys = tr.to_space(b[:40], "y", into="y")
        np.testing.assert_allclose(tr.to_space(a[:30], "x", into="y") @ ys.T, (moved @ yc.T).numpy(), atol=1e-4)
        np.testing.assert_allclose(ys @ ys.T, (yc @ yc.T).numpy(), atol=1e-4)
        np.testing.assert_allclose(tr.to_space(a[:30], "x"), xc.numpy(), atol=1e-5)
    square = Translator.from_linear_map(fit_procrustes((a, a[:, ::-1].copy())), Space("x", 64), Space("r", 64))
    np.testing.assert_allclose(square.to_space(a[:30], "x", into="r") @ square.to_space(a[:40, ::-1].copy(), "r").T,
                               square.to_latent(a[:30], "x") @ square.to_latent(a[:40, ::-1].copy(), "r").T, atol=1e-5)


def test_latent_queries_of_the_other_space_are_decoded_as_queries_and_their_scores_mapped_onto_same_space_ones(
        paired, tmp_path):
    """``calibrate_queries`` gives each space an affine map of the other space's latent-mode scores (matching the
    mean and spread of top-k scores across spaces to those within the query's space, on unpaired samples); with it,
    ``to_space(role="queries")`` decodes through the query decode. Before it, and within a space, nothing changes."""
    from v2v_store.train.linear import center_unit, unit

    a, b = paired
    tr = Translator.from_linear_map(fit_procrustes((a[:600], b[:600])), Space("x", a.shape[1]), Space("y", b.shape[1]))
    assert tr.latent_score("x", "y") == (1.0, 0.0)
    np.testing.assert_array_equal(tr.to_space(a[:50], "x", into="y", role="queries"), tr.to_space(a[:50], "x", into="y"))
    chosen = tr.calibrate_queries(a[:600], b[600:1200])
    (mean_x, proj_x, _), (mean_y, _, _) = (tr.linear_space(s) for s in tr.spaces)
    expected = unit(center_unit(torch.as_tensor(a[:50]), mean_x) @ proj_x @ tr.query_decode(tr.target)).numpy()
    np.testing.assert_allclose(tr.to_space(a[:50], "x", into="y", role="queries"), expected, atol=1e-5)
    assert np.abs(expected - tr.to_space(a[:50], "x", into="y")).max() > 1e-3  # the records' decode differs
    np.testing.assert_array_equal(tr.to_space(b[:50], "y", role="queries"), tr.to_space(b[:50], "y"))
    assert tr.latent_score("y", "y") == (1.0, 0.0) and tr.latent_score("x", "y") == tr.latent_scores["y"]
    assert chosen["y"]["latent_score"] == pytest.approx(list(tr.latent_scores["y"]), abs=1e-4)

    # the map: mean and spread of the cross-space top-k scores onto the same-space ones, on the samples given
    queries, vectors = a[1200:1400], b[1200:1500]
    scale, shift = tr._latent_score_map(queries, tr.source, vectors, tr.target, k=5)
    assert scale > 0
    cross = (tr.to_space(queries[:100], "x", into="y", role="queries") @ tr.to_space(vectors[:100], "y").T)
    same = tr.to_space(queries[:100], "x") @ tr.to_space(queries[100:200], "x").T
    cross, same = np.sort(cross, 1)[:, -5:] * scale + shift, np.sort(same, 1)[:, -5:]
    assert cross.mean() == pytest.approx(same.mean(), abs=1e-4) and cross.std() == pytest.approx(same.std(), rel=1e-3)

    tr.save(tmp_path / "latent")
    loaded = Translator.load(tmp_path / "latent", device="cpu")
    assert loaded.latent_scores == tr.latent_scores
    np.testing.assert_array_equal(loaded.to_space(a[:50], "x", into="y", role="queries"),
                                  tr.to_space(a[:50], "x", into="y", role="queries"))


def test_lengths_are_fitted_only_where_vectors_are_not_unit_and_stay_in_their_range():
    """fit_lengths: None for unit vectors, or nearly (translations stay as they are); else lengths within the 1st-99th
    percentiles of those seen, whatever the direction asked; vectors of length 0 or NaN are left out of the fit."""
    from v2v_store.lengths import VectorLengths, fit_lengths

    rng = np.random.default_rng(0)
    unit = rng.normal(size=(50, 8))
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    assert fit_lengths(unit) is None and fit_lengths(unit[:0]) is None
    assert fit_lengths(unit * rng.uniform(0.97, 1.03, (50, 1))) is None  # a lossy index's decoding: unit
    assert fit_lengths(unit * rng.uniform(0.8, 1.2, (50, 1))) is not None
    lengths = 3.5 + 1.5 * unit[:, 0]
    fitted = fit_lengths(np.vstack([unit * lengths[:, None], np.zeros((1, 8)), np.full((1, 8), np.nan)]))
    assert fitted.fitted_on == 50 and fitted.low >= 2 and fitted.high <= 5
    got = fitted.of(np.vstack([unit, -unit, np.eye(8)]))
    assert got.min() >= fitted.low and got.max() <= fitted.high
    assert np.corrcoef(fitted.of(unit), lengths)[0, 1] > 0.95
    assert VectorLengths.from_dict(fitted.to_dict()) == fitted and VectorLengths.from_dict(None) is None
    np.testing.assert_allclose(np.linalg.norm(fitted.scale(unit), axis=1), fitted.of(unit), rtol=1e-5)
