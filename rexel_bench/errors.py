"""Exception types of the toolkit, one per kind of failure, each naming file, document and field.

The CLI turns any of them into one readable line and a non-zero exit status.
"""

from __future__ import annotations


class RexelBenchError(Exception):
    """Base class: a failure with a location (file, document index and title, field)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        doc_index: int | None = None,
        doc_title: str | None = None,
        field: str | None = None,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        self.expected = expected
        self.found = found
        if not message and expected is not None:
            message = f"expected {expected}, found {found}"
        self.message = message
        self.file = file
        self.doc_index = doc_index
        self.doc_title = doc_title
        self.field = field
        super().__init__(self.__str__())

    def location(self) -> str:
        """Human-readable location: ``file: document 3 ("Title"), field labels[2].r``."""
        parts = []
        if self.file:
            parts.append(str(self.file))
        if self.doc_index is not None or self.doc_title:
            title = f' ("{self.doc_title}")' if self.doc_title else ""
            idx = f"document {self.doc_index}" if self.doc_index is not None else "document"
            parts.append(idx + title)
        if self.field:
            parts.append(f"field {self.field}")
        return ", ".join(parts)

    def __str__(self) -> str:
        loc = self.location()
        return f"{loc}: {self.message}" if loc else self.message


class DataError(RexelBenchError):
    """Input data (gold or any dataset file) is malformed or inconsistent."""


class PredictionError(RexelBenchError):
    """A prediction file does not fit the gold data it is scored against."""


class ConfigError(RexelBenchError):
    """A configuration, option or registry name is invalid."""


class ClusterError(RexelBenchError):
    """Work on a Dask cluster failed: a partition failed every try, or the scheduler cannot be reached."""


class RexelBenchNote(UserWarning):
    """Something the user should know that changes no result (a damaged cache rebuilt, say): a warning that
    the command line prints as one ``note:`` line."""
