"""Every ``metrics.json`` follows the shipped schema: what ``run`` and ``compare`` write and what ``score --json``
writes (one record layout with its provenance: schema tag, command, versions, commit, data checksum); a record
that does not follow it is refused with the field named; the typed view reads what was written."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import jsonschema
import pytest
from typer.testing import CliRunner

from rexel_bench.cli import app
from rexel_bench.data import io as data_io
from rexel_bench.data.registry import resolve
from rexel_bench.errors import ConfigError
from rexel_bench.reports.record import SCHEMA, MetricsRecord, validate
from rexel_bench.resources import schema_text

runner = CliRunner()
SHIPPED = json.loads(schema_text("metrics.schema.json"))


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The records of a run, a compare and a score of the same gold and predictions."""
    folder = tmp_path_factory.mktemp("records")
    gold = data_io.load(resolve("docred-ie:dev")).documents[:12]
    data_io.write(gold, folder / "gold.jsonl")
    data_io.write([dataclasses.replace(d, relations=d.relations[::2]) for d in gold], folder / "half.jsonl")
    data_io.write([dataclasses.replace(d, relations=()) for d in gold], folder / "none.jsonl")
    commands = {
        "run": ["run", "--models", f"file:{folder / 'half.jsonl'},file:{folder / 'none.jsonl'}", "--dataset",
                str(folder / "gold.jsonl"), "--bootstrap", "30", "--no-cache", "--out", str(folder / "run")],
        "compare": ["compare", str(folder / "half.jsonl"), str(folder / "none.jsonl"), "--gold",
                    str(folder / "gold.jsonl"), "--bootstrap", "30", "--out", str(folder / "compare")],
        "score": ["score", str(folder / "gold.jsonl"), str(folder / "half.jsonl"), str(folder / "none.jsonl"),
                  "--json", str(folder / "score.json")],
    }
    for kind, args in commands.items():
        done = runner.invoke(app, args)
        assert done.exit_code == 0, (kind, done.output)
    paths = {"run": folder / "run" / "metrics.json", "compare": folder / "compare" / "metrics.json",
             "score": folder / "score.json"}
    return {kind: json.loads(path.read_text()) for kind, path in paths.items()}, folder


@pytest.mark.parametrize("kind", ["run", "compare", "score"])
def test_each_command_writes_a_record_that_follows_the_shipped_schema(written, kind):
    records, folder = written
    record = records[kind]
    jsonschema.Draft202012Validator(SHIPPED).validate(record)  # the schema as shipped, not our reading of it
    assert (record["schema"], record["kind"]) == (SCHEMA, kind)
    assert record["dataset"]["sha256"] == hashlib.sha256((folder / "gold.jsonl").read_bytes()).hexdigest()
    assert record["dataset"]["documents"] == 12 and record["versions"]["rexel-bench"]
    assert record["command"] and "git_commit" in record


def test_the_three_records_agree_on_every_value(written):
    records, folder = written
    half = str(folder / "half.jsonl")
    scored = records["score"]["systems"][half]["metrics"]
    compared = records["compare"]["systems"]["half"]["metrics"]
    ran = records["run"]["systems"][f"file:{half}"]["metrics"]
    for metric, entry in scored.items():
        assert entry["values"] == compared[metric]["values"] == ran[metric]["values"], metric
    assert records["score"]["bootstrap"] is None and records["compare"]["bootstrap"]["n_resamples"] == 30


def test_a_record_that_breaks_the_schema_is_refused_with_the_field_named(written):
    records, _ = written
    broken = json.loads(json.dumps(records["compare"]))
    broken["systems"]["half"]["metrics"]["md"]["values"]["f1"] = "high"
    with pytest.raises(ConfigError, match=r"at systems/half/metrics/md/values/f1: 'high' is not of type 'number'"):
        validate(broken, "metrics.json")
    del broken["command"]
    with pytest.raises(ConfigError, match=r"at \(top level\): 'command' is a required property"):
        validate(broken)


def test_the_typed_view_reads_what_was_written(written):
    records, folder = written
    typed = MetricsRecord.read(folder / "compare")
    assert typed.kind == "compare" and list(typed.systems) == ["half", "none"]
    md = typed.systems["half"].metrics["e2e_hard"]
    assert md.value == records["compare"]["systems"]["half"]["metrics"]["e2e_hard"]["values"]["f1"]
    low, high = md.interval()
    assert low <= md.value <= high
    with pytest.raises(ConfigError, match="not a report directory"):
        MetricsRecord.read(folder)
