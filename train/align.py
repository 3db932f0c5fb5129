"""Unsupervised linear alignment of two embedding spaces: no pairs, minutes on a CPU.

The method (``method="align"``) combines the restart-and-select recipe of mini-vec2vec (Dar 2025)
with VecMap-style self-learning (Artetxe et al. 2018) and stochastic Wasserstein-Procrustes (Grave et
al. 2019):

1. Normalise each space: L2, subtract the space's mean, L2 again (``unit-center-unit``).
2. Initialise without pairs: for a random sample of each space, the square root of its similarity
   matrix, each row sorted, is a rotation-invariant signature of a point; nearest signatures across
   the spaces give a first (poor) set of pseudo-pairs and a first map by orthogonal Procrustes.
   Restart 0 instead pairs the top principal directions of the two spaces (signs fixed by skewness).
3. Per restart, ``solver="wasserstein"`` (default): on fresh random batches of the two spaces, an
   entropic optimal-transport plan under the current map gives each source vector a soft target, and
   orthogonal Procrustes on those targets the next map (an opt-in early check, ``wp_check_iters``, stops a
   restart whose label-free score stays flat over its first steps; off by default: some restarts converge
   only after 125-150 of their 250 steps). Maps go into a shared
   ``k = min(d_source, d_target)``-dim latent. (``solver="self-learning"``: the earlier VecMap-style
   CSLS nearest-neighbour self-learning with stochastic dictionary induction.) ``solver="cascade"`` runs a
   few self-learning restarts first and keeps their map when the label-free check confirms it, else goes
   on to Wasserstein-Procrustes restarts (the default before session 15). Self-learning lands in the
   better basin more often on MiniLM <-> mpnet, but on the e5 pairs it was almost never confirmed (2 of 15
   seeds), so there the cascade only added 4 failed restarts (~5 minutes on a 2-core CPU). MiniLM <-> mpnet's
   better solution is now reached through a third agreeing Wasserstein restart (step 5); the rival search
   (step 7, opt-in) can still add self-learning restarts.
4. Each restart is refined and scored on a larger sample (``refine_max`` per side): mutual CSLS nearest
   neighbours, Procrustes, a few rounds.
5. Restarts with different samples; the winner is chosen by a label-free criterion, the mean CSLS
   score of mutual nearest neighbours on the training vectors (no held-out pairs are consulted).
   Restarting stops once ``stop_agreeing`` (2) other restarts agree with the best on the map; the agreement
   is the confidence report. (Up to session 18 one was enough; on MiniLM <-> mpnet half the restarts land in a
   second solution, the good map with one direction reflected, and a third converged restart is one more
   finalist that may hold the good one: ``benchmarks/probes/README.md``, "What the second solution is".)
   Without pairs, when none of the ``restarts`` is confirmed, up to ``more_restarts`` (16) more run, stopping at the
   first confirmation (another restart agrees, or the score stands out): off Wikipedia a restart can converge
   rarely (docstring passages, 4,500 per side: about one in ten), and eight can all miss (session 34). Without
   pairs, fewer vectors per side than ``min_per_dim`` (5) per latent dimension are never trusted: transport then
   matches the two samples almost one to one, and restarts "agreed" on a map of top-1 0.002 (500 MiniLM / e5
   vectors per side, 384 dimensions); the same holds with fewer pairs than dimensions (10 pairs: 0.016).
6. The winner is sharpened by transport steps on larger batches (``final_wp_batch`` per side), each
   fitting Procrustes to a running average of the batches' cross-covariances rather than to one batch,
   in *half-whitened* coordinates (``final_whiten``, default 0.5: each space times its covariance^-1/4;
   :class:`_FinalSteps`), de-whitened for translation: the returned map is linear but not orthogonal
   (``LinearMap.source_decode`` / ``target_decode``). The winning finalist gets ``final_extra_iters`` more.
   (Mutual-NN refinement on all vectors can follow, ``final_refine_iters``; off by default: on the kit
   it lowered MiniLM->e5 from 0.890 to 0.877 top-1.)
7. Rival search (``rival_restarts``; off by default since session 21, 2 before): a pair can have two solutions
   that look equally converged at restart level (MiniLM <-> mpnet: top-1 0.985 and 0.967, restart scores alike, and
   the two maps agree on 58% of points, so confirmation counts them as one). After a map is confirmed, a few more
   restarts run with the other solver (``rival_solver``: the restarts of one solver can all fall into the
   second solution on a seed); the best converged one that is not the same map (``rival_distinct``) also
   gets the final steps, and the map with the better label-free score after them wins (on the kit the
   right solution scores higher there, by a small margin). It was the default while restarts stopped once two
   agreed: MiniLM <-> mpnet, 10 seeds, on the H100 9 met the target with it, 8 without
   (``benchmarks/results/gpu/README.md``, third session). Once restarts went on until three agree
   (``stop_agreeing=2``, session 19) it decided nothing on the kit: in 20 MiniLM <-> mpnet fits (sessions 18-19)
   no seed's verdict depended on a self-learning rival (it won three: on one a Wasserstein finalist of the same
   map scored the same, on two every finalist missed the target, at best 0.976 against 0.968), and in 35 e5 fits
   no rival ever converged, while the two self-learning restarts took 96-156 s per fit on a 2-core CPU, plus
   ~40 s of final steps when one converged. Without it all ten MiniLM <-> mpnet seeds kept their verdicts (9 of
   10 meet the target) at 293-644 s per fit instead of 477-721 s, and the ten e5 fits re-run (seeds 0-4 of both
   pairs) kept their verdicts and their top-1 within 0.007 (``benchmarks/results/norival_*.md``, ``s22_*.md``,
   ``s23_*.md``).
8. More finalists (``final_candidates``, default 3): the next best *converged* restarts of the chosen one's
   solver also get the final steps, and the best final label-free score wins. Restarts of one map can end
   apart after the final steps (MiniLM <-> e5 seed 1: 0.850 / 0.899 top-1 from restart scores 0.2500 /
   0.2495). The final scores of such maps differ by ~0.001, so they are computed on all training vectors
   (``final_score_max``), not the 6,000-vector restart sample, whose noise reversed 2 picks of 12 e5 seeds
   (``benchmarks/finalists_summary.py`` on ``benchmarks/results/alignment_final3_*.json``). With little data
   (3,072 per side) the scores of good and failed maps overlap and the pick can be wrong (README).
9. Soup (``final_soup``, default on): the winner's map is replaced by the average (orthogonal polar factor of the
   summed whitened cross maps) of the finalists that agree with it before its ``final_extra_iters`` steps. Finalists
   of one map end apart with partly independent errors: on the kit the average beat the best of them on
   MiniLM <-> e5 (+0.004-0.006 top-1 after the extra steps, ``benchmarks/probes/soup.py``, ``soup2.py``); in the
   benchmark runner it lifted mpnet <-> e5 seed 4 from 0.919 to 0.940 and left four other seeds within 0.002
   (``benchmarks/results/alignment_soup_*.md``). The winner's ``final_score`` stays that of its own map: the
   label-free score ranks a soup below its members (it rewards fitting the training samples), so it does not
   judge the soup.
10. Time budget (``time_budget``, off by default): no restart starts once one more, as long as the mean so far,
   would pass ``restart_share`` (0.6) of the budget; a finalist is skipped when its steps plus the winner's extra
   steps, timed on the first finalist, would pass the budget; the extra steps are cut to what is left. Each cut is
   named in ``AlignResult.budget_cuts`` and the fit's reason. A fit that stops before another restart agrees is
   untrusted, as without a budget.
11. Steps 6, 8 and 9 (final steps, finalists, soup) never change the trust verdict, which the restarts decide. With
   ``final_when_unconfirmed=False`` a fit whose restarts are not confirmed ends after them (``v2v fit`` does this
   when it can fall back to anchor pairs, which replace that map anyway: on Debian package summaries, 222 s instead
   of 417 s for the failed attempt).

Few-shot mode: with ``pairs`` (vectors of the same documents in both spaces) step 2 is replaced by
Procrustes on those pairs, and the pairs join every later Procrustes fit; the cascade then runs
Wasserstein-Procrustes restarts only.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

logger = logging.getLogger(__name__)


@dataclass
class AlignConfig:
    """Hyper-parameters of the unsupervised linear aligner (defaults measured on the kit)."""

    sample_size: int = field(default=2000, metadata={"help": "points per side in the self-learning phase"})
    restarts: int = field(default=8, metadata={"help": "most independent restarts; the best by the label-free score wins"})
    stop_when_confirmed: bool = field(default=True, metadata={"help": "stop restarting once enough restarts agree on the "
                                                                  "map (stop_agreeing)"})
    stop_agreeing: int = field(default=2, metadata={"help": "restarts stop once this many other restarts agree with the "
                                                           "best one (1: as soon as two agree, the default up to "
                                                           "session 18; one more converged restart is one more finalist, "
                                                           "which on MiniLM <-> mpnet can be the better of its two "
                                                           "solutions)"})
    more_restarts: int = field(default=16, metadata={"help": "without pairs: when none of the first ``restarts`` is "
                                                            "confirmed, up to this many more, stopping once one is "
                                                            "(another agrees, or its score stands out); 0: off. Needs "
                                                            "stop_when_confirmed (v2v fit sets 0 when it can fall back "
                                                            "to anchor pairs instead)"})
    min_per_dim: float = field(default=5.0, metadata={"help": "without pairs, or with fewer than the dimensions: a fit "
                                                             "with fewer vectors on the smaller "
                                                             "side than this many per latent dimension is never "
                                                             "trusted; transport then matches the two samples almost "
                                                             "one to one and restarts agree on meaningless maps (500 "
                                                             "MiniLM / e5 vectors per side: 'confirmed' at top-1 "
                                                             "0.002; mutual NN 0.93-1.0 below 4 per dimension, "
                                                             "0.50-0.63 in every fit of benchmarks/results); 0: off"})
    csls_k: int = field(default=10, metadata={"help": "neighbourhood size of CSLS"})
    keep_start: float = field(default=0.1, metadata={"help": "self-learning solver: initial keep probability of stochastic induction"})
    patience: int = field(default=40, metadata={"help": "self-learning solver: stalled iterations before the keep probability doubles"})
    max_iters: int = field(default=600, metadata={"help": "self-learning solver: most iterations per restart"})
    rival_restarts: int = field(default=0, metadata={"help": "after a map is confirmed, this many more restarts look for "
                                                             "a rival solution; the best converged one that is not the "
                                                             "same map also gets the final steps, and the better final "
                                                             "label-free score wins (0: off, the default since session "
                                                             "21: with three agreeing restarts it decided nothing on the "
                                                             "kit and cost ~2 minutes per fit; 2 before)"})
    rival_distinct: float = field(default=0.9, metadata={"help": "a converged restart counts as the same map as the "
                                                                 "chosen one (no rival) when it sends at least this share "
                                                                 "of points to the same target neighbour"})
    rival_solver: str = field(default="other", metadata={"help": "solver of the rival restarts: other (the one that did "
                                                                 "not find the confirmed map), same, wasserstein or "
                                                                 "self-learning"})
    final_candidates: int = field(default=3, metadata={"help": "the chosen restart and the next best converged restarts "
                                                               "of its solver, at most this many in all, each get the "
                                                               "final steps; the best final label-free score wins (1: the "
                                                               "chosen only)"})
    final_score_max: int = field(default=20000, metadata={"help": "vectors per side on which the finalists' label-free "
                                                                  "scores are computed (all of them up to this many)"})
    refine_iters: int = field(default=4, metadata={"help": "rounds of full-data mutual-NN refinement per restart"})
    final_refine_iters: int = field(default=0, metadata={"help": "most rounds of mutual-NN refinement of the winner on all "
                                                                  "vectors after its transport steps (0: none; it lowered "
                                                                  "MiniLM->e5 0.89 -> 0.88 top-1)"})
    final_refine_tol: float = field(default=1e-3, metadata={"help": "stop the final refinement when a round gains less label-free score"})
    final_refine_max: int = field(default=50000, metadata={"help": "vectors per side in the final refinement"})
    agree_threshold: float = field(default=0.3, metadata={"help": "share of source points two restarts send to the same target neighbour for them to count as the same solution"})
    refine_max: int = field(default=6000, metadata={"help": "vectors per side when refining and scoring restarts"})
    init: str = field(default="auto", metadata={"help": "restart initialiser: auto (restart 0 from principal "
                                                        "directions, others signatures), pca, or signature"})
    pca_directions: int = field(default=8, metadata={"help": "principal directions paired by the pca initialiser"})
    solver: str = field(default="wasserstein", metadata={"help": "per-restart solver: wasserstein (entropic OT + "
                                                                     "Procrustes on random batches), self-learning "
                                                                     "(CSLS-NN), or cascade (self-learning restarts, then "
                                                                     "wasserstein ones when those are not confirmed)"})
    cascade_restarts: int = field(default=4, metadata={"help": "cascade: self-learning restarts tried first (at most "
                                                               "``restarts``)"})
    wp_batch: int = field(default=2000, metadata={"help": "vectors per side in each Wasserstein-Procrustes step"})
    wp_iters: int = field(default=250, metadata={"help": "Wasserstein-Procrustes steps per restart"})
    wp_eps: float = field(default=0.05, metadata={"help": "entropic regularisation of the transport plan (cosine units)"})
    wp_check_from: int = field(default=25, metadata={"help": "Wasserstein-Procrustes restarts: step at which the early "
                                                               "check takes its first label-free score"})
    wp_check_iters: int = field(default=0, metadata={"help": "Wasserstein-Procrustes restarts whose label-free score has "
                                                              "not risen by wp_check_rise since step wp_check_from stop "
                                                              "at this step (0: off, the default: on MiniLM <-> e5 it "
                                                              "stopped restarts that converge late; 125 was the default "
                                                              "in session 14; never in few-shot mode)"})
    wp_check_rise: float = field(default=0.15, metadata={"help": "relative rise of the label-free score a restart needs "
                                                                 "at the early check to go on"})
    final_wp_batch: int = field(default=8000, metadata={"help": "vectors per side in the finalists' transport steps"})
    final_wp_iters: int = field(default=20, metadata={"help": "final transport steps of each finalist (0: skip)"})
    final_wp_eps: float = field(default=0.02, metadata={"help": "entropic regularisation of the final transport steps"})
    final_wp_decay: float = field(default=0.8, metadata={"help": "final steps fit Procrustes to a running average of the "
                                                                 "batches' cross-covariances kept with this decay (0: "
                                                                 "each batch alone)"})
    final_whiten: float = field(default=0.5, metadata={"help": "the final transport steps run with each space times its "
                                                               "covariance^(-final_whiten/2); the map is de-whitened "
                                                               "for translation, so it is no longer orthogonal (0: off, "
                                                               "the orthogonal map of earlier versions; 1: full whitening)"})
    final_when_unconfirmed: bool = field(default=True, metadata={"help": "run the final stage (finalists, soup, extra "
                                                                         "steps) after restarts no check confirms; it "
                                                                         "never changes the trust verdict, so a caller "
                                                                         "that will not keep an unconfirmed map (v2v "
                                                                         "fit falling back to anchor pairs) saves ~3 "
                                                                         "minutes on a 2-core CPU with False"})
    final_extra_iters: int = field(default=60, metadata={"help": "more final transport steps for the winning finalist "
                                                                 "only, after the pick (0: none)"})
    final_soup: bool = field(default=True, metadata={"help": "the winning finalist's map is replaced by the average of "
                                                             "the finalists' maps that agree with it (agree_threshold) "
                                                             "before its extra steps: finalists of one map end at "
                                                             "different points and their errors partly cancel"})
    time_budget: float = field(default=0.0, metadata={"help": "seconds for the whole fit (0: no limit). No restart starts "
                                                            "once the restarts would pass restart_share of it (a fit "
                                                            "stopped before another restart agrees is untrusted, as "
                                                            "always); finalists and the winner's extra steps are cut "
                                                            "to what is left, timed on the first finalist's steps. "
                                                            "Nothing is cut mid-way, so a fit can pass it by one "
                                                            "restart or the finalists' scoring"})
    restart_share: float = field(default=0.6, metadata={"help": "with time_budget: the share of it the restarts may use "
                                                              "(on the kit they took 45-55% of a default fit)"})
    pair_weight: float = field(default=1.0, metadata={"help": "few-shot: the weight of each known pair in every "
                                                            "Procrustes fit, against 1 for each transport pseudo-pair "
                                                            "of a step (a batch holds wp_batch, final_wp_batch)"})
    seed: int = 0
    device: str | None = None

    def __post_init__(self) -> None:
        if not self.pair_weight > 0:
            raise ValueError(f"pair_weight={self.pair_weight}: give a positive weight (default 1.0)")
        if self.sample_size < 100:
            raise ValueError(f"sample_size={self.sample_size} is too small: use at least 100 (default 2000)")
        if not 0 < self.keep_start <= 1:
            raise ValueError(f"keep_start={self.keep_start} must be in (0, 1]")
        if self.restarts < 1:
            raise ValueError("restarts must be >= 1")
        if self.min_per_dim < 0:
            raise ValueError(f"min_per_dim={self.min_per_dim} must be >= 0 (default 5; 0: off)")
        if self.more_restarts < 0:
            raise ValueError(f"more_restarts={self.more_restarts} must be >= 0 (default 16; 0: stop after restarts)")
        if self.stop_agreeing < 1:
            raise ValueError(f"stop_agreeing={self.stop_agreeing} must be >= 1 (default 2; stop_when_confirmed=False "
                             "runs every restart)")
        if self.init not in ("auto", "pca", "signature"):
            raise ValueError(f"init={self.init!r}: choose auto, pca or signature")
        if self.solver not in ("wasserstein", "self-learning", "cascade"):
            raise ValueError(f"solver={self.solver!r}: choose wasserstein, self-learning or cascade")
        if not 0 < self.rival_distinct <= 1:
            raise ValueError(f"rival_distinct={self.rival_distinct} must be in (0, 1] (default 0.9)")
        if self.rival_solver not in ("other", "same", "wasserstein", "self-learning"):
            raise ValueError(f"rival_solver={self.rival_solver!r}: choose other, same, wasserstein or self-learning")
        if self.rival_restarts < 0:
            raise ValueError(f"rival_restarts={self.rival_restarts} must be >= 0 (default 0: off; 2 was the default "
                             "before session 21)")
        if self.final_candidates < 1:
            raise ValueError(f"final_candidates={self.final_candidates} must be >= 1 (default 3; 1: the chosen restart only)")
        if self.final_score_max < 100:
            raise ValueError(f"final_score_max={self.final_score_max} is too small: use at least 100 (default 20000)")
        if self.cascade_restarts < 1:
            raise ValueError(f"cascade_restarts={self.cascade_restarts} must be >= 1 (default 4)")
        if self.wp_iters < 1 or self.wp_batch < 2 or self.final_wp_iters < 0 or self.final_wp_batch < 2:
            raise ValueError("wp_iters >= 1, wp_batch >= 2, final_wp_iters >= 0 and final_wp_batch >= 2 "
                             "(defaults 250, 2000, 20, 8000)")
        if self.wp_check_iters and not 0 < self.wp_check_from < self.wp_check_iters:
            raise ValueError(f"wp_check_from={self.wp_check_from} must be in (0, wp_check_iters={self.wp_check_iters}) "
                             "(e.g. 25 and 125; wp_check_iters=0, the default, turns the early check off)")
        if self.wp_check_iters < 0 or self.wp_check_rise < 0:
            raise ValueError("wp_check_iters and wp_check_rise must be >= 0 (defaults 0: off, and 0.15)")
        if not 0 <= self.final_whiten <= 1:
            raise ValueError(f"final_whiten={self.final_whiten} must be in [0, 1] (default 0.5; 0 turns whitening off)")
        if self.final_extra_iters < 0:
            raise ValueError(f"final_extra_iters={self.final_extra_iters} must be >= 0 (default 60)")
        if self.final_whiten and self.final_refine_iters:
            raise ValueError("final_refine_iters works on orthogonal maps only: set final_whiten=0 with it")
        if not 0 <= self.final_wp_decay < 1:
            raise ValueError(f"final_wp_decay={self.final_wp_decay} must be in [0, 1) (default 0.8)")
        if self.wp_eps <= 0 or self.final_wp_eps <= 0:
            raise ValueError("wp_eps and final_wp_eps must be > 0 (try 0.05 and 0.02)")
        if self.time_budget < 0 or not 0 < self.restart_share < 1:
            raise ValueError(f"time_budget={self.time_budget} must be >= 0 (0: no limit) and restart_share="
                             f"{self.restart_share} in (0, 1) (default 0.6)")


@dataclass
class LinearMap:
    """Both spaces into a shared latent: ``z = unit(unit(x) - mean) @ proj``, and back:
    ``unit(unit(z @ decode) + mean)``.

    An orthogonal map (``proj`` with orthonormal columns) decodes with ``proj.T``, its ``decode`` is
    None. A half-whitened map (``AlignConfig.final_whiten``) encodes with ``C^(-a/2) W`` and decodes with
    ``W^T C^(a/2)`` (``C`` the space's covariance, ``W`` orthonormal): a non-orthogonal translation."""

    source_mean: np.ndarray  # (d_s,)
    source_proj: np.ndarray  # (d_s, k)
    target_mean: np.ndarray  # (d_t,)
    target_proj: np.ndarray  # (d_t, k)
    source_decode: np.ndarray | None = None  # (k, d_s); None: source_proj.T
    target_decode: np.ndarray | None = None  # (k, d_t); None: target_proj.T

    @property
    def orthogonal(self) -> bool:
        return self.source_decode is None and self.target_decode is None


@dataclass
class RestartReport:
    restart: int
    score: float  # label-free: mean CSLS of mutual nearest neighbours after refinement
    mutual_fraction: float  # share of source training vectors whose CSLS-NN is mutual
    iterations: int
    seconds: float
    solver: str = "wasserstein"
    final_score: float | None = None  # label-free score after the final steps (finalists only, when there are several)


@dataclass
class Confidence:
    """Whether the label-free evidence supports the chosen map.

    Failed restarts land in different poor optima; the true alignment is unique. So the winner is
    *confirmed* when another restart found the same map (it sends source points to the same target
    neighbours), or when its score stands out from the other restarts' by more than ``margin``
    robust deviations."""

    trusted: bool
    agreeing_restarts: int
    score_margin: float  # (best - median of others) / MAD of others
    reason: str


@dataclass
class AlignResult:
    mapping: LinearMap
    restarts: list[RestartReport]
    chosen: int
    config: AlignConfig
    candidates: list[LinearMap] = field(default_factory=list)  # one per restart, for diagnostics
    confidence: Confidence | None = None
    device: str = "cpu"  # where the fit ran
    soup: list[int] = field(default_factory=list)  # finalists whose maps were averaged into the chosen one (final_soup)
    phase_seconds: dict[str, float] = field(default_factory=dict)  # wall time of each phase of the fit, in order
    budget_cuts: list[str] = field(default_factory=list)  # what AlignConfig.time_budget cut, in words

    @property
    def score(self) -> float:
        return self.restarts[self.chosen].score

    def report(self) -> dict:
        return {"chosen": self.chosen, "score": self.score, "device": self.device, "soup": self.soup,
                "phase_seconds": self.phase_seconds, "budget_cuts": self.budget_cuts,
                "restarts": [asdict(r) for r in self.restarts],
                "confidence": asdict(self.confidence) if self.confidence else None, "config": asdict(self.config)}


def unit(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


def center_unit(x: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """The normalisation every map in this module works in: unit, minus mean, unit."""
    return unit(unit(x) - mean)


def linear_encode(x: torch.Tensor, mean: torch.Tensor, proj: torch.Tensor) -> torch.Tensor:
    """A space into the shared latent under a :class:`LinearMap`: ``unit(unit(x) - mean) @ proj``."""
    return center_unit(x, mean) @ proj


def linear_decode(z: torch.Tensor, mean: torch.Tensor, decode: torch.Tensor) -> torch.Tensor:
    """Back from the latent into a space: ``unit(unit(z @ decode) + mean)``, ``decode`` (k, d); for an
    orthogonal map ``decode = proj^T``, the inverse of :func:`linear_encode` up to the directions the latent
    drops."""
    return unit(unit(z @ decode) + mean)


def power_whitener(x: torch.Tensor, power: float, floor: float = 1e-3) -> tuple[torch.Tensor, torch.Tensor]:
    """``(C^(-power/2), C^(power/2))`` of the rows' second-moment matrix ``C = x^T x / n``, eigenvalues
    clamped below at ``floor`` of the largest (real embeddings are rank-deficient)."""
    lam, u = torch.linalg.eigh((x.T @ x).double() / len(x))
    lam = lam.clamp_min(floor * lam.max())
    return (((u * lam.pow(-power / 2)) @ u.T).to(x.dtype), ((u * lam.pow(power / 2)) @ u.T).to(x.dtype))


def procrustes(xs: torch.Tensor, ys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Orthogonal maps (d_s, k), (d_t, k) maximising trace((xs Wx)^T (ys Wy)) for paired rows."""
    return procrustes_from_cross(xs.T @ ys)


def procrustes_from_cross(cross: torch.Tensor, min_ratio: float = 1e-12) -> tuple[torch.Tensor, torch.Tensor]:
    """The same maps from the cross-covariance ``xs^T ys`` (d_s, d_t) alone: singular vectors of
    ``cross``, (d_s, k) and (d_t, k), whose product ``U V^T`` is the orthogonal Procrustes solution.

    Computed from the eigendecomposition of the smaller Gram matrix in float64 (``C C^T = U S^2 U^T``,
    ``V = C^T U S^-1``): on an H100 3-4x faster than ``torch.linalg.svd`` of the float32 matrix and closer to
    the float64 SVD (384 x 768: 3.8 vs 13.4 ms, error 1e-12 vs 1e-5; on the 2-core CPU 13 vs 27 ms;
    ``benchmarks/probes/polar_gpu.py``); the solvers call this hundreds of times per restart. Directions
    where ``cross`` is (numerically) zero, eigenvalue below ``min_ratio`` of the largest (real embeddings
    are often rank-deficient: the kit's centred MiniLM vectors have 3 of 384 singular values below 1e-7 of the
    largest), carry no information; as in
    the SVD any orthonormal completion is a solution, and they get a deterministic one."""
    transpose = cross.shape[0] > cross.shape[1]
    c = (cross.T if transpose else cross).double()  # (k, d), k <= d
    lam, u = torch.linalg.eigh(c @ c.T)
    lam, u = lam.flip(0), u.flip(1)  # descending, like the SVD
    good = int((lam > min_ratio * lam[0]).sum().item())
    v = c.T @ (u[:, :good] * lam[:good].rsqrt())  # (d, good), orthonormal
    if good < len(lam):
        v = _orthonormal_completion(v, len(lam) - good)
    u, v = u.to(cross.dtype), v.to(cross.dtype)
    return (v, u) if transpose else (u, v)


def _orthonormal_completion(v: torch.Tensor, extra: int) -> torch.Tensor:
    """``v`` (d, m) with orthonormal columns, plus ``extra`` columns orthonormal to them and each other:
    Gram-Schmidt (twice) on the standard basis vectors least covered by ``v``."""
    basis = v
    for j in (basis ** 2).sum(1).argsort().tolist():
        if basis.shape[1] == v.shape[1] + extra:
            break
        e = -basis @ basis[j]
        e[j] += 1.0
        e = e - basis @ (basis.T @ e)
        norm = e.norm()
        if norm > 1e-3:
            basis = torch.cat([basis, (e / norm)[:, None]], dim=1)
    return basis


def csls(sim: torch.Tensor, k: int) -> torch.Tensor:
    """Cross-domain similarity local scaling (Conneau et al. 2018): 2 cos - r_src - r_trg."""
    k = min(k, sim.shape[0], sim.shape[1])
    r_src = sim.topk(k, dim=1).values.mean(1)
    r_trg = sim.topk(k, dim=0).values.mean(0)
    return 2 * sim - r_src[:, None] - r_trg[None, :]


def sorted_similarity_signature(x: torch.Tensor) -> torch.Tensor:
    """Rows of sqrt(x x^T), each sorted, centred and normalised: invariant to rotations of x."""
    u, s, _ = torch.linalg.svd(x, full_matrices=False)
    root = (u * s) @ u.T  # (n, n)
    root = root.sort(dim=1).values
    return unit(root - root.mean(1, keepdim=True))


def pca_skew_init(xs: torch.Tensor, ys: torch.Tensor, m: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-``m`` principal directions of each space, signs fixed so every projection has positive
    skewness: a pairing of directions that holds when the two spectra line up (it often does not
    for real models, so this is one restart among several, judged by the same label-free score)."""
    def directions(a: torch.Tensor) -> torch.Tensor:
        a = a - a.mean(0)
        _, _, vh = torch.linalg.svd(a, full_matrices=False)
        v = vh[:m].T  # (d, m)
        skew = ((a @ v) ** 3).mean(0)
        return v * torch.where(skew < 0, -1.0, 1.0)

    return directions(xs), directions(ys)


def induce(scores: torch.Tensor, keep: float, gen: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Pseudo-pairs from best matches in both directions; each candidate survives with prob ``keep``."""
    if keep < 1.0:
        mask = torch.rand(scores.shape, generator=gen, device=scores.device) < keep
        scores = scores.masked_fill(~mask, -math.inf)
    n, m = scores.shape
    fwd, bwd = scores.argmax(1), scores.argmax(0)
    src = torch.cat([torch.arange(n, device=scores.device), bwd])
    trg = torch.cat([fwd, torch.arange(m, device=scores.device)])
    return src, trg


_BLOCK_ENTRIES = 6_000_000  # similarity entries per block in mutual_pairs


def _block_rows(n_cols: int, chunk: int | None) -> int:
    """Rows per similarity block: ``chunk`` when given, else about ``_BLOCK_ENTRIES`` entries."""
    return chunk or max(256, _BLOCK_ENTRIES // max(1, n_cols))


def mutual_pairs(xl: torch.Tensor, yl: torch.Tensor, k: int, chunk: int | None = None):
    """Mutual CSLS nearest neighbours between two latent sets, computed in blocks of ``chunk`` rows.

    The default block keeps each similarity block near 6M entries (24 MB): larger ones can be fresh page-faulted
    allocations on every block (2-core CPU, 13,805 x 13,805 alone: 8.3 s in 4,096-row blocks, 6.4 s in 512-row
    ones; inside a whole fit the finalists' scoring took ~7 s each either way, ``benchmarks/probes/speed.py``).
    Returns (source rows, target rows, their CSLS scores)."""
    def knn_mean(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        step = _block_rows(len(b), chunk)
        return torch.cat([(a[s:s + step] @ b.T).topk(k, dim=1).values.mean(1) for s in range(0, len(a), step)])

    r_x, r_y = knn_mean(xl, yl), knn_mean(yl, xl)

    def best(a, b, r_a, r_b):
        # argmax_j of 2 a_i.b_j - r_a[i] - r_b[j] does not depend on r_a[i]: one fused multiply-add per chunk
        # (the three passes of `2 * sim - r_a - r_b` over each chunk cost as much as its product)
        idx, val = [], []
        step = _block_rows(len(b), chunk)
        for s in range(0, len(a), step):
            v, i = torch.addmm(r_b[None, :], a[s:s + step], b.T, beta=-1, alpha=2).max(dim=1)
            idx.append(i)
            val.append(v)
        return torch.cat(idx), torch.cat(val) - r_a

    fwd, fwd_score = best(xl, yl, r_x, r_y)
    bwd, _ = best(yl, xl, r_y, r_x)
    rows = torch.nonzero(bwd[fwd] == torch.arange(len(xl), device=xl.device)).squeeze(1)
    return rows, fwd[rows], fwd_score[rows]


def _self_learn(xs: torch.Tensor, ys: torch.Tensor, cfg: AlignConfig, gen: torch.Generator,
                pairs: tuple[torch.Tensor, torch.Tensor] | None, init: tuple[torch.Tensor, torch.Tensor] | None = None,
                keep_start: float | None = None) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Stochastic self-learning on a sample; returns (Wx, Wy, iterations).

    Starts from ``init`` maps when given, else from ``pairs`` (few-shot), else from signatures."""
    if init is not None:
        scores = csls((xs @ init[0]) @ (ys @ init[1]).T, cfg.csls_k)
    elif pairs is not None:
        wx, wy = procrustes(*pairs)
        scores = csls((xs @ wx) @ (ys @ wy).T, cfg.csls_k)
    else:
        scores = csls(sorted_similarity_signature(xs) @ sorted_similarity_signature(ys).T, cfg.csls_k)
    src, trg = induce(scores, 1.0, gen)
    keep, best, stall, it = keep_start or cfg.keep_start, -math.inf, 0, 0
    for it in range(1, cfg.max_iters + 1):
        a, b = xs[src], ys[trg]
        if pairs is not None:
            a, b = torch.cat([a, pairs[0]]), torch.cat([b, pairs[1]])
        wx, wy = procrustes(a, b)
        scores = csls((xs @ wx) @ (ys @ wy).T, cfg.csls_k)
        objective = scores.max(dim=1).values.mean().item()
        src, trg = induce(scores, keep, gen)
        if objective > best + 1e-4:
            best, stall = objective, 0
        else:
            stall += 1
            if stall >= cfg.patience:
                if keep >= 1.0:
                    break
                keep, stall = min(1.0, 2 * keep), 0
    return wx, wy, it


_UNDERFLOW = math.log(1e-30)  # a kernel entry below exp of this counts as lost


def _sinkhorn_scaling(sim: torch.Tensor, eps: float, iters: int):
    """Entropic optimal transport between two equal-weight point sets: ``(kernel, (u, v))`` with plan
    ``u[:, None] * kernel * v[None, :]`` (rows and columns each summing to 1 / n); or ``(logits, None)``
    when a column of the kernel would underflow (no usable entry, very small ``eps``), for the log-domain
    iteration (``_sinkhorn_plan_log(logits, 1.0, ...)``).

    Overwrites ``sim`` (each row shifted by its maximum, which the row scaling absorbs, then divided by
    ``eps`` and exponentiated): a plan between two 8,000-vector batches is 256 MB, and each extra pass over
    it costs a 2-core CPU 0.3-0.5 s (a column ``max`` with indices alone took 0.58 s, ``amax`` 0.03 s)."""
    n, m = sim.shape
    logits = sim.sub_(sim.amax(dim=1, keepdim=True)).div_(eps)
    if bool((logits.amax(dim=0) < _UNDERFLOW).any()):
        return logits, None
    kernel = logits.exp_()
    v = torch.ones(m, device=sim.device, dtype=sim.dtype)
    for _ in range(iters):
        u = (1.0 / n) / (kernel @ v)
        v = (1.0 / m) / (kernel.T @ u)
    return kernel, (u, v)


def sinkhorn_plan(sim: torch.Tensor, eps: float, iters: int = 30) -> torch.Tensor:
    """Entropic optimal transport plan between two equal-weight point sets, from their similarities
    (rows and columns each sum to 1 / n). ``sim`` is left unchanged.

    Scales the kernel matrix with matrix-vector products: ~20x faster on a CPU than the log-domain
    iteration, which remains the fallback when the kernel underflows."""
    kernel, scaling = _sinkhorn_scaling(sim.clone(), eps, iters)
    if scaling is None:
        return _sinkhorn_plan_log(kernel, 1.0, iters)
    u, v = scaling
    return kernel.mul_(u[:, None]).mul_(v[None, :])


def sinkhorn_barycentres(sim: torch.Tensor, targets: torch.Tensor, eps: float, iters: int = 30) -> torch.Tensor:
    """Each source point's soft target under the entropic plan of ``sim`` (n, m): ``n * plan @ targets``.

    Overwrites ``sim`` and never forms the plan (``n u * (kernel @ (v * targets))``): on the 2-core CPU a
    final transport step on 8,000 + 8,000 vectors took 1.9-2.8 s with the plan formed and a separate underflow
    check, ~1.0 s this way (``benchmarks/probes/transport_speed.py``). The transport steps now take the
    cross-covariance straight from :func:`sinkhorn_cross`; this stays for callers that want the targets."""
    kernel, u, v = _sinkhorn_factors(sim, eps, iters)
    return (sim.shape[0] * u)[:, None] * (kernel @ (v[:, None] * targets))


def _sinkhorn_factors(sim: torch.Tensor, eps: float, iters: int):
    """``(kernel, u, v)`` with plan ``u[:, None] * kernel * v[None, :]``; on the log-domain fallback the kernel is
    the plan itself and ``u``, ``v`` are ones. Overwrites ``sim``."""
    kernel, scaling = _sinkhorn_scaling(sim, eps, iters)
    if scaling is None:
        plan = _sinkhorn_plan_log(kernel, 1.0, iters)
        return plan, plan.new_ones(plan.shape[0]), plan.new_ones(plan.shape[1])
    return (kernel, *scaling)


def sinkhorn_cross(sim: torch.Tensor, sources: torch.Tensor, targets: torch.Tensor, eps: float,
                   iters: int = 30) -> torch.Tensor:
    """``sources^T @ sinkhorn_barycentres(sim, targets)``, the cross-covariance a transport step fits
    Procrustes to, multiplied in the cheaper order: the (n, m) kernel meets the narrower of the two
    spaces (``(n u * sources)^T @ kernel @ (v * targets)`` when sources are narrower). On the kit
    (384 <-> 768 dims) that is ~40% fewer multiply-adds in this product (not in the whole step: the similarity
    product and the Sinkhorn iterations are unchanged). Overwrites ``sim``."""
    kernel, u, v = _sinkhorn_factors(sim, eps, iters)
    left, right = (sim.shape[0] * u)[:, None] * sources, v[:, None] * targets
    if sources.shape[1] <= targets.shape[1]:
        return (kernel.T @ left).T @ right  # on a CPU ~25% faster than (left.T @ kernel) @ right
    return left.T @ (kernel @ right)


def _sinkhorn_plan_log(sim: torch.Tensor, eps: float, iters: int) -> torch.Tensor:
    """Log-domain Sinkhorn: slower, never underflows."""
    log_k = sim / eps
    u = torch.zeros(sim.shape[0], device=sim.device)
    v = torch.zeros(sim.shape[1], device=sim.device)
    log_a, log_b = -math.log(sim.shape[0]), -math.log(sim.shape[1])
    for _ in range(iters):
        u = log_a - torch.logsumexp(log_k + v[None, :], dim=1)
        v = log_b - torch.logsumexp(log_k + u[:, None], dim=0)
    return torch.exp(log_k + u[:, None] + v[None, :])


def _wasserstein_procrustes(x: torch.Tensor, y: torch.Tensor, wx: torch.Tensor, wy: torch.Tensor, iters: int,
                            batch: int, eps: float, rng: np.random.Generator,
                            pairs: tuple[torch.Tensor, torch.Tensor] | None = None, decay: float = 0.0):
    """Stochastic Wasserstein-Procrustes (Grave et al. 2019): on fresh random batches of both spaces,
    an entropic transport plan under the current map gives each source vector a soft target (its
    barycentre), and orthogonal Procrustes on those targets gives the next map.

    On the kit this found the MiniLM <-> e5 map from signature starts where CSLS self-learning never
    did. Likely reasons (not isolated by experiment): the one-to-one plan cannot pile pseudo-pairs onto
    hub vectors as nearest neighbours do, and fresh batches keep it from fitting one sample's noise.

    With ``decay`` > 0 the map is fitted to a running average of the batches' cross-covariances
    instead of the last batch's alone, so it stops following each batch's sampling noise.

    Rows need not be unit vectors (whitened coordinates): the plan compares their directions, the
    cross-covariance uses them as they are."""
    device = x.device
    running, sim = None, None
    for _ in range(iters):
        bx = x[torch.as_tensor(rng.choice(len(x), min(batch, len(x)), replace=False), device=device)]
        by = y[torch.as_tensor(rng.choice(len(y), min(batch, len(y)), replace=False), device=device)]
        # one similarity buffer for all steps: on a CPU a fresh (n, m) matrix can be page-faulted in on every
        # allocation (8,000 x 8,000 on the 2-core CPU, alone: 0.67 s for the product into a new matrix, 0.35 s
        # into this; benchmarks/probes/speed.py times the steps before and after)
        sim = torch.matmul(unit(bx) @ wx, (unit(by) @ wy).T, out=sim)
        cross = sinkhorn_cross(sim, bx, by, eps)
        if pairs is not None:
            cross = cross + pairs[0].T @ pairs[1]
        running = cross if running is None or not decay else decay * running + (1 - decay) * cross
        wx, wy = procrustes_from_cross(running)
    return wx, wy


def _wasserstein_restart(x: torch.Tensor, y: torch.Tensor, xr: torch.Tensor, yr: torch.Tensor, wmap, cfg: AlignConfig,
                         rng: np.random.Generator, pairs: tuple[torch.Tensor, torch.Tensor] | None):
    """One Wasserstein-Procrustes restart of ``cfg.wp_iters`` steps from ``wmap``; returns (Wx, Wy, steps run).

    Early check (unpaired only): a restart whose label-free score on the restart sample (``xr``, ``yr``) has not
    risen by ``cfg.wp_check_rise`` between steps ``wp_check_from`` and ``wp_check_iters`` stops there. On the kit
    (``benchmarks/probes/early.py``, 10 restarts on mpnet <-> e5 and MiniLM <-> mpnet) failed restarts stayed flat (+1-6% from step 25 to
    125) while every converging one had climbed +44-77% by step 125 (one started only after step 75); a restart
    that converged within its first 25 steps (a principal-direction start on MiniLM <-> mpnet) is flat too and
    stops with nothing lost. A failed restart then costs half its steps (on the kit 30-45% of its time: the
    scores and the restart's refinement remain). The chunks draw the same batches as one
    uninterrupted run.

    Off by default since: on MiniLM <-> e5 (seed 1, 8 restarts traced) two of the five restarts that converged
    by step 250 started climbing late (+7% and +14.5% at step 125, converged by 150-250) and the check would have
    stopped both, while the three failed ones rose +1-5%; in the benchmark runner the check left one converged
    restart of 8 on that seed (and on mpnet <-> e5 seed 2)."""
    def steps(wmap, n):
        return _wasserstein_procrustes(x, y, *wmap, n, cfg.wp_batch, cfg.wp_eps, rng, pairs)

    check = cfg.wp_check_iters
    if pairs is not None or not check or check >= cfg.wp_iters:
        return (*steps(wmap, cfg.wp_iters), cfg.wp_iters)
    wmap = steps(wmap, cfg.wp_check_from)
    first = _label_free_score(xr, yr, wmap, cfg.csls_k)
    wmap = steps(wmap, check - cfg.wp_check_from)
    now = _label_free_score(xr, yr, wmap, cfg.csls_k)
    if now - first < cfg.wp_check_rise * abs(first):
        logger.info("restart flat at the early check (label-free score %.4f at step %d, %.4f at step %d): stopping",
                    first, cfg.wp_check_from, now, check)
        return (*wmap, check)
    return (*steps(wmap, cfg.wp_iters - check), cfg.wp_iters)


def _label_free_score(x: torch.Tensor, y: torch.Tensor, wmap, k: int) -> float:
    """Mean CSLS score of the mutual nearest neighbours of ``x`` and ``y`` under ``(Wx, Wy)`` (-inf: none)."""
    _, _, score = mutual_pairs(x @ wmap[0], y @ wmap[1], k)
    return score.mean().item() if len(score) else -math.inf


def _first_map(xs: torch.Tensor, ys: torch.Tensor, cfg: AlignConfig,
               pairs: tuple[torch.Tensor, torch.Tensor] | None) -> tuple[torch.Tensor, torch.Tensor]:
    """A first map without a principal-direction start: Procrustes on the few-shot pairs when given,
    else on the best matches of rotation-invariant signatures, in both directions."""
    if pairs is not None:
        return procrustes(*pairs)
    scores = csls(sorted_similarity_signature(xs) @ sorted_similarity_signature(ys).T, cfg.csls_k)
    src, trg = induce(scores, 1.0, None)
    return procrustes(xs[src], ys[trg])


def _refine(x: torch.Tensor, y: torch.Tensor, wx: torch.Tensor, wy: torch.Tensor, rounds: int, k: int,
            pairs: tuple[torch.Tensor, torch.Tensor] | None, tol: float | None = None):
    """Rounds of mutual-CSLS-NN Procrustes on (x, y); returns (Wx, Wy, score, mutual fraction).

    With ``tol``, stops early once a round raises the label-free score by less than ``tol``."""
    rows, cols, score = mutual_pairs(x @ wx, y @ wy, k)
    for _ in range(rounds):
        a, b = x[rows], y[cols]
        if pairs is not None:
            a, b = torch.cat([a, pairs[0]]), torch.cat([b, pairs[1]])
        wx, wy = procrustes(a, b)
        before = score.mean().item() if len(score) else -math.inf
        rows, cols, score = mutual_pairs(x @ wx, y @ wy, k)
        if tol is not None and len(score) and score.mean().item() < before + tol:
            break
    return wx, wy, (score.mean().item() if len(score) else -math.inf), len(rows) / len(x)


def _restarts(x: torch.Tensor, y: torch.Tensor, xr: torch.Tensor, yr: torch.Tensor, cfg: AlignConfig, solver: str,
              n_restarts: int, gen: torch.Generator, np_rng: np.random.Generator,
              p: tuple[torch.Tensor, torch.Tensor] | None, first: int = 0, rival_search: bool = False,
              deadline: float | None = None, cuts: list[str] | None = None,
              earlier: tuple[list[RestartReport], list] | None = None):
    """Independent restarts of one solver, each refined and scored on (xr, yr); stops early once
    ``cfg.stop_agreeing`` others agree with the best (when the config allows), or when one more restart, as long as
    the mean so far, would end after ``deadline`` (``time.perf_counter()`` seconds; noted in ``cuts``). With ``rival_search``
    (restarts after a map is already confirmed) it runs all ``n_restarts`` and the ``auto`` initialiser
    uses signatures only. ``earlier``: (reports, maps) of restarts already run and not confirmed; these restarts
    continue them (numbered after them, signatures only, judged with them) and stop at the first confirmation of
    any kind. Returns (reports, maps, index of the best, its confidence), ``earlier``'s included; reports are
    numbered from ``first``."""
    reports, maps = (list(earlier[0]), list(earlier[1])) if earlier else ([], [])
    cuts = [] if cuts is None else cuts
    for r in range(n_restarts):
        t0 = time.perf_counter()
        if deadline is not None and reports and t0 + sum(rep.seconds for rep in reports) / len(reports) > deadline:
            cuts.append(f"time budget: {solver} restarts stopped after {r} of {n_restarts}"
                        + (" more" if earlier else ""))
            logger.info("%s", cuts[-1])
            break
        n = min(cfg.sample_size, len(x), len(y))
        xs = x[torch.as_tensor(np_rng.choice(len(x), n, replace=False), device=x.device)]
        ys = y[torch.as_tensor(np_rng.choice(len(y), n, replace=False), device=x.device)]
        # "auto": restart 0 tries the principal-direction initialiser, the others rotation-invariant signatures
        use_pca = cfg.init == "pca" or (cfg.init == "auto" and r == 0 and n_restarts > 1 and not rival_search
                                        and not earlier)
        init = pca_skew_init(xs, ys, cfg.pca_directions) if use_pca and p is None else None
        if solver == "self-learning":
            wx, wy, iters = _self_learn(xs, ys, cfg, gen, p, init=init)
        else:
            wx, wy = init if init is not None else _first_map(xs, ys, cfg, p)
            wx, wy, iters = _wasserstein_restart(x, y, xr, yr, (wx, wy), cfg, np_rng, p)
        wx, wy, score, mutual = _refine(xr, yr, wx, wy, cfg.refine_iters, cfg.csls_k, p)
        reports.append(RestartReport(first + r, score, mutual, iters, time.perf_counter() - t0, solver))
        maps.append((wx, wy))
        logger.info("restart %d (%s): label-free score %.4f, mutual NN %.1f%%, %d iterations, %.1f s",
                    first + r, solver, score, 100 * mutual, iters, reports[-1].seconds)
        chosen = max(range(len(reports)), key=lambda i: reports[i].score)
        confidence = _confidence(xr, yr, maps, reports, chosen, cfg)
        if not rival_search and cfg.stop_when_confirmed and confidence.agreeing_restarts >= cfg.stop_agreeing:
            logger.info("%d other restart(s) agree with restart %d: stopping after %d of %d %s restarts",
                        confidence.agreeing_restarts, first + chosen, r + 1, n_restarts, solver)
            break
        if earlier and confidence.trusted:
            logger.info("restart %d confirmed (%s) after %d more restart(s)", reports[chosen].restart,
                        confidence.reason, r + 1)
            break
    return reports, maps, chosen, confidence


def fit_linear(source: np.ndarray, target: np.ndarray, cfg: AlignConfig | None = None,
               pairs: tuple[np.ndarray, np.ndarray] | None = None) -> AlignResult:
    """Learn a :class:`LinearMap` between unpaired ``source`` (n, d_s) and ``target`` (m, d_t) vectors.

    ``pairs``: optional (source_vectors, target_vectors) of the same documents (few-shot mode).
    """
    cfg = cfg or AlignConfig()
    phases: dict[str, float] = {}
    last = start = time.perf_counter()
    deadline = start + cfg.time_budget if cfg.time_budget else None
    restarts_until = start + cfg.restart_share * cfg.time_budget if cfg.time_budget else None
    cuts: list[str] = []

    def lap(name: str) -> None:
        """Adds the time since the previous lap to phase ``name``."""
        nonlocal last
        now = time.perf_counter()
        phases[name] = phases.get(name, 0.0) + now - last
        last = now

    device = torch.device(cfg.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    np_rng = np.random.default_rng(cfg.seed)
    x_raw = torch.as_tensor(np.asarray(source, dtype=np.float32), device=device)
    y_raw = torch.as_tensor(np.asarray(target, dtype=np.float32), device=device)
    mean_x, mean_y = unit(x_raw).mean(0), unit(y_raw).mean(0)
    x, y = center_unit(x_raw, mean_x), center_unit(y_raw, mean_y)
    p = None
    if pairs is not None and len(pairs[0]):
        p = (center_unit(torch.as_tensor(np.asarray(pairs[0], np.float32), device=device), mean_x),
             center_unit(torch.as_tensor(np.asarray(pairs[1], np.float32), device=device), mean_y))
        if cfg.pair_weight != 1.0:  # every use of the pairs is a sum of their products: scale both sides by sqrt
            p = (p[0] * cfg.pair_weight ** 0.5, p[1] * cfg.pair_weight ** 0.5)
    xr = x[torch.as_tensor(np_rng.choice(len(x), min(len(x), cfg.refine_max), replace=False), device=device)]
    yr = y[torch.as_tensor(np_rng.choice(len(y), min(len(y), cfg.refine_max), replace=False), device=device)]
    solver = cfg.solver
    lap("setup")
    if solver == "cascade" and p is not None:
        # Few-shot: every self-learning restart starts from the same Procrustes map of the pairs, so they
        # would always "agree"; and Wasserstein-Procrustes is the better few-shot solver (kit, MiniLM -> e5,
        # 10 / 500 pairs: 0.896 / 0.941 top-1 against 0.804 / 0.904 with self-learning).
        solver = "wasserstein"
    if solver == "cascade":
        # Self-learning restarts first: where they confirm a map (MiniLM <-> mpnet on the kit) it is the
        # better basin; where they do not (the e5 pairs), Wasserstein-Procrustes restarts take over.
        reports, maps, chosen, confidence = _restarts(x, y, xr, yr, cfg, "self-learning",
                                                      min(cfg.cascade_restarts, cfg.restarts), gen, np_rng, p,
                                                      deadline=restarts_until, cuts=cuts)
        if not confidence.trusted:
            logger.info("self-learning restarts not confirmed (%s): Wasserstein-Procrustes restarts", confidence.reason)
            more, more_maps, chosen, confidence = _restarts(x, y, xr, yr, cfg, "wasserstein", cfg.restarts, gen,
                                                            np_rng, p, first=len(reports), deadline=restarts_until,
                                                            cuts=cuts)
            chosen += len(reports)
            reports, maps = reports + more, maps + more_maps
    else:
        reports, maps, chosen, confidence = _restarts(x, y, xr, yr, cfg, solver, cfg.restarts, gen, np_rng, p,
                                                      deadline=restarts_until, cuts=cuts)
    dims, smaller = min(x.shape[1], y.shape[1]), min(len(x), len(y))
    # fewer pairs than dimensions do not fix the map either (500 per side with 10 / 50 true pairs: agreeing restarts,
    # top-1 0.016 / 0.144)
    too_few = (p is None or len(p[0]) < dims) and smaller < cfg.min_per_dim * dims
    if (p is None and cfg.more_restarts and cfg.stop_when_confirmed and not confidence.trusted and not too_few
            and not cuts):  # cuts: the time budget already stopped the restarts
        # off Wikipedia a restart can converge rarely (docstring passages, 4,500 per side: seed 2 confirmed a map
        # at 0.845 top-1 with 24 restarts, none of its first 8 converged): search on rather than refuse
        logger.info("none of %d restarts confirmed (%s): up to %d more", len(reports), confidence.reason,
                    cfg.more_restarts)
        last_solver = reports[-1].solver
        reports, maps, chosen, confidence = _restarts(x, y, xr, yr, cfg, last_solver, cfg.more_restarts, gen, np_rng, p,
                                                      first=len(reports), deadline=restarts_until, cuts=cuts,
                                                      earlier=(reports, maps))
    if too_few:
        confidence = Confidence(False, confidence.agreeing_restarts, confidence.score_margin, (
            f"only {smaller} vectors on the smaller side for a {dims}-dimensional latent, fewer than "
            f"{cfg.min_per_dim:g} per dimension: transport matches samples this small almost one to one, so restarts "
            f"can agree on a meaningless map; give at least {math.ceil(cfg.min_per_dim * dims)} vectors per side, "
            f"or at least {dims} pairs"))
        logger.warning("%s", confidence.reason)
    lap("restarts")
    rivals: list[int] = []
    if cfg.rival_restarts and p is None and confidence.trusted and (restarts_until is None or
                                                                    time.perf_counter() < restarts_until):
        # MiniLM <-> mpnet on the kit has two solutions that both look converged at restart level (top-1
        # 0.985 and 0.967, restart scores 0.252-0.259 for both); after the final steps the better one scores
        # higher on every label-free criterion tried (benchmarks/probes/basins.py). So look for a rival.
        rival_solver = {"same": reports[chosen].solver,
                        "other": "wasserstein" if reports[chosen].solver == "self-learning" else "self-learning",
                        }.get(cfg.rival_solver, cfg.rival_solver)
        first_rival = len(reports)
        more, more_maps, _, _ = _restarts(x, y, xr, yr, cfg, rival_solver, cfg.rival_restarts, gen, np_rng, p,
                                          first=first_rival, rival_search=True, deadline=restarts_until, cuts=cuts)
        reports, maps = reports + more, maps + more_maps
        rivals = _rivals(xr, yr, maps, reports, chosen, cfg, candidates=range(first_rival, len(maps)))
        lap("rivals")
    finalists = _finalists(reports, chosen, rivals, cfg.final_candidates)
    final_stage = confidence.trusted or cfg.final_when_unconfirmed
    if not final_stage:
        logger.info("restarts not confirmed (%s): no final stage (final_when_unconfirmed=False)", confidence.reason)
        finalists = []
    final = _FinalSteps(x, y, cfg, np_rng, p)
    step_seconds = 0.0  # one final transport step, timed on the first finalist (for the time budget)
    for k, i in enumerate(finalists):
        t0 = time.perf_counter()
        if deadline is not None and k and t0 + (cfg.final_wp_iters + cfg.final_extra_iters) * step_seconds > deadline:
            cuts.append(f"time budget: final steps for {k} of {len(finalists)} finalists")
            logger.info("%s", cuts[-1])
            finalists = finalists[:k]
            break
        maps[i] = final.run(maps[i], cfg.final_wp_iters)
        step_seconds = step_seconds or (time.perf_counter() - t0) / max(cfg.final_wp_iters, 1)
    if cfg.final_wp_iters and finalists:
        lap("final_steps")
        logger.info("final transport steps of restart(s) %s: %d steps of %d vectors per side%s (%.1f s)", finalists,
                    cfg.final_wp_iters, min(len(x), len(y), cfg.final_wp_batch),
                    f", each space times its covariance^-{cfg.final_whiten / 2:g}" if final.whitened else "",
                    phases["final_steps"])
    if len(finalists) > 1:
        # Scored on (up to final_score_max) training vectors, not the 6,000-vector restart sample: the finals'
        # scores differ by ~0.001, which that sample's noise can reverse (kit, e5 pairs, 12 seeds: picking on all
        # 13,805 vectors per side never lost top-1 against the chosen restart alone; on the sample twice, -0.015
        # and -0.002).
        pick = [torch.as_tensor(np_rng.choice(len(v), cfg.final_score_max, replace=False), device=device)
                if len(v) > cfg.final_score_max else None for v in (x, y)]
        for i in finalists:
            xl, yl = final.encode(maps[i], pick)
            _, _, score = mutual_pairs(xl, yl, cfg.csls_k)
            reports[i].final_score = score.mean().item() if len(score) else -math.inf
        best = max(finalists, key=lambda i: reports[i].final_score)
        lap("final_scores")
        logger.info("final label-free scores: %s; restart %d wins",
                    ", ".join(f"restart {i} {reports[i].final_score:.4f}" for i in finalists), best)
        if best != chosen:
            switch = (f"restart {best} beat the {'confirmed ' if confidence.trusted else ''}restart {chosen} on the "
                      f"final label-free score ({reports[best].final_score:.4f} vs {reports[chosen].final_score:.4f})")
            # a switch keeps the trust verdict and, when unconfirmed, its reason (final_candidates > 1 can switch
            # without a confirmed map; rivals are only searched for after one)
            confidence = Confidence(confidence.trusted, confidence.agreeing_restarts, confidence.score_margin,
                                    switch if confidence.trusted else f"{confidence.reason}; {switch}")
            chosen = best
    soup: list[int] = []
    if cfg.final_soup and cfg.final_wp_iters and len(finalists) > 1:
        # Finalists of one map end apart (NN agreement 0.5-0.6 on MiniLM <-> e5) with partly independent errors:
        # on the kit their average beat the best of them, before and after the winner's extra steps
        # (benchmarks/probes/soup.py, soup2.py). Maps that do not agree with the winner stay out: another solution
        # (MiniLM <-> mpnet's second one, kept out on seed 3) or a failed restart that passed the converged bar
        # (with 3,072 vectors per side a finalist at top-1 0.17 has happened).
        members = [i for i in finalists if i == chosen or final.agreement(maps[i], maps[chosen]) >= cfg.agree_threshold]
        if len(members) > 1:
            soup = members
            maps[chosen] = procrustes_from_cross(sum(maps[i][0] @ maps[i][1].T for i in soup))
            logger.info("restart %d's map replaced by the average of the finalists' maps %s", chosen, soup)
        lap("soup")
    extra = cfg.final_extra_iters if final_stage else 0
    if deadline is not None and extra and step_seconds:
        extra = min(extra, max(0, int((deadline - time.perf_counter()) / step_seconds)))
        if extra < cfg.final_extra_iters:
            cuts.append(f"time budget: {extra} of {cfg.final_extra_iters} extra final steps")
            logger.info("%s", cuts[-1])
    if cfg.final_wp_iters and extra:
        # Half-whitened steps keep gaining after 40 (kit, MiniLM -> e5 from one found map: 0.902 / 0.926 / 0.929
        # top-1 after 40 / 80 / 120 steps; benchmarks/probes/whiten.py): the winner alone gets more.
        maps[chosen] = final.run(maps[chosen], extra, fresh=False)
        lap("extra_steps")
        logger.info("%d more final steps for restart %d (%.1f s)", extra, chosen, phases["extra_steps"])
    wx, wy = maps[chosen]
    if cfg.final_refine_iters and final_stage:
        # More vectors make NN pseudo-pairs less noisy: on the kit, refining on all ~14k vectors per side
        # instead of 6k lifted MiniLM->e5 from 0.89 to 0.94 top-1, starting from the oracle map.
        lap("other")
        xf = x[torch.as_tensor(np_rng.choice(len(x), min(len(x), cfg.final_refine_max), replace=False), device=device)]
        yf = y[torch.as_tensor(np_rng.choice(len(y), min(len(y), cfg.final_refine_max), replace=False), device=device)]
        wx, wy, score, mutual = _refine(xf, yf, wx, wy, cfg.final_refine_iters, cfg.csls_k, p, tol=cfg.final_refine_tol)
        maps[chosen] = (wx, wy)
        lap("final_refine")
        logger.info("final refinement of restart %d on %d x %d vectors: label-free score %.4f, mutual NN %.1f%% (%.1f s)",
                    chosen, len(xf), len(yf), score, 100 * mutual, phases["final_refine"])
    means = mean_x.cpu().numpy(), mean_y.cpu().numpy()
    candidates = [final.linear_map(maps[i], *means, whitened=i in finalists) for i in range(len(maps))]
    lap("other")
    return AlignResult(candidates[chosen], reports, chosen, cfg, candidates, confidence, device.type, soup, phases,
                       cuts)


class _FinalSteps:
    """The finalists' transport steps, in half-whitened coordinates when ``cfg.final_whiten`` > 0.

    Each space is multiplied by its covariance to the power ``-final_whiten/2`` (``X = x C_x^(-a/2)``), the
    running-average transport steps fit a rotation pair ``(Wx, Wy)`` there, and the map is de-whitened for
    translation: ``x -> x C_x^(-a/2) Wx Wy^T C_y^(a/2)``, a non-orthogonal linear map. Why: under the true
    rotation the two latent covariances still differ (relative gap 0.57 on MiniLM / e5 against 0.19 between
    two halves of one space), and transport steps bend an orthogonal map to make second moments agree; half
    whitening shrinks that gap without the noise of full whitening (kit, MiniLM -> e5 from one found map, 80
    steps: top-1 0.896 plain, 0.908 / 0.926 / 0.905 / 0.812 for a = 0.25 / 0.5 / 0.75 / 1;
    ``benchmarks/probes/whiten.py``). (Before whitening: the running-average steps on 8,000-vector batches
    reached 0.890 top-1 on MiniLM -> e5 where 6 single-batch steps on 6,000 + NN refinement reached 0.865.)"""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, cfg: AlignConfig, rng: np.random.Generator,
                 pairs: tuple[torch.Tensor, torch.Tensor] | None):
        self.x, self.y, self.cfg, self.rng, self.pairs = x, y, cfg, rng, pairs
        self.whitened = bool(cfg.final_whiten and cfg.final_wp_iters)
        if self.whitened:
            (self.hx, self.dx), (self.hy, self.dy) = (power_whitener(v, cfg.final_whiten) for v in (x, y))
            self.xw, self.yw = x @ self.hx, y @ self.hy
            self.pairs_w = None if pairs is None else (pairs[0] @ self.hx, pairs[1] @ self.hy)

    def run(self, wmap, iters: int, fresh: bool = True):
        """``iters`` steps from ``wmap``; ``fresh``: ``wmap`` was found in plain coordinates (one transport plan
        under it on a batch gives the start in whitened ones)."""
        cfg = self.cfg
        if not iters:
            return wmap
        if not self.whitened:
            return _wasserstein_procrustes(self.x, self.y, *wmap, iters, cfg.final_wp_batch, cfg.final_wp_eps,
                                           self.rng, self.pairs, decay=cfg.final_wp_decay)
        if fresh:
            n = min(len(self.x), len(self.y), cfg.final_wp_batch)
            bi = torch.as_tensor(self.rng.choice(len(self.x), n, replace=False), device=self.x.device)
            bj = torch.as_tensor(self.rng.choice(len(self.y), n, replace=False), device=self.x.device)
            wmap = procrustes_from_cross(sinkhorn_cross((self.x[bi] @ wmap[0]) @ (self.y[bj] @ wmap[1]).T,
                                                        self.xw[bi], self.yw[bj], cfg.final_wp_eps))
        return _wasserstein_procrustes(self.xw, self.yw, *wmap, iters, cfg.final_wp_batch, cfg.final_wp_eps,
                                       self.rng, self.pairs_w, decay=cfg.final_wp_decay)

    def encode(self, wmap, rows=(None, None)) -> tuple[torch.Tensor, torch.Tensor]:
        """Both spaces' training vectors (``rows`` of each, None: all) in the latent of a finalist's map."""
        pick = lambda v, r: v if r is None else v[r]  # noqa: E731
        if not self.whitened:
            return pick(self.x, rows[0]) @ wmap[0], pick(self.y, rows[1]) @ wmap[1]
        return unit(pick(self.xw, rows[0]) @ wmap[0]), unit(pick(self.yw, rows[1]) @ wmap[1])

    def agreement(self, wa, wb) -> float:
        """Share of the first 2,000 source training vectors that two finalists' maps send to the same target
        neighbour among the first 2,000 (as :func:`_agreement`, in the finalists' coordinates)."""
        rows = (slice(0, 2000), slice(0, 2000))
        nearest = [(lambda xl, yl: (xl @ yl.T).argmax(1))(*self.encode(w, rows)) for w in (wa, wb)]
        return (nearest[0] == nearest[1]).float().mean().item()

    def linear_map(self, wmap, mean_x: np.ndarray, mean_y: np.ndarray, whitened: bool) -> LinearMap:
        wx, wy = wmap
        if not (whitened and self.whitened):
            return LinearMap(mean_x, wx.cpu().numpy(), mean_y, wy.cpu().numpy())
        return LinearMap(mean_x, (self.hx @ wx).cpu().numpy(), mean_y, (self.hy @ wy).cpu().numpy(),
                         source_decode=(wx.T @ self.dx).cpu().numpy(), target_decode=(wy.T @ self.dy).cpu().numpy())


def _neighbours(x: torch.Tensor, y: torch.Tensor, wmap) -> torch.Tensor:
    """Each of the first 2,000 source points' nearest target among the first 2,000, under the map ``(Wx, Wy)``."""
    return ((x[:2000] @ wmap[0]) @ (y[:2000] @ wmap[1]).T).argmax(1)


def _agreement(x: torch.Tensor, y: torch.Tensor, maps, i: int, j: int) -> float:
    """Share of source points that maps ``i`` and ``j`` send to the same target neighbour (on the first
    2,000 points of each side). A failed restart agrees with a good one on ~1/2000 of points, two good ones
    on most. (Comparing raw translations instead is too strict: good maps differ in the noisy low-variance
    directions.)"""
    return (_neighbours(x, y, maps[i]) == _neighbours(x, y, maps[j])).float().mean().item()


def _rivals(x: torch.Tensor, y: torch.Tensor, maps, reports: list[RestartReport], chosen: int, cfg: AlignConfig,
            candidates=None, most: int = 1) -> list[int]:
    """Restarts among ``candidates`` (default: all) that look converged but may hold another solution than
    ``chosen``: a score nearer the best than the worst, or within 2% of the best, and not the same map
    (agreement with ``chosen`` and with the rivals already picked below ``rival_distinct``); best first, at
    most ``most``. The threshold is much stricter than the confirmation's (``agree_threshold``): the two
    MiniLM <-> mpnet solutions agree on 58% of points at restart level (0.83 after the final steps), so they
    count as one map for confirmation. (A restart of the same solution let through costs time, the final
    steps, ~40 s on a 2-core CPU at 14k vectors per side, not accuracy: after them the final score decides.)"""
    scores = np.array([r.score for r in reports])
    bar = _converged_bar(reports, chosen)
    rivals: list[int] = []
    for i in sorted(range(len(maps)) if candidates is None else candidates, key=lambda i: -scores[i]):
        if len(rivals) == most or scores[i] < bar:
            break
        if i != chosen and all(_agreement(x, y, maps, i, j) < cfg.rival_distinct for j in [chosen] + rivals):
            rivals.append(i)
    return rivals


def _finalists(reports: list[RestartReport], chosen: int, rivals: list[int], most: int) -> list[int]:
    """The restarts that get the final steps, in the order they run: the chosen one, its rivals, then the
    next best *converged* restarts of the chosen one's solver by restart score, up to ``most`` in all besides
    the rivals (failed restarts would only cost time). Restarts of one map can end apart after the final
    steps (MiniLM <-> e5 seed 1 on the kit: restart scores 0.2500 / 0.2495, top-1 0.850 / 0.899 after them)."""
    bar = _converged_bar(reports, chosen)
    same_solver = [i for i, r in enumerate(reports) if i != chosen and i not in rivals and
                   r.solver == reports[chosen].solver and r.score >= bar]
    return [chosen] + rivals + sorted(same_solver, key=lambda i: -reports[i].score)[:most - 1]


def _converged_bar(reports: list[RestartReport], chosen: int) -> float:
    """The restart score a restart needs to count as converged: nearer the chosen one's than the worst, or
    within 2% of the chosen one's (on the kit's e5 pairs failed restarts score 6-10% below the converged ones)."""
    scores = [r.score for r in reports]
    best = scores[chosen]
    return min((best + min(scores)) / 2, best - 0.02 * abs(best))


def _confidence(x: torch.Tensor, y: torch.Tensor, maps, reports: list[RestartReport], chosen: int,
                cfg: AlignConfig, margin: float = 5.0) -> Confidence:
    nn_chosen = _neighbours(x, y, maps[chosen])  # once, not once per restart compared (this runs after every restart)
    agreeing = sum(1 for i in range(len(maps)) if i != chosen and
                   (_neighbours(x, y, maps[i]) == nn_chosen).float().mean().item() >= cfg.agree_threshold)
    others = np.array([r.score for i, r in enumerate(reports) if i != chosen])
    if len(others) >= 2:
        mad = float(np.median(np.abs(others - np.median(others)))) or 1e-6
        gap = (reports[chosen].score - float(np.median(others))) / (1.4826 * mad)
    else:
        gap = float("nan")
    if agreeing:
        return Confidence(True, agreeing, gap, f"{agreeing} other restart(s) converged to the same map")
    if len(others) >= 3 and gap > margin and reports[chosen].score - float(np.median(others)) > 0.03 * abs(float(np.median(others))):
        return Confidence(True, 0, gap, f"score stands {gap:.1f} robust deviations above the other restarts")
    why = "only one restart" if not len(others) else (
        f"no other restart agrees and the score does not stand out (margin {gap:.1f} robust deviations; "
        f"needs > {margin} and > 3% of the others' score)" if len(others) >= 3 else
        "no other restart agrees (use at least 4 restarts for a score-margin check)")
    return Confidence(False, 0, gap, why)


def fit_procrustes(pairs: tuple[np.ndarray, np.ndarray],
                   centre_on: tuple[np.ndarray, np.ndarray] | None = None) -> LinearMap:
    """Plain orthogonal Procrustes on paired vectors (the supervised baseline).

    Both spaces are centred on the pairs' own means, or with ``centre_on`` (source vectors, target vectors: the
    collections the map is for) on theirs: for anchor pairs from another corpus, whose means differ from the
    collections' (on WordNet, 5,000 Wikipedia anchor pairs gave MiniLM -> e5 top-1 0.892 centred on the anchors, 0.904
    on the collections: ``benchmarks/results/anchors*.md``)."""
    x = torch.as_tensor(np.asarray(pairs[0], np.float32))
    y = torch.as_tensor(np.asarray(pairs[1], np.float32))
    if centre_on is None:
        mean_x, mean_y = unit(x).mean(0), unit(y).mean(0)
    else:
        mean_x, mean_y = (unit(torch.as_tensor(np.asarray(v, np.float32))).mean(0) for v in centre_on)
    wx, wy = procrustes(center_unit(x, mean_x), center_unit(y, mean_y))
    return LinearMap(mean_x.numpy(), wx.numpy(), mean_y.numpy(), wy.numpy())
