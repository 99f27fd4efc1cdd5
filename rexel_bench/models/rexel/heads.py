"""REXEL's five heads, all reading the one encoder pass.

- :class:`MentionHead`: BIO tagging of words (linear + cross-entropy); a mention's embedding is the
  mean of its words' embeddings.
- :class:`TypingHead`: coarse types (softmax) and fine Wikidata classes (multi-label sigmoid) from the
  mention embedding.
- :class:`LinkingHead`: scores NIL and each KB candidate from the mention embedding (matched against
  the candidate's classes), the agreement of the predicted fine types with those classes, the alias
  prior and popularity.
- :class:`CorefHead`: a pairwise mention scorer (embeddings, their product, and whether the two
  mentions got the same QID, the same type, the same text).
- :class:`RelationHead`: entity embeddings (log-sum-exp over mentions, as ATLOP); a coarse bilinear
  scorer prunes pairs, then for each kept pair a query built from head and tail attends over the
  document's tokens (cross-attention) and a classifier with an adaptive-threshold class (ATLOP) picks
  the relations.
"""

from __future__ import annotations

import math
from collections.abc import Collection

import torch
from torch import nn
from torch.nn import functional as F

BIO = ("O", "B", "I")


def linear_of_concat(layer: nn.Linear, blocks: list[tuple[torch.Tensor, torch.Tensor | None]]) -> torch.Tensor:
    """``layer(cat([values[index] for values, index in blocks], -1))`` without building the concatenation.

    A linear map of a concatenation is the sum of its weight's column blocks applied to each part, so a
    block indexed per pair (a head or tail entity, a mention) is projected once per entity or mention and
    then gathered, instead of once per pair: the pair heads then cost O(n) projections instead of O(n²).
    ``index`` None: the block is already one row per output row.
    """
    out = layer.bias
    start = 0
    for values, index in blocks:
        width = values.shape[-1]
        projected = values @ layer.weight[:, start:start + width].T
        out = out + (projected[index] if index is not None else projected)
        start += width
    if start != layer.in_features:
        raise ValueError(f"blocks cover {start} input features, the layer takes {layer.in_features}")
    return out


class MentionHead(nn.Module):
    """BIO tagging over word embeddings."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.classify = nn.Linear(hidden, len(BIO))

    def forward(self, words: torch.Tensor) -> torch.Tensor:
        """Logits ``[n_words, 3]``."""
        return self.classify(words)

    @staticmethod
    def decode(tags: list[int]) -> list[tuple[int, int]]:
        """Word spans ``[start, end)`` from BIO tags (an I without a B starts a mention)."""
        spans, start = [], None
        for i, tag in enumerate([*tags, 0]):
            if tag == 1 or (tag == 2 and start is None) or tag == 0:
                if start is not None:
                    spans.append((start, i))
                    start = None
                if tag in (1, 2):
                    start = i
        return spans


def viterbi_bio(log_probs: list[list[float]], sentence_starts: Collection[int] = ()) -> list[int]:
    """The most probable BIO tag sequence that BIO allows, from per-word ``[O, B, I]`` log-probabilities.

    Argmax tags may put an I after an O or at a sentence start (which :meth:`MentionHead.decode` then reads
    as a new mention); here I may only follow B or I and never opens a sentence, and the sequence with the
    largest summed log-probability among those is returned (ties: O before B before I). Decoding the
    sequence jointly keeps a mention whole where one word's tag alone is unsure.
    """
    if not log_probs:
        return []
    starts = set(sentence_starts) | {0}
    score = [log_probs[0][0], log_probs[0][1], -math.inf]
    back: list[tuple[int, int, int]] = []
    for t in range(1, len(log_probs)):
        o, b, i = log_probs[t]
        best = max(range(3), key=score.__getitem__)
        inside = 1 if score[1] >= score[2] else 2
        back.append((best, best, inside))
        score = [score[best] + o, score[best] + b, -math.inf if t in starts else score[inside] + i]
    tags = [max(range(3), key=score.__getitem__)]
    for pointers in reversed(back):
        tags.append(pointers[tags[-1]])
    return tags[::-1]


def span_embeddings(words: torch.Tensor, spans: list[tuple[int, int]]) -> torch.Tensor:
    """Mean word embedding of each ``[start, end)`` span: ``[n_spans, hidden]``."""
    if not spans:
        return words.new_zeros(0, words.shape[-1])
    return torch.stack([words[s:e].mean(0) for s, e in spans])


class TypingHead(nn.Module):
    """Coarse and fine types of mentions."""

    def __init__(self, hidden: int, n_coarse: int, n_fine: int, width: int) -> None:
        super().__init__()
        self.shared = nn.Sequential(nn.Linear(hidden, width), nn.GELU())
        self.coarse = nn.Linear(width, n_coarse)
        self.fine = nn.Linear(width, max(n_fine, 1))

    def forward(self, mentions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(coarse logits ``[n, n_coarse]``, fine logits ``[n, n_fine]``)."""
        h = self.shared(mentions)
        return self.coarse(h), self.fine(h)


CANDIDATE_FEATURES = 4  # prior, log prior, log popularity / 10, exact match


class LinkingHead(nn.Module):
    """NIL and candidate scores for one mention."""

    def __init__(self, hidden: int, n_fine: int, width: int) -> None:
        super().__init__()
        self.mention = nn.Linear(hidden, width)
        self.classes = nn.Embedding(max(n_fine, 1) + 1, width, padding_idx=0)  # 0: a class outside the vocabulary
        self.features = nn.Linear(CANDIDATE_FEATURES, 1)
        self.agreement = nn.Parameter(torch.tensor(1.0))
        self.nil = nn.Sequential(nn.Linear(hidden, width), nn.GELU(), nn.Linear(width, 1))

    def forward(self, mention: torch.Tensor, fine_probs: torch.Tensor, features: torch.Tensor,
                class_ids: torch.Tensor) -> torch.Tensor:
        """Logits ``[..., 1 + n_candidates]`` (index 0: NIL), for one mention or a batch of them.

        ``mention``: ``[..., hidden]``; ``fine_probs``: ``[..., n_fine]``; ``features``: ``[..., n_cand, 4]``;
        ``class_ids``: ``[..., n_cand, max_classes]`` (fine-vocabulary index + 1, 0 for padding or unknown).
        """
        m = self.mention(mention)
        known = (class_ids > 0).float()
        count = known.sum(-1).clamp(min=1)
        class_vectors = (self.classes(class_ids) * known.unsqueeze(-1)).sum(-2) / count.unsqueeze(-1)
        padded = torch.cat([fine_probs.new_zeros(*fine_probs.shape[:-1], 1), fine_probs], -1)
        probs = torch.gather(padded, -1, class_ids.flatten(-2)).view(class_ids.shape)  # predicted prob of each class
        agreement = (probs * known).sum(-1) / count
        scores = (class_vectors * m.unsqueeze(-2)).sum(-1) + self.features(features).squeeze(-1) + \
            self.agreement * agreement
        return torch.cat([self.nil(mention), scores], -1)


PAIR_FEATURES = 4  # same predicted QID, same predicted type, same text, same head word


class CorefHead(nn.Module):
    """Pairwise coreference logits."""

    def __init__(self, hidden: int, width: int) -> None:
        super().__init__()
        self.score = nn.Sequential(nn.Linear(3 * hidden + PAIR_FEATURES, width), nn.GELU(), nn.Linear(width, 1))

    def forward(self, mentions: torch.Tensor, pairs: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """Logits ``[n_pairs]`` for mention index pairs ``[n_pairs, 2]``."""
        first, second = pairs[:, 0], pairs[:, 1]
        hidden = linear_of_concat(self.score[0], [(mentions, first), (mentions, second),
                                                  (mentions[first] * mentions[second], None), (features, None)])
        return self.score[2](self.score[1](hidden)).squeeze(-1)


def entity_embeddings(mentions: torch.Tensor, clusters: list[list[int]]) -> torch.Tensor:
    """Log-sum-exp pooling of each cluster's mention embeddings (ATLOP): ``[n_entities, hidden]``."""
    return torch.stack([torch.logsumexp(mentions[c], dim=0) for c in clusters])


class RelationHead(nn.Module):
    """Coarse-to-fine document-level relation classification over entity pairs."""

    def __init__(self, hidden: int, n_relations: int, width: int, heads: int) -> None:
        super().__init__()
        self.coarse_head = nn.Linear(hidden, width)
        self.coarse_tail = nn.Linear(hidden, width)
        self.coarse_bias = nn.Parameter(torch.zeros(1))
        self.heads = heads
        self.query = nn.Linear(2 * hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, hidden)
        self.classify = nn.Sequential(nn.Linear(3 * hidden, width), nn.GELU(), nn.Linear(width, n_relations + 1))

    def coarse(self, entities: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        """Cheap bilinear "any relation" logits for pairs ``[n_pairs, 2]``."""
        h, t = self.coarse_head(entities)[pairs[:, 0]], self.coarse_tail(entities)[pairs[:, 1]]
        return (h * t).sum(-1) + self.coarse_bias

    def fine(self, entities: torch.Tensor, tokens: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        """Logits ``[n_pairs, 1 + n_relations]``; index 0 is the adaptive threshold class."""
        head, tail = pairs[:, 0], pairs[:, 1]
        size = entities.shape[-1] // self.heads
        query = linear_of_concat(self.query, [(entities, head), (entities, tail)]).view(len(pairs), self.heads, size)
        keys = self.key(tokens).view(-1, self.heads, size)  # [T, heads, d]: projected once for all pairs
        values = self.value(tokens).view(-1, self.heads, size)
        weights = torch.softmax(torch.einsum("phd,thd->pht", query, keys) / size ** 0.5, dim=-1)
        context = self.out(torch.einsum("pht,thd->phd", weights, values).reshape(len(pairs), -1))
        hidden = linear_of_concat(self.classify[0], [(entities, head), (entities, tail), (context, None)])
        return self.classify[2](self.classify[1](hidden))


class LocalizedContextRelationHead(nn.Module):
    """ATLOP-style pair classifier (used by the pipeline baseline): no coarse stage.

    Localized context pooling weighs tokens by the product of their affinity to the head and to the
    tail entity (ATLOP takes these weights from the encoder's attention maps; windowed encoding does
    not expose them, so they come from token–entity similarity here). The group bilinear layer is
    replaced by an MLP over ``[z_h, z_t, z_h ⊙ z_t]``; the adaptive-threshold class is kept.
    """

    def __init__(self, hidden: int, n_relations: int, width: int, heads: int = 0) -> None:
        super().__init__()
        self.head_proj = nn.Linear(2 * hidden, width)
        self.tail_proj = nn.Linear(2 * hidden, width)
        self.classify = nn.Sequential(nn.Linear(3 * width, width), nn.GELU(), nn.Linear(width, n_relations + 1))

    def coarse(self, entities: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        """No pruning: every pair is kept."""
        return entities.new_full((len(pairs),), 30.0)

    def fine(self, entities: torch.Tensor, tokens: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        """Logits ``[n_pairs, 1 + n_relations]`` with localized context.

        Each entity's attention over the tokens, and its share of the head and tail projections, are
        computed once per entity and gathered per pair (as :func:`linear_of_concat` does), so that a pair
        costs one weighted sum of the tokens instead of three products with them.
        """
        head, tail = pairs[:, 0], pairs[:, 1]
        affinity = torch.softmax(entities @ tokens.T / tokens.shape[-1] ** 0.5, -1)  # [n_entities, T]
        weights = affinity[head] * affinity[tail]
        context = (weights / weights.sum(-1, keepdim=True).clamp(min=1e-12)) @ tokens
        zh = torch.tanh(linear_of_concat(self.head_proj, [(entities, head), (context, None)]))
        zt = torch.tanh(linear_of_concat(self.tail_proj, [(entities, tail), (context, None)]))
        return self.classify(torch.cat([zh, zt, zh * zt], -1))


def adaptive_threshold_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """ATLOP's loss: gold relations rank above the threshold class (index 0), others below it.

    ``labels``: ``[n_pairs, 1 + n_relations]`` multi-hot, column 0 unused (set here).
    """
    labels = labels.clone()
    labels[:, 0] = 0
    positive_mask = labels + F.one_hot(torch.zeros(len(labels), dtype=torch.long, device=labels.device),
                                       labels.shape[1]).float()
    negative_mask = 1 - labels
    positive = -(F.log_softmax(logits - (1 - positive_mask) * 1e30, dim=-1) * labels).sum(-1)
    negative = -F.log_softmax(logits - (1 - negative_mask) * 1e30, dim=-1)[:, 0]
    return (positive + negative).mean()


def adaptive_threshold_predict(logits: torch.Tensor, margin: float = 0.0) -> torch.Tensor:
    """Multi-hot ``[n_pairs, n_relations]``: relations whose logit beats the threshold class by more than
    ``margin`` (0: ATLOP's rule; a positive margin trades recall for precision)."""
    return logits[:, 1:] > logits[:, :1] + margin
