"""The DocRED reader's unchecked fast path (``_plain_*``) against its checked path, field by field.

The fast path reads the common layout without building field names for errors and hands anything
unusual to the checked path. It must never change a result: where it answers, it answers what the
checked path answers; where the checked path fails, the fast path declines. Real DocRED-IE and
Re-DocRED documents, then random odd values in every field (derandomized: never fails by chance).
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rexel_bench.data.formats import docred
from rexel_bench.data.formats.common import Where
from rexel_bench.data.registry import resolve
from rexel_bench.errors import DataError, PredictionError

RAW = json.loads(resolve("docred-ie:dev", None).read_text(encoding="utf-8"))[:20]
ODD = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False), st.text(max_size=4),
                st.just([]), st.just([1, 2]), st.just([1, True]), st.just([1, 2, 3]), st.just({}),
                st.just([["Q5", "human", 0.9]]), st.just([["Q5", "human", True]]), st.just([["Q5", 1]]))
MENTION_FIELDS = ("name", "sent_id", "pos", "type", "wikidata_qcode", "fine_type", "link", "wikidata_eid")
LABEL_FIELDS = ("h", "t", "r", "evidence")


def checked_mention(raw: Any, dialect: str) -> Any:
    try:
        return docred._mention(Where(0, "t"), raw, "vertexSet[0][0]", docred._qid_key(dialect))
    except DataError:
        return "error"


def checked_relation(raw: Any) -> Any:
    try:
        return docred._checked_relation(Where(0, "t"), raw, "labels[0]")
    except DataError:
        return "error"


def same_fields(a: Any, b: Any) -> bool:
    return a == b and vars(a) == vars(b)  # every field, extra too (left out of dataclass equality)


def edited(base: dict, replaced: dict, removed: list) -> dict:
    """A raw record with some fields replaced and some removed."""
    raw = {**base, **replaced}
    for key in removed:
        raw.pop(key, None)
    return raw


def assert_fast_path_agrees(fast: Any, checked: Any) -> None:
    """Where the checked path fails the fast path declines; where the fast path answers, it answers the same."""
    if checked == "error":
        assert fast is None
    elif fast is not None:
        assert same_fields(fast, checked)


def test_real_documents_read_the_same_on_both_paths():
    for raw_doc in RAW:
        dialect = docred.dialect_of(raw_doc)
        for entity in raw_doc["vertexSet"]:
            for m in entity:
                fast = docred._plain_mention(m, "wikidata_qcode")
                assert fast is not None and same_fields(fast, checked_mention(m, dialect))
        for label in raw_doc["labels"]:
            assert same_fields(docred._plain_relation(label), checked_relation(label))
        assert docred._plain_named_facts(raw_doc) == list(docred._checked_named_facts(raw_doc, 0))


@settings(max_examples=600, derandomize=True, deadline=None)
@given(st.sampled_from([m for d in RAW for e in d["vertexSet"] for m in e]),
       st.dictionaries(st.sampled_from(MENTION_FIELDS), ODD, max_size=3),
       st.lists(st.sampled_from(MENTION_FIELDS), max_size=2))
def test_odd_mention_fields_never_change_the_result(base, replaced, removed):
    raw = edited(base, replaced, removed)
    for dialect, qid_key in (("docred-ie", "wikidata_qcode"), ("dwie-docred", "wikidata_eid")):
        assert_fast_path_agrees(docred._plain_mention(raw, qid_key), checked_mention(raw, dialect))


@settings(max_examples=400, derandomize=True, deadline=None)
@given(st.sampled_from([lab for d in RAW for lab in d["labels"]]),
       st.dictionaries(st.sampled_from(LABEL_FIELDS), ODD, max_size=2), st.lists(st.sampled_from(LABEL_FIELDS),
                                                                                max_size=1))
def test_odd_label_fields_never_change_the_result(base, replaced, removed):
    raw = edited(base, replaced, removed)
    assert_fast_path_agrees(docred._plain_relation(raw), checked_relation(raw))


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.sampled_from(range(len(RAW))), st.sampled_from(["name", "h", "t", "r", "labels", "vertexSet", "entity"]),
       ODD)
def test_odd_training_facts_never_change_the_result(index, where, value):
    raw = json.loads(json.dumps(RAW[index]))
    if where == "name":
        raw["vertexSet"][0][0]["name"] = value
    elif where in ("h", "t", "r"):
        raw["labels"][0][where] = value
    elif where == "entity":
        raw["vertexSet"][-1] = value
    else:
        raw[where] = value
    try:
        checked: Any = sorted(docred._checked_named_facts(raw, index))
    except DataError:
        checked = "error"
    fast = docred._plain_named_facts(raw)
    if checked == "error":
        assert fast is None
    elif fast is not None:
        assert sorted(fast) == checked


def test_a_one_mention_entity_takes_its_mention_values_as_the_majorities_would():
    """``entity_from_mentions`` reads a one-mention entity's values from its mention directly: the values the
    majorities over its mentions give (the same mention twice goes through them)."""
    from rexel_bench.data.model import entity_from_mentions

    for raw_doc in RAW:
        for raw_entity in raw_doc["vertexSet"]:
            mentions = [docred._plain_mention(m, "wikidata_qcode") for m in raw_entity]
            entity, twice = entity_from_mentions(mentions), entity_from_mentions(mentions * 2)
            assert (entity.type, entity.qid, entity.fine_types, entity.link) == (
                twice.type, twice.qid, twice.fine_types, twice.link)


SUBMISSION_FIELDS = ("title", "h_idx", "t_idx", "r", "evidence")
SUBMITTED = [{"title": d["title"], "h_idx": lab["h"], "t_idx": lab["t"], "r": lab["r"], "evidence": lab["evidence"]}
             for d in RAW for lab in d["labels"]]


def checked_submission(raw: Any) -> Any:
    from rexel_bench.scoring import io as scoring_io

    try:
        return scoring_io._submitted_relation(raw, 0, "result.json")
    except PredictionError:
        return "error"


@settings(max_examples=400, derandomize=True, deadline=None)
@given(st.sampled_from(SUBMITTED), st.dictionaries(st.sampled_from(SUBMISSION_FIELDS), ODD, max_size=2),
       st.lists(st.sampled_from(SUBMISSION_FIELDS), max_size=1))
def test_odd_submission_fields_never_change_the_result(base, replaced, removed):
    """A DocRED submission entry (result.json) on both paths: the same relation, or the fast path declines."""
    from rexel_bench.scoring import io as scoring_io

    raw = edited(base, replaced, removed)
    fast, checked = scoring_io._plain_submitted_relation(raw), checked_submission(raw)
    assert_fast_path_agrees(fast, checked)
    if not replaced and not removed:
        assert fast is not None and same_fields(fast, checked)
