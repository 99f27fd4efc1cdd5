"""Helpers shared by the format readers: typed field access that fails with a located error."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rexel_bench.errors import DataError

_TYPE_NAMES = {str: "a string", int: "an integer", list: "a list", dict: "an object", float: "a number"}


def describe(value: Any, limit: int = 60) -> str:
    """Short description of a found value for error messages: its JSON text, truncated."""
    if value is _MISSING:
        return "nothing (field missing)"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
        """``obj[key]`` checked against ``kind``; a located :class:`DataError` if missing or mistyped."""
        if not isinstance(obj, dict):  # parsed JSON objects are dicts (a plain type check: this runs per field)
            raise self.fail(field.rsplit(".", 1)[0] if "." in field else field, "an object", obj)
        value = obj.get(key, _MISSING)
        if value is _MISSING or (value is None and optional):
            if optional:
                return default
            raise self.fail(field, f"field '{key}'", _MISSING)
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise self.fail(field, " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds), value)
        return value

    def span(self, obj: Any, key: str, field: str) -> tuple[int, int]:
        """A ``[start, end]`` pair of integers."""
        value = self.get(obj, key, list, field)
        if len(value) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise self.fail(field, "[start, end] integers", value)
        return value[0], value[1]

    def int_list(self, obj: Any, key: str, field: str, *, optional: bool = False) -> tuple[int, ...] | None:
        """A list of integers (e.g. evidence sentence ids); None if optional and absent."""
        value = self.get(obj, key, list, field, optional=optional)
        if value is None:
            return None
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise self.fail(field, "a list of integers", value)
        return tuple(value)

    def sentences(self, value: Any, field: str) -> tuple[tuple[str, ...], ...]:
        """A list of sentences, each a list of string tokens."""
        if not isinstance(value, list):
            raise self.fail(field, "a list of sentences", value)
        for i, sent in enumerate(value):
            if not isinstance(sent, list) or not all(isinstance(t, str) for t in sent):
                raise self.fail(f"{field}[{i}]", "a list of string tokens", sent)
        return tuple(tuple(s) for s in value)


def rest(obj: Mapping[str, Any], known: set[str] | frozenset[str]) -> dict[str, Any]:
    """The fields of ``obj`` that a reader does not interpret, kept for lossless writing."""
    return {k: v for k, v in obj.items() if k not in known}
