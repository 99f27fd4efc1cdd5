"""``rexel-bench score`` as a user runs it: toolkit JSONL predictions, bad predictions, --lenient, --json."""

from __future__ import annotations

import hashlib
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
    record = json.loads(out.read_text())
    assert (record["schema"], record["kind"], record["dataset"]["documents"]) == ("rexel-bench.metrics/2", "score", 5)
    assert record["dataset"]["sha256"] == hashlib.sha256(gold_path.read_bytes()).hexdigest()
    assert record["command"].startswith("rexel-bench") and record["versions"]["rexel-bench"]
    assert record["dataset"]["name"] == str(gold_path)
    assert list(record["systems"]) == [str(tmp_path / "pred.jsonl")]
    scores = record["systems"][str(tmp_path / "pred.jsonl")]
    assert record["per_document"]["doc_ids"] == [d.id for d in gold]
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


def test_several_prediction_files_are_each_scored_as_alone_against_the_gold_read_once(tmp_path):
    """Scoring many checkpoints in one process: each file's values equal its own ``score`` run, the summary has a
    row per file, --json holds each path's result under ``systems``, and notes name their file."""
    gold, _ = _gold_and_path()
    gold_path = tmp_path / "gold.json"
    data_io.write(gold, gold_path, "docred-ie")
    paths = []
    for keep in (1, 2, 3):  # three systems that keep every first, second or third fact
        paths.append(tmp_path / f"keep{keep}.jsonl")
        data_io.write([replace(d, relations=d.relations[::keep]) for d in gold], paths[-1])
    data_io.write([replace(d, relations=d.relations + d.relations[:1]) for d in gold], tmp_path / "repeats.jsonl")
    paths.append(tmp_path / "repeats.jsonl")
    out = tmp_path / "all.json"
    result = runner.invoke(app, ["score", str(gold_path), *map(str, paths), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 prediction files against" in result.output
    rows = [line for line in result.output.splitlines() if line.strip().startswith(str(tmp_path))]
    assert [row.split()[0] for row in rows] == list(map(str, paths))  # one row per file, in the order given
    together = json.loads(out.read_text())["systems"]
    assert list(together) == list(map(str, paths))
    for path in paths:
        alone_json = tmp_path / f"{path.stem}.scores.json"
        alone = runner.invoke(app, ["score", str(gold_path), str(path), "--json", str(alone_json)])
        assert alone.exit_code == 0, alone.output
        assert together[str(path)] == json.loads(alone_json.read_text())["systems"][str(path)]
    recall = [together[str(p)]["metrics"]["docred_re"]["values"]["r"] for p in paths[:3]]
    assert recall[0] > recall[1] > recall[2]  # fewer facts kept, lower recall: the files were not mixed up
    assert f"note: {paths[3]}: " in result.output and "repeated predicted fact" in result.output
    assert f"note: {paths[0]}: " not in result.output  # a note only the fourth file has is not shown for others


def test_several_prediction_files_missing_or_repeated_stop_before_scoring(tmp_path):
    gold, path = _gold_and_path()
    data_io.write(gold, tmp_path / "p.jsonl")
    missing = runner.invoke(app, ["score", str(path), str(tmp_path / "p.jsonl"), str(tmp_path / "gone.jsonl")])
    assert missing.exit_code == 2
    assert f"'{tmp_path / 'gone.jsonl'}' is neither an existing path" in missing.output
    assert "prediction files against" not in missing.output
    twice = runner.invoke(app, ["score", str(path), str(tmp_path / "p.jsonl"), str(tmp_path / "p.jsonl")])
    assert twice.exit_code == 2 and "named twice" in twice.output
