"""The data commands as a new user would try them: validate, datasets, stats, --help."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from rexel_bench.cli import app

runner = CliRunner(env={"COLUMNS": "240"})


def test_help_explains_every_data_command():
    for command in ("validate", "datasets", "stats"):
        result = runner.invoke(app, [command, "--help"])
        assert (result.exit_code == 0 and "--format" in result.output) or command == "datasets"


def test_validate_the_embedded_default():
    result = runner.invoke(app, ["validate", "docred-ie:dev"])
    assert result.exit_code == 0, result.output
    assert "300/300 documents loaded" in result.output and "0 errors" in result.output


def test_validate_reports_bad_file_with_exit_status(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([{"title": "T", "sents": [["a"]], "vertexSet": [[{"name": "a", "sent_id": 0,
                    "pos": [0, 3], "type": "PER"}]], "labels": []}]), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path), "--json", str(tmp_path / "problems.json")])
    assert result.exit_code == 1
    assert 'document 0 ("T")' in result.output and "vertexSet[0][0].pos" in result.output
    problems = json.loads((tmp_path / "problems.json").read_text())["problems"]
    assert problems[0]["field"] == "vertexSet[0][0].pos"


def test_missing_file_is_one_clear_line():
    result = runner.invoke(app, ["stats", "no/such/file.json"])
    assert result.exit_code == 2
    assert "neither an existing path nor a registered dataset" in result.output


def test_stats_prints_and_writes_json(tmp_path):
    out = tmp_path / "stats.json"
    result = runner.invoke(app, ["stats", "docred-ie:dev", "--json", str(out)])
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text())
    assert figures["documents"] == 300 and figures["relations"] == 3678
    assert figures["qid_disagreements"]["total"] == 230


def test_datasets_lists_the_registry():
    result = runner.invoke(app, ["datasets", "--no-counts"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "docred-ie:dev" in result.output and "re-docred:test" in result.output
