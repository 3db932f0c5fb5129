"""Oracle Procrustes on a built corpus: the ceiling of a linear map between two models on that corpus.

    python oracle_corpus.py gettext-de minilm e5

Procrustes on the true pairs of side A (side A's texts embedded by both models), evaluated on the held-out pairs
(top-1 among all of them / mean rank, both ways), as ``alignment.py``'s baseline but without running the aligner:
the records' decode, and (session 50) the queries' decode that ``v2v fit --eval-*`` and ``fit_cli.py`` report
(``translation_metrics``)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import load, splits  # noqa: E402
from v2v_store.metrics import paired_metrics, translation_metrics  # noqa: E402
from v2v_store.train.linear import fit_procrustes  # noqa: E402
from v2v_store.translator import Space, Translator  # noqa: E402

corpus, a, b = sys.argv[1:4]
held, side_a, _ = splits(corpus, a)
A, B = load(corpus, a), load(corpus, b)
oracle = Translator.from_linear_map(fit_procrustes((A[side_a], B[side_a])), Space(a, A.shape[1]), Space(b, B.shape[1]))
there = paired_metrics(oracle.translate(A[held], a, b), B[held])
back = paired_metrics(oracle.translate(B[held], b, a), A[held])
print(f"{corpus} {a}<->{b}: oracle Procrustes on {side_a.stop - side_a.start} true pairs; {held.stop - held.start} held out: "
      f"top-1 / rank {there.top1:.3f} / {there.mean_rank:.2f}, back {back.top1:.3f} / {back.mean_rank:.2f}")
there = translation_metrics(oracle, A[held], B[held], a, b)
back = translation_metrics(oracle, B[held], A[held], b, a)
print(f"  queries decoded as queries (as v2v fit --eval-* reports): top-1 / rank {there.top1:.3f} / "
      f"{there.mean_rank:.2f}, back {back.top1:.3f} / {back.mean_rank:.2f}")
