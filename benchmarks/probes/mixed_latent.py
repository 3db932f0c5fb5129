"""How well does ``v2v query --mode latent`` merge two collections of different models? (session 41)

    python benchmarks/probes/mixed_latent.py TRANSLATOR OLD NEW

A half-migrated corpus: the kit's held-out wiki sentences, a random half embedded by OLD (not yet re-encoded), the rest
by NEW; queries in NEW. Queries: the first held-out sentence of each article with two or more held out; documents:
every other held-out sentence. Reference: the same queries on all documents re-encoded by NEW (plain cosine, as the
store would rank them). Reported per scoring: overlap of the merged top-10 with the reference top-10, the share of the
merged top-10 taken from the OLD collection (the reference's share of those documents beside it) and hit@10 of an
article-mate. Fortunes (no articles): queries the first 1,000, documents the other 7,192, overlap and share only.

Scorings: ``raw``: latent mode as built (centred cosines, the query translated into the OLD collection through the
records' decode); ``affine``: the cross-model scores moved by the affine map that matches the mean and spread of
cross-model top-10 scores to same-model top-10 scores on the fit's unpaired training vectors (label-free);
``collection``: the same match made on the searched collections themselves; ``query decode``: the query translated into
the OLD collection's coordinates through the query decode (session 40) instead, raw and ``affine``; ``native``: native
mode (raw cosines, the query translated as a query); ``migrated``: the OLD documents translated as records into NEW
(what ``v2v migrate`` writes), raw cosines.
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import KIT, load, splits  # noqa: E402

from v2v_store.train.linear import linear_encode  # noqa: E402
from v2v_store.translator import Translator, _unit  # noqa: E402

torch.set_num_threads(1)
K = 10


def topk(scores: torch.Tensor, k: int = K) -> torch.Tensor:
    return scores.topk(k, dim=1).indices


def top_scores(q: torch.Tensor, docs: torch.Tensor, k: int = K, exclude_self: bool = False) -> torch.Tensor:
    s = q @ docs.T
    if exclude_self:
        s.fill_diagonal_(-2)
    return s.topk(k, dim=1).values.flatten()


def query_into(tr: Translator, q: np.ndarray, new: str, old: str, query_decode: bool) -> torch.Tensor:
    """NEW queries in OLD's centred coordinates: ``to_space`` (records' decode) or through the query decode."""
    if not query_decode:
        return torch.as_tensor(tr.to_space(q, new, into=old))
    z = linear_encode(torch.as_tensor(q), *tr.linear_space(tr.space(new))[:2])
    return _unit(z @ tr.query_decode(tr.space(old)))


def affine(tr: Translator, old: str, new: str, a_old: np.ndarray, b_new: np.ndarray, n: int = 4096,
           query_decode: bool = False):
    """(scale, shift) taking cross-model top-K scores of NEW queries among OLD vectors onto same-model ones."""
    rng = np.random.default_rng(0)
    q = b_new[rng.choice(len(b_new), 2 * n, replace=False)]
    docs_old = a_old[rng.choice(len(a_old), n, replace=False)]
    same = top_scores(torch.as_tensor(tr.to_space(q[:n], new)), torch.as_tensor(tr.to_space(q[n:], new)))
    cross = top_scores(query_into(tr, q[:n], new, old, query_decode), torch.as_tensor(tr.to_space(docs_old, old)))
    scale = float(same.std() / cross.std())
    return scale, float(same.mean() - scale * cross.mean())


def evaluate(tr, old, new, q_new, d_old, d_new, is_old, mates, calib, calib_query):
    """Metrics of each scoring. d_old/d_new: every document in OLD and NEW; is_old: which are in the OLD collection."""
    ref = topk(torch.as_tensor(q_new) @ torch.as_tensor(d_new).T)
    ref_share = is_old[ref].float().mean().item()
    same = torch.as_tensor(tr.to_space(q_new, new)) @ torch.as_tensor(tr.to_space(d_new, new)).T
    cross = torch.as_tensor(tr.to_space(q_new, new, into=old)) @ torch.as_tensor(tr.to_space(d_old, old)).T
    out = {"reference old share": round(ref_share, 3)}
    # the same match on the searched collections themselves (label-free, known at query time): up to 2,048 NEW
    # documents as queries against the other NEW documents and against the OLD ones
    rng = np.random.default_rng(2)
    new_rows, old_rows = np.flatnonzero(~is_old.numpy()), np.flatnonzero(is_old.numpy())
    probe = rng.choice(new_rows, min(2048, len(new_rows) // 2), replace=False)
    rest = np.setdiff1d(new_rows, probe)
    s_same = top_scores(torch.as_tensor(tr.to_space(d_new[probe], new)), torch.as_tensor(tr.to_space(d_new[rest], new)))
    s_cross = top_scores(torch.as_tensor(tr.to_space(d_new[probe], new, into=old)),
                         torch.as_tensor(tr.to_space(d_old[old_rows], old)))
    scale = float(s_same.std() / s_cross.std())
    coll = (scale, float(s_same.mean() - scale * s_cross.mean()))
    out["collection affine"] = [round(coll[0], 3), round(coll[1], 3)]
    cross_query = query_into(tr, q_new, new, old, True) @ torch.as_tensor(tr.to_space(d_old, old)).T
    for name, (scale, shift), c in (("raw", (1.0, 0.0), cross), ("affine", calib, cross), ("collection", coll, cross),
                                    ("query decode", (1.0, 0.0), cross_query),
                                    ("query decode affine", calib_query, cross_query)):
        merged = torch.where(is_old[None, :], scale * c + shift, same)
        top = topk(merged)
        overlap = np.mean([len(set(a.tolist()) & set(b.tolist())) / K for a, b in zip(top, ref)])
        cell = {"overlap@10": round(float(overlap), 3), "old share": round(is_old[top].float().mean().item(), 3)}
        if mates is not None:
            cell["mate hit@10"] = round(float(np.mean([bool(set(t.tolist()) & m) for t, m in zip(top, mates)])), 3)
        out[name] = cell
    raw_new = torch.as_tensor(q_new) @ torch.as_tensor(d_new).T
    others = {"native": torch.as_tensor(tr.translate(q_new, new, old, role="queries")) @ torch.as_tensor(d_old).T,
              "migrated": torch.as_tensor(q_new) @ torch.as_tensor(tr.translate(d_old, old, new)).T}
    for name, cross_raw in others.items():
        top = topk(torch.where(is_old[None, :], cross_raw, raw_new))
        overlap = np.mean([len(set(a.tolist()) & set(b.tolist())) / K for a, b in zip(top, ref)])
        cell = {"overlap@10": round(float(overlap), 3), "old share": round(is_old[top].float().mean().item(), 3)}
        if mates is not None:
            cell["mate hit@10"] = round(float(np.mean([bool(set(t.tolist()) & m) for t, m in zip(top, mates)])), 3)
        out[name] = cell
    if mates is not None:
        out["reference mate hit@10"] = round(float(np.mean([bool(set(t.tolist()) & m) for t, m in zip(ref, mates)])), 3)
    return out


def main():
    path, old, new = sys.argv[1:4]
    tr = Translator.load(path, device="cpu")
    held, A, B = splits("wiki", old)
    # the fit saw OLD on side A and NEW on side B when OLD is the translator's first space, else the reverse
    a_old, b_new = (load("wiki", old)[A], load("wiki", new)[B]) if tr.spaces[0].name == old else \
        (load("wiki", old)[B], load("wiki", new)[A])
    tr.calibrate_queries(*((a_old, b_new) if tr.spaces[0].name == old else (b_new, a_old)))  # the query decode
    calib, calib_query = affine(tr, old, new, a_old, b_new), affine(tr, old, new, a_old, b_new, query_decode=True)
    print("#", " ".join(sys.argv[1:]), "affine (scale, shift) %.3f %.3f" % calib,
          "with the query decode %.3f %.3f" % calib_query, flush=True)
    rng = np.random.default_rng(1)
    titles = [json.loads(line)["title"] for line in open(KIT / "wiki.jsonl")][held]
    first = {}
    for i, t in enumerate(titles):
        first.setdefault(t, []).append(i)
    queries = [ids[0] for ids in first.values() if len(ids) >= 2]
    qset = set(queries)
    docs = np.array([i for i in range(len(titles)) if i not in qset])
    pos = {d: j for j, d in enumerate(docs)}
    mates = [{pos[d] for d in first[titles[q]][1:]} for q in queries]
    vo, vn = load("wiki", old)[held], load("wiki", new)[held]
    is_old = torch.as_tensor(rng.random(len(docs)) < 0.5)
    print("wiki", len(queries), "queries", len(docs), "documents",
          evaluate(tr, old, new, vn[queries], vo[docs], vn[docs], is_old, mates, calib, calib_query), flush=True)
    fo, fn = load("fortunes", old)[:8192], load("fortunes", new)[:8192]
    is_old = torch.as_tensor(rng.random(8192 - 1000) < 0.5)
    print("fortunes 1000 queries 7192 documents",
          evaluate(tr, old, new, fn[:1000], fo[1000:], fn[1000:], is_old, None, calib, calib_query), flush=True)


if __name__ == "__main__":
    main()
