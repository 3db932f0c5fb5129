"""The paper's translation metrics (Jha et al. 2025, section 4) and label-free diagnostics.

Paired metrics need the same held-out documents embedded by both models; they are computed in
chunks of 8,192 candidates as in the paper: for chunk rows i, the candidates are that chunk's targets.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import asdict, dataclass, replace

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


def _partner_ranks(f: torch.Tensor, v: torch.Tensor, offset: int, distractors: torch.Tensor | None = None,
                   tie: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """For unit queries ``f`` whose partners are rows ``offset, offset + 1, ...`` of the unit candidates ``v``: each
    partner's cosine and its 1-based rank among ``v`` (and ``distractors``); candidates within ``tie`` of the partner
    do not count above it."""
    sim = f @ v.T
    true = sim[torch.arange(len(f)), torch.arange(offset, offset + len(f))]
    above = true[:, None] + tie
    rank = (sim > above).sum(1) + 1
    if distractors is not None:
        rank += (f @ distractors.T > above).sum(1)
    return true, rank


def _summary(cos: list[torch.Tensor], ranks: list[torch.Tensor]) -> PairedMetrics:
    cos_t, rank_t = torch.cat(cos), torch.cat(ranks).double()
    return PairedMetrics(cos_t.mean().item(), (rank_t == 1).double().mean().item(), rank_t.mean().item(), len(cos_t))


def paired_metrics(translated: np.ndarray, truth: np.ndarray, chunk: int = CHUNK) -> PairedMetrics:
    """Row i of ``translated`` is F(u_i); row i of ``truth`` is the true v_i in the target space."""
    if translated.shape != truth.shape:
        raise ValueError(f"translated {translated.shape} and truth {truth.shape} must have the same shape")
    cos, ranks = [], []
    for s in range(0, len(truth), chunk):
        f = _unit(torch.as_tensor(np.asarray(translated[s:s + chunk], np.float32)))
        v = _unit(torch.as_tensor(np.asarray(truth[s:s + chunk], np.float32)))
        true, rank = _partner_ranks(f, v, 0)
        cos.append(true)
        ranks.append(rank)
    return _summary(cos, ranks)


TIE = 1e-6


def retrieval_among(translated: np.ndarray, truth: np.ndarray, distractors: np.ndarray,
                    chunk: int = CHUNK) -> PairedMetrics:
    """Like :func:`paired_metrics`, but each F(u_i) must find v_i among all of ``truth`` *and* ``distractors`` (e.g.
    the target collection's own vectors of other texts): retrieval as hard as in the collection. Ties do not count
    against the pair (a distractor equal to v_i, the same record, is no error; float rounding differs between the
    products, hence within ``TIE``)."""
    if translated.shape != truth.shape:
        raise ValueError(f"translated {translated.shape} and truth {truth.shape} must have the same shape")
    v = _unit(torch.as_tensor(np.asarray(truth, np.float32)))
    d = _unit(torch.as_tensor(np.asarray(distractors, np.float32)))
    cos, ranks = [], []
    for s in range(0, len(truth), chunk):
        f = _unit(torch.as_tensor(np.asarray(translated[s:s + chunk], np.float32)))
        true, rank = _partner_ranks(f, v, s, d, TIE)
        cos.append(true)
        ranks.append(rank)
    return _summary(cos, ranks)


def top_k_others(queries: np.ndarray, collection: np.ndarray, k: int, chunk: int = 2048,
                 leave_out_self: bool = True) -> torch.Tensor:
    """Row i: the indices of the ``k`` rows of ``collection`` nearest ``queries[i]`` by cosine, row i itself (the same
    document) left out unless ``leave_out_self`` is False (queries that are not the collection's documents)."""
    q = _unit(torch.as_tensor(np.asarray(queries, np.float32)))
    c = _unit(torch.as_tensor(np.asarray(collection, np.float32)))
    out = []
    for s in range(0, len(q), chunk):
        sim = q[s:s + chunk] @ c.T
        if leave_out_self:
            rows = torch.arange(sim.shape[0])
            sim[rows, rows + s] = -float("inf")
        out.append(sim.topk(k, dim=1).indices)
    return torch.cat(out)


def overlap(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean share of each row of index lists ``a`` found in the same row of ``b`` (both (n, k))."""
    return (a[:, :, None] == b[:, None, :]).any(2).double().mean().item()


def translation_metrics(translator, u: np.ndarray, v: np.ndarray, source: str, target: str,
                        distractors: np.ndarray | None = None) -> PairedMetrics:
    """The paper's metrics of a :class:`~v2v_store.translator.Translator` from ``source`` to ``target`` on paired rows
    ``u``, ``v``: the mean cosine of each translation *as a record* (where a migration puts it) with its true vector;
    top-1 and mean rank of each translation *as a query* among the true vectors (and ``distractors``, as in
    :func:`retrieval_among`). The two uses decode differently (``Translator.translate``'s ``role``): a query keeps
    only a calibrated share of the target's mean, which carries no information about the query but dominates the
    cosine (e5's vectors share ~0.75 of it), so a query's cosine says little about where a translation lands."""
    from v2v_store.translator import QUERIES, RECORDS

    queries = translator.translate(u, source, target, role=QUERIES)
    ranked = paired_metrics(queries, v) if distractors is None else retrieval_among(queries, v, distractors)
    records = torch.as_tensor(translator.translate(u, source, target, role=RECORDS))
    cos = (records * _unit(torch.as_tensor(np.asarray(v, np.float32)))).sum(1).mean().item()
    return replace(ranked, mean_cos=cos)


def anti_hub_share(queries: np.ndarray | torch.Tensor, candidates: np.ndarray | torch.Tensor, k: int = 10,
                   offsets: torch.Tensor | None = None) -> float:
    """Label-free: the share of ``candidates`` among no query's ``k`` nearest (by dot product with the unit
    candidates; ``offsets``, (n_candidates,), added to every query's scores). Hubness (a few candidates near
    everyone, many near no one) is what a bias common to all queries creates, and what costs retrieval: on the kit's
    six model pairs, with maps from 300, 1,000 and 13,805 pairs, the mean weight of translated queries leaving the fewest
    candidates out had a top-1 within 0.0017 of the best weight's (``benchmarks/probes/query_mean_weight.txt``)."""
    return anti_hub_shares(queries, candidates, {0: offsets}, k)[0]


def anti_hub_shares(queries: np.ndarray | torch.Tensor, candidates: np.ndarray | torch.Tensor,
                    offsets: Mapping[Hashable, torch.Tensor | None], k: int = 10) -> dict[Hashable, float]:
    """:func:`anti_hub_share` under each of several ``offsets`` (key -> (n_candidates,) or None), the query-candidate
    scores computed once (a fit's query calibration tries 13 offsets on 4,096 x 4,096 scores)."""
    v = _unit(torch.as_tensor(np.asarray(candidates, np.float32)))
    q = torch.as_tensor(np.asarray(queries, np.float32))
    sims = q @ v.T
    k = min(k, len(v))
    shares = {}
    for key, offset in offsets.items():
        scores = sims if offset is None else sims + offset[None, :]
        hits = torch.bincount(scores.topk(k, dim=1).indices.flatten(), minlength=len(v))
        shares[key] = float((hits == 0).double().mean())
    return shares


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


def _latent(vectors: np.ndarray, mean: np.ndarray, proj: np.ndarray) -> torch.Tensor:
    """Unit vectors in a linear map's shared latent (:class:`v2v_store.train.linear.LinearMap`'s encoding, unit length)."""
    v = _unit(torch.as_tensor(np.asarray(vectors, np.float32)))
    return _unit(_unit(v - torch.as_tensor(mean)) @ torch.as_tensor(proj))


def collection_profile_correlation(pairs: tuple[np.ndarray, np.ndarray], source: np.ndarray, target: np.ndarray,
                                   k: int = 50, probes: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Label-free: do two collections hold the same kind of text? Each collection's own vectors as the probes.

    The map is orthogonal Procrustes on the pairs alone (centred on the collections' means), which the collections do
    not bend. For ``probes`` vectors of the source collection: how near the rest of the source collection comes (mean
    centred cosine of the ``k`` nearest others) and how near the target collection comes under the map; the Spearman
    correlation of the two over the probes; then the same with target probes. Returns (source probes, target probes).
    Where one collection holds texts the other has no kind of, its probes there are crowded by their own collection
    and alone in the other. Unlike :func:`pair_profile_correlation` it does not rely on the pairs being near the
    collections, so it sees two kinds of text equally far from the pairs: FOLDOC against package summaries, where the
    pair profile is 0.41, gives -0.02-0.06 on the lower side; the lower side was 0.16-0.92 where both collections
    held the same kind (500-13,805 vectors per side, four corpora, three model pairs:
    ``benchmarks/probes/README.md``, session 32)."""
    from v2v_store.train.linear import fit_procrustes

    m = fit_procrustes(pairs, centre_on=(source, target))
    latent = [_latent(source, m.source_mean, m.source_proj), _latent(target, m.target_mean, m.target_proj)]
    rng = np.random.default_rng(seed)

    def near(q: torch.Tensor, collection: torch.Tensor, skip: int) -> np.ndarray:
        kk = min(k, len(collection) - skip)
        return (q @ collection.T).topk(kk + skip, dim=1).values[:, skip:].mean(1).numpy()

    def spearman(u: np.ndarray, v: np.ndarray) -> float:
        return float(np.corrcoef(np.argsort(np.argsort(u)), np.argsort(np.argsort(v)))[0, 1])

    sides = []
    for own, other in (latent, latent[::-1]):
        q = own[np.sort(rng.permutation(len(own))[:probes])]
        sides.append(spearman(near(q, own, 1), near(q, other, 0)))  # skip 1: the probe itself
    return sides[0], sides[1]


def out_of_fold_ranks(pairs: tuple[np.ndarray, np.ndarray], group: int = 500, folds: int = 10, seed: int = 0,
                      fit_on: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pair's partner's 1-based rank, both ways, under maps not fitted on it: the pairs cut in ``folds`` folds,
    each fold's pairs put in the latent of orthogonal Procrustes fitted on the other folds' pairs (only those
    ``fit_on`` marks, when given), then ranked among ``group`` out-of-fold pairs, consecutive in a shuffled order (all
    pairs in one group when fewer; the pairs past the last whole group are ranked within the last ``group`` of the
    order). Returns (source -> target ranks, target -> source ranks, the pairs in whole groups, as a mask)."""
    from v2v_store.train.linear import fit_procrustes

    n = len(pairs[0])
    use = np.ones(n, bool) if fit_on is None else np.asarray(fit_on, bool)
    order = np.random.default_rng(seed).permutation(n)
    zx = zy = None
    for f in range(folds):
        held = order[f * n // folds:(f + 1) * n // folds]
        rest = np.setdiff1d(order, held)
        m = fit_procrustes((pairs[0][rest[use[rest]]], pairs[1][rest[use[rest]]]))
        if zx is None:  # (n, latent dimension) out-of-fold latents
            zx, zy = torch.zeros(n, m.source_proj.shape[1]), torch.zeros(n, m.target_proj.shape[1])
        zx[held] = _latent(pairs[0][held], m.source_mean, m.source_proj)
        zy[held] = _latent(pairs[1][held], m.target_mean, m.target_proj)
    size = min(group, n)
    whole = np.zeros(n, bool)
    whole[order[:n - n % size]] = True
    there, back = np.zeros(n, np.int64), np.zeros(n, np.int64)
    starts = [*range(0, n - size + 1, size)] + ([n - size] if n % size else [])
    for g in starts:
        idx = order[g:g + size]
        there[idx] = _partner_ranks(zx[idx], zy[idx], 0)[1].numpy()
        back[idx] = _partner_ranks(zy[idx], zx[idx], 0)[1].numpy()
    return there, back, whole


def pairs_relatedness(pairs: tuple[np.ndarray, np.ndarray], group: int = 500, folds: int = 10, seed: int = 0) -> float:
    """How closely two models are related by a rotation, from their paired vectors alone (no collection involved):
    the share of pairs whose partner ranks first among ``group`` out-of-fold pairs (:func:`out_of_fold_ranks`; with
    5,000 pairs each group is one fold, under one map), both ways, over the pairs in whole groups. NaN with fewer
    than 200 pairs.

    With the 5,000 bundled anchors (session 33; every pair counted, where session 32 kept one block of 500 out, whose
    standard error near 0.985 is ~0.004): MiniLM, mpnet and e5 with each other 0.994-0.999, paraphrase-MiniLM-L3 (ONNX)
    against e5 0.989, a fine-tune of MiniLM (``sre-embedding-model``) against e5 0.979, a 64-dimensional static model
    (``tokenlearn-static-model``) against e5 0.915, against MiniLM 0.680; MiniLM cut to its top 128 / 64 / 48 / 40 / 32
    principal components against e5 0.991 / 0.986 / 0.980 / 0.972 / 0.959 (``benchmarks/probes/README.md``). With
    fewer pairs each fold's map is fitted on fewer and the values move (1,000 anchors: the static model 0.864, MiniLM
    cut to 32 components 0.976): compare values at 5,000. With the anchors a quarter documentation sentences (session
    76; measured in session 78): MiniLM / e5 0.997, L3 0.9875, top-128 0.992, top-64 0.975, the fine-tune 0.954, the
    static model 0.903: the same order, lowered mostly by the documentation sentences (the fine-tune's Wikipedia rows
    0.980, its documentation rows 0.873; session 79); ``v2v_store.fit.RELATED_BELOW`` was drawn again on these."""
    if len(pairs[0]) < 200:
        return float("nan")
    there, back, whole = out_of_fold_ranks(pairs, group, folds, seed)
    return float(np.mean(np.concatenate([there[whole], back[whole]]) == 1))
