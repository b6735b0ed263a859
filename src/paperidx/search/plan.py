"""Understanding what the user typed, before the index sees it.

Pure text work, no Whoosh (watch queries are checked with it, by `watch add` and `doctor`,
without loading the index): pulling `date:`, `is:` and `tag:` filters out of the
query, noticing malformed syntax (an unbalanced quote or parenthesis, a field with nothing
after it) and falling back to plain words so that no query string ever fails, and deciding
whether a query needs the query parser at all. Spelling correction and acronym expansion
need the index and the library, so they live in `paperidx.search.spelling` and
`paperidx.search.expansion`; this module only decides which words are plain enough for them
to touch.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from paperidx.lazyre import lazy_compile
from paperidx.search.fields import QUERY_FIELDS
from paperidx.state import StateFilter

_DATE_VALUE = r"\d{4}(?:-\d{2}(?:-\d{2})?)?"
_DATE_CLAUSE = lazy_compile(
    rf"(?<!\S)date:(?:(?P<op>[<>]=?)(?P<single>{_DATE_VALUE})"
    rf"|\[\s*(?P<low>{_DATE_VALUE})?\s+(?:to|TO)\s+(?P<high>{_DATE_VALUE})?\s*\]"
    rf"|(?P<from>{_DATE_VALUE})\.\.(?P<to>{_DATE_VALUE})?"
    rf"|(?P<exact>{_DATE_VALUE}))(?!\S)"
)
# The user's own state as filters: `is:starred`, `is:read`, `is:unread`, `tag:NAME`.
_STATE_CLAUSE = lazy_compile(
    r"(?<!\S)(?:is:(?P<is>starred|unstarred|read|unread)|tag:(?P<tag>[\w][\w.\-/:+]*))(?!\S)",
    re.IGNORECASE,
)
_FUZZY_DISTANCE = lazy_compile(r"~(\d+)")
MAX_FUZZY_EDITS = 2
_CONTROL = lazy_compile(r"[\x00-\x1f\x7f-\x9f]")
_SYNTAX = lazy_compile(r"[\"()\[\]{}:*?~^+\\]|(?<!\w)-|\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b")
_FIELD_PREFIX = lazy_compile(r"(?<![\w\"])(\w+):")
_PLAIN_WORD = lazy_compile(r"^[^\W_][\w'\-]*$")


@dataclass(slots=True)
class QueryPlan:
    """The query as it will be run, and what the user should be told about it."""

    original: str
    text: str
    since: dt.date | None = None
    until: dt.date | None = None
    plain: bool = False
    notices: list[str] = field(default_factory=list)
    state: StateFilter = field(default_factory=StateFilter)


def _day(value: str, *, end: bool) -> dt.date:
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 3:
        return dt.date(*parts)
    if len(parts) == 2:
        first = dt.date(parts[0], parts[1], 1)
        if not end:
            return first
        following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return following - dt.timedelta(days=1)
    return dt.date(parts[0], 12, 31) if end else dt.date(parts[0], 1, 1)


def _clause_bounds(match: re.Match[str]) -> tuple[dt.date | None, dt.date | None]:
    if match["exact"]:
        return _day(match["exact"], end=False), _day(match["exact"], end=True)
    if match["single"]:
        op, value = match["op"], match["single"]
        if op.startswith(">"):
            start = _day(value, end=op == ">")
            return (start + dt.timedelta(days=1) if op == ">" else start), None
        stop = _day(value, end=op == "<=")
        return None, (stop - dt.timedelta(days=1) if op == "<" else stop)
    low = match["low"] or match["from"]
    high = match["high"] or match["to"]
    return (
        _day(low, end=False) if low else None,
        _day(high, end=True) if high else None,
    )


def _narrow(
    current: tuple[dt.date | None, dt.date | None], extra: tuple[dt.date | None, dt.date | None]
) -> tuple[dt.date | None, dt.date | None]:
    since = max((d for d in (current[0], extra[0]) if d), default=None)
    until = min((d for d in (current[1], extra[1]) if d), default=None)
    return since, until


def syntax_problem(text: str) -> str | None:
    """Why the query's syntax cannot be trusted, or None when it looks well formed."""
    if text.count('"') % 2:
        return "an unbalanced quote"
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return "a ')' with no '('"
    if depth:
        return "an unbalanced parenthesis"
    if text.count("[") != text.count("]") or text.count("{") != text.count("}"):
        return "an unbalanced bracket"
    for match in _FIELD_PREFIX.finditer(text):
        rest = text[match.end() :]
        if not rest or rest[0].isspace() or rest[0] in ")":
            return f"'{match.group(1)}:' with nothing after it"
    if re.search(r"(?:^|\s)(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\s*$|^\s*(?:AND|OR)\b", text):
        return "an operator with nothing on one side"
    return None


_NEEDS_PARSER = lazy_compile(
    r"\"|(?<!\S)[-+](?=[\w\"(])|\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b"
    # Wildcards and fuzzy marks; a "?" ending a word is a question, not a wildcard.
    r"|\w\*|\*\w|\w\?\w|\w~"
    rf"|(?i:\b(?:{'|'.join(sorted(QUERY_FIELDS))}):)"
)


def needs_parser(text: str) -> bool:
    """Whether the query uses the query language (phrases, operators, fields, wildcards).

    Anything else is plain words, however it is punctuated: a pasted sentence with
    parentheses or a colon is still just words to match.
    """
    return bool(_NEEDS_PARSER.search(text))


def plain_words(text: str) -> str:
    """The query with every piece of syntax removed, field names included: just its words."""
    without_fields = re.sub(rf"(?i)\b(?:{'|'.join(sorted(QUERY_FIELDS))}):", " ", text)
    return " ".join(_SYNTAX.sub(" ", without_fields).split())


def plan_query(
    raw: str, *, since: dt.date | None = None, until: dt.date | None = None
) -> QueryPlan:
    text = " ".join(_CONTROL.sub(" ", raw).split())
    bounds: tuple[dt.date | None, dt.date | None] = (since, until)
    notices: list[str] = []

    def take_date(match: re.Match[str]) -> str:
        nonlocal bounds
        try:
            bounds = _narrow(bounds, _clause_bounds(match))
        except ValueError:
            notices.append(f"ignored {match.group()!r}: not a valid date")
        return " "

    text = " ".join(_DATE_CLAUSE.sub(take_date, text).split())
    wanted = StateFilter()

    def take_state(match: re.Match[str]) -> str:
        if match["tag"]:
            wanted.tags.append(match["tag"])
        else:
            kind = match["is"].lower()
            if kind in ("read", "unread"):
                wanted.read = kind == "read"
            else:
                wanted.starred = kind == "starred"
        return " "

    text = " ".join(_STATE_CLAUSE.sub(take_state, text).split())
    # Fuzzy matching past two edits matches everything and costs memory exponential in it.
    text = _FUZZY_DISTANCE.sub(lambda m: f"~{min(int(m.group(1)[:3]), MAX_FUZZY_EDITS)}", text)
    plan = QueryPlan(
        original=raw, text=text, since=bounds[0], until=bounds[1], notices=notices, state=wanted
    )
    problem = syntax_problem(text)
    if problem:
        plan.text = plain_words(text)
        plan.plain = True
        plan.notices.append(f"query has {problem}; searched for the plain words: {plan.text!r}")
    return plan


def is_plain_word(token: str) -> bool:
    """A word that spelling correction may touch: no syntax, no digits-only, not a field."""
    return (
        bool(_PLAIN_WORD.match(token))
        and not token.isdigit()
        and token
        not in (
            "AND",
            "OR",
            "NOT",
            "ANDNOT",
            "ANDMAYBE",
        )
    )


def plain_query_words(text: str) -> list[str]:
    """The query's words that spelling correction and acronym lookup may touch."""
    return [w for w in text.split() if is_plain_word(w)]
