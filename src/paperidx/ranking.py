"""Running a query against the Whoosh index: parsing, correction, expansion, ranking.

Part of the index layer (it imports whoosh; nothing outside the index layer does).

Ranking, measured on SciFact, CISI and Cranfield (`benchmarks/quality.py`):

- BM25 (k1=1.2, b=0.75, Lucene's idf) on one combined title+abstract field, plus 0.3 x
  BM25 on the title alone: a title match helps topic queries without letting titles drown
  the abstract for claim-like queries.
- A paper matching more of the query scores higher by construction (scores add up per
  term); partial matches still appear.
- The best 50 are re-ranked with a proximity bonus: query-term pairs within 3 tokens of
  each other (so "gaussian splatting" as a phrase beats the two words far apart).
- Plain queries (no operators, fields or phrases) are scored term by term straight from
  Whoosh's posting blocks, which is 5-25x faster than Whoosh's matcher tree for long
  queries and gives the same ranking. Queries with syntax go through Whoosh's parser and
  searcher with the same weighting.
- Spelling: a query word whose stem is not in the library's vocabulary is corrected from
  the index's own terms; if the corrected query finds nothing, fuzzy matching is tried.
- Acronyms the library defines ("MoE") are expanded with their long forms, and typed-out
  long forms with their acronyms, at a lower weight than the words typed.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from whoosh import qparser, query
from whoosh.analysis.filters import STOP_WORDS
from whoosh.lang.porter2 import exceptional_forms
from whoosh.scoring import BM25F, WeightLengthScorer, bm25

from paperidx.acronyms import normalize_long_form
from paperidx.index import ANALYZER, IndexResults, RawHit
from paperidx.query import QueryPlan, is_plain_word, needs_parser, plain_words

DEFAULT_FIELD = "text"
TITLE_FIELD = "title"
TITLE_WEIGHT = 0.3
K1 = 1.2
B = 0.75
FIELD_ALIASES = {"authors": ["author"], "arxiv_id": ["arxiv"], "text": ["abstract"]}
EXPANSION_BOOST = 0.6
MAX_EDIT_DISTANCE = 2
# Only words this long are corrected by two edits; shorter ones have too many neighbours.
LONG_WORD = 8
SHORT_QUERY_WORDS = 4
# Longer "words" are identifiers or garbage; their one-edit neighbourhood is huge.
LONGEST_WORD = 30
# Depths 30, 50 and 100 gave the same nDCG@10 on SciFact, CISI and Cranfield.
RERANK_DEPTH = 30
PROXIMITY_WEIGHT = 0.1
PROXIMITY_SPAN = 3
PROXIMITY_MAX_TERMS = 12

Expansions = Callable[[list[str]], dict[str, list[str]]]
Texts = Callable[[list[str]], dict[str, str]]


# -- analysis -----------------------------------------------------------------------------

_TOKEN = re.compile(r"\w+(?:[-.]\w+)*")


@lru_cache(maxsize=1 << 16)
def _analyzed(token: str) -> tuple[str, ...]:
    return tuple(t.text for t in ANALYZER(token))


def analyse(text: str) -> list[str]:
    """The index's analysis of `text`, one raw token at a time (cached: words repeat)."""
    return [term for match in _TOKEN.finditer(text) for term in _analyzed(match.group())]


_STOP_WORDS = frozenset(STOP_WORDS)
_PREFIX = 2


def _prefix(text: str) -> str:
    # Porter2 keeps a word's first letters except that a final "y" may become "i" ("any"
    # -> "ani"), so prefixes are compared with y and i as one letter.
    return text[:_PREFIX].replace("y", "i")


def _starts_like(word: str, prefixes: frozenset[str]) -> bool:
    # A stem shorter than the prefix length is its own prefix.
    if word in exceptional_forms:  # the few words porter2 rewrites whole ("dying" -> "die")
        return True
    head = _prefix(word)
    return head in prefixes or any(head[:n] in prefixes for n in range(1, _PREFIX))


def _could_stem_to(word: str, prefixes: frozenset[str]) -> bool:
    """Whether stemming `word` (or a hyphenated part of it) can give a wanted stem."""
    if _starts_like(word, prefixes):
        return True
    if "-" not in word:
        return False
    parts = word.split("-")
    return any(_starts_like(part, prefixes) for part in [*parts, "".join(parts)])


def _placeholders(word: str) -> int:
    """How many index tokens an unwanted (lower-case) word stands for; positions must stay
    exact. Mirrors the analyzer: hyphenated words give their parts and the joined form, and
    stop words give nothing."""
    parts = [part for part in word.split("-") if part]
    if len(parts) > 1:
        parts.append("".join(parts))
    return sum(part not in _STOP_WORDS for part in parts)


def analyse_for(text: str, wanted: set[str]) -> Iterator[tuple[str | None, int, int]]:
    """(term or None, start, end) for each index token of `text`; only terms in `wanted` are
    named. Equivalent to `analyse` where it matters and many times faster: most words of an
    abstract are never stemmed."""
    prefixes = frozenset(_prefix(term) for term in wanted)
    for match in _TOKEN.finditer(text):
        word = match.group().lower()
        if _could_stem_to(word, prefixes):
            for term in _analyzed(match.group()):
                yield (term if term in wanted else None), match.start(), match.end()
        else:
            for _ in range(_placeholders(word)):
                yield None, match.start(), match.end()


def _stem(word: str) -> str | None:
    tokens = _analyzed(word)
    return tokens[0] if len(tokens) == 1 else None


def _words(text: str) -> list[str]:
    return [w for w in text.split() if is_plain_word(w)]


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
    return LuceneBM25(B=B, K1=K1)


def parser(schema: Any) -> Any:
    qp = qparser.MultifieldParser(
        [DEFAULT_FIELD, TITLE_FIELD],
        schema,
        fieldboosts={TITLE_FIELD: TITLE_WEIGHT},
        group=qparser.OrGroup,
    )
    qp.add_plugin(qparser.FuzzyTermPlugin())
    qp.add_plugin(qparser.FieldAliasPlugin(FIELD_ALIASES))
    return qp


_MINUS = re.compile(r"(?:(?<=\s)|^)-(?=[\w\"(])")
_PLUS = re.compile(r"(?:(?<=\s)|^)\+(?=[\w\"(])")


def _operators(text: str) -> str:
    """`-word` means NOT word and `+word` just the word; a hyphen inside a word is not one."""
    return _PLUS.sub("", _MINUS.sub("NOT ", text))


def _parse(qp: Any, text: str, notices: list[str]) -> Any:
    try:
        parsed = qp.parse(_operators(text))
    except Exception as error:  # whoosh's parser raises arbitrary errors on odd input
        fallback = plain_words(text)
        notices.append(f"could not parse the query ({type(error).__name__}); searched {fallback!r}")
        parsed = qp.parse(fallback)
    return _hoist_negations(_normalize_id_terms(parsed))


def _normalize_id_terms(q: Any) -> Any:
    """`id:3f2a` means a prefix of an id, as on the command line."""
    if isinstance(q, query.Term) and q.fieldname == "id":
        return query.Prefix("id", str(q.text).lower())
    if isinstance(q, query.Term) and q.fieldname == "arxiv_id":
        from paperidx.text import normalize_arxiv_id

        return query.Term("arxiv_id", normalize_arxiv_id(str(q.text)) or str(q.text))
    if q.is_leaf():
        return q
    return q.apply(_normalize_id_terms)


def _hoist_negations(q: Any) -> Any:
    """`gaussian -splatting` parses as `gaussian OR NOT splatting`, which matches nearly
    everything; what users mean is `gaussian` and not `splatting`."""
    if not isinstance(q, query.Or):
        return q
    negative = [child.query for child in q.subqueries if isinstance(child, query.Not)]
    if not negative:
        return q
    positive = [child for child in q.subqueries if not isinstance(child, query.Not)]
    kept = query.Or(positive) if positive else query.Every()
    return query.AndNot(kept, query.Or(negative))


# -- spelling ---------------------------------------------------------------------------


def _edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment): a swap of two letters costs 1."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _one_edit_away(word: str) -> set[str]:
    """Every string one deletion, swap, replacement or insertion away from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    swaps = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in _LETTERS]
    inserts = [a + c + b for a, b in splits for c in _LETTERS]
    return set(deletes + swaps + replaces + inserts) - {word}


def _close_word(reader: Any, word: str) -> str | None:
    """The most frequent word one edit away whose stem the library has."""
    best: tuple[int, str] | None = None
    for candidate in _one_edit_away(word):
        stem = _stem(candidate)
        if stem is None or (DEFAULT_FIELD, stem) not in reader:
            continue
        frequency = reader.doc_frequency(DEFAULT_FIELD, stem)
        if best is None or (frequency, candidate) > best:
            best = (frequency, candidate)
    return best[1] if best else None


def _close_stem(reader: Any, stem: str) -> str | None:
    """For long words: the closest indexed stem within two edits (then most frequent)."""
    scored = []
    for candidate in reader.terms_within(DEFAULT_FIELD, stem, MAX_EDIT_DISTANCE, prefix=1):
        distance = _edit_distance(stem, candidate)
        if 0 < distance <= MAX_EDIT_DISTANCE and len(candidate) > 3:
            scored.append((distance, -reader.doc_frequency(DEFAULT_FIELD, candidate), candidate))
    return min(scored)[2] if scored else None


def _corrections(reader: Any, text: str) -> dict[str, str]:
    """Misspelled word -> corrected word, for plain words whose stem the library lacks.

    One edit away, the corrected word itself is found; further away (long words only) the
    closest indexed stem is used as it is.
    """
    fixes: dict[str, str] = {}
    words = _words(text)
    # A long question is full of words no paper uses; only clear typos are worth fixing there.
    shortest = 4 if len(words) <= SHORT_QUERY_WORDS else 7
    for word in words:
        stem = _stem(word)
        if (
            stem is None
            or not shortest <= len(word) <= LONGEST_WORD
            or (DEFAULT_FIELD, stem) in reader
        ):
            continue
        corrected = _close_word(reader, word.lower())
        if corrected is None and len(word) >= LONG_WORD:
            corrected = _close_stem(reader, stem)
        if corrected is not None:
            fixes[word] = corrected
    return fixes


def _apply(text: str, fixes: dict[str, str]) -> str:
    return " ".join(fixes.get(token, token) for token in text.split())


def _fuzzy(text: str, words: set[str]) -> str:
    return " ".join(f"{t}~{MAX_EDIT_DISTANCE}/1" if t in words else t for t in text.split())


# -- acronyms ---------------------------------------------------------------------------


def _phrase(long_form: str) -> Any:
    words = analyse(long_form)
    if not words:
        return None
    if len(words) == 1:
        return query.Term(DEFAULT_FIELD, words[0])
    return query.Phrase(DEFAULT_FIELD, words)


def _expand(q: Any, alternatives: dict[str, list[str]]) -> Any:
    """Add each acronym's long forms beside the term, and typed-out long forms' acronyms.

    Alternatives weigh less than the words typed, so papers using the user's own words
    still come first.
    """
    by_stem: dict[str, list[Any]] = {}
    additions: list[Any] = []
    for phrase, forms in alternatives.items():
        extra = [p.with_boost(EXPANSION_BOOST) for p in map(_phrase, forms) if p is not None]
        if not extra:
            continue
        stem = _stem(phrase)
        if stem is not None:
            by_stem.setdefault(stem, []).extend(extra)
        else:
            additions.extend(extra)

    def visit(node: Any) -> Any:
        if isinstance(node, query.Term) and node.fieldname == DEFAULT_FIELD:
            extra = by_stem.get(str(node.text))
            return query.Or([node, *extra]) if extra else node
        return node if node.is_leaf() else node.apply(visit)

    expanded = visit(q) if by_stem else q
    if additions:
        expanded = _with_optional(expanded, additions)
    return expanded


def _with_optional(q: Any, extra: list[Any]) -> Any:
    """Add OR-ed alternatives to a query, keeping its exclusions (`NOT x`) in force."""
    if isinstance(q, query.AndNot):
        return query.AndNot(_with_optional(q.a, extra), q.b)
    return query.Or([q, *extra])


def _long_form_hits(text: str, lookup: Expansions) -> dict[str, list[str]]:
    """Long forms typed out in the query ("mixture of experts") -> their acronyms."""
    words = normalize_long_form(text).split()
    grams = [" ".join(words[i : i + n]) for n in range(2, 7) for i in range(len(words) - n + 1)]
    return lookup(grams) if grams else {}


def _expansion_weights(alternatives: dict[str, list[str]]) -> dict[str, float]:
    """Extra query terms for the plain-query scorer: each alternative form's terms share
    the form's weight, so a three-word long form counts as much as a one-word acronym."""
    weights: dict[str, float] = {}
    for forms in alternatives.values():
        for form in forms:
            terms = analyse(form)
            for term in terms:
                weights[term] = weights.get(term, 0.0) + EXPANSION_BOOST / len(terms)
    return weights


def _describe(alternatives: dict[str, list[str]]) -> list[str]:
    return [f"{phrase} → {' | '.join(forms)}" for phrase, forms in alternatives.items() if forms]


# -- plain queries: term-at-a-time BM25 ---------------------------------------------------


@dataclass(slots=True)
class _Scored:
    """First-stage scores by Whoosh document number."""

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


def _first_stage(searcher: Any, weights: dict[str, float], keep: int | None) -> _Scored:
    """BM25 over text plus TITLE_WEIGHT x title, summed per query term.

    Terms go rarest first; once the terms left could not lift a paper that has not yet
    matched into the best `keep`, they only add to papers already found (MaxScore): the
    best `keep` come out the same, the common words cost a fraction.
    """
    documents = searcher.doc_count_all()
    idf = {
        t: lucene_idf(documents, df)
        for t in weights
        if (df := searcher.doc_frequency(DEFAULT_FIELD, t))
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
        for fieldname, field_weight in ((DEFAULT_FIELD, 1.0), (TITLE_FIELD, TITLE_WEIGHT)):
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
    return _Scored(_without_deleted(scores, leaves), idf)


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
    dates = searcher.reader().column_reader("date")
    return {doc: score for doc, score in scores.items() if low <= dates[doc] <= high}


@dataclass(frozen=True, slots=True)
class DocFilter:
    """Documents a search may return (`allow`) or must not (`not allow`), by number."""

    docs: frozenset[int]
    allow: bool

    @classmethod
    def of_papers(cls, searcher: Any, ids: set[str], allow: bool) -> DocFilter:
        numbers = (searcher.document_number(id=pid) for pid in ids)
        return cls(frozenset(n for n in numbers if n is not None), allow)

    def keeps(self, doc: int) -> bool:
        return (doc in self.docs) == self.allow


def _in_filter(scores: dict[int, float], only: DocFilter | None) -> dict[int, float]:
    if only is None:
        return scores
    return {doc: score for doc, score in scores.items() if only.keeps(doc)}


# -- proximity re-ranking ----------------------------------------------------------------


def _pair_count(first: list[int], second: list[int]) -> int:
    """Occurrences in `first` with an occurrence in `second` within PROXIMITY_SPAN tokens."""
    count = j = 0
    for position in first:
        while j < len(second) and second[j] < position - PROXIMITY_SPAN:
            j += 1
        if j < len(second) and second[j] <= position + PROXIMITY_SPAN:
            count += 1
    return count


def _term_positions(text: str, wanted: set[str]) -> tuple[dict[str, list[int]], int]:
    """Index-token positions of the wanted terms in `text`, and its length in tokens.

    The same positions the analyzer would give, computed in one tight loop: only words that
    could stem to a wanted term are stemmed; the others are counted (see `_placeholders`).
    """
    prefixes = frozenset(_prefix(term) for term in wanted)
    positions: dict[str, list[int]] = {}
    position = 0
    for word in _TOKEN.findall(text.lower()):
        if _could_stem_to(word, prefixes):
            for term in _analyzed(word):
                if term in wanted:
                    positions.setdefault(term, []).append(position)
                position += 1
        elif "-" in word:
            position += _placeholders(word)
        elif word not in _STOP_WORDS:
            position += 1
    return positions, position


def _proximity_bonus(text: str, pairs: list[tuple[str, str, float]], average: float) -> float:
    positions, length = _term_positions(text, {term for pair in pairs for term in pair[:2]})
    if len(positions) < 2:
        return 0.0
    norm = K1 * (1 - B + B * length / average)
    bonus = 0.0
    for a, b, weight in pairs:
        if a in positions and b in positions:
            count = _pair_count(positions[a], positions[b])
            bonus += weight * count * (K1 + 1) / (count + norm) if count else 0.0
    return PROXIMITY_WEIGHT * bonus


def _rerank(
    ranked: list[tuple[str, float]], idf: dict[str, float], texts: Texts, average: float
) -> list[tuple[str, float]]:
    """Re-score the best RERANK_DEPTH with the proximity of query-term pairs."""
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


# -- running ------------------------------------------------------------------------------


def _explain_dates(plan: QueryPlan, explanation: dict[str, Any]) -> None:
    if plan.since or plan.until:
        explanation["dates"] = [
            plan.since.isoformat() if plan.since else None,
            plan.until.isoformat() if plan.until else None,
        ]


def _by_date(searcher: Any, scored: list[tuple[int, float]]) -> list[tuple[int, float]]:
    dates = searcher.reader().column_reader("date")
    return sorted(scored, key=lambda item: (dates[item[0]], item[1]), reverse=True)


def _ids(searcher: Any, scored: list[tuple[int, float]]) -> list[tuple[str, float]]:
    return [(searcher.stored_fields(doc)["id"], score) for doc, score in scored]


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
    weights: dict[str, float] = dict(Counter(analyse(text)))
    typed = set(weights)
    for term, extra in _expansion_weights(alternatives).items():
        weights[term] = weights.get(term, 0.0) + extra
    filtered = plan.since is not None or plan.until is not None or only is not None
    keep = None if (sort_by_date or filtered) else max(limit, RERANK_DEPTH)
    scored = _first_stage(searcher, weights, keep)
    scores = _in_filter(_in_dates(searcher, scored.scores, plan), only)
    if sort_by_date:
        ranked = _ids(searcher, _by_date(searcher, list(scores.items()))[:limit])
    else:
        best = heapq.nlargest(max(limit, RERANK_DEPTH), scores.items(), key=lambda kv: kv[1])
        ranked = _ids(searcher, best)
        if texts is not None:
            typed_idf = {t: v for t, v in scored.idf.items() if t in typed}
            ranked = _rerank(
                ranked, typed_idf, texts, searcher.avg_field_length(DEFAULT_FIELD) or 1.0
            )
    parsed = " ".join(f"{t}^{w:.2g}" if w != 1 else t for t, w in weights.items())
    return ranked[:limit], len(scores), set(weights), f"plain terms: {parsed}"


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
    q = _expand(_parse(parser(searcher.schema), text, notices), alternatives)
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
    return _ids(searcher, scored[:limit]), total, _terms(q), str(q)


def _date_filter(plan: QueryPlan) -> Any:
    # Open-ended NumericRanges misbehave on Whoosh's numeric fields: give both ends.
    bounds = _date_bounds(plan)
    return None if bounds is None else query.NumericRange("date", *bounds)


def _terms(q: Any) -> set[str]:
    found: set[str] = set()
    for fieldname, text in q.iter_all_terms():
        if fieldname in (DEFAULT_FIELD, TITLE_FIELD):
            found.add(text.decode("utf-8") if isinstance(text, bytes) else str(text))
    return found


def run(
    searcher: Any,
    plan: QueryPlan,
    *,
    limit: int,
    sort_by_date: bool,
    expansions: Expansions | None,
    texts: Texts | None = None,
    only: DocFilter | None = None,
    strict: bool = False,
) -> IndexResults:
    """Run a planned query. `only` restricts the documents. `strict` (a watch) matches
    exactly what the query says: no spelling correction (a watch must not fire on what a
    "corrected" word finds), and always through the query parser, where an acronym's long
    form is added as a phrase, never as loose words."""
    notices = list(plan.notices)
    explanation: dict[str, Any] = {"query": plan.original, "syntax_fallback": plan.plain}
    text = plan.text
    fixes = {} if strict else _corrections(searcher.reader(), text)
    if fixes:
        text = _apply(text, fixes)
        explanation["corrections"] = fixes
    alternatives: dict[str, list[str]] = {}
    if expansions is not None:
        alternatives = expansions(_words(text)) | _long_form_hits(text, expansions)
        if alternatives:
            explanation["expansions"] = _describe(alternatives)

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
        ranked, total, terms, parsed = search(_fuzzy(plan.text, set(fixes)))
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


def more_like(searcher: Any, text: str, exclude_id: str, limit: int) -> IndexResults:
    """Papers sharing the most distinctive terms of `text` (Whoosh's Bo1 key terms)."""
    key_terms = searcher.key_terms_from_text(DEFAULT_FIELD, text, numterms=25, normalize=True)
    if not key_terms:
        return IndexResults(hits=[], total=0)
    weights = {term: float(weight) for term, weight in key_terms}
    scored = _first_stage(searcher, weights, limit + 1)
    best = heapq.nlargest(limit + 1, scored.scores.items(), key=lambda kv: kv[1])
    ranked = [(pid, score) for pid, score in _ids(searcher, best) if pid != exclude_id]
    hits = [RawHit(pid, score) for pid, score in ranked[:limit]]
    return IndexResults(hits=hits, total=len(hits), terms=set(weights))


# How many of each starred paper's nearest papers count towards a recommendation, and how
# strongly papers read without a star push theirs down (measured: benchmarks/recommend.py).
RECOMMEND_NEIGHBOURS = 100
RECOMMEND_DISLIKE_WEIGHT = 0.0


@dataclass(frozen=True, slots=True)
class Recommendation:
    paper_id: str
    score: float
    because: str  # the id of the starred paper it resembles most


def recommend(
    searcher: Any,
    liked: dict[str, str],
    disliked: dict[str, str],
    excluded: set[str],
    limit: int,
    *,
    dislike_weight: float = RECOMMEND_DISLIKE_WEIGHT,
) -> list[Recommendation]:
    """Papers most like the `liked` ones (id -> text), least like the `disliked`.

    Each liked paper votes for its nearest papers (its Bo1 key terms scored with the same
    BM25 as search), with its best match worth 1: a paper near several starred ones
    outranks one near a single star, and no star with long text drowns the others. The
    reason given is the star that voted most.
    """
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
        Recommendation(searcher.stored_fields(doc)["id"], score, because[doc][1])
        for doc, score in best
        if doc in because
    ]


def _neighbours(searcher: Any, text: str, count: int) -> list[tuple[int, float]]:
    """The `count` papers nearest to `text`, each with its score over the best one's."""
    key_terms = searcher.key_terms_from_text(DEFAULT_FIELD, text, numterms=25, normalize=True)
    if not key_terms:
        return []
    scored = _first_stage(searcher, {term: float(weight) for term, weight in key_terms}, count + 1)
    nearest = heapq.nlargest(count + 1, scored.scores.items(), key=lambda kv: kv[1])
    top = nearest[0][1] if nearest and nearest[0][1] > 0 else 1.0
    return [(doc, score / top) for doc, score in nearest]


# -- snippets ---------------------------------------------------------------------------


def _matches(text: str, terms: set[str]) -> Iterator[tuple[int, int]]:
    last = -1
    for term, start, end in analyse_for(text, terms):
        if term is not None and start != last:
            last = start
            yield start, end


def snippet(
    text: str, terms: set[str], width: int = 220
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The stretch of `text` with the most distinct matched terms, and the matches in it."""
    spans = list(_matches(text, terms))
    if not spans or len(text) <= width:
        start = 0
    else:
        best, start = -1, 0
        for index, (first, _) in enumerate(spans):
            window = {text[s:e].lower() for s, e in spans[index:] if e <= first + width}
            if len(window) > best:
                best, start = len(window), first
        start = max(0, start - 40)
        boundary = text.rfind(" ", 0, start)
        start = boundary + 1 if start and boundary >= 0 else start
    end = min(len(text), start + width)
    if end < len(text):
        boundary = text.rfind(" ", start, end)
        end = boundary if boundary > start else end
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    shown = prefix + text[start:end] + suffix
    offset = len(prefix) - start
    inside = tuple((s + offset, e + offset) for s, e in spans if s >= start and e <= end)
    return shown, inside
