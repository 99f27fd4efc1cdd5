"""REXEL on a tiny random encoder: shapes, windows, masking, loss going down, save/load, prediction."""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import replace

import pytest
import torch

from rexel_bench.data.model import Entity
from rexel_bench.errors import ConfigError
from rexel_bench.kb.build import default_kb_path
from rexel_bench.kb.store import Candidate, KnowledgeBase
from rexel_bench.models.rexel.config import RexelConfig
from rexel_bench.models.rexel.heads import (
    LocalizedContextRelationHead,
    MentionHead,
    adaptive_threshold_loss,
    adaptive_threshold_predict,
    linear_of_concat,
    span_embeddings,
    viterbi_bio,
)
from rexel_bench.models.rexel.model import RexelModel
from rexel_bench.models.rexel.targets import Vocabulary, bio_labels, link_target, sampled_pair_rows


@pytest.fixture(scope="module")
def kb():
    store = KnowledgeBase(default_kb_path())
    yield store
    store.close()


@pytest.fixture()
def model(tiny_encoder, real_docs, kb):
    torch.manual_seed(0)
    config = RexelConfig(encoder=str(tiny_encoder), window=64, stride=16, hidden=32, attention_heads=2, lora_rank=0)
    return RexelModel(config, Vocabulary.from_documents(real_docs, ["P17", "P131"]), kb)


def test_long_documents_are_encoded_in_overlapping_windows(model, real_docs):
    doc = real_docs[0]
    assert doc.num_tokens > 64  # longer than the tiny encoder's 64 positions
    windows = model.encoder.windows(doc.num_tokens)
    assert len(windows) > 1 and all(b[0] < a[1] for a, b in itertools.pairwise(windows))
    (encoded,) = model.encode([doc])
    assert encoded.words.shape == (doc.num_tokens, 32)
    assert torch.isfinite(encoded.words).all()


def test_padding_does_not_change_a_documents_encoding(model, real_docs):
    model.eval()
    alone = model.encode([real_docs[1]])[0].words
    batched = model.encode([real_docs[1], real_docs[0]])[0].words  # padded to the longer window batch
    assert torch.allclose(alone, batched, atol=1e-5)


def test_bio_labels_and_decoding_round_trip():
    labels = bio_labels(8, [(1, 3), (2, 4), (5, 6)])  # (2, 4) overlaps (1, 3): dropped
    assert labels.tolist() == [0, 1, 2, 0, 0, 1, 0, 0]
    assert MentionHead.decode(labels.tolist()) == [(1, 3), (5, 6)]
    assert MentionHead.decode([2, 2, 0, 1, 1]) == [(0, 2), (3, 4), (4, 5)]


def _allowed(tags: tuple[int, ...], starts: set[int]) -> bool:
    """BIO's rule, stated directly: an I (2) only right after a B (1) or an I, and never at a sentence start."""
    return all(tag != 2 or (t > 0 and t not in starts and tags[t - 1] != 0) for t, tag in enumerate(tags))


def _score(log_probs: list[list[float]], tags: tuple[int, ...]) -> float:
    return sum(log_probs[t][tag] for t, tag in enumerate(tags))


def test_viterbi_decoding_is_the_best_sequence_bio_allows():
    """Against brute force over every tag sequence of up to 6 words (random log-probabilities and sentence
    starts, a fixed seed): the decoded sequence is allowed and its score is the best allowed score."""
    rng = random.Random(0)
    for _ in range(500):
        n = rng.randint(1, 6)
        rows = [[rng.random() + 1e-3 for _ in range(3)] for _ in range(n)]
        log_probs = [[math.log(x / sum(row)) for x in row] for row in rows]
        starts = {t for t in range(n) if rng.random() < 0.3}
        best = max(_score(log_probs, tags) for tags in itertools.product(range(3), repeat=n) if _allowed(tags, starts))
        decoded = tuple(viterbi_bio(log_probs, starts))
        assert _allowed(decoded, starts) and abs(_score(log_probs, decoded) - best) < 1e-9
    assert viterbi_bio([]) == []
    # argmax would read "B O I" as two mentions; the joint decoding keeps one when O is barely ahead of I
    assert viterbi_bio([[math.log(0.1), math.log(0.8), math.log(0.1)], [math.log(0.45), math.log(0.1),
                        math.log(0.45)], [math.log(0.1), math.log(0.1), math.log(0.8)]]) == [1, 2, 2]


def test_mention_decoding_is_checked(tiny_encoder, real_docs, kb):
    config = RexelConfig(encoder=str(tiny_encoder), window=64, stride=16, hidden=32, mention_decoding="beam")
    with pytest.raises(ConfigError, match="mention_decoding 'beam'"):
        RexelModel(config, Vocabulary.from_documents(real_docs, ["P17"]), kb)


def test_adaptive_threshold_loss_and_prediction():
    logits = torch.tensor([[0.0, 2.0, -1.0], [0.0, -3.0, -2.0]], requires_grad=True)
    labels = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    loss = adaptive_threshold_loss(logits, labels)
    loss.backward()
    assert loss.item() > 0 and logits.grad is not None
    assert adaptive_threshold_predict(logits).tolist() == [[True, False], [False, False]]
    assert adaptive_threshold_predict(logits, margin=1.5).tolist() == [[True, False], [False, False]]
    assert adaptive_threshold_predict(logits, margin=2.0).tolist() == [[False, False], [False, False]]
    assert adaptive_threshold_predict(logits, margin=-2.5).tolist() == [[True, True], [False, True]]


def test_negative_pair_sampling_keeps_every_related_pair_and_the_asked_share_of_the_others():
    related = torch.zeros(700, dtype=torch.bool)
    related[torch.arange(3, 700, 28)] = True  # 25 related pairs of 700, as in a DWIE document
    assert sampled_pair_rows(related, 0).tolist() == list(range(700))  # 0: every pair, ATLOP's loss as is
    torch.manual_seed(0)
    rows = sampled_pair_rows(related, 2)
    assert set(torch.nonzero(related).flatten().tolist()) <= set(rows.tolist())
    assert len(rows) == 25 + 50 and rows.tolist() == sorted(set(rows.tolist()))
    torch.manual_seed(0)
    assert sampled_pair_rows(related, 2).tolist() == rows.tolist()  # the seed decides the sample
    none = torch.zeros(10, dtype=torch.bool)
    assert len(sampled_pair_rows(none, 3)) == 3  # no related pair: still a few unrelated ones to learn from
    assert len(sampled_pair_rows(related[:8], 8)) == 8  # 1 related, 8 unrelated asked, 7 there: all 8 pairs


def test_linear_of_concat_equals_the_layer_on_the_concatenation():
    torch.manual_seed(0)
    layer = torch.nn.Linear(2 * 5 + 3, 7)
    entities, pairs, context = torch.randn(4, 5), torch.tensor([[0, 1], [1, 0], [2, 3], [3, 3]]), torch.randn(4, 3)
    expected = layer(torch.cat([entities[pairs[:, 0]], entities[pairs[:, 1]], context], -1))
    got = linear_of_concat(layer, [(entities, pairs[:, 0]), (entities, pairs[:, 1]), (context, None)])
    assert torch.allclose(got, expected, atol=1e-6)
    with pytest.raises(ValueError, match="cover 10 input features, the layer takes 13"):
        linear_of_concat(layer, [(entities, pairs[:, 0]), (entities, pairs[:, 1])])


def test_localized_context_head_equals_atlop_pooling_written_per_pair():
    """The head gathers per-entity attention and projections; the logits equal ATLOP's pooling computed pair by
    pair (each pair's own softmaxes over the tokens, its own concatenations), gradients included."""
    torch.manual_seed(0)
    head = LocalizedContextRelationHead(hidden=16, n_relations=5, width=8)
    entities, tokens = torch.randn(6, 16, requires_grad=True), torch.randn(40, 16)
    pairs = torch.tensor([[i, j] for i in range(6) for j in range(6) if i != j])
    expected = []
    for h_index, t_index in pairs.tolist():
        h, t = entities[h_index], entities[t_index]
        weights = torch.softmax(tokens @ h / 4.0, 0) * torch.softmax(tokens @ t / 4.0, 0)
        context = (weights / weights.sum()) @ tokens
        zh = torch.tanh(head.head_proj(torch.cat([h, context])))
        zt = torch.tanh(head.tail_proj(torch.cat([t, context])))
        expected.append(head.classify(torch.cat([zh, zt, zh * zt])))
    expected = torch.stack(expected)
    got = head.fine(entities, tokens, pairs)
    assert torch.allclose(got, expected, atol=1e-5)
    (grad_got,) = torch.autograd.grad(got.sum(), entities)
    (grad_expected,) = torch.autograd.grad(expected.sum(), entities)
    assert torch.allclose(grad_got, grad_expected, atol=1e-5)


def test_linking_targets_gold_candidate_nil_or_nothing():
    found = [Candidate("Q183", 0.9), Candidate("Q1206012", 0.1)]
    assert link_target(Entity(mentions=(), type="LOC", qid="Q1206012"), found) == 2
    assert link_target(Entity(mentions=(), type="LOC", qid="Q64"), found) is None  # gold not among candidates
    assert link_target(Entity(mentions=(), type="LOC"), found) == 0  # no QID, no link: NIL
    assert link_target(Entity(mentions=(), type="LOC"), []) is None
    assert link_target(Entity(mentions=(), type="TIME"), found) is None  # dates are never linked
    # DWIE: a gold Wikipedia title without a known QID is an unknown link, not a NIL example
    assert link_target(Entity(mentions=(), type="type_location", link="Berlin"), found) is None


def test_the_batched_linking_loss_is_the_mean_of_each_mentions_cross_entropy(model, real_docs):
    """Training scores all mentions' candidates in one batch (padded, masked); the loss must be what scoring
    each mention alone gives: the mean cross-entropy over mentions with a known target."""
    checked = 0
    for doc in real_docs[:4]:
        prepared = model.prepare(doc)
        (encoded,) = model.encode([doc])
        mentions = span_embeddings(encoded.words, prepared.spans)
        fine_probs = torch.sigmoid(model.typing_head(mentions)[1])
        texts = [" ".join(doc.tokens[s:e]) for s, e in prepared.spans]
        terms = []
        for i, (text, owner) in enumerate(zip(texts, prepared.owner, strict=True)):
            found = model.candidates(text)
            target = link_target(doc.entities[owner], found)
            if found and target is not None:
                features, ids = model._candidate_tensors(found)
                logits = model.linking_head(mentions[i], fine_probs[i], features, ids)
                terms.append(torch.nn.functional.cross_entropy(logits.unsqueeze(0), torch.tensor([target])))
        expected = torch.stack(terms).mean() if terms else torch.tensor(0.0)
        assert torch.allclose(model.loss(prepared, encoded)["ed"], expected, atol=1e-6)
        checked += len(terms)
    assert checked > 20  # real mentions with candidates in the default KB were compared


def test_every_loss_is_finite_and_the_total_goes_down(model, real_docs):
    prepared = [model.prepare(d) for d in real_docs[:4]]
    encoded = model.encode([p.doc for p in prepared])
    heads = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
    optimizer = torch.optim.AdamW(heads, lr=3e-3)
    first = None
    for _ in range(25):
        parts = [model.loss(p, e) for p, e in zip(prepared, encoded, strict=True)]
        assert set(parts[0]) == {"md", "et", "ed", "coref", "rc"}
        assert all(torch.isfinite(v) for p in parts for v in p.values())
        total = torch.stack([model.weighted_loss(p) for p in parts]).mean()
        first = first if first is not None else total.item()
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
    assert total.item() < 0.7 * first
    assert all(p.grad is None for p in model.encoder.parameters())  # the frozen encoder is not trained


def test_prediction_is_well_formed_and_save_load_gives_identical_predictions(model, real_docs, kb, tmp_path):
    predictions = model.predict_documents(real_docs[:3])
    assert [p.id for p in predictions] == [d.id for d in real_docs[:3]]
    for pred, gold in zip(predictions, real_docs, strict=False):
        assert pred.sentences == gold.sentences
        for e in pred.entities:
            for m in e.mentions:
                assert 0 <= m.start < m.end <= len(pred.sentences[m.sent])
        assert all(0 <= r.head < len(pred.entities) and 0 <= r.tail < len(pred.entities) for r in pred.relations)
    model.save(tmp_path / "ckpt")
    assert (tmp_path / "ckpt" / "model.safetensors").exists()
    assert not any(k.startswith("encoder.") for k in model.trainable_state())
    again = RexelModel.load(tmp_path / "ckpt", kb).predict_documents(real_docs[:3])
    assert again == predictions


def test_lora_trains_only_adapters_and_heads_and_round_trips(tiny_encoder, real_docs, kb, tmp_path):
    torch.manual_seed(0)
    config = RexelConfig(encoder=str(tiny_encoder), window=64, stride=16, hidden=32, attention_heads=2,
                         lora_rank=4, lora_dropout=0.0)
    model = RexelModel(config, Vocabulary.from_documents(real_docs, ["P17", "P131"]), kb)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad and n.startswith("encoder.")}
    assert trainable and all(".lora_" in n for n in trainable)  # the base encoder stays frozen
    model.train()
    prepared = model.prepare(real_docs[0])
    adapters = [p for n, p in model.named_parameters() if n in trainable]
    optimizer = torch.optim.AdamW(adapters, lr=1e-2)
    for _ in range(2):  # LoRA's B starts at zero: one step moves B, the next sends gradient into A as well
        loss = model.weighted_loss(model.loss(prepared, model.encode([real_docs[0]])[0]))
        optimizer.zero_grad()
        loss.backward()
        assert all(p.grad is not None for p in adapters)
        optimizer.step()
    state = model.trainable_state()
    assert {k for k in state if k.startswith("encoder.")} == trainable  # adapters saved, frozen base not
    model.eval()
    predictions = model.predict_documents(real_docs[:2])
    model.save(tmp_path / "lora")
    again = RexelModel.load(tmp_path / "lora", kb)
    assert torch.equal(again.state_dict()[sorted(trainable)[0]], model.state_dict()[sorted(trainable)[0]])
    assert again.predict_documents(real_docs[:2]) == predictions


def test_config_rejects_unknown_keys(tmp_path):
    from rexel_bench.errors import ConfigError

    path = tmp_path / "c.yaml"
    path.write_text("epochs: 2\nlearning_rate: 0.1\n")
    with pytest.raises(ConfigError, match="learning_rate"):
        RexelConfig.from_yaml(path)
    path.write_text("loss_weights: {md: 1, rel: 2}\n")
    with pytest.raises(ConfigError, match="rel"):
        RexelConfig.from_yaml(path)
    assert replace(RexelConfig(), epochs=1).loss_weights.rc == 0.775


def test_a_model_split_over_several_wheels_is_assembled_once(tmp_path, monkeypatch):
    import io
    import zipfile
    from importlib import metadata
    from pathlib import PurePath

    from rexel_bench.models.rexel.config import encoder_directory

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tiny-model/config.json", "{}")
    blob = buffer.getvalue()
    parts = []
    for k, chunk in enumerate((blob[: len(blob) // 2], blob[len(blob) // 2:]), 1):
        path = tmp_path / f"model.zip.00{k}"
        path.write_bytes(chunk)

        class Part:
            def __init__(self, number: int, location) -> None:
                self.metadata = {"Name": f"tiny-model-part-00{number}"}
                self.files = [PurePath(location.name)]
                self.location = location

            def locate_file(self, name):
                return self.location
        parts.append(Part(k, path))
    monkeypatch.setattr(metadata, "distributions", lambda: iter(parts[::-1]))
    monkeypatch.setenv("REXEL_BENCH_CACHE", str(tmp_path / ".cache"))
    directory = encoder_directory("split-zip:tiny-model-part")
    assert directory == tmp_path / ".cache" / "encoders" / "tiny-model-part" / "tiny-model"
    assert (directory / "config.json").read_text() == "{}"
    with pytest.raises(ConfigError, match="no installed parts"):
        encoder_directory("split-zip:absent-model-part")


def test_a_registered_model_loads_another_checkpoint_by_spec(model, kb, tmp_path):
    from rexel_bench.models.base import load_model

    model.save(tmp_path / "other")
    loaded = load_model(f"rexel:{tmp_path / 'other'}", kb=kb.path)
    assert loaded.checkpoint == tmp_path / "other"
    assert loaded.model.config.hidden == 32  # the tiny model, not the default checkpoint
    with pytest.raises(ConfigError, match="no checkpoint"):
        load_model(f"rexel:{tmp_path / 'missing'}")


@pytest.fixture()
def trained_lora_checkpoint(tiny_encoder, real_docs, kb, tmp_path):
    """A LoRA checkpoint whose adapters are far from their zero start (random A and B), so that merging them
    changes the encoder's weights."""
    torch.manual_seed(0)
    config = RexelConfig(encoder=str(tiny_encoder), window=64, stride=16, hidden=32, attention_heads=2,
                         lora_rank=4, lora_dropout=0.0)
    model = RexelModel(config, Vocabulary.from_documents(real_docs, ["P17", "P131"]), kb)
    with torch.no_grad():
        for name, weight in model.named_parameters():
            if ".lora_" in name:
                weight.normal_(0, 0.5)
    return model.save(tmp_path / "lora")


def test_merged_lora_gives_the_adapters_numbers(trained_lora_checkpoint, real_docs, kb):
    adapters = RexelModel.load(trained_lora_checkpoint, kb)
    merged = RexelModel.load(trained_lora_checkpoint, kb)
    assert adapters.prepare_inference(merge_lora=False) == {"lora": "adapters", "quantize": None}
    assert merged.prepare_inference() == {"lora": "merged", "quantize": None}
    assert not any(".lora_" in name for name, _ in merged.named_parameters())
    plain = RexelModel.load(trained_lora_checkpoint, kb).encoder.model.get_base_model()
    merged_weight = dict(merged.encoder.model.named_parameters())["encoder.layer.0.attention.self.query.weight"]
    assert not torch.allclose(merged_weight, plain.encoder.layer[0].attention.self.query.weight)  # adapters folded in
    with torch.no_grad():
        for a, m in zip(adapters.encode(real_docs[:4]), merged.encode(real_docs[:4]), strict=True):
            torch.testing.assert_close(m.tokens, a.tokens, rtol=0, atol=1e-5)
            torch.testing.assert_close(merged.mention_head(m.words), adapters.mention_head(a.words), rtol=0,
                                       atol=1e-5)
    # the same decisions; a relation's score (rounded to 4 decimals) may differ in its last digit
    merged_docs, adapter_docs = merged.predict_documents(real_docs[:4]), adapters.predict_documents(real_docs[:4])
    assert [unscored(d) for d in merged_docs] == [unscored(d) for d in adapter_docs]
    for m, a in zip(merged_docs, adapter_docs, strict=True):
        assert all(abs(x.score - y.score) <= 2e-4 for x, y in zip(m.relations, a.relations, strict=True))


def unscored(doc):
    """The document with its relations' scores left out."""
    return replace(doc, relations=tuple(replace(r, score=None) for r in doc.relations))


def test_int8_is_opt_in_cpu_only_and_leaves_no_checkpoint_to_save(trained_lora_checkpoint, real_docs, kb, tmp_path):
    model = RexelModel.load(trained_lora_checkpoint, kb)
    with pytest.raises(ConfigError, match="CPU only"):
        model.prepare_inference(quantize="int8", device="cuda")
    with pytest.raises(ConfigError, match="unknown quantize option 'int4'"):
        model.prepare_inference(quantize="int4")
    assert model.prepare_inference(quantize="int8") == {"lora": "merged", "quantize": "int8"}
    layer = model.encoder.model.encoder.layer[0].attention.self.query
    assert isinstance(layer, torch.ao.nn.quantized.dynamic.Linear)
    assert len(model.predict_documents(real_docs[:2])) == 2
    with pytest.raises(ConfigError, match="cannot be saved"):
        model.save(tmp_path / "again")
