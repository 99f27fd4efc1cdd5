"""Broken files, interrupted runs and hostile text, as a new user meets them: nothing is lost in silence,
no number is stale, and every failure is one clear line with a non-zero exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from rexel_bench.cache import PredictionCache, cache_key
from rexel_bench.cli import app
from rexel_bench.data import io as data_io
from rexel_bench.errors import ConfigError, DataError
from rexel_bench.run import RunConfig, run

runner = CliRunner(env={"COLUMNS": "200"})
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def five(shared, tmp_path) -> tuple[Path, list[dict]]:
    """Five real Re-DocRED dev documents in a file, and their raw JSON."""
    raw = json.loads(shared("re-docred/dev_revised.json").read_text(encoding="utf-8"))[:5]
    path = tmp_path / "g.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path, raw


def _broken_copy(tmp_path: Path, raw: list[dict]) -> Path:
    bad = json.loads(json.dumps(raw))
    bad[2]["labels"][0]["h"] = 10000
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    return path


def _run(tmp_path: Path, *args: str, cache: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "REXEL_BENCH_CACHE": str(cache or tmp_path / "cache"), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "rexel_bench.cli", *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=600)


# ---------------------------------------------------------------- 1. a broken gold document


def test_score_on_broken_gold_names_the_gold_file_not_the_predictions(five, tmp_path):
    good, raw = five
    bad = _broken_copy(tmp_path, raw)
    result = runner.invoke(app, ["score", str(bad), str(good)])
    assert result.exit_code == 2
    assert f"error: {bad}, document 2" in result.output and "labels[0]" in result.output
    assert "--skip-bad-gold" in result.output and "not in the gold data" not in result.output


def test_skip_bad_gold_scores_the_rest_and_says_which_was_left_out(five, tmp_path):
    good, raw = five
    bad = _broken_copy(tmp_path, raw)
    result = runner.invoke(app, ["score", str(bad), str(good), "--skip-bad-gold", "--json", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    scored = json.loads((tmp_path / "s.json").read_text())
    assert scored["dataset"]["documents"] == 4
    assert any(raw[2]["title"] in note and "left out" in note for note in scored["systems"][str(good)]["notes"])
    assert "1 gold document(s) left out" in result.output


def test_run_on_broken_gold_stops_or_records_what_it_left_out(five, tmp_path):
    good, raw = five
    bad = _broken_copy(tmp_path, raw)
    stopped = _run(tmp_path, "run", "--models", f"file:{good}", "--dataset", str(bad), "--no-cache",
                   "--bootstrap", "20", "--out", str(tmp_path / "r1"))
    assert stopped.returncode == 2 and str(bad) in stopped.stderr and "Traceback" not in stopped.stderr
    assert not (tmp_path / "r1").exists()
    done = _run(tmp_path, "run", "--models", f"file:{good}", "--dataset", str(bad), "--no-cache", "--bootstrap",
                "20", "--skip-bad-gold", "--out", str(tmp_path / "r2"))
    assert done.returncode == 0, done.stderr
    metrics = json.loads((tmp_path / "r2" / "metrics.json").read_text())
    assert metrics["dataset"]["documents"] == 4
    assert any(raw[2]["title"] in note for note in metrics["data_notes"])
    assert raw[2]["title"] in (tmp_path / "r2" / "report.md").read_text()
    assert "left out" in done.stdout


# ---------------------------------------------------------------- 2. a missing prediction


def test_a_missing_prediction_is_counted_printed_and_recorded(five, tmp_path):
    good, raw = five
    partial = tmp_path / "p.json"
    partial.write_text(json.dumps(raw[:2] + raw[3:]), encoding="utf-8")
    done = _run(tmp_path, "run", "--models", f"file:{partial}", "--dataset", str(good), "--no-cache",
                "--bootstrap", "20", "--out", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    assert "1 gold document(s) have no prediction" in done.stdout and raw[2]["title"] in done.stdout
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    system = metrics["systems"][f"file:{partial}"]
    assert system["speed"]["missing_predictions"] == [raw[2]["title"]]
    assert any("have no prediction" in note for note in system["notes"])


# ---------------------------------------------------------------- 3. the cache key


def test_cache_key_covers_kb_content_options_and_code(monkeypatch):
    base = cache_key("rexel", {"sha256": "c", "kb": "kb.sqlite", "kb_sha256": "1"}, "d", {"batch_size": 8})
    assert base != cache_key("rexel", {"sha256": "c", "kb": "kb.sqlite", "kb_sha256": "2"}, "d", {"batch_size": 8})
    assert base != cache_key("rexel", {"sha256": "c", "kb": "kb.sqlite", "kb_sha256": "1"}, "d", {"batch_size": 4})
    assert base == cache_key("rexel", {"sha256": "c", "kb": "kb.sqlite", "kb_sha256": "1", "pruning": {"x": 1}},
                             "d", {"batch_size": 8})  # measured while predicting: not an input
    import rexel_bench.cache as cache_module

    monkeypatch.setattr(cache_module, "code_version", lambda: "another version of the code")
    assert base != cache_key("rexel", {"sha256": "c", "kb": "kb.sqlite", "kb_sha256": "1"}, "d", {"batch_size": 8})


def test_rebuilding_the_kb_at_the_same_path_invalidates_cached_predictions(tmp_path, monkeypatch):
    from rexel_bench.kb.build import build_kb
    from rexel_bench.resources import dataset_file

    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / "cache"))
    kb_path = tmp_path / "kb.sqlite"
    docred_ie = dataset_file("docred-ie/dev_joint_qcode.json")
    build_kb(kb_path, docred_ie=[docred_ie])
    config = RunConfig(models=["pipeline-heuristic"], limit=3, bootstrap=10, randomization=0,
                       model_options={"pipeline-heuristic": {"kb": str(kb_path)}})
    first = json.loads((run(dataclass_replace(config, out=str(tmp_path / "a")), progress=False)
                        / "metrics.json").read_text())
    again = json.loads((run(dataclass_replace(config, out=str(tmp_path / "b")), progress=False)
                        / "metrics.json").read_text())
    assert again["systems"]["pipeline-heuristic"]["speed"]["from_cache"] == 3
    assert again["systems"]["pipeline-heuristic"]["speed"]["describe"] == \
        first["systems"]["pipeline-heuristic"]["speed"]["describe"]
    kb_path.unlink()
    build_kb(kb_path, docred_ie=[docred_ie], exclude_ids={d["title"] for d in json.loads(docred_ie.read_text())[:3]})
    rebuilt = json.loads((run(dataclass_replace(config, out=str(tmp_path / "c")), progress=False)
                          / "metrics.json").read_text())
    assert rebuilt["systems"]["pipeline-heuristic"]["speed"]["from_cache"] == 0


def dataclass_replace(config: RunConfig, **changes) -> RunConfig:
    import dataclasses

    return dataclasses.replace(config, **changes)


# ---------------------------------------------------------------- 5-8. tracebacks become one line


@pytest.mark.parametrize("command", [["validate", "{f}"], ["stats", "{f}"], ["score", "{f}", "{g}"],
                                     ["score", "{g}", "{f}"], ["compare", "{f}", "{g}", "--gold", "{g}"]])
def test_deeply_nested_json_is_one_clear_error(five, tmp_path, command):
    good, _ = five
    nested = tmp_path / "nested.json"
    nested.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    args = [a.format(f=nested, g=good) for a in command]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "nested too deeply" in result.output and "Traceback" not in result.output


def test_non_utf8_predictions_and_text_are_one_clear_error(five, tmp_path):
    good, _ = five
    binary = tmp_path / "p.json"
    binary.write_bytes(b"\xff\xfe[]")
    for args in (["score", str(good), str(binary)], ["compare", str(binary), str(good), "--gold", str(good)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and "cannot read the file" in result.output, result.output
    text = tmp_path / "news.txt"
    text.write_bytes(b"Angela Merkel visited Paris.\n\xff\xfe broken\n")
    out = tmp_path / "out.jsonl"
    done = _run(tmp_path, "predict", str(text), "--out", str(out), "--model", "pipeline-heuristic")
    assert done.returncode == 2 and "line 2" in done.stderr and "UTF-8" in done.stderr, done.stderr
    assert not out.exists() and not list(tmp_path.glob("*.part"))


def test_user_text_is_never_console_markup(five, tmp_path):
    good, raw = five
    bad = json.loads(json.dumps(raw))
    bad[0]["title"] = "Ali [/] Damache [link=https://example.org]x[/link]"
    bad[0]["labels"][0]["h"] = 10000
    path = tmp_path / "preds[v2].json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    validated = runner.invoke(app, ["validate", str(path)])
    assert validated.exit_code == 1 and "Ali [/] Damache [link=https://example.org]" in validated.output
    scored = runner.invoke(app, ["score", str(good), str(path)])
    assert scored.exit_code == 2 and "preds[v2].json" in scored.output and "Ali [/] Damache" in scored.output
    compared = runner.invoke(app, ["compare", str(path), str(good), "--gold", str(good)])
    assert compared.exit_code == 2 and "Ali [/] Damache" in compared.output
    looked_up = runner.invoke(app, ["kb", "lookup", "[/]"])
    assert looked_up.exit_code == 0 and "[/]" in looked_up.output


def test_a_lone_surrogate_in_a_title_is_written_and_read_back(five, tmp_path):
    _good, raw = five
    odd = json.loads(json.dumps(raw))
    odd[1]["title"] = "Caf\ud800 title"
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(odd), encoding="utf-8")  # ASCII escapes: valid JSON
    done = _run(tmp_path, "run", "--models", f"file:{path}", "--dataset", str(path), "--no-cache",
                "--bootstrap", "20", "--out", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    written = data_io.load(next((tmp_path / "r" / "predictions").glob("*.jsonl"))).documents
    assert written[1].title == "Caf\ud800 title"
    assert "Caf" in (tmp_path / "r" / "errors.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------- 9. disk full


def test_disk_full_leaves_no_half_written_report(five, tmp_path):
    good, _ = five
    env = {**os.environ, "REXEL_BENCH_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}
    done = subprocess.run(["bash", "-c", f"ulimit -f 64; {sys.executable} -m rexel_bench.cli run --models "
                           f"file:{good} --dataset {good} --no-cache --bootstrap 20 --out {tmp_path / 'report'}"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert done.returncode == 2, done.stderr
    assert "error: cannot read or write" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "report").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report")]


# ---------------------------------------------------------------- 10. the default KB, first use, twice at once


def test_two_commands_building_the_default_kb_at_once_both_succeed(tmp_path):
    env = {**os.environ, "REXEL_BENCH_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}
    look = [sys.executable, "-m", "rexel_bench.cli", "kb", "lookup", "Paris"]
    processes = [subprocess.Popen(look, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for _ in range(3)]
    results = [(*p.communicate(timeout=300), p.returncode) for p in processes]
    assert all(code == 0 for _, _, code in results), [err for _, err, _ in results]
    assert len({out for out, _, _ in results}) == 1 and "candidates for 'Paris'" in results[0][0]
    assert not list((tmp_path / "cache").glob(".*.tmp"))


# ---------------------------------------------------------------- 11-13. safety


def test_run_names_and_document_ids_cannot_escape_their_folder(five, tmp_path):
    good, _ = five
    done = _run(tmp_path, "run", "--models", f"file:{good}", "--dataset", str(good), "--name", "../../../x")
    assert done.returncode == 2 and "run name" in done.stderr
    assert not (tmp_path.parent.parent.parent / "x").exists()
    docs = data_io.load(good).documents[:1]
    crafted = [dataclass_replace(docs[0], id="../../ESCAPED")]
    with pytest.raises(DataError, match="usable as a file name"):
        data_io.write(crafted, tmp_path / "out" / "dwie", "dwie")
    assert not (tmp_path / "ESCAPED.json").exists()


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_a_resume_file_that_would_run_code_is_refused(tmp_path, monkeypatch):
    from rexel_bench.models.rexel.train import load_resume_state

    monkeypatch.chdir(tmp_path)
    path = tmp_path / "state.pt"
    torch.save({"epoch": 1, "trap": _Payload()}, path)
    with pytest.raises(ConfigError, match="resume file"):
        load_resume_state(path)
    assert not (tmp_path / "PWNED").exists()
    torch.save({"epoch": 1, "best": (0.5, -1.0), "history": [{"dev_f1": 0.5}]}, path)
    assert load_resume_state(path)["epoch"] == 1


def test_temporaries_of_an_interrupted_writer_are_removed_and_counted(tmp_path):
    directory = tmp_path / "predictions" / "key"
    directory.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    orphan = directory / f".abc.json.{dead}.x1y2.tmp"
    orphan.write_text("{half")
    live = directory / f".def.json.{os.getpid()}.x1y2.tmp"
    live.write_text("{being written")
    cache = PredictionCache(tmp_path / "predictions", "key")
    assert not orphan.exists() and live.exists()
    assert cache.problems == ["1 temporary file(s) left by an interrupted run removed from the cache"]


# ---------------------------------------------------------------- 4. bounded memory on long documents


@pytest.mark.parametrize(("n", "ordered", "block"), [(0, False, 5), (1, True, 5), (7, False, 4), (7, True, 4),
                                                     (30, False, 1000), (12, True, 3)])
def test_pair_blocks_cover_every_pair_once_in_order_and_stay_bounded(n, ordered, block):
    from rexel_bench.models.rexel.targets import pair_blocks

    blocks = list(pair_blocks(n, ordered=ordered, block=block))
    got = [tuple(p) for b in blocks for p in b.tolist()]
    expected = [(i, j) for i in range(n) for j in range(n) if (i != j if ordered else i < j)]
    assert got == expected
    assert all(len(b) <= max(block, n - 1) for b in blocks)


def test_blocked_pair_stages_predict_exactly_what_one_block_predicts(monkeypatch):
    """REXEL's coreference and relation stages in tiny blocks give the same entities and facts as in one
    block (relation scores may differ in the last printed digit: matrix products of another shape)."""
    import rexel_bench.models.rexel.model as rexel_model
    import rexel_bench.models.rexel.targets as rexel_targets
    from rexel_bench.models.base import load_model

    docs = data_io.load(REPO / "datasets/docred-ie/dev_joint_qcode.json").documents[:4]
    model = load_model("rexel")
    whole = model.predict(docs)
    monkeypatch.setattr(rexel_targets, "PAIR_BLOCK", 7)
    monkeypatch.setattr(rexel_model, "ATTENTION_BLOCK", 1)
    blocked = model.predict(docs)
    assert [d.entities for d in blocked] == [d.entities for d in whole]
    for a, b in zip(blocked, whole, strict=True):
        assert [(r.head, r.tail, r.label) for r in a.relations] == [(r.head, r.tail, r.label) for r in b.relations]
        assert [r.score for r in a.relations] == pytest.approx([r.score for r in b.relations], abs=1e-3)


def test_a_document_over_the_length_limit_is_skipped_with_a_note(tmp_path, monkeypatch):
    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / "cache"))
    gold = data_io.load(REPO / "datasets/docred-ie/dev_joint_qcode.json").documents[:3]
    limit = sorted(d.num_tokens for d in gold)[1]  # the longest of the three is over it
    config = RunConfig(models=["rexel"], limit=3, bootstrap=10, randomization=0, out=str(tmp_path / "r"),
                       model_options={"rexel": {"max_words": limit}})
    metrics = json.loads((run(config, progress=False) / "metrics.json").read_text())
    system = metrics["systems"]["rexel"]
    longest = max(gold, key=lambda d: d.num_tokens)
    assert list(system["speed"]["skipped"]) == [longest.id]
    assert any("not predicted" in note and f"limit of {limit:,}" in note for note in system["notes"])
    assert any("1 gold document(s) have no prediction" in note for note in system["notes"])
    rerun = json.loads((run(dataclass_replace(config, out=str(tmp_path / "again")), progress=False)
                        / "metrics.json").read_text())["systems"]["rexel"]["speed"]
    assert rerun["from_cache"] == 2 and rerun["describe"]["pruning"] == system["speed"]["describe"]["pruning"]
    assert system["speed"]["describe"]["pruning"]["pairs"] > 0  # a fully cached rerun keeps what was measured
