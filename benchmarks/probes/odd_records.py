"""Collections with odd records (session 73): builds the .npy files behind the probes of `README.md`, "Odd records in
a collection". Run from this directory with the project venv, on the kit:

    python odd_records.py OUT_DIR

then, in OUT_DIR (the commands the section quotes):

    v2v fit --source src.npy --target tgt.npy --out tr_auto --eval-source eval_e5.npy --eval-target eval_minilm.npy
    v2v fit --source src_clean.npy --target tgt_clean.npy --out tr_clean --eval-source eval_e5.npy --eval-target eval_minilm.npy
    v2v fit ... --method align                                  (the same two, unsupervised)
    v2v fit --source src_clean.npy --target tgt_clean.npy --source-name e5 --target-name minilm --method anchors --out tr_e5_minilm
    v2v migrate --translator tr_e5_minilm --source npy://$PWD/one_sku_e5.npy --dest npy://$PWD/out.npy [--source-space e5]

- src.npy / tgt.npy: the kit's e5 wiki side A / MiniLM side B (13,805 each) with 20% odd records of 14 kinds
  (`two_models.odd_records`, 250 of each, other draws on each side), shuffled; src_clean / tgt_clean without them;
  eval_*: the 8,192 held-out sentences.
- one_KIND_MODEL.npy: 2,400 records of one kind (ids, prices, e-mail addresses, dates, numbers) first, then 8,000 wiki
  sentences, by e5 and by MiniLM: a collection sorted by kind.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import two_models  # noqa: E402
from kit import load  # noqa: E402

from v2v_store.texts import embed_cached  # noqa: E402

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
e5, minilm = load("wiki", "e5"), load("wiki", "minilm")
rng = np.random.default_rng(0)
odd_source = np.concatenate([embed_cached("e5", t) for t in two_models.odd_records(n=250, seed=2).values()])
odd_target = np.concatenate([embed_cached("minilm", t) for t in two_models.odd_records(n=250, seed=3).values()])
source, target = np.concatenate([e5[8192:21997], odd_source]), np.concatenate([minilm[21997:], odd_target])
np.save(out / "src.npy", source[rng.permutation(len(source))])
np.save(out / "tgt.npy", target[rng.permutation(len(target))])
np.save(out / "src_clean.npy", e5[8192:21997])
np.save(out / "tgt_clean.npy", minilm[21997:])
np.save(out / "eval_e5.npy", e5[:8192])
np.save(out / "eval_minilm.npy", minilm[:8192])
kinds = two_models.odd_records(n=2400, seed=1)
for model, wiki in (("e5", e5), ("minilm", minilm)):
    for kind in ("sku", "prices", "emails", "dates", "numbers"):
        np.save(out / f"one_{kind}_{model}.npy", np.concatenate([embed_cached(model, kinds[kind]), wiki[:8000]]))
