"""The two kinds-of-text statistics on collections cut by topic inside one corpus: kinds of text that are equally
near the paired texts (the case the anchor profile misses between FOLDOC and package summaries).

    python kinds_topics.py

MiniLM / e5. Wiki: side A rows of one set of topics as the source, side B rows of another as the target, the kit's
first 5,000 held-out pairs as the pairs (what ``--pair-texts`` gives). Fortunes: side A / side B rows by category, the
5,000 bundled wiki anchors as the pairs (out of domain for both). Prints the pair profile
(``v2v_store.metrics.pair_profile_correlation``) and the collection profile
(``v2v_store.metrics.collection_profile_correlation``, both sides)."""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import KIT, load, splits  # noqa: E402

from v2v_store.anchors import anchor_pairs  # noqa: E402
from v2v_store.metrics import collection_profile_correlation, pair_profile_correlation  # noqa: E402

a, b = "minilm", "e5"


def labels(corpus, field):
    return np.array([json.loads(line)[field] for line in open(KIT / f"{corpus}.jsonl")])


def rows(corpus, field, side, kinds):
    held, sa, sb = splits(corpus, a)
    s = sa if side == "a" else sb
    lab = labels(corpus, field)[s]
    return np.arange(s.start, s.stop)[np.isin(lab, kinds)]


WIKI = {"people": ["People"], "bio": ["Biology and health sciences"], "geo": ["Geography"],
        "tech": ["Technology", "Mathematics", "Physical sciences"], "arts": ["Arts", "History"]}
FORT = {"tech": ["computers", "linux", "perl", "debian", "linuxcookie", "science"],
        "human": ["people", "men-women", "love", "work", "politics", "kids", "food"],
        "quips": ["cookie", "zippy", "platitudes", "wisdom", "fortunes", "miscellaneous"]}
cases = [("wiki", "topic", WIKI, s, t) for s, t in [("people", "people"), ("bio", "bio"), ("geo", "geo"),
                                                   ("tech", "tech"), ("people", "bio"), ("bio", "geo"),
                                                   ("geo", "people"), ("tech", "arts"), ("arts", "tech")]]
cases += [("fortunes", "category", FORT, s, t) for s, t in [("tech", "tech"), ("human", "human"), ("quips", "quips"),
                                                            ("tech", "human"), ("human", "tech"), ("quips", "tech")]]
wiki_pairs = (load("wiki", a)[:5000], load("wiki", b)[:5000])
anchors = anchor_pairs(a, b, 5000)
for corpus, field, groups, s, t in cases:
    pairs = wiki_pairs if corpus == "wiki" else anchors
    xs = load(corpus, a)[rows(corpus, field, "a", groups[s])]
    yt = load(corpus, b)[rows(corpus, field, "b", groups[t])]
    n = min(len(xs), len(yt), 4000)
    xs, yt = xs[:n], yt[:n]
    r = pair_profile_correlation(pairs, xs, yt)
    c = collection_profile_correlation(pairs, xs, yt)
    print(f"{corpus:8s} {s:5s} / {t:5s} ({n} per side): pair profile {r:.3f}, collection profile "
          f"{c[0]:.3f} / {c[1]:.3f}", flush=True)
