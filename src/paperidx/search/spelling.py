"""Spelling correction from the index's own vocabulary, and the fuzzy fallback.

A plain query word whose stem the library does not have is corrected to the most frequent
word one edit away whose stem it has (long words: the closest indexed stem within two
edits). If the corrected query finds nothing, the typed words are matched fuzzily instead.

A word the field uses (the shipped `lexicon` knows it: "turning", "photo", "solvers") is
never corrected, even when the user's small library lacks it: it is a real word, and turning
it into a word the library has changes what the user asked. Corrections therefore only ever
touch words neither knows, and only ever give words the library has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from paperidx.search import fields
from paperidx.search.analysis import stem
from paperidx.search.plan import plain_query_words
from paperidx.search.tuning import (
    LONG_WORD,
    LONGEST_WORD,
    MAX_EDIT_DISTANCE,
    SHORT_QUERY_WORDS,
    SHORTEST_CORRECTED,
    SHORTEST_CORRECTED_IN_LONG_QUERY,
)


def edit_distance(a: str, b: str) -> int:
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
        candidate_stem = stem(candidate)
        if candidate_stem is None or (fields.TEXT, candidate_stem) not in reader:
            continue
        frequency = reader.doc_frequency(fields.TEXT, candidate_stem)
        if best is None or (frequency, candidate) > best:
            best = (frequency, candidate)
    return best[1] if best else None


def _close_stem(reader: Any, word_stem: str) -> str | None:
    """For long words: the closest indexed stem within two edits (then most frequent)."""
    scored = []
    for candidate in reader.terms_within(fields.TEXT, word_stem, MAX_EDIT_DISTANCE, prefix=1):
        distance = edit_distance(word_stem, candidate)
        if 0 < distance <= MAX_EDIT_DISTANCE and len(candidate) > 3:
            scored.append((distance, -reader.doc_frequency(fields.TEXT, candidate), candidate))
    return min(scored)[2] if scored else None


@dataclass(frozen=True, slots=True)
class Spelling:
    """What correction made of a query's words."""

    # Misspelled word -> a word the library has.
    fixes: dict[str, str] = field(default_factory=dict)
    # Words the library lacks but the lexicon knows, left as typed.
    known: list[str] = field(default_factory=list)


def check(reader: Any, text: str) -> Spelling:
    """Corrections for the plain words whose stem the library lacks and the lexicon does not
    know.

    One edit away, the corrected word itself is found; further away (long words only) the
    closest indexed stem is used as it is.
    """
    result = Spelling()
    words = plain_query_words(text)
    shortest = (
        SHORTEST_CORRECTED if len(words) <= SHORT_QUERY_WORDS else SHORTEST_CORRECTED_IN_LONG_QUERY
    )
    for word in words:
        word_stem = stem(word)
        if (
            word_stem is None
            or not shortest <= len(word) <= LONGEST_WORD
            or (fields.TEXT, word_stem) in reader
        ):
            continue
        # Imported (and its vocabulary read) only when a word is missing from the library.
        from paperidx.search import lexicon

        if lexicon.knows(word):
            result.known.append(word)
            continue
        corrected = _close_word(reader, word.lower())
        if corrected is None and len(word) >= LONG_WORD:
            corrected = _close_stem(reader, word_stem)
        if corrected is not None:
            result.fixes[word] = corrected
    return result


def corrections(reader: Any, text: str) -> dict[str, str]:
    """Misspelled word -> corrected word (see `check`)."""
    return check(reader, text).fixes


def corrected(text: str, fixes: dict[str, str]) -> str:
    """`text` with the corrections made."""
    return " ".join(fixes.get(token, token) for token in text.split())


def fuzzy(text: str, words: set[str]) -> str:
    """`text` with `words` marked for fuzzy matching (the query language's `word~2/1`)."""
    return " ".join(f"{t}~{MAX_EDIT_DISTANCE}/1" if t in words else t for t in text.split())
