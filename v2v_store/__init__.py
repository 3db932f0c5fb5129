"""v2v-store: move and query vector collections across embedding models without re-encoding."""

from v2v_store.connectors import Metric, VectorBatch, VectorStore, open_store
from v2v_store.errors import V2VError

__all__ = ["Metric", "V2VError", "VectorBatch", "VectorStore", "open_store"]
__version__ = "0.1.0"
