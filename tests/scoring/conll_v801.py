"""The CoNLL-2012 scorer v8.01, restated step by step in plain Python as a test oracle.

This follows what ``lib/CorScorer.pm`` (conll/reference-coreference-scorers, v8.01; LEA from the
``LEA-scorer`` branch) does to one document, in the order it does it, on mention ids rather than
spans, with none of the toolkit's shortcuts:

1. every key mention gets a fresh id, a repeated key span overwriting its id, so that all copies
   of a span carry the id of its last copy;
2. response mentions are read in order: a key span already matched is a repeat and is removed; a
   key span seen for the first time is matched; any other span stays; then empty response chains
   are dropped and every unmatched response span gets one new id (all its copies share it);
3. the metrics read these id chains position by position (``Indexa`` maps an id to the last chain
   that holds it): MUC's links, B³'s per-position overlaps, CEAF's similarity under an optimal
   assignment, BLANC's link sets, LEA's resolved links.

It was checked against the Perl scorer itself (v8.01 and the LEA branch, run on CoNLL files written
from 400 random documents with repeated key and response mentions): every count equal.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from scipy.optimize import linear_sum_assignment


def identify(key: list[list], response: list[list]) -> tuple[list[list[int]], list[list[int]]]:
    """Key and response chains of mention ids, as ``IdentifMentions`` returns ``*ChainsOrig``."""
    ids: dict = {}
    count = 0
    for entity in key:
        for mention in entity:
            ids[mention] = count
            count += 1
    matched: dict = {}
    kept_response = []
    for entity in response:
        kept = []
        for mention in entity:
            if mention in matched:
                continue
            if mention in ids:
                matched[mention] = ids[mention]
            kept.append(mention)
        if kept:
            kept_response.append(kept)
    for entity in kept_response:
        for mention in entity:
            if mention not in matched:
                matched[mention] = count
                count += 1
    key_chains = [[ids[m] for m in entity] for entity in key if entity]
    response_chains = [[matched[m] for m in entity] for entity in kept_response]
    return key_chains, response_chains


def index(chains: list[list[int]]) -> dict[int, int]:
    """``Indexa``: id → the last chain holding it."""
    return {m: i for i, chain in enumerate(chains) for m in chain}


def muc(key: list[list[int]], response: list[list[int]]) -> tuple[float, ...]:
    k_index = index(key)
    correct = 0
    for chain in response:
        for i in range(len(chain)):
            if any(chain[i] in k_index and chain[j] in k_index and k_index[chain[i]] == k_index[chain[j]]
                   for j in range(i + 1, len(chain))):
                correct += 1
    return correct, sum(len(c) - 1 for c in key), correct, sum(len(c) - 1 for c in response)


def b3(key: list[list[int]], response: list[list[int]]) -> tuple[float, ...]:
    k_index = index(key)
    acc_p = acc_r = 0.0
    for chain in response:
        for m in chain:
            k_chain = key[k_index[m]] if m in k_index else []
            common = sum(1 for mr in chain if mr in k_chain)
            acc_p += common / len(chain)
            if k_chain:
                acc_r += common / len(k_chain)
    return acc_r, sum(map(len, key)), acc_p, sum(map(len, response))


def ceaf(key: list[list[int]], response: list[list[int]], mention_based: bool) -> tuple[float, ...]:
    sim = np.zeros((len(key), max(len(response), 1)))
    for i, a in enumerate(key):
        for j, b in enumerate(response):
            common = sum(1 for m in a if m in b)
            sim[i, j] = common if mention_based else 2 * common / (len(a) + len(b))
    best = float(sim[linear_sum_assignment(sim, maximize=True)].sum()) if key else 0.0
    if mention_based:
        return best, sum(map(len, key)), best, sum(map(len, response))
    return best, len(key), best, len(response)


def blanc(key: list[list[int]], response: list[list[int]]) -> tuple[float, ...]:
    def links(chains: list[list[int]]) -> tuple[set, set]:
        coref = {tuple(sorted(p)) for c in chains for p in combinations(c, 2)}
        non = {tuple(sorted((a, b))) for x, y in combinations(range(len(chains)), 2)
               for a in chains[x] for b in chains[y]}
        return coref, non
    kc, kn = links(key)
    rc, rn = links(response)
    return len(kc & rc), len(kc), len(kc & rc), len(rc), len(kn & rn), len(kn), len(kn & rn), len(rn)


def _lea_side(chains: list[list[int]], other: list[list[int]]) -> tuple[float, float]:
    o_index = index(other)
    score = importance = 0.0
    for chain in chains:
        size = len(chain)
        if size == 1:
            resolved, links = float(chain[0] in o_index and len(other[o_index[chain[0]]]) == 1), 1
        else:
            resolved = sum(1 for i, j in combinations(range(size), 2)
                           if chain[i] in o_index and chain[j] in o_index and o_index[chain[i]] == o_index[chain[j]])
            links = size * (size - 1) / 2
        score += size * resolved / links
        importance += size
    return score, importance


def lea(key: list[list[int]], response: list[list[int]]) -> tuple[float, ...]:
    r_num, r_den = _lea_side(key, response)
    p_num, p_den = _lea_side(response, key)
    return r_num, r_den, p_num, p_den


def counts(key: list[list], response: list[list]) -> dict[str, tuple[float, ...]]:
    """Every metric's (recall num, recall den, precision num, precision den) — BLANC: its eight counts."""
    k, r = identify(key, response)
    return {"muc": muc(k, r), "b3": b3(k, r), "ceafm": ceaf(k, r, True), "ceafe": ceaf(k, r, False),
            "blanc": blanc(k, r), "lea": lea(k, r)}
