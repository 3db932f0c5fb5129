"""Records written by LlamaIndex's vector stores: their text, and the text their vector embeds.

LlamaIndex keeps each node as JSON in the record's metadata (``_node_content``), its text inside it (Qdrant, where
no other field holds it) or as the record's document (Chroma, the text left out of the JSON). Its vector embeds the
node's metadata too, but the keys the node excludes from embedding, each as ``metadata_template`` formats it, joined
by ``metadata_separator``, before the text as ``text_template`` puts them (LlamaIndex's
``node.get_content(MetadataMode.EMBED)``). A model re-embedding the bare text reproduces none of those vectors.
"""
from __future__ import annotations

import json
from typing import Any

NODE_KEY = "_node_content"
METADATA_TEMPLATE = "{key}: {value}"  # LlamaIndex's defaults
TEXT_TEMPLATE = "{metadata_str}\n\n{content}"


def node_of(metadata: dict | None) -> dict | None:
    """The LlamaIndex node a record's metadata holds (as JSON text under ``_node_content``), else None."""
    raw = (metadata or {}).get(NODE_KEY)
    if not isinstance(raw, str) or not raw.startswith("{"):
        return None
    try:
        node = json.loads(raw)
    except ValueError:
        return None
    return node if isinstance(node, dict) else None


def node_text(metadata: dict | None) -> str | None:
    """The text of the LlamaIndex node a record's metadata holds, where the node keeps it (Qdrant's layout), else
    None."""
    text = (node_of(metadata) or {}).get("text")
    return text if isinstance(text, str) and text.strip() else None


def embedded_text(document: str | None, metadata: dict | None) -> str | None:
    """The text a record's vector embeds: its ``document``, or for a LlamaIndex node what LlamaIndex embeds of it (its
    metadata but the keys excluded from embedding, then the text, as the node's templates put them)."""
    node = node_of(metadata)
    if node is None or not isinstance(document, str):
        return document
    excluded = set(node.get("excluded_embed_metadata_keys") or [])
    template = node.get("metadata_template") or METADATA_TEMPLATE
    separator = node.get("metadata_separator", node.get("metadata_seperator", "\n"))
    fields: dict[str, Any] = node.get("metadata") or {}
    try:
        metadata_str = separator.join(template.format(key=k, value=str(v)) for k, v in fields.items()
                                      if k not in excluded).strip()
        if not metadata_str:
            return document
        return (node.get("text_template") or TEXT_TEMPLATE).format(content=document, metadata_str=metadata_str).strip()
    except (KeyError, IndexError, ValueError, AttributeError):  # a template of another kind: the text alone
        return document
