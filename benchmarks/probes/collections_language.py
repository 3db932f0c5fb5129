"""What ``v2v fit --anchor-languages auto`` decides for a corpus's two collections (session 79): the product's own
check, ``v2v_store.anchors.collections_language``, on side A embedded by the source model and side B by the target.

    python probes/collections_language.py fortunes-de fortunes-es fortunes-it gettext-de --models minilm e5

Prints the language it picks and its scores (mean best cosine to 300 bundled sentences of each language, per side)."""
import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import load, splits  # noqa: E402

from v2v_store.anchors import collections_language  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("corpora", nargs="+")
ap.add_argument("--models", nargs=2, default=["minilm", "e5"])
args = ap.parse_args()
a, b = args.models
for corpus in args.corpora:
    _, side_a, side_b = splits(corpus, b)
    found, scores = collections_language((load(corpus, a)[side_a].astype(np.float32),
                                          load(corpus, b)[side_b].astype(np.float32)), (a, b))
    cells = " | ".join(f"{lang} {s[0]:.3f} / {s[1]:.3f}" for lang, s in scores.items())
    print(f"{corpus} ({a} / {b}): {cells} -> {found}", flush=True)
