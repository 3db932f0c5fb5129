"""Which known model embedded a collection? Covariance fingerprints of the offline models.

Two models of one dimension (MiniLM and e5 are both 384-d) cannot be told apart by shape, but the covariance of
a model's unit vectors is its own whatever the corpus (``benchmarks/results/space_check.md``). v2v-store ships each
offline model's fingerprint (``model_fingerprints.safetensors``: the covariance's eigenvalues and its top
``RANK`` eigenvectors, built by ``benchmarks/build_fingerprints.py`` from the bundled Wikipedia sentences embedded by
the model), so that

- ``v2v inspect`` says which known model a collection looks like, and
- ``v2v fit`` refuses a ``--source-name`` / ``--target-name`` that names one known model when the collection looks
  like another (swapped names would give a translator whose spaces are labelled wrong: ``--model e5`` text queries
  and ``--method anchors`` would then use the wrong model).

A collection that looks like none of them (another model, or one fine-tuned) is never refused on that ground.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np

from v2v_store.errors import SpaceMismatchError
from v2v_store.space_check import THRESHOLD, covariance, covariance_similarity, judgeable, looks_like

logger = logging.getLogger(__name__)
FINGERPRINTS = Path(__file__).with_name("model_fingerprints.safetensors")
# eigenvectors kept per model: on the kit the same model's collections score 0.35-0.95 against the shipped fingerprints
# (benchmarks/results/space_check_collections.md), 0.43-0.95 against full covariances; other models at most 0.003
RANK = 64


def fingerprint(vectors: np.ndarray, rank: int = RANK) -> dict[str, np.ndarray]:
    """The eigenvalues (all, descending) and top ``rank`` eigenvectors of the covariance of ``vectors``."""
    values, vecs = np.linalg.eigh(covariance(vectors))
    order = np.argsort(values)[::-1]
    return {"eigenvalues": values[order].astype(np.float32), "eigenvectors": vecs[:, order[:rank]].astype(np.float16)}


def save_fingerprints(prints: dict[str, dict[str, np.ndarray]], path: Path, provenance: str) -> None:
    """Write ``{model: fingerprint}`` as one safetensors file (``<model>.eigenvalues`` ...), with its provenance."""
    from safetensors.numpy import save_file

    tensors = {f"{model}.{key}": np.ascontiguousarray(value) for model, fp in prints.items() for key, value in fp.items()}
    ranks = sorted({fp["eigenvectors"].shape[1] for fp in prints.values()})
    save_file(tensors, str(path), metadata={"provenance": provenance, "rank": ",".join(map(str, ranks))})


@functools.cache
def known_fingerprints(path: Path = FINGERPRINTS) -> dict[str, np.ndarray]:
    """``{model: approximate covariance}`` of the shipped fingerprints (empty when the file is missing): the top
    eigen-directions exactly, the rest of the spectrum flattened to its mean."""
    if not path.exists():
        logger.warning("no model fingerprints at %s: collections cannot be matched to known models", path)
        return {}
    from safetensors.numpy import load_file

    tensors, out = load_file(str(path)), {}
    for model in sorted({key.split(".")[0] for key in tensors}):
        values = tensors[f"{model}.eigenvalues"].astype(np.float64)
        vecs = tensors[f"{model}.eigenvectors"].astype(np.float64)
        vecs, _ = np.linalg.qr(vecs)  # re-orthonormalise after float16
        k = vecs.shape[1]
        tail = values[k:].mean() if k < len(values) else 0.0
        out[model] = (vecs * (values[:k] - tail)) @ vecs.T + tail * np.eye(len(values))
    return out


def identify(vectors: np.ndarray) -> dict[str, float] | None:
    """Covariance similarity of ``vectors`` with each known model of their dimension (>= ``THRESHOLD``: looks like
    it), or None when the vectors cannot be judged (too few, or no preferred directions)."""
    if vectors is None or not judgeable(vectors):
        return None
    sample = covariance(vectors)
    return {model: covariance_similarity(sample, cov) for model, cov in known_fingerprints().items()
            if cov.shape == sample.shape}


def check_model_names(collections: tuple[np.ndarray, np.ndarray], names: tuple[str, str],
                      flags: tuple[str, str] = ("--source-name", "--target-name")) -> dict[str, dict[str, float]]:
    """Refuse (:class:`SpaceMismatchError`) a name of a known model given to a collection that looks like another
    known model; returns each judged side's similarities. Unknown names and unjudgeable collections pass."""
    known, judged = known_fingerprints(), {}
    for vectors, name, flag in zip(collections, names, flags):
        if name not in known:
            continue
        sims = identify(vectors)
        if sims is None or name not in sims:
            continue
        judged[name] = sims
        if sims[name] >= THRESHOLD:
            continue
        match = looks_like(sims)  # below the threshold for ``name``: any match is another model
        if match is None:
            logger.warning("the %s collection does not look like %s vectors (covariance similarity %.3f; the same "
                           "model scores >= %s): another or a fine-tuned model? The fit goes on", flag[2:-5], name,
                           sims[name], THRESHOLD)
        else:
            other = dict(zip(names, flags)).get(match)
            fix = ("the names look swapped: exchange --source-name and --target-name" if other else
                   f"name it with {flag} {match}")
            raise SpaceMismatchError(
                f"{flag} is {name!r} but the collection looks like {match!r} vectors (covariance similarity "
                f"{sims[match]:.2f} against {sims[name]:.2f} for {name!r}; the same model scores >= {THRESHOLD}, "
                f"another about 0): {fix}. If you are sure, skip this check with --no-space-check")
    return judged
