"""The kinds-of-text statistics with a loosely related model: are their lines model-dependent, and does a reference made
of the anchors alone calibrate them?

    python kinds_weak.py py:static_model:get_embeddings e5 foldoc/foldoc debpkg/debpkg wiki/wiki foldoc/debpkg ...

``a/b`` as in pair_check.py: side A of corpus a embedded by the first model (here, when not in the kit), side B of
corpus b by the second. Printed: the pair profile and the collection profile (both sides) of each case, and of the
reference: the bundled anchors cut in three (1,000 as the pairs, 2,000 as the source collection, the other 2,000 as
the target collection: one kind of text on both sides, no text on both)."""
import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import emb_path, load, splits, texts  # noqa: E402

from v2v_store.anchors import anchor_pairs  # noqa: E402
from v2v_store.metrics import collection_profile_correlation, pair_profile_correlation  # noqa: E402
from v2v_store.texts import embed_cached  # noqa: E402

a, b = sys.argv[1], sys.argv[2]
pairs = anchor_pairs(a, b, 5000)


def side(corpus, model, which):
    held, sa, sb = splits(corpus, "e5")
    rows = sa if which == "a" else sb
    if emb_path(corpus, model).exists():
        return load(corpus, model)[rows]
    every = texts(corpus)
    return embed_cached(model, [every[i] for i in range(rows.start, rows.stop)])


def stats(p, s, t):
    c = collection_profile_correlation(p, s, t)
    return f"pair profile {pair_profile_correlation(p, s, t):.3f}, collection profile {c[0]:.3f} / {c[1]:.3f}"


ref = ((pairs[0][:1000], pairs[1][:1000]), pairs[0][1000:3000], pairs[1][3000:5000])
print(f"{a} / {b} reference (anchors cut in three): {stats(*ref)}", flush=True)
for case in sys.argv[3:]:
    s, t = case.split("/")
    print(f"  {case}: {stats(pairs, side(s, a, 'a'), side(t, b, 'b'))}", flush=True)
