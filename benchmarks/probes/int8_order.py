"""Does int8's range, learnt from a collection's first records, hurt when those records are unlike the rest?
A latent CrossQuery over 28,000 of the kit's e5 sentences (ids 0..27999), searched by the MiniLM vectors of ids
0..999 (the right hit: the same id), translator: oracle Procrustes on the training ids' pairs (this is about the
quantiser, not the fit). The collection in the kit's order, then sorted by Wikipedia topic, so that the range is learnt
from one or two topics only; INT8_TRAINING_ROWS set by the argument.

    python benchmarks/probes/int8_order.py 300
"""
import json, logging, sys, tempfile

import numpy as np
import v2v_store.query as Q
from v2v_store.train.linear import fit_procrustes
from v2v_store.translator import Space, Translator
from v2v_store.query import CrossQuery
logging.basicConfig(level=logging.WARNING)
D="/work/shared/data/"
mi=np.load(D+"emb/wiki.minilm.npy").astype(np.float32); e5=np.load(D+"emb/wiki.e5.npy").astype(np.float32)
topics=[json.loads(l)["topic"] for l in open(D+"wiki.jsonl")]
tr=Translator.from_linear_map(fit_procrustes((mi[8192:], e5[8192:])), Space("minilm",384), Space("e5",384))
n=28000
orders={"kit order":np.arange(n), "by topic":np.array(sorted(range(n), key=lambda i:(topics[i], i)))}
q=mi[:1000]
Q.INT8_TRAINING_ROWS=int(sys.argv[1])
for name, order in orders.items():
    uri=f"npy://{tempfile.gettempdir()}/int8probe_{name.replace(' ','_')}.npy"
    np.save(uri[len("npy://"):], e5[order])
    res={}
    for prec in ("float32","int8"):
        with CrossQuery(tr, [(uri, "e5")], latent_precision=prec, check_space=False) as cq:
            hits=cq.search(q, "minilm", k=10)
        res[prec]=[[order[h.id] for h in row] for row in hits]
    top1=np.mean([r[0]==i for i,r in enumerate(res["int8"])]); top1f=np.mean([r[0]==i for i,r in enumerate(res["float32"])])
    ov=np.mean([len(set(a)&set(b))/10 for a,b in zip(res["int8"],res["float32"])])
    print(f"{name}: train rows {Q.INT8_TRAINING_ROWS}: top-1 float32 {top1f:.3f} int8 {top1:.3f}; top-10 overlap {ov:.3f}; first topics {sorted(set(topics[i] for i in order[:Q.INT8_TRAINING_ROWS]))[:5]}")
