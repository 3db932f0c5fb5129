"""Are a collection's own vectors, the ones the fit saw unpaired and the ones a migration translates, translated as well
as vectors of texts it never saw?

    python seen_vs_unseen.py debpkg minilm e5 [SEED] [N]

`v2v fit`'s default (``fit_collections``: anchors+align with the bundled anchors) on side A (source) and side B
(target) of a built corpus, no documents; then top-1 / mean rank / mean cos, both ways, of the translations of
N held-out texts and of N texts of side A (seen unpaired by the fit, source side) and of side B (seen, target side),
each against the same texts' vectors by the other model, among those N; and, for held-out and side-A texts, the
partner among those N and every side-B vector (the target collection the fit saw). Session 36: at 1,200 vectors per side a
few-shot fit had pulled its own training vectors onto their transport partners (a held-out document check found 0.24
top-1 where unseen texts found 0.95)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kit import load, splits  # noqa: E402
from v2v_store.fit import fit_collections  # noqa: E402
from v2v_store.metrics import paired_metrics, retrieval_among  # noqa: E402

corpus, a, b = sys.argv[1:4]
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
n = int(sys.argv[5]) if len(sys.argv) > 5 else 4096
held, side_a, side_b = splits(corpus, a)
A, B = load(corpus, a), load(corpus, b)
tr, report = fit_collections(A[side_a], B[side_b], (a, b), seed=seed)
print(f"{corpus} {a} -> {b}, seed {seed}: {report.method}, trusted {report.trusted}, {report.seconds:.0f} s")
for name, rows in (("unseen (held out)", range(held.start, held.start + n)),
                   (f"seen: side A ({a} vectors in the fit)", range(side_a.start, side_a.start + n)),
                   (f"seen: side B ({b} vectors in the fit)", range(side_b.start, side_b.start + n))):
    rows = list(rows)
    there = paired_metrics(tr.translate(A[rows], a, b), B[rows])
    back = paired_metrics(tr.translate(B[rows], b, a), A[rows])
    print(f"  {name}: {a}->{b} {there}; {b}->{a} {back}")
    # the partner among the N partners *and* the target collection the fit saw (side B's e5 vectors): are translations
    # of vectors the fit saw pulled onto the target vectors it saw?
    if "side B" not in name:
        mixed = retrieval_among(tr.translate(A[rows], a, b), B[rows], B[side_b])
        print(f"    {a}->{b} among the {n} partners and side B's {side_b.stop - side_b.start} {b} vectors: {mixed}")
