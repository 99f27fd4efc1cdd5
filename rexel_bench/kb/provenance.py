"""Which linking setting produced a number: does the KB hold annotations of the documents it links?

A KB records every document whose annotations went into it (``KnowledgeBase.documents``). Against the
documents a run evaluates, a system's linking setting is one of:

- ``external``: no evaluated document contributed to its KB;
- ``held-out``: cross-fitted — each evaluated document was linked with a KB built without it (the run
  assigns this when it predicts folds with fold KBs, after checking each fold's KB is external to it);
- ``oracle-candidates``: the KB holds the annotations (aliases, QIDs, types, facts) of N evaluated
  documents — an upper bound of linking, never a fair score;
- ``unknown``: the KB records no provenance, or a ``file:`` system did not declare its setting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from rexel_bench.data.model import Document, text_hash
from rexel_bench.kb.store import KnowledgeBaseReader

SETTINGS = ("external", "held-out", "oracle-candidates", "unknown")
LABELS = {"external": "external", "held-out": "held-out (cross-fitted)",
          "oracle-candidates": "oracle-candidates (upper bound)", "unknown": "unknown"}


@dataclass(frozen=True)
class LinkingSetting:
    """A system's linking setting on the evaluated documents, with the counts behind it."""

    name: str
    overlap: int = 0  # evaluated documents whose annotations the KB holds
    evaluated: int = 0
    detail: str = ""

    @property
    def label(self) -> str:
        """How reports show the setting."""
        return LABELS.get(self.name, self.name)

    def to_dict(self) -> dict[str, object]:
        """Machine-readable form (``metrics.json``)."""
        return {**asdict(self), "label": self.label}


def overlapping(kb: KnowledgeBaseReader, docs: Sequence[Document]) -> list[Document] | None:
    """The evaluated documents whose annotations the KB holds (same text, or same id), or None when the KB
    records no provenance but holds document-derived parts."""
    recorded = kb.documents()
    if recorded is None:
        built_from = kb.stats()["sources"].get("built_from", {})
        derived = [k for k in built_from if k.startswith(("docred_ie", "dwie"))]
        return None if derived else []
    hashes = {r["text_sha256"] for r in recorded}
    ids = {r["doc_id"] for r in recorded}
    return [d for d in docs if d.id in ids or text_hash(d) in hashes]


def classify(kb: KnowledgeBaseReader, docs: Sequence[Document]) -> LinkingSetting:
    """``external``, ``oracle-candidates`` (with how many evaluated documents the KB holds) or ``unknown``."""
    found = overlapping(kb, docs)
    if found is None:
        return LinkingSetting("unknown", 0, len(docs), f"{kb.name} records no document provenance")
    if found:
        return LinkingSetting("oracle-candidates", len(found), len(docs),
                              f"the KB holds the annotations of {len(found)} of the {len(docs)} evaluated documents")
    return LinkingSetting("external", 0, len(docs), "no evaluated document contributed to the KB")


def declared(name: str, docs: Sequence[Document], detail: str = "declared by the system") -> LinkingSetting:
    """A setting a system states itself (``file:`` predictions); anything but a known name is ``unknown``."""
    return LinkingSetting(name if name in SETTINGS else "unknown", 0, len(docs), detail)
