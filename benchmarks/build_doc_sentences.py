"""Build the documentation sentences v2v-store ships as anchors beside the Wikipedia ones
(``v2v_store/doc_sentences.txt``).

    python benchmarks/build_doc_sentences.py [--count 5000]

Sentences (30-300 characters) of the docstrings of the Python standard library this runs on (3.11 for the shipped
file; test suites, idlelib and lib2to3 left out, paragraphs holding ``>>>`` examples skipped), first occurrence of
each, in a seeded order (seed 0), the first ``--count``. Shipped rather than read from the user's Python at run time
so the anchors are the same texts on every machine (their embeddings are cached by a hash of the texts). Why
documentation sentences: Wikipedia sentences alone place collections of technical text poorly (Procrustes on them:
package summaries top-1 0.76, software messages 0.71); a quarter of the anchors taken from these lifts those to 0.87
/ 0.85 and costs Wikipedia and WordNet glosses little (``benchmarks/probes/anchor_mixture*.txt``, session 76).
The Python standard library's docstrings are under the PSF License Version 2 (https://docs.python.org/3/license.html).
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import sysconfig
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_kit import docstrings  # noqa: E402

from v2v_store.texts import DOC_SENTENCES  # noqa: E402

HEADER = ("# Sentences of the docstrings of the Python {version} standard library (PSF License Version 2,"
          " https://docs.python.org/3/license.html), one per line: v2v-store's documentation anchors."
          " Built by benchmarks/build_doc_sentences.py.")


def stdlib_sentences() -> list[str]:
    """Sentences (30-300 characters) of the standard library's docstrings, in a seeded order."""
    root = Path(sysconfig.get_paths()["stdlib"])
    seen: dict[str, None] = {}
    for _, doc in docstrings(root, {"test", "tests", "idlelib", "lib2to3", "site-packages"}):
        for paragraph in doc.split("\n\n"):
            text = " ".join(paragraph.split())
            if ">>>" in text:
                continue
            for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z])", text):
                if 30 <= len(sentence) <= 300:
                    seen.setdefault(sentence)
    texts = list(seen)
    return [texts[i] for i in np.random.default_rng(0).permutation(len(texts))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=5000, help="sentences shipped")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)
    texts = stdlib_sentences()[:args.count]
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    DOC_SENTENCES.write_text("\n".join([HEADER.format(version=version), *texts]) + "\n", encoding="utf-8")
    logging.info("wrote %d sentences to %s", len(texts), DOC_SENTENCES)


if __name__ == "__main__":
    main()
