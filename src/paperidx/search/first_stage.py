"""First-stage ranking: BM25 over title+abstract plus TITLE_WEIGHT x BM25 on the title.

Two ways to the same scores: `LuceneBM25`, the weighting Whoosh's own searcher uses for
queries with syntax, and `score`, which scores plain queries term by term straight from
Whoosh's posting blocks, 5-25x faster than Whoosh's matcher tree for long queries, with
the same ranking.

Every use of Whoosh's private internals in paperidx is in this module (Whoosh is pinned to
2.7.4): posting blocks, the length column, a segment's deletion set, the table of contents.
Each has a fallback through public API where one exists, so a Whoosh that differs is slower,
not wrong.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from whoosh.matching import ListMatcher, NullMatcher
from whoosh.query import Query
from whoosh.scoring import BM25F, WeightLengthScorer, bm25

from paperidx.search import fields
from paperidx.search.tuning import K1, TITLE_WEIGHT, B


def lucene_idf(documents: int, frequency: int) -> float:
    return math.log(1.0 + (documents - frequency + 0.5) / (frequency + 0.5))


# -- weighting for Whoosh's own searcher (queries with syntax) -------------------------------


class LuceneBM25(BM25F):  # type: ignore[misc]
    """Whoosh's BM25F with Lucene's idf, which never goes negative for common terms."""

    def scorer(self, searcher: Any, fieldname: str, text: Any, qf: int = 1) -> Any:
        if not searcher.schema[fieldname].scorable:
            return super().scorer(searcher, fieldname, text, qf)
        return _LuceneBM25Scorer(searcher, fieldname, text, self.B, self.K1)


class _LuceneBM25Scorer(WeightLengthScorer):  # type: ignore[misc]
    def __init__(self, searcher: Any, fieldname: str, text: Any, b: float, k1: float) -> None:
        parent = searcher.get_parent()
        self.idf = lucene_idf(parent.doc_count(), parent.doc_frequency(fieldname, text))
        self.avgfl = parent.avg_field_length(fieldname) or 1
        self.B = b
        self.K1 = k1
        self.setup(searcher, fieldname, text)

    def _score(self, weight: float, length: float) -> float:
        return float(bm25(self.idf, weight, length, self.avgfl, self.B, self.K1))


def weighting() -> Any:
    """The weighting every searcher is opened with (`SearchIndex.searcher`)."""
    return LuceneBM25(B=B, K1=K1)


# -- plain queries: term-at-a-time BM25 ---------------------------------------------------


@dataclass(slots=True)
class Scored:
    """First-stage scores by Whoosh document number, and the idf of each term found."""

    scores: dict[int, float]
    idf: dict[str, float]


def _postings(reader: Any, fieldname: str, term: str) -> Iterator[tuple[list[int], list[float]]]:
    """(document numbers, term frequencies) a block at a time.

    Reads Whoosh 2.7.4's posting blocks directly (the version is pinned); falls back to the
    public, slower matcher API if those internals ever differ.
    """
    matcher = reader.postings(fieldname, term)
    try:
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            yield list(matcher._ids), list(matcher._weights)
            matcher._next_block()
    except AttributeError:
        matcher = reader.postings(fieldname, term)
        ids, weights = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        yield ids, weights


def _length_norms(searcher: Any, reader: Any, fieldname: str) -> Callable[[int], float]:
    """BM25's length normalisation per document of one segment."""
    average = searcher.avg_field_length(fieldname) or 1.0
    try:
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
        from whoosh.util.numeric import byte_to_length

        column = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        lengths = column._dbfile.get(column._basepos, column._doccount)
        table = [K1 * (1 - B + B * byte_to_length(i) / average) for i in range(256)]
        return lambda doc: table[lengths[doc]]
    except (AttributeError, ImportError, TypeError, IndexError):
        return lambda doc: K1 * (1 - B + B * reader.doc_field_length(doc, fieldname) / average)


def score(searcher: Any, weights: dict[str, float], keep: int | None) -> Scored:
    """BM25 over text plus TITLE_WEIGHT x title, summed per query term (`weights`: analysed
    term -> its weight in the query).

    Terms go rarest first; once the terms left could not lift a paper that has not yet
    matched into the best `keep`, they only add to papers already found (MaxScore): the
    best `keep` come out the same, the common words cost a fraction.
    """
    documents = searcher.doc_count_all()
    idf = {
        t: lucene_idf(documents, df)
        for t in weights
        if (df := searcher.doc_frequency(fields.TEXT, t))
    }
    order = sorted(idf, key=lambda t: -idf[t] * weights[t])
    ceiling = {t: weights[t] * idf[t] * (K1 + 1) * (1 + TITLE_WEIGHT) for t in order}
    scores: dict[int, float] = {}
    leaves = _leaves(searcher.reader())
    for position, term in enumerate(order):
        remaining = sum(ceiling[t] for t in order[position:])
        closed = (
            keep is not None
            and len(scores) >= keep
            and (remaining < heapq.nlargest(keep, scores.values())[-1])
        )
        for fieldname, field_weight in ((fields.TEXT, 1.0), (fields.TITLE, TITLE_WEIGHT)):
            df = searcher.doc_frequency(fieldname, term)
            if not df:
                continue
            gain = field_weight * weights[term] * lucene_idf(documents, df) * (K1 + 1)
            for reader, offset in leaves:
                if (fieldname, term) not in reader:
                    continue
                norm = _length_norms(searcher, reader, fieldname)
                for ids, tfs in _postings(reader, fieldname, term):
                    for doc, tf in zip(ids, tfs, strict=True):
                        key = doc + offset
                        if closed and key not in scores:
                            continue
                        scores[key] = scores.get(key, 0.0) + gain * tf / (tf + norm(doc))
    return Scored(_without_deleted(scores, leaves), idf)


def _leaves(reader: Any) -> list[tuple[Any, int]]:
    return [(reader, 0)] if reader.is_atomic() else list(reader.leaf_readers())


def _without_deleted(scores: dict[int, float], leaves: list[tuple[Any, int]]) -> dict[int, float]:
    # A re-ingested paper is deleted and added again; the old copy stays in the postings.
    for reader, offset in leaves:
        if reader.has_deletions():
            for doc in _deleted(reader, scores, offset):
                scores.pop(doc + offset, None)
    return scores


def _deleted(reader: Any, scores: dict[int, float], offset: int) -> list[int]:
    try:
        return list(reader._perdoc.deleted_docs())  # Whoosh 2.7.4's segment deletion set
    except AttributeError:
        end = offset + reader.doc_count_all()
        return [k - offset for k in scores if offset <= k < end and reader.is_deleted(k - offset)]


# -- Whoosh internals the index needs -------------------------------------------------------


def committed_segments(ix: Any) -> tuple[int, list[Any]]:
    """The generation and segments of an index's last commit (`SearchIndex` deletes the files
    of writes that never committed). Whoosh has no public way to list them."""
    toc = ix._read_toc()
    return int(toc.generation), list(toc.segments)


class DocumentsQuery(Query):  # type: ignore[misc]
    """Matches exactly the given (index-wide) document numbers, scoring 0.

    ANDed with a query, it lets Whoosh skip straight to those documents instead of walking
    the query's whole posting lists and filtering afterwards. Whoosh hands a query one
    segment at a time, with segment-local numbers: the segment's offset is looked up on the
    searcher that made it.
    """

    def __init__(self, docnums: frozenset[int]) -> None:
        self.docnums = sorted(docnums)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DocumentsQuery) and other.docnums == self.docnums

    def __hash__(self) -> int:
        return hash(tuple(self.docnums))

    def __repr__(self) -> str:
        return f"DocumentsQuery({len(self.docnums)} documents)"

    def estimate_size(self, ixreader: Any) -> int:
        return len(self.docnums)

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        # `parent` is a weak reference to the top searcher, None for a one-segment index.
        parent = searcher.parent() if searcher.has_parent() else None
        offset = 0 if parent is None else parent._offset_for_subsearcher(searcher) or 0
        end = offset + searcher.doc_count_all()
        local = [doc - offset for doc in self.docnums if offset <= doc < end]
        # Weights given one by one: ListMatcher takes `all_weights=0.0` as "none given" (1.0).
        return ListMatcher(local, weights=[0.0] * len(local)) if local else NullMatcher()
