"""Connectors: every vector store behind one protocol, opened by URI with :func:`open_store`."""

from .base import (TRANSLATED_KEY, Metric, PointId, VectorBatch, VectorStore, check_vectors, holds_translation,
                   l2_normalize, other_vectors_left_behind, points_without_vector_left_behind, translations_in)
from .uri import SCHEMES, keeping_document_key, open_store, parse_uri, same_collection, same_points
from .where import Where

__all__ = ["Metric", "PointId", "SCHEMES", "TRANSLATED_KEY", "VectorBatch", "VectorStore", "check_vectors",
           "holds_translation", "keeping_document_key", "l2_normalize", "open_store", "other_vectors_left_behind",
           "parse_uri", "points_without_vector_left_behind", "same_collection", "same_points",
           "translations_in", "Where"]
