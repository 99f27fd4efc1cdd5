"""rexel-bench as a package: a wheel built from the repository runs from any folder with everything the
defaults need, writes only under its cache root, and its core (no models extra) scores without torch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "peft", "dask", "distributed", "accelerate", "safetensors")
#: Top-level folders of a working checkout that are not part of the source (a fresh clone has none of them).
NOT_SOURCE = {".venv", ".git", ".cache", "reports", "build", "dist", ".pytest_cache", ".ruff_cache"}


def _not_source(folder: str, names: list[str]) -> list[str]:
    top = Path(folder) == REPO
    return [n for n in names if n == "__pycache__" or n.endswith(".egg-info") or (top and n in NOT_SOURCE)]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, str]:
    """The wheel built from a copy of the repository, and what the build printed (verbose)."""
    source = tmp_path_factory.mktemp("source") / "rexel-bench"
    shutil.copytree(REPO, source, ignore=_not_source)
    wheels = tmp_path_factory.mktemp("wheels")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v", "-w",
                           str(wheels), str(source)], check=True, capture_output=True, text=True, timeout=600)
    [wheel] = wheels.glob("rexel_bench-*.whl")
    return wheel, done.stdout + done.stderr


def test_the_wheel_builds_without_a_packaging_warning(built):
    """Every folder of the package is declared, and the metadata is in the current format."""
    _, log = built
    assert "BuildBackendWarning" not in log, [line for line in log.splitlines() if "BuildBackendWarning" in line]


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory) -> Path:
    """The wheel, installed (not editable) into a folder of its own."""
    wheel, _ = built
    target = tmp_path_factory.mktemp("site-packages")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=600)
    return target


def _in(target: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """Run the installed package's command line from ``cwd``, the repository nowhere on the path."""
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "REXEL_BENCH_CACHE",
                                                                    "REXEL_BENCH_DATA")}
    environment.update(PYTHONPATH=str(target), XDG_CACHE_HOME=str(cwd / "user-cache"), **env)
    return subprocess.run([sys.executable, "-m", "rexel_bench", *args], capture_output=True, text=True, cwd=cwd,
                          env=environment, timeout=900)


def _files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def test_the_installed_wheel_imports_from_its_own_location(installed, tmp_path):
    code = ("import rexel_bench, rexel_bench.baselines.pipeline as p, rexel_bench.resources as r; "
            "print(rexel_bench.__file__); print(p.__file__); print(r.checkout_root()); "
            "print(r.default_checkpoint('rexel'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(installed)})
    module, baselines, checkout, checkpoint = done.stdout.split("\n")[:4]
    assert Path(module).is_relative_to(installed) and Path(baselines).is_relative_to(installed)
    assert checkout == "None"
    assert Path(checkpoint).is_relative_to(installed) and (Path(checkpoint) / "model.safetensors").is_file()
    assert not (installed / "baselines").exists()  # no top-level import name of its own


def test_the_installed_wheel_validates_scores_and_runs_outside_the_repository(installed, tmp_path):
    before = _files(installed)
    valid = _in(installed, tmp_path, "validate", "docred-ie:dev")
    assert valid.returncode == 0, valid.stderr
    assert "300/300 documents loaded" in valid.stdout
    write = ("import rexel_bench as rb; from rexel_bench.data import io; "
             "io.write(rb.load('docred-ie:dev')[:5], 'five.jsonl')")
    subprocess.run([sys.executable, "-c", write], check=True, cwd=tmp_path, timeout=120,
                   env={**os.environ, "PYTHONPATH": str(installed)})
    scored = _in(installed, tmp_path, "score", "docred-ie:dev", "five.jsonl", "--json", "s.json")
    assert scored.returncode == 0, scored.stderr
    assert json.loads((tmp_path / "s.json").read_text())["dataset"]["documents"] == 300
    ran = _in(installed, tmp_path, "run", "--models", "rexel,pipeline", "--limit", "3", "--bootstrap", "100",
              "--out", "report")
    assert ran.returncode == 0, ran.stderr
    assert (tmp_path / "report" / "report.html").is_file()
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert set(metrics["systems"]) == {"rexel", "pipeline"}
    assert (tmp_path / "user-cache" / "rexel-bench" / "kb-default.sqlite").is_file()  # the per-user cache
    assert _files(installed) == before  # nothing written into the installed package


CORE_ONLY = """
import sys
for name in {heavy!r}:
    sys.modules[name] = None  # as if the models extra were not installed: importing it fails
from rexel_bench.cli import entry_point
sys.argv = ["rexel-bench", *sys.argv[1:]]
try:
    entry_point()
finally:
    loaded = sorted(m for m in sys.modules if m.partition(".")[0] in {heavy!r} and sys.modules[m] is not None)
    print("loaded:", loaded, file=sys.stderr)
"""


def _core(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    script = tmp_path / "core.py"
    script.write_text(CORE_ONLY.format(heavy=HEAVY), encoding="utf-8")
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, cwd=tmp_path,
                          timeout=300, env={**os.environ, "REXEL_BENCH_CACHE": str(tmp_path / "cache")})


def test_the_core_scores_and_compares_without_the_models_extra(tmp_path):
    from rexel_bench.data import io as data_io
    from rexel_bench.data.registry import resolve

    docs = data_io.load(resolve("docred-ie:dev")).documents[:20]
    data_io.write(docs, tmp_path / "a.jsonl")
    data_io.write([*docs[:10], *(d.__class__(d.id, d.title, d.sentences) for d in docs[10:])], tmp_path / "b.jsonl")
    for args in (["validate", "a.jsonl"], ["stats", "a.jsonl"], ["score", "a.jsonl", "b.jsonl"],
                 ["compare", "a.jsonl", "b.jsonl", "--gold", "a.jsonl", "--bootstrap", "100", "--out", "cmp"],
                 ["leaderboard", "cmp"], ["audit", "a.jsonl", "--out", "audit"],
                 ["run", "--models", "file:b.jsonl", "--dataset", "a.jsonl", "--bootstrap", "100", "--out", "r"]):
        done = _core(tmp_path, *args)
        assert done.returncode == 0, (args, done.stderr)
        assert "loaded: []" in done.stderr, (args, done.stderr)


def test_a_command_that_needs_the_models_extra_says_which_in_one_line(tmp_path):
    (tmp_path / "in.txt").write_text("Angela Merkel visited Paris.\n", encoding="utf-8")
    done = _core(tmp_path, "predict", "in.txt", "--out", "o.jsonl")
    assert done.returncode == 2
    [line] = [line for line in done.stderr.splitlines() if not line.startswith("loaded:")]
    assert "pip install 'rexel-bench[models]'" in line and "Traceback" not in done.stderr
