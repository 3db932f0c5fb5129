"""`anchor_mixture.py`'s anchor sets as `v2v fit` uses anchors by default (`anchors+align`: the anchors as few-shot
pairs beside the collections' own unpaired vectors), session 76. Run from this directory after `anchor_mixture.py`:

    python anchor_mixture_align.py minilm e5 > anchor_mixture_align_minilm_e5.txt

Per test corpus: a source collection of 4,000 texts embedded by A and a disjoint target collection of 4,000 other
texts embedded by B (the kit's wiki: rows of its two training sides), the 2,000 test pairs of `anchor_mixture.py`
held out (top-1 among them, both directions). One seed; anchors weighted as `v2v fit` weights them (1 at this size).
"""
import sys
import time
from pathlib import Path

import numpy as np
from anchor_mixture import TEST, corpus, top1

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import build_kit  # noqa: E402
from kit import SIDE_A, SIDE_B  # noqa: E402

from v2v_store.fit import fit_translator  # noqa: E402
from v2v_store.texts import embed_cached  # noqa: E402

SIDE = 4000


def collections(name: str, a: str, b: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(source side, target side, test source, test target) of one test corpus."""
    if name == "wiki":
        data = corpus("wiki", (a, b))
        return (data[a][SIDE_A][:SIDE], data[b][SIDE_B][:SIDE], data[a][:TEST], data[b][:TEST])
    texts = [t["text"] for t in getattr(build_kit, f"{name}_texts")(Path.home() / ".cache/v2v-store/kit")]
    test = corpus(name, (a, b))
    return (embed_cached(a, texts[TEST:TEST + SIDE]), embed_cached(b, texts[TEST + SIDE:TEST + 2 * SIDE]),
            test[a][:TEST], test[b][:TEST])


def main() -> None:
    a, b = sys.argv[1], sys.argv[2]
    wiki, stdlib = corpus("wiki", (a, b)), corpus("stdlib", (a, b))
    pool = {"wiki": {m: wiki[m][SIDE_B][-5000:] for m in (a, b)}, "stdlib": {m: stdlib[m][:5000] for m in (a, b)}}
    anchor_sets = {"wiki 5000": {"wiki": 5000}, "wiki 3750 + stdlib 1250": {"wiki": 3750, "stdlib": 1250},
                   "wiki 2500 + stdlib 2500": {"wiki": 2500, "stdlib": 2500},
                   "wiki 5000 + stdlib 5000": {"wiki": 5000, "stdlib": 5000}}
    names = sys.argv[3:] or ["wiki", "debpkg", "gettext", "wordnet"]
    print(f"{a} <-> {b}, anchors+align, {SIDE} unpaired per side: top-1 among {TEST}, {a}->{b} / {b}->{a} (fit s)")
    print("anchors".ljust(28) + "".join(n.rjust(22) for n in names), flush=True)
    data = {name: collections(name, a, b) for name in names}
    for label, parts in anchor_sets.items():
        pairs = tuple(np.concatenate([pool[n][m][:c] for n, c in parts.items()]) for m in (a, b))
        cells = []
        for name in names:
            x, y, tx, ty = data[name]
            t0 = time.perf_counter()
            translator, report = fit_translator(x, y, (a, b), method="anchors+align", pairs=pairs, seed=0,
                                                progress=False)
            cells.append(f"{top1(translator, tx, ty, a, b):.3f}/{top1(translator, ty, tx, b, a):.3f}"
                         f" ({time.perf_counter() - t0:.0f}{'' if report.trusted else ' !'})")
        print(label.ljust(28) + "".join(c.rjust(22) for c in cells), flush=True)


if __name__ == "__main__":
    main()
