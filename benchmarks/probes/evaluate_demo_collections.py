"""`make demo`'s translator (8,000 unpaired wiki sentences per side) on its own collections (session 42).

    make demo && python benchmarks/probes/evaluate_demo_collections.py > benchmarks/probes/evaluate_demo_collections.txt

`v2v evaluate --source <the demo's MiniLM collection> --candidates <its e5 collection>` gave MiniLM -> e5 top-1 0.648
among 8,192, where the demo prints 0.949 among its 1,000 held-out sentences. This separates the two causes: more
candidates, and documents / candidates the map was fitted on (side A: the MiniLM collection's texts, side B: the e5
collection's). Last: the migration's use, an e5 query of each text searching the merged collection (the translated
records as `migrate` writes them plus e5 records of other texts): is its own translated record first?"""
import logging

import numpy as np

from v2v_store.evaluate import evaluate_translator
from v2v_store.texts import embed_cached, wiki_sentences
from v2v_store.translator import QUERIES, Translator

logging.disable(logging.WARNING)
tr = Translator.load("demo-out/translator")
s = [x["text"] for x in wiki_sentences()]
ev, side_a, side_b = s[:1000], s[1000:9000], s[9000:17000]  # the demo's split (DemoConfig defaults)
evm, eve = embed_cached("minilm", ev), embed_cached("e5", ev)
am, be = embed_cached("minilm", side_a), embed_cached("e5", side_b)
pick = np.random.default_rng(0).choice(len(side_a), 2000, replace=False)
ae = embed_cached("e5", [side_a[i] for i in pick])
rest_a = np.delete(am, pick, 0)


def unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def ranked(label, u, v, cand_e5, cand_minilm):
    d = evaluate_translator(tr, u, v, "minilm", "e5", candidates={"e5": cand_e5, "minilm": cand_minilm}).directions
    print(f"{label}: minilm->e5 {d[0].top1:.3f} / rank {d[0].mean_rank:.2f} (among {d[0].ranked_among}); "
          f"e5->minilm {d[1].top1:.3f} / {d[1].mean_rank:.2f} (among {d[1].ranked_among})", flush=True)


def merged(label, u, v, others):
    records, queries = unit(tr.translate(u, "minilm", "e5")), unit(v)
    own = (queries * records).sum(1)
    among_records = queries @ records.T
    np.fill_diagonal(among_records, -np.inf)
    rank = 1 + (among_records > own[:, None]).sum(1) + ((queries @ unit(others).T) > own[:, None]).sum(1)
    print(f"{label}: own translated record first {np.mean(rank == 1):.3f}, mean rank {rank.mean():.2f} "
          f"({len(u)} translated + {len(others)} e5 records)", flush=True)


ranked("held-out 1,000, no other candidates (the demo's number)", evm, eve, None, None)
ranked("held-out 1,000 + 2,000 training candidates", evm, eve, be[:2000], rest_a[:2000])
ranked("held-out 1,000 + 7,192 training candidates", evm, eve, be[:7192], rest_a[:7192])
ranked("training 2,000, no other candidates", am[pick], ae, None, None)
ranked("training 2,000 + 1,000 held-out candidates", am[pick], ae, eve, evm)
ranked("training 2,000 + 1,000 training candidates", am[pick], ae, be[:1000], rest_a[:1000])
ranked("training 2,000 + 6,192 training candidates (what v2v evaluate measured)", am[pick], ae, be[:6192], rest_a[:6192])
q = unit(tr.translate(am[pick], "minilm", "e5", role=QUERIES))
beaten = (q @ unit(be).T) > (q * unit(ae)).sum(1)[:, None]
print(f"training queries beaten by some e5 record of side B: {beaten.any(1).mean():.3f}, by {(beaten.sum(0) > 0).sum()} "
      f"distinct records (the most by one: {beaten.sum(0).max()} queries)")
qh = unit(tr.translate(evm, "minilm", "e5", role=QUERIES))
print(f"held-out queries beaten by some e5 record of side B: {((qh @ unit(be).T) > (qh * unit(eve)).sum(1)[:, None]).any(1).mean():.3f}")
merged("merged: training 2,000 translated + 6,192 side-B e5 records", am[pick], ae, be[:6192])
merged("merged: held-out 1,000 translated + 7,192 side-B e5 records", evm, eve, be[:7192])
merged("merged: training 2,000 translated + 1,000 side-B e5 records", am[pick], ae, be[:1000])
merged("merged: held-out 1,000 translated + 1,000 side-B e5 records", evm, eve, be[:1000])
