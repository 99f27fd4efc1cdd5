"""Bad input gives a clear message naming the file, the document and the field."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from rexel_bench.data import io as data_io
from rexel_bench.errors import DataError

GOOD = {
    "title": "Skai TV",
    "sents": [["Skai", "TV", "is", "a", "Greek", "network", "based", "in", "Piraeus", "."],
              ["It", "is", "part", "of", "Skai", "Group", "."]],
    "vertexSet": [
        [{"name": "Skai TV", "sent_id": 0, "pos": [0, 2], "type": "ORG"}],
        [{"name": "Piraeus", "sent_id": 0, "pos": [8, 9], "type": "LOC"}],
        [{"name": "Skai Group", "sent_id": 1, "pos": [4, 6], "type": "ORG"}],
    ],
    "labels": [{"r": "P159", "h": 0, "t": 1, "evidence": [0]}, {"r": "P749", "h": 0, "t": 2, "evidence": [1]}],
}


def _write(tmp_path: Path, docs: list, name: str = "data.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(docs), encoding="utf-8")
    return path


def _broken(mutate) -> list:
    good = copy.deepcopy(GOOD)
    bad = copy.deepcopy(GOOD)
    bad["title"] = "Broken doc"
    mutate(bad)
    return [good, bad]


def _single_problem(path: Path, field_prefix: str):
    result = data_io.load(path)
    assert len(result.documents) == 1 and result.n_dropped == 1  # the good one loads, the bad one is reported
    errors = [p for p in result.problems if p.severity == "error" and p.field.startswith(field_prefix)]
    assert errors, result.problems
    problem = errors[0]
    assert problem.file == str(path) and problem.doc_index == 1 and problem.doc_title == "Broken doc"
    text = str(problem)
    assert str(path) in text and 'document 1 ("Broken doc")' in text and field_prefix in text
    return problem


def test_good_document_loads_clean(tmp_path):
    result = data_io.load(_write(tmp_path, [GOOD]))
    assert len(result.documents) == 1 and result.problems == []


def test_truncated_json_names_file_and_position(tmp_path):
    path = tmp_path / "cut.json"
    path.write_text(json.dumps([GOOD])[:-40], encoding="utf-8")
    with pytest.raises(DataError) as info:
        data_io.load(path)
    assert str(path) in str(info.value) and "truncated JSON" in str(info.value) and "line 1" in str(info.value)


def test_invalid_json_names_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[\n{"title": "x",, "sents": []}\n]', encoding="utf-8")
    with pytest.raises(DataError, match=r"invalid JSON.*line 2, column 15"):
        data_io.load(path)


def test_bad_jsonl_line_is_reported_and_others_load(tmp_path):
    good = data_io.dump_document(data_io.load(_write(tmp_path, [GOOD])).documents[0], "jsonl")
    path = tmp_path / "pred.jsonl"
    path.write_text(json.dumps(good) + "\n" + '{"schema_version": 1, "id": \n', encoding="utf-8")
    result = data_io.load(path)
    assert len(result.documents) == 1 and result.n_dropped == 1
    assert any(p.field == "line 2" and str(path) in str(p) for p in result.problems)


def test_span_out_of_range(tmp_path):
    problem = _single_problem(_write(tmp_path, _broken(lambda d: d["vertexSet"][1][0].update(pos=[8, 12]))),
                              "vertexSet[1][0].pos")
    assert "inside sentence 0 of 10 tokens" in problem.expected and problem.found == "[8, 12]"


def test_empty_span(tmp_path):
    problem = _single_problem(_write(tmp_path, _broken(lambda d: d["vertexSet"][1][0].update(pos=[8, 8]))),
                              "vertexSet[1][0].pos")
    assert "non-empty" in problem.expected


def test_sentence_index_out_of_range(tmp_path):
    _single_problem(_write(tmp_path, _broken(lambda d: d["vertexSet"][2][0].update(sent_id=5))),
                    "vertexSet[2][0].sent_id")


def test_mention_text_disagreeing_with_tokens_is_a_warning_and_kept(tmp_path):
    docs = _broken(lambda d: d["vertexSet"][1][0].update(name="Athens"))
    result = data_io.load(_write(tmp_path, docs))
    assert len(result.documents) == 2
    (problem,) = result.problems
    assert problem.severity == "warning" and problem.field == "vertexSet[1][0].name"
    assert problem.doc_title == "Broken doc" and "'Piraeus'" in problem.expected and "'Athens'" in problem.found


def test_relation_to_missing_entity(tmp_path):
    problem = _single_problem(_write(tmp_path, _broken(lambda d: d["labels"][1].update(t=7))), "labels[1].t")
    assert problem.found == "7" and "0..2" in problem.expected


def test_unknown_relation_id(tmp_path):
    problem = _single_problem(_write(tmp_path, _broken(lambda d: d["labels"][0].update(r="P99999"))), "labels[0].r")
    assert "'P99999'" in problem.found and "inventory" in problem.expected


def test_relation_inventory_from_file(tmp_path):
    inventory = tmp_path / "rel2id.json"
    inventory.write_text(json.dumps({"Na": 0, "P159": 1}), encoding="utf-8")
    result = data_io.load(_write(tmp_path, [GOOD]), relations=inventory)
    assert next(p.field for p in result.problems if p.severity == "error") == "labels[1].r"


def test_duplicate_document_ids(tmp_path):
    path = _write(tmp_path, [GOOD, GOOD])
    result = data_io.load(path)
    assert len(result.documents) == 1
    problem = next(p for p in result.problems if p.severity == "error")
    assert problem.field == "id" and problem.doc_index == 1 and "document 0 has it" in problem.expected


def test_empty_document(tmp_path):
    problem = _single_problem(_write(tmp_path, _broken(lambda d: d.update(sents=[], vertexSet=[], labels=[]))), "sents")
    assert "at least one token" in problem.expected


def test_missing_field_is_structural_error(tmp_path):
    problem = _single_problem(_write(tmp_path, _broken(lambda d: d["vertexSet"][0][0].pop("pos"))),
                              "vertexSet[0][0].pos")
    assert "missing" in problem.found


def test_wrong_type_is_structural_error(tmp_path):
    problem = _single_problem(_write(tmp_path, _broken(lambda d: d["labels"][0].update(h="zero"))), "labels[0].h")
    assert problem.expected == "an integer" and problem.found == '"zero"'


def test_strict_fails_on_first_problem(tmp_path):
    path = _write(tmp_path, _broken(lambda d: d["labels"][1].update(t=7)))
    with pytest.raises(DataError) as info:
        data_io.load(path, strict=True)
    assert info.value.doc_index == 1 and info.value.field == "labels[1].t" and str(path) in str(info.value)


def test_unknown_format_is_explained(tmp_path):
    with pytest.raises(DataError, match="a known format"):
        data_io.load(_write(tmp_path, [{"foo": 1}]))


def test_jsonl_schema_errors_name_the_field(tmp_path):
    doc = data_io.dump_document(data_io.load(_write(tmp_path, [GOOD])).documents[0], "jsonl")
    doc["entities"][0]["mentions"][0]["start"] = "zero"
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    result = data_io.load(path)
    problem = next(p for p in result.problems if p.severity == "error")
    assert problem.field == "entities[0].mentions[0].start" and problem.doc_title == "Skai TV"
