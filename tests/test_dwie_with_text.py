"""The DWIE-with-text union builder (experiments/dwie_with_text.py) on the real DWIE files."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from rexel_bench.data import io as data_io
from rexel_bench.errors import DataError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
from dwie_with_text import build, gold_links


def test_union_has_every_dwie_document_with_text_and_gold_links(shared, tmp_path):
    for needed in ("dwie-text-bcbr/test.json", "dwie-text-knowra/test.json"):  # skips where they are absent
        shared(needed)
    sources = build(shared("dwie-annos").parent, tmp_path)
    assert {split: {s: len(ids) for s, ids in by.items()} for split, by in sources.items()} == {
        "train": {"knowra": 137, "bcbr": 82}, "test": {"knowra": 96, "bcbr": 3}}
    test = data_io.load(tmp_path / "test.json").documents
    assert len(test) == 99 and len({d.id for d in test}) == 99
    converted = [d for d in test if d.id in sources["test"]["bcbr"]]
    links = Counter(bool(e.link) for d in converted for e in d.entities)
    assert links[True] > 0  # the BCBR-only test docs now carry gold links from dwie-annos
    types = {e.type for d in converted for e in d.entities}
    assert types <= {e.type for d in test if d.id not in sources["test"]["bcbr"] for e in d.entities}


def as_bcbr(doc: dict) -> dict:
    """A KnowRA document seen the way the builder sees a BCBR one: title and document-level ``pos``."""
    return {"title": doc["id"], "vertexSet": [[{**m, "pos": m["absolute_pos"]} for m in ent]
                                              for ent in doc["vertexSet"]]}


def test_pairing_with_the_annotations_gives_back_knowras_own_links(shared):
    knowra = json.loads(shared("dwie-text-knowra/test.json").read_text(encoding="utf-8"))
    annos = shared("dwie-annos/annos")
    compared = 0
    for doc in knowra[:20]:
        annotation = json.loads((annos / f"{doc['id']}.json").read_text(encoding="utf-8"))
        paired = gold_links(as_bcbr(doc), annotation, "knowra")
        assert paired == [[m["link"] or "" for m in ent] for ent in doc["vertexSet"]]
        compared += sum(map(len, paired))
    assert compared > 1000


def test_a_mention_missing_from_the_annotation_is_an_error_naming_the_document(shared):
    doc = json.loads(shared("dwie-text-knowra/test.json").read_text(encoding="utf-8"))[0]
    annotation = json.loads(shared(f"dwie-annos/annos/{doc['id']}.json").read_text(encoding="utf-8"))
    renamed = as_bcbr(doc)
    renamed["vertexSet"][0][0] = {**renamed["vertexSet"][0][0], "name": "Atlantis"}
    with pytest.raises(DataError, match=f"{doc['id']}.*'Atlantis' matches none"):
        gold_links(renamed, annotation, "knowra")
