"""`anchor_mixture.py` for pairs with mpnet, smaller (mpnet embeds ~16 texts/s here), session 76:

    python anchor_mixture_mpnet.py > anchor_mixture_mpnet.txt

The two anchor sets of the default's choice (5,000 Wikipedia sentences; 3,750 of them and 1,250 stdlib docstring
sentences: `v2v fit`'s since session 76), Procrustes centred on the test corpus, top-1 among 1,000 test pairs per
corpus (wiki, fortunes: the kit's rows 0-999; stdlib: rows 5,000-5,999; debpkg, gettext, wordnet: their first 1,000),
for minilm <-> mpnet, e5 <-> mpnet and, for comparison at this size, minilm <-> e5.
"""
import sys
from pathlib import Path

import numpy as np
from anchor_mixture import procrustes_top1, stdlib_sentences

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import build_kit  # noqa: E402
from kit import load  # noqa: E402

from v2v_store.texts import embed_cached  # noqa: E402

TEST, MODELS = 1000, ("minilm", "e5", "mpnet")


def main() -> None:
    stdlib = stdlib_sentences()
    texts = {name: [t["text"] for t in getattr(build_kit, f"{name}_texts")(Path.home() / ".cache/v2v-store/kit")[:TEST]]
             for name in ("debpkg", "gettext", "wordnet")}
    texts["stdlib"] = stdlib[5000:5000 + TEST]
    test = {name: {m: embed_cached(m, t) for m in MODELS} for name, t in texts.items()}
    for name in ("wiki", "fortunes"):
        test[name] = {m: load(name, m)[:TEST] for m in MODELS}
    wiki = {m: load("wiki", m)[8192:8192 + 5000] for m in MODELS}
    docs = {m: embed_cached(m, stdlib[:1250]) for m in MODELS}
    anchor_sets = {"wiki 5000": wiki, "wiki 3750 + stdlib 1250": {m: np.concatenate([wiki[m][:3750], docs[m]])
                                                                  for m in MODELS}}
    names = ["wiki", "fortunes", "stdlib", "debpkg", "gettext", "wordnet"]
    print(f"top-1 among {TEST} of each test corpus, A->B / B->A; Procrustes on 5,000 anchor pairs, centred on it")
    for a, b in (("minilm", "mpnet"), ("e5", "mpnet"), ("minilm", "e5")):
        print(f"\n{a} <-> {b}".ljust(30) + "".join(n.rjust(13) for n in names))
        for label, pairs in anchor_sets.items():
            cells = []
            for name in names:
                there, back = procrustes_top1((pairs[a], pairs[b]), test[name][a], test[name][b], a, b)
                cells.append(f"{there:.3f}/{back:.3f}")
            print(label.ljust(29) + "".join(c.rjust(13) for c in cells), flush=True)


if __name__ == "__main__":
    main()
