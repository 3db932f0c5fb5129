"""The README's first command, `v2v demo`, end to end on a small slice (slow: two real models embed 2,400 sentences,
an unsupervised fit, a migration and a cross-model query)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from v2v_store import open_store

pytestmark = pytest.mark.slow


def read_records(uri):
    with open_store(uri) as store:
        return {i: d for b in store.iter_batches(batch_size=500) for i, d in zip(b.ids, b.documents)}


def test_demo_small_slice_runs_every_step_and_says_its_fit_is_untrusted(tmp_path):
    """1,000 sentences per side are too few for a trusted unsupervised fit: the demo still migrates and queries (to show
    each step), says the translator is not trusted, and exits 3 with the report printed and saved."""
    work = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "v2v_store", "demo", "--workdir", str(work), "--side-size", "1000",
                           "--eval-size", "200", "--restarts", "2"], capture_output=True, text=True,
                          env={**os.environ, "V2V_CACHE": str(tmp_path / "cache")}, timeout=900)
    assert done.returncode == 3, done.stderr[-3000:]
    assert "NOT trusted" in done.stderr and "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    assert report == json.loads((work / "report.json").read_text())
    assert report["translator"]["trusted"] is False and "per dimension" in report["translator"]["reason"]
    for direction in ("minilm->e5", "e5->minilm"):
        assert report["paper_metrics_vs_truth"][direction]["n"] == 200
    source = read_records(f"chroma://{work}/chroma?collection=wiki_minilm")
    migrated = read_records(report["migration"]["dest"])
    assert report["migration"]["written"] == 1000 and report["migration"]["count_ok"] is True
    assert migrated == source and len(source) == 1000  # every id, with its document
    hits = report["query"]["hits"]
    assert len(hits) == 5 and all(h["text"] for h in hits)
    assert {h["collection"] for h in hits} <= {"wiki_minilm", "wiki_e5"}
