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
import torch

from v2v_store.errors import SpaceMismatchError

MIN_ROWS = 50  # fewer paired rows give too noisy a covariance to judge (and few pairs are never trusted on their own)
THRESHOLD = 0.05  # same model >= 0.145 with 50 rows, different models <= 0.011 (space_check.md)
RELIABLE = 0.3  # the collection's two halves must agree at least this well for the check to judge its side
SAMPLE = 5000
CHECK_ROWS = 2000  # a collection's first vectors that migrate and query check against its space
WATCH_ROWS = 250  # of each window of CHECK_ROWS records a migration reads, how many are checked (SpaceWatch)


def _unit_sample(vectors: np.ndarray, seed: int) -> torch.Tensor:
    """At most ``SAMPLE`` rows (drawn with ``seed``), unit-normalised, float64. In torch, whose threads also translate:
    numpy's BLAS threads spinning beside them halved a migration's speed (``benchmarks/results/migrate_watch.md``)."""
    v = np.asarray(vectors, dtype=np.float64)
    if len(v) > SAMPLE:
        v = v[np.random.default_rng(seed).choice(len(v), SAMPLE, replace=False)]
    t = torch.from_numpy(v)
    return t / t.norm(dim=1, keepdim=True).clamp_min(1e-12)


def covariance(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """Covariance of the unit-normalised vectors (at most ``SAMPLE`` rows, drawn with ``seed``), float64."""
    t = _unit_sample(vectors, seed)
    t = t - t.mean(0)
    return (t.T @ t / max(len(t) - 1, 1)).numpy()


def unit_mean(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """Mean of the unit-normalised vectors (the same rows as :func:`covariance`), float64."""
    return _unit_sample(vectors, seed).mean(0).numpy()


def second_moment(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """Uncentred second moment of the unit-normalised vectors. Unlike the covariance, a mix of two models' vectors has
    the mix of their second moments (no term between the two groups' means), so a few records of another model show."""
    t = _unit_sample(vectors, seed)
    return (t.T @ t / max(len(t), 1)).numpy()


def covariance_similarity(ca: np.ndarray, cb: np.ndarray) -> float:
    """Similarity of two covariances beyond a random rotation's: about 1 for one model's vectors of one corpus,
    about 0 for two models' vectors."""
    ca, cb = np.asarray(ca, np.float64), np.asarray(cb, np.float64)
    null = np.trace(ca) * np.trace(cb) / len(ca)  # the expected inner product under a random rotation
    norms = np.sqrt((ca * ca).sum() * (cb * cb).sum())  # not np.linalg.norm: see covariance()
    return float(((ca * cb).sum() - null) / max(norms - null, 1e-12))


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


def records_of(metadata: list, field: str, space: str) -> np.ndarray:
    """Which records of a batch name ``space`` in their metadata field ``field`` (a collection of mixed spaces)."""
    return np.array([(m or {}).get(field) == space for m in metadata], dtype=bool)


def check_mixed_sample(translator, store, field: str, what: str, check_space: bool = True) -> None:
    """Check an open store of mixed spaces, whose records name their space in metadata field ``field``: the
    translator's spaces must share the store's dimension; some of its first records must name one of them (else the
    field is wrong: :class:`V2VError`), those of each space must look like it (``check_space``;
    :meth:`Translator.check_space`); records of neither are warned about."""
    import logging

    from v2v_store.errors import V2VError

    if any(sp.dim != store.dim for sp in translator.spaces):
        raise V2VError(f"{what}: its vectors are {store.dim}-d, but the translator's spaces are "
                       + ", ".join(f"{sp.name} ({sp.dim}-d)" for sp in translator.spaces)
                       + ": one index can only mix spaces of one dimension")
    first = store.first_batch(4 * CHECK_ROWS)
    if first is None:
        return
    names = [sp.name for sp in translator.spaces]
    seen = {(m or {}).get(field) for m in first.metadata}
    if not seen & set(names):
        raise V2VError(f"{what}: none of its first {len(first)} records has a metadata field {field!r} naming a space "
                       f"of this translator ({', '.join(names)}; found {', '.join(sorted(map(repr, seen))[:5])}): name "
                       "the field that holds each record's model")
    others = seen - set(names)
    if others:
        logging.getLogger(__name__).warning(
            "%s: records whose %r is none of %s are left out (among the first %d: %s)", what, field, ", ".join(names),
            len(first), ", ".join(sorted(map(repr, others))[:5]))
    for name in names:
        rows = records_of(first.metadata, field, name)
        if check_space and rows.any():
            translator.check_space(first.vectors[rows][:CHECK_ROWS], name, f"the {name!r} records of {what}",
                                   f"{field!r}: '{{}}' in those records' metadata")


class SpaceWatch:
    """Checks a stream of one space's records window by window, as :func:`check_collection_space` checks a
    collection's first records: a migration or a latent query reads every record, so records of another model further
    down a collection (two models' records in one index, the first ``CHECK_ROWS`` of one of them) are caught there.

    A window is refused (:class:`SpaceMismatchError`) when it looks like another recorded space of the same dimension,
    alone or mixed with its own: by the covariance, or where the spaces' means were recorded too, by the uncentred
    second moment (:func:`second_moment`; it shows a few percent of another model's records mixed in, where the
    covariance of a mix of two models with different means looks like neither). Only spaces that are themselves unlike
    by both count, so a model and its fine-tune are never taken for a mix. A shift of corpus is not refused: measured
    in ``benchmarks/results/space_watch.md``."""

    def __init__(self, covariances: dict[str, np.ndarray], space: str, what: str, fix: str, window: int = CHECK_ROWS,
                 means: dict[str, np.ndarray] | None = None):
        self.space, self.what, self.fix, self.window = space, what, fix, window
        self.references: dict[str, dict[str, np.ndarray]] = {}  # statistic -> space -> recorded value
        if space in covariances:
            same = {n: c for n, c in covariances.items() if c.shape == covariances[space].shape}
            self.references["covariance"] = same
            means = {n: np.asarray(m, np.float64) for n, m in (means or {}).items() if n in same}
            if set(means) == set(same):
                self.references["second moment"] = {n: same[n] + np.outer(means[n], means[n]) for n in same}
        self.others = [n for n in self.references.get("covariance", {}) if n != space and all(
            covariance_similarity(ref[space], ref[n]) < THRESHOLD for ref in self.references.values())]
        self.pending: list[np.ndarray] = []
        self.rows = 0  # records of this space seen before the pending ones
        self.rng = np.random.default_rng(0)

    def add(self, vectors: np.ndarray) -> None:
        if not self.others or not len(vectors):
            return
        self.pending.append(vectors)
        if sum(len(v) for v in self.pending) >= self.window:
            window = np.concatenate(self.pending)
            self.pending = []
            self._check(window)
            self.rows += len(window)

    def finish(self) -> None:
        """Check the records since the last full window too, when they are enough to judge (a stream's tail)."""
        if self.others and sum(len(v) for v in self.pending) >= WATCH_ROWS:
            self._check(np.concatenate(self.pending))
        self.pending = []

    def _check(self, window: np.ndarray) -> None:
        # a random few rows of the window: as cheap as reliable (the same model scores >= 0.145 on 50 rows); random, so
        # neither the order of records nor the halves ``judgeable`` splits them into follow a pattern of the collection
        rows = window[np.sort(self.rng.choice(len(window), min(len(window), WATCH_ROWS), replace=False))]
        rows = rows[self.rng.permutation(len(rows))]
        sample = {"covariance": covariance(rows), "second moment": second_moment(rows)}
        found = [(covariance_similarity(sample[stat], ref[other]), stat, other)
                 for stat, ref in self.references.items() for other in self.others]
        sim, stat, other = max(found)
        if sim < THRESHOLD or not judgeable(rows):  # judged only when it matters: it costs two more covariances
            return
        own = covariance_similarity(sample[stat], self.references[stat][self.space])
        seen = f"look like {other!r} vectors" if own < THRESHOLD else f"look like {self.space!r} and {other!r} vectors mixed"
        raise SpaceMismatchError(
            f"{self.what}: its {self.space!r} records {self.rows:,}-{self.rows + len(window):,} {seen} ({stat} "
            f"similarity to {other!r} {sim:.2f}, to {self.space!r} {own:.2f}; the same model scores >= {THRESHOLD}, "
            f"another about 0): the collection mixes two models' records. {self.fix}")
