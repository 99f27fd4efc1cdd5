"""Problems found while loading or validating data: what, where, expected versus found.

Loaders and validators never print; they hand :class:`Problem` records to a :class:`ProblemLog`,
which raises at the first error in strict mode and otherwise collects everything for a report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rexel_bench.errors import DataError

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Problem:
    """One finding about one place in one file.

    ``error``: the document cannot be used as it is and is not loaded (the log says so);
    ``warning``: kept, but worth knowing (e.g. published annotation noise);
    ``info``: a fact about the data (e.g. text absent).
    """

    severity: Severity
    file: str
    doc_index: int | None
    doc_title: str | None
    field: str
    expected: str
    found: str

    def location(self) -> str:
        """``file, document 3 ("Title"), field vertexSet[2][0].pos``."""
        return DataError("", file=self.file, doc_index=self.doc_index, doc_title=self.doc_title,
                         field=self.field).location()

    def __str__(self) -> str:
        return f"{self.severity}: {self.location()}: expected {self.expected}, found {self.found}"

    def to_dict(self) -> dict[str, object]:
        """Machine-readable form, for ``--json`` outputs."""
        return {
            "severity": self.severity,
            "file": self.file,
            "doc_index": self.doc_index,
            "doc_title": self.doc_title,
            "field": self.field,
            "expected": self.expected,
            "found": self.found,
        }


@dataclass
class ProblemLog:
    """Collects problems for one file; in strict mode the first error raises :class:`DataError`."""

    file: str
    strict: bool = False
    problems: list[Problem] = field(default_factory=list)

    def add(
        self,
        severity: Severity,
        doc_index: int | None,
        doc_title: str | None,
        field: str,
        expected: str,
        found: str,
        *,
        file: str | None = None,
    ) -> Problem:
        """Record a problem; raise at once if it is an error and the log is strict."""
        file = file or self.file
        problem = Problem(severity, file, doc_index, doc_title, field, expected, found)
        self.problems.append(problem)
        if self.strict and severity == "error":
            raise DataError("", file=file, doc_index=doc_index, doc_title=doc_title, field=field,
                            expected=expected, found=found)
        return problem

    def add_error(self, error: DataError) -> Problem:
        """Record a structural :class:`DataError` raised while parsing a document."""
        expected = error.expected if error.expected is not None else error.message
        found = error.found if error.found is not None else "(see expected)"
        return self.add("error", error.doc_index, error.doc_title, error.field or "", expected, found,
                        file=error.file)

    def count(self, severity: Severity) -> int:
        """Number of problems of a severity."""
        return sum(p.severity == severity for p in self.problems)
