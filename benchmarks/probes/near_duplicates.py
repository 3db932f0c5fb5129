"""Collections with near-duplicate records: edited variants of one text, as templated pages, repeated boilerplate
with a changing number or date, and overlapping chunks produce (session 52).

    python benchmarks/probes/near_duplicates.py 6000x10@0.05 6000x1

Each argument NxC[@F]: the first N texts of each kit wiki side (MiniLM -> e5, disjoint texts); the first share F of
them (all without @F) stored as C records each: the text itself and C-1 *variants* (a page number, a date, a section
heading, a word dropped), each variant embedded by the side's model (cached under ``~/.cache/v2v-store/probes``).
Unlike ``duplicates.py`` the variants are different vectors (cosine 0.8-0.99 to their text), so counting copies once
(session 51) does not see them. Then ``v2v_store.fit.fit_translator`` with R restarts (8), one finalist; prints the
verdict, each restart's (label-free score, mutual-NN fraction), held-out top-1 among 1,000, how many vectors each side
kept and the reason. ``SEED`` the fit's seed (0); ``NEAR`` the centred cosine from which vectors are near-copies
(``train.data.NEAR_DUPLICATE_COSINE``; ``NEAR=1`` counts them as distinct, as every fit did before session 52). The
fit counts near-copies once only where they are 10% or more of a side (``NEAR_DUPLICATE_SHARE``, the session's last
change): ``6000x10@0.05`` and ``6000x2`` are above it, ``6000x1`` below (its rows in ``near_duplicates.txt`` ran
before the rule). Run from the repository root."""
import hashlib
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import load, splits, texts  # noqa: E402

import v2v_store.train.data  # noqa: E402
from v2v_store.fit import fit_translator  # noqa: E402
from v2v_store.models import cache_dir, load_encoder  # noqa: E402

TEMPLATES = [
    lambda t, i: f"{t} (page {i + 2} of 14)",
    lambda t, i: f"Updated 2024-{i % 12 + 1:02d}-{3 * i + 4:02d}. {t}",
    lambda t, i: f"Section {i + 1}: {t}",
    lambda t, i: " ".join(w for j, w in enumerate(t.split()) if j != (i % max(1, len(t.split())))),
    lambda t, i: f"{t} See also part {i + 3}.",
    lambda t, i: f"[{['News', 'Archive', 'Home', 'Blog', 'Help'][i % 5]}] {t}",
]


def variants(text: str, count: int) -> list[str]:
    """``count`` edited versions of ``text``, each a template of :data:`TEMPLATES` with its own number."""
    return [TEMPLATES[i % len(TEMPLATES)](text, i) for i in range(count)]


def embed_cached(model: str, items: list[str]) -> np.ndarray:
    key = hashlib.sha1("\n".join(items).encode()).hexdigest()[:16]
    path = cache_dir() / "probes" / f"near_duplicates.{model}.{key}.npy"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, load_encoder(model)(items).astype(np.float32))
    return np.load(path)


if os.environ.get("NEAR"):
    v2v_store.train.data.NEAR_DUPLICATE_COSINE = float(os.environ["NEAR"])
held, sa, sb = splits("wiki", "minilm")
A, B, T = load("wiki", "minilm"), load("wiki", "e5"), texts("wiki")
ea, eb = A[held][:1000], B[held][:1000]
overrides = {"restarts": int(os.environ.get("R", 8)), "more_restarts": 0, "final_candidates": 1}
rng = np.random.default_rng(0)


def stored(vectors: np.ndarray, rows: range, model: str, copies: int, share: float) -> np.ndarray:
    """``vectors`` (of texts ``rows``) with, for the first ``share`` of them, ``copies - 1`` variants each, shuffled."""
    edited = [T[r] for r in rows[:int(round(share * len(rows)))]]
    extra = [v for t in edited for v in variants(t, copies - 1)]
    out = np.concatenate([vectors, embed_cached(model, extra)]) if extra else vectors
    return out[rng.permutation(len(out))]


for arg in sys.argv[1:]:
    size, _, share = arg.partition("@")
    n, copies = map(int, size.split("x"))
    rows_a, rows_b = range(sa.start, sa.start + n), range(sb.start, sb.start + n)
    src = stored(A[sa][:n], rows_a, "minilm", copies, float(share or 1))
    tgt = stored(B[sb][:n], rows_b, "e5", copies, float(share or 1))
    _, report = fit_translator(src, tgt, ("minilm", "e5"), align_overrides=overrides, eval_pairs=(ea, eb),
                               seed=int(os.environ.get("SEED", 0)))
    restarts = report.details.get("restarts", [])
    print(arg, len(src), len(tgt), "trusted" if report.trusted else "untrusted",
          [(round(r["score"], 3), round(r["mutual_fraction"], 3)) for r in restarts],
          round(report.paired["minilm->e5"]["top1"], 3), report.details.get("repeated_vectors"), report.reason,
          flush=True)
