"""The kinds-of-text check (`v2v_store.metrics.pair_profile_correlation`) when the pairs are the collection's own kind
of text (what `--pair-texts` gives): the first N held-out pairs of each corpus as the probes, MiniLM side A against e5
side B of the same corpus, and against the wiki e5 side B (another kind).

    python profile_in_domain.py"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import load, splits  # noqa: E402

from v2v_store.metrics import pair_profile_correlation  # noqa: E402

wiki_target = load("wiki", "e5")[splits("wiki", "e5")[2]]
for corpus in sys.argv[1:] or ("debpkg", "foldoc", "wiki"):
    held, side_a, side_b = splits(corpus, "minilm")
    minilm, e5 = load(corpus, "minilm"), load(corpus, "e5")
    for n in (200, 500, 2000):
        pairs = (minilm[held][:n], e5[held][:n])
        same = pair_profile_correlation(pairs, minilm[side_a][:13805], e5[side_b][:13805])
        other = "" if corpus == "wiki" else f", against a wiki target {pair_profile_correlation(pairs, minilm[side_a][:13805], wiki_target):.3f}"
        print(f"{corpus} {n} in-domain pairs: same kind {same:.3f}{other}", flush=True)
