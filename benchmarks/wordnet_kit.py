"""A second, larger benchmark corpus: WordNet 3.0 glosses and examples, embedded by the kit's models.

    python benchmarks/wordnet_kit.py --models minilm e5

The shared kit's wiki split has 13,805 unpaired training vectors per side and no more rows, so it cannot say
whether alignment improves with more unpaired data. WordNet (Debian package ``wordnet-base``, 133k distinct
texts of 30-300 characters: "lemma: definition" lines and the usage examples) can, and it is a corpus none of
the defaults were tuned on. Layout as in the kit (``benchmarks/kit.py``): ``<out>/wordnet.jsonl`` and
``<out>/emb/wordnet.<model>.npy`` (float16, L2-normalised, row i = text with id i); the split is
``kit.SPLITS["wordnet"]``: ids 0..8191 held out, then two disjoint sides of 27,610 (twice the wiki sides).

The package is read from ``/usr/share/wordnet`` when installed, else fetched once with ``apt-get download
wordnet-base`` (a benchmark preparation step, like building the kit; nothing in the product or the tests
downloads data). Embedding resumes from the parts already written (``emb/parts``), so an interrupted run
loses at most one part. Cost on the 2-core CPU: see ``benchmarks/results/wordnet_kit.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from kit import EXTRA_KIT, SPLITS  # noqa: E402

from v2v_store.models import load_encoder  # noqa: E402

logger = logging.getLogger("bench.wordnet")
ROWS = SPLITS["wordnet"][2].stop  # held out + both sides
PART = 4096


def wordnet_dir(cache: Path) -> Path:
    """The directory holding WordNet's ``data.{noun,verb,adj,adv}`` files: installed, or unpacked into ``cache``."""
    installed = Path("/usr/share/wordnet")
    if (installed / "data.noun").exists():
        return installed
    unpacked = cache / "wordnet-base" / "usr" / "share" / "wordnet"
    if (unpacked / "data.noun").exists():
        return unpacked
    with tempfile.TemporaryDirectory() as tmp:
        try:
            subprocess.run(["apt-get", "download", "wordnet-base"], cwd=tmp, check=True, capture_output=True)
            deb = next(Path(tmp).glob("wordnet-base_*.deb"))
            (cache / "wordnet-base").mkdir(parents=True, exist_ok=True)
            subprocess.run(["dpkg-deb", "-x", str(deb), str(cache / "wordnet-base")], check=True)
        except (OSError, subprocess.CalledProcessError, StopIteration) as e:
            raise SystemExit(f"could not fetch Debian package wordnet-base ({e}): install it (apt-get install "
                             "wordnet-base) or run where Debian's archive is reachable") from None
    return unpacked


def wordnet_texts(src: Path) -> list[str]:
    """Distinct glosses of 30-300 characters in file order: "lemma: definition" and each quoted example."""
    seen: dict[str, None] = {}
    for pos in ("noun", "verb", "adj", "adv"):
        for line in (src / f"data.{pos}").read_text(encoding="latin-1").splitlines():
            head, sep, gloss = line.partition(" | ")
            if line.startswith("  ") or not sep:  # licence header, or no gloss
                continue
            lemma = head.split()[4].replace("_", " ")
            parts = [p.strip() for p in gloss.split(";") if p.strip()]
            definition = "; ".join(p for p in parts if not p.startswith('"'))
            examples = [p.strip('"').strip() for p in parts if p.startswith('"')]
            for text in ([f"{lemma}: {definition}"] if definition else []) + examples:
                if 30 <= len(text) <= 300:
                    seen.setdefault(text, None)
    return list(seen)


def embed(texts: list[str], model: str, out: Path) -> None:
    """Write ``emb/wordnet.<model>.npy`` part by part, skipping parts already on disk."""
    final = out / "emb" / f"wordnet.{model}.npy"
    if final.exists():
        logger.info("%s exists: skipped", final)
        return
    parts = out / "emb" / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    encode = load_encoder(model)
    t0, done = time.perf_counter(), 0
    chunks = []
    for i, start in enumerate(range(0, len(texts), PART)):
        path = parts / f"wordnet.{model}.{i:03d}.npy"
        if not path.exists():
            vecs = encode(texts[start:start + PART]).astype(np.float16)
            np.save(path.with_suffix(".tmp.npy"), vecs)
            path.with_suffix(".tmp.npy").rename(path)
            done += len(vecs)
            logger.info("%s: %d / %d rows (%.0f sentences/s)", model, start + len(vecs), len(texts),
                        done / (time.perf_counter() - t0))
        chunks.append(np.load(path))
    np.save(final, np.concatenate(chunks))
    for path in parts.glob(f"wordnet.{model}.*.npy"):
        path.unlink()
    logger.info("%s: %s written, %.0f s", model, final, time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["minilm", "e5"], choices=["minilm", "e5", "mpnet"],
                    help="models to embed with (mpnet: ~16 sentences/s here, over an hour for all rows)")
    ap.add_argument("--out", type=Path, default=EXTRA_KIT, help=f"where the corpus goes (default {EXTRA_KIT}; "
                    "benchmarks read it from there, or from $V2V_EXTRA_KIT)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    texts = wordnet_texts(wordnet_dir(args.out))
    if len(texts) < ROWS:
        raise SystemExit(f"only {len(texts)} WordNet texts of 30-300 characters; the split needs {ROWS}")
    order = np.random.default_rng(0).permutation(len(texts))[:ROWS]
    texts = [texts[i] for i in order]
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "wordnet.jsonl", "w") as f:
        for i, text in enumerate(texts):
            f.write(json.dumps({"id": i, "text": text}) + "\n")
    for model in args.models:
        embed(texts, model, args.out)


if __name__ == "__main__":
    main()
