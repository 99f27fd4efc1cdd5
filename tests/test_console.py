"""What a person reads on the console: the toolkit's own lines, no third-party bars or warnings, 80 columns."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
THIRD_PARTY = re.compile(r"Loading weights|it/s\]|Warning|warnings\.warn|huggingface|tqdm", re.IGNORECASE)


def _cli(tmp_path: Path, *args: str, columns: int = 80) -> subprocess.CompletedProcess:
    env = {**os.environ, "REXEL_BENCH_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(REPO),
           "COLUMNS": str(columns)}
    env.pop("REXEL_BENCH_VERBOSE", None)
    return subprocess.run([sys.executable, "-m", "rexel_bench.cli", *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=600)


def test_the_demo_run_prints_only_its_own_lines(tmp_path):
    """The demo's command (both embedded defaults) on three documents: no library progress bar or warning."""
    done = _cli(tmp_path, "run", "--models", "rexel,pipeline", "--limit", "3", "--bootstrap", "50",
                "--name", "demo", "--out", str(tmp_path / "demo"))
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert not THIRD_PARTY.search(output), output
    for system in ("rexel", "pipeline"):  # each headline number with the linking setting that produced it
        assert re.search(rf"^{system}: e2e_linked F1 \d+\.\d\d \[linking: held-out \(cross-fitted\)\], [\d.]+ docs/s$",
                         done.stdout, re.MULTILINE), done.stdout


def test_verbose_keeps_the_libraries_own_output(tmp_path):
    code = ("import os; os.environ['REXEL_BENCH_VERBOSE'] = '1'; "
            "from rexel_bench.models.base import load_model; load_model('rexel')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0 and THIRD_PARTY.search(done.stderr), done.stderr


def test_the_datasets_table_fits_80_columns_and_no_line_is_broken_in_a_pipe(tmp_path):
    from rexel_bench.data.registry import DATASETS

    done = _cli(tmp_path, "datasets")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    rows = [line for line in lines if line.split()[:1] and line.split()[0] in {s.key for s in DATASETS}]
    assert len(rows) == len(DATASETS) and all(len(line.rstrip()) <= 80 for line in rows)
    assert not any("…" in line for line in lines)  # nothing cut off
    assert any(line.split()[:1] == ["docred-ie:dev"] and "300" in line for line in lines)
    for spec in DATASETS:  # each description whole on its own line
        assert any(line.startswith(f"{spec.key}: {spec.description}") for line in lines), spec.key
