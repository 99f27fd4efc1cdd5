"""Linking honesty: every KB knows which documents it holds, and a run says which setting produced a number."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rexel_bench.cli import app
from rexel_bench.data import io as data_io
from rexel_bench.data.model import text_hash
from rexel_bench.data.registry import resolve
from rexel_bench.errors import ConfigError
from rexel_bench.kb.build import build_kb
from rexel_bench.kb.provenance import classify
from rexel_bench.kb.store import KnowledgeBase
from rexel_bench.reports.leaderboard import merge_runs
from rexel_bench.run import RunConfig, fold_of, plan_linking, run

runner = CliRunner(env={"COLUMNS": "200"})
GOLD = data_io.load(resolve("docred-ie:dev")).documents


@pytest.fixture(scope="module")
def kb_of_a(tmp_path_factory) -> Path:
    """A KB built from documents A (the first 20 of DocRED-IE dev)."""
    root = tmp_path_factory.mktemp("kb")
    data_io.write(GOLD[:20], root / "a.json", "docred-ie")
    build_kb(root / "a.sqlite", docred_ie=[root / "a.json"])
    return root / "a.sqlite"


def test_a_kb_built_from_documents_a_is_oracle_on_a_and_external_on_b(kb_of_a):
    with KnowledgeBase(kb_of_a) as kb:
        on_a = classify(kb, GOLD[:20])
        on_b = classify(kb, GOLD[20:40])
        half = classify(kb, GOLD[10:30])
        provenance = kb.stats()["provenance"]
    assert (on_a.name, on_a.overlap, on_a.evaluated) == ("oracle-candidates", 20, 20)
    assert (on_b.name, on_b.overlap) == ("external", 0)
    assert (half.name, half.overlap) == ("oracle-candidates", 10)
    assert provenance == {"documents": 20, "by_dataset": {"a.json": 20},
                          "contributes": ["entities,aliases,classes,facts"]}


def test_kb_stats_prints_the_provenance(kb_of_a):
    done = runner.invoke(app, ["kb", "stats", "--kb", str(kb_of_a)])
    assert done.exit_code == 0, done.output
    assert '"provenance"' in done.output and '"a.json": 20' in done.output


def test_cross_fitting_never_lets_a_document_into_the_kb_that_predicts_it(tmp_path, monkeypatch):
    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / "cache"))
    gold = GOLD[:60]
    plan = plan_linking(RunConfig(folds=5), gold)
    assert plan.setting.name == "held-out" and len(plan.parts) == 5
    seen = []
    for path, docs in plan.parts:
        assert {fold_of(d.id, 5) for d in docs} == {fold_of(docs[0].id, 5)}
        with KnowledgeBase(path) as kb:
            held = kb.documents()
        assert not {r["doc_id"] for r in held} & {d.id for d in docs}  # asserted on the KB's provenance
        assert not {r["text_sha256"] for r in held} & {text_hash(d) for d in docs}
        assert len(held) == 300 - len(docs)  # every other DocRED-IE dev document stays in
        seen += [d.id for d in docs]
    assert sorted(seen) == sorted(d.id for d in gold)  # each document predicted once, by its own fold
    oracle = plan_linking(RunConfig(kb="oracle"), gold)
    assert oracle.setting.name == "oracle-candidates" and oracle.setting.overlap == 60


def test_a_run_labels_each_setting_everywhere_it_is_shown(tmp_path, monkeypatch, kb_of_a):
    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / "cache"))
    common = {"models": ["pipeline-heuristic"], "limit": 12, "bootstrap": 20, "randomization": 0}
    held = run(RunConfig(**common, out=str(tmp_path / "held")), progress=False)
    oracle = run(RunConfig(**common, kb="oracle", out=str(tmp_path / "oracle")), progress=False)
    data_io.write(GOLD[40:52], tmp_path / "b.json", "docred-ie")  # documents B, not in the KB of A
    external = run(RunConfig(**{**common, "dataset": str(tmp_path / "b.json")}, kb=str(kb_of_a),
                             out=str(tmp_path / "external")), progress=False)
    names = {d: json.loads((d / "metrics.json").read_text())["systems"]["pipeline-heuristic"]["linking"]["name"]
             for d in (held, oracle, external)}
    assert names == {held: "held-out", oracle: "oracle-candidates", external: "external"}
    report = (oracle / "report.md").read_text()
    assert "UPPER BOUND — oracle-candidates linking" in report and "12 of the 12" in report
    assert '<div class="banner">' in (oracle / "report.html").read_text()
    assert "banner" not in (held / "report.html").read_text().split("<style>")[1].split("</style>")[1]
    assert "linking held-out (cross-fitted)" in (held / "errors.html").read_text()
    assert re.search(r"\| pipeline-heuristic \| held-out \(cross-fitted\) \|", (held / "report.md").read_text())
    with pytest.raises(ConfigError, match=r"different settings.*held-out.*oracle-candidates"):
        merge_runs([held, oracle], "e2e_linked", n_resamples=20)
    assert merge_runs([held, held], "e2e_linked", n_resamples=20)["systems"]


def test_a_file_system_declares_its_setting_or_is_unknown(tmp_path, monkeypatch):
    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / "cache"))
    data_io.write(GOLD[:5], tmp_path / "p.jsonl")
    spec = f"file:{tmp_path / 'p.jsonl'}"
    common = {"models": [spec], "limit": 5, "bootstrap": 20, "randomization": 0}
    plain = run(RunConfig(**common, out=str(tmp_path / "u")), progress=False)
    told = run(RunConfig(**common, model_options={spec: {"linking": "external"}}, out=str(tmp_path / "d")),
               progress=False)
    linking = [json.loads((d / "metrics.json").read_text())["systems"][spec]["linking"]["name"] for d in (plain, told)]
    assert linking == ["unknown", "external"]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install chromium)")
def test_the_oracle_banner_shows_in_headless_chromium(tmp_path, monkeypatch):
    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / "cache"))
    out = run(RunConfig(models=["pipeline-heuristic"], limit=8, bootstrap=20, randomization=0, kb="oracle",
                        out=str(tmp_path / "oracle")), progress=False)
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
              f"--user-data-dir={tmp_path / 'p'}"]
    dom = subprocess.run([*common, "--dump-dom", (out / "report.html").as_uri()], check=True, timeout=120,
                         capture_output=True, text=True).stdout
    assert '<div class="banner"><b>UPPER BOUND — oracle-candidates linking.</b>' in dom  # its Markdown bold drawn bold
    shot = tmp_path / "banner.png"
    subprocess.run([*common, "--window-size=1100,500", f"--screenshot={shot}", (out / "report.html").as_uri()],
                   check=True, timeout=120, capture_output=True)
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("RGB")).reshape(-1, 3).astype(int)
    banner = (pixels[:, 0] > 240) & (np.abs(pixels[:, 1] - 0xE2) < 8) & (np.abs(pixels[:, 2] - 0xE1) < 8)
    assert banner.sum() > 1000  # the banner's background (#fde2e1) is drawn


def test_reports_show_a_checkpoint_trained_with_the_evaluated_documents_kb(tmp_path, monkeypatch, tiny_checkpoint):
    """A checkpoint silver-linked with the default KB (DocRED-IE dev's entities and facts) beside the default, whose
    training KB holds those entities without their facts: scored on DocRED-IE dev, the report says both."""
    from rexel_bench.kb.build import default_kb_path
    from rexel_bench.models.rexel.checkpoint import trained_parameters

    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / "cache"))
    checkpoint = tiny_checkpoint("with-facts", training_kb=default_kb_path(), lora_rank=8, lora_alpha=16,
                                 relation_head="cross-attention", relation_margin=0.0)
    other = f"rexel:{checkpoint}"
    out = run(RunConfig(models=["rexel", other], limit=4, bootstrap=20, randomization=0,
                        out=str(tmp_path / "r")), progress=False)
    systems = json.loads((out / "metrics.json").read_text())["systems"]
    with KnowledgeBase(default_kb_path()) as kb:
        facts = kb.stats()["facts"]
    assert facts > 0 and systems[other]["training_kb"]["holds_evaluated_dataset"]
    assert systems[other]["training_kb"]["facts"] == facts
    assert systems["rexel"]["training_kb"]["holds_evaluated_dataset"]  # its entities, aliases and classes
    assert systems["rexel"]["training_kb"]["facts"] == 0
    assert systems["rexel"]["training_kb"]["label"].startswith("transductive: the training KB holds the evaluated")
    report = (out / "report.md").read_text()
    assert "held-out (cross-fitted); transductive training KB" in report  # the scores table says it too
    assert "TRAINING USED THE EVALUATED DOCUMENTS" in report and f"{facts:,} facts" in report
    assert "rexel: entities,aliases,classes of dev_joint_qcode.json (0 facts)" in report
    assert systems["rexel"]["capacity"] == {"trained_parameters": {"encoder": 294912, "heads": 1364766},
                                            "encoder_passes": 1}  # as many trained parameters as the pipeline
    assert "rexel: 294,912 in the encoder + 1,364,766 in the heads, 1 encoder pass(es)" in report
    adapters = trained_parameters(checkpoint)["encoder"]
    assert 0 < adapters < 294912 and f"{other}: {adapters:,} in the encoder" in report
    assert report.count("encoder capacity NOT matched") == 1
    assert systems["rexel"]["relations"] == {"head": "localized-context", "coarse_threshold": None, "margin": 0.5}
    assert systems["rexel"]["coref_threshold"] == 0.5 and systems[other]["coref_threshold"] == 0.5
    assert ("relation head and thresholds: rexel: localized-context, margin +0.5, coreference threshold 0.5, mention "
            f"decoding greedy · {other}: cross-attention, coarse threshold 0.05, margin +0, coreference threshold "
            "0.5, mention decoding greedy") in report


def test_reports_say_whether_rexel_and_the_pipeline_had_the_same_capacity(tiny_checkpoint):
    """The default pipeline trains four sets of rank-8 adapters (4 × 73,728), the default REXEL one set of rank
    32 (294,912): matched. A frozen-encoder pair matches only itself, and a lone system matches nothing."""
    from rexel_bench.baselines.pipeline import NeuralPipeline

    from rexel_bench.models.rexel.model import Rexel
    from rexel_bench.reports.render import _capacity_lines
    from rexel_bench.run import capacity_of

    pipeline = capacity_of(NeuralPipeline().describe())
    assert pipeline["trained_parameters"]["encoder"] == 4 * 73728 and pipeline["encoder_passes"] == 4
    rexel = capacity_of(Rexel().describe())
    assert rexel["trained_parameters"]["encoder"] == 4 * 73728 and rexel["encoder_passes"] == 1
    frozen_rexel = capacity_of(Rexel(checkpoint=str(tiny_checkpoint("frozen", lora_rank=0))).describe())
    frozen_pipeline = {"trained_parameters": {"encoder": 0, "heads": 4 * 1000}, "encoder_passes": 4}
    previous = capacity_of(Rexel(checkpoint=str(tiny_checkpoint("r8", lora_rank=8))).describe())

    def verdict(**systems):
        (line,) = _capacity_lines({"systems": {name: {"capacity": c} for name, c in systems.items()}})
        return line.rsplit(" — ", 1)[1]

    assert verdict(rexel=rexel, pipeline=pipeline, heuristic=None) == "encoder capacity matched"
    assert verdict(rexel=rexel, pipeline=pipeline, frozen_rexel=frozen_rexel, frozen_pipeline=frozen_pipeline) == (
        "encoder capacity matched only within: rexel = pipeline (294,912 each); "
        "frozen_rexel = frozen_pipeline (0 each)")
    assert verdict(previous=previous, pipeline=pipeline) == "encoder capacity NOT matched"
    (line,) = _capacity_lines({"systems": {"rexel": {"capacity": rexel}, "heuristic": {"capacity": None}}})
    assert " — " not in line and "heuristic" not in line  # one system: no verdict; no parameters: not shown as 0
