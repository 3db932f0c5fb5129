"""The package as a user installs it: a wheel built from the sources, not this editable checkout.

The tests run against ``pip install -e .``, where ``connectors/`` and ``train/`` are found in place; a wheel
must carry them as ``v2v_store.connectors`` / ``v2v_store.train`` together with the shipped data files
(anchor vectors, model fingerprints), and build without deprecation warnings from the build backend.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "v2v_store", "connectors", "train")


def _pip(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, cwd=cwd)


def test_the_wheel_carries_every_module_and_data_file_and_its_cli_runs(tmp_path):
    src = tmp_path / "src"  # a copy, so the build's build/ and egg-info stay out of the checkout
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, src / name)
    built = _pip("wheel", "--no-deps", "-w", str(tmp_path / "dist"), str(src), cwd=tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr
    for warning in ("BuildBackendWarning", "SetuptoolsDeprecationWarning"):
        assert warning not in built.stdout + built.stderr, built.stdout + built.stderr
    (wheel,) = (tmp_path / "dist").glob("v2v_store-*.whl")
    site = tmp_path / "site"
    installed = _pip("install", "--no-deps", "--target", str(site), str(wheel), cwd=tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    env = {**os.environ, "PYTHONPATH": str(site)}  # ahead of the editable install's finder
    check = (
        "import v2v_store, v2v_store.connectors, v2v_store.train.align\n"
        "from v2v_store.anchors import shipped_anchor_vectors\n"
        "from v2v_store.fingerprints import known_fingerprints\n"
        f"assert v2v_store.__file__.startswith({str(site)!r}), v2v_store.__file__\n"
        f"assert v2v_store.train.align.__file__.startswith({str(site)!r})\n"
        "anchors, prints = shipped_anchor_vectors(), known_fingerprints()\n"
        "assert {'minilm', 'e5', 'mpnet'} <= set(anchors) and {'minilm', 'e5', 'mpnet'} <= set(prints), "
        "(sorted(anchors), sorted(prints))\n"
        "from v2v_store.texts import doc_sentences\n"
        "assert len(doc_sentences()) == 5000\n"
    )
    ran = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert ran.returncode == 0, ran.stderr

    vectors = np.random.default_rng(0).standard_normal((64, 16)).astype(np.float32)
    np.save(tmp_path / "vectors.npy", vectors)
    inspected = subprocess.run([sys.executable, "-m", "v2v_store", "inspect", f"npy://{tmp_path / 'vectors.npy'}"],
                               capture_output=True, text=True, cwd=tmp_path, env=env)
    assert inspected.returncode == 0, inspected.stderr
    assert "count: 64" in inspected.stdout and "dim: 16" in inspected.stdout, inspected.stdout
