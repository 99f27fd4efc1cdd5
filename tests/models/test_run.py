"""``rexel-bench run``: a full report, resumption after a kill, damaged caches, config replay, predict."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rexel_bench.cli import app

REPO = Path(__file__).resolve().parents[2]
SLOW = "py:tests.models.slow_model:factory"
runner = CliRunner(env={"COLUMNS": "240"})


def _env(cache: Path) -> dict[str, str]:
    return {**os.environ, "REXEL_BENCH_CACHE": str(cache), "PYTHONPATH": str(REPO)}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "rexel_bench.cli", *args]


def _values(report: Path) -> dict:
    run = json.loads((report / "metrics.json").read_text())
    return {s: {m: v["values"] for m, v in e["metrics"].items()} for s, e in run["systems"].items()}


def test_killed_run_resumes_without_recomputing_and_matches_a_clean_run(tmp_path):
    cache = tmp_path / "cache"
    args = ["run", "--models", SLOW, "--limit", "40", "--bootstrap", "200", "--batch-size", "1"]
    first = subprocess.Popen(_cli(*args, "--out", str(tmp_path / "killed")), env=_env(cache), cwd=REPO,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(cache.glob("predictions/*/*.json"))) < 10:
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait()
    done_before = len(list(cache.glob("predictions/*/*.json")))
    assert 10 <= done_before < 40 and not (tmp_path / "killed" / "metrics.json").exists()

    subprocess.run(_cli(*args, "--out", str(tmp_path / "resumed")), env=_env(cache), cwd=REPO, check=True,
                   capture_output=True)
    resumed = json.loads((tmp_path / "resumed" / "metrics.json").read_text())
    speed = resumed["systems"][SLOW]["speed"]
    assert speed["from_cache"] == done_before and speed["computed"] == 40 - done_before

    subprocess.run(_cli(*args, "--no-cache", "--out", str(tmp_path / "clean")), env=_env(tmp_path / "other"),
                   cwd=REPO, check=True, capture_output=True)
    assert _values(tmp_path / "resumed") == _values(tmp_path / "clean")


def test_damaged_cache_entry_is_recomputed_and_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.syspath_prepend(str(REPO))
    args = ["run", "--models", SLOW, "--limit", "6", "--bootstrap", "100"]
    assert runner.invoke(app, [*args, "--out", str(tmp_path / "a")]).exit_code == 0
    files = sorted((tmp_path / "cache").glob("predictions/*/*.json"))
    files = [f for f in files if f.name != "meta.json"]
    files[0].write_text(files[0].read_text()[:-30])  # half-written
    entry = json.loads(files[1].read_text())
    entry["document"]["entities"] = []  # tampered: the checksum no longer matches
    files[1].write_text(json.dumps(entry))
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    run = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert run["systems"][SLOW]["speed"]["computed"] == 2
    assert sum("damaged" in n for n in run["systems"][SLOW]["notes"]) == 2
    assert _values(tmp_path / "a") == _values(tmp_path / "b")


def test_run_writes_a_complete_report_and_its_config_replays_it(tmp_path, monkeypatch):
    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.syspath_prepend(str(REPO))
    result = runner.invoke(app, ["run", "--models", f"{SLOW},pipeline-heuristic", "--limit", "12", "--bootstrap",
                                 "200", "--seed", "3", "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    for name in ("metrics.json", "report.md", "report.html", "leaderboard.csv", "leaderboard.tex", "errors.html",
                 "run-config.yaml"):
        assert (tmp_path / "a" / name).exists(), name
    run = json.loads((tmp_path / "a" / "metrics.json").read_text())
    speed = run["systems"]["pipeline-heuristic"]["speed"]
    assert speed["docs_per_s"] > 0 and speed["tokens_per_s"] > 0 and speed["peak_rss_mb"] > 0
    assert set(speed["stages"]) == {"mentions", "linking", "relations"}
    errors = (tmp_path / "a" / "errors.html").read_text()
    assert 'data-system="pipeline-heuristic"' in errors and "missed-fact" in errors
    replay = ["run", "--config", str(tmp_path / "a" / "run-config.yaml"), "--out", str(tmp_path / "b")]
    assert "--allow-code" in runner.invoke(app, replay).output  # the config names a py: model
    replayed = runner.invoke(app, [*replay, "--allow-code"])
    assert replayed.exit_code == 0, replayed.output
    assert _values(tmp_path / "a") == _values(tmp_path / "b")
    first, second = (json.loads((tmp_path / d / "metrics.json").read_text()) for d in "ab")
    assert first["comparisons"] == second["comparisons"] and first["seed"] == second["seed"] == 3


def test_unknown_model_and_bad_config_are_explained(tmp_path):
    result = runner.invoke(app, ["run", "--models", "gpt-17", "--limit", "2"])
    assert result.exit_code == 2 and "unknown model 'gpt-17'" in result.output
    bad = tmp_path / "run.yaml"
    bad.write_text("models: [rexel]\nbootstraps: 5\n")
    result = runner.invoke(app, ["run", "--config", str(bad)])
    assert result.exit_code == 2 and "bootstraps" in result.output


def test_predict_streams_raw_text_with_linked_facts(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO))
    source = tmp_path / "news.txt"
    source.write_text("Berlin is the capital of Germany. Angela Merkel lives in Berlin.\n\n"
                      "Paris is in France.\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["predict", str(source), "--model", "pipeline-heuristic", "--out", str(out),
                                 "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["news-1", "news-3"]
    assert lines[0]["sentences"][0][:3] == ["Berlin", "is", "the"] and len(lines[0]["sentences"]) == 2
    assert "facts" in lines[0]["meta"]
    assert all({"head", "relation", "tail", "head_mentions"} <= set(f) for f in lines[0]["meta"]["facts"])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"txt": "no text field"}\n')
    result = runner.invoke(app, ["predict", str(bad), "--model", "pipeline-heuristic", "--out", str(out)])
    assert result.exit_code == 2 and "line 1.text" in result.output


@pytest.mark.slow
def test_predict_memory_does_not_grow_with_the_file(tmp_path):
    """1,000 raw documents versus 100: the peak resident memory stays flat (batches are streamed)."""
    def peak(n: int) -> float:
        source = tmp_path / f"in{n}.txt"
        source.write_text("".join(f"Berlin is the capital of Germany number {i}. Merkel met Obama.\n"
                                  for i in range(n)), encoding="utf-8")
        code = ("import resource,sys; from pathlib import Path; from rexel_bench.predict_text import predict_file;"
                f"predict_file(Path('{source}'), Path('{tmp_path}/o{n}.jsonl'), model_name='pipeline-heuristic',"
                " progress=False); print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
        return float(out.stdout.strip().splitlines()[-1])
    small, large = peak(100), peak(1000)
    assert large < small * 1.1
