"""The document model: offset conversion in one place, majority rule for QIDs and types."""

from __future__ import annotations

import pytest

from rexel_bench.data.model import Document, Mention, entity_from_mentions, majority


def _doc() -> Document:
    return Document(id="d", title="d", sentences=(("A", "b", "c"), ("D", "e"), ("F",)))


def test_offsets_convert_both_ways():
    doc = _doc()
    assert doc.sentence_starts == (0, 3, 5)
    assert doc.to_doc_offset(1, 1) == 4
    assert doc.to_sent_offset(4) == (1, 1)
    assert doc.to_sent_offset(3) == (1, 0)
    # an exclusive end at the end of the document maps to the end of the last sentence
    assert doc.to_sent_offset(6) == (2, 1)
    with pytest.raises(IndexError):
        doc.to_sent_offset(7)
    for token in range(6):
        assert doc.to_doc_offset(*doc.to_sent_offset(token)) == token


def test_doc_span_and_tokens():
    doc = _doc()
    m = Mention(1, 0, 2, "D e")
    assert doc.doc_span(m) == (3, 5)
    assert doc.span_tokens(m) == ("D", "e")


def test_majority_breaks_ties_by_smallest_qid_whatever_the_order_and_ignores_none():
    assert majority(["Q2", None, "Q1", "Q1", "Q2"]) == "Q1"
    assert majority(["Q1", "Q2", None, "Q2", "Q1"]) == "Q1"
    assert majority(["Q42", "Q5"]) == majority(["Q5", "Q42"]) == "Q5"  # by number, not alphabetically
    assert majority([None, "Q1", "Q2", "Q2"]) == "Q2"
    assert majority([None, None]) is None


def test_entity_qid_is_majority_and_disagreement_is_visible():
    mentions = [Mention(0, 0, 1, "A", type="PER", qid="Q1"), Mention(0, 1, 2, "b", type="PER", qid=None),
                Mention(1, 0, 1, "D", type="ORG", qid="Q1")]
    entity = entity_from_mentions(mentions)
    assert entity.qid == "Q1" and entity.type == "PER"
    assert entity.has_qid_disagreement
    assert not entity_from_mentions(mentions[::2]).has_qid_disagreement
