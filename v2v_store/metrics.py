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
