"""The optional attributes of the model interface: what ``run`` reads from a model is declared once
(``OPTIONAL_ATTRIBUTES``), read through one function, defaulted when absent and refused when of the wrong type;
the built-in models that have them have them with the declared types."""

from __future__ import annotations

import pytest

from rexel_bench.errors import ConfigError
from rexel_bench.models.base import OPTIONAL_ATTRIBUTES, load_model, model_detail


class Bare:
    name = "bare"


class Wrong:
    name = "wrong"

    def __init__(self) -> None:
        self.timings = [("md", 1.0)]


def test_an_absent_attribute_takes_its_declared_value_and_a_fresh_container_each_time():
    bare = Bare()
    assert model_detail(bare, "timings") == {} and model_detail(bare, "notes") == []
    model_detail(bare, "skipped")["x"] = "filled"
    assert model_detail(bare, "skipped") == {}  # not shared between calls
    assert model_detail(bare, "chunk_size", 8) == 8 and model_detail(bare, "document_ids") == ()


def test_an_attribute_of_the_wrong_type_is_refused_naming_the_model():
    with pytest.raises(ConfigError, match=r"model 'wrong': timings must be"):
        model_detail(Wrong(), "timings")


def test_the_built_in_models_attributes_have_the_declared_types(tmp_path, real_docs):
    from rexel_bench.data import io as data_io

    data_io.write(real_docs[:2], tmp_path / "p.jsonl")
    for spec in ("pipeline-heuristic", f"file:{tmp_path / 'p.jsonl'}"):
        model = load_model(spec)
        model.predict(real_docs[:2])
        present = [name for name in OPTIONAL_ATTRIBUTES if getattr(model, name, None) is not None]
        assert present, spec
        for name in present:
            model_detail(model, name)  # raises on a wrong type
