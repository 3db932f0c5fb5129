"""What `v2v migrate --where` costs when the source's engine applies the filter (a Qdrant collection or edge shard,
since session 69) against reading every record and testing it here (what FAISS and Chroma sources do).

    python benchmarks/migrate_filter.py --tag migrate_filter_wiki

The source holds all 35,802 kit wiki sentences embedded by one model (ids = kit rows, metadata: topic and article
title), in a qdrant-edge shard and in a Qdrant local-mode collection. Each run migrates the records of one topic
(``--where topic=...``: the smallest topic, a middle one, the largest) into a new FAISS index, once with the
engine's filter and once read and tested here (the store's ``count_where`` switched off, as for a store without an
engine filter). Per row: records kept, seconds each way, and whether both wrote the same ids. The translator is
orthogonal Procrustes on the true pairs of the kit's side A (this measures the read, not a fit). One run; times on a
shared 2-core machine are noisy, compare within a row.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kit import KIT, SIDE_A, load, run_meta, save_results, write_collection  # noqa: E402

logger = logging.getLogger("bench.migrate_filter")
STORES = {"qdrant-edge": "qdrant-edge://{work}/edge", "qdrant local": "qdrant://{work}/qdrant?collection=wiki"}


def migrated_ids(uri: str) -> set:
    from v2v_store import open_store

    with open_store(uri) as store:
        return {i for batch in store.iter_batches(4096, with_payload=False) for i in batch.ids}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pair", default="minilm,e5", help="Two kit models: the collection's, then the one migrated into.")
    ap.add_argument("--copies", type=int, default=1, help="The kit's sentences this many times over (ids offset; the "
                                                            "same vectors and metadata): a larger collection.")
    ap.add_argument("--stores", default=",".join(STORES), help="Which sources: " + ", ".join(STORES) + ".")
    ap.add_argument("--tag", default="migrate_filter_wiki")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from v2v_store import open_store
    from v2v_store.connectors import VectorStore
    from v2v_store.connectors.where import Where
    from v2v_store.migrate import migrate
    from v2v_store.train.linear import fit_procrustes
    from v2v_store.translator import Space, Translator

    stored, into = args.pair.split(",")
    vecs = {m: load("wiki", m) for m in (stored, into)}
    a, b = vecs[stored][SIDE_A], vecs[into][SIDE_A]
    tr = Translator.from_linear_map(fit_procrustes((a, b)), Space(stored, a.shape[1]), Space(into, b.shape[1]))
    rows = [json.loads(line) for line in (KIT / "wiki.jsonl").open()]
    metadata = [{"topic": r["topic"], "title": r["title"]} for r in rows]
    metadata = metadata * args.copies
    sizes = Counter(m["topic"] for m in metadata).most_common()
    topics = [sizes[-1][0], sizes[len(sizes) // 2][0], sizes[0][0]]  # the smallest, a middle one, the largest
    everything = np.tile(vecs[stored], (args.copies, 1))
    results = {}
    with tempfile.TemporaryDirectory() as work:
        for name in args.stores.split(","):
            uri = STORES[name].format(work=work)
            write_collection(uri, everything, metadata)
            for topic in topics:
                where = Where.parse([f"topic={json.dumps(topic)}"])
                run: dict = {"kept": dict(sizes)[topic]}
                for how in ("engine", "read and tested"):
                    dest = f"faiss://{work}/{name.replace(' ', '_')}_{topics.index(topic)}_{how[0]}.faiss"
                    with open_store(uri) as opened:
                        store_class = type(opened)
                    switched_off = how != "engine"
                    saved = store_class.count_where
                    if switched_off:
                        store_class.count_where = VectorStore.count_where  # None: every page read and tested
                    try:
                        t0 = time.perf_counter()
                        report = migrate(tr, uri, dest, progress=False, where=where, state_dir=Path(work) / "state",
                                         source_space=stored, check_space=False)
                        run[how] = round(time.perf_counter() - t0, 2)
                    finally:
                        store_class.count_where = saved
                    assert report.count_ok and report.written == run["kept"], report
                    run[f"ids {how}"] = migrated_ids(dest)
                run["same ids"] = run.pop("ids engine") == run.pop("ids read and tested")
                results[f"{name}, {topic}"] = run
                logger.info("%s %s: %s", name, topic, run)
    payload = {**run_meta(), "pair": args.pair, "collection_size": int(len(everything)), "results": results}
    lines = ["# Migrating one topic of a Qdrant source: the engine's filter against reading every record, kit wiki",
             "", f"Command: `{payload['command']}`  ", f"Machine: {payload['machine']}, {payload['date']}", "",
             f"Source: {len(everything):,} records: the kit's sentences embedded by {stored}"
             + (f", {args.copies} times over (ids offset)" if args.copies > 1 else "")
             + f" (metadata topic and title), in {' and '.join(args.stores.split(','))}; each row migrates one "
             "topic's records into a new "
             f"FAISS index ({into}, Procrustes translator on the true pairs of side A), with the source's engine "
             "filtering (only the kept records read) and with every record read and tested here. Seconds of the "
             "whole migration (plan, read, translate, write).", "",
             "| source, topic | records kept | s, engine filter | s, every record read | same ids written |",
             "|---|---|---|---|---|"]
    for label, r in results.items():
        lines.append(f"| {label} | {r['kept']:,} | {r['engine']} | {r['read and tested']} | {r['same ids']} |")
    save_results(args.out, args.tag, payload, lines)


if __name__ == "__main__":
    main()
