"""Running a query against the Whoosh index: parsing, correction, expansion, ranking.

Part of the index layer (it imports whoosh; nothing outside the index layer does).

- Parsing: Whoosh's query parser with fields (`title:`, `abstract:`, `author:`, `id:`),
  phrases, `AND`/`OR`/`NOT`, `-word`, `prefix*` and `word~`. Anything it cannot parse
  falls back to the plain words, with a notice.
- Default field: one combined title+abstract field. Words are OR-ed with a coordination
  bonus: a paper matching more of the query ranks higher, partial matches still appear.
- Spelling: a query word whose stem is not in the library's vocabulary is corrected from
  the index's own terms (closest edit distance, then most frequent); if the corrected
  query finds nothing, fuzzy matching is tried.
- Acronyms: terms the library defines as acronyms ("MoE") are expanded with their long
  forms and long forms with their acronyms, at a lower weight than the words typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from whoosh import qparser, query, scoring

from paperidx.acronyms import normalize_long_form
from paperidx.index import ANALYZER, IndexResults, RawHit
from paperidx.query import QueryPlan, is_plain_word, plain_words

DEFAULT_FIELD = "text"
FIELD_ALIASES = {"authors": ["author"], "arxiv_id": ["arxiv"]}
COORDINATION = 0.9
EXPANSION_BOOST = 0.6
MAX_EDIT_DISTANCE = 2
# Only words this long are corrected by two edits; shorter ones have too many neighbours.
LONG_WORD = 8
SHORT_QUERY_WORDS = 4

Expansions = Callable[[list[str]], dict[str, list[str]]]


def weighting() -> Any:
    return scoring.BM25F(B=0.75, K1=1.2)


def parser(schema: Any) -> Any:
    qp = qparser.QueryParser(
        DEFAULT_FIELD, schema, group=qparser.OrGroup.factory(COORDINATION)
    )
    qp.add_plugin(qparser.FuzzyTermPlugin())
    qp.add_plugin(qparser.FieldAliasPlugin(FIELD_ALIASES))
    return qp


def _parse(qp: Any, text: str, notices: list[str]) -> Any:
    try:
        parsed = qp.parse(_operators(text))
    except Exception as error:  # noqa: BLE001 - whoosh's parser raises arbitrary errors
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


_MINUS = re.compile(r"(?:(?<=\s)|^)-(?=[\w\"(])")
_PLUS = re.compile(r"(?:(?<=\s)|^)\+(?=[\w\"(])")


def _operators(text: str) -> str:
    """`-word` means NOT word and `+word` just the word; a hyphen inside a word is not one."""
    return _PLUS.sub("", _MINUS.sub("NOT ", text))


def _words(text: str) -> list[str]:
    return [w for w in text.split() if is_plain_word(w)]


def _stem(word: str) -> str | None:
    tokens = [t.text for t in ANALYZER(word)]
    return tokens[0] if len(tokens) == 1 else None


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
        if stem is None or len(word) < shortest or (DEFAULT_FIELD, stem) in reader:
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
    words = [t.text for t in ANALYZER(long_form)]
    if not words:
        return None
    if len(words) == 1:
        return query.Term(DEFAULT_FIELD, words[0])
    return query.Phrase(DEFAULT_FIELD, words)


def _expand(q: Any, alternatives: dict[str, list[str]]) -> tuple[Any, list[str]]:
    """Add each acronym's long forms beside the term, and typed-out long forms' acronyms.

    Alternatives weigh less than the words typed, so papers using the user's own words
    still come first.
    """
    by_stem: dict[str, list[Any]] = {}
    additions: list[Any] = []
    described: list[str] = []
    for phrase, forms in alternatives.items():
        extra = [p.with_boost(EXPANSION_BOOST) for p in map(_phrase, forms) if p is not None]
        if not extra:
            continue
        described.append(f"{phrase} → {' | '.join(forms)}")
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
    return expanded, described


def _with_optional(q: Any, extra: list[Any]) -> Any:
    """Add OR-ed alternatives to a query, keeping its exclusions (`NOT x`) in force."""
    if isinstance(q, query.AndNot):
        return query.AndNot(_with_optional(q.a, extra), q.b)
    return query.Or([q, *extra], scale=COORDINATION)


def _hoist_negations(q: Any) -> Any:
    """`gaussian -splatting` parses as `gaussian OR NOT splatting`, which matches nearly
    everything; what users mean is `gaussian` and not `splatting`."""
    if not isinstance(q, query.Or):
        return q
    negative = [child.query for child in q.subqueries if isinstance(child, query.Not)]
    if not negative:
        return q
    positive = [child for child in q.subqueries if not isinstance(child, query.Not)]
    kept = query.Or(positive, scale=COORDINATION) if positive else query.Every()
    return query.AndNot(kept, query.Or(negative))


def _long_form_hits(text: str, lookup: Expansions) -> dict[str, list[str]]:
    """Long forms typed out in the query ("mixture of experts") -> their acronyms."""
    words = normalize_long_form(text).split()
    grams = [
        " ".join(words[i : i + n]) for n in range(2, 7) for i in range(len(words) - n + 1)
    ]
    return lookup(grams) if grams else {}


# -- running ----------------------------------------------------------------------------


def _date_filter(plan: QueryPlan) -> Any:
    if plan.since is None and plan.until is None:
        return None
    # Open-ended NumericRanges misbehave on Whoosh's unsigned fields: give both ends.
    low = int(plan.since.strftime("%Y%m%d")) if plan.since else 0
    high = int(plan.until.strftime("%Y%m%d")) if plan.until else 99991231
    return query.NumericRange("date", low, high)


def _terms(q: Any) -> set[str]:
    found: set[str] = set()
    for fieldname, text in q.iter_all_terms():
        if fieldname in (DEFAULT_FIELD, "title", "abstract"):
            found.add(text.decode("utf-8") if isinstance(text, bytes) else str(text))
    return found


def _execute(searcher: Any, q: Any, plan: QueryPlan, limit: int, by_date: bool) -> Any:
    return searcher.search(q, limit=None if by_date else limit, filter=_date_filter(plan))


def _ranked(searcher: Any, results: Any, limit: int, by_date: bool) -> list[RawHit]:
    """Hits best first; by date, newest first with relevance breaking ties (scores kept)."""
    scored = [(hit.docnum, hit["id"], float(hit.score or 0.0)) for hit in results]
    if by_date:
        dates = searcher.reader().column_reader("date")
        scored.sort(key=lambda item: (dates[item[0]], item[2]), reverse=True)
    return [RawHit(paper_id, score) for _, paper_id, score in scored[:limit]]


def run(
    searcher: Any,
    plan: QueryPlan,
    *,
    limit: int,
    sort_by_date: bool,
    expansions: Expansions | None,
) -> IndexResults:
    notices = list(plan.notices)
    qp = parser(searcher.schema)
    text = plan.text
    explanation: dict[str, Any] = {"query": plan.original, "syntax_fallback": plan.plain}

    fixes = _corrections(searcher.reader(), text)
    if fixes:
        text = _apply(text, fixes)
        explanation["corrections"] = fixes
    q = _parse(qp, text, notices)
    if expansions is not None:
        alternatives = expansions(_words(text)) | _long_form_hits(text, expansions)
        q, described = _expand(q, alternatives)
        if described:
            explanation["expansions"] = described
    results = _execute(searcher, q, plan, limit, sort_by_date)
    if fixes and results.is_empty():
        q = _parse(qp, _fuzzy(plan.text, set(fixes)), notices)
        results = _execute(searcher, q, plan, limit, sort_by_date)
        explanation["fuzzy_fallback"] = True
        notices.append(f"no results for {text!r}; showing fuzzy matches for {plan.text!r}")
    elif fixes:
        notices.append(f"showing results for {text!r} (no papers use {', '.join(fixes)})")
    explanation["parsed"] = str(q)
    if plan.since or plan.until:
        explanation["dates"] = [
            plan.since.isoformat() if plan.since else None,
            plan.until.isoformat() if plan.until else None,
        ]
    return IndexResults(
        hits=_ranked(searcher, results, limit, sort_by_date),
        total=len(results) if sort_by_date else results.estimated_length(),
        terms=_terms(q),
        notices=notices,
        explanation=explanation,
    )


def more_like(searcher: Any, text: str, exclude_id: str, limit: int) -> IndexResults:
    key_terms = searcher.key_terms_from_text(DEFAULT_FIELD, text, numterms=25, normalize=True)
    if not key_terms:
        return IndexResults(hits=[], total=0)
    q = query.Or([query.Term(DEFAULT_FIELD, term, boost=weight) for term, weight in key_terms])
    results = searcher.search(q, limit=limit + 1, mask=query.Term("id", exclude_id))
    hits = [RawHit(hit["id"], float(hit.score or 0.0)) for hit in results][:limit]
    return IndexResults(hits=hits, total=len(hits), terms={t for t, _ in key_terms})


# -- snippets ---------------------------------------------------------------------------


def _matches(text: str, terms: set[str]) -> Iterator[tuple[int, int]]:
    for token in ANALYZER(text, chars=True, mode="index"):
        if token.text in terms:
            yield token.startchar, token.endchar


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
