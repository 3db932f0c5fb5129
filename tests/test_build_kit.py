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
    folded, distinct, in the same order on every build; pkgdoc: the packages' alone."""
    monkeypatch.setattr(build_kit, "PYDOC_PACKAGES", ("networkx",))
    items = build_kit.pydoc_texts(Path("unused"))
    texts = [item["text"] for item in items]
    assert 2000 < len(items) <= 12000 and len(set(texts)) == len(texts)
    assert all(200 <= len(t) <= 1000 and t == " ".join(t.split()) for t in texts)
    assert {item["package"] for item in items} == {"stdlib", "networkx"}
    assert [item["text"] for item in build_kit.pydoc_texts(Path("unused"))] == texts
    packages_only = build_kit.SOURCES["pkgdoc"](Path("unused"))  # the anchors' documentation sentences are stdlib's
    assert len(packages_only) > 200 and {item["package"] for item in packages_only} == {"networkx"}
    assert all(200 <= len(item["text"]) <= 1000 for item in packages_only)
    monkeypatch.setattr(build_kit, "PYDOC_PACKAGES", ("no_such_package_here",))
    with pytest.raises(SystemExit, match="pydoc needs no_such_package_here"):
        build_kit.pydoc_texts(Path("unused"))
    with pytest.raises(SystemExit, match="pkgdoc needs no_such_package_here"):
        build_kit.SOURCES["pkgdoc"](Path("unused"))


def test_pycode_corpus_is_functions_without_their_docstrings(tmp_path, monkeypatch):
    """The pycode corpus: each function and method as written (decorators and comments kept, the docstring left out),
    read without importing, tests left out; whitespace folded, 80-600 characters, distinct, the same on every build."""
    (tmp_path / "pkg" / "tests").mkdir(parents=True)
    (tmp_path / "pkg" / "tests" / "test_it.py").write_text("def test_it():\n    assert True\n")
    (tmp_path / "pkg" / "mod.py").write_text(
        'import functools\n\n'
        '@functools.cache\n'
        'def area(width, height):\n'
        '    """The area.\n\n    Two lines of docstring.\n    """\n'
        '    # a comment that stays\n'
        '    return width * height\n\n'
        'class Box:\n'
        '    def grow(self, by):\n'
        '        self.size += by\n'
        '        return self\n')
    (tmp_path / "pkg" / "broken.py").write_text("def (:\n")
    found = [(path.name, code) for path, code in build_kit.functions(tmp_path / "pkg", {"tests"})]
    assert found == [("mod.py", "@functools.cache\ndef area(width, height):\n    # a comment that stays\n"
                                "    return width * height"),
                     ("mod.py", "    def grow(self, by):\n        self.size += by\n        return self")]

    monkeypatch.setattr(build_kit, "PYCODE_PACKAGES", ("qdrant_client",))
    items = build_kit.pycode_texts(Path("unused"))
    texts = [item["text"] for item in items]
    assert 200 < len(items) <= 12000 and len(set(texts)) == len(texts)
    assert all(80 <= len(t) <= 600 and t == " ".join(t.split()) for t in texts)
    assert all(t.startswith(("def ", "async def ", "@")) for t in texts)
    assert not any("/tests/" in f"/{item['path']}" for item in items)
    assert [item["text"] for item in build_kit.pycode_texts(Path("unused"))] == texts
    monkeypatch.setattr(build_kit, "PYCODE_PACKAGES", ("no_such_package_here",))
    with pytest.raises(SystemExit, match="pycode needs no_such_package_here installed"):
        build_kit.pycode_texts(Path("unused"))


def _mo(path: Path, messages: dict) -> None:
    """A GNU gettext catalog (``.mo``) of ``messages`` (msgid -> msgstr; plural entries as "one\\0many" both sides)."""
    import struct

    messages = {"": "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=2; plural=(n != 1);\n", **messages}
    keys = sorted(messages)
    ids, strs = (b"".join(k.encode() + b"\0" for k in keys), b"".join(messages[k].encode() + b"\0" for k in keys))
    start = 7 * 4 + 16 * len(keys)
    table_ids, table_strs, at_id, at_str = [], [], start, start + len(ids)
    for k in keys:
        table_ids += [len(k.encode()), at_id]
        table_strs += [len(messages[k].encode()), at_str]
        at_id, at_str = at_id + len(k.encode()) + 1, at_str + len(messages[k].encode()) + 1
    header = struct.pack("<7I", 0x950412DE, 0, len(keys), 28, 28 + 8 * len(keys), 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + struct.pack(f"<{4 * len(keys)}I", *table_ids, *table_strs) + ids + strs)


def test_gettext_corpus_reads_the_catalogs_messages(tmp_path):
    """``gettext``: every catalog's English msgids, once; ``gettext-de``: the German translations; plural forms past the
    first, texts outside 30-300 characters and unreadable catalogs are left out."""
    long = "could not open the configuration file %s for reading"
    _mo(tmp_path / "de" / "LC_MESSAGES" / "tool.mo", {
        long: "Konfigurationsdatei %s konnte nicht zum Lesen geöffnet werden",
        "short msg": "kurz",
        "%d file was removed from the archive\0%d files were removed from the archive":
            "%d Datei wurde aus dem Archiv entfernt\0%d Dateien wurden aus dem Archiv entfernt"})
    _mo(tmp_path / "fr" / "LC_MESSAGES" / "tool.mo", {long: "impossible d'ouvrir le fichier de configuration %s en lecture"})
    (tmp_path / "fr" / "LC_MESSAGES" / "broken.mo").write_bytes(b"not a catalog")

    english = build_kit.gettext_texts(tmp_path, root=tmp_path)
    assert sorted(r["text"] for r in english) == ["%d file was removed from the archive", long]
    assert {r["catalog"] for r in english} == {"tool"}
    german = build_kit.gettext_texts(tmp_path, "de", root=tmp_path)
    assert sorted(r["text"] for r in german) == ["%d Datei wurde aus dem Archiv entfernt",
                                                 "Konfigurationsdatei %s konnte nicht zum Lesen geöffnet werden"]
    with pytest.raises(SystemExit, match="no gettext catalogs"):
        build_kit.gettext_texts(tmp_path, "it", root=tmp_path)


def test_fortunes_in_another_language_reads_that_packages_files_once(tmp_path):
    """``fortunes-<language>``: the items of the language's fortune files (``%`` lines between them), category = file
    without ``.fortunes``; ``.dat`` indexes and the ``.u8`` links to the same files are not read again, items under 20
    characters are left out."""
    directory = tmp_path / "debian" / "fortunes-xx" / "usr/share/games/fortunes/xx"
    directory.mkdir(parents=True)
    (directory / "sprueche").write_text("Wer rastet, der rostet, sagt man hier.\n%\nzu kurz\n%\n"
                                        "Morgenstund hat Gold im Mund, sagt das Sprichwort.\n", encoding="utf-8")
    (directory / "sprueche.u8").symlink_to("sprueche")
    (directory / "sprueche.dat").write_bytes(b"\x00\x02\x00\x00index")
    (directory / "filosofia.fortunes").write_text("Pienso, luego existo. -- Descartes\n", encoding="utf-8")

    items = build_kit.fortunes_in("xx")(tmp_path)
    assert sorted((r["category"], r["text"]) for r in items) == [
        ("filosofia", "Pienso, luego existo. -- Descartes"),
        ("sprueche", "Morgenstund hat Gold im Mund, sagt das Sprichwort."),
        ("sprueche", "Wer rastet, der rostet, sagt man hier.")]
