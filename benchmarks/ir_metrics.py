"""Standard ranked-retrieval metrics over plain runs and graded qrels.

A *run* maps a query id to its ranked list of document ids (best first); *qrels* map a
query id to ``{doc_id: grade}``, where a grade > 0 means relevant. Definitions:

- nDCG@k: DCG = sum over ranks i = 1..k of ``grade / log2(i + 1)`` (gain = grade, no
  exponential), divided by the DCG of the ideal ranking built from the qrels.
- Average precision (MAP when averaged): mean over all relevant documents (grade > 0)
  of precision at each relevant document's rank; unretrieved relevant docs count 0.
- Recall@k: relevant documents in the top k divided by all relevant documents.

Every function averages over the queries that have at least one relevant document in
the qrels; a query missing from the run scores 0. Duplicate doc ids in a ranking count
once (the first occurrence).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = [
    "average_precision",
    "evaluate",
    "ndcg_at_k",
    "per_query_ndcg",
    "recall_at_k",
]

Run = Mapping[str, Sequence[str]]
Qrels = Mapping[str, Mapping[str, int]]


def _dedup(ranking: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for doc in ranking:
        if doc not in seen:
            seen.add(doc)
            out.append(doc)
    return out


def _judged(qrels: Qrels) -> list[str]:
    return [q for q, rels in qrels.items() if any(g > 0 for g in rels.values())]


def _ndcg_one(ranking: Sequence[str], rels: Mapping[str, int], k: int) -> float:
    dcg = 0.0
    for i, doc in enumerate(_dedup(ranking)[:k]):
        grade = rels.get(doc, 0)
        if grade > 0:
            dcg += grade / math.log2(i + 2)
    ideal = sorted((g for g in rels.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def per_query_ndcg(run: Run, qrels: Qrels, k: int = 10) -> dict[str, float]:
    """nDCG@k for each judged query (useful for paired comparisons)."""
    return {q: _ndcg_one(run.get(q, ()), qrels[q], k) for q in _judged(qrels)}


def ndcg_at_k(run: Run, qrels: Qrels, k: int = 10) -> float:
    """Mean nDCG@k (linear gain = grade, log2 discount, ideal from the qrels)."""
    scores = per_query_ndcg(run, qrels, k)
    return sum(scores.values()) / len(scores) if scores else 0.0


def average_precision(run: Run, qrels: Qrels) -> float:
    """Mean average precision (binary: any grade > 0 is relevant)."""
    queries = _judged(qrels)
    total = 0.0
    for q in queries:
        relevant = {d for d, g in qrels[q].items() if g > 0}
        hits = 0
        ap = 0.0
        for i, doc in enumerate(_dedup(run.get(q, ()))):
            if doc in relevant:
                hits += 1
                ap += hits / (i + 1)
        total += ap / len(relevant)
    return total / len(queries) if queries else 0.0


def recall_at_k(run: Run, qrels: Qrels, k: int = 100) -> float:
    """Mean recall@k (binary: any grade > 0 is relevant)."""
    queries = _judged(qrels)
    total = 0.0
    for q in queries:
        relevant = {d for d, g in qrels[q].items() if g > 0}
        top = set(_dedup(run.get(q, ()))[:k])
        total += len(relevant & top) / len(relevant)
    return total / len(queries) if queries else 0.0


def evaluate(run: Run, qrels: Qrels) -> dict[str, float]:
    """The three headline numbers: ``ndcg@10``, ``map`` and ``recall@100``."""
    return {
        "ndcg@10": ndcg_at_k(run, qrels, 10),
        "map": average_precision(run, qrels),
        "recall@100": recall_at_k(run, qrels, 100),
    }
