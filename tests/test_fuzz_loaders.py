"""Property-based fuzzing: random mutations of real documents never raise anything but the toolkit's
own errors, through the loaders, the prediction reader and every scorer.

Derandomized (a fixed sequence of examples), so that the suite never fails by chance.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rexel_bench.data import io as data_io
from rexel_bench.data.registry import resolve
from rexel_bench.errors import RexelBenchError
from rexel_bench.scoring.api import score_documents
from rexel_bench.scoring.io import load_predictions

RAW = json.loads(resolve("docred-ie:dev", None).read_text(encoding="utf-8"))[:3]
GOLD = data_io.load(resolve("docred-ie:dev", None)).documents[:3]
#: The same documents in the toolkit's own JSONL, the format predictions usually come in.
RAW_JSONL = [json.loads(line) for line in data_io.iter_json_lines(GOLD)]

ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-3, max_value=3), st.integers(min_value=10**6, max_value=10**18),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8), st.just("[/] \ud800 [link=x]"),
    st.just([]), st.just({}), st.lists(st.integers(-2, 40), max_size=3), st.just([[[[[]]]]]),
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a JSON value (dict keys and list positions), depth first."""
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value[:4]):
            out += _paths(child, (*prefix, i))
    return out


def _mutate(document: Any, path: tuple, action: str, new: Any) -> Any:
    if not path:
        return new
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "delete" and isinstance(parent, dict):
        del parent[last]
    elif action == "repeat" and isinstance(parent, list):
        parent.insert(last, json.loads(json.dumps(parent[last])))
    else:
        parent[last] = new
    return document


@st.composite
def mutated_files(draw: st.DrawFn) -> tuple[str, str]:
    """(file name, text): three real DocRED-IE documents, in DocRED-IE's JSON or the toolkit's JSONL, with
    one to three random mutations."""
    name = draw(st.sampled_from(["mutated.json", "mutated.jsonl"]))
    docs = json.loads(json.dumps(RAW if name.endswith(".json") else RAW_JSONL))
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(docs) - 1))
        paths = _paths(docs[index])
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "delete", "repeat"]))
        docs[index] = _mutate(docs[index], path, action, draw(ODD_VALUES))
    if name.endswith(".jsonl"):
        return name, "".join(json.dumps(d, allow_nan=True) + "\n" for d in docs)
    return name, json.dumps(docs, allow_nan=True)


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(file=mutated_files())
def test_mutated_documents_raise_only_toolkit_errors(tmp_path_factory, file):
    name, text = file
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_text(text, encoding="utf-8")
    try:
        loaded = data_io.load(path)
        assert len(loaded.documents) <= len(RAW)
        score_documents(GOLD, loaded.documents, lenient=True)
        score_documents(loaded.documents, GOLD, lenient=True)
    except RexelBenchError:
        pass
    for lenient in (False, True):
        try:
            predicted, _ = load_predictions(path, GOLD, lenient=lenient)
            score_documents(GOLD, predicted, lenient=lenient)
        except RexelBenchError:
            pass
