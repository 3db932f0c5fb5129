"""Shared fixtures: seeded data, a real Chroma server on 127.0.0.1 (started here, stopped by PID),
and the shared benchmark kit when present (tests that need it skip cleanly without it)."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

KIT = Path(os.environ.get("V2V_KIT", Path(__file__).resolve().parents[1].parent / "shared" / "data"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma_server(path: Path, port: int) -> subprocess.Popen:
    """A real `chroma run` server process on 127.0.0.1:``port`` keeping its data under ``path`` (its log there too),
    returned once it accepts connections; :func:`stop_chroma_server` stops it by PID."""
    path.mkdir(parents=True, exist_ok=True)
    chroma = Path(sys.executable).with_name("chroma")
    with open(path / "server.log", "a") as log:
        proc = subprocess.Popen([str(chroma), "run", "--path", str(path / "data"), "--host", "127.0.0.1", "--port",
                                 str(port)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"chroma server exited with {proc.returncode}: {(path / 'server.log').read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    stop_chroma_server(proc)
    pytest.fail("chroma server did not start within 60 s")


def stop_chroma_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:  # stopped already (a test that stops it itself)
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def token_proxy(upstream_port: int, token: str) -> ThreadingHTTPServer:
    """A reverse proxy on 127.0.0.1 (a real HTTP server, in a thread) in front of a server on ``upstream_port`` that
    lets through only requests carrying ``X-Chroma-Token: token`` (401 otherwise), as a Chroma deployment behind a
    token gateway (or Chroma Cloud) does; ``.server_address[1]`` is its port, ``.shutdown()`` stops it."""

    class Relay(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def relay(self) -> None:
            if self.headers.get("X-Chroma-Token") != token:
                self.reply(401, b'{"error":"Unauthorized","message":"missing or wrong token"}', [])
                return
            length = int(self.headers.get("Content-Length") or 0)
            upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
            upstream.request(self.command, self.path, body=self.rfile.read(length) if length else None,
                             headers={k: v for k, v in self.headers.items() if k.lower() != "host"})
            response = upstream.getresponse()
            self.reply(response.status, response.read(), [(k, v) for k, v in response.getheaders() if k.lower() not in
                                                          ("transfer-encoding", "content-length", "connection")])
            upstream.close()

        def reply(self, status: int, body: bytes, headers: list) -> None:
            self.send_response(status)
            for key, value in headers or [("Content-Type", "application/json")]:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = relay

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Relay)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    return proxy


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real `chroma run` server process; yields its (host, port)."""
    port = free_port()
    proc = start_chroma_server(tmp_path_factory.mktemp("chroma-server"), port)
    try:
        yield "127.0.0.1", port
    finally:
        stop_chroma_server(proc)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def kit_array(name: str) -> np.ndarray:
    path = KIT / "emb" / f"{name}.npy"
    if not path.exists():
        pytest.skip(f"benchmark kit not present ({path})")
    return np.load(path).astype(np.float32)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``gpu`` need CUDA: skipped (with the reason) on machines without it, such as CI."""
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA (no GPU on this machine)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@contextlib.contextmanager
def small_disk(path: Path, size: str):
    """A real filesystem of ``size`` (a tmpfs) mounted at ``path``, to fill up; skips where this machine cannot mount
    one (not root). ``remount(size)`` makes room; unmounted at the end."""
    path.mkdir()
    if shutil.which("mount") is None or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                                                       capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")

    def remount(new_size: str) -> None:
        subprocess.run(["mount", "-o", f"remount,size={new_size}", str(path)], check=True)

    try:
        yield remount
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextlib.contextmanager
def translate_batch_crashing_at(call: int):
    """Inside, a migration crashes (RuntimeError "killed") at its ``call``-th batch translated, after writing those
    before it; the real ``translate_batch`` is back after."""
    import v2v_store.migrate as migration

    calls, real = {"n": 0}, migration.translate_batch

    def crashing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == call:
            raise RuntimeError("killed")
        return real(*args, **kwargs)

    migration.translate_batch = crashing
    try:
        yield
    finally:
        migration.translate_batch = real


def read_records(uri: str, batch_size: int = 333) -> dict:
    """Every record of the collection at ``uri``, read in pages: id -> (vector, metadata, document); no id twice."""
    from v2v_store import open_store

    out = {}
    with open_store(uri) as store:
        for batch in store.iter_batches(batch_size=batch_size):
            for i, v, m, d in zip(batch.ids, batch.vectors, batch.metadata, batch.documents):
                assert i not in out, f"duplicate id {i!r}"
                out[i] = (v, m, d)
    return out
