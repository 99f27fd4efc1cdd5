"""The public Python API gives exactly the numbers the command line gives on the same inputs."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from typer.testing import CliRunner

import rexel_bench as rb
from rexel_bench.cli import app
from rexel_bench.data import io as data_io
from rexel_bench.errors import ConfigError

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Forty DocRED-IE documents as gold and two degraded systems, written as files."""
    root = tmp_path_factory.mktemp("api")
    gold = rb.load("docred-ie:dev")[:40]
    data_io.write(gold, root / "gold.json", "docred-ie")
    for name, step in (("a", 2), ("b", 4)):
        system = [replace(d, relations=d.relations[::step], entities=d.entities) for d in gold]
        data_io.write(system, root / f"{name}.jsonl")
    return root


def test_score_equals_the_cli(files):
    done = runner.invoke(app, ["score", str(files / "gold.json"), str(files / "a.jsonl"), "--json",
                               str(files / "score.json")])
    assert done.exit_code == 0, done.output
    cli = json.loads((files / "score.json").read_text())
    api = rb.score(str(files / "gold.json"), files / "a.jsonl").to_dict()
    written = cli["systems"][str(files / "a.jsonl")]
    assert api["metrics"] == written["metrics"] and api["notes"] == written["notes"]
    frame = rb.score(rb.load(files / "gold.json"), rb.load(files / "a.jsonl")).to_pandas()
    assert dict(zip(frame.metric, frame.value, strict=True)) == {
        name: m["values"][m["headline"]] for name, m in written["metrics"].items()}


def test_score_each_equals_score_on_each_and_the_cli(files):
    sources = {"a": files / "a.jsonl", "b": rb.load(files / "b.jsonl")}  # a path and documents, mixed
    each = dict(rb.score_each(str(files / "gold.json"), sources))
    assert list(each) == ["a", "b"]
    for name, source in sources.items():
        assert each[name].to_dict() == rb.score(str(files / "gold.json"), source).to_dict()
    done = runner.invoke(app, ["score", str(files / "gold.json"), str(files / "a.jsonl"), str(files / "b.jsonl"),
                               "--json", str(files / "each.json")])
    assert done.exit_code == 0, done.output
    cli = json.loads((files / "each.json").read_text())
    assert cli["systems"][str(files / "b.jsonl")]["metrics"] == each["b"].to_dict()["metrics"]
    assert each["a"].metrics["e2e_hard"].values["r"] > each["b"].metrics["e2e_hard"].values["r"]
    with pytest.raises(ConfigError, match=r"gone\.jsonl"):  # at the call, before anything is read or scored
        rb.score_each(str(files / "gold.json"), {"a": files / "a.jsonl", "gone": files / "gone.jsonl"})


def test_compare_equals_the_cli(files):
    done = runner.invoke(app, ["compare", str(files / "a.jsonl"), str(files / "b.jsonl"), "--gold",
                               str(files / "gold.json"), "--out", str(files / "cmp"), "--bootstrap", "300",
                               "--randomization", "50"])
    assert done.exit_code == 0, done.output
    cli = json.loads((files / "cmp" / "metrics.json").read_text())
    report = rb.compare(str(files / "gold.json"), {"a": files / "a.jsonl", "b": files / "b.jsonl"},
                        bootstrap=300, randomization=50)
    api = report.to_dict()
    assert api["systems"]["a"]["metrics"] == cli["systems"]["a"]["metrics"]
    assert api["systems"]["b"]["metrics"] == cli["systems"]["b"]["metrics"]
    assert api["comparisons"] == cli["comparisons"]
    frame = report.to_pandas()
    assert len(frame) == 2 * len(cli["systems"]["a"]["metrics"])
    row = frame[(frame.system == "a") & (frame.metric == "e2e_hard")].iloc[0]
    interval = cli["systems"]["a"]["metrics"]["e2e_hard"]["ci"]["f1"]["ci_percentile"]
    assert (row.value, row.ci_low, row.ci_high) == (
        cli["systems"]["a"]["metrics"]["e2e_hard"]["values"]["f1"], *interval)
    assert set(report.comparisons().columns) >= {"metric", "a", "b", "delta", "p_holm"}


def test_the_package_exposes_the_api_and_models():
    assert rb.load_model("pipeline-heuristic").predict(rb.load("docred-ie:dev")[:1])
    with pytest.raises(AttributeError):
        rb.no_such_function  # noqa: B018
