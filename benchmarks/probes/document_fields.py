"""Stored documents that are not the whole text their vectors embed: a title, a prefix (session 53).

``python document_fields.py CORPUS SOURCE TARGET N FIELD [FIELD ...]``: N random records of CORPUS's side A, their
SOURCE vectors (of the whole text) stored with a "document" that is FIELD of that text, embedded by TARGET, as
``v2v fit`` would pair them (``anchors.document_pairs``: each document checked against its own vector, then the kept
ones' relatedness afresh against the 0.3 line). FIELD: ``full`` (the text itself), ``charsK`` (its first K
characters, e.g. a 20-character title field), ``wordsK`` (its first K words), ``permuted`` (whole texts of other
records). Prints per FIELD how many were kept, their relatedness afresh and whether the side's documents are used,
and, for reference, the relatedness of the models on 1,000 bundled anchor sentences (English). With ``FIT=1`` also
``v2v fit``'s default (``fit_collections``: side A's SOURCE vectors, side B's TARGET vectors, those documents stored
with side A; FIELD ``none``: no documents) and its held-out top-1 both ways (true pairs, among the held-out rows) beside
the top-1 its own document check reports."""

import logging
import os
import sys

import numpy as np

sys.path.insert(0, "..")
from kit import load, splits, texts  # noqa: E402

from v2v_store.anchors import anchor_pairs, document_pairs  # noqa: E402
from v2v_store.fit import fit_collections  # noqa: E402
from v2v_store.metrics import pairs_relatedness, translation_metrics  # noqa: E402


def field(text: str, kind: str) -> str:
    if kind.startswith("chars"):
        return text[:int(kind[5:])]
    if kind.startswith("words"):
        return " ".join(text.split()[:int(kind[5:])])
    return text


def main():
    logging.basicConfig(level=logging.WARNING)
    corpus, a, b, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    side_a = splits(corpus, a)[1]
    rows = np.random.default_rng(0).choice(side_a.stop - side_a.start, n, replace=False)
    stored = load(corpus, a)[side_a][rows].astype(np.float32)
    own = [texts(corpus)[side_a][i] for i in rows]
    print(f"{corpus} {a} -> {b}, {n} documents; anchors (1,000, en): relatedness "
          f"{pairs_relatedness(anchor_pairs(a, b, 1000)):.3f}", flush=True)
    held, _, side_b = splits(corpus, a)
    for kind in sys.argv[5:]:
        if kind == "none":
            docs = None
        else:
            docs = ([own[i] for i in np.random.default_rng(1).permutation(n)] if kind == "permuted"
                    else [field(t, kind) for t in own])
        if os.environ.get("FIT") == "1":
            x, y = load(corpus, a)[side_a].astype(np.float32), load(corpus, b)[side_b].astype(np.float32)
            tr, report = fit_collections(x, y, (a, b), documents=((stored, docs) if docs else None, None))
            u, v = load(corpus, a)[held].astype(np.float32), load(corpus, b)[held].astype(np.float32)
            there, back = translation_metrics(tr, u, v, a, b), translation_metrics(tr, v, u, b, a)
            check = report.document_check or {}
            print(f"  {kind:>9}: fit {report.method}, trusted {report.trusted}; held-out ({len(u)}) top-1 "
                  f"{there.top1:.3f} / {back.top1:.3f}; its document check "
                  + " / ".join(f"{c['top1']:.3f}" for c in check.values())
                  + ("; noted: pair more loosely than the anchors" if "more loosely than the anchors" in report.reason
                     else ""), flush=True)
        if docs is None:
            continue
        made = document_pairs(((stored, docs), None), (a, b), (stored.shape[1], 384 if b != "mpnet" else 768))
        used = made.pairs is not None
        kept = len(docs) - made.unmatched.get("source", 0) if used else "-"
        print(f"  {kind:>9}: mean {np.mean([len(d) for d in docs]):.0f} chars; kept {kept}"
              f" of {n}; relatedness afresh {made.relatedness.get('source', float('nan')):.3f}; "
              f"{'used' if used else 'left out'}", flush=True)


if __name__ == "__main__":
    main()
