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
6. The winner is sharpened by transport steps on larger batches (``final_wp_batch`` per side, at most
   ``final_batch_share`` of the smaller side, so that each batch is another draw), each
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
Wasserstein-Procrustes restarts only. Each pair counts ``pair_weight`` against one transport pseudo-pair, except the
first ``full_weight_pairs``, which count 1 (``v2v fit``: the collections' own pairs beside weighted anchor pairs).

The parts: :mod:`.linear` (maps, Procrustes), :mod:`.matching` (nearest neighbours, initialisers), :mod:`.transport`
(Sinkhorn); here the configuration, the solvers, the restarts and their verdict, the final stage.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from .linear import (LinearMap, center_unit, fit_procrustes, linear_decode, linear_encode, power_whitener, procrustes,
                     procrustes_from_cross, unit)
from .matching import csls, induce, mutual_pairs, pca_skew_init, sorted_similarity_signature
from .transport import sinkhorn_barycentres, sinkhorn_cross, sinkhorn_plan

# the aligner, and (from .linear, .matching, .transport) the parts callers used to import from here
__all__ = ["AlignConfig", "AlignResult", "Confidence", "RestartReport", "fit_linear", "LinearMap", "center_unit",
           "fit_procrustes", "linear_decode", "linear_encode", "power_whitener", "procrustes", "procrustes_from_cross",
           "unit", "csls", "induce", "mutual_pairs", "pca_skew_init", "sorted_similarity_signature",
           "sinkhorn_barycentres", "sinkhorn_cross", "sinkhorn_plan"]

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
    restart_dims: int = field(default=384, metadata={"help": "where the latent has more dimensions, the restarts (the "
                                                            "search for the map's basin) run in each space's top this "
                                                            "many principal directions, and each restart's map is "
                                                            "carried into all dimensions by one transport step on "
                                                            "every coordinate before the final steps (768 <-> 3,072 "
                                                            "dims: restarts ~3x faster, benchmarks/results/high_dim.md); "
                                                            "0: restarts on all dimensions. The kit's pairs (384-d "
                                                            "latents) are unaffected"})
    final_wp_batch: int = field(default=8000, metadata={"help": "vectors per side in the finalists' transport steps"})
    final_batch_share: float = field(default=2 / 3, metadata={"help": "at most this share of the smaller side in each "
                                                                      "final transport batch, so that batches differ: "
                                                                      "a batch of the whole side fits one sample every "
                                                                      "step (MiniLM -> e5, 6,000 per side: top-1 "
                                                                      "0.887-0.898 with whole sides, 0.915-0.950 with "
                                                                      "4,000; 1: whole sides when smaller than "
                                                                      "final_wp_batch)"})
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
    full_weight_pairs: int = field(default=0, metadata={"help": "few-shot: the first N pairs count 1 whatever "
                                                                "pair_weight says (pairs of the collections' own texts "
                                                                "beside anchor pairs of other texts)"})
    seed: int = 0
    device: str | None = None

    def __post_init__(self) -> None:
        if self.full_weight_pairs < 0:
            raise ValueError(f"full_weight_pairs={self.full_weight_pairs} must be >= 0 (default 0)")
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
        if self.restart_dims < 0:
            raise ValueError(f"restart_dims={self.restart_dims} must be >= 0 (default 384; 0: restarts on all "
                             "dimensions)")
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
        if not 0 < self.final_batch_share <= 1:
            raise ValueError(f"final_batch_share={self.final_batch_share} must be in (0, 1] (default 2/3; 1: whole sides)")
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


class _Clock:
    """A fit's wall time per phase and its time budget (``AlignConfig.time_budget``): the deadline for the whole
    fit, the earlier one for starting restarts, and what the budget cut, in words."""

    def __init__(self, cfg: AlignConfig):
        self.last = start = time.perf_counter()
        self.deadline = start + cfg.time_budget if cfg.time_budget else None
        self.restarts_until = start + cfg.restart_share * cfg.time_budget if cfg.time_budget else None
        self.phases: dict[str, float] = {}
        self.cuts: list[str] = []

    def lap(self, name: str) -> None:
        """Adds the time since the previous lap to phase ``name``."""
        now = time.perf_counter()
        self.phases[name] = self.phases.get(name, 0.0) + now - self.last
        self.last = now

    def cut(self, what: str) -> None:
        self.cuts.append(what)
        logger.info("%s", what)


def fit_linear(source: np.ndarray, target: np.ndarray, cfg: AlignConfig | None = None,
               pairs: tuple[np.ndarray, np.ndarray] | None = None) -> AlignResult:
    """Learn a :class:`LinearMap` between unpaired ``source`` (n, d_s) and ``target`` (m, d_t) vectors.

    ``pairs``: optional (source_vectors, target_vectors) of the same documents (few-shot mode).
    """
    cfg = cfg or AlignConfig()
    clock = _Clock(cfg)
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
            root = torch.full((len(p[0]), 1), cfg.pair_weight ** 0.5, device=device)
            root[:cfg.full_weight_pairs] = 1.0
            p = (p[0] * root, p[1] * root)
    xr = x[torch.as_tensor(np_rng.choice(len(x), min(len(x), cfg.refine_max), replace=False), device=device)]
    yr = y[torch.as_tensor(np_rng.choice(len(y), min(len(y), cfg.refine_max), replace=False), device=device)]
    full = (x, y, xr, yr, p)
    latent_dims = min(x.shape[1], y.shape[1])
    reduced = None
    if cfg.restart_dims and latent_dims > cfg.restart_dims:
        reduced = [_principal_directions(v, cfg.restart_dims) for v in (x, y)]
        x, y, xr, yr = unit(x @ reduced[0]), unit(y @ reduced[1]), unit(xr @ reduced[0]), unit(yr @ reduced[1])
        p = None if p is None else (p[0] @ reduced[0], p[1] @ reduced[1])
        logger.info("restarts in each space's top %d principal directions (a %d-dimensional latent)", cfg.restart_dims,
                    latent_dims)
    clock.lap("setup")
    reports, maps, chosen, confidence = _search(x, y, xr, yr, cfg, gen, np_rng, p, clock, latent_dims)
    clock.lap("restarts")
    rivals: list[int] = []
    if cfg.rival_restarts and p is None and confidence.trusted and (clock.restarts_until is None or
                                                                    time.perf_counter() < clock.restarts_until):
        # MiniLM <-> mpnet on the kit has two solutions that both look converged at restart level (top-1
        # 0.985 and 0.967, restart scores 0.252-0.259 for both); after the final steps the better one scores
        # higher on every label-free criterion tried (benchmarks/probes/basins.py). So look for a rival.
        rival_solver = {"same": reports[chosen].solver,
                        "other": "wasserstein" if reports[chosen].solver == "self-learning" else "self-learning",
                        }.get(cfg.rival_solver, cfg.rival_solver)
        first_rival = len(reports)
        more, more_maps, _, _ = _restarts(x, y, xr, yr, cfg, rival_solver, cfg.rival_restarts, gen, np_rng, p,
                                          first=first_rival, rival_search=True, deadline=clock.restarts_until,
                                          cuts=clock.cuts)
        reports, maps = reports + more, maps + more_maps
        rivals = _rivals(xr, yr, maps, reports, chosen, cfg, candidates=range(first_rival, len(maps)))
        clock.lap("rivals")
    x, y, xr, yr, p = full
    if reduced is not None:  # each map into every dimension: one transport plan under it, Procrustes on all coordinates
        maps = [_wasserstein_procrustes(x, y, reduced[0] @ wx, reduced[1] @ wy, 1, cfg.final_wp_batch, cfg.final_wp_eps,
                                        np_rng, p) for wx, wy in maps]
        clock.lap("lift")
    final = _FinalSteps(x, y, cfg, np_rng, p)
    chosen, confidence, finalists, soup = _final_stage(final, maps, reports, chosen, confidence, rivals, clock)
    means = mean_x.cpu().numpy(), mean_y.cpu().numpy()
    candidates = [final.linear_map(maps[i], *means, whitened=i in finalists) for i in range(len(maps))]
    clock.lap("other")
    return AlignResult(candidates[chosen], reports, chosen, cfg, candidates, confidence, device.type, soup,
                       clock.phases, clock.cuts)


def _principal_directions(v: torch.Tensor, k: int) -> torch.Tensor:
    """The top ``k`` principal directions (d, k) of rows ``v`` (centred already)."""
    _, u = torch.linalg.eigh((v.T @ v).double())
    return u[:, -k:].flip(1).to(v.dtype).contiguous()


def _search(x: torch.Tensor, y: torch.Tensor, xr: torch.Tensor, yr: torch.Tensor, cfg: AlignConfig,
            gen: torch.Generator, np_rng: np.random.Generator, p: tuple[torch.Tensor, torch.Tensor] | None,
            clock: _Clock, latent_dims: int):
    """The restarts (steps 2-5 of the module's recipe): the configured solver's, the cascade's self-learning then
    Wasserstein-Procrustes ones, the extra ones when none is confirmed, and the verdict of the per-dimension floor
    (of the fit's ``latent_dims``, also when the restarts run in fewer: ``restart_dims``).
    Returns (reports, maps, index of the best, its confidence)."""
    solver = cfg.solver
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
                                                      deadline=clock.restarts_until, cuts=clock.cuts)
        if not confidence.trusted:
            logger.info("self-learning restarts not confirmed (%s): Wasserstein-Procrustes restarts", confidence.reason)
            more, more_maps, chosen, confidence = _restarts(x, y, xr, yr, cfg, "wasserstein", cfg.restarts, gen,
                                                            np_rng, p, first=len(reports),
                                                            deadline=clock.restarts_until, cuts=clock.cuts)
            chosen += len(reports)
            reports, maps = reports + more, maps + more_maps
    else:
        reports, maps, chosen, confidence = _restarts(x, y, xr, yr, cfg, solver, cfg.restarts, gen, np_rng, p,
                                                      deadline=clock.restarts_until, cuts=clock.cuts)
    dims, smaller = latent_dims, min(len(x), len(y))
    # fewer pairs than dimensions do not fix the map either (500 per side with 10 / 50 true pairs: agreeing restarts,
    # top-1 0.016 / 0.144)
    too_few = (p is None or len(p[0]) < dims) and smaller < cfg.min_per_dim * dims
    if (p is None and cfg.more_restarts and cfg.stop_when_confirmed and not confidence.trusted and not too_few
            and not clock.cuts):  # cuts: the time budget already stopped the restarts
        # off Wikipedia a restart can converge rarely (docstring passages, 4,500 per side: seed 2 confirmed a map
        # at 0.845 top-1 with 24 restarts, none of its first 8 converged): search on rather than refuse
        logger.info("none of %d restarts confirmed (%s): up to %d more", len(reports), confidence.reason,
                    cfg.more_restarts)
        reports, maps, chosen, confidence = _restarts(x, y, xr, yr, cfg, reports[-1].solver, cfg.more_restarts, gen,
                                                      np_rng, p, first=len(reports), deadline=clock.restarts_until,
                                                      cuts=clock.cuts, earlier=(reports, maps))
    if too_few:
        confidence = Confidence(False, confidence.agreeing_restarts, confidence.score_margin, (
            f"only {smaller} vectors on the smaller side for a {dims}-dimensional latent, fewer than "
            f"{cfg.min_per_dim:g} per dimension: transport matches samples this small almost one to one, so restarts "
            f"can agree on a meaningless map; give at least {math.ceil(cfg.min_per_dim * dims)} distinct vectors per side, "
            f"or at least {dims} pairs"))
        logger.warning("%s", confidence.reason)
    return reports, maps, chosen, confidence


def final_pick(scores: dict[int, float], chosen: int, trusted: bool,
               agrees: Callable[[int], bool]) -> tuple[int, list[int]]:
    """The finalist with the best final label-free score, and the better-scoring ones passed over. When the restarts
    confirmed ``chosen``'s map, only finalists whose maps still ``agrees`` with it after the final steps may win: the
    verdict is that map's, and the final score rewards a map fitted to the training sample (session 51, kit fortunes,
    3,072 per side, MiniLM <-> mpnet seed 0: a finalist that ended at top-1 0.005 outscored the confirmed one, 0.91,
    and was handed back as trusted)."""
    ranked = sorted(scores, key=lambda i: -scores[i])
    passed_over = []
    for i in ranked:
        if i == chosen or not trusted or agrees(i):
            return i, passed_over
        passed_over.append(i)
    return chosen, passed_over


def _final_stage(final: _FinalSteps, maps: list, reports: list[RestartReport], chosen: int, confidence: Confidence,
                 rivals: list[int], clock: _Clock):
    """Steps 6, 8 and 9 of the module's recipe and the time budget's cuts: the finalists' transport steps, the pick
    by their final label-free scores, the soup and the winner's extra steps (then the opt-in NN refinement).
    Updates ``maps`` and the finalists' ``reports`` in place; returns (chosen, confidence, finalists, soup). The
    trust verdict is the restarts'; a switch of winner only changes the reason."""
    cfg, x, y, p, np_rng, deadline = final.cfg, final.x, final.y, final.pairs, final.rng, clock.deadline
    finalists = _finalists(reports, chosen, rivals, cfg.final_candidates)
    final_stage = confidence.trusted or cfg.final_when_unconfirmed
    if not final_stage:
        logger.info("restarts not confirmed (%s): no final stage (final_when_unconfirmed=False)", confidence.reason)
        finalists = []
    step_seconds = 0.0  # one final transport step, timed on the first finalist (for the time budget)
    for k, i in enumerate(finalists):
        t0 = time.perf_counter()
        if deadline is not None and k and t0 + (cfg.final_wp_iters + cfg.final_extra_iters) * step_seconds > deadline:
            clock.cut(f"time budget: final steps for {k} of {len(finalists)} finalists")
            finalists = finalists[:k]
            break
        maps[i] = final.run(maps[i], cfg.final_wp_iters)
        step_seconds = step_seconds or (time.perf_counter() - t0) / max(cfg.final_wp_iters, 1)
    if cfg.final_wp_iters and finalists:
        clock.lap("final_steps")
        logger.info("final transport steps of restart(s) %s: %d steps of %d vectors per side%s (%.1f s)", finalists,
                    cfg.final_wp_iters, final.batch,
                    f", each space times its covariance^-{cfg.final_whiten / 2:g}" if final.whitened else "",
                    clock.phases["final_steps"])
    if len(finalists) > 1:
        # Scored on (up to final_score_max) training vectors, not the 6,000-vector restart sample: the finals'
        # scores differ by ~0.001, which that sample's noise can reverse (kit, e5 pairs, 12 seeds: picking on all
        # 13,805 vectors per side never lost top-1 against the chosen restart alone; on the sample twice, -0.015
        # and -0.002).
        pick = [torch.as_tensor(np_rng.choice(len(v), cfg.final_score_max, replace=False), device=v.device)
                if len(v) > cfg.final_score_max else None for v in (x, y)]
        for i in finalists:
            xl, yl = final.encode(maps[i], pick)
            _, _, score = mutual_pairs(xl, yl, cfg.csls_k)
            reports[i].final_score = score.mean().item() if len(score) else -math.inf
        scores = {i: reports[i].final_score for i in finalists}
        best, passed_over = final_pick(scores, chosen, confidence.trusted,
                                       lambda i: final.agreement(maps[i], maps[chosen]) >= cfg.agree_threshold)
        clock.lap("final_scores")
        logger.info("final label-free scores: %s; restart %d wins",
                    ", ".join(f"restart {i} {reports[i].final_score:.4f}" for i in finalists), best)
        if passed_over:
            kept_out = (f"restart(s) {', '.join(map(str, passed_over))} scored higher on the final label-free score but "
                        f"no longer agree with the confirmed restart {chosen}'s map: kept out")
            logger.warning("%s", kept_out)
            confidence = Confidence(confidence.trusted, confidence.agreeing_restarts, confidence.score_margin,
                                    f"{confidence.reason}; {kept_out}")
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
        clock.lap("soup")
    extra = cfg.final_extra_iters if final_stage else 0
    if deadline is not None and extra and step_seconds:
        extra = min(extra, max(0, int((deadline - time.perf_counter()) / step_seconds)))
        if extra < cfg.final_extra_iters:
            clock.cut(f"time budget: {extra} of {cfg.final_extra_iters} extra final steps")
    if cfg.final_wp_iters and extra:
        # Half-whitened steps keep gaining after 40 (kit, MiniLM -> e5 from one found map: 0.902 / 0.926 / 0.929
        # top-1 after 40 / 80 / 120 steps; benchmarks/probes/whiten.py): the winner alone gets more.
        maps[chosen] = final.run(maps[chosen], extra, fresh=False)
        clock.lap("extra_steps")
        logger.info("%d more final steps for restart %d (%.1f s)", extra, chosen, clock.phases["extra_steps"])
    if cfg.final_refine_iters and final_stage:
        # More vectors make NN pseudo-pairs less noisy: on the kit, refining on all ~14k vectors per side
        # instead of 6k lifted MiniLM->e5 from 0.89 to 0.94 top-1, starting from the oracle map.
        clock.lap("other")
        xf = x[torch.as_tensor(np_rng.choice(len(x), min(len(x), cfg.final_refine_max), replace=False), device=x.device)]
        yf = y[torch.as_tensor(np_rng.choice(len(y), min(len(y), cfg.final_refine_max), replace=False), device=y.device)]
        wx, wy, score, mutual = _refine(xf, yf, *maps[chosen], cfg.final_refine_iters, cfg.csls_k, p,
                                        tol=cfg.final_refine_tol)
        maps[chosen] = (wx, wy)
        clock.lap("final_refine")
        logger.info("final refinement of restart %d on %d x %d vectors: label-free score %.4f, mutual NN %.1f%% (%.1f s)",
                    chosen, len(xf), len(yf), score, 100 * mutual, clock.phases["final_refine"])
    return chosen, confidence, finalists, soup


def final_batch(n_source: int, n_target: int, cfg: AlignConfig) -> int:
    """Vectors per side in each final transport batch: ``final_wp_batch``, at most ``final_batch_share`` of the
    smaller side (at least 2)."""
    return max(2, min(cfg.final_wp_batch, int(cfg.final_batch_share * min(n_source, n_target))))


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
        self.batch = final_batch(len(x), len(y), cfg)
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
            return _wasserstein_procrustes(self.x, self.y, *wmap, iters, self.batch, cfg.final_wp_eps,
                                           self.rng, self.pairs, decay=cfg.final_wp_decay)
        if fresh:
            n = self.batch
            bi = torch.as_tensor(self.rng.choice(len(self.x), n, replace=False), device=self.x.device)
            bj = torch.as_tensor(self.rng.choice(len(self.y), n, replace=False), device=self.x.device)
            wmap = procrustes_from_cross(sinkhorn_cross((self.x[bi] @ wmap[0]) @ (self.y[bj] @ wmap[1]).T,
                                                        self.xw[bi], self.yw[bj], cfg.final_wp_eps))
        return _wasserstein_procrustes(self.xw, self.yw, *wmap, iters, self.batch, cfg.final_wp_eps,
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
                         source_decode=(wx.T @ self.dx).cpu().numpy(), target_decode=(wy.T @ self.dy).cpu().numpy(),
                         source_query_decode=wx.T.cpu().numpy(), target_query_decode=wy.T.cpu().numpy())


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
