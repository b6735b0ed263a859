"""Text analysis: the index's analyzer, the same analysis for queries, and snippets.

`ANALYZER` is what the index is built with (`paperidx.search.index`) and what queries are
analysed with here, so the two always agree. `term_positions` and the snippets give the
same tokens where it matters without stemming every word (most words of an abstract are
never wanted); tests/test_ranking.py checks them against the analyzer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from itertools import accumulate
from typing import Any

from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.analysis.filters import STOP_WORDS
from whoosh.lang.porter2 import exceptional_forms
from whoosh.lang.porter2 import stem as porter2_stem

# Words with inner hyphens or dots kept together ("gpt-4", "1.8").
TOKEN_PATTERN = r"\w+(?:[-.]\w+)*"


class HyphenFilter(Filter):  # type: ignore[misc]
    """ "GPT-4" -> "gpt", "4", "gpt4": parts and the joined form, so every spelling matches.

    Part of the pickled schema: moving it (its module or name) makes every index built
    before unreadable, so a move must come with a new `index.SCHEMA_VERSION`.
    """

    def __call__(self, tokens: Iterable[Any]) -> Iterator[Any]:
        for token in tokens:
            text = token.text
            if "-" not in text:
                yield token
                continue
            for piece in hyphen_pieces(text):
                token.text = piece
                yield token


def hyphen_pieces(text: str) -> list[str]:
    """What `HyphenFilter` makes of a token with a hyphen: its parts, then (if more than one)
    the parts joined."""
    parts = [part for part in text.split("-") if part]
    return [*parts, "".join(parts)] if len(parts) > 1 else parts


def _analyzer() -> Any:
    """Words with inner hyphens or dots kept together ("gpt-4", "1.8"), Whoosh's short stop
    list, one-letter words kept, Porter2 stems (measured in benchmarks/quality.py)."""
    return (
        RegexTokenizer(TOKEN_PATTERN)
        | HyphenFilter()
        | LowercaseFilter()
        | StopFilter(stoplist=STOP_WORDS, minsize=1)
        | StemFilter(stemfn=porter2_stem, cachesize=-1)
    )


ANALYZER = _analyzer()

_TOKEN = re.compile(TOKEN_PATTERN)


@lru_cache(maxsize=1 << 16)
def analysed(token: str) -> tuple[str, ...]:
    """The index terms of one raw token (cached: words repeat)."""
    return tuple(t.text for t in ANALYZER(token))


def analyse(text: str) -> list[str]:
    """The index's analysis of `text`, one raw token at a time."""
    return [term for match in _TOKEN.finditer(text) for term in analysed(match.group())]


def stem(word: str) -> str | None:
    """The one index term a word gives, or None (a stop word, or a hyphenated word)."""
    tokens = analysed(word)
    return tokens[0] if len(tokens) == 1 else None


_STOP_WORDS = frozenset(STOP_WORDS)
# Porter2 rewrites only a word's last letters -- a final "y" to "i", an "e" added or
# dropped, a suffix swapped ("capabilities" -> "capabl") -- so a word gives a stem only if
# it starts with the stem less its last two letters, and with at least its first two,
# compared with y and i as one letter (tests/test_ranking.py holds every word of the
# shipped vocabulary to this). A word starting otherwise is not stemmed to be sure.
_REWRITTEN = 2
_KEPT = 2


def _prefix(stem: str) -> str:
    return stem[: max(len(stem) - _REWRITTEN, _KEPT)].replace("y", "i")


def _starts_like(word: str, prefixes: tuple[str, ...]) -> bool:
    # The few words porter2 rewrites whole ("dying" -> "die") are always stemmed.
    return word.replace("y", "i").startswith(prefixes) or word in exceptional_forms


def _could_stem_to(word: str, prefixes: tuple[str, ...]) -> bool:
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


_NO_TOKEN: tuple[str | None, ...] = ()
_ONE_OTHER: tuple[str | None, ...] = (None,)


class _TermFinder:
    """The index tokens of each word, with only the wanted terms named, memoised per word:
    the abstracts a query re-ranks and snips share most of their words."""

    def __init__(self, wanted: frozenset[str]) -> None:
        self.wanted = wanted
        self._prefixes = tuple({_prefix(term) for term in wanted})
        # Every word met so far -> its index tokens; and the words among them that give a
        # wanted term.
        self.tokens_of: dict[str, tuple[str | None, ...]] = {}
        self.naming: set[str] = set()

    def learn(self, words: set[str]) -> None:
        """Memoise the tokens of new words. Most words of an abstract are plain words that
        cannot stem to a wanted term; they are told apart in one pass and stored in bulk
        (the 30 abstracts a search re-ranks hold ~1,500 distinct words, each met once)."""
        new = words.difference(self.tokens_of)
        prefixes = self._prefixes
        plain = {word for word in new if "-" not in word and not _starts_like(word, prefixes)}
        stop = plain.intersection(_STOP_WORDS)
        others = plain.difference(stop)
        self.tokens_of.update(dict.fromkeys(stop, _NO_TOKEN))
        self.tokens_of.update(dict.fromkeys(others, _ONE_OTHER))
        for word in new.difference(plain):
            self.tokens(word)

    def tokens(self, word: str) -> tuple[str | None, ...]:
        """`word` (lower-case) as index tokens: a wanted term, or None for any other."""
        found = self.tokens_of.get(word)
        if found is None:
            if _could_stem_to(word, self._prefixes):
                found = tuple(t if t in self.wanted else None for t in analysed(word))
            else:
                found = (None,) * _placeholders(word)
            self.tokens_of[word] = found
            if any(found):
                self.naming.add(word)
        return found


@lru_cache(maxsize=8)
def _finder(wanted: frozenset[str]) -> _TermFinder:
    return _TermFinder(wanted)


def term_positions(text: str, wanted: set[str]) -> tuple[dict[str, list[int]], int]:
    """Index-token positions of the wanted terms in `text`, and its length in tokens.

    The same positions the analyzer would give, without a Python step per word (re-ranking
    runs this on 30 abstracts of every search): the words' token counts are summed into
    positions in C, and only the few words that give a wanted term are then looked up.
    """
    finder = _finder(frozenset(wanted))
    words = _TOKEN.findall(text.lower())
    finder.learn(set(words))
    starts = list(accumulate(map(len, map(finder.tokens_of.__getitem__, words)), initial=0))
    positions: dict[str, list[int]] = {}
    for word in finder.naming.intersection(words):
        terms = finder.tokens(word)
        for index in _indexes(words, word):
            for offset, term in enumerate(terms):
                if term is not None:
                    positions.setdefault(term, []).append(starts[index] + offset)
    for found in positions.values():
        found.sort()  # a term can come from several words ("splat", "splatting")
    return positions, starts[-1]


def _indexes(items: list[str], item: str) -> Iterator[int]:
    """Where `item` occurs in `items` (each search runs in C)."""
    index = -1
    while True:
        try:
            index = items.index(item, index + 1)
        except ValueError:
            return
        yield index


# -- snippets ---------------------------------------------------------------------------


def _matches(text: str, terms: set[str]) -> list[tuple[int, int]]:
    """The character spans of the words of `text` that give one of `terms`."""
    finder = _finder(frozenset(terms))
    found = [(match, match.group().lower()) for match in _TOKEN.finditer(text)]
    finder.learn({word for _, word in found})
    return [match.span() for match, word in found if word in finder.naming]


def snippet(
    text: str, terms: set[str], width: int = 220
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The stretch of `text` with the most distinct matched terms, and the matches in it."""
    spans = _matches(text, terms)
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
