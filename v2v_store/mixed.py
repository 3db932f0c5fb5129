"""Collections of mixed spaces: one index holding records of both of a translator's models (half way through a
re-embedding, say). Each record's space is named by a metadata field (``@FIELD``), or told by its vector (``auto``:
:class:`~v2v_store.space_check.RecordClassifier` on the means and covariances the fit recorded). ``migrate`` then
translates the records of one space and copies those of the other; ``query`` searches each record in its own space.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from v2v_store.connectors import VectorBatch
from v2v_store.errors import V2VError
from v2v_store.space_check import CHECK_ROWS, RecordClassifier

logger = logging.getLogger(__name__)

AUTO = "auto"  # as --source-space or #SPACE: each record's space told by its vector
TRANSLATED_FROM = "v2v_translated_from"  # auto: the metadata key a translated record gets (``FIELD_translated_from``)


@dataclass
class RecordSpaces:
    """How each record of a collection of mixed spaces says which translator space it is in: by metadata field
    ``field``, or (``field`` None) by its vector, through ``classifier``."""

    names: tuple[str, str]
    field: str | None = None
    classifier: RecordClassifier | None = None

    @classmethod
    def parse(cls, spec: str | None, translator) -> "RecordSpaces | None":
        """``@FIELD`` or ``auto`` -> how the records say their spaces; a space's name or None -> None (one space)."""
        names = tuple(sp.name for sp in translator.spaces)
        if not spec or (spec != AUTO and not spec.startswith("@")) or spec in names:
            return None
        if spec == "@":
            raise V2VError(f"'@' names no metadata field: write @FIELD (the field holding each record's model), or "
                           f"{AUTO} to tell each record's space by its vector")
        if spec.startswith("@"):
            return cls(names, field=spec[1:])
        if translator.spaces[0].dim != translator.spaces[1].dim:
            raise V2VError(f"this translator's spaces have different dimensions ({names[0]} "
                           f"{translator.spaces[0].dim}-d, {names[1]} {translator.spaces[1].dim}-d): one index cannot "
                           "mix them, so each collection is in one space: name it, or leave it to the dimension")
        classifier = RecordClassifier(translator.space_covariances, translator.space_means)
        separation = min(classifier.separation(*names), classifier.separation(*names[::-1]))
        if separation < RecordClassifier.SEPARATION:
            why = ("it records no means of its spaces (fitted before v2v-store recorded them): fit it again"
                   if not translator.space_means else
                   f"its two spaces' recorded distributions are too alike ({separation:.0f} nats apart, "
                   f"{RecordClassifier.SEPARATION:.0f} needed)")
            raise V2VError(f"this translator cannot tell {names[0]!r} records from {names[1]!r} ones by their vectors: "
                           f"{why}; or name the metadata field that holds each record's model: @FIELD")
        return cls(names, classifier=classifier)

    @property
    def option(self) -> str:
        """How the user wrote it: ``@FIELD`` or ``auto``."""
        return AUTO if self.field is None else f"@{self.field}"

    def labels(self, batch: VectorBatch) -> np.ndarray:
        """Each record's space name, or None: a field naming neither space, or a vector not clearly of either (within
        ``RecordClassifier.MARGIN`` nats, or far from both: :meth:`RecordClassifier.plausible`)."""
        if self.field is not None:
            return np.array([v if v in self.names else None for v in ((m or {}).get(self.field) for m in batch.metadata)],
                            dtype=object)
        a, b = self.names
        c, margin = self.classifier, RecordClassifier.MARGIN
        ratio = c.log_likelihood(batch.vectors, a) - c.log_likelihood(batch.vectors, b)
        of_a = (ratio >= margin) & c.plausible(batch.vectors, a)  # and not a third model's, nearer a than b
        of_b = (ratio <= -margin) & c.plausible(batch.vectors, b)
        return np.where(of_a, a, np.where(of_b, b, None)).astype(object)

    def translated(self, metadata: dict | None, source: str, target: str) -> dict:
        """A translated record's metadata: its field names ``target`` now, and where it came from is kept."""
        if self.field is None:
            return {**(metadata or {}), TRANSLATED_FROM: source}
        return {**(metadata or {}), self.field: target, f"{self.field}_translated_from": source}

    @property
    def neither(self) -> str:
        """What a record labelled None is, for messages."""
        return (f"name neither {self.names[0]!r} nor {self.names[1]!r} in their {self.field!r} field"
                if self.field is not None else
                f"are not clearly {self.names[0]!r} or {self.names[1]!r} vectors (within "
                f"{RecordClassifier.MARGIN:.0f} nats of both, or far from both: another model's?)")

    def check(self, translator, store, what: str, check_space: bool = True) -> dict[str, int]:
        """Check an open store of mixed spaces on its first records: the translator's spaces must share its dimension,
        some records must be of one of them (else the field is wrong), and the records of each space must look like it
        (``check_space``: :meth:`Translator.check_space`; told by their vectors, they only fail it when the collection
        holds a third model's records too). Returns how many of those records are in each space (``neither``: the
        rest), and warns about the rest."""
        if any(sp.dim != store.dim for sp in translator.spaces):
            raise V2VError(f"{what}: its vectors are {store.dim}-d, but the translator's spaces are "
                           + ", ".join(f"{sp.name} ({sp.dim}-d)" for sp in translator.spaces)
                           + ": one index can only mix spaces of one dimension")
        first = store.first_batch(4 * CHECK_ROWS)
        if first is None:
            return {}
        labels = self.labels(first)
        counts = {name: int((labels == name).sum()) for name in self.names}
        counts["neither"] = len(first) - sum(counts.values())
        if not any(counts[name] for name in self.names):
            found = sorted(map(repr, {(m or {}).get(self.field) for m in first.metadata}))[:5] if self.field else []
            raise V2VError(f"{what}: none of its first {len(first)} records "
                           + (f"has a metadata field {self.field!r} naming a space of this translator "
                              f"({', '.join(self.names)}; found {', '.join(found)}): name the field that holds each "
                              "record's model" if self.field is not None else
                              f"is clearly a {self.names[0]!r} or {self.names[1]!r} vector: is it of another model?"))
        if counts["neither"]:
            logger.warning("%s: %d of its first %d records %s; they are left out", what, counts["neither"], len(first),
                           self.neither)
        if check_space:  # by field: mislabelled records; auto: a third model's records put in the nearer space
            how_to_name = (f"{self.field!r}: '{{}}' in those records' metadata" if self.field is not None else
                           "'{}' (as the vectors of neither space are put in the nearer one, it may hold a third "
                           "model's records: check it with `v2v inspect --model`)")
            for name in self.names:
                rows = labels == name
                if rows.any():
                    translator.check_space(first.vectors[rows][:CHECK_ROWS], name, f"the {name!r} records of {what}",
                                           how_to_name)
        return counts
