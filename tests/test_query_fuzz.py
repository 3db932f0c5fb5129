"""Random cross-collection queries checked against brute force over the vectors the stores hold: latent mode over one
to three collections of mixed stores and spaces, native mode over one collection of each store and metric, with and
without a filter, queries of either space, k past the count, latent indexes built or loaded from a latent cache. Each case is drawn from its seed (``-k "latent-7"``)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from conftest import read_records

from v2v_store import VectorBatch, open_store
from v2v_store.connectors.where import Where
from v2v_store.query import CrossQuery
from v2v_store.synthetic import views
from v2v_store.train.linear import fit_procrustes
from v2v_store.translator import Space, Translator

STORES = {"faiss": "faiss://{p}/{name}.faiss",
          "chroma": "chroma://{p}/chroma?collection={name}",
          "qdrant-edge": "qdrant-edge://{p}/{name}",
          "qdrant": "qdrant://{p}/qdrant?collection={name}"}
CASES = int(os.environ.get("V2V_FUZZ_CASES", 50))  # more, to hunt: V2V_FUZZ_CASES=1000


@pytest.fixture(scope="module")
def translator():
    a, b = views(2000, seed=11)
    tr = Translator.from_linear_map(fit_procrustes((a, b)), Space("x", a.shape[1]), Space("y", b.shape[1]))
    tr.calibrate_queries(a[:1000], b[1000:])  # a score map between the spaces, as `v2v fit` gives
    return tr


def random_collection(rng: np.random.Generator, root, name: str, space: str, metric: str, vectors: np.ndarray,
                      start: int) -> tuple[str, dict]:
    """A collection of a random store holding ``vectors`` (ids ``start``...), each record's metadata random; returns
    its URI and what it holds as read back: id -> (vector, metadata, document)."""
    uri = STORES[str(rng.choice(list(STORES)))].format(p=root, name=name)
    if metric != "cosine":  # lengths that rank differently from directions
        vectors = vectors * rng.uniform(0.5, 2.0, size=(len(vectors), 1)).astype(np.float32)
    ids = [start + i if rng.random() < 0.5 else f"{name}-{i}" for i in range(len(vectors))]
    metadata = [{"n": int(rng.integers(100)), "tag": str(rng.choice(["a", "b", "c"]))} for _ in ids]
    with open_store(uri, dim=vectors.shape[1], metric=metric) as store:
        store.upsert(VectorBatch(ids, vectors, metadata, [f"doc {i}" for i in ids]))
    return uri, read_records(uri)


def random_filter(rng: np.random.Generator) -> Where | None:
    return [None, Where.parse([f"n>={int(rng.integers(100))}"]), Where.parse([f"tag={rng.choice(['a', 'b'])}"]),
            Where.parse(["tag=a|tag=c", f"n<{int(rng.integers(20, 100))}"])][int(rng.integers(4))]


def expected_top(scores: np.ndarray, keys: list, metadata: list, where: Where | None, k: int) -> list:
    kept = [r for r in np.argsort(-scores, kind="stable") if where is None or where.holds(metadata[r])]
    return [keys[r] for r in kept[:k]]


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("seed", range(CASES), ids=[f"latent-{s}" for s in range(CASES)])
def test_a_random_latent_query_over_mixed_collections_is_brute_force(seed, translator, tmp_path):
    rng = np.random.default_rng(seed)
    x, y = views(900, seed=100 + seed)
    collections, keys, metadata, blocks = [], [], [], []
    for c in range(int(rng.integers(1, 4))):
        space = str(rng.choice(["x", "y"]))
        rows = slice(c * 250, c * 250 + int(rng.integers(5, 250)))
        uri, held = random_collection(rng, tmp_path, f"col{c}", space, "cosine", (x if space == "x" else y)[rows],
                                      start=c * 1000)
        collections.append((uri, space))
        keys += [(uri, i) for i in held]
        metadata += [m for _, m, _ in held.values()]
        blocks.append((space, np.stack([v for v, _, _ in held.values()])))
    query_space = str(rng.choice(["x", "y"]))
    queries = (x if query_space == "x" else y)[750:750 + int(rng.integers(1, 6))]
    k, where = int(rng.choice([1, 5, 20, 2000])), random_filter(rng)
    scores = np.concatenate([
        translator.latent_score(query_space, space)[0]
        * translator.to_space(queries, query_space, into=space, role="queries") @ translator.to_space(v, space).T
        + translator.latent_score(query_space, space)[1] for space, v in blocks], axis=1)
    records = dict(zip(keys, metadata))
    cache = tmp_path / "cache" if rng.random() < 0.5 else None
    for _ in range(2 if cache else 1):  # with a latent cache: built and written, then loaded
        with CrossQuery(translator, collections, mode="latent", latent_cache=cache) as cross:
            hits = cross.search(queries, space=query_space, k=k, where=where)
        for qi, row in enumerate(hits):
            assert [(h.collection, h.id) for h in row] == expected_top(scores[qi], keys, metadata, where, k), (seed, qi)
            assert all(h.metadata == records[h.collection, h.id] for h in row)


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("seed", range(CASES), ids=[f"native-{s}" for s in range(CASES)])
def test_a_random_native_query_of_one_collection_is_brute_force(seed, translator, tmp_path):
    rng = np.random.default_rng(10_000 + seed)
    x, y = views(400, seed=200 + seed)
    space, metric = str(rng.choice(["x", "y"])), str(rng.choice(["cosine", "dot", "l2"]))
    uri, held = random_collection(rng, tmp_path, "col", space, metric,
                                  (x if space == "x" else y)[:int(rng.integers(5, 300))], start=0)
    query_space = str(rng.choice(["x", "y"]))
    queries = (x if query_space == "x" else y)[300:300 + int(rng.integers(1, 6))]
    k, where = int(rng.choice([1, 5, 20, 2000])), random_filter(rng)
    stored = np.stack([v for v, _, _ in held.values()])
    q = translator.translate(queries, source=query_space, target=space, role="queries")
    scores = {"cosine": lambda: (q / np.linalg.norm(q, axis=1, keepdims=True)) @ stored.T, "dot": lambda: q @ stored.T,
              "l2": lambda: -((q[:, None, :] - stored[None]) ** 2).sum(-1)}[metric]()
    keys, metadata = list(held), [m for _, m, _ in held.values()]
    with CrossQuery(translator, [(uri, space)], mode="native") as cross:
        hits = cross.search(queries, space=query_space, k=k, where=where)
    for qi, row in enumerate(hits):
        want = expected_top(scores[qi], keys, metadata, where, k)
        got = [h.id for h in row]
        if uri.startswith("chroma") and where is None:  # Chroma's HNSW is approximate: right scores, nearly all found
            assert len(got) == len(want) and len(set(got) & set(want)) >= 0.9 * len(want), (seed, qi, uri)
        else:
            assert got == want, (seed, qi, uri, metric, where)
        np.testing.assert_allclose([h.score for h in row], [scores[qi][keys.index(i)] for i in got],
                                   rtol=1e-4, atol=1e-4)
