"""Does a record's nearness to the sentences a map was fitted on tell which records it translates poorly (session
75)? Run from this directory with the project venv, on the kit:

    python anchor_support.py e5 minilm > anchor_support_e5_minilm.txt
    python anchor_support.py minilm e5 > anchor_support_minilm_e5.txt

The map: orthogonal Procrustes on the kit's 13,805 true wiki pairs of side A (as good as `v2v fit`'s default on the
records below: `../results/odd_translations.md`). A record's support: the mean cosine, after the source's centring
(unit, minus the wiki mean, unit), to its 10 nearest of the 5,000 anchor texts `v2v fit` embeds by both models
(Wikipedia sentences, as the kit's wiki is). Scored: 1,000 generated records of each of 14 odd kinds
(`two_models.odd_records`), the 8,192 held-out wiki sentences and the kit's 8,192 fortunes (another kind of sentence,
translated well). Printed per set: top-1 among its own records, mean support, the share below the wiki sentences'
1st percentile of support, and the AUC of support against top-1 within wiki and fortunes.
"""
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import two_models  # noqa: E402
from kit import EVAL, SIDE_A, load  # noqa: E402

from v2v_store.anchors import anchor_pairs  # noqa: E402
from v2v_store.texts import embed_cached  # noqa: E402
from v2v_store.train.linear import fit_procrustes  # noqa: E402
from v2v_store.translator import Space, Translator  # noqa: E402

src, tgt = sys.argv[1], sys.argv[2]
unit = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)  # noqa: E731
wiki = {m: load("wiki", m) for m in (src, tgt)}
sets = {kind: {m: embed_cached(m, list(dict.fromkeys(texts))) for m in (src, tgt)}
        for kind, texts in two_models.odd_records(1000, seed=5).items()}
sets["wiki"] = {m: wiki[m][EVAL] for m in (src, tgt)}
sets["fortunes"] = {m: load("fortunes", m)[:8192] for m in (src, tgt)}
translator = Translator.from_linear_map(fit_procrustes((wiki[src][SIDE_A], wiki[tgt][SIDE_A])),
                                        Space(src, wiki[src].shape[1]), Space(tgt, wiki[tgt].shape[1]))
mean = unit(wiki[src][SIDE_A]).mean(0)
centred = lambda v: unit(unit(v) - mean)  # noqa: E731
anchors = centred(anchor_pairs(src, tgt, 5000)[0])
support, top1 = {}, {}
for name, vectors in sets.items():
    translated = unit(translator.translate(vectors[src], src, tgt, role="queries"))
    top1[name] = (translated @ unit(vectors[tgt]).T).argmax(1) == np.arange(len(translated))
    support[name] = np.sort(centred(vectors[src]) @ anchors.T, axis=1)[:, -10:].mean(1)
floor = np.percentile(support["wiki"], 1)
print(f"{src} -> {tgt}: set, top-1, mean support, share below wiki's 1st percentile ({floor:.3f})")
for name in sets:
    print(f"{name:12s} {top1[name].mean():.2f}  {support[name].mean():.3f}  {np.mean(support[name] < floor):.2f}")
for name in ("wiki", "fortunes"):
    low = support[name] < np.percentile(support[name], 5)
    print(f"within {name}: AUC of support for top-1 {roc_auc_score(top1[name], support[name]):.2f}; top-1 of the "
          f"5% least supported {top1[name][low].mean():.3f}, of the rest {top1[name][~low].mean():.3f}")
