"""Carry part of the benchmark kit to another machine (a lent GPU takes at most 64 MiB per call).

    python benchmarks/kit_subset.py pack .gpu/kit wiki.minilm:eval,a wiki.e5:eval,b
    python benchmarks/kit_subset.py unpack .gpu/kit /tmp/kit      # then V2V_KIT=/tmp/kit

``pack`` keeps only the named row ranges of each embedding file (``eval``, ``a``, ``b`` of the fixed
splits in ``kit.py``, or ``all``) in a compressed ``.npz``; ``unpack`` rebuilds full-size
``emb/NAME.npy`` files in which every dropped row is NaN, so a benchmark that touches a row it was
not given produces NaN metrics instead of a plausible wrong number.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from kit import EVAL, KIT, SIDE_A, SIDE_B  # noqa: E402

logger = logging.getLogger("bench.kit_subset")
RANGES = {"eval": EVAL, "a": SIDE_A, "b": SIDE_B}


def pack(dest: Path, specs: list[str]) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        name, _, parts = spec.partition(":")
        full = np.load(KIT / "emb" / f"{name}.npy")
        keep = np.zeros(len(full), bool)
        for part in (parts or "all").split(","):
            if part == "all":
                keep[:] = True
            elif part in RANGES:
                keep[RANGES[part]] = True
            else:
                raise SystemExit(f"{spec}: unknown row range {part!r}; use eval, a, b or all")
        rows = np.flatnonzero(keep)
        np.savez_compressed(dest / f"{name}.npz", rows=rows, vectors=full[rows], n=len(full))
        logger.info("%s: %d of %d rows -> %s", name, len(rows), len(full), dest / f"{name}.npz")


def unpack(src: Path, kit: Path) -> None:
    (kit / "emb").mkdir(parents=True, exist_ok=True)
    for path in sorted(src.glob("*.npz")):
        with np.load(path) as z:
            vectors = z["vectors"]
            full = np.full((int(z["n"]), vectors.shape[1]), np.nan, vectors.dtype)
            full[z["rows"]] = vectors
        np.save(kit / "emb" / f"{path.stem}.npy", full)
        logger.info("%s: %d rows given -> %s", path.stem, len(vectors), kit / "emb" / f"{path.stem}.npy")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack", help="write the named rows of kit files (NAME:RANGE[,RANGE]) to DEST")
    p.add_argument("dest", type=Path)
    p.add_argument("specs", nargs="+")
    u = sub.add_parser("unpack", help="rebuild a kit directory from packed files")
    u.add_argument("src", type=Path)
    u.add_argument("kit", type=Path)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    pack(args.dest, args.specs) if args.cmd == "pack" else unpack(args.src, args.kit)


if __name__ == "__main__":
    main()
