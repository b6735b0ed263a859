"""The query language: Whoosh's query parser set up for paperidx, and what it parses to.

Queries with syntax (phrases, operators, fields, wildcards; see `plan.needs_parser`) are
parsed here into Whoosh queries that `ranking` runs with Whoosh's own searcher. `-word` and
`+word` are read the way search engines read them, `id:` is an id prefix, and a query the
parser chokes on falls back to its plain words.
"""

from __future__ import annotations

from typing import Any

from whoosh import qparser, query

from paperidx.lazyre import lazy_compile
from paperidx.search import fields
from paperidx.search.plan import plain_words
from paperidx.search.tuning import TITLE_WEIGHT


def parser(schema: Any) -> Any:
    """A parser over title+abstract and title (at the title's weight), words OR-ed."""
    qp = qparser.MultifieldParser(
        [fields.TEXT, fields.TITLE],
        schema,
        fieldboosts={fields.TITLE: TITLE_WEIGHT},
        group=qparser.OrGroup,
    )
    qp.add_plugin(qparser.FuzzyTermPlugin())
    qp.add_plugin(qparser.FieldAliasPlugin(fields.ALIASES))
    return qp


_MINUS = lazy_compile(r"(?:(?<=\s)|^)-(?=[\w\"(])")
_PLUS = lazy_compile(r"(?:(?<=\s)|^)\+(?=[\w\"(])")


def _operators(text: str) -> str:
    """`-word` means NOT word and `+word` just the word; a hyphen inside a word is not one."""
    return _PLUS.sub("", _MINUS.sub("NOT ", text))


def parse(qp: Any, text: str, notices: list[str]) -> Any:
    """`text` parsed by `qp`; when the parser fails, its plain words (saying so in `notices`)."""
    try:
        parsed = qp.parse(_operators(text))
    except Exception as error:  # whoosh's parser raises arbitrary errors on odd input
        fallback = plain_words(text)
        notices.append(f"could not parse the query ({type(error).__name__}); searched {fallback!r}")
        parsed = qp.parse(fallback)
    return _hoist_negations(_normalize_id_terms(parsed))


def _normalize_id_terms(q: Any) -> Any:
    """`id:3f2a` means a prefix of an id, as on the command line."""
    if isinstance(q, query.Term) and q.fieldname == fields.ID:
        return query.Prefix(fields.ID, str(q.text).lower())
    if isinstance(q, query.Term) and q.fieldname == fields.ARXIV_ID:
        from paperidx.text import normalize_arxiv_id

        return query.Term(fields.ARXIV_ID, normalize_arxiv_id(str(q.text)) or str(q.text))
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


def matched_terms(q: Any) -> set[str]:
    """The title and abstract terms a parsed query can match (for snippets)."""
    found: set[str] = set()
    for fieldname, text in q.iter_all_terms():
        if fieldname in (fields.TEXT, fields.TITLE):
            found.add(text.decode("utf-8") if isinstance(text, bytes) else str(text))
    return found
