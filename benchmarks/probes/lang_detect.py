"""Which bundled anchor language a collection is in, label-free (session 50): the mean over up to 1,000 of its vectors
of the best cosine to R bundled sentences of each language, in its own model's space. Prints the score per language
and side; a language beats English when its score is higher on both sides."""
import sys
import numpy as np
import anchor_languages as al
from kit import load, splits
from v2v_store.texts import embed_cached

R = int(sys.argv[1]) if len(sys.argv) > 1 else 300
anchors = al.anchor_texts()
corpora = {k: {m: embed_cached(m, v) for m in al.MODELS} for k, v in al.eval_texts().items()}
for kit_corpus in ("fortunes", "wiki"):
    held, _, _ = splits(kit_corpus, "minilm")
    corpora[f"kit {kit_corpus}"] = {m: load(kit_corpus, m)[held][:3000].astype(np.float32) for m in al.MODELS}


def unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


for name, corpus in corpora.items():
    cells, wins = [], {lang: True for lang in anchors if lang != "en"}
    for m in al.MODELS:
        x = unit(corpus[m][:1000])
        score = {lang: float((x @ unit(embed_cached(m, t)[-R:]).T).max(1).mean()) for lang, t in anchors.items()}
        cells.append(f"{m}: " + " ".join(f"{lang} {s:.3f}" for lang, s in score.items()))
        for lang in wins:
            wins[lang] &= score[lang] > score["en"]
    print(f"{name}: " + " | ".join(cells) + f" -> add {[l for l, w in wins.items() if w] or 'none'}")
