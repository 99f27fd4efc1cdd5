"""Systems with several training seeds: the mean over seeds with its sd and per-seed values, and intervals and
paired tests that resample documents and seeds together. A system of identical seeds is the one checkpoint; two
identical seeded systems do not differ (p = 1); a seeded spec runs each member."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from rexel_bench.cli import app
from rexel_bench.data import io as data_io
from rexel_bench.data.registry import resolve
from rexel_bench.errors import ConfigError
from rexel_bench.evaluate import evaluate
from rexel_bench.models.base import seed_members
from rexel_bench.stats.seeds import Seeded

runner = CliRunner()


@pytest.fixture(scope="module")
def gold():
    return data_io.load(resolve("docred-ie:dev")).documents[:30]


def _dropped(docs, every):
    """Predictions that keep every ``every``-th fact (a weaker system each time ``every`` grows)."""
    return [dataclasses.replace(d, relations=d.relations[::every]) for d in docs]


def _flat(intervals):
    return [x for key in sorted(intervals) for part in ("value", "ci_percentile", "ci_bca")
            for x in np.atleast_1d(intervals[key][part])]


def _evaluate(gold, predictions):
    return evaluate(gold, predictions, dataset="docred-ie:dev", n_resamples=400, randomization_rounds=0, seed=3)


def test_identical_seeds_give_sd_0_and_the_numbers_of_one_checkpoint(gold):
    one = _evaluate(gold, {"a": _dropped(gold, 2), "b": _dropped(gold, 3)})
    three = _evaluate(gold, {"a": Seeded({"s0": _dropped(gold, 2), "s1": _dropped(gold, 2), "s2": _dropped(gold, 2)}),
                             "b": _dropped(gold, 3)})
    for metric, entry in one["systems"]["a"]["metrics"].items():
        seeded = three["systems"]["a"]["metrics"][metric]
        assert seeded["values"] == pytest.approx(entry["values"], abs=1e-12), metric
        assert _flat(seeded["ci"]) == pytest.approx(_flat(entry["ci"]), abs=1e-9), metric  # intervals too
        spread = three["systems"]["a"]["seeds"]["metrics"][metric]
        assert spread["sd"] == 0.0 and len(set(spread["values"])) == 1
    assert three["systems"]["a"]["seeds"]["members"] == ["s0", "s1", "s2"] and one["systems"]["a"]["seeds"] is None
    assert [c["metric"] for c in three["comparisons"]] == [c["metric"] for c in one["comparisons"]]
    assert [(c["delta"], c["p_two_sided"]) for c in three["comparisons"]] == [
        (pytest.approx(c["delta"], abs=1e-12), c["p_two_sided"]) for c in one["comparisons"]]


def test_two_identical_seeded_systems_do_not_differ(gold):
    seeds = {"s0": _dropped(gold, 1), "s1": _dropped(gold, 2), "s2": _dropped(gold, 4)}
    report = _evaluate(gold, {"x": Seeded(seeds), "y": Seeded(dict(seeds))})
    assert report["comparisons"]
    for comparison in report["comparisons"]:
        assert comparison["delta"] == 0.0 and comparison["p_two_sided"] == 1.0, comparison["metric"]


def test_the_mean_sd_and_intervals_of_distinct_seeds(gold):
    seeds = {"s0": _dropped(gold, 1), "s1": _dropped(gold, 2), "s2": _dropped(gold, 4)}
    report = _evaluate(gold, {"seeded": Seeded(seeds), "s0": seeds["s0"], "s1": seeds["s1"], "s2": seeds["s2"]})
    alone = [report["systems"][s]["metrics"]["e2e_hard"]["values"]["f1"] for s in ("s0", "s1", "s2")]
    seeded = report["systems"]["seeded"]
    assert seeded["metrics"]["e2e_hard"]["values"]["f1"] == pytest.approx(np.mean(alone))
    spread = seeded["seeds"]["metrics"]["e2e_hard"]
    assert spread["values"] == pytest.approx(alone) and spread["sd"] > 0
    assert spread["sd"] == pytest.approx(np.std(alone, ddof=1))
    low, high = seeded["metrics"]["e2e_hard"]["ci"]["f1"]["ci_percentile"]
    widest_alone = max(np.diff(report["systems"][s]["metrics"]["e2e_hard"]["ci"]["f1"]["ci_percentile"])[0]
                       for s in ("s0", "s1", "s2"))
    assert high - low > widest_alone  # the seeds' spread is in the interval, not only the documents'


def test_a_seeded_spec_names_its_members():
    assert seed_members("rexel:ckpt-a+ckpt-b+ckpt-c") == ["rexel:ckpt-a", "rexel:ckpt-b", "rexel:ckpt-c"]
    assert seed_members("file:a.jsonl+b.jsonl") == ["file:a.jsonl", "file:b.jsonl"]
    assert seed_members("rexel") == ["rexel"] and seed_members("rexel:ckpt") == ["rexel:ckpt"]
    with pytest.raises(ConfigError, match="a member is empty"):
        seed_members("rexel:a++b")


def test_run_predicts_each_seed_and_reports_the_seeded_system(gold, tmp_path, monkeypatch):
    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / "cache"))
    data_io.write(gold, tmp_path / "gold.jsonl")
    for name, every in (("s0", 1), ("s1", 2), ("s2", 3), ("half", 2)):
        data_io.write(_dropped(gold, every), tmp_path / f"{name}.jsonl")
    seeded = "file:" + "+".join(str(tmp_path / f"s{i}.jsonl") for i in range(3))
    done = runner.invoke(app, ["run", "--models", f"{seeded},file:{tmp_path / 'half.jsonl'}", "--dataset",
                               str(tmp_path / "gold.jsonl"), "--bootstrap", "50", "--out", str(tmp_path / "r")])
    assert done.exit_code == 0, done.output
    record = json.loads((tmp_path / "r" / "metrics.json").read_text())
    system = record["systems"][seeded]
    assert system["seeds"]["members"] == [f"file:{tmp_path / f's{i}.jsonl'}" for i in range(3)]
    assert system["notes"][0].startswith("3 training seeds")
    assert record["family"]["reference"] == seeded
    report = (tmp_path / "r" / "report.md").read_text()
    spread = system["seeds"]["metrics"]["e2e_hard"]
    assert "## Training seeds" in report and f"{100 * spread['mean']:.2f} ± {100 * spread['sd']:.2f}" in report
    written = sorted(p.name for p in (tmp_path / "r" / "predictions").iterdir())
    assert len(written) == 4 and all(any(f"_{n}_jsonl" in w for w in written) for n in ("s0", "s1", "s2", "half"))


def test_compare_takes_a_system_as_one_file_per_seed(gold, tmp_path):
    """``rb.compare`` with a list of files, and ``compare a+b+c`` on the command line: the same seeded system."""
    import rexel_bench as rb

    data_io.write(gold, tmp_path / "gold.jsonl")
    for name, every in (("s0", 1), ("s1", 2), ("s2", 4), ("other", 3)):
        data_io.write(_dropped(gold, every), tmp_path / f"{name}.jsonl")
    seeds = [tmp_path / f"s{i}.jsonl" for i in range(3)]
    report = rb.compare(str(tmp_path / "gold.jsonl"), {"seeded": seeds, "other": tmp_path / "other.jsonl"},
                        bootstrap=200, randomization=0).to_dict()
    members = {str(p): _dropped(gold, every) for p, every in zip(seeds, (1, 2, 4), strict=True)}
    expected = _evaluate(gold, {"seeded": Seeded(members), "other": _dropped(gold, 3)})
    assert report["systems"]["seeded"]["seeds"]["members"] == [str(p) for p in seeds]
    assert report["systems"]["seeded"]["metrics"]["e2e_hard"]["values"] == pytest.approx(
        expected["systems"]["seeded"]["metrics"]["e2e_hard"]["values"])
    done = runner.invoke(app, ["compare", "+".join(map(str, seeds)), str(tmp_path / "other.jsonl"), "--gold",
                               str(tmp_path / "gold.jsonl"), "--bootstrap", "50", "--out", str(tmp_path / "c")])
    assert done.exit_code == 0, done.output
    written = json.loads((tmp_path / "c" / "metrics.json").read_text())
    assert list(written["systems"]) == ["s0 (3 seeds)", "other"]
    assert written["systems"]["s0 (3 seeds)"]["seeds"]["members"] == [str(p) for p in seeds]


def test_run_takes_a_model_with_several_checkpoints(tiny_checkpoint, tmp_path, monkeypatch):
    """``rexel:A+B``: each checkpoint predicts (with the KB its model takes) and the run reports one system."""
    from rexel_bench.run import RunConfig, run

    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / "cache"))
    a, b = tiny_checkpoint("a", seed=1), tiny_checkpoint("b", seed=2)
    spec = f"rexel:{a}+{b}"
    out = run(RunConfig(models=[spec, f"rexel:{a}"], limit=3, bootstrap=20, randomization=0, out=str(tmp_path / "r")),
              progress=False)
    record = json.loads((out / "metrics.json").read_text())
    assert record["systems"][spec]["seeds"]["members"] == [f"rexel:{a}", f"rexel:{b}"]
    assert record["systems"][spec]["linking"]["name"] == record["systems"][f"rexel:{a}"]["linking"]["name"]


def test_run_names_a_seeded_model_with_a_short_label(tiny_checkpoint, tmp_path, monkeypatch):
    """``names`` labels a model in the report (a seeded spec is long), the reference given by its spec; the spec
    stays in the record; a label that is not one model's, or that two models share, is refused before any work."""
    from rexel_bench.errors import ConfigError
    from rexel_bench.run import RunConfig, run

    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / "cache"))
    a, b = tiny_checkpoint("a", seed=1), tiny_checkpoint("b", seed=2)
    seeded, single = f"rexel:{a}+{b}", f"rexel:{a}"
    out = run(RunConfig(models=[single, seeded], names={seeded: "rexel (2 seeds)"}, reference=seeded, limit=3,
                        bootstrap=20, randomization=0, out=str(tmp_path / "r")), progress=False)
    record = json.loads((out / "metrics.json").read_text())
    assert list(record["systems"]) == [single, "rexel (2 seeds)"]
    assert record["systems"]["rexel (2 seeds)"]["model"] == seeded and record["systems"][single]["model"] == single
    assert record["systems"]["rexel (2 seeds)"]["seeds"]["members"] == [single, f"rexel:{b}"]
    assert record["family"]["reference"] == "rexel (2 seeds)"
    with pytest.raises(ConfigError, match="names"):
        RunConfig(models=[single], names={"rexel:elsewhere": "x"})
    with pytest.raises(ConfigError, match="names"):
        RunConfig(models=[single, seeded], names={seeded: single})


def test_a_seeded_report_states_each_seeds_thresholds(tiny_checkpoint, tmp_path, monkeypatch):
    """Seeds that chose their own thresholds (each on its held-out documents) are reported seed by seed: the record
    keeps each member's decisions and the report's banner lists them, not the first seed's alone."""
    from rexel_bench.run import RunConfig, run

    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / "cache"))
    a = tiny_checkpoint("a", seed=1)
    b = tiny_checkpoint("b", seed=2, relation_margin=0.25, mention_decoding="viterbi")
    seeded = f"rexel:{a}+{b}"
    out = run(RunConfig(models=[seeded], names={seeded: "rexel (2 seeds)"}, limit=3, bootstrap=20, randomization=0,
                        out=str(tmp_path / "r")), progress=False)
    system = json.loads((out / "metrics.json").read_text())["systems"]["rexel (2 seeds)"]
    relations = {"head": "localized-context", "coarse_threshold": None}
    assert system["seed_decisions"] == {
        f"rexel:{a}": {"relations": {**relations, "margin": 0.5}, "coref_threshold": 0.5, "mention_decoding": "greedy"},
        f"rexel:{b}": {"relations": {**relations, "margin": 0.25}, "coref_threshold": 0.5,
                       "mention_decoding": "viterbi"}}
    banner = next(line for line in (out / "report.md").read_text().splitlines()
                  if line.startswith("- relation head and thresholds"))
    assert banner == ("- relation head and thresholds: rexel (2 seeds): per seed: localized-context, margin +0.5, "
                      "coreference threshold 0.5, mention decoding greedy; localized-context, margin +0.25, "
                      "coreference threshold 0.5, mention decoding viterbi")
