"""Build the model fingerprints v2v-store ships (``v2v_store/model_fingerprints.safetensors``).

    python benchmarks/build_fingerprints.py [--models minilm e5 mpnet] [--texts 5000] [--kit-for mpnet]

Each offline model embeds the bundled Wikipedia sentences (the ``--method anchors`` texts, cached); the fingerprint
is the covariance's spectrum and top eigenvectors (:func:`v2v_store.fingerprints.fingerprint`). ``--kit-for MODEL``
takes that model's vectors from the kit's wiki side A instead (the same corpus, other sentences), for a model whose
weight packages are not installed. ``benchmarks/space_check_collections.py`` measures how well they identify
collections.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kit import SIDE_A, load  # noqa: E402

from v2v_store.anchors import anchor_texts  # noqa: E402
from v2v_store.fingerprints import FINGERPRINTS, fingerprint, save_fingerprints  # noqa: E402
from v2v_store.texts import embed_cached  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["minilm", "e5", "mpnet"])
    ap.add_argument("--texts", type=int, default=5000, help="bundled sentences embedded per model")
    ap.add_argument("--kit-for", nargs="*", default=[], help="models whose vectors come from the kit's wiki side A")
    ap.add_argument("--out", type=Path, default=FINGERPRINTS)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)
    prints, sources = {}, []
    for model in args.models:
        if model in args.kit_for:
            vectors, source = load("wiki", model)[SIDE_A], "the kit's wiki side A (13,805 sentences)"
        else:
            vectors, source = embed_cached(model, anchor_texts(args.texts)), f"{args.texts} bundled sentences"
        prints[model] = fingerprint(vectors)
        sources.append(f"{model}: {source}")
    save_fingerprints(prints, args.out, "covariance fingerprints of unit vectors; " + "; ".join(sources) +
                      f"; python benchmarks/build_fingerprints.py {' '.join(sys.argv[1:])}".rstrip())
    logging.info("wrote %s (%s)", args.out, ", ".join(sources))


if __name__ == "__main__":
    main()
