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

import logging
from typing import Callable, TypeVar

import numpy as np
import torch

from v2v_store.connectors.base import no_embedding
from v2v_store.errors import DimensionMismatchError, SpaceMismatchError

logger = logging.getLogger(__name__)
T = TypeVar("T")

MIN_ROWS = 50  # fewer paired rows give too noisy a covariance to judge (and few pairs are never trusted on their own)
THRESHOLD = 0.05  # same model >= 0.145 with 50 rows, different models <= 0.011 (space_check.md)
RELIABLE = 0.3  # the collection's two halves must agree at least this well for the check to judge its side
SAMPLE = 5000
CHECK_ROWS = 2000  # a collection's first vectors that migrate and query check against its space
UNRELATED = 0.01  # two models' groups: |similarity| at most 0.0066 (groups of 200+), 0.011 with 50 anchors
NEIGHBOURS_Z = 3.0  # a group nearer the rest than chance by more is one model's (odd records among sentences: 4.3-30)
ROTATIONS = 16  # random rotations of the rest that neighbours_beyond_chance compares against
WATCH_ROWS = 250  # of each window of CHECK_ROWS records a migration reads, how many are checked (SpaceWatch)


def _unit_sample(vectors: np.ndarray, seed: int) -> torch.Tensor:
    """At most ``SAMPLE`` rows (drawn with ``seed``; rows of NaN, infinities or zeros left out), unit-normalised,
    float64. In torch, whose threads also translate: numpy's BLAS threads spinning beside them halved a migration's
    speed (``benchmarks/results/migrate_watch.md``)."""
    v = np.asarray(vectors, dtype=np.float64)
    v = v[~no_embedding(v)]  # rows without an embedding (NaN, zeros) say nothing
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


def two_models(vectors: np.ndarray, seed: int = 0, groups: int = 8, iterations: int = 25,
               tries: int = 4) -> tuple[float, float] | None:
    """``(share, similarity)`` where ``vectors`` look like two models' vectors in one collection (half way through a
    re-embedding, say): the share of the sample in the smaller model's group, and the covariance similarity of the two
    groups; else None.

    The unit vectors (at most ``SAMPLE``) are split into ``groups`` by k-means (up to ``tries`` draws of its start:
    of four, two split off 5% of MiniLM among e5 vectors, every one 5% of e5 among MiniLM). Each group of one model (a
    topic, a language, a kind of text) keeps something of the model's covariance against the rest; a group of another
    model keeps nothing. Where a group scores below ``THRESHOLD`` against the rest, 2-means started from it and from
    the rest gathers the other model's vectors (a model's vectors may make several groups) for the share. Probe of session
    72 on the kit: the groups of one model's wiki sentences, fortunes or both together (MiniLM, e5, mpnet), or of
    English with French sentences (MiniLM, e5), scored at least 0.22 against the rest; MiniLM and e5 vectors of one
    corpus mixed 50/50, 80/20, 95/5 and 5/95 at most 0.0013, their shares found. A group needs ``2 * MIN_ROWS`` of the
    sample (2% of 5,000: 1% of e5 among MiniLM went unseen) and to be :func:`judgeable` on its own (a heap of
    near-copies is not).

    A narrow group of one model's records (ids, numbers, dates, e-mail addresses among sentences) can score below
    ``THRESHOLD`` too (session 73: down to -0.043 in e5, 0.011 in MiniLM; 16 of 30 such collections had been called
    two models'), so a group is only called another model's where its similarity is also within ``UNRELATED`` of 0 and
    its vectors find no nearer neighbours in the rest than in randomly rotated copies of it
    (:func:`neighbours_beyond_chance` under ``NEIGHBOURS_Z``). One model's odd records keep some covariance (MiniLM)
    or find their kin (e5: z 12-30); another model's groups scored within 0.0066 of 0 and z at most ~1 on the kit's
    mixtures (``benchmarks/results/two_models.md``), but a tight group of another model's records as many as the rest
    can reach z 3.6 (MiniLM numbers 1:1 with e5 sentences: unseen)."""
    u = _unit_sample(vectors, seed)
    # shuffled: two models' records interleaved would make the two halves judgeable() compares one model each
    u = u[torch.randperm(len(u), generator=torch.Generator().manual_seed(seed))]
    if not judgeable(u.numpy()):
        return None
    rotations = _Rotations(u.shape[1], seed)
    for attempt in range(tries):  # k-means from other draws: a small group of another model is not split off by each
        found = _foreign_group(u, seed + attempt, groups, iterations, rotations)
        if found is not None:
            return found
    return None


def _foreign_group(u: torch.Tensor, seed: int, groups: int, iterations: int,
                   rotations: _Rotations) -> tuple[float, float] | None:
    """:func:`two_models` from one k-means draw (``seed``) of the unit rows ``u``."""
    label = _kmeans(u, [u[i] for i in _spread_rows(u, groups, seed)], iterations)
    scored = sorted((space_similarity(u[label == j].numpy(), u[label != j].numpy(), seed), j) for j in range(groups)
                    if (label == j).sum() >= 2 * MIN_ROWS and judgeable(u[label == j].numpy()))
    for similarity, j in scored:
        if similarity >= THRESHOLD:
            break
        group, rest = u[label == j], u[label != j]
        two = _kmeans(u, [group.mean(0), rest.mean(0)], iterations)
        one, other = sorted((u[two == 0], u[two == 1]), key=len)
        if len(one) >= 2 * MIN_ROWS:
            gathered = space_similarity(one.numpy(), other.numpy(), seed)
            if gathered < THRESHOLD:
                group, rest, similarity = one, other, gathered
        if abs(similarity) < UNRELATED and neighbours_beyond_chance(group, rest, rotations(), seed) < NEIGHBOURS_Z:
            return len(group) / len(u), similarity
    return None


class _Rotations:
    """``ROTATIONS`` random rotations of a space of ``dim`` dimensions, drawn (with ``seed``) when first asked for,
    kept in float32 (what :func:`neighbours_beyond_chance` multiplies them in)."""

    def __init__(self, dim: int, seed: int):
        self.dim, self.seed, self.drawn = dim, seed, None

    def __call__(self) -> list[torch.Tensor]:
        if self.drawn is None:
            gen = torch.Generator().manual_seed(self.seed)
            self.drawn = [torch.linalg.qr(torch.randn(self.dim, self.dim, generator=gen, dtype=torch.float64))[0]
                          .float() for _ in range(ROTATIONS)]
        return self.drawn


def neighbours_beyond_chance(group: torch.Tensor, rest: torch.Tensor, rotations: list[torch.Tensor],
                             seed: int = 0) -> float:
    """How far (in standard deviations over ``rotations``) the unit rows of ``group`` find nearer neighbours in
    ``rest`` than in ``rest`` rotated: the median over (at most 1,000) rows of ``group`` of the cosine to the nearest of
    (at most 2,000) rows of ``rest``, against the same for each rotated copy. Vectors of one model, however odd, lie
    near some of its other vectors (high); another model's vectors are as far from the rest as from a rotation of it
    (about 0)."""
    gen = torch.Generator().manual_seed(seed)
    g = group[torch.randperm(len(group), generator=gen)[:1000]]
    r = rest[torch.randperm(len(rest), generator=gen)[:2000]]
    g, r = g.float(), r.float()
    real = (g @ r.T).amax(1).median()
    rotated = torch.stack([(g @ (r @ q).T).amax(1).median() for q in rotations])
    return float((real - rotated.mean()) / rotated.std().clamp_min(1e-9))


def _spread_rows(u: torch.Tensor, k: int, seed: int) -> list[int]:
    """``k`` rows of ``u`` drawn k-means++ style (each further row likelier the further it is from those drawn)."""
    gen = torch.Generator().manual_seed(seed)
    rows = [int(torch.randint(len(u), (1,), generator=gen))]
    for _ in range(k - 1):
        far = torch.cdist(u, u[rows]).min(1).values ** 2
        rows.append(int(torch.multinomial(far / far.sum(), 1, generator=gen)) if far.sum() > 0 else rows[-1])
    return rows


def _kmeans(u: torch.Tensor, centres: list[torch.Tensor], iterations: int) -> torch.Tensor:
    """Each row's group after ``iterations`` of Lloyd's k-means from ``centres``."""
    c = torch.stack(centres)
    label = torch.cdist(u, c).argmin(1)
    for _ in range(iterations):
        c = torch.stack([u[label == j].mean(0) if (label == j).any() else c[j] for j in range(len(c))])
        new = torch.cdist(u, c).argmin(1)
        if torch.equal(new, label):
            break
        label = new
    return label


def two_models_message(what: str, found: tuple[float, float]) -> str:
    """What :func:`two_models` found in ``what`` (e.g. "the 'source' collection"), in words."""
    share, similarity = found
    return (f"{what} holds two models' vectors: a group of {share:.0%} of them does not share the rest's covariance "
            f"(similarity {similarity:.3f}; groups of one model's sentences, even of two languages or kinds of text, "
            f"scored >= 0.22 on the kit, two models' about 0) and has no nearer neighbours among the rest than chance "
            f"(one model's odd records, such as ids or prices among sentences, do)")


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
    first = store.first_batch(rows, with_payload=False)
    return None if first is None else first.vectors


def spread_vectors(store, rows: int = CHECK_ROWS, read_whole: bool = True) -> np.ndarray | None:
    """About ``rows`` vectors of an open store drawn from all through it (:meth:`VectorStore.spread_sample`, with
    ``read_whole``; None when it is empty): what a collection is judged on where its first records are all of one
    narrow kind."""
    batches = [b.vectors for b in store.spread_sample(rows, with_payload=False, read_whole=read_whole)]
    return np.concatenate(batches) if batches else None


def decided_on_spread(store, first: np.ndarray | None, decide: Callable[[np.ndarray | None], T], dims: set[int],
                      what: str) -> T:
    """``decide(first)`` (which space a collection's first vectors are in, and whether they look like it), and where
    that refuses (:class:`SpaceMismatchError`, or :class:`DimensionMismatchError` for "cannot tell"), ``decide`` on
    ``CHECK_ROWS`` vectors from all through the open ``store`` instead, when it holds more than the first ones and its
    dimension is one of ``dims`` (the translator's). A collection's first records can all be of one narrow kind (ids,
    prices, dates: sorted by kind or time) whose covariance is nothing like the model's (session 73: e5 collections
    whose first 2,000 records were ids, prices, e-mail addresses, dates or numbers were refused by `migrate`, "looks
    like neither space", even with the space named); the whole collection is not. Where the spread sample refuses
    too, its error is raised. The space watch still checks every window a migration or a latent query reads."""
    try:
        return decide(first)
    except (SpaceMismatchError, DimensionMismatchError) as error:
        if first is None or store.dim not in dims or store.count() <= len(first):
            raise
        spread = spread_vectors(store)
        if spread is None:  # emptied meanwhile
            raise
        decided = decide(spread)
        logger.warning("%s: its first %d records do not tell its space or do not look like it (all of one narrow kind, "
                       "such as ids, numbers or dates?); %d records from all through it do: going on (%s)", what,
                       len(first), len(spread), error)
        return decided


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
                           how_to_name: str, fix: str | None = None) -> float | None:
    """Raise :class:`SpaceMismatchError` when ``vectors`` (a sample of ``what``, a collection) do not look like the
    vectors the translator was fitted on in space ``claimed`` (``covariances``: each space's, recorded at fit time).
    ``how_to_name``: how the user names a collection's space, with ``{}`` for the name (``--source-space {}``);
    ``fix``: what to do instead of naming another space (e.g. for a destination, which must be in ``claimed``).

    Returns the similarity, or None where it cannot judge (no recorded covariance, too few or isotropic vectors)."""
    sims = similarities(vectors, covariances)
    if sims is None or claimed not in sims:
        return None
    if sims[claimed] >= THRESHOLD:
        return sims[claimed]
    other = looks_like(sims)  # below the threshold for ``claimed``: any match is another space
    looks = (f"it looks like {other!r} vectors (similarity {sims[other]:.2f})" if other
             else "it looks like neither space of this translator")
    fix = fix or (f"name its space with {how_to_name.format(other)}" if other
                  else "fit a translator on this collection's model")
    raise SpaceMismatchError(
        f"{what} does not look like the {claimed!r} vectors this translator was fitted on (covariance similarity "
        f"{sims[claimed]:.2f}; the same model scores >= {THRESHOLD}, another model about 0): {looks}: {fix}. If you are "
        f"sure it is {claimed!r}, skip this check with --no-space-check")


class RecordClassifier:
    """Which recorded space each vector most likely comes from: a Gaussian per space (its recorded mean and covariance of
    unit vectors, ridge-regularised), compared record by record by log-likelihood. On the kit's MiniLM and e5 (fitted on
    Wikipedia side A) it put none of 75,994 records (both models' embeddings of Wikipedia side B, fortunes, Debian
    package summaries, English and German gettext messages and Python docstrings) in the wrong space, the smallest
    margin 4,115 nats (``benchmarks/results/space_watch.md``).

    Two spaces take part only when the Gaussians tell them apart by at least ``SEPARATION`` nats both ways (their
    Kullback-Leibler divergence): never two isotropic spaces, or a model and a near copy."""

    SEPARATION = 30.0  # for Gaussian spaces this far apart a record's log-ratio (sd ~ sqrt(2 KL)) is < 0 ~1 in 20,000
    MARGIN = 30.0  # a record whose log-likelihoods under two spaces differ by less is clearly of neither
    RIDGE = 1e-4  # of the mean eigenvalue, added to the covariance's diagonal
    PLAUSIBLE = 12.0  # largest distance() of a space's record: its own records <= 6.2, paraphrase-MiniLM-L3's 91% above

    def __init__(self, covariances: dict[str, np.ndarray], means: dict[str, np.ndarray]):
        self.gaussians = {}
        for name in set(covariances) & set(means or {}):
            cov = torch.as_tensor(covariances[name], dtype=torch.float64)
            cov = cov + self.RIDGE * cov.trace() / len(cov) * torch.eye(len(cov), dtype=torch.float64)
            self.gaussians[name] = (torch.as_tensor(means[name], dtype=torch.float64), torch.linalg.inv(cov),
                                    torch.linalg.slogdet(cov)[1], cov)

    def separation(self, a: str, b: str) -> float:
        """KL(a || b) of the two spaces' Gaussians, in nats (0 where either is not recorded or the dims differ)."""
        if a not in self.gaussians or b not in self.gaussians or len(self.gaussians[a][0]) != len(self.gaussians[b][0]):
            return 0.0
        (mu_a, _, logdet_a, cov_a), (mu_b, prec_b, logdet_b, _) = self.gaussians[a], self.gaussians[b]
        diff = mu_b - mu_a
        return float(0.5 * ((prec_b * cov_a).sum() + diff @ prec_b @ diff - len(diff) + logdet_b - logdet_a))

    def distance(self, vectors: np.ndarray, name: str) -> np.ndarray:
        """Each (unit-normalised) vector's squared Mahalanobis distance from space ``name``'s mean, per dimension: about
        1-3 for the space's own records, and at most 6.2 across six corpora (``space_watch_third.md``)."""
        mu, prec, _, _ = self.gaussians[name]
        x = torch.as_tensor(np.asarray(vectors), dtype=torch.float64)
        d = x / x.norm(dim=1, keepdim=True).clamp_min(1e-12) - mu
        return (((d @ prec) * d).sum(1) / len(mu)).numpy()

    def log_likelihood(self, vectors: np.ndarray, name: str, distance: np.ndarray | None = None) -> np.ndarray:
        """Each (unit-normalised) vector's log-likelihood under space ``name``'s Gaussian, up to a shared constant
        (``distance``: their :meth:`distance` from it, when already computed)."""
        mu, _, logdet, _ = self.gaussians[name]
        distance = self.distance(vectors, name) if distance is None else distance
        return -0.5 * (len(mu) * distance + float(logdet))

    def plausible(self, vectors: np.ndarray, name: str) -> np.ndarray:
        """Which vectors are near enough to space ``name``'s records to be one (:meth:`distance` <= ``PLAUSIBLE``): a
        related model's records can be more likely one space's than the other's and still far from both."""
        return self.distance(vectors, name) <= self.PLAUSIBLE


class SpaceWatch:
    """Checks a stream of one space's records window by window, as :func:`check_collection_space` checks a
    collection's first records: a migration or a latent query reads every record, so records of another model further
    down a collection, or mixed in among its own, are caught there.

    Where the spaces' means were recorded (translators fitted since session 38), a random ``WATCH_ROWS`` records of each
    window are classified one by one (:class:`RecordClassifier`) and the window is refused
    (:class:`SpaceMismatchError`) when at least ``max(3, 1%)`` of them are more likely another space's (it catches a few
    percent of another model's records mixed in), or when 10% of them lie far from the named space
    (:meth:`RecordClassifier.plausible`: a related model's records). Otherwise (older translators) the window is refused
    when its covariance looks like another space's and not its own: runs of another model's records, not mixes."""

    def __init__(self, covariances: dict[str, np.ndarray], space: str, what: str, fix: str, window: int = CHECK_ROWS,
                 means: dict[str, np.ndarray] | None = None):
        self.covariances, self.space, self.what, self.fix, self.window = covariances, space, what, fix, window
        self.classifier = RecordClassifier(covariances, means or {})
        self.others = [n for n in self.classifier.gaussians if n != space and min(
            self.classifier.separation(space, n), self.classifier.separation(n, space)) >= RecordClassifier.SEPARATION]
        # with no other space of its dimension (MiniLM -> mpnet), only how far records lie from this one's: e5 records
        # in a MiniLM collection had passed unchecked into a migration (session 72)
        self.far_only = not self.others and space in self.classifier.gaussians
        if not self.others and not self.far_only and space in covariances:  # no means recorded: the covariance alone
            self.classifier = None
            self.others = [n for n, c in covariances.items() if n != space and c.shape == covariances[space].shape
                           and covariance_similarity(covariances[space], c) < THRESHOLD]
        self.pending: list[np.ndarray] = []
        self.rows = 0  # records of this space seen before the pending ones
        self.rng = np.random.default_rng(0)

    def add(self, vectors: np.ndarray) -> None:
        if not (self.others or self.far_only) or not len(vectors):
            return
        self.pending.append(vectors)
        if sum(len(v) for v in self.pending) >= self.window:
            self._check(np.concatenate(self.pending))

    def finish(self) -> None:
        """Check the records since the last full window too, when they are enough to judge (a stream's tail)."""
        if (self.others or self.far_only) and sum(len(v) for v in self.pending) >= WATCH_ROWS:
            self._check(np.concatenate(self.pending))
        self.pending = []

    def _check(self, window: np.ndarray) -> None:
        self.pending = []
        where = f"{self.what}: its {self.space!r} records {self.rows:,}-{self.rows + len(window):,}"
        self.rows += len(window)
        # a random few rows: as cheap as reliable, and the order of the records plays no part
        rows = window[self.rng.permutation(len(window))[:WATCH_ROWS]]
        if self.classifier is not None:
            own_distance = self.classifier.distance(rows, self.space)
            own = self.classifier.log_likelihood(rows, self.space, own_distance)
            ratio = {n: own - self.classifier.log_likelihood(rows, n) for n in self.others}
            other = min(ratio, key=lambda n: ratio[n].min()) if ratio else None
            wrong = int((ratio[other] < 0).sum()) if ratio else 0
            far = int((own_distance > RecordClassifier.PLAUSIBLE).sum())
            if wrong < max(3, 0.01 * len(rows)) and far < 0.1 * len(rows):
                return
            if wrong < max(3, 0.01 * len(rows)):
                raise SpaceMismatchError(
                    f"{where}: {far} of {len(rows)} checked lie far from every {self.space!r} vector the translator was "
                    f"fitted on (squared Mahalanobis distance per dimension above {RecordClassifier.PLAUSIBLE:.0f}; its "
                    "own records lie at 1-3): records of another model (a related one, a fine-tune, or any model where "
                    "no other space of the translator has this dimension), or a translator "
                    "whose space statistics came from too few vectors. Fit a translator on this collection's model; if "
                    "you are sure it is this space, skip the check with --no-space-check")
            seen = (f"look like {other!r} vectors" if wrong == len(rows) else
                    f"mix {self.space!r} and {other!r} vectors ({wrong} of {len(rows)} checked are more likely "
                    f"{other!r} vectors)")
            stat = "per-record log-likelihood under each space's recorded mean and covariance"
        else:
            sample = covariance(rows)
            sims = {n: covariance_similarity(sample, self.covariances[n]) for n in [self.space, *self.others]}
            other = max(self.others, key=sims.get)
            if sims[self.space] >= THRESHOLD or sims[other] < THRESHOLD or not judgeable(rows):
                return
            seen = f"look like {other!r} vectors"
            stat = (f"covariance similarity to {other!r} {sims[other]:.2f}, to {self.space!r} {sims[self.space]:.2f}; "
                    f"the same model scores >= {THRESHOLD}, another about 0")
        raise SpaceMismatchError(f"{where} {seen} ({stat}): the collection mixes two models' records. {self.fix}")
