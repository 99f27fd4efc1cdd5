"""Nothing lost, nothing run that was not asked for: outputs replaced whole or not at all, models that see only
what a system may see, code run only when the command line asks for it, numbers checked where they are typed,
and knowledge bases whose bytes do not depend on the interpreter's hash seed."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rexel_bench.cli import app
from rexel_bench.data import io as data_io
from rexel_bench.data.formats import jsonl
from rexel_bench.data.registry import resolve
from rexel_bench.errors import ClusterError, ConfigError, DataError, PredictionError
from rexel_bench.run import RunConfig

runner = CliRunner(env={"COLUMNS": "200"})
REPO = Path(__file__).resolve().parents[1]


def _run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, "REXEL_BENCH_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "rexel_bench.cli", *args], capture_output=True, text=True,
                          env=full, cwd=tmp_path, timeout=600)


def _one_line_error(result) -> str:
    """The error line of a failed command: exit status 2, no traceback."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result.output


@pytest.fixture()
def three(tmp_path) -> Path:
    """Three real DocRED-IE dev documents in the toolkit's JSONL."""
    docs = data_io.load(resolve("docred-ie:dev")).documents[:3]
    path = tmp_path / "gold.jsonl"
    data_io.write(docs, path)
    return path


# ---------------------------------------------------------------- a KB build replaces its output whole or not at all


def test_a_failed_kb_build_leaves_the_previous_kb_untouched(tmp_path):
    good, bad, out = tmp_path / "a.tsv", tmp_path / "b.tsv", tmp_path / "kb.sqlite"
    good.write_text("Paris\tQ90\t3\nLondon\tQ84\t2\n", encoding="utf-8")
    bad.write_text("Paris\tQ90\t3\nLondon Q84\n", encoding="utf-8")
    assert runner.invoke(app, ["kb", "build", "--tsv", str(good), "--out", str(out)]).exit_code == 0
    before = out.read_bytes()
    assert "line 2" in _one_line_error(runner.invoke(app, ["kb", "build", "--tsv", str(bad), "--out", str(out)]))
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tsv", "b.tsv", "kb.sqlite"]


def test_an_interrupted_kb_build_leaves_the_previous_kb_untouched(tmp_path, monkeypatch):
    from rexel_bench.kb import build
    from rexel_bench.kb.ingest import sources

    tsv, out = tmp_path / "a.tsv", tmp_path / "kb.sqlite"
    tsv.write_text("Paris\tQ90\t3\n", encoding="utf-8")
    build.build_kb(out, tsv=[tsv])
    before = out.read_bytes()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(sources, "ingest_popularity", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build.build_kb(out, tsv=[tsv], popularity=tmp_path / "p.json")
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tsv", "kb.sqlite"]


def test_two_kb_builds_to_one_output_are_refused_not_interleaved(tmp_path):
    from rexel_bench.kb.build import build_kb

    tsv, out = tmp_path / "a.tsv", tmp_path / "kb.sqlite"
    tsv.write_text("Paris\tQ90\t3\n", encoding="utf-8")
    with data_io.exclusive_output(out), pytest.raises(ConfigError, match="another command is writing"):
        build_kb(out, tsv=[tsv])
    assert not out.exists()


# ---------------------------------------------------------------- the cache key covers the libraries


def test_the_cache_key_changes_with_the_libraries_that_compute_predictions(monkeypatch):
    import rexel_bench.cache as cache_module

    key = cache_module.cache_key("rexel", {"sha256": "c"}, "d", {"batch_size": 8})
    versions = dict(cache_module.library_versions())
    assert {"torch", "transformers", "numpy"} <= set(versions)
    monkeypatch.setattr(cache_module, "library_versions", lambda: {**versions, "torch": "0.0.1"})
    assert key != cache_module.cache_key("rexel", {"sha256": "c"}, "d", {"batch_size": 8})


def test_metrics_json_states_what_the_cache_key_covers(three, tmp_path):
    done = _run(tmp_path, "run", "--models", f"file:{three}", "--dataset", str(three), "--bootstrap", "20",
                "--out", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    covers = json.loads((tmp_path / "r" / "metrics.json").read_text())["prediction_cache"]["key_covers"]
    assert any("encoder" in item for item in covers) and any("torch" in item for item in covers)


# ---------------------------------------------------------------- code runs only when the command line asks


def _code_config(tmp_path: Path, spec: str) -> Path:
    config = tmp_path / "run.yaml"
    config.write_text(f"models: ['{spec}']\nmodel_options:\n  '{spec}':\n    command: 'touch PWNED'\n",
                      encoding="utf-8")
    return config


def test_a_run_config_that_names_code_is_refused_without_allow_code(tmp_path):
    config = _code_config(tmp_path, "py:os:system")
    done = _run(tmp_path, "run", "--config", str(config), "--limit", "1", "--out", str(tmp_path / "r"))
    assert done.returncode == 2 and "--allow-code" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "PWNED").exists()
    with pytest.raises(ConfigError, match="--allow-code"):
        RunConfig.from_file(config)
    assert RunConfig.from_file(config, allow_code=True).models == ["py:os:system"]


def test_a_run_config_may_name_builtin_models_and_files_without_allow_code(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("models: [rexel, 'rexel:some/checkpoint', pipeline-heuristic, 'file:preds.jsonl']\n",
                      encoding="utf-8")
    assert len(RunConfig.from_file(config).models) == 4


def test_run_help_says_that_py_models_run_code():
    text = runner.invoke(app, ["run", "--help"]).output
    assert "--allow-code" in text and "imports and calls" in text


# ---------------------------------------------------------------- models see only what a system may see


ECHO = '''
class Echo:
    name = "echo"
    def predict(self, docs):
        return list(docs)
    def describe(self):
        return {"name": "echo"}

def factory():
    return Echo()
'''


def test_a_model_that_returns_its_input_scores_zero_everywhere(three, tmp_path, monkeypatch):
    from rexel_bench import api

    (tmp_path / "echo_model.py").write_text(ECHO, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / "cache"))
    result = api.run(models=["py:echo_model:factory"], dataset=str(three), bootstrap=10, randomization=0,
                     out=str(tmp_path / "r"))
    metrics = json.loads((result.directory / "metrics.json").read_text())
    values = metrics["systems"]["py:echo_model:factory"]["metrics"]
    assert values and all(entry["values"][entry["headline"]] == 0 for entry in values.values())


def test_documents_handed_to_models_carry_text_and_nothing_else():
    from rexel_bench.data.model import unannotated

    gold = data_io.load(resolve("docred-ie:dev")).documents[0]
    bare = unannotated(gold)
    assert (bare.id, bare.title, bare.sentences) == (gold.id, gold.title, gold.sentences)
    assert bare.entities == () and bare.relations == () and set(bare.meta) <= {"format"}


# ---------------------------------------------------------------- no hang on a server that is not Dask


@pytest.fixture()
def silent_server():
    """A TCP server that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


def test_a_scheduler_address_that_does_not_speak_dask_fails_within_the_timeout(silent_server):
    from rexel_bench.distributed import cluster

    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler"), cluster(silent_server, timeout=3):
        pass


# ---------------------------------------------------------------- two predict runs to one output


def test_a_second_predict_to_the_same_output_is_refused(tmp_path):
    from rexel_bench.predict_text import predict_file

    text, out = tmp_path / "in.txt", tmp_path / "out.jsonl"
    text.write_text("Angela Merkel visited Paris .\n", encoding="utf-8")
    with data_io.exclusive_output(out), pytest.raises(ConfigError, match="another command is writing"):
        predict_file(text, out, model_name="pipeline-heuristic", progress=False)
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["in.txt"]


def test_predict_writes_through_a_temporary_name_of_its_own(tmp_path, monkeypatch):
    from rexel_bench import predict_text

    text, out = tmp_path / "in.txt", tmp_path / "out.jsonl"
    text.write_text("Angela Merkel visited Paris .\n", encoding="utf-8")
    (tmp_path / "out.jsonl.part").write_text("another run's file\n", encoding="utf-8")
    predict_text.predict_file(text, out, model_name="pipeline-heuristic", progress=False)
    assert (tmp_path / "out.jsonl.part").read_text(encoding="utf-8") == "another run's file\n"
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1


# ---------------------------------------------------------------- numbers checked at the command line


@pytest.mark.parametrize("args", [
    ["run", "--limit", "-3"], ["run", "--limit", "0"], ["run", "--folds", "0"], ["run", "--seed", "-1"],
    ["run", "--bootstrap", "0"], ["run", "--bootstrap", "3"], ["run", "--batch-size", "0"],
    ["run", "--scheduler", ""], ["run", "--scheduler", "bogus"], ["run", "--scheduler", "tcp://"],
    ["run", "--scheduler", "http://localhost:8786"], ["run", "--workers", "0"],
    ["predict", "IN", "--out", "o.jsonl", "--threads", "-1"], ["predict", "IN", "--out", "o.jsonl", "--threads", "0"],
    ["predict", "IN", "--out", "o.jsonl", "--batch-size", "0"],
    ["predict", "IN", "--out", "o.jsonl", "--scheduler", ""],
    ["compare", "A", "B", "--bootstrap", "0"], ["compare", "A", "B", "--seed", "-2"],
    ["leaderboard", "R", "--bootstrap", "2"],
])
def test_a_bad_number_or_scheduler_is_one_line_naming_the_option(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "IN").write_text("Paris .\n", encoding="utf-8")
    output = _one_line_error(runner.invoke(app, args))
    option = next(a for a in args if a.startswith("--") and a != "--out")
    assert option in output
    assert len(output.strip().splitlines()) == 1, output


def test_a_run_config_with_a_bad_number_is_refused_with_its_key(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("models: [pipeline-heuristic]\nbootstrap: -5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bootstrap"):
        RunConfig.from_file(config)
    with pytest.raises(ConfigError, match="limit"):
        RunConfig(limit=0)
    with pytest.raises(ConfigError, match="reference"):
        RunConfig(models=["rexel", "pipeline"], reference="pipeline-heuristic")


# ---------------------------------------------------------------- indices are integers, never floats


def _jsonl_with(tmp_path: Path, gold: Path, edit) -> Path:
    line = json.loads(gold.read_text(encoding="utf-8").splitlines()[0])
    edit(line)
    path = tmp_path / "edited.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("field", "edit"), [
    ("entities[0].mentions[0].end", lambda d: d["entities"][0]["mentions"][0].update(end=float(
        d["entities"][0]["mentions"][0]["end"]))),
    ("relations[0].head", lambda d: d["relations"][0].update(head=float(d["relations"][0]["head"]))),
])
def test_a_float_index_in_jsonl_is_refused_by_validate_and_score(three, tmp_path, field, edit):
    path = _jsonl_with(tmp_path, three, edit)
    with pytest.raises(DataError, match=r"integer"):
        jsonl.parse(json.loads(path.read_text().splitlines()[0]), 0)
    assert runner.invoke(app, ["validate", str(path)]).exit_code != 0
    assert field in _one_line_error(runner.invoke(app, ["score", str(three), str(path)]))


def test_a_float_index_in_docred_layout_is_refused(tmp_path):
    raw = json.loads(resolve("docred-ie:dev").read_text(encoding="utf-8"))[:1]
    raw[0]["labels"][0]["h"] = float(raw[0]["labels"][0]["h"])
    raw[0]["vertexSet"][0][0]["pos"][1] = float(raw[0]["vertexSet"][0][0]["pos"][1])
    path = tmp_path / "f.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    assert runner.invoke(app, ["validate", str(path)]).exit_code != 0


# ---------------------------------------------------------------- bad inputs are one line, never a traceback


@pytest.mark.parametrize(("option", "name", "content", "expected"), [
    ("--tsv", "a.tsv", b"Paris\tQ90\t1\n\xff\xfe\tQ1\n", "UTF-8"),
    ("--popularity", "p.json", b'{"Q90": "many"}', "number"),
    ("--popularity", "p.json", b"not json", "JSON"),
    ("--popularity", "p.json.gz", gzip.compress(b"[1, 2]"), "object"),
    ("--properties", "p.csv", b"pid,label\nP17,country\n", "ID"),
    ("--wikidata-dump", "d.json", b'[\n"just a string",\n]\n', "object"),
    ("--wikidata-dump", "d.json", b'[\n{"id": "Q1", "type": "item", "labels": []}\n]\n', None),
])
def test_bad_kb_inputs_are_one_line_naming_the_file(tmp_path, option, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    result = runner.invoke(app, ["kb", "build", option, str(path), "--out", str(tmp_path / "kb.sqlite")])
    if expected is None:  # old dumps write an empty map as []: read as empty
        assert result.exit_code == 0, result.output
        return
    output = _one_line_error(result)
    assert str(path) in output and expected in output


FAILING = '''
def factory():
    raise RuntimeError("the factory broke")
'''


def test_a_failing_py_factory_is_one_line(three, tmp_path, monkeypatch):
    (tmp_path / "failing_model.py").write_text(FAILING, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / "cache"))
    result = runner.invoke(app, ["run", "--models", "py:failing_model:factory", "--dataset", str(three),
                                 "--bootstrap", "10", "--out", str(tmp_path / "r")])
    assert "the factory broke" in _one_line_error(result) and "py:failing_model:factory" in result.output


def test_a_broken_entry_point_is_one_line(monkeypatch):
    from rexel_bench.models import base

    class Broken:
        name = "broken-plugin"

        def load(self):
            raise ImportError("No module named 'gone'")
    monkeypatch.setattr(base, "_plugin_entry_points", lambda: [Broken()])
    with pytest.raises(ConfigError, match=r"broken-plugin.*gone"):
        base.load_model("broken-plugin")


# ---------------------------------------------------------------- reproducible KB bytes, a damaged cached KB rebuilt


BUILD = ("from rexel_bench.kb.build import build_kb; from rexel_bench.data.registry import resolve; "
         "import sys; build_kb(sys.argv[1], docred_ie=[resolve('docred-ie:dev')])")


def test_the_same_kb_built_under_two_hash_seeds_has_identical_bytes(tmp_path):
    for seed in ("1", "2"):
        subprocess.run([sys.executable, "-c", BUILD, str(tmp_path / f"kb{seed}.sqlite")], check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)}, timeout=300)
    assert (tmp_path / "kb1.sqlite").read_bytes() == (tmp_path / "kb2.sqlite").read_bytes()


def test_a_damaged_cached_default_kb_is_rebuilt_with_a_note(tmp_path, monkeypatch):
    from rexel_bench.kb import build

    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path))
    path = build.default_kb_path()
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(size // 2)
        f.write(b"\0" * 8192)
    with pytest.warns(build.KnowledgeBaseRebuilt, match=str(path)):
        assert build.default_kb_path() == path
    from rexel_bench.kb.store import KnowledgeBase

    with KnowledgeBase(path) as kb:
        assert kb.stats()["entities"] > 1000


def test_a_damaged_kb_error_names_the_file(tmp_path):
    from rexel_bench.kb.build import build_kb

    out = tmp_path / "kb.sqlite"
    tsv = tmp_path / "a.tsv"
    tsv.write_text("".join(f"name{i}\tQ{i}\t1\n" for i in range(1, 3000)), encoding="utf-8")
    build_kb(out, tsv=[tsv])
    data = bytearray(out.read_bytes())
    data[4096:len(data)] = b"\x07" * (len(data) - 4096)
    out.write_bytes(bytes(data))
    result = runner.invoke(app, ["kb", "lookup", "name7", "--kb", str(out)])
    assert str(out) in _one_line_error(result)


# ---------------------------------------------------------------- smaller ones


def test_invisible_characters_make_no_document_and_no_token():
    from rexel_bench.data.text import document_from_text, tokenize_with_offsets

    assert not document_from_text("d", "d", "\u200b\u200b\u2060\ufeff").has_text
    tokens = [t for s in tokenize_with_offsets("Angela\u202e Merkel \u200bvisited\u200f Paris.").sentences for t in s]
    assert tokens == ["Angela", "Merkel", "visited", "Paris", "."]


def test_a_jsonl_file_that_starts_with_a_bom_loads(three, tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + three.read_bytes())
    assert [d.id for d in data_io.load(path).documents] == [d.id for d in data_io.load(three).documents]


def test_a_file_model_with_a_document_the_dataset_lacks_is_refused_by_run_as_by_score(three, tmp_path):
    docs = data_io.load(three).documents
    extra = tmp_path / "extra.jsonl"
    from dataclasses import replace

    data_io.write([*docs, replace(docs[0], id="not-in-the-dataset")], extra)
    scored = runner.invoke(app, ["score", str(three), str(extra)])
    assert "not-in-the-dataset" in _one_line_error(scored)
    done = _run(tmp_path, "run", "--models", f"file:{extra}", "--dataset", str(three), "--bootstrap", "20",
                "--out", str(tmp_path / "r"))
    assert done.returncode == 2 and "not-in-the-dataset" in done.stderr and "Traceback" not in done.stderr
    with pytest.raises(PredictionError):
        from rexel_bench import api

        api.run(models=[f"file:{extra}"], dataset=str(three), bootstrap=10, out=str(tmp_path / "r2"), cache=False)


def test_an_output_lock_is_released_when_its_block_ends(tmp_path):
    out = tmp_path / "x.jsonl"
    with data_io.exclusive_output(out):
        pass
    with data_io.exclusive_output(out), pytest.raises(ConfigError), data_io.exclusive_output(out):
        pass
