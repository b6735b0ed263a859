"""Proximity re-ranking: the best first-stage hits get a bonus for query-term pairs that
stand near each other ("gaussian splatting" as a phrase beats the two words far apart).

The bonus is BM25-shaped (pair counts saturate like term frequencies, normalised by the
paper's length) and never negative, so nothing below the re-ranked depth can overtake what
was re-ranked.
"""

from __future__ import annotations

from collections.abc import Callable

from paperidx.search.analysis import term_positions
from paperidx.search.tuning import (
    K1,
    PROXIMITY_MAX_TERMS,
    PROXIMITY_SPAN,
    PROXIMITY_WEIGHT,
    RERANK_DEPTH,
    B,
)

# Paper ids -> their title and abstract (the store's; the index keeps no text).
Texts = Callable[[list[str]], dict[str, str]]


def _pair_count(first: list[int], second: list[int]) -> int:
    """Occurrences in `first` with an occurrence in `second` within PROXIMITY_SPAN tokens."""
    count = j = 0
    for position in first:
        while j < len(second) and second[j] < position - PROXIMITY_SPAN:
            j += 1
        if j < len(second) and second[j] <= position + PROXIMITY_SPAN:
            count += 1
    return count


def _proximity_bonus(text: str, pairs: list[tuple[str, str, float]], average: float) -> float:
    positions, length = term_positions(text, {term for pair in pairs for term in pair[:2]})
    if len(positions) < 2:
        return 0.0
    norm = K1 * (1 - B + B * length / average)
    bonus = 0.0
    for a, b, weight in pairs:
        if a in positions and b in positions:
            count = _pair_count(positions[a], positions[b])
            bonus += weight * count * (K1 + 1) / (count + norm) if count else 0.0
    return PROXIMITY_WEIGHT * bonus


def rerank(
    ranked: list[tuple[str, float]], idf: dict[str, float], texts: Texts, average: float
) -> list[tuple[str, float]]:
    """Re-score the best RERANK_DEPTH with the proximity of query-term pairs (`idf`: the
    typed terms with their idf; `average`: the average title+abstract length in tokens)."""
    terms = sorted(idf, key=lambda t: -idf[t])[:PROXIMITY_MAX_TERMS]
    pairs = [(a, b, min(idf[a], idf[b])) for i, a in enumerate(terms) for b in terms[i + 1 :]]
    if not pairs:
        return ranked
    head, tail = ranked[:RERANK_DEPTH], ranked[RERANK_DEPTH:]
    text_of = texts([paper_id for paper_id, _ in head])
    rescored = [
        (paper_id, score + _proximity_bonus(text_of.get(paper_id, ""), pairs, average))
        for paper_id, score in head
    ]
    rescored.sort(key=lambda item: -item[1])
    # The bonus is never negative, so nothing below the depth can overtake what was re-ranked.
    return rescored + tail
