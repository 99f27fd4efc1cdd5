"""Helpers shared by the format readers: typed field access that fails with a located error."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rexel_bench.errors import DataError

#: The element types a list of tokens, or of indices, may hold (bool is not int here).
STR_ONLY, INT_ONLY = frozenset({str}), frozenset({int})
_TYPE_NAMES = {str: "a string", int: "an integer", list: "a list", dict: "an object", float: "a number"}


def plain_int_list(value: Any) -> bool:
    """Whether a value is exactly a JSON list of integers (bool is not int here): the readers' fast paths take
    it as it is, anything else goes to their checked paths."""
    return value.__class__ is list and set(map(type, value)) <= INT_ONLY


def describe(value: Any, limit: int = 60) -> str:
    """Short description of a found value for error messages: its JSON text, truncated."""
    if value is _MISSING:
        return "nothing (field missing)"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _accepts_bool(kind: type | tuple[type, ...]) -> bool:
    return kind is bool or (isinstance(kind, tuple) and bool in kind)


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


@dataclass(frozen=True)
class Where:
    """The document being parsed, so that every error names it."""

    doc_index: int
    doc_title: str | None = None

    def fail(self, field: str, expected: str, found: Any) -> DataError:
        """Build the located error for a field that is not what was expected."""
        return DataError("", doc_index=self.doc_index, doc_title=self.doc_title, field=field,
                         expected=expected, found=describe(found))

    def get(self, obj: Any, key: str, kind: type | tuple[type, ...], field: str, *, optional: bool = False,
            default: Any = None) -> Any:
        """``obj[key]`` checked against ``kind``; a located :class:`DataError` if missing or mistyped.

        This runs for every field of every mention, so the accepted case is a dict lookup and one
        ``isinstance``; a bool never passes for an int (JSON ``true`` is not a sentence index).
        """
        if not isinstance(obj, dict):
            raise self.fail(field.rsplit(".", 1)[0] if "." in field else field, "an object", obj)
        value = obj.get(key, _MISSING)
        if isinstance(value, kind) and (value.__class__ is not bool or _accepts_bool(kind)):
            return value
        if optional and (value is _MISSING or value is None):
            return default
        if value is _MISSING:
            raise self.fail(field, f"field '{key}'", _MISSING)
        kinds = kind if isinstance(kind, tuple) else (kind,)
        raise self.fail(field, " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds), value)

    def span(self, obj: Any, key: str, field: str) -> tuple[int, int]:
        """A ``[start, end]`` pair of integers."""
        value = self.get(obj, key, list, field)
        if len(value) != 2 or value[0].__class__ is not int or value[1].__class__ is not int:
            raise self.fail(field, "[start, end] integers", value)
        return value[0], value[1]

    def int_list(self, obj: Any, key: str, field: str, *, optional: bool = False) -> tuple[int, ...] | None:
        """A list of integers (e.g. evidence sentence ids); None if optional and absent."""
        value = self.get(obj, key, list, field, optional=optional)
        if value is None:
            return None
        if not set(map(type, value)) <= INT_ONLY:
            raise self.fail(field, "a list of integers", value)
        return tuple(value)

    def sentences(self, value: Any, field: str) -> tuple[tuple[str, ...], ...]:
        """A list of sentences, each a list of string tokens."""
        if not isinstance(value, list):
            raise self.fail(field, "a list of sentences", value)
        for i, sent in enumerate(value):
            if type(sent) is not list or not set(map(type, sent)) <= STR_ONLY:
                raise self.fail(f"{field}[{i}]", "a list of string tokens", sent)
        return tuple(tuple(s) for s in value)


def rest(obj: Mapping[str, Any], known: set[str] | frozenset[str]) -> dict[str, Any]:
    """The fields of ``obj`` that a reader does not interpret, kept for lossless writing."""
    if obj.keys() <= known:  # the common case, tested as one set comparison
        return {}
    return {k: v for k, v in obj.items() if k not in known}
