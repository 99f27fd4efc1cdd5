"""DocRED F1, Ign F1 and evidence F1 equal the official evaluation on real Re-DocRED files, to 6 decimals.

``official_scores`` restates, independently of the toolkit, what thunlp/DocRED ``code/evaluation.py``
computes (gold facts keyed by (title, r, h, t); every submitted entry counted in precision; Ign F1
precision ``(correct - in_train) / (submitted - in_train)`` with unchanged recall; evidence over all
predicted and all gold evidence sentences). Predictions are the gold facts systematically perturbed:
dropped, added, relabelled, with evidence cut or extended.
"""

from __future__ import annotations

import json
import random

import pytest

from rexel_bench.data import io as data_io
from rexel_bench.scoring.api import score_documents
from rexel_bench.scoring.io import load_predictions


def official_scores(truth: list[dict], submission: list[dict], train: list[dict]) -> dict[str, float]:
    """The official script's arithmetic on raw JSON (the oracle)."""
    train_facts = {(h["name"], t["name"], label["r"]) for doc in train for label in doc["labels"]
                   for h in doc["vertexSet"][label["h"]] for t in doc["vertexSet"][label["t"]]}
    std, vertex, total_evidence = {}, {}, 0
    for doc in truth:
        vertex[doc["title"]] = doc["vertexSet"]
        for label in doc["labels"]:
            std[(doc["title"], label["r"], label["h"], label["t"])] = set(label["evidence"])
            total_evidence += len(label["evidence"])
    correct = correct_evidence = predicted_evidence = in_train = 0
    for entry in submission:
        evidence = set(entry.get("evidence", []))
        predicted_evidence += len(evidence)
        key = (entry["title"], entry["r"], entry["h_idx"], entry["t_idx"])
        if key in std:
            correct += 1
            correct_evidence += len(std[key] & evidence)
            vs = vertex[entry["title"]]
            in_train += any((a["name"], b["name"], entry["r"]) in train_facts
                            for a in vs[entry["h_idx"]] for b in vs[entry["t_idx"]])
    def f(p: float, r: float) -> float:
        return 0 if p + r == 0 else 2 * p * r / (p + r)
    p, r = correct / len(submission), correct / len(std)
    ev_p = correct_evidence / predicted_evidence if predicted_evidence else 0
    ev_r = correct_evidence / total_evidence
    ign_p = (correct - in_train) / (len(submission) - in_train)
    return {"f1": f(p, r), "ign_f1": f(ign_p, r), "evidence_f1": f(ev_p, ev_r), "p": p, "r": r}


def perturb(truth: list[dict], rng: random.Random, relation_ids: list[str]) -> list[dict]:
    """Gold facts with 25% dropped, 10% relabelled, evidence cut or extended, and new wrong facts added."""
    out = []
    for doc in truth:
        n = len(doc["vertexSet"])
        for label in doc["labels"]:
            if rng.random() < 0.25:
                continue
            relation = rng.choice(relation_ids) if rng.random() < 0.1 else label["r"]
            evidence = label["evidence"][: rng.randint(0, len(label["evidence"]))] + (
                [rng.randrange(len(doc["sents"]))] if rng.random() < 0.3 else [])
            out.append({"title": doc["title"], "h_idx": label["h"], "t_idx": label["t"], "r": relation,
                        "evidence": evidence})
        for _ in range(rng.randint(0, 4)):
            out.append({"title": doc["title"], "h_idx": rng.randrange(n), "t_idx": rng.randrange(n),
                        "r": rng.choice(relation_ids), "evidence": [0]})
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_official_evaluation_on_re_docred(shared, tmp_path, seed):
    truth_path, train_path = shared("re-docred/dev_revised.json"), shared("re-docred/test_revised.json")
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    train = json.loads(train_path.read_text(encoding="utf-8"))
    relation_ids = sorted({label["r"] for doc in truth for label in doc["labels"]})
    submission = perturb(truth, random.Random(seed), relation_ids)
    (tmp_path / "result.json").write_text(json.dumps(submission), encoding="utf-8")

    gold = data_io.load(truth_path).documents
    pred, _ = load_predictions(tmp_path / "result.json", gold)
    result = score_documents(gold, pred, metrics=["docred"], train=data_io.load(train_path).documents)
    expected = official_scores(truth, submission, train)
    got = {"f1": result.metrics["docred_re"].values["f1"], "ign_f1": result.metrics["docred_re_ign"].values["f1"],
           "evidence_f1": result.metrics["docred_evidence"].values["f1"],
           "p": result.metrics["docred_re"].values["p"], "r": result.metrics["docred_re"].values["r"]}
    assert expected["ign_f1"] < expected["f1"] < 1  # the perturbation and the train overlap both bite
    for key, value in expected.items():
        assert round(got[key], 6) == round(value, 6), key


def test_unknown_title_is_an_error_or_counted_wrong_when_lenient(shared, tmp_path):
    gold = data_io.load(shared("re-docred/dev_revised.json")).documents[:3]
    entries = [{"title": gold[0].title, "h_idx": r.head, "t_idx": r.tail, "r": r.label, "evidence": []}
               for r in gold[0].relations] + [{"title": "No such page", "h_idx": 0, "t_idx": 1, "r": "P17"}]
    path = tmp_path / "result.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    from rexel_bench.errors import PredictionError

    with pytest.raises(PredictionError, match="No such page"):
        load_predictions(path, gold)
    pred, _ = load_predictions(path, gold, lenient=True)
    result = score_documents(gold, pred, metrics=["docred"], lenient=True)
    totals = result.metrics["docred_re"].to_dict()["totals"]
    n_gold0 = len({(r.head, r.tail, r.label) for r in gold[0].relations})
    assert totals["p_den"] == len(entries) and totals["p_num"] == n_gold0  # the orphan counts as a wrong fact
    assert any("No such page" in note for note in result.notes)
