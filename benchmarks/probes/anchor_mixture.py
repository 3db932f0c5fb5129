"""Would anchors of several kinds of text place collections of an unseen kind better than Wikipedia sentences alone
(session 76)? Run from this directory with the project venv, on the kit (embeddings cached after the first run):

    python anchor_mixture.py minilm e5 > anchor_mixture_minilm_e5.txt

`v2v fit`'s anchors are 5,000 Wikipedia sentences embedded by both models; on collections of other kinds (package
summaries, software messages) its maps reach 93-96% of the oracle. Here each anchor set (5,000 pairs in all, the same
count) fits orthogonal Procrustes centred on the collection, as `--method anchors` does, and the map is scored on
2,000 true pairs of each test corpus (top-1 among the corpus's 2,000, both directions). Anchor kinds: the kit's wiki
sentences (rows 8,192+), the kit's fortunes (rows 8,192+), and sentences of the Python standard library's docstrings
(present wherever Python is). Test corpora: the kit's wiki (rows 0-1,999) and fortunes (rows 0-1,999), other stdlib
docstring sentences, and five kinds no anchor set holds: Debian package summaries, gettext messages, the Jargon File,
WordNet glosses and FOLDOC (`build_kit.py`'s texts).
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import build_kit  # noqa: E402
from build_doc_sentences import stdlib_sentences  # noqa: E402  (the shipped documentation sentences' recipe)
from kit import load  # noqa: E402

from v2v_store.texts import embed_cached  # noqa: E402
from v2v_store.train.linear import fit_procrustes  # noqa: E402
from v2v_store.translator import Space, Translator  # noqa: E402

TEST = 2000


def corpus(name: str, models: tuple[str, str]) -> dict[str, dict[str, np.ndarray]]:
    if name in ("wiki", "fortunes"):
        return {m: load(name, m) for m in models}
    texts = stdlib_sentences()[:5000 + TEST] if name == "stdlib" else \
        [t["text"] for t in getattr(build_kit, f"{name}_texts")(Path.home() / ".cache/v2v-store/kit")[:TEST]]
    return {m: embed_cached(m, texts) for m in models}


def top1(translator, x: np.ndarray, y: np.ndarray, src: str, tgt: str) -> float:
    """The share of ``x`` whose translation (as a query) has its own partner nearest among ``y``, row for row (the
    probes' tables; ``metrics.translation_metrics`` scores the same, ties apart)."""
    unit = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)  # noqa: E731
    t = unit(translator.translate(np.asarray(x, np.float32), src, tgt, role="queries"))
    return float(np.mean((t @ unit(np.asarray(y, np.float32)).T).argmax(1) == np.arange(len(t))))


def procrustes_top1(pairs, xs: np.ndarray, ys: np.ndarray, a: str, b: str) -> tuple[float, float]:
    """Top-1 both ways on the test pairs ``xs``, ``ys`` of Procrustes on anchor ``pairs`` centred on them."""
    translator = Translator.from_linear_map(fit_procrustes(pairs, centre_on=(xs, ys)), Space(a, xs.shape[1]),
                                            Space(b, ys.shape[1]))
    return top1(translator, xs, ys, a, b), top1(translator, ys, xs, b, a)


def main() -> None:
    a, b = sys.argv[1], sys.argv[2]
    data = {name: corpus(name, (a, b))
            for name in ("wiki", "fortunes", "stdlib", "debpkg", "gettext", "jargon", "wordnet", "foldoc")}
    test = {"wiki": slice(0, TEST), "fortunes": slice(0, TEST), "stdlib": slice(5000, 5000 + TEST),
            "debpkg": slice(0, TEST), "gettext": slice(0, TEST), "jargon": slice(0, TEST), "wordnet": slice(0, TEST),
            "foldoc": slice(0, TEST)}

    def rows(name: str, count: int) -> dict[str, np.ndarray]:
        start = 0 if name == "stdlib" else 8192
        return {m: data[name][m][start:start + count] for m in (a, b)}

    anchor_sets = {"wiki 5000": {"wiki": 5000},
                   "wiki 2500 + fortunes 2500": {"wiki": 2500, "fortunes": 2500},
                   "wiki 2500 + stdlib 2500": {"wiki": 2500, "stdlib": 2500},
                   "wiki 3750 + stdlib 1250": {"wiki": 3750, "stdlib": 1250},
                   "wiki 1700 + fortunes 1650 + stdlib 1650": {"wiki": 1700, "fortunes": 1650, "stdlib": 1650},
                   "stdlib 5000": {"stdlib": 5000},
                   "wiki 5000 + stdlib 5000 (10,000)": {"wiki": 5000, "stdlib": 5000}}
    print(f"{a} <-> {b}: top-1 among {TEST} of each test corpus, {a}->{b} / {b}->{a}; Procrustes on 5,000 anchor "
          "pairs, centred on the test corpus")
    print("anchors".ljust(40) + "".join(n.rjust(13) for n in test))
    for label, parts in anchor_sets.items():
        pairs = [np.concatenate([rows(n, c)[m] for n, c in parts.items()]) for m in (a, b)]
        cells = []
        for name, part in test.items():
            there, back = procrustes_top1((pairs[0], pairs[1]), data[name][a][part], data[name][b][part], a, b)
            cells.append(f"{there:.3f}/{back:.3f}")
        print(label.ljust(40) + "".join(c.rjust(13) for c in cells), flush=True)


if __name__ == "__main__":
    main()
