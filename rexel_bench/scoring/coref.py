"""Coreference: MUC, B³, CEAFm, CEAFe, BLANC, LEA and the CoNLL average, on predicted mentions.

Conventions are those of the CoNLL-2012 reference scorer v8.01 (Pradhan et al. 2014,
``conll/reference-coreference-scorers``, ``lib/CorScorer.pm``; LEA from its ``LEA-scorer`` branch):
- mentions are identified by exact span; singletons are kept (key and response);
- repeats (the same span listed twice) are treated exactly as v8.01 treats them (see
  :func:`conll_chains`): a repeated key mention stays in the key at every occurrence; a repeated
  response mention is removed only when it is a key mention (the first occurrence stays), a repeated
  response mention that is not in the key stays at every occurrence; every metric then counts the
  chains as v8.01 does, position by position;
- twinless mentions (in one side only): MUC follows Cai & Strube (2010) as v8.01 does — which, for
  MUC's link counts, equals the plain definition; B³, CEAF, BLANC and LEA use the original chains, so
  a twinless response mention lowers precision and a missed key mention lowers recall;
- corpus scores sum numerators and denominators over documents (micro), as the scorer does.

Differences on purpose: v8.01's result depends on the order of entities when one span is listed in
two different entities (which response entity keeps it; which key entity ``Indexa`` points at);
rexel-bench reads both sides in :func:`~rexel_bench.scoring.base.canonical_order` (mentions sorted,
entities sorted by their mentions) so that scores never depend on order, and equals v8.01 on that
order. v8.01 refuses to score a file with more than 10 repeated response mentions; rexel-bench scores
it and reports how many repeats it saw.

BLANC follows Luo et al. (2014) for predicted mentions, with the v8.01 special cases: when the key has
no coreference links (only singletons) BLANC is the non-coreference F; when it has no
non-coreference links, the coreference F; when neither, 0. LEA (Moosavi & Strube 2016) counts a
singleton's self-link, resolved when the mention is a singleton in the other side too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from rexel_bench.perf import cached_value
from rexel_bench.scoring.assignment import max_weight_matching
from rexel_bench.scoring.base import DocPair, Metric, Span, canonical_order, f1, prf, ratio

Clusters = list[list[Span]]


@dataclass(frozen=True)
class Chains:
    """Key and response chains as the v8.01 scorer builds them from a document pair.

    ``key`` holds every gold entity's mentions, a repeated span kept at each occurrence; ``response``
    holds the predicted entities after v8.01's clean-up: a response mention that is a key mention and
    was already seen is removed (the first occurrence in canonical order stays), a repeated response
    mention that is not in the key stays at each occurrence, and entities left empty are dropped.
    ``key_index`` / ``response_index`` map a span to the last chain that holds it (v8.01's ``Indexa``).
    """

    key: Clusters
    response: Clusters
    key_index: dict[Span, int]
    response_index: dict[Span, int]
    repeats: bool

    @cached_value
    def table(self) -> Counter[tuple[int, int]]:
        """For each key chain i and response chain j: how many positions of key chain i hold a span
        of response chain j (a key span is in at most one response chain after the clean-up)."""
        return Counter({(i, j): n for i, groups in enumerate(self.key_groups) for j, n in groups.items()})

    @cached_value
    def response_groups(self) -> list[dict[int, int]]:
        """For each response chain, how many of its positions each key chain holds (MUC, B³ and LEA read it)."""
        return [_grouped(chain, self.key_index) for chain in self.response]

    @cached_value
    def key_groups(self) -> list[dict[int, int]]:
        """For each key chain, how many of its positions each response chain holds."""
        return [_grouped(chain, self.response_index) for chain in self.key]


def _index(chains: Clusters) -> dict[Span, int]:
    return {m: i for i, chain in enumerate(chains) for m in chain}


def conll_chains(key_entities: Clusters, response_entities: Clusters) -> Chains:
    """The chains every coreference metric reads, following the CoNLL-2012 scorer v8.01.

    A side that repeats a span is first put in :func:`canonical_order`, so that the result does not
    depend on the order of mentions or entities; without repeats v8.01 does not depend on order.
    """
    key = [chain for chain in _ordered(key_entities) if chain]
    key_index = _index(key)
    response = [chain for chain in _ordered(response_entities) if chain]
    response_index = _index(response)
    if len(response_index) == sum(map(len, response)):  # no span repeats in the response: nothing to clean up
        return Chains(key, response, key_index, response_index, len(key_index) < sum(map(len, key)))
    seen: set[Span] = set()
    cleaned = []
    for entity in response:
        chain = []
        for m in entity:
            if m in seen:
                continue
            if m in key_index:
                seen.add(m)
            chain.append(m)
        if chain:
            cleaned.append(chain)
    return Chains(key, cleaned, key_index, _index(cleaned), True)


def _ordered(entities: Clusters) -> Clusters:
    """The canonical order where a span repeats; otherwise the order given (then v8.01 does not depend on it)."""
    n = sum(map(len, entities))
    return canonical_order(entities) if len({m for e in entities for m in e}) < n else entities


def _chains(pair: DocPair) -> Chains:
    def build(p: DocPair) -> Chains:
        return conll_chains([[m.span for m in e.mentions] for e in p.gold.entities],
                            [[m.span for m in e.mentions] for e in p.pred.entities])
    return pair.memo("coref", build)


def _grouped(chain: list[Span], index: dict[Span, int]) -> dict[int, int]:
    """How many positions of a chain the other side's index puts in each of its chains."""
    out: dict[int, int] = {}
    for m in chain:
        i = index.get(m)
        if i is not None:
            out[i] = out.get(i, 0) + 1
    return out


def muc_counts_of(chains: Chains) -> tuple[float, ...]:
    """MUC: correct links over key links (recall) and response links (precision)."""
    correct = sum(n - 1 for groups in chains.response_groups for n in groups.values())
    return (correct, sum(len(r) - 1 for r in chains.response), correct, sum(len(k) - 1 for k in chains.key))


def b3_counts_of(chains: Chains) -> tuple[float, ...]:
    """B³ as v8.01 computes it: for every response position, the response chain's positions found in
    that mention's key chain, over the response chain's size (precision) and the key chain's (recall)."""
    key_sets = [set(k) for k in chains.key] if chains.repeats else []
    p_num = r_num = 0.0
    for chain, groups in zip(chains.response, chains.response_groups, strict=True):
        for c, n in groups.items():
            common = sum(m in key_sets[c] for m in chain) if chains.repeats else n
            p_num += n * common / len(chain)
            r_num += n * common / len(chains.key[c])
    return p_num, sum(map(len, chains.response)), r_num, sum(map(len, chains.key))


def _ceaf(chains: Chains, entity_based: bool) -> tuple[float, ...]:
    key, response, table = chains.key, chains.response, chains.table
    if entity_based:
        p_den, r_den = len(response), len(key)
    else:
        p_den, r_den = sum(map(len, response)), sum(map(len, key))
    if not table:
        return 0.0, p_den, 0.0, r_den
    similarity = {(i, j): 2 * n / (len(key[i]) + len(response[j])) if entity_based else float(n)
                  for (i, j), n in table.items()}
    best = max_weight_matching(similarity)
    return best, p_den, best, r_den


def ceafe_counts_of(chains: Chains) -> tuple[float, ...]:
    """CEAFe: optimal entity alignment with φ4 = 2|k∩r| / (|k| + |r|), over entity counts."""
    return _ceaf(chains, entity_based=True)


def ceafm_counts_of(chains: Chains) -> tuple[float, ...]:
    """CEAFm: optimal entity alignment with φ3 = |k∩r|, over mention counts."""
    return _ceaf(chains, entity_based=False)


def _lea_side(chains: Clusters, groups: list[dict[int, int]], other: Clusters, other_index: dict[Span, int]
              ) -> tuple[float, float]:
    num = den = 0.0
    for chain, grouped in zip(chains, groups, strict=True):
        size = len(chain)
        if size == 1:
            j = other_index.get(chain[0])
            resolved = 1.0 if j is not None and len(other[j]) == 1 else 0.0
        else:
            resolved = sum(map(_link_count, grouped.values())) / _link_count(size)
        num += size * resolved
        den += size
    return num, den


def lea_counts_of(chains: Chains) -> tuple[float, ...]:
    """LEA: each entity weighted by its size, credited with the share of its links it resolves."""
    r_num, r_den = _lea_side(chains.key, chains.key_groups, chains.response, chains.response_index)
    p_num, p_den = _lea_side(chains.response, chains.response_groups, chains.key, chains.key_index)
    return p_num, p_den, r_num, r_den


def _links(chains: list[list[int]], size: int) -> tuple[set[int], set[int]]:
    """v8.01's BLANC link sets over span ids below ``size``: coreference links within chains,
    non-coreference links across them (a repeated span gives self-links, kept as the reference keeps
    them). A link is an unordered pair of ids, written as one number."""
    def link(a: int, b: int) -> int:
        return a * size + b if a <= b else b * size + a
    coref = {link(c[p], c[q]) for c in chains for p in range(len(c)) for q in range(p + 1, len(c))}
    non_coref = {link(a, b) for x in range(len(chains)) for y in range(x + 1, len(chains))
                 for a in chains[x] for b in chains[y]}
    return coref, non_coref


def _blanc_with_repeats(chains: Chains) -> tuple[float, ...]:
    ids = {span: i for i, span in enumerate({*chains.key_index, *chains.response_index})}
    key_c, key_n = _links([[ids[m] for m in c] for c in chains.key], len(ids))
    resp_c, resp_n = _links([[ids[m] for m in c] for c in chains.response], len(ids))
    both_c, both_n = len(key_c & resp_c), len(key_n & resp_n)
    return both_c, len(key_c), both_c, len(resp_c), both_n, len(key_n), both_n, len(resp_n)


def _link_count(n: int) -> int:
    """Links among n positions: n choose 2."""
    return n * (n - 1) // 2


def blanc_counts_of(chains: Chains) -> tuple[float, ...]:
    """BLANC link counts: (C_k∩C_r, |C_k|, C_k∩C_r, |C_r|, N_k∩N_r, |N_k|, N_k∩N_r, |N_r|).

    Recall counts first within each pair, as the reference scorer returns them. Without repeated
    spans the counts have a closed form; with them, the link sets are built as v8.01 builds them.
    """
    if chains.repeats:
        return _blanc_with_repeats(chains)
    key_sizes, resp_sizes = list(map(len, chains.key)), list(map(len, chains.response))
    key_c, resp_c = sum(map(_link_count, key_sizes)), sum(map(_link_count, resp_sizes))
    key_n = _link_count(sum(key_sizes)) - key_c
    resp_n = _link_count(sum(resp_sizes)) - resp_c
    # positions of each key chain found in the response, and of each response chain found in the key
    in_key = [sum(groups.values()) for groups in chains.key_groups]
    in_resp = [sum(groups.values()) for groups in chains.response_groups]
    both_c = sum(_link_count(n) for groups in chains.key_groups for n in groups.values())
    both_n = (_link_count(sum(in_key)) - sum(map(_link_count, in_key)) - sum(map(_link_count, in_resp)) + both_c)
    return both_c, key_c, both_c, resp_c, both_n, key_n, both_n, resp_n


def blanc_aggregate(totals: np.ndarray) -> dict[str, np.ndarray]:
    """BLANC from summed link counts, with the reference scorer's special cases."""
    totals = np.asarray(totals, dtype=float)
    rc, pc = ratio(totals[..., 0], totals[..., 1]), ratio(totals[..., 2], totals[..., 3])
    rn, pn = ratio(totals[..., 4], totals[..., 5]), ratio(totals[..., 6], totals[..., 7])
    fc, fn = f1(pc, rc), f1(pn, rn)
    no_c, no_n = totals[..., 1] == 0, totals[..., 5] == 0
    def pick(c: np.ndarray, n: np.ndarray) -> np.ndarray:
        both = (c + n) / 2
        return np.where(no_c & no_n, 0.0, np.where(no_c, n, np.where(no_n, c, both)))
    return {"p": pick(pc, pn), "r": pick(rc, rn), "f1": pick(fc, fn)}


def conll_aggregate(totals: np.ndarray) -> dict[str, np.ndarray]:
    """CoNLL score: the mean of MUC, B³ and CEAFe (P, R and F1 each averaged)."""
    totals = np.asarray(totals, dtype=float)
    parts = [prf(totals[..., 4 * i: 4 * i + 4]) for i in range(3)]
    return {k: sum(p[k] for p in parts) / 3 for k in ("p", "r", "f1")}


def _counts(fn):
    """A metric's per-pair counts, computed once per pair (the CoNLL average reuses MUC, B³ and CEAFe)."""
    def counts(pair: DocPair) -> tuple[float, ...]:
        return pair.memo(fn.__name__, lambda p: fn(_chains(p)))
    counts.__name__ = fn.__name__.replace("_of", "")
    counts.__doc__ = fn.__doc__
    return counts


muc_counts, b3_counts, ceafe_counts = _counts(muc_counts_of), _counts(b3_counts_of), _counts(ceafe_counts_of)


def conll_counts(pair: DocPair) -> tuple[float, ...]:
    """MUC, B³ and CEAFe counts side by side, for the CoNLL average."""
    return (*muc_counts(pair), *b3_counts(pair), *ceafe_counts(pair))


PRF = ("p_num", "p_den", "r_num", "r_den")
MUC = Metric("coref_muc", "v8.01", "Coreference MUC (CoNLL-2012 scorer v8.01 conventions)", PRF,
             muc_counts, family="coreference")
B3 = Metric("coref_b3", "v8.01", "Coreference B-cubed", PRF, b3_counts, family="coreference")
CEAFM = Metric("coref_ceafm", "v8.01", "Coreference CEAF, mention-based (phi3)", PRF, _counts(ceafm_counts_of),
               family="coreference")
CEAFE = Metric("coref_ceafe", "v8.01", "Coreference CEAF, entity-based (phi4)", PRF, ceafe_counts,
               family="coreference")
LEA = Metric("coref_lea", "1", "Coreference LEA (link-based entity-aware)", PRF, _counts(lea_counts_of),
             family="coreference")
BLANC = Metric("coref_blanc", "v8.01", "Coreference BLANC for predicted mentions (Luo et al. 2014)",
               ("c_r_num", "c_r_den", "c_p_num", "c_p_den", "n_r_num", "n_r_den", "n_p_num", "n_p_den"),
               _counts(blanc_counts_of), aggregate=blanc_aggregate, family="coreference")
CONLL = Metric("coref_conll", "v8.01", "CoNLL average F1: (MUC + B3 + CEAFe) / 3",
               tuple(f"{m}_{c}" for m in ("muc", "b3", "ceafe") for c in PRF), conll_counts,
               aggregate=conll_aggregate, family="coreference")
