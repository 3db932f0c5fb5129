"""Rebuilding benchmark corpora in the kit's layout (``benchmarks/build_kit.py``) and splitting any such corpus."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import build_kit  # noqa: E402
import kit  # noqa: E402


def test_own_texts_become_a_kit_corpus_that_resumes_and_refuses_mixing(tmp_path, monkeypatch):
    from v2v_store.models import load_encoder
    from v2v_store.texts import wiki_sentences

    texts = [s["text"] for s in wiki_sentences()[:50]]
    source = tmp_path / "notes.txt"
    source.write_text("\n".join(texts + [texts[0], "too short", "", "  " + texts[1] + "  "]) + "\n")
    out = tmp_path / "kit"
    monkeypatch.setattr(build_kit, "PART", 16)  # four parts
    build_kit.build(f"notes={source}", ["minilm"], out)

    rows = [json.loads(line) for line in (out / "notes.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == list(range(50))  # duplicates, the short and the blank line dropped
    assert sorted(r["text"] for r in rows) == sorted(texts)
    assert sorted(r["source_line"] for r in rows) == list(range(50))  # first occurrence kept
    emb = np.load(out / "emb" / "notes.minilm.npy")
    assert emb.shape == (50, 384) and emb.dtype == np.float16
    expected = load_encoder("minilm")([r["text"] for r in rows])
    assert np.min(np.sum(emb.astype(np.float32) * expected, axis=1)) > 0.999  # row i embeds text i
    assert not list((out / "emb" / "parts").glob("*.npy"))

    # an interrupted run resumes from the parts on disk instead of embedding them again
    (out / "emb" / "notes.minilm.npy").unlink()
    np.save(out / "emb" / "parts" / "notes.minilm.001.npy", np.zeros((16, 384), np.float16))
    build_kit.build(f"notes={source}", ["minilm"], out)
    again = np.load(out / "emb" / "notes.minilm.npy")
    assert not again[16:32].any() and np.array_equal(again[:16], emb[:16]) and np.array_equal(again[32:], emb[32:])

    source.write_text("\n".join(texts[:40]) + "\n")  # other texts under the same name: the old embeddings would lie
    with pytest.raises(SystemExit, match="holds other texts"):
        build_kit.build(f"notes={source}", ["minilm"], out)
    with pytest.raises(SystemExit, match="unknown corpus"):
        build_kit.build("nosuchcorpus", ["minilm"], out)
    with pytest.raises(SystemExit, match="no such file"):
        build_kit.build(f"notes={tmp_path / 'missing.txt'}", ["minilm"], out)


def test_any_corpus_in_the_kit_layout_gets_held_out_rows_and_two_disjoint_sides(tmp_path, monkeypatch):
    monkeypatch.setattr(kit, "KIT", tmp_path / "none")
    monkeypatch.setattr(kit, "EXTRA_KIT", tmp_path)
    (tmp_path / "emb").mkdir()
    np.save(tmp_path / "emb" / "mine.minilm.npy", np.zeros((4001, 4), np.float16))
    np.save(tmp_path / "emb" / "big.minilm.npy", np.zeros((60000, 4), np.float16))
    np.save(tmp_path / "emb" / "tiny.minilm.npy", np.zeros((2000, 4), np.float16))
    assert kit.splits("mine", "minilm") == (slice(0, 1000), slice(1000, 2500), slice(2500, 4000))
    assert kit.splits("big", "minilm") == (slice(0, 8192), slice(8192, 34096), slice(34096, 60000))
    assert kit.splits("wiki", "minilm") == kit.SPLITS["wiki"]  # the kit's fixed splits stay
    with pytest.raises(SystemExit, match="too few"):
        kit.splits("tiny", "minilm")
    with pytest.raises(SystemExit, match="build_kit.py other --models e5"):
        kit.splits("other", "e5")


def test_pydoc_corpus_is_passages_read_without_importing(monkeypatch):
    """The pydoc corpus: docstrings of the standard library and the named packages, 200-1,000 characters, whitespace
    folded, distinct, in the same order on every build."""
    monkeypatch.setattr(build_kit, "PYDOC_PACKAGES", ("networkx",))
    items = build_kit.pydoc_texts(Path("unused"))
    texts = [item["text"] for item in items]
    assert 2000 < len(items) <= 12000 and len(set(texts)) == len(texts)
    assert all(200 <= len(t) <= 1000 and t == " ".join(t.split()) for t in texts)
    assert {item["package"] for item in items} == {"stdlib", "networkx"}
    assert [item["text"] for item in build_kit.pydoc_texts(Path("unused"))] == texts
    monkeypatch.setattr(build_kit, "PYDOC_PACKAGES", ("no_such_package_here",))
    with pytest.raises(SystemExit, match="pydoc needs no_such_package_here"):
        build_kit.pydoc_texts(Path("unused"))
