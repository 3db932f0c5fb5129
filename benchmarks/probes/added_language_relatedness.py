"""How closely two models relate the anchors of each bundled language (session 79): ``pairs_relatedness`` on the 5,000
anchors ``v2v fit --anchor-languages auto`` adds in French or Spanish, beside the English ones'. ``v2v fit`` warns
that collections in the added language need some of their own texts when this is below ``RELATED_BELOW``.

    PYTHONPATH=.. python added_language_relatedness.py      # pairs whose models are installed; mpnet is optional"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from v2v_store.anchors import anchor_pairs  # noqa: E402
from v2v_store.errors import MissingDependencyError  # noqa: E402
from v2v_store.metrics import pairs_relatedness  # noqa: E402

for a, b in (("minilm", "e5"), ("minilm", "mpnet"), ("e5", "mpnet")):
    for language in ("en", "fr", "es"):
        try:
            value = f"{pairs_relatedness(anchor_pairs(a, b, 5000, (language,))):.4f}"
        except MissingDependencyError as e:
            value = f"skipped ({e})"
        print(f"{a} / {b}, {language} anchors: {value}", flush=True)
