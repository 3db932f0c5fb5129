"""Which anchors move ``pairs_relatedness``: the Wikipedia sentences or the documentation sentences?

    PYTHONPATH=.. python relatedness_kinds.py

Since session 76 a quarter of the 5,000 anchors are documentation sentences (the last 1,250); the relatedness line
(``v2v_store.fit.RELATED_BELOW``) was drawn on 5,000 Wikipedia anchors. Per model pair (those installed): the
statistic on the Wikipedia anchors it was drawn on, on today's anchors, and today's out-of-fold top-1 (the same ranks
``pairs_relatedness`` averages) split by the kind of anchor: the Wikipedia rows and the documentation rows."""
import importlib.util
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from v2v_store.anchors import DOC_SHARE, anchor_pairs, anchor_texts  # noqa: E402
from v2v_store.metrics import out_of_fold_ranks, pairs_relatedness  # noqa: E402
from v2v_store.texts import embed_cached  # noqa: E402

N = 5000
docs = round(N * DOC_SHARE)  # anchor_texts puts them after the Wikipedia sentences
cases = [("minilm", "e5"), ("mpnet", "e5")]
sre = importlib.util.find_spec("sre_embedding_model")
if sre:
    cases.append((str(Path(sre.origin).parent / "model_weights"), "e5"))
if importlib.util.find_spec("onnxruntime") and importlib.util.find_spec("user_models"):
    cases.append(("py:user_models.paraphrase_l3:embed", "e5"))
if importlib.util.find_spec("static_model"):
    cases.append(("py:static_model:get_embeddings", "e5"))
print(f"today's anchors: {N - docs} Wikipedia sentences, then {docs} documentation sentences")


def pca(pairs, k, basis_of):
    mean = basis_of.mean(0)
    basis = np.linalg.svd(basis_of - mean, full_matrices=False)[2]
    z = (pairs[0] - mean) @ basis[:k].T
    return (z / np.linalg.norm(z, axis=1, keepdims=True)).astype(np.float32), pairs[1]


for a, b in cases + [("pca", 48), ("pca", 64), ("pca", 128)]:
    if a == "pca":  # MiniLM cut to its top-k principal components (of each anchor set's MiniLM side), against e5
        today = anchor_pairs("minilm", "e5", N)
        wiki_texts = anchor_texts(N, docs=False)
        wiki = (embed_cached("minilm", wiki_texts), embed_cached("e5", wiki_texts))
        today, wiki, label = pca(today, b, today[0]), pca(wiki, b, wiki[0]), f"minilm top-{b} / e5"
    else:
        today = anchor_pairs(a, b, N)
        wiki_texts = anchor_texts(N, docs=False)
        wiki = (embed_cached(a, wiki_texts), embed_cached(b, wiki_texts))
        label = f"{a.split('/')[-2] if '/' in a else a} / {b}"
    there, back, whole = out_of_fold_ranks(today)
    first = np.concatenate([there, back]) == 1
    kind = np.r_[np.zeros(N - docs, bool), np.ones(docs, bool)]
    kind2 = np.concatenate([kind, kind])
    print(f"{label:40s} Wikipedia anchors {pairs_relatedness(wiki):.4f}; today's {pairs_relatedness(today):.4f}: "
          f"its Wikipedia rows {first[~kind2].mean():.4f}, documentation rows {first[kind2].mean():.4f}", flush=True)
