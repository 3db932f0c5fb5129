"""v2v-store: move and query vector collections across embedding models without re-encoding."""

from v2v_store.connectors import Metric, VectorBatch, VectorStore, open_store
from v2v_store.errors import V2VError

__all__ = ["Metric", "Translator", "V2VError", "VectorBatch", "VectorStore", "open_store"]
__version__ = "0.1.0"


def __getattr__(name: str):
    """``Translator`` on first use: it imports torch, which ``v2v inspect`` and the connectors do not need."""
    if name == "Translator":
        from v2v_store.translator import Translator

        return Translator
    raise AttributeError(f"module 'v2v_store' has no attribute {name!r}")
