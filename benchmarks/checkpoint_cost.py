"""What checkpoints cost a migration into FAISS, whose index file is rewritten whole at each one.

    python benchmarks/checkpoint_cost.py --count 400000 --checkpoint-seconds 1 --tag checkpoint_cost

A FAISS collection of ``--count`` random 384-d vectors is migrated into a new FAISS index (a 384 -> 384 rotation as the
translator) twice: with checkpoints every ``--checkpoint-seconds`` as before session 42 (no cap on their share of the
time), with ``migrate``'s default cap (``MAX_CHECKPOINT_SHARE``: checkpoints space out so that they take at most
10% of the time, judged by the last one), and with only the final checkpoint, which every run makes (the floor). A short interval on a mid-sized collection stands in for the default 10 s on a collection tens of
times larger, where each rewrite of the index takes longer than the interval.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from kit import run_meta, save_results  # noqa: E402

from v2v_store import VectorBatch, open_store  # noqa: E402
from v2v_store.migrate import MAX_CHECKPOINT_SHARE, migrate  # noqa: E402
from v2v_store.translator import Space, Translator  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=400_000)
    ap.add_argument("--checkpoint-seconds", type=float, default=1.0)
    ap.add_argument("--tag", default="checkpoint_cost")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rng = np.random.default_rng(0)
    rotation = np.linalg.qr(rng.standard_normal((384, 384)))[0].astype(np.float32)
    tr = _rotation_translator(rotation)
    rows, payload = [], {**run_meta(), "count": args.count, "checkpoint_seconds": args.checkpoint_seconds, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        src = f"faiss://{tmp}/src.faiss"
        with open_store(src, dim=384, metric="cosine") as s:
            for start in range(0, args.count, 50_000):
                n = min(50_000, args.count - start)
                s.upsert(VectorBatch(list(range(start, start + n)), rng.standard_normal((n, 384)).astype(np.float32),
                                     [None] * n, [None] * n))
        for name, every, share in (("no cap (before session 42)", args.checkpoint_seconds, None),
                                   (f"cap {MAX_CHECKPOINT_SHARE:.0%}", args.checkpoint_seconds, MAX_CHECKPOINT_SHARE),
                                   ("only the final checkpoint (the floor)", 1e9, None)):
            dest = f"faiss://{tmp}/dest_{share}.faiss"
            t0 = time.perf_counter()
            report = migrate(tr, src, dest, batch_size=4096, checkpoint_seconds=every,
                             progress=False, state_dir=f"{tmp}/state", max_checkpoint_share=share,
                             source_space="a")
            wall = time.perf_counter() - t0
            assert report.count_ok and report.written == args.count
            payload["runs"].append({"run": name, "wall_s": round(wall, 1), "checkpoints": report.checkpoints,
                                    "checkpoint_s": report.checkpoint_seconds})
            rows.append(f"| {name} | {wall:.1f} | {report.checkpoints} | {report.checkpoint_seconds:.1f} "
                        f"({report.checkpoint_seconds / wall:.0%}) |")
            Path(dest.removeprefix("faiss://")).unlink()
    first, second, _ = payload["runs"]
    lines = [f"# Checkpoint cost of a migration into FAISS ({payload['date']})", "",
             f"Command: `{payload['command']}`  ", f"Machine: {payload['machine']}", "",
             f"{args.count:,} random 384-d vectors, FAISS -> FAISS (flat index, rewritten whole at each checkpoint), "
             f"checkpoints every {args.checkpoint_seconds:g} s; one run each, in this order.", "",
             "| checkpoints | wall s | checkpoints | time in checkpoints |", "|---|---|---|---|", *rows, "",
             f"Ratio of wall times (no cap / cap): {first['wall_s'] / second['wall_s']:.2f}x."]
    save_results(args.out, args.tag, payload, lines)
    print("\n".join(lines))


def _rotation_translator(rotation: np.ndarray) -> Translator:
    from v2v_store.train.linear import fit_procrustes

    x = np.random.default_rng(1).standard_normal((2000, 384)).astype(np.float32)
    return Translator.from_linear_map(fit_procrustes((x, x @ rotation)), Space("a", 384), Space("b", 384))


if __name__ == "__main__":
    main()
