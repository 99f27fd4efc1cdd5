"""The main flows as a user drives them from a terminal, a pipe, a script and a notebook: every metric family
name is accepted wherever a metric list is, and output written to a pipe is the exported file itself."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rexel_bench.cli import app
from rexel_bench.data import io as data_io
from rexel_bench.data.registry import resolve
from rexel_bench.scoring.api import FAMILIES

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Twenty real DocRED-IE dev documents as gold, and two systems: the gold itself, and the gold with one
    fact per document."""
    folder = tmp_path_factory.mktemp("flows")
    gold = data_io.load(resolve("docred-ie:dev")).documents[:20]
    paths = {"gold": folder / "gold.jsonl", "a": folder / "a.jsonl", "b": folder / "b.jsonl"}
    data_io.write(gold, paths["gold"])
    data_io.write(gold, paths["a"])
    data_io.write([dataclasses.replace(d, relations=d.relations[:1]) for d in gold], paths["b"])
    return paths


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_name_is_accepted_by_score_compare_and_the_api(files, family, tmp_path):
    import rexel_bench as rb

    scored = runner.invoke(app, ["score", str(files["gold"]), str(files["b"]), "-m", family])
    assert scored.exit_code == 0, scored.output
    compared = runner.invoke(app, ["compare", str(files["a"]), str(files["b"]), "--gold", str(files["gold"]),
                                   "-m", family, "--bootstrap", "50", "--out", str(tmp_path / "c")])
    assert compared.exit_code == 0, compared.output
    metrics = json.loads((tmp_path / "c" / "metrics.json").read_text())
    families = {entry["family"] for system in metrics["systems"].values() for entry in system["metrics"].values()}
    assert families == {family}
    report = rb.compare(str(files["gold"]), {"a": str(files["a"]), "b": str(files["b"])}, metrics=[family],
                        bootstrap=50)
    assert set(report.to_pandas()["family"]) == {family}


def test_a_family_name_is_accepted_by_run(files, tmp_path, monkeypatch):
    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / "cache"))
    done = runner.invoke(app, ["run", "--models", f"file:{files['b']}", "--dataset", str(files["gold"]),
                               "--metrics", "end-to-end", "--bootstrap", "50", "--out", str(tmp_path / "r")])
    assert done.exit_code == 0, done.output
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert {e["family"] for e in metrics["systems"][f"file:{files['b']}"]["metrics"].values()} == {"end-to-end"}
