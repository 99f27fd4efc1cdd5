"""Content checks on loaded documents: spans, mention text, relation ends and labels, duplicates.

Structural problems (missing fields, wrong JSON types) are caught by the format readers; this
module checks what a well-formed document can still get wrong. Findings go to a
:class:`ProblemLog`; a document with an error is not kept, and the log says so.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from rexel_bench.data.model import NO_TEXT, Document
from rexel_bench.data.problems import ProblemLog

_WHITESPACE = re.compile(r"\s+", re.UNICODE)


def squash(text: str) -> str:
    """Text with all whitespace (including U+00A0 and newlines) removed, to compare mention names."""
    return _WHITESPACE.sub("", text)


def check_document(
    doc: Document,
    index: int,
    log: ProblemLog,
    relation_labels: Collection[str] | None = None,
    file: str | None = None,
) -> bool:
    """Check one document, logging every problem; True if it has no error and can be kept.

    Mention names that differ from their tokens only in spacing are accepted (DocRED writes
    "July 21, 2017" for the tokens "July 21 , 2017"); other differences are warnings, since users
    cannot fix published data.
    """
    errors_before = log.count("error")

    def add(severity: str, field: str, expected: str, found: str) -> None:
        log.add(severity, index, doc.title, field, expected, found, file=file)  # type: ignore[arg-type]

    if doc.meta.get("format") == "linked-triples":  # facts between QIDs only: no text, no mention to check
        return log.count("error") == errors_before
    if (doc.has_text and doc.num_tokens == 0) or (not doc.has_text and doc.meta.get("format") != "dwie"):
        add("error", "sents", "a document with at least one token", "an empty document")
    if not doc.has_text and doc.meta.get("format") == "dwie":
        add("info", "content", "article text", "no text (annotations only: mentions keep character offsets)")
    for e, entity in enumerate(doc.entities):
        if not entity.mentions:
            add("info" if doc.meta.get("format") == "dwie" else "error", f"vertexSet[{e}]",
                "an entity with at least one mention", "no mention")
        for i, m in enumerate(entity.mentions):
            _check_mention(doc, m, f"vertexSet[{e}][{i}]", add)
    _check_repeated_spans(doc, add)
    for i, rel in enumerate(doc.relations):
        for end_name, end in (("h", rel.head), ("t", rel.tail)):
            if not 0 <= end < len(doc.entities):
                add("error", f"labels[{i}].{end_name}", f"an entity index in 0..{len(doc.entities) - 1}", str(end))
        if relation_labels is not None and rel.label not in relation_labels:
            add("error", f"labels[{i}].r", f"a relation id of the dataset's inventory ({len(relation_labels)} ids)",
                repr(rel.label))
        for s in rel.evidence or ():
            if not 0 <= s < len(doc.sentences):
                add("error", f"labels[{i}].evidence", f"sentence ids in 0..{len(doc.sentences) - 1}", str(s))
    return log.count("error") == errors_before


#: What a repeated span does to scores, said with every warning about one.
REPEATED_SPAN_EFFECT = ("the CoNLL v8.01 scorer, which rexel-bench follows, keeps every copy: scored against itself "
                        "such a file does not reach 100 on coreference")


def _check_repeated_spans(doc: Document, add) -> None:
    """Warn about a span listed twice in one entity, or in two entities, naming it (scores stay as the reference
    scorers compute them, but a reader must know why a perfect system scores under 100)."""
    seen: dict[tuple[int, int, int], list[tuple[int, int]]] = {}
    for e, entity in enumerate(doc.entities):
        for i, m in enumerate(entity.mentions):
            if m.sent != NO_TEXT:
                seen.setdefault((m.sent, m.start, m.end), []).append((e, i))
    for (sent, start, end), places in seen.items():
        if len(places) < 2:
            continue
        text = " ".join(doc.sentences[sent][start:end]) if 0 <= sent < len(doc.sentences) else "?"
        where = ", ".join(f"vertexSet[{e}][{i}]" for e, i in places)
        entities = {e for e, _ in places}
        kind = "in one entity" if len(entities) == 1 else f"in {len(entities)} entities"
        add("warning", where, "each mention span listed once",
            f"{text!r} (sentence {sent}, tokens {start}-{end}) listed {len(places)} times {kind}; "
            f"{REPEATED_SPAN_EFFECT}")


def _check_mention(doc: Document, m, field: str, add) -> None:
    if m.sent == NO_TEXT:
        if m.char_span is None or m.char_span[0] >= m.char_span[1]:
            add("error", f"{field}.char_span", "a non-empty [begin, end) character span", str(m.char_span))
        return
    if not 0 <= m.sent < len(doc.sentences):
        add("error", f"{field}.sent_id", f"a sentence index in 0..{len(doc.sentences) - 1}", str(m.sent))
        return
    length = len(doc.sentences[m.sent])
    if m.start >= m.end:
        add("error", f"{field}.pos", "a non-empty span (start < end)", f"[{m.start}, {m.end}]")
    elif m.start < 0 or m.end > length:
        add("error", f"{field}.pos", f"a span inside sentence {m.sent} of {length} tokens", f"[{m.start}, {m.end}]")
    else:
        tokens = " ".join(doc.span_tokens(m))
        if m.text != tokens and squash(m.text) != squash(tokens):  # equal text needs no squashing
            add("warning", f"{field}.name", f"the text of its tokens {tokens!r}", repr(m.text))


def check_documents(
    docs: Sequence[Document],
    log: ProblemLog,
    relation_labels: Collection[str] | None = None,
    files: Sequence[str] | None = None,
) -> list[Document]:
    """Check every document and return those without errors; duplicate ids are errors too."""
    kept, seen = [], {}
    for i, doc in enumerate(docs):
        file = files[i] if files else None
        ok = check_document(doc, i, log, relation_labels, file=file)
        if doc.id in seen:
            log.add("error", i, doc.title, "id", f"a document id not used before (document {seen[doc.id]} has it)",
                    repr(doc.id), file=file)
            ok = False
        else:
            seen[doc.id] = i
        if ok:
            kept.append(doc)
        else:
            log.add("error", i, doc.title, "", "a usable document", "errors above: document not loaded", file=file)
    return kept
