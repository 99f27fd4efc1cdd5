"""The JSONL reader's type check (``plainly_valid``) against the published JSON Schema it stands in for.

The reader validates a line with ``jsonschema`` only where the quick check of exact JSON types does not pass,
so the check must never pass a line the schema refuses. Real lines (DocRED-IE dev gold, which carries QIDs,
fine types with scores and evidence; a document without text, whose mentions carry character spans), then
random odd values, missing fields and unknown fields at every level (derandomized: never fails by chance).
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from rexel_bench.data import io as data_io
from rexel_bench.data.formats import jsonl
from rexel_bench.data.registry import resolve

NO_TEXT_LINE = {"schema_version": 1, "id": "d0", "title": "annotations only", "sentences": [],
                "entities": [{"mentions": [{"text": "Paris", "char_span": [0, 5], "qid": "Q90"}], "type": "LOC",
                              "tags": ["type::gpe"], "link": "Paris"}],
                "relations": [], "meta": {"format": "dwie"}}
LINES = [jsonl.dump(d) for d in data_io.load(resolve("docred-ie:dev", None)).documents[:8]] + [NO_TEXT_LINE]
VALIDATOR = jsonschema.Draft202012Validator(jsonl.schema())
ODD = st.one_of(st.none(), st.booleans(), st.integers(-2, 3), st.floats(allow_nan=False), st.text(max_size=3),
                st.just(1.0), st.just([]), st.just([1, 2]), st.just([1.0, 2]), st.just([0, True]), st.just(["a"]),
                st.just([["a"]]), st.just({}), st.just({"qid": "Q5"}), st.just([{"qid": "Q5", "score": True}]),
                st.just([{"qid": "Q5", "label": None}]), st.just([{"text": "x"}]),
                st.just([{"text": "x", "sent": 0}]), st.just([{"head": 0, "tail": 0, "label": ""}]))
FIELDS = {
    "document": ["schema_version", "id", "title", "sentences", "entities", "relations", "meta"],
    "entity": ["mentions", "type", "qid", "fine_types", "tags", "link", "extra"],
    "mention": ["sent", "start", "end", "text", "type", "qid", "fine_types", "link", "char_span", "extra"],
    "fine type": ["qid", "label", "score"],
    "relation": ["head", "tail", "label", "evidence", "score", "extra"],
    "sentence": [0],
}


def place(line: dict[str, Any], level: str) -> Any:
    """The first object (or list) of a level in a line, or None where the line has none."""
    entities = line["entities"]
    mentions = [m for e in entities for m in e["mentions"]]
    fine = [f for owner in [*mentions, *entities] for f in owner.get("fine_types", [])]
    found = {"document": [line], "entity": entities, "mention": mentions, "fine type": fine,
             "relation": line["relations"], "sentence": line["sentences"]}[level]
    return found[0] if found else None


def test_real_lines_pass_the_quick_check_and_the_schema():
    for line in LINES:
        assert jsonl.plainly_valid(line)
        assert not list(VALIDATOR.iter_errors(line))


@settings(max_examples=1500, derandomize=True, deadline=None)
@given(st.sampled_from(range(len(LINES))), st.sampled_from(sorted(FIELDS)), st.data(),
       st.sampled_from(["set", "remove", "add unknown"]), ODD)
def test_the_quick_check_never_passes_a_line_the_schema_refuses(index, level, data, action, value):
    line = copy.deepcopy(LINES[index])
    target = place(line, level)
    if target is None:
        return
    field = data.draw(st.sampled_from(FIELDS[level]))
    if action == "add unknown" and isinstance(target, dict):
        target["unknown"] = value
    elif action == "remove" and isinstance(target, dict):
        target.pop(field, None)
    elif isinstance(target, dict):
        target[field] = value
    elif target:
        target[field] = value  # a token of a sentence
    if jsonl.plainly_valid(line):
        assert not list(VALIDATOR.iter_errors(line)), (level, field, action, value)
