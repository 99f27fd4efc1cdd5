"""``rexel-bench score`` as a user runs it: toolkit JSONL predictions, bad predictions, --lenient, --json."""

from __future__ import annotations

import json
from dataclasses import replace

from typer.testing import CliRunner

from rexel_bench.cli import app
from rexel_bench.data import io as data_io
from rexel_bench.data.model import Mention
from rexel_bench.data.registry import resolve

runner = CliRunner(env={"COLUMNS": "240"})


def _gold_and_path():
    path = resolve("docred-ie:dev")
    return data_io.load(path).documents[:5], path


def test_score_jsonl_predictions_and_json_output(tmp_path):
    gold, _ = _gold_and_path()
    gold_path = tmp_path / "gold.json"
    data_io.write(gold, gold_path, "docred-ie")
    pred = [replace(d, relations=d.relations[: len(d.relations) // 2]) for d in gold]
    data_io.write(pred, tmp_path / "pred.jsonl")
    out = tmp_path / "scores.json"
    result = runner.invoke(app, ["score", str(gold_path), str(tmp_path / "pred.jsonl"), "--json", str(out),
                                 "--per-document"])
    assert result.exit_code == 0, result.output
    assert "docred_re" in result.output and "ED excludes" in result.output
    scores = json.loads(out.read_text())
    assert scores["metrics"]["md"]["values"]["f1"] == 1.0
    assert scores["metrics"]["docred_re"]["values"]["p"] == 1.0
    assert len(scores["metrics"]["docred_re"]["per_document"]) == 5
    only_docred = runner.invoke(app, ["score", str(gold_path), str(tmp_path / "pred.jsonl"), "-m", "docred"])
    assert only_docred.exit_code == 0 and "docred_re" in only_docred.output
    assert "ED excludes" not in only_docred.output  # the ED rule is printed with ED scores only


def test_bad_prediction_is_an_error_naming_file_document_and_field(tmp_path):
    gold, _ = _gold_and_path()
    gold_path = tmp_path / "gold.json"
    data_io.write(gold, gold_path, "docred-ie")
    entity = replace(gold[1].entities[0], mentions=(Mention(0, 0, 999, "far"),))
    pred = [gold[0], replace(gold[1], entities=(entity, *gold[1].entities[1:]))]
    pred_path = tmp_path / "pred.jsonl"
    data_io.write(pred, pred_path)
    result = runner.invoke(app, ["score", str(gold_path), str(pred_path)])
    assert result.exit_code == 2
    assert str(pred_path) in result.output and "document 1" in result.output and "pos" in result.output
    lenient = runner.invoke(app, ["score", str(gold_path), str(pred_path), "--lenient"])
    assert lenient.exit_code == 0, lenient.output
    assert "scored as an empty prediction" in lenient.output


def test_unknown_metric_is_explained(tmp_path):
    gold, path = _gold_and_path()
    data_io.write(gold, tmp_path / "p.jsonl")
    result = runner.invoke(app, ["score", str(path), str(tmp_path / "p.jsonl"), "--metrics", "bleu"])
    assert result.exit_code == 2 and "unknown metric" in result.output
