"""Running a query against the index: correction, expansion, filters, ranking.

Ranking, measured on SciFact, CISI and Cranfield (`benchmarks/quality.py`); the constants
are in `tuning`:

- BM25 (k1=1.2, b=0.75, Lucene's idf) on one combined title+abstract field, plus 0.3 x
  BM25 on the title alone: a title match helps topic queries without letting titles drown
  the abstract for claim-like queries (`first_stage`).
- A paper matching more of the query scores higher by construction (scores add up per
  term); partial matches still appear.
- The best RERANK_DEPTH (30) are re-ranked with a proximity bonus: query-term pairs within
  3 tokens of each other, so "gaussian splatting" as a phrase beats the two words far apart
  (`rerank`).
- Plain queries (no operators, fields or phrases) are scored term by term straight from
  Whoosh's posting blocks, which is 5-25x faster than Whoosh's matcher tree for long
  queries and gives the same ranking. Queries with syntax go through Whoosh's parser
  (`syntax`) and searcher with the same weighting.
- Spelling: a query word whose stem is not in the library's vocabulary, and which the
  shipped lexicon does not know as a word of the field, is corrected from the index's own
  terms; if the corrected query finds nothing, fuzzy matching is tried (`spelling`).
- Acronyms the library defines ("MoE") or the field does (the shipped lexicon: "PEFT") are
  expanded with their long forms, and typed-out long forms with their acronyms, at a lower
  weight than the words typed; the library wins where both know a phrase (`expansion`).

This module uses the index (`SearchIndex.searcher`); the index knows nothing of ranking.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from whoosh import query
from whoosh.reading import TermNotFound

from paperidx.results import StoredPaper
from paperidx.search import fields, first_stage, spelling
from paperidx.search.analysis import analyse
from paperidx.search.expansion import Expansions, describe, expand, term_weights
from paperidx.search.expansion import alternatives as expansion_alternatives
from paperidx.search.index import SearchIndex
from paperidx.search.plan import QueryPlan, needs_parser
from paperidx.search.rerank import Texts, rerank
from paperidx.search.tuning import (
    KEY_TERMS,
    QUESTION_WORDS,
    RECOMMEND_DISLIKE_WEIGHT,
    RECOMMEND_NEIGHBOURS,
    RERANK_DEPTH,
    SHORT_QUERY_WORDS,
)


@dataclass(frozen=True, slots=True)
class PaperSet:
    """Papers by id that a search may return (`allow`), or must not (`not allow`): whichever
    of the two is the shorter list."""

    ids: set[str]
    allow: bool


@dataclass(slots=True)
class RawHit:
    """One ranked paper, by id, before the store fills in the record."""

    paper_id: str
    score: float
    # A recommendation's reason: the id of the starred paper it resembles most.
    because: str | None = None


@dataclass(slots=True)
class IndexResults:
    """What one search of the index found, and how it read the query."""

    hits: list[RawHit]
    total: int
    # Analyzed (stemmed) query terms, for snippets.
    terms: set[str] = field(default_factory=set)
    notices: list[str] = field(default_factory=list)
    explanation: dict[str, Any] = field(default_factory=dict)


# -- the entry points ---------------------------------------------------------------------


def run(
    index: SearchIndex,
    plan: QueryPlan,
    *,
    limit: int,
    sort_by_date: bool = False,
    expansions: Expansions | None = None,
    texts: Texts | None = None,
    only: PaperSet | None = None,
    strict: bool = False,
) -> IndexResults:
    """Run a planned query: correct spelling, expand acronyms, parse, filter, rank.

    `expansions` looks up acronyms and long forms; `texts` gives the title and abstract of
    papers by id, for the proximity re-ranking; `only` restricts the papers (the user's
    `is:starred`, `tag:`). `strict` (a watch) matches exactly what the query says: no
    spelling correction (a watch must not fire on what a "corrected" word finds), and always
    through the query parser, where an acronym's long form is added as a phrase, never as
    loose words.
    """
    return run_many(
        index,
        [plan],
        limit=limit,
        sort_by_date=sort_by_date,
        expansions=expansions,
        texts=texts,
        only=only,
        strict=strict,
    )[0]


def run_many(
    index: SearchIndex,
    plans: list[QueryPlan],
    *,
    limit: int,
    sort_by_date: bool = False,
    expansions: Expansions | None = None,
    texts: Texts | None = None,
    only: PaperSet | None = None,
    strict: bool = False,
) -> list[IndexResults]:
    """`run` for several plans over one searcher and one `only` filter (an ingest's watches:
    opening a searcher and finding the new papers' documents once, not once per watch)."""
    with index.searcher(first_stage.weighting()) as searcher:
        allowed = None
        if only is not None:
            allowed = DocFilter.of_papers(searcher, only.ids, only.allow)
        return [
            _run(
                searcher,
                plan,
                limit=limit,
                sort_by_date=sort_by_date,
                expansions=expansions,
                texts=texts,
                only=allowed,
                strict=strict,
            )
            for plan in plans
        ]


def similar(index: SearchIndex, paper: StoredPaper, *, limit: int) -> IndexResults:
    """Papers sharing the most distinctive terms of this one (Whoosh's Bo1 key terms)."""
    with index.searcher(first_stage.weighting()) as searcher:
        return _more_like(searcher, paper.searchable_text, paper.id, limit)


def recommend(
    index: SearchIndex,
    liked: dict[str, str],
    disliked: dict[str, str],
    excluded: set[str],
    *,
    limit: int,
    dislike_weight: float | None = None,
) -> list[RawHit]:
    """Papers most like the `liked` ones (id -> text), least like the `disliked`.

    Each liked paper votes for its nearest papers (its Bo1 key terms scored with the same
    BM25 as search), with its best match worth 1: a paper near several starred ones
    outranks one near a single star, and no star with long text drowns the others. The
    reason given is the star that voted most.
    """
    weight = RECOMMEND_DISLIKE_WEIGHT if dislike_weight is None else dislike_weight
    with index.searcher(first_stage.weighting()) as searcher:
        return _recommend(searcher, liked, disliked, excluded, limit, dislike_weight=weight)


# -- filters: dates and the user's state -------------------------------------------------


def _date_bounds(plan: QueryPlan) -> tuple[int, int] | None:
    """The plan's dates as the index stores them (YYYYMMDD), both ends given."""
    if plan.since is None and plan.until is None:
        return None
    low = int(plan.since.strftime("%Y%m%d")) if plan.since else 0
    high = int(plan.until.strftime("%Y%m%d")) if plan.until else 99991231
    return low, high


def _in_dates(searcher: Any, scores: dict[int, float], plan: QueryPlan) -> dict[int, float]:
    bounds = _date_bounds(plan)
    if bounds is None:
        return scores
    low, high = bounds
    dates = searcher.reader().column_reader(fields.DATE)
    return {doc: score for doc, score in scores.items() if low <= dates[doc] <= high}


def _date_filter(plan: QueryPlan) -> Any:
    # Open-ended NumericRanges misbehave on Whoosh's numeric fields: give both ends.
    bounds = _date_bounds(plan)
    return None if bounds is None else query.NumericRange(fields.DATE, *bounds)


# Up to this many allowed papers, a syntax search is narrowed by their ids (see
# `_syntax_search`); a longer list is cheaper as a filter.
NARROW_BY_ID = 1000


@dataclass(frozen=True, slots=True)
class DocFilter:
    """Documents a search may return (`allow`) or must not (`not allow`), by number."""

    docs: frozenset[int]
    allow: bool

    @classmethod
    def of_papers(cls, searcher: Any, ids: set[str], allow: bool) -> DocFilter:
        return cls(frozenset(_document_numbers(searcher.reader(), ids)), allow)

    def keeps(self, doc: int) -> bool:
        return (doc in self.docs) == self.allow


def _document_numbers(reader: Any, ids: set[str]) -> Iterator[int]:
    """The documents of these papers (those the index holds).

    Segments are searched newest first: an ingest's new papers are all in the last one,
    where Whoosh's `document_number` looks in every older segment first (the sample's 67
    papers at 20k: 2.7 ms that way, 1.5 ms this way)."""
    missing = set(ids)
    for segment, offset in reversed(list(reader.leaf_readers())):
        for paper_id in list(missing):
            try:
                number = segment.first_id(fields.ID, paper_id)
            except (KeyError, TermNotFound):
                continue
            missing.discard(paper_id)
            yield offset + number
        if not missing:
            return


def _in_filter(scores: dict[int, float], only: DocFilter | None) -> dict[int, float]:
    if only is None:
        return scores
    return {doc: score for doc, score in scores.items() if only.keeps(doc)}


# -- running ------------------------------------------------------------------------------


def _explain_dates(plan: QueryPlan, explanation: dict[str, Any]) -> None:
    if plan.since or plan.until:
        explanation["dates"] = [
            plan.since.isoformat() if plan.since else None,
            plan.until.isoformat() if plan.until else None,
        ]


def _by_date(searcher: Any, scored: list[tuple[int, float]]) -> list[tuple[int, float]]:
    dates = searcher.reader().column_reader(fields.DATE)
    return sorted(scored, key=lambda item: (dates[item[0]], item[1]), reverse=True)


def _ids(searcher: Any, scored: list[tuple[int, float]]) -> list[tuple[str, float]]:
    return [(searcher.stored_fields(doc)[fields.ID], score) for doc, score in scored]


def _without_question_words(text: str) -> str:
    """A long plain query without the words that only make it a question."""
    kept = [w for w in text.split() if w.lower().strip("?.,!;'\"") not in QUESTION_WORDS]
    return " ".join(kept) or text


def _typed_acronyms_only(text: str, alternatives: dict[str, list[str]]) -> dict[str, list[str]]:
    """In a sentence, only what was typed as an acronym expands. "language models" is plain
    words (its acronym "LM" finds "Horizon-LM" and "LM-Head"), and so are "more" and "math"
    (not MoRE, "mixture of relation experts", nor the MATH benchmark): a word expands when
    it was typed in capitals or with one inside ("LoRA")."""
    words = [w.strip("?.,!;:'\"()") for w in text.split()]
    typed = {w.lower() for w in words if w.isupper() or any(c.isupper() for c in w[1:])}
    return {phrase: forms for phrase, forms in alternatives.items() if phrase in typed}


def _plain_search(
    searcher: Any,
    text: str,
    plan: QueryPlan,
    alternatives: dict[str, list[str]],
    limit: int,
    sort_by_date: bool,
    texts: Texts | None,
    only: DocFilter | None,
) -> tuple[list[tuple[str, float]], int, set[str], str]:
    if len(text.split()) > SHORT_QUERY_WORDS:
        text = _without_question_words(text)
    weights: dict[str, float] = dict(Counter(analyse(text)))
    typed = set(weights)
    for term, extra in term_weights(alternatives).items():
        weights[term] = weights.get(term, 0.0) + extra
    filtered = plan.since is not None or plan.until is not None or only is not None
    keep = None if (sort_by_date or filtered) else max(limit, RERANK_DEPTH)
    scored = first_stage.score(searcher, weights, keep)
    scores = _in_filter(_in_dates(searcher, scored.scores, plan), only)
    if sort_by_date:
        ranked = _ids(searcher, _by_date(searcher, list(scores.items()))[:limit])
    else:
        best = heapq.nlargest(max(limit, RERANK_DEPTH), scores.items(), key=lambda kv: kv[1])
        ranked = _ids(searcher, best)
        if texts is not None:
            typed_idf = {t: v for t, v in scored.idf.items() if t in typed}
            ranked = rerank(ranked, typed_idf, texts, searcher.avg_field_length(fields.TEXT) or 1.0)
    parsed = " ".join(f"{t}^{w:.2g}" if w != 1 else t for t, w in weights.items())
    # With `keep`, `scores` holds the best only: the papers scored are counted apart.
    total = len(scores) if keep is None else scored.matched
    return ranked[:limit], total, set(weights), f"plain terms: {parsed}"


def _syntax_search(
    searcher: Any,
    text: str,
    plan: QueryPlan,
    alternatives: dict[str, list[str]],
    limit: int,
    sort_by_date: bool,
    notices: list[str],
    only: DocFilter | None,
) -> tuple[list[tuple[str, float]], int, set[str], str]:
    # Whoosh's query parser loads only for a query that uses the query language: ~2 ms of
    # every plain search's start-up.
    from paperidx.search.syntax import matched_terms, parse, parser

    q = expand(parse(parser(searcher.schema), text, notices), alternatives)
    if only is not None and only.allow and len(only.docs) <= NARROW_BY_ID:
        # A filter is applied after matching, so a phrase or an AND would still walk its
        # whole posting lists; ANDed with the few allowed documents (scoring 0, so scores
        # stay the same), Whoosh skips straight to them (a watch on an ingest's new papers).
        q = first_stage.within_documents(q, only.docs)
    date_filter = _date_filter(plan)
    allowed: Any = date_filter
    if only is not None and only.allow:
        dated = only.docs if date_filter is None else set(searcher.docs_for_query(date_filter))
        allowed = set(only.docs) & set(dated)
    results = searcher.search(
        q,
        limit=None if sort_by_date else limit,
        filter=allowed,
        mask=set(only.docs) if only is not None and not only.allow else None,
    )
    scored = [(hit.docnum, float(hit.score or 0.0)) for hit in results]
    if sort_by_date:
        scored = _by_date(searcher, scored)
    total = len(results) if sort_by_date else results.estimated_length()
    return _ids(searcher, scored[:limit]), total, matched_terms(q), str(q)


def _run(
    searcher: Any,
    plan: QueryPlan,
    *,
    limit: int,
    sort_by_date: bool,
    expansions: Expansions | None,
    texts: Texts | None,
    only: DocFilter | None,
    strict: bool,
) -> IndexResults:
    notices = list(plan.notices)
    explanation: dict[str, Any] = {"query": plan.original, "syntax_fallback": plan.plain}
    text = plan.text
    checked = spelling.Spelling() if strict else spelling.check(searcher.reader(), text)
    fixes = checked.fixes
    if fixes:
        text = spelling.corrected(text, fixes)
        explanation["corrections"] = {word: f"{fix} (library)" for word, fix in fixes.items()}
    if checked.known:
        explanation["kept_as_typed"] = [f"{word} (lexicon)" for word in checked.known]
    found = expansion_alternatives(text, expansions)
    alternatives = found.forms
    if not (strict or needs_parser(text)) and len(text.split()) > SHORT_QUERY_WORDS:
        alternatives = _typed_acronyms_only(text, alternatives)
    if alternatives:
        explanation["expansions"] = describe(alternatives, found.sources)

    def search(query_text: str) -> tuple[list[tuple[str, float]], int, set[str], str]:
        if strict or needs_parser(query_text):
            return _syntax_search(
                searcher, query_text, plan, alternatives, limit, sort_by_date, notices, only
            )
        return _plain_search(
            searcher, query_text, plan, alternatives, limit, sort_by_date, texts, only
        )

    ranked, total, terms, parsed = search(text)
    if fixes and not ranked:
        ranked, total, terms, parsed = search(spelling.fuzzy(plan.text, set(fixes)))
        explanation["fuzzy_fallback"] = True
        notices.append(f"no results for {text!r}; showing fuzzy matches for {plan.text!r}")
    elif fixes:
        notices.append(f"showing results for {text!r} (no papers use {', '.join(fixes)})")
    explanation["parsed"] = parsed
    _explain_dates(plan, explanation)
    return IndexResults(
        hits=[RawHit(paper_id, score) for paper_id, score in ranked],
        total=total,
        terms=terms,
        notices=notices,
        explanation=explanation,
    )


# -- papers like others -------------------------------------------------------------------


def _key_terms(searcher: Any, text: str) -> dict[str, float]:
    """The most distinctive terms of `text` against the library (Whoosh's Bo1 key terms)."""
    key_terms = searcher.key_terms_from_text(fields.TEXT, text, numterms=KEY_TERMS, normalize=True)
    return {term: float(weight) for term, weight in key_terms}


def _more_like(searcher: Any, text: str, exclude_id: str, limit: int) -> IndexResults:
    weights = _key_terms(searcher, text)
    if not weights:
        return IndexResults(hits=[], total=0)
    scored = first_stage.score(searcher, weights, limit + 1)
    best = heapq.nlargest(limit + 1, scored.scores.items(), key=lambda kv: kv[1])
    ranked = [(pid, score) for pid, score in _ids(searcher, best) if pid != exclude_id]
    hits = [RawHit(pid, score) for pid, score in ranked[:limit]]
    return IndexResults(hits=hits, total=len(hits), terms=set(weights))


def _recommend(
    searcher: Any,
    liked: dict[str, str],
    disliked: dict[str, str],
    excluded: set[str],
    limit: int,
    *,
    dislike_weight: float,
) -> list[RawHit]:
    excluded_docs = DocFilter.of_papers(searcher, excluded | set(liked), allow=False)
    votes: dict[int, float] = {}
    because: dict[int, tuple[float, str]] = {}
    for sign, papers in ((1.0, liked), (-dislike_weight, disliked if dislike_weight else {})):
        for paper_id, text in papers.items():
            for doc, share in _neighbours(searcher, text, RECOMMEND_NEIGHBOURS):
                if not excluded_docs.keeps(doc):
                    continue
                votes[doc] = votes.get(doc, 0.0) + sign * share
                if sign > 0 and share > because.get(doc, (0.0, ""))[0]:
                    because[doc] = (share, paper_id)
    best = heapq.nlargest(limit, ((d, v) for d, v in votes.items() if v > 0), key=lambda kv: kv[1])
    return [
        RawHit(searcher.stored_fields(doc)[fields.ID], score, because[doc][1])
        for doc, score in best
        if doc in because
    ]


def _neighbours(searcher: Any, text: str, count: int) -> list[tuple[int, float]]:
    """The `count` papers nearest to `text`, each with its score over the best one's."""
    weights = _key_terms(searcher, text)
    if not weights:
        return []
    scored = first_stage.score(searcher, weights, count + 1)
    nearest = heapq.nlargest(count + 1, scored.scores.items(), key=lambda kv: kv[1])
    top = nearest[0][1] if nearest and nearest[0][1] > 0 else 1.0
    return [(doc, score / top) for doc, score in nearest]
