"""Metadata filters: which records a search may return, by their metadata fields.

A :class:`Where` is a conjunction of conditions written as the CLI takes them (``--where lang=en --where
year>=2020``; one ``--where 'lang=de | tenant=acme'`` holds where either does): ``=`` and ``!=`` compare text,
numbers or booleans, or a JSON list of them (``lang=["en","de"]``: any of them; ``!=``: none of them; ``=null``: no
value, missing, null or an empty list, and ``!=null`` a value); ``>``, ``>=``, ``<``, ``<=`` compare numbers, or
dates (``published>=2024-06-01``: text in one of Qdrant's datetime formats, RFC 3339 and shorter, UTC where no zone
is given); ``~`` keeps text that contains the value (``source~handbook``; ``!~``: does not), case-sensitive. A field
is a metadata key, or a dotted path into nested metadata (``metadata.source``: LangChain's payloads in Qdrant;
``items[].name``: into each object of an array). The rules are Qdrant's, so a Qdrant collection filters on its own
engine and every other store by :meth:`Where.holds` alike: a list matches when one of its items does; ``!=`` keeps
records without the field; numbers compare by value (``2020`` matches ``2020.0``); ``true`` matches only a boolean.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from qdrant_client.local.datetime_utils import parse as _parse_qdrant_datetime

from v2v_store.errors import V2VError

# longest first, so ">=" is not read as ">" followed by "=2020"
OPERATORS = ("!=", "!~", ">=", "<=", "=", "~", ">", "<")
RANGE_OPERATORS = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
TEXT_OPERATORS = ("~", "!~")  # contains (does not contain) this text: Qdrant's MatchSubstring
_MISSING = object()
Scalar = str | int | float | bool


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _equal(stored: Any, wanted: Any) -> bool:
    if isinstance(stored, bool) or isinstance(wanted, bool):
        return isinstance(stored, bool) and isinstance(wanted, bool) and stored == wanted
    if _is_number(stored) and _is_number(wanted):
        return stored == wanted
    return isinstance(stored, str) and isinstance(wanted, str) and stored == wanted


def parse_datetime(value: Any) -> datetime | None:
    """``value`` as a moment in time where it is text in one of the formats Qdrant takes (RFC 3339, ``2024-06-01``,
    ``2024-06-01 12:00``, ...; without a zone: UTC), else None."""
    if not isinstance(value, str):
        return None
    moment = _parse_qdrant_datetime(value)
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _compare(stored: Any, op: str, wanted: float | datetime) -> bool:
    if isinstance(wanted, datetime):
        stored = parse_datetime(stored)
        if stored is None:
            return False
    elif not _is_number(stored):
        return False
    return {">": stored > wanted, ">=": stored >= wanted, "<": stored < wanted, "<=": stored <= wanted}[op]


def field_value(metadata: dict[str, Any] | None, field: str) -> Any:
    """``metadata[field]``, else the value at dotted path ``field`` through nested objects, where a part ending in
    ``[]`` goes into each object of an array (Qdrant's ``items[].name``: the list of every item's name); ``_MISSING``
    where none."""
    found = _values_at(metadata, field)
    if "[]" not in field:
        return found[0] if found else _MISSING
    values = [x for v in found for x in (v if isinstance(v, list) else [v])]
    return values if values else _MISSING


def _values_at(metadata: dict[str, Any] | None, field: str) -> list:
    """The values at path ``field`` (one, or with ``[]`` one per object of an array), lists as they are."""
    if not metadata:
        return []
    if field in metadata:
        return [metadata[field]]
    found: list = [metadata]
    for part in field.split("."):
        key, each = (part[:-2], True) if part.endswith("[]") else (part, False)
        found = [v[key] for v in found if isinstance(v, dict) and key in v]
        if each:
            found = [item for v in found if isinstance(v, list) for item in v]
    return found


def is_empty(metadata: dict[str, Any] | None, field: str) -> bool:
    """Whether ``field`` holds no value: missing, null or an empty list (Qdrant's ``IsEmpty``; each value at a path
    through an array of objects)."""
    return all(v is None or v == [] for v in _values_at(metadata, field))


def filter_hints(where: "Where", metadata: list[dict[str, Any] | None]) -> list[str]:
    """What looks wrong with ``where`` against ``metadata`` (a collection's first records), each in words for a
    warning: a field none of them has (misspelt: ``=`` then keeps nothing, ``!=`` everything) or one whose values a
    condition cannot match by type (numbers compared with text: ``year>=2020`` where years are stored as "2020")."""
    hints, fields = [], sorted({key for m in metadata if m for key in m})
    for c in where.leaves():
        if c.value is None:  # =null keeps records without the field: a name none has is no mistake there
            continue
        found = [field_value(m, c.field) for m in metadata]
        items = [x for v in found if v is not _MISSING for x in (v if isinstance(v, list) else [v])]
        if not items:
            hints.append(f"none of its first {len(metadata)} records has the field {c.field!r} (theirs: "
                         f"{', '.join(fields) or 'no metadata'}): check the name")
            continue
        kinds = {type(x) for x in items}
        numbers = any(_is_number(x) for x in items)
        texts = [x for x in items if isinstance(x, str)]
        example = f" (e.g. {texts[0]!r})" if texts else ""
        wanted, listed = c.values, isinstance(c.value, tuple)
        each = "each value" if listed else "it"
        if c.op in TEXT_OPERATORS:
            if not texts:
                held = "numbers" if numbers else "booleans" if bool in kinds else "no text"
                hints.append(f"the field {c.field!r} holds {held} in the first {len(metadata)} records, and {c} looks "
                             "for text in it (= and != compare numbers and booleans)")
        elif c.moment is not None:
            if not any(parse_datetime(x) for x in texts):
                held = f"text{example}" if texts else "numbers" if numbers else "booleans"
                fix = (": a date stored as a number (a timestamp) is compared by number: write the number"
                       if numbers else "")
                hints.append(f"the field {c.field!r} holds {held} in the first {len(metadata)} records, none of it a "
                             f"date Qdrant reads (2024-06-01, 2024-06-01T12:00:00Z), and {c} compares dates{fix}")
        elif (c.op in RANGE_OPERATORS or all(_is_number(v) for v in wanted)) and not numbers and texts:
            hints.append(f"the field {c.field!r} holds text{example} in the first {len(metadata)} records, and {c} "
                         + ("compares numbers" if c.op in RANGE_OPERATORS else
                            f"matches {'numbers' if listed else 'the number'}: to match the text, quote {each}: "
                            f"{_rewritten(c, _quoted)}"))
        elif all(isinstance(v, str) for v in wanted) and not texts and (numbers or bool in kinds):
            kind = "numbers" if numbers else "booleans"
            hints.append(f"the field {c.field!r} holds {kind} in the first {len(metadata)} records, and {c} matches "
                         f"text: write {'each value' if listed else 'the value'} unquoted ({_rewritten(c, _unquoted)})")
        elif all(isinstance(v, bool) for v in wanted) and bool not in kinds:
            fix = f": to match the text, quote {each}: {_rewritten(c, _quoted)}" if texts else ""
            hints.append(f"the field {c.field!r} holds {'text' + example if texts else 'numbers'} in the first "
                         f"{len(metadata)} records, and {c} matches a boolean{fix}")
    return hints


def _quoted(value: Scalar) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _unquoted(value: Scalar) -> Scalar:
    try:
        return json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return value


def _rewritten(c: "Condition", change) -> "Condition":
    """``c`` with ``change`` applied to its value or to each of its list's."""
    values = tuple(change(v) for v in c.values)
    return Condition(c.field, c.op, values if isinstance(c.value, tuple) else values[0])


@dataclass(frozen=True)
class Condition:
    """One ``field OP value`` test."""

    field: str
    op: str
    value: Scalar | tuple[Scalar, ...] | None  # a tuple (``=`` and ``!=`` only): any of its values; None: no value

    @property
    def moment(self) -> datetime | None:
        """The time a comparison of dates compares with (its value is a date's text), else None."""
        return parse_datetime(self.value) if self.op in RANGE_OPERATORS else None

    @property
    def values(self) -> tuple[Scalar, ...]:
        """The values ``=`` matches (one, or a list's)."""
        return self.value if isinstance(self.value, tuple) else (self.value,)

    def holds(self, metadata: dict[str, Any] | None) -> bool:
        if self.value is None:  # =null: no value (missing, null, []); !=null: a value
            return is_empty(metadata, self.field) == (self.op == "=")
        stored = field_value(metadata, self.field)
        items = stored if isinstance(stored, list) else [stored]
        if self.op in TEXT_OPERATORS:  # byte-wise and case-sensitive, as Qdrant's
            contains = any(isinstance(item, str) and self.value in item for item in items)
            return contains if self.op == "~" else not contains
        if self.op in ("=", "!="):
            equal = any(_equal(item, wanted) for item in items for wanted in self.values)
            return equal if self.op == "=" else not equal
        wanted = self.moment or float(self.value)
        return any(_compare(item, self.op, wanted) for item in items)

    def __str__(self) -> str:
        return f"{self.field}{self.op}{json.dumps(list(self.value) if isinstance(self.value, tuple) else self.value)}"


@dataclass(frozen=True)
class AnyOf:
    """Conditions of which a record's metadata must meet one or more (``--where 'lang=de | tenant=acme'``)."""

    alternatives: tuple[Condition, ...]

    def holds(self, metadata: dict[str, Any] | None) -> bool:
        return any(a.holds(metadata) for a in self.alternatives)

    def __str__(self) -> str:
        return " | ".join(map(str, self.alternatives))


@dataclass(frozen=True)
class Where:
    """Conditions a record's metadata must all meet (each a condition, or alternatives of which one must hold)."""

    conditions: tuple[Condition | AnyOf, ...]

    @classmethod
    def parse(cls, texts: Iterable[str] | None) -> "Where | None":
        """The filter of ``--where`` texts (``field=value``, ``field>=number``, ...; ``a | b``: either); None for none.
        A value is read as JSON where it is one (``2020``, ``true``, ``"2020"`` for the text), as text otherwise
        (``en``)."""
        conditions = tuple(parse_clause(t) for t in texts or ())
        return cls(conditions) if conditions else None

    def leaves(self) -> list[Condition]:
        """Every condition, those of alternatives too."""
        return [a for c in self.conditions for a in (c.alternatives if isinstance(c, AnyOf) else (c,))]

    @classmethod
    def of(cls, value: Any, what: str = "where") -> "Where | None":
        """The filter of ``value`` as data (a query line's ``"where"``): a list of ``FIELD=VALUE`` texts as
        :meth:`parse` takes them (one such text alone too), or an object of ``field: value`` pairs, each an equality;
        None for none. ``what`` names it in an error."""
        if value is None:
            return None
        if isinstance(value, dict):
            conditions = []
            for field, wanted in value.items():
                try:
                    conditions.append(Condition(field, "=", _checked_value(wanted)))
                except ValueError as e:
                    raise V2VError(f"{what}: {field!r} is {json.dumps(wanted)}; an object's values are matched for "
                                   f"equality: {e} (a list of conditions such as [\"year>=2020\"] compares)") from None
            return cls(tuple(conditions)) if conditions else None
        if isinstance(value, str):  # one condition, as one --where
            value = [value]
        if isinstance(value, list) and all(isinstance(t, str) for t in value):
            return cls.parse(value)
        raise V2VError(f"{what}: a filter is an object of field: value pairs or a list of conditions such as "
                       f'["lang=en", "year>=2020"], not {json.dumps(value)}')

    def holds(self, metadata: dict[str, Any] | None) -> bool:
        return all(c.holds(metadata) for c in self.conditions)

    def rows(self, metadata: list[dict[str, Any] | None]) -> list[int]:
        """The positions in ``metadata`` (a batch's) of the records it keeps."""
        return [r for r, m in enumerate(metadata) if self.holds(m)]

    def __and__(self, other: "Where | None") -> "Where":
        return Where(self.conditions + other.conditions) if other is not None else self

    def __str__(self) -> str:
        return " and ".join(map(str, self.conditions))


def both(first: Where | None, second: Where | None) -> Where | None:
    """The conditions of both filters (either may be None: none)."""
    return second if first is None else first & second


def parse_clause(text: str) -> Condition | AnyOf:
    """A ``--where`` text: a condition, or alternatives separated by `` | `` (a space each side; a value that holds
    one is quoted: ``title="a | b"``)."""
    parts, current, quoted = [], [], False
    i = 0
    while i < len(text):
        if text[i] == '"' and (i == 0 or text[i - 1] != "\\"):
            quoted = not quoted
        if not quoted and text.startswith(" | ", i):
            parts.append("".join(current))
            current, i = [], i + 3
            continue
        current.append(text[i])
        i += 1
    parts.append("".join(current))
    if len(parts) == 1:
        return parse_condition(text)
    return AnyOf(tuple(parse_condition(p.strip()) for p in parts))


def parse_condition(text: str) -> Condition:
    at = min((i for i in (text.find(c) for c in "!=<>~") if i >= 0), default=-1)
    op = next((o for o in OPERATORS if text.startswith(o, at)), None) if at > 0 else None
    if op is None:
        raise V2VError(f"--where {text!r} is not FIELD=VALUE: write a metadata field, an operator "
                       f"({', '.join(OPERATORS)}) and a value, e.g. --where lang=en or --where year>=2020")
    field, raw = text[:at].strip(), text[at + len(op):].strip()
    if op in TEXT_OPERATORS:  # text, quoted or not (title~2024 looks for the text "2024")
        try:
            quoted = json.loads(raw)
        except ValueError:
            quoted = None
        wanted = quoted if isinstance(quoted, str) else raw
        if not wanted:
            raise V2VError(f"--where {text!r}: {op} needs the text to look for, e.g. --where title{op}report")
        return Condition(field, op, wanted)
    try:
        value = json.loads(raw)
    except ValueError:
        if raw.startswith("["):
            items = [_unquoted(item.strip()) for item in raw.strip("[]").split(",") if item.strip()] or ["en", "de"]
            raise V2VError(f"--where {text!r}: a list of values is JSON, its texts quoted: --where "
                           f"'{field}{op}{json.dumps(items)}' (any of them; != none of them)") from None
        value = raw
    try:
        value = _checked_value(value)
    except ValueError as e:
        raise V2VError(f"--where {text!r}: {e}; to match the text itself, quote it: "
                       f"--where '{field}=\"{raw}\"'") from None
    if op in RANGE_OPERATORS and not _is_number(value) and parse_datetime(value) is None:
        raise V2VError(f"--where {text!r}: {op} compares numbers or dates (text such as 2024-06-01 or "
                       f"2024-06-01T12:00:00Z, UTC where no zone is given), and {raw!r} is neither; use = or != for "
                       "text" + (" (a list: = any of its values, != none)" if isinstance(value, tuple) else ""))
    return Condition(field, op, value)


def _checked_value(value: Any) -> Scalar | tuple[Scalar, ...]:
    """``value`` (parsed JSON) as a condition holds it: text, a number or a boolean, or a non-empty list of them (a
    tuple); ValueError, in words, otherwise."""
    def scalar(v: Any) -> bool:
        return isinstance(v, (str, int, float, bool)) and not (isinstance(v, float) and v != v)

    if isinstance(value, list):
        if not value or not all(scalar(v) for v in value):
            raise ValueError(f"a list must hold one or more texts, numbers or true/false (got {json.dumps(value)})")
        return tuple(value)
    if value is not None and not scalar(value):
        raise ValueError(f"the value must be text, a number or true/false, or a list of them, or null (got "
                         f"{json.dumps(value)})")
    return value
