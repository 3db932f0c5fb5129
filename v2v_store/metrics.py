"""The paper's translation metrics (Jha et al. 2025, section 4) and label-free diagnostics.

Paired metrics need the same held-out documents embedded by both models; they are computed in
chunks of 8,192 candidates as in the paper: for chunk rows i, the candidates are that chunk's targets.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch

CHUNK = 8192


@dataclass
class PairedMetrics:
    mean_cos: float  # mean cos(F(u_i), v_i)
    top1: float  # fraction whose nearest candidate is the true v_i
    mean_rank: float  # 1-based rank of the true v_i (1.0 perfect, ~chunk/2 random)
    n: int

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return f"cos {self.mean_cos:.3f} / top-1 {self.top1:.3f} / rank {self.mean_rank:.2f}"


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


def paired_metrics(translated: np.ndarray, truth: np.ndarray, chunk: int = CHUNK) -> PairedMetrics:
    """Row i of ``translated`` is F(u_i); row i of ``truth`` is the true v_i in the target space."""
    if translated.shape != truth.shape:
        raise ValueError(f"translated {translated.shape} and truth {truth.shape} must have the same shape")
    cos, ranks = [], []
    for s in range(0, len(truth), chunk):
        f = _unit(torch.as_tensor(np.asarray(translated[s:s + chunk], np.float32)))
        v = _unit(torch.as_tensor(np.asarray(truth[s:s + chunk], np.float32)))
        sim = f @ v.T
        true = sim.diagonal()
        rank = (sim > true[:, None]).sum(1) + 1
        cos.append(true)
        ranks.append(rank)
    cos_t, rank_t = torch.cat(cos), torch.cat(ranks).double()
    return PairedMetrics(cos_t.mean().item(), (rank_t == 1).double().mean().item(), rank_t.mean().item(), len(truth))


def mean_csls_to_target(translated: np.ndarray, target_sample: np.ndarray, k: int = 10) -> float:
    """Label-free: mean CSLS similarity of translations to their nearest real target vectors
    (MUSE's unsupervised validation criterion). Higher means translations land where targets live."""
    f = _unit(torch.as_tensor(np.asarray(translated, np.float32)))
    v = _unit(torch.as_tensor(np.asarray(target_sample, np.float32)))
    sim = f @ v.T
    k = min(k, sim.shape[0], sim.shape[1])
    r_f = sim.topk(k, dim=1).values.mean(1)
    r_v = sim.topk(k, dim=0).values.mean(0)
    return (2 * sim - r_f[:, None] - r_v[None, :]).max(dim=1).values.mean().item()


def pair_profile_correlation(pairs: tuple[np.ndarray, np.ndarray], source: np.ndarray, target: np.ndarray,
                             k: int = 50, chunk: int = 1024) -> float:
    """Label-free and map-free: do two collections hold the same kind of text? Paired texts (anchors) as a bridge.

    For each pair, how near the source collection comes to its source-side vector (mean cosine of the ``k`` nearest
    collection vectors, centred on the collection's mean) and how near the target collection comes to its target-side
    vector; returns the Spearman correlation of the two profiles over the pairs. Collections of one kind of text are
    near the same pairs in both spaces. No map is fitted, so a fit cannot game it. On the kit (MiniLM / e5, the 5,000
    bundled anchors; ``benchmarks/probes/anchor_profile.py``): 0.44-0.56 where both collections held the same kind of text
    (Wikipedia sentences, FOLDOC, package summaries, fortunes), -0.15 to -0.03 for Wikipedia sentences against
    package summaries or fortunes (either way) and for a target half of another kind; but 0.41 for FOLDOC against
    package summaries: two kinds of text equally far from the anchors look alike."""
    def profile(probes: np.ndarray, collection: np.ndarray) -> np.ndarray:
        c = _unit(torch.as_tensor(np.asarray(collection, np.float32)))
        mean = c.mean(0)
        c = _unit(c - mean)
        q = _unit(_unit(torch.as_tensor(np.asarray(probes, np.float32))) - mean)
        kk = min(k, len(c))
        return torch.cat([(q[i:i + chunk] @ c.T).topk(kk, dim=1).values.mean(1) for i in range(0, len(q), chunk)]).numpy()

    ranks = [np.argsort(np.argsort(profile(p, c))) for p, c in zip(pairs, (source, target))]
    return float(np.corrcoef(*ranks)[0, 1])
