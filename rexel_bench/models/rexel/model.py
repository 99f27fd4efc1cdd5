"""The REXEL model: one encoder pass, five chained heads, one weighted loss; save, load, predict.

Training (:meth:`RexelModel.loss`) feeds the downstream heads the gold mentions and entities
(``downstream_on_predicted`` switches coreference and relations to predicted mentions). Prediction
(:meth:`RexelModel.predict_documents`) chains the heads: mentions → types → links → clusters → relations.
Clustering: mention pairs whose coreference probability exceeds ``coref_threshold`` are joined, and
clusters are the connected components (union-find); the ED output enters through the pair feature
"same predicted QID". An entity's type and QID are the majority over its mentions.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn import functional as F

from rexel_bench.data import io as data_io
from rexel_bench.data.model import Document, Entity, FineType, Mention, Relation, majority
from rexel_bench.errors import ConfigError
from rexel_bench.kb.store import Candidate, KnowledgeBaseReader, open_kb
from rexel_bench.models.base import MAX_WORDS, as_documents, register, split_too_long
from rexel_bench.models.rexel.checkpoint import checkpoint_hash, encoder_hash, trained_parameters, training_kb_of
from rexel_bench.models.rexel.config import RexelConfig, encoder_directory
from rexel_bench.models.rexel.encoder import EncodedDocument, WindowedEncoder
from rexel_bench.models.rexel.heads import (
    CANDIDATE_FEATURES,
    CorefHead,
    LinkingHead,
    LocalizedContextRelationHead,
    MentionHead,
    RelationHead,
    TypingHead,
    adaptive_threshold_loss,
    adaptive_threshold_predict,
    entity_embeddings,
    span_embeddings,
    viterbi_bio,
)
from rexel_bench.models.rexel.targets import (
    PreparedDocument,
    Vocabulary,
    bio_labels,
    doc_spans,
    link_target,
    pair_blocks,
    sampled_pair_rows,
    span_texts,
)
from rexel_bench.resources import default_checkpoint
from rexel_bench.scoring.linking import is_value_type

MAX_CLASSES = 8  # classes per candidate fed to the linking head
#: Which losses train each head (a checkpoint keeps the heads whose losses have a non-zero weight).
HEAD_LOSSES = {"mention_head": ("md",), "typing_head": ("md", "et"), "linking_head": ("ed",),
               "coref_head": ("coref",), "relation_head": ("rc",)}


#: Pairs × tokens handled at once by the fine relation head's cross-attention.
ATTENTION_BLOCK = 4_000_000


@dataclass
class Detected:
    """Mentions found in one document: word spans, texts, coarse type ids, fine-type probabilities."""

    spans: list[tuple[int, int]]
    texts: list[str]
    coarse: list[int]
    fine_probs: torch.Tensor


class RexelModel(nn.Module):
    """Encoder plus the five heads."""

    def __init__(self, config: RexelConfig, vocab: Vocabulary, kb: KnowledgeBaseReader) -> None:
        super().__init__()
        self.config, self.vocab, self.kb = config, vocab, kb
        self.encoder = WindowedEncoder(encoder_directory(config.encoder), config.window, config.stride)
        if not config.train_encoder:
            self.encoder.requires_grad_(False)
        if config.lora_rank > 0:
            self.encoder.add_lora(config.lora_rank, config.lora_alpha, config.lora_dropout)
        hidden, width = self.encoder.hidden_size, config.hidden
        self.mention_head = MentionHead(hidden)
        self.typing_head = TypingHead(hidden, len(vocab.coarse), len(vocab.fine), width)
        self.linking_head = LinkingHead(hidden, len(vocab.fine), width)
        self.coref_head = CorefHead(hidden, width)
        heads = {"cross-attention": RelationHead, "localized-context": LocalizedContextRelationHead}
        if config.mention_decoding not in ("greedy", "viterbi"):
            raise ConfigError(f"unknown mention_decoding {config.mention_decoding!r}; choose greedy, viterbi")
        if config.relation_head not in heads:
            raise ConfigError(f"unknown relation_head {config.relation_head!r}; choose {', '.join(heads)}")
        self.relation_head = heads[config.relation_head](hidden, len(vocab.relations), width, config.attention_heads)
        self.fine_index = {q: i for i, q in enumerate(vocab.fine)}
        self.coarse_index = {t: i for i, t in enumerate(vocab.coarse)}
        self.relation_index = {r: i for i, r in enumerate(vocab.relations)}
        self._candidates: dict[str, list[Candidate]] = {}
        self._candidate_cache: dict[tuple[str, ...], tuple[torch.Tensor, torch.Tensor]] = {}
        self.timings: dict[str, float] = {"encoder": 0.0, "heads": 0.0}
        self.pruning = Counter()
        self.inference_form: dict[str, Any] = {}  # set by prepare_inference

    # --- shared pieces ------------------------------------------------------------------------
    def encode(self, docs: Sequence[Document]) -> list[EncodedDocument]:
        """One encoder pass per document (windows batched together)."""
        start = time.perf_counter()
        with torch.set_grad_enabled(self.config.encoder_trains and self.training):
            out = self.encoder([d.tokens for d in docs])
        self.timings["encoder"] += time.perf_counter() - start
        return out

    def candidates(self, text: str) -> list[Candidate]:
        """KB candidates of a surface form (cached)."""
        if text not in self._candidates:
            self._candidates[text] = self.kb.candidates(text, k=self.config.max_candidates)
        return self._candidates[text]

    def _candidate_tensors(self, found: list[Candidate]) -> tuple[torch.Tensor, torch.Tensor]:
        key = tuple((c.qid, c.prior, c.match) for c in found)
        if key not in self._candidate_cache:
            self._candidate_cache[key] = self._build_candidate_tensors(found)
        return self._candidate_cache[key]

    def _build_candidate_tensors(self, found: list[Candidate]) -> tuple[torch.Tensor, torch.Tensor]:
        features = torch.tensor([[c.prior, math.log(c.prior + 1e-6), math.log1p(c.popularity or 0.0) / 10,
                                  float(c.match == "exact")] for c in found])
        ids = torch.zeros(len(found), MAX_CLASSES, dtype=torch.long)
        for i, c in enumerate(found):
            known = [self.fine_index[q] + 1 for q in c.classes if q in self.fine_index][:MAX_CLASSES]
            ids[i, : len(known)] = torch.tensor(known, dtype=torch.long)
        assert features.shape[1] == CANDIDATE_FEATURES
        return features, ids

    def link_scores(self, mentions: torch.Tensor, fine_probs: torch.Tensor, found: Sequence[list[Candidate]]
                    ) -> tuple[torch.Tensor, list[int], list[str | None]]:
        """NIL + candidate logits of every mention that has candidates, in one batch: ``[n_rows, 1 + width]``
        (columns past a mention's candidates are -inf), the mention index of each row, and each mention's
        best QID (None: NIL or no candidate). Training and prediction both score links here."""
        rows = [i for i, f in enumerate(found) if f]
        qids: list[str | None] = [None] * len(found)
        if not rows:
            return mentions.new_zeros(0, 1), rows, qids
        width = max(len(found[i]) for i in rows)
        features = torch.zeros(len(rows), width, CANDIDATE_FEATURES)
        class_ids = torch.zeros(len(rows), width, MAX_CLASSES, dtype=torch.long)
        mask = torch.ones(len(rows), 1 + width, dtype=torch.bool)
        for r, i in enumerate(rows):
            f, ids = self._candidate_tensors(found[i])
            features[r, : len(found[i])], class_ids[r, : len(found[i])] = f, ids
            mask[r, 1 + len(found[i]):] = False
        logits = self.linking_head(mentions[rows], fine_probs[rows], features, class_ids).masked_fill(
            ~mask, float("-inf"))
        for r, best in enumerate(logits.argmax(-1).tolist()):
            qids[rows[r]] = found[rows[r]][best - 1].qid if best else None
        return logits, rows, qids

    @staticmethod
    def _mention_codes(texts: list[str], qids: list[str | None], types: list[int]) -> torch.Tensor:
        """``[n, 4]`` integer codes per mention — QID (-1: none), type, lower-cased text, head word — computed
        once per document, so that pair features are comparisons of two rows."""
        def codes(values: list) -> torch.Tensor:
            index: dict = {}
            return torch.tensor([index.setdefault(v, len(index)) for v in values], dtype=torch.long)

        lowered = [t.lower() for t in texts]
        qid_codes = torch.where(torch.tensor([q is not None for q in qids], dtype=torch.bool), codes(qids),
                                torch.full((len(qids),), -1, dtype=torch.long))
        return torch.stack([qid_codes, codes(types), codes(lowered),
                            codes([t.split()[-1] if t.split() else "" for t in lowered])], dim=1)

    @staticmethod
    def _pair_features(codes: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        """[same predicted QID, same type, same text, same head word] for each mention pair (vectorised)."""
        first, second = codes[pairs[:, 0]], codes[pairs[:, 1]]
        same = first == second
        same[:, 0] &= first[:, 0] >= 0
        return same.float()

    # --- training -----------------------------------------------------------------------------
    def prepare(self, doc: Document) -> PreparedDocument:
        """Gold spans and BIO labels of a training document."""
        spans, owner = doc_spans(doc)
        return PreparedDocument(doc, spans, owner, bio_labels(doc.num_tokens, spans))

    def loss(self, prepared: PreparedDocument, encoded: EncodedDocument) -> dict[str, torch.Tensor]:
        """Each head's loss on one document (gold mentions and entities downstream)."""
        doc, words = prepared.doc, encoded.words
        losses = {"md": F.cross_entropy(self.mention_head(words), prepared.bio)}
        spans = prepared.spans
        if self.config.downstream_on_predicted:
            predicted = self.mention_head.decode(self.mention_head(words).argmax(-1).tolist())
            spans = [s for s in predicted if s in set(prepared.spans)] or prepared.spans
        owner_of = dict(zip(prepared.spans, prepared.owner, strict=True))
        owners = [owner_of[s] for s in spans]
        mentions = span_embeddings(words, spans)
        coarse_logits, fine_logits = self.typing_head(mentions)
        entity_of = [doc.entities[o] for o in owners]
        types = torch.tensor([self.coarse_index.get(e.type or "", -100) for e in entity_of])
        losses["et"] = F.cross_entropy(coarse_logits, types, ignore_index=-100)
        fine_targets = torch.zeros_like(fine_logits)
        has_fine = torch.zeros(len(spans), dtype=torch.bool)
        for i, e in enumerate(entity_of):
            for f in e.fine_types:
                if f.qid in self.fine_index:
                    fine_targets[i, self.fine_index[f.qid]] = 1
                    has_fine[i] = True
        if has_fine.any():
            fine_loss = F.binary_cross_entropy_with_logits(fine_logits[has_fine], fine_targets[has_fine])
            losses["et"] = losses["et"] + fine_loss
        fine_probs = torch.sigmoid(fine_logits)
        texts = span_texts(doc, spans)
        weights = self.config.loss_weights
        needs_links = weights.ed > 0 or (weights.coref > 0 and self.config.coref_uses_links)
        # a single-task stage skips the heads it does not train
        found = [self.candidates(t) for t in texts] if needs_links else [[] for _ in texts]
        link_logits, rows, predicted_qids = self.link_scores(mentions, fine_probs, found)
        targets = [(r, link_target(entity_of[i], found[i])) for r, i in enumerate(rows)]
        targets = [(r, t) for r, t in targets if t is not None]
        losses["ed"] = F.cross_entropy(link_logits[[r for r, _ in targets]], torch.tensor([t for _, t in targets])) \
            if targets else words.new_zeros(())
        n = len(spans)
        if n > 1 and weights.coref > 0:
            pairs = torch.combinations(torch.arange(n), 2)
            link_feature = predicted_qids if self.config.coref_uses_links else [None] * n
            feats = self._pair_features(self._mention_codes(texts, link_feature, coarse_logits.argmax(-1).tolist()),
                                        pairs)
            same = torch.tensor([float(owners[i] == owners[j]) for i, j in pairs.tolist()])
            losses["coref"] = F.binary_cross_entropy_with_logits(self.coref_head(mentions, pairs, feats), same)
        else:
            losses["coref"] = words.new_zeros(())
        losses["rc"] = self._relation_loss(doc, mentions, owners, encoded.tokens) if weights.rc > 0 else \
            words.new_zeros(())
        return losses

    def _relation_loss(self, doc: Document, mentions: torch.Tensor, owners: list[int], tokens: torch.Tensor
                       ) -> torch.Tensor:
        present = sorted(set(owners))
        if len(present) < 2:
            return mentions.new_zeros(())
        position = {e: k for k, e in enumerate(present)}
        clusters = [[i for i, o in enumerate(owners) if o == e] for e in present]
        entities = entity_embeddings(mentions, clusters)
        pairs = torch.tensor([(a, b) for a in range(len(present)) for b in range(len(present)) if a != b])
        labels = torch.zeros(len(pairs), 1 + len(self.vocab.relations))
        row = {tuple(p): k for k, p in enumerate(pairs.tolist())}
        for rel in doc.relations:
            if rel.head in position and rel.tail in position and rel.head != rel.tail and \
                    rel.label in self.relation_index:  # a relation of an entity with itself has no pair
                labels[row[(position[rel.head], position[rel.tail])], 1 + self.relation_index[rel.label]] = 1
        has = labels[:, 1:].sum(-1) > 0
        coarse = F.binary_cross_entropy_with_logits(self.relation_head.coarse(entities, pairs), has.float()) \
            if isinstance(self.relation_head, RelationHead) else entities.new_zeros(())
        rows = sampled_pair_rows(has, self.config.rc_negatives_per_positive)
        fine = adaptive_threshold_loss(self.relation_head.fine(entities, tokens, pairs[rows]), labels[rows])
        return coarse + fine

    def forward(self, prepared: Sequence[PreparedDocument], encoded: Sequence[EncodedDocument] | None = None
                ) -> tuple[torch.Tensor, list[dict[str, torch.Tensor]]]:
        """The training step's forward pass: the mean weighted loss over a batch, and each document's loss parts.

        Documents are encoded here unless their (frozen) encoder output is given. Training goes through this
        method, not :meth:`loss` directly, so that a DistributedDataParallel wrapper synchronises gradients.
        """
        if encoded is None:
            encoded = self.encode([p.doc for p in prepared])
        parts = [self.loss(p, e) for p, e in zip(prepared, encoded, strict=True)]
        return torch.stack([self.weighted_loss(p) for p in parts]).mean(), parts

    def weighted_loss(self, losses: dict[str, torch.Tensor]) -> torch.Tensor:
        """The paper's weighted sum of the five losses."""
        w = self.config.loss_weights
        return w.md * losses["md"] + w.et * losses["et"] + w.ed * losses["ed"] + w.coref * losses["coref"] + \
            w.rc * losses["rc"]

    # --- prediction ---------------------------------------------------------------------------
    @torch.no_grad()  # not inference_mode: tensors cached while predicting on dev are reused in training
    def predict_documents(self, docs: Sequence[Document], batch_size: int = 8) -> list[Document]:
        """Mentions, entities (types, QIDs, fine types) and relations for each document."""
        self.eval()
        out = []
        for start in range(0, len(docs), batch_size):
            batch = docs[start:start + batch_size]
            out += self.predict_encoded(batch, self.encode(batch))
        return out

    def predict_encoded(self, docs: Sequence[Document], encoded: Sequence[EncodedDocument]) -> list[Document]:
        """The heads' predictions for documents already encoded (timed as heads)."""
        began = time.perf_counter()
        out = [self._predict_one(d, e) for d, e in zip(docs, encoded, strict=True)]
        self.timings["heads"] += time.perf_counter() - began
        return out

    def _sentence_spans(self, doc: Document, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Cut predicted spans at sentence boundaries (a mention lies inside one sentence)."""
        starts = set(doc.sentence_starts)
        out = []
        for s, e in spans:
            cut = next((k for k in range(s + 1, e) if k in starts), e)
            out.append((s, cut))
        return out

    def detect(self, doc: Document, encoded: EncodedDocument) -> Detected:
        """Mention spans, their coarse types and fine-type probabilities."""
        words = encoded.words
        logits = self.mention_head(words)
        tags = (viterbi_bio(torch.log_softmax(logits, -1).tolist(), doc.sentence_starts)
                if self.config.mention_decoding == "viterbi" else logits.argmax(-1).tolist())
        spans = self._sentence_spans(doc, self.mention_head.decode(tags))
        mentions = span_embeddings(words, spans)
        coarse_logits, fine_logits = self.typing_head(mentions)
        return Detected(spans, span_texts(doc, spans), coarse_logits.argmax(-1).tolist(),
                        torch.sigmoid(fine_logits))

    def link(self, detected: Detected, mentions: torch.Tensor) -> list[str | None]:
        """The QID (or None for NIL, numbers and dates) of each detected mention, all mentions in one batch."""
        found = [[] if is_value_type(self.vocab.coarse[c]) else self.candidates(t)
                 for t, c in zip(detected.texts, detected.coarse, strict=True)]
        return self.link_scores(mentions, detected.fine_probs, found)[2]

    def assemble(self, doc: Document, detected: Detected, qids: list[str | None], clusters: list[list[int]],
                 relations: list[Relation]) -> Document:
        """The predicted document from the steps' outputs."""
        coarse = [self.vocab.coarse[c] for c in detected.coarse]
        entities = []
        for cluster in clusters:
            mention_objs = []
            for i in cluster:
                start, end = detected.spans[i]
                sent, offset = doc.to_sent_offset(start)
                mention_objs.append(Mention(sent, offset, offset + end - start, detected.texts[i], type=coarse[i],
                                            qid=qids[i]))
            probs = detected.fine_probs[cluster].mean(0)[: len(self.vocab.fine)].tolist()  # no fine types: no column
            fine = tuple(FineType(self.vocab.fine[k], self.vocab.fine_labels.get(self.vocab.fine[k], ""), round(p, 4))
                         for k, p in enumerate(probs) if p > 0.5)
            entities.append(Entity(mentions=tuple(mention_objs), type=majority(coarse[i] for i in cluster),
                                   qid=majority(qids[i] for i in cluster), fine_types=fine))
        return Document(id=doc.id, title=doc.title, sentences=doc.sentences, entities=tuple(entities),
                        relations=tuple(relations), meta={"format": "jsonl"})

    def _predict_one(self, doc: Document, encoded: EncodedDocument) -> Document:
        """REXEL's chain on one encoding: mentions → types → links → clusters → relations."""
        detected = self.detect(doc, encoded)
        if not detected.spans:
            return self.assemble(doc, detected, [], [], [])
        mentions = span_embeddings(encoded.words, detected.spans)
        qids = self.link(detected, mentions)
        clusters = self.cluster(mentions, detected.texts, qids, detected.coarse)
        return self.assemble(doc, detected, qids, clusters, self.relate(mentions, clusters, encoded.tokens))

    def cluster(self, mentions: torch.Tensor, texts: list[str], qids: list[str | None], coarse: list[int]
                ) -> list[list[int]]:
        """Connected components of the mention pairs whose coreference probability passes the threshold.

        Only pairs of mentions with the same predicted coarse type are scored (the others never corefer in
        the training data often enough to pay for scoring every pair). Pairs are scored in blocks of at
        most :data:`PAIR_BLOCK`, so memory stays bounded however many mentions a document has.
        """
        n = len(texts)
        parent = list(range(n))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        types = torch.tensor(coarse)
        codes = self._mention_codes(texts, qids if self.config.coref_uses_links else [None] * n, coarse)
        for pairs in pair_blocks(n, ordered=False):
            pairs = pairs[types[pairs[:, 0]] == types[pairs[:, 1]]]  # only mentions of the same predicted type corefer
            if len(pairs):
                probs = torch.sigmoid(self.coref_head(mentions, pairs, self._pair_features(codes, pairs)))
                for i, j in pairs[probs > self.config.coref_threshold].tolist():
                    parent[find(i)] = find(j)
        groups: dict[int, list[int]] = {}
        for i in range(n):
            groups.setdefault(find(i), []).append(i)
        return sorted(groups.values())

    def relate(self, mentions: torch.Tensor, clusters: list[list[int]], tokens: torch.Tensor) -> list[Relation]:
        """Relations between clusters: coarse pruning, then the fine classifier on the kept pairs.

        Both stages run in blocks (the fine stage's cross-attention sized by the document's length), so
        memory stays bounded however many entities and tokens a document has.
        """
        if len(clusters) < 2:
            return []
        entities = entity_embeddings(mentions, clusters)
        relations = []
        for pairs in pair_blocks(len(clusters), ordered=True):
            keep = torch.sigmoid(self.relation_head.coarse(entities, pairs)) >= self.config.coarse_threshold
            self.pruning["pairs"] += len(pairs)
            self.pruning["kept"] += int(keep.sum())
            kept_pairs = pairs[keep]
            step = max(1, ATTENTION_BLOCK // max(1, len(tokens)))
            for start in range(0, len(kept_pairs), step):
                relations += self._classify(entities, tokens, kept_pairs[start:start + step])
        return relations

    def relation_decision(self) -> dict[str, Any]:
        """The relation head and the thresholds its predictions pass, for reports: two checkpoints of one
        architecture can differ only there (the coarse threshold applies to the pruning head only)."""
        prunes = self.config.relation_head == "cross-attention"
        return {"head": self.config.relation_head, "coarse_threshold": self.config.coarse_threshold if prunes else None,
                "margin": self.config.relation_margin}

    def _classify(self, entities: torch.Tensor, tokens: torch.Tensor, kept: torch.Tensor) -> list[Relation]:
        logits = self.relation_head.fine(entities, tokens, kept)
        chosen = adaptive_threshold_predict(logits, self.config.relation_margin)
        rows, labels = torch.nonzero(chosen, as_tuple=True)  # only the predicted (pair, relation) cells
        scores = logits[:, 1:][rows, labels].tolist()
        heads_tails = kept[rows].tolist()
        return [Relation(h, t, self.vocab.relations[r], evidence=None, score=round(score, 4))
                for (h, t), r, score in zip(heads_tails, labels.tolist(), scores, strict=True)]

    # --- persistence --------------------------------------------------------------------------
    def trained_heads(self) -> set[str]:
        """Heads with a non-zero loss weight (a single-task pipeline stage trains only some)."""
        weights = dataclasses.asdict(self.config.loss_weights)
        return {head for head, losses in HEAD_LOSSES.items() if any(weights[k] > 0 for k in losses)}

    def is_trained_weight(self, key: str) -> bool:
        """Whether a state-dict key is a weight training changed: a trained head's, the encoder's when it was
        fine-tuned, or a LoRA adapter's."""
        top = key.split(".")[0]
        if top == "encoder":
            return self.config.train_encoder or (self.config.lora_rank > 0 and ".lora_" in key)
        return top in self.trained_heads()

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """Weights a checkpoint must hold (see :meth:`is_trained_weight`); the frozen encoder comes from its
        own directory."""
        return {k: v.detach().contiguous() for k, v in self.state_dict().items() if self.is_trained_weight(k)}

    def prepare_inference(self, *, merge_lora: bool = True, quantize: str | None = None, device: str = "cpu"
                          ) -> dict[str, Any]:
        """Put the model in its inference form and say which: LoRA adapters merged into the encoder's weights
        (same function, fewer products), and optionally the encoder's linear layers quantized to int8 (CPU
        only; it changes the numbers, so it is opt-in and reported). Such a model can no longer be saved."""
        if quantize not in QUANTIZATIONS:
            raise ConfigError(f"unknown quantize option {quantize!r}; choose {', '.join(map(str, QUANTIZATIONS))}")
        if quantize and device != "cpu":
            raise ConfigError(f"int8 dynamic quantization runs on the CPU only, not on {device!r}; use --device cpu")
        self.eval()
        merged = merge_lora and self.encoder.merge_lora()
        if quantize == "int8":
            self.encoder.quantize_int8()
        self.inference_form = {"lora": "merged" if merged else ("adapters" if self.config.lora_rank else "none"),
                               "quantize": quantize}
        return self.inference_form

    def save(self, directory: str | Path, extra: dict[str, Any] | None = None) -> Path:
        """Write config.json, vocab.json and model.safetensors atomically (a staged folder, then renamed)."""
        if self.inference_form:
            raise ConfigError(f"a model prepared for inference ({self.inference_form}) cannot be saved as a checkpoint")
        directory = Path(directory)
        with data_io.staged_directory(directory, marker="config.json") as staging:
            save_file(self.trainable_state(), str(staging / "model.safetensors"))
            (staging / "config.json").write_text(json.dumps({**self.config.to_dict(), **(extra or {})}, indent=1))
            (staging / "vocab.json").write_text(json.dumps(self.vocab.to_dict(), indent=1))
        return directory

    @classmethod
    def load(cls, directory: str | Path, kb: KnowledgeBaseReader) -> RexelModel:
        """Load a checkpoint written by :meth:`save`.

        Its ``config.json`` must state every setting: one that lacks a setting (written by an older version)
        is refused rather than completed with today's default, which may not be what it was trained with.
        """
        directory = Path(directory)
        if not (directory / "model.safetensors").exists():
            raise ConfigError("not a REXEL checkpoint (no model.safetensors)", file=str(directory))
        values = json.loads((directory / "config.json").read_text())
        absent = sorted(set(RexelConfig.__dataclass_fields__) - set(values))
        if absent:
            raise ConfigError(f"config.json lacks the setting(s) {absent}; add each with the value the checkpoint "
                              "was trained with (a missing setting is not filled with today's default)",
                              file=str(directory / "config.json"))
        config = RexelConfig.from_dict({k: v for k, v in values.items() if k in RexelConfig.__dataclass_fields__})
        vocab = Vocabulary(**json.loads((directory / "vocab.json").read_text()))
        model = cls(config, vocab, kb)
        missing, unexpected = model.load_state_dict(load_file(str(directory / "model.safetensors")), strict=False)
        if unexpected or any(model.is_trained_weight(k) for k in missing):
            raise ConfigError(f"checkpoint does not fit the model (missing {missing[:3]}, unexpected {unexpected[:3]})",
                              file=str(directory))
        return model


#: ``quantize`` options of :meth:`RexelModel.prepare_inference`: none (fp32) or dynamic int8 on CPU.
QUANTIZATIONS = (None, "int8")
DEFAULT_CHECKPOINT = default_checkpoint("rexel")


@register("rexel")
class Rexel:
    """The registered ``rexel`` model: a checkpoint plus a KB, behind the common ``predict`` interface.

    Options: ``checkpoint``, ``kb``, ``batch_size``, ``device``, ``max_words`` (longer documents are skipped,
    with why), ``merge_lora`` (default true: adapters folded into the encoder at load time) and ``quantize``
    (``int8``: dynamic int8 encoder on CPU, opt-in; ``benchmarks/bench_run.py`` measures its speed and F1).
    """

    def __init__(self, checkpoint: str | Path | None = None, kb: str | Path | None = None, batch_size: int = 8,
                 device: str = "cpu", max_words: int = MAX_WORDS, merge_lora: bool = True,
                 quantize: str | None = None) -> None:
        from rexel_bench.kb.build import default_kb_path

        self.checkpoint = Path(checkpoint) if checkpoint else DEFAULT_CHECKPOINT
        self.kb = open_kb(kb or default_kb_path())
        self.model = RexelModel.load(self.checkpoint, self.kb).to(device)
        self.model.prepare_inference(merge_lora=merge_lora, quantize=quantize, device=device)
        self.batch_size = batch_size
        self.max_words = max_words
        self.name = "rexel"
        self.skipped: dict[str, str] = {}

    @property
    def timings(self) -> dict[str, float]:
        """Seconds spent in the encoder and in the heads so far."""
        return self.model.timings

    @torch.inference_mode()
    def predict(self, docs: Sequence[Document | str]) -> list[Document]:
        """Predict every subtask for each document or text (documents over ``max_words`` are skipped, with why).

        Runs in inference mode, as the pipeline does: this model is never trained, so no tensor it caches
        needs autograd (training's own dev predictions go through ``predict_documents`` under ``no_grad``).
        """
        kept, skipped = split_too_long(as_documents(docs), self.max_words, self.name)
        self.skipped.update(skipped)
        return self.model.predict_documents(kept, self.batch_size)

    def describe(self) -> dict[str, Any]:
        """Checkpoint, its hash, encoder, sizes, inference form (LoRA merged, quantization), relation decision,
        coreference threshold and mention decoding."""
        return {"name": self.name, "checkpoint": str(self.checkpoint), "sha256": checkpoint_hash(self.checkpoint),
                "encoder": self.model.config.encoder, "encoder_sha256": encoder_hash(self.model.config.encoder),
                "trained_parameters": trained_parameters(self.checkpoint),
                "encoder_passes": 1,
                "inference": self.model.inference_form, "relations": self.model.relation_decision(),
                "coref_threshold": self.model.config.coref_threshold,
                "mention_decoding": self.model.config.mention_decoding,
                "kb": self.kb.location, "kb_sha256": self.kb.content_hash,
                "training_kb": training_kb_of(self.checkpoint), "pruning": dict(self.model.pruning)}
