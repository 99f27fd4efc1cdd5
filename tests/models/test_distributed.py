"""Prediction and silver-linking on a local Dask cluster (2 workers) give the bytes one process gives; a
partition that fails is retried and reported; one that always fails stops the job and names itself."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import cloudpickle
import pytest
import torch

from rexel_bench.data import io as data_io
from rexel_bench.data.registry import resolve
from rexel_bench.distributed import map_partitions, partitions, run_partitions
from rexel_bench.errors import ClusterError
from rexel_bench.kb.build import default_kb_path
from rexel_bench.kb.store import KnowledgeBase
from rexel_bench.models.rexel.config import RexelConfig
from rexel_bench.models.rexel.model import RexelModel
from rexel_bench.models.rexel.targets import Vocabulary
from rexel_bench.predict_text import predict_file
from rexel_bench.silver.builder import build_docred_ie, build_docred_ie_on_cluster

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers run this module's tasks


@pytest.fixture(scope="module")
def tiny_checkpoint(tiny_encoder, real_docs, tmp_path_factory):
    torch.manual_seed(0)
    config = RexelConfig(encoder=str(tiny_encoder), window=64, stride=16, hidden=32, attention_heads=2,
                         lora_rank=4, lora_dropout=0.0)
    with KnowledgeBase(default_kb_path()) as kb:
        model = RexelModel(config, Vocabulary.from_documents(real_docs, ["P17", "P131"]), kb)
        with torch.no_grad():
            for name, weight in model.named_parameters():
                if ".lora_" in name or name.startswith("relation_head"):
                    weight.normal_(0, 0.3)
        return model.save(tmp_path_factory.mktemp("tiny-rexel") / "ckpt")


def test_cluster_predictions_are_byte_identical_to_one_process(tiny_checkpoint, real_docs, tmp_path):
    text = tmp_path / "docs.txt"
    lines = [" ".join(" ".join(s) for s in d.sentences) for d in real_docs] * 2
    text.write_text("\n".join([*lines[:5], "", " . ", *lines[5:]]) + "\n", encoding="utf-8")
    spec = f"rexel:{tiny_checkpoint}"
    one = predict_file(text, tmp_path / "one.jsonl", model_name=spec, batch_size=2, threads=1, progress=False)
    many = predict_file(text, tmp_path / "many.jsonl", model_name=spec, batch_size=2, scheduler="local",
                        workers=2, partition_size=3, progress=False)
    assert one.count == many.count == len(lines) + 1  # " . " is a document too; the empty line is not
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "many.jsonl").read_bytes()
    assert many.cluster.partitions == 5 and many.cluster.workers == 2  # 17 documents, partitions of 2 batches
    assert not many.cluster.failures
    assert all(mb and mb > 0 for mb in many.cluster.peak_memory_mb.values())


def test_cluster_silver_links_equal_one_process():
    docs = data_io.load(resolve("re-docred:dev")).documents[:24]
    with KnowledgeBase(default_kb_path()) as kb:
        expected = build_docred_ie(docs, kb, progress=False)
    linked, cluster = build_docred_ie_on_cluster(docs, default_kb_path(), workers=2, partition_size=5,
                                                 progress=False)
    assert linked == expected and [d.id for d in linked] == [d.id for d in docs]
    assert cluster.partitions == 5


def _fails_once_per_marker(marker_dir: str, items: list[int]) -> list[int]:
    """Fails the first time it sees a partition holding 7 (a marker file remembers), then succeeds."""
    marker = Path(marker_dir) / f"seen-{items[0]}"
    if 7 in items and not marker.exists():
        marker.touch()
        raise OSError("worker disk hiccup")
    return [i * 10 for i in items]


def _always_fails(items: list[int]) -> list[int]:
    if 7 in items:
        raise ValueError("bad partition")
    return items


def test_a_partition_that_fails_once_is_retried_and_reported(tmp_path):
    import functools

    out: list[int] = []
    task = functools.partial(_fails_once_per_marker, str(tmp_path))
    cluster = run_partitions(task, partitions(range(20), 4), out.extend, workers=2)
    assert out == [i * 10 for i in range(20)]  # in input order, nothing lost
    assert cluster.failures == {1: ["OSError: worker disk hiccup"]}
    assert cluster.notes() == ["partition 1 failed 1 time(s) and was retried: OSError: worker disk hiccup"]


def test_a_partition_that_always_fails_stops_the_job_naming_it():
    with pytest.raises(ClusterError, match=r"partition 1 \(first item '4'\) failed 3 times; last error: "
                                           r"ValueError: bad partition"):
        list(map_partitions(_always_fails, partitions(range(12), 4), workers=2, retries=2))


def test_a_run_on_a_cluster_scores_what_one_process_scores(tiny_checkpoint, tmp_path, monkeypatch):
    from rexel_bench import api
    from rexel_bench.perf import torch_threads

    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / "cache"))
    models = [f"rexel:{tiny_checkpoint}", "pipeline-heuristic"]
    common = {"limit": 10, "bootstrap": 100, "kb": "oracle", "batch_size": 2, "progress": False}
    with torch_threads(1):  # what each worker uses
        alone = api.run(models, out=str(tmp_path / "alone"), **common).to_dict()
    spread = api.run(models, out=str(tmp_path / "spread"), scheduler="local", workers=2, **common).to_dict()
    for model in models:
        assert {m: v["values"] for m, v in spread["systems"][model]["metrics"].items()} == \
            {m: v["values"] for m, v in alone["systems"][model]["metrics"].items()}
        assert spread["systems"][model]["speed"]["cluster_workers"] == 2
        assert any("Dask cluster of 2 workers" in note for note in spread["systems"][model]["notes"])
    assert spread["systems"][models[0]]["speed"]["stages"]["encoder"] > 0  # the workers' stage timers come back


def _misconfigured(items: list[int]) -> list[int]:
    from rexel_bench.errors import ConfigError

    raise ConfigError("model 'x' takes no option colour")


def test_a_configuration_error_on_a_worker_is_not_retried():
    from rexel_bench.errors import ConfigError

    parts = map_partitions(_misconfigured, partitions(range(4), 4), workers=1, retries=2)
    with pytest.raises(ConfigError, match="takes no option colour"):
        list(parts)


def _sizes(items: list[bytes]) -> list[int]:
    return [len(item) for item in items]


def test_large_partitions_travel_without_a_warning():
    """A partition's data must reach its worker (runs of a compressed dump's lines, tens of MB): Dask's advice
    about large graphs does not apply and is not shown."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert list(map_partitions(_sizes, [[b"x" * (12 << 20)], [b"y"]], workers=1)) == [[12 << 20], [1]]


def test_a_local_cluster_starts_quietly_beside_another_on_the_dashboard_port():
    """Dask's scheduler serves HTTP on port 8787 by default, and warns when another cluster (a user's, a parallel
    test job) holds it; the toolkit's local cluster shows no dashboard, so it takes any free port without a
    warning."""
    import socket
    import warnings

    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        with contextlib.suppress(OSError):  # already held by something else: the case to test all the same
            taken.bind(("", 8787))
            taken.listen()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert list(map_partitions(_sizes, [[b"ab"], [b"c"]], workers=1)) == [[2], [1]]


def test_a_cluster_run_closes_its_workers_without_a_warning(tmp_path):
    text = tmp_path / "docs.txt"
    text.write_text("Angela Merkel visited Paris .\nBerlin is in Germany .\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "rexel_bench.cli", "predict", str(text), "--out",
                           str(tmp_path / "o.jsonl"), "--model", "pipeline-heuristic", "--scheduler", "local"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert done.returncode == 0, done.stderr
    assert "still alive" not in done.stderr and "killing" not in done.stderr, done.stderr


def test_the_encoders_weights_are_part_of_a_models_identity(tiny_checkpoint, tiny_encoder, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    from rexel_bench.cache import cache_key
    from rexel_bench.models.base import load_model

    encoder = Path(shutil.copytree(tiny_encoder, tmp_path / "encoder"))
    checkpoint = Path(shutil.copytree(tiny_checkpoint, tmp_path / "ckpt"))
    config = json.loads((checkpoint / "config.json").read_text())
    config["encoder"] = str(encoder)
    (checkpoint / "config.json").write_text(json.dumps(config))

    def key() -> str:
        model = load_model(f"rexel:{checkpoint}", kb=default_kb_path())
        return cache_key(f"rexel:{checkpoint}", model.describe(), "data", {"batch_size": 2})
    before = key()
    weights = load_file(encoder / "model.safetensors")
    name = next(n for n in weights if n.endswith("query.weight"))
    weights[name] = torch.zeros_like(weights[name])
    save_file(weights, encoder / "model.safetensors")
    assert key() != before
