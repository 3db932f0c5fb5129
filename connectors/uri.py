"""Parse store URIs and dispatch to a connector: the one entry point, :func:`open_store`.

Schemes::

    faiss:///abs/path/index.faiss[?allow_pickle=true]         a FAISS index (+ v2v's SQLite sidecar)
        [?index=FACTORY[&nprobe=N][&efSearch=N]]              a new index's structure, e.g. ?index=IVF1024,PQ32
    qdrant:///abs/path/dir?collection=NAME[&vector=NAME]      qdrant-client local mode
    qdrant+http://host:port?collection=NAME[&vector=NAME]     a Qdrant server (QDRANT_API_KEY)
    qdrant+https://host:port?collection=NAME
    qdrant-edge:///abs/path/shard[?vector=NAME]               Qdrant's storage engine in process
    chroma:///abs/path/dir?collection=NAME                    embedded Chroma (PersistentClient)
    chroma+http://host:port?collection=NAME                   a Chroma server
                                                              (both: [&tenant=T][&database=DB])
    npy:///abs/path/vectors.npy                               a plain array, ids = row numbers
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from v2v_store.errors import InvalidURIError

from .base import Metric, VectorStore

SCHEMES = ("faiss", "qdrant", "qdrant+http", "qdrant+https", "qdrant-edge", "chroma", "chroma+http", "chroma+https", "npy")
# the query parameters each store reads (a remote scheme's as its local one's); ?metric= and ?dim= set how a new
# collection is created (open_store)
# a FAISS index's search parameters, which a new index is built with (connectors.faiss_structure)
SEARCH_PARAMS = ("nprobe", "efSearch", "efConstruction", "qb", "k_factor")
PARAMS = {
    "faiss": ("index", *SEARCH_PARAMS, "allow_pickle", "metric", "dim"),
    "qdrant": ("collection", "vector", "document_key", "metric", "dim", "timeout"),  # timeout: a server's requests
    "qdrant-edge": ("vector", "document_key", "metric", "dim"),
    "chroma": ("collection", "tenant", "database", "metric", "dim"),
    "npy": ("metric", "dim"),
}

DEFAULT_PORTS = {"qdrant": 6333, "chroma": 8000}  # a server URI's port where it names none


@dataclass(frozen=True)
class StoreURI:
    scheme: str
    path: str
    host: str | None
    port: int | None
    params: dict[str, str] = field(default_factory=dict)
    raw: str = ""

    @property
    def server_port(self) -> int:
        """The port of a server URI, its store's default where it names none."""
        return self.port or DEFAULT_PORTS[self.scheme.split("+")[0]]

    def require(self, name: str) -> str:
        if not self.params.get(name):
            raise InvalidURIError(f"{self.raw!r} needs ?{name}=...: e.g. {self.scheme}://...?{name}=docs")
        return self.params[name]

    def flag(self, name: str) -> bool:
        return self.params.get(name, "false").lower() in ("1", "true", "yes")


def _scheme_hint(uri: str, scheme: str, netloc: str) -> str:
    """For a URI without a known scheme, the URI it most likely means: a server's address, or a path to a store."""
    if scheme in ("http", "https"):
        return (f". A server? qdrant+{scheme}://{netloc}?collection=NAME or chroma+{scheme}://{netloc}"
                "?collection=NAME")
    if scheme:
        return ""
    path = os.path.abspath(uri)
    if uri.endswith((".faiss", ".index")):
        return f". A FAISS index? faiss://{path}"
    if uri.endswith(".npy"):
        return f". A NumPy array? npy://{path}"
    if os.path.isdir(uri):
        if os.path.exists(os.path.join(uri, "chroma.sqlite3")):
            return f". A Chroma directory? chroma://{path}?collection=NAME"
        if os.path.exists(os.path.join(uri, "meta.json")):
            return f". A qdrant-client local directory? qdrant://{path}?collection=NAME"
        return (f". A directory? chroma://{path}?collection=NAME, qdrant://{path}?collection=NAME or "
                f"qdrant-edge://{path}")
    return ""


def parse_uri(uri: str) -> StoreURI:
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise InvalidURIError(
            f"unknown store scheme {parts.scheme!r} in {uri!r}: use one of "
            + ", ".join(f"{s}://" for s in SCHEMES) + _scheme_hint(uri, scheme, parts.netloc)
        )
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    known = PARAMS[scheme.split("+")[0]]
    unknown = [name for name in params if name not in known]
    if unknown:  # a typo (?vectr=, ?documentkey=) would be ignored, and the wrong vector or no documents read
        raise InvalidURIError(
            f"{uri!r}: unknown parameter(s) {', '.join(map(repr, unknown))}; {scheme}:// takes "
            + ", ".join(f"?{name}=" for name in known))
    remote = scheme.endswith(("+http", "+https"))
    if "timeout" in params:
        seconds = params["timeout"]
        if not remote:
            raise InvalidURIError(f"{uri!r}: ?timeout= is the seconds a Qdrant server's request may take "
                                  "(qdrant+http://HOST:PORT?...&timeout=120); local mode sends no requests")
        if not seconds.isdigit() or int(seconds) < 1:
            raise InvalidURIError(f"{uri!r}: ?timeout={seconds} is not a whole number of seconds, 1 or more "
                                  "(e.g. ?timeout=120)")
    if remote:
        if not parts.hostname:
            raise InvalidURIError(f"{uri!r} names no host: write {scheme}://HOST:PORT?collection=NAME")
    else:
        if parts.netloc:
            raise InvalidURIError(
                f"{uri!r}: local stores take an absolute path after three slashes, "
                f"e.g. {scheme}:///abs/path (got host {parts.netloc!r})"
            )
        if not parts.path.startswith("/"):
            raise InvalidURIError(f"{uri!r}: the path must be absolute, e.g. {scheme}:///abs/path")
    if parts.fragment:  # silently cut off before: "/d/i#1.faiss" wrote /d/i
        raise InvalidURIError(
            f"{uri!r}: #{parts.fragment} is no part of a store URI (a path, a parameter); a '#' in a path is "
            "written %23, and a space of `v2v query --collection URI#SPACE` follows the whole URI")
    try:
        port = parts.port
    except ValueError as e:
        raise InvalidURIError(f"{uri!r}: bad port ({e})") from None
    return StoreURI(scheme, unquote(parts.path), parts.hostname, port, params, uri)  # %20: a space, as in any URL


def _place(uri: StoreURI) -> tuple:
    """Where a URI's collection lives: resolved path or server, and collection (Chroma: tenant and database too)."""
    place = (_host(uri.host), uri.server_port) if uri.host else (os.path.realpath(uri.path),)
    if uri.scheme.startswith("chroma"):  # Chroma's defaults, named or not
        place += (uri.params.get("tenant", "default_tenant"), uri.params.get("database", "default_database"))
    return (uri.scheme.split("+")[0], *place, uri.params.get("collection"))


def _host(host: str) -> str:
    """A server's host as compared: every name of this machine's loopback (``localhost``, ``127.0.0.1``, ``::1``, and
    ``0.0.0.0``, which connects here) as one. Other names are compared as they are: two names of one address may be
    two servers behind one proxy."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "localhost" if host == "localhost" or host.endswith(".localhost") else host
    address = getattr(address, "ipv4_mapped", None) or address
    return "localhost" if address.is_loopback or address.is_unspecified else address.compressed


def _two_named_vectors(ua: StoreURI, ub: StoreURI) -> bool:
    named = [u.params.get("vector") for u in (ua, ub)]
    return ua.scheme.startswith("qdrant") and all(named) and named[0] != named[1]


def collection_place(uri: str) -> tuple:
    """Where the collection ``uri`` names lives, as :func:`same_collection` compares it (with a Qdrant named vector:
    one of its points' vectors)."""
    parsed = parse_uri(uri)
    return (*_place(parsed), parsed.params.get("vector"))


def same_collection(a: str, b: str) -> bool:
    """Whether two URIs name one collection, so that writing to one changes the other.

    Local stores compare by resolved path (links and ``..`` followed) and collection, servers by host, port and
    collection; ``qdrant+http`` and ``qdrant+https`` (and Chroma's two) count as one server. Two named vectors of one
    Qdrant collection (both named: ``?vector=A`` and ``?vector=B``) are two collections: a point that carries other
    vectors gets only its named vector written, so filling one named vector from another is a migration."""
    ua, ub = parse_uri(a), parse_uri(b)
    return not _two_named_vectors(ua, ub) and _place(ua) == _place(ub)


def same_points(a: str, b: str) -> bool:
    """Whether two URIs name two named vectors of one Qdrant collection (or edge shard): a point that has both holds
    one document's embeddings by two models, a true pair."""
    ua, ub = parse_uri(a), parse_uri(b)
    return _two_named_vectors(ua, ub) and _place(ua) == _place(ub)


def local_directory(uri: str) -> str | None:
    """The directory a local store is written in (the nearest that exists at or above its path); None for a server."""
    parsed = parse_uri(uri)
    if parsed.host:
        return None
    path = os.path.abspath(parsed.path)
    while not os.path.isdir(path):
        if os.path.dirname(path) == path:
            return None
        path = os.path.dirname(path)
    return path


def keeping_document_key(source: str, dest: str) -> str:
    """``dest`` with ``source``'s ``?document_key=`` where the source names one and ``dest`` is a Qdrant collection or
    edge shard that names none: texts migrated between Qdrant stores stay in the payload field they were in
    (LangChain's ``page_content``, ...), which the collection's readers query, rather than moving to ``document``."""
    key, parts = parse_uri(source).params.get("document_key"), urlsplit(dest)
    if not key or not parts.scheme.lower().startswith("qdrant") or "document_key" in parse_uri(dest).params:
        return dest
    return dest + ("&" if parts.query else "" if dest.endswith("?") else "?") + "document_key=" + quote(key, safe="")


def open_store(uri: str, *, dim: int | None = None, metric: str | Metric | None = None,
               new_vector: bool = False) -> VectorStore:
    """Open the store a URI names.

    ``dim`` and ``metric`` are used when the first upsert creates a collection that does not exist
    yet; for an existing collection they are checked against it. ``new_vector``: a Qdrant collection or edge shard
    whose points lack the named vector (``?vector=NAME``) is opened as one to add it to (its first write creates the
    vector with ``dim`` and ``metric``: :attr:`VectorStore.adds_vector`), not refused: a migration's destination.
    Opening never writes.
    """
    parsed = parse_uri(uri)
    metric = Metric.parse(metric) if metric is not None else None
    if "metric" in parsed.params and metric is None:
        metric = Metric.parse(parsed.params["metric"])
    if "dim" in parsed.params and dim is None:
        dim = int(parsed.params["dim"])
    if parsed.scheme == "faiss":
        from .faiss_store import FaissStore

        return FaissStore(parsed, dim=dim, metric=metric)
    if parsed.scheme.startswith("qdrant-edge"):
        from .qdrant_edge_store import QdrantEdgeStore

        return QdrantEdgeStore(parsed, dim=dim, metric=metric, new_vector=new_vector)
    if parsed.scheme.startswith("qdrant"):
        from .qdrant_store import QdrantStore

        return QdrantStore(parsed, dim=dim, metric=metric, new_vector=new_vector)
    if parsed.scheme.startswith("chroma"):
        from .chroma_store import ChromaStore

        return ChromaStore(parsed, dim=dim, metric=metric)
    from .npy_store import NpyStore

    return NpyStore(parsed, dim=dim, metric=metric)
