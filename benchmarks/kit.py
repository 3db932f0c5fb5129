"""The shared benchmark kit (``../shared/data``, or ``$V2V_KIT``) and its fixed splits."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from v2v_store.models import cache_dir

KIT = Path(os.environ.get("V2V_KIT", Path(__file__).resolve().parents[2] / "shared" / "data"))
# corpora the project builds itself (``build_kit.py``), in the kit's layout
EXTRA_KIT = Path(os.environ.get("V2V_EXTRA_KIT", cache_dir() / "kit"))
EVAL = slice(0, 8192)  # wiki ids 0..8191: held-out evaluation (one chunk of the paper metric)
SIDE_A = slice(8192, 21997)  # unpaired training, source side
SIDE_B = slice(21997, 35802)  # unpaired training, target side (disjoint texts)
OOD = slice(0, 8192)  # fortunes: out-of-distribution evaluation
# (held-out evaluation, side A, side B) per training corpus. fortunes has 8,192 embedded rows: a
# second, small (3,072 per side), informal-text setting; the first 8,192 rows of the *other* corpus
# are then its out-of-distribution evaluation.
# wordnet (built by ``build_kit.py wordnet``): sides of 27,610, twice the wiki sides, for the data-size curve.
SPLITS = {"wiki": (EVAL, SIDE_A, SIDE_B), "fortunes": (slice(0, 2048), slice(2048, 5120), slice(5120, 8192)),
          "wordnet": (slice(0, 8192), slice(8192, 35802), slice(35802, 63412))}
DIMS = {"minilm": 384, "mpnet": 768, "e5": 384}


def emb_path(corpus: str, model: str) -> Path:
    """``emb/<corpus>.<model>.npy`` in the kit, else among the corpora the project built (``build_kit.py``)."""
    path = KIT / "emb" / f"{corpus}.{model}.npy"
    if not path.exists() and (EXTRA_KIT / "emb" / path.name).exists():
        path = EXTRA_KIT / "emb" / path.name
    return path


def existing_emb_path(corpus: str, model: str) -> Path:
    """:func:`emb_path`, or an error that names the fix when the file is not there."""
    path = emb_path(corpus, model)
    if not path.exists():
        hint = ("set V2V_KIT to the kit's data directory, or build it: python benchmarks/build_kit.py "
                f"{corpus} --models {model}")
        raise SystemExit(f"benchmark data not found at {path}: {hint}")
    return path


def load(corpus: str, model: str) -> np.ndarray:
    return np.load(existing_emb_path(corpus, model)).astype(np.float32)


def texts(corpus: str) -> list[str]:
    """The corpus's texts in row order (``<corpus>.jsonl`` beside ``emb/``: row i of every embedding file is id i)."""
    path = KIT / f"{corpus}.jsonl"
    if not path.exists():
        path = EXTRA_KIT / path.name
    if not path.exists():
        raise SystemExit(f"texts of {corpus} not found in {KIT} or {EXTRA_KIT}: build it with build_kit.py {corpus}")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    assert [r["id"] for r in rows] == list(range(len(rows))), f"{path}: ids are not the row numbers"
    return [r["text"] for r in rows]


def splits(corpus: str, model: str) -> tuple[slice, slice, slice]:
    """(held-out rows, side A, side B) of a corpus: the fixed ``SPLITS`` of the kit's corpora; for any other corpus
    in the kit's layout (e.g. one built by ``build_kit.py`` from your own texts), the first min(8,192, rows / 4) rows
    held out and the rest cut into two disjoint halves. ``model`` names an embedding file to count rows in."""
    if corpus in SPLITS:
        return SPLITS[corpus]
    rows = np.load(existing_emb_path(corpus, model), mmap_mode="r").shape[0]
    held = min(8192, rows // 4)
    half = (rows - held) // 2
    if half < 1000:
        raise SystemExit(f"{corpus} has {rows} rows: too few for held-out rows and two unpaired sides of >= 1,000")
    return slice(0, held), slice(held, held + half), slice(held + half, held + 2 * half)


def run_meta() -> dict:
    """What every committed result records: the command, the machine and the date."""
    import torch

    device = f"cuda ({torch.cuda.get_device_name()})" if torch.cuda.is_available() else "cpu"
    return {"command": "python " + " ".join(sys.argv), "date": time.strftime("%Y-%m-%d"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {device}"}


def markdown_table(rows: dict[str, dict], keys: list[str]) -> list[str]:
    """A results table: a row per label of ``rows``, a column per key (blank where a row has none)."""
    return (["| | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
            + [f"| {label} | " + " | ".join(str(row.get(k, "")) for k in keys) + " |" for label, row in rows.items()])


def save_results(out: Path, tag: str, payload: dict, lines: list[str]) -> None:
    """Commit format of every benchmark: ``<tag>.json`` (the data) beside ``<tag>.md`` (the table)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{tag}.json").write_text(json.dumps(payload, indent=1, default=str))
    (out / f"{tag}.md").write_text("\n".join(lines) + "\n")


def write_collection(uri: str, vectors: np.ndarray, metadata: list[dict], batch: int = 4096) -> None:
    """A new cosine collection at ``uri`` holding ``vectors`` under ids 0..n-1, each with its ``metadata``."""
    from v2v_store import VectorBatch, open_store

    with open_store(uri, dim=vectors.shape[1], metric="cosine") as store:
        for start in range(0, len(vectors), batch):
            ids = list(range(start, min(start + batch, len(vectors))))
            store.upsert(VectorBatch(ids, vectors[ids], [metadata[i] for i in ids]))
