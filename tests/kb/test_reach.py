"""What a KB lets a system link at all: the ceiling, candidate recall and reachable-fact F1 against brute force."""

from __future__ import annotations

import json

from rexel_bench.data import io as data_io
from rexel_bench.data.registry import resolve
from rexel_bench.kb.build import build_kb
from rexel_bench.kb.normalize import normalize_alias
from rexel_bench.kb.reach import decompose, reach_of
from rexel_bench.scoring.relations import linked_facts


def test_the_ceiling_equals_a_brute_force_count(tmp_path):
    docs = data_io.load(resolve("docred-ie:dev")).documents[:3]
    aliases = {"Illinois": "Q1204", "U.S.": "Q30", "Lake County": "Q484263"}
    tsv = tmp_path / "aliases.tsv"
    tsv.write_text("".join(f"{a}\t{q}\t1\n" for a, q in aliases.items()), encoding="utf-8")
    build_kb(tmp_path / "kb.sqlite", tsv=[tsv])
    known = {(normalize_alias(a), q) for a, q in aliases.items()}
    reachable = {(d.id, e.qid) for d in docs for e in d.entities
                 if e.qid and any((normalize_alias(m.text), e.qid) in known for m in e.mentions)}
    entities = {(d.id, e.qid) for d in docs for e in d.entities if e.qid}
    facts = {(d.id, *f) for d in docs for f in linked_facts(d)[0]}
    reach_facts = {f for f in facts if (f[0], f[1]) in reachable and (f[0], f[3]) in reachable}
    assert reachable and reach_facts and len(reach_facts) < len(facts)

    found = decompose(reach_of([(tmp_path / "kb.sqlite", docs)]), docs)  # a perfect system
    assert found["ceiling"]["entities"] == {"count": len(reachable), "of": len(entities),
                                            "share": len(reachable) / len(entities)}
    assert found["ceiling"]["facts"]["count"] == len(reach_facts) and found["ceiling"]["facts"]["of"] == len(facts)
    mentions = [(m.text, m.qid) for d in docs for e in d.entities for m in e.mentions if m.qid]
    at_one = sum((normalize_alias(t), q) in known for t, q in mentions)
    assert found["candidate_recall"]["1"] == {"count": at_one, "of": len(mentions), "share": at_one / len(mentions)}
    reach = found["reachable_linked"]
    assert reach["r"] == 1.0 and reach["p"] == 1.0


def test_a_run_reports_the_decomposition_beside_the_linked_score(tmp_path, monkeypatch):
    from rexel_bench import api

    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / "cache"))
    report = api.run(models=["pipeline-heuristic"], limit=5, bootstrap=20, randomization=0, kb="oracle",
                     out=str(tmp_path / "r"), progress=False)
    system = json.loads((report.directory / "metrics.json").read_text())["systems"]["pipeline-heuristic"]
    decomposed = system["linked_decomposed"]
    assert 0 < decomposed["ceiling"]["facts"]["share"] <= 1
    assert decomposed["reachable_linked"]["f1"] >= system["metrics"]["e2e_linked"]["values"]["f1"] - 1e-9
    assert "Linked facts, decomposed" in (report.directory / "report.md").read_text()
