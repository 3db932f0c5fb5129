"""Do paired vectors come from the same model as the collection they are paired with?

A fit with pairs (``--pairs-source/--pairs-target``, or the bundled anchors of ``--method anchors``, embedded by the
models that ``--source-name`` / ``--target-name`` name) trusts that each side of the pairs lives in its collection's
space. When it does not (names swapped, the wrong model named, pairs embedded by another model of the same
dimension), Procrustes still returns a map, and with at least as many pairs as dimensions it would be reported
trusted: a translator that is wrong everywhere. This check catches that before fitting. The same statistic guards
the translator's use: a fit records each space's covariance (``space_stats.safetensors`` beside the translator), and
``migrate`` and ``CrossQuery`` check a collection against the space it is said to be in, so migrating the wrong
collection (or naming the wrong ``--source-space``) is refused instead of writing translations of the wrong model.

The statistic is the similarity of the two sets' covariance matrices (of unit vectors), in excess of what it would
be if one space were randomly rotated against the other: 1 for the same distribution, about 0 for vectors of two
different models, whatever their corpora. Measured on the kit and the corpora ``benchmarks/build_kit.py`` builds
(``benchmarks/space_check.py``, ``benchmarks/results/space_check.md``: MiniLM, e5, mpnet; collections of Wikipedia
sentences, fortunes, WordNet glosses, FOLDOC against the 5,000 bundled Wikipedia anchors): the same model 0.38-0.98
with all anchors and at least 0.145 with 50 of them, different models of equal dimension at most 0.011. A space with
no preferred directions (isotropic vectors, e.g. synthetic Gaussians) looks the same under every rotation, so nothing
can be judged there: a side is only checked when two halves of its own collection agree (similarity >= ``RELIABLE``).
"""

from __future__ import annotations

import numpy as np

from v2v_store.errors import SpaceMismatchError

MIN_ROWS = 50  # fewer paired rows give too noisy a covariance to judge (and few pairs are never trusted on their own)
THRESHOLD = 0.05  # same model >= 0.145 with 50 rows, different models <= 0.011 (space_check.md)
RELIABLE = 0.3  # the collection's two halves must agree at least this well for the check to judge its side
SAMPLE = 5000
CHECK_ROWS = 2000  # a collection's first vectors that migrate and query check against its space


def covariance(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """Covariance of the unit-normalised vectors (at most ``SAMPLE`` rows, drawn with ``seed``), float64."""
    v = np.asarray(vectors, dtype=np.float64)
    if len(v) > SAMPLE:
        v = v[np.random.default_rng(seed).choice(len(v), SAMPLE, replace=False)]
    v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    v = v - v.mean(0)
    return v.T @ v / max(len(v) - 1, 1)


def covariance_similarity(ca: np.ndarray, cb: np.ndarray) -> float:
    """Similarity of two covariances beyond a random rotation's: about 1 for one model's vectors of one corpus,
    about 0 for two models' vectors."""
    ca, cb = np.asarray(ca, np.float64), np.asarray(cb, np.float64)
    null = np.trace(ca) * np.trace(cb) / len(ca)  # the expected inner product under a random rotation
    return float(((ca * cb).sum() - null) / max(np.linalg.norm(ca) * np.linalg.norm(cb) - null, 1e-12))


def space_similarity(a: np.ndarray, b: np.ndarray, seed: int = 0) -> float:
    """:func:`covariance_similarity` of two sets of vectors of one dimension."""
    return covariance_similarity(covariance(a, seed), covariance(b, seed))


def judgeable(vectors: np.ndarray) -> bool:
    """Enough rows, and two halves of them agree: the vectors have preferred directions to compare."""
    return len(vectors) >= 2 * MIN_ROWS and space_similarity(vectors[0::2], vectors[1::2]) >= RELIABLE


def check_pairs_space(source: np.ndarray, target: np.ndarray, pairs: tuple[np.ndarray, np.ndarray],
                      names: tuple[str, str], what: str = "paired vectors") -> dict[str, float] | None:
    """Raise :class:`SpaceMismatchError` when a side of ``pairs`` does not look like its collection's model.

    Returns the similarity of each side it could judge (None with fewer than ``MIN_ROWS`` pairs or unequal
    dimensions)."""
    if len(pairs[0]) < MIN_ROWS or source.shape[1] != pairs[0].shape[1] or target.shape[1] != pairs[1].shape[1]:
        return None
    sims = {name: space_similarity(collection, side)
            for name, collection, side in zip(names, (source, target), pairs) if judgeable(collection)}
    bad = [name for name, s in sims.items() if s < THRESHOLD]
    if not bad:
        return sims
    swapped = source.shape[1] == target.shape[1] and min(space_similarity(source, pairs[1]),
                                                       space_similarity(target, pairs[0])) >= THRESHOLD
    found = ", ".join(f"{name} {sims[name]:.2f}" for name in bad)
    cause = ("they look swapped: the source collection matches the target side of the pairs and the other way round; "
             "swap --source-name and --target-name (or the pairs)" if swapped else
             "name the model that embedded each collection (--source-model / --target-model, or --source-name / "
             "--target-name), or pass pairs embedded by those models")
    raise SpaceMismatchError(
        f"the {what} do not come from the same model as the collection they are paired with (covariance similarity "
        f"{found}; the same model scores >= {THRESHOLD}, two models about 0): {cause}. If you are sure they do, "
        f"skip this check with --no-space-check")


def first_vectors(store, rows: int = CHECK_ROWS) -> np.ndarray | None:
    """The first ``rows`` vectors of an open store (None when it is empty): the sample a collection is checked on."""
    first = store.first_batch(rows)
    return None if first is None else first.vectors


def looks_like(similarities: dict[str, float] | None) -> str | None:
    """The name with the highest similarity if it reaches ``THRESHOLD`` (the vectors look like that space), else None."""
    if not similarities:
        return None
    best = max(similarities, key=similarities.get)
    return best if similarities[best] >= THRESHOLD else None


def similarities(vectors: np.ndarray | None, covariances: dict[str, np.ndarray]) -> dict[str, float] | None:
    """How much ``vectors`` (a collection's sample) look like each space whose covariance was recorded at fit time
    (of the same dimension); None where nothing can be judged (no vectors, too few, or isotropic)."""
    if vectors is None or not covariances or not judgeable(vectors):
        return None
    sample = covariance(vectors)
    return {name: covariance_similarity(sample, cov) for name, cov in covariances.items() if cov.shape == sample.shape}


def check_collection_space(vectors: np.ndarray | None, covariances: dict[str, np.ndarray], claimed: str, what: str,
                           how_to_name: str) -> float | None:
    """Raise :class:`SpaceMismatchError` when ``vectors`` (a sample of ``what``, a collection) do not look like the
    vectors the translator was fitted on in space ``claimed`` (``covariances``: each space's, recorded at fit time).
    ``how_to_name``: how the user names a collection's space, with ``{}`` for the name (``--source-space {}``).

    Returns the similarity, or None where it cannot judge (no recorded covariance, too few or isotropic vectors)."""
    sims = similarities(vectors, covariances)
    if sims is None or claimed not in sims:
        return None
    if sims[claimed] >= THRESHOLD:
        return sims[claimed]
    other = looks_like(sims)  # below the threshold for ``claimed``: any match is another space
    fix = (f"it looks like {other!r} vectors (similarity {sims[other]:.2f}): name its space with "
           f"{how_to_name.format(other)}"
           if other else "it looks like neither space of this translator: fit a translator on this collection's model")
    raise SpaceMismatchError(
        f"{what} does not look like the {claimed!r} vectors this translator was fitted on (covariance similarity "
        f"{sims[claimed]:.2f}; the same model scores >= {THRESHOLD}, another model about 0): {fix}. If you are sure it "
        f"is {claimed!r}, skip this check with --no-space-check")
