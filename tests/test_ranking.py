"""Unit tests of the ranking internals that must agree with the index's analyzer."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from paperidx.search import analysis, lexicon
from paperidx.search.analysis import TOKEN_PATTERN, analyse, snippet, term_positions
from paperidx.search.spelling import edit_distance

from .conftest import SAMPLE

ABSTRACTS = [line for line in SAMPLE.read_text(encoding="utf-8").splitlines() if len(line) > 300]
WORDS = sorted({term for text in ABSTRACTS for term in analyse(text)})


def positions_by_analyzer(text: str, wanted: set[str]) -> tuple[dict[str, list[int]], int]:
    terms = analyse(text)
    found: dict[str, list[int]] = {}
    for index, term in enumerate(terms):
        if term in wanted:
            found.setdefault(term, []).append(index)
    return found, len(terms)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ABSTRACTS), st.sets(st.sampled_from(WORDS), min_size=1, max_size=6))
def test_fast_positions_equal_the_analyzer_positions(text: str, wanted: set[str]) -> None:
    assert term_positions(text, wanted) == positions_by_analyzer(text, wanted)


# Words of the sample, stop words, hyphenated compounds and words that stem alike, joined
# by spaces and punctuation: texts where a term repeats and comes from several words.
_PIECES = st.sampled_from(
    [
        *WORDS[:400:7],
        *("the", "of", "a", "is", "gaussian", "splatting", "splats", "splat", "Splat"),
        *("low-rank", "gpt-4", "mixture-of-experts", "the-of", "a--b", "1.8", "GPT-4o"),
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(_PIECES, st.sampled_from([" ", ", ", ". ", " (", ") "])), max_size=80),
    st.sets(st.sampled_from([*WORDS[:400:7], "gaussian", "splat", "gpt", "lowrank"]), min_size=1),
)
def test_positions_equal_the_analyzer_on_texts_with_repeats_and_compounds(
    pieces: list[tuple[str, str]], wanted: set[str]
) -> None:
    text = "".join(word + gap for word, gap in pieces)
    assert term_positions(text, wanted) == positions_by_analyzer(text, wanted)


def analyse_words(text: str) -> list[list[str]]:
    """The words the stemmer sees: tokens, lower case, split at hyphens."""
    return [token.split("-") for token in re.findall(TOKEN_PATTERN, text.lower())]


def test_every_word_of_the_field_starts_like_its_stem() -> None:
    # Re-ranking and snippets stem only the words that start like a wanted term
    # (`analysis._prefix`): that must hold for every word, or a match is missed. The
    # shipped vocabulary's 34,000 words (`lexicon.words`' lines: a count, then words) and
    # the sample's words, with their Porter2 stems.
    from whoosh.lang.porter2 import stem

    vocabulary = lexicon._words().text.split()
    words = {part for text in ABSTRACTS for word in analyse_words(text) for part in word}
    words |= {word for word in vocabulary if not word.isdigit() and not word.startswith("#")}
    pairs = {word: stem(word) for word in words if word}
    assert len(pairs) > 30_000
    missed = {
        word: found
        for word, found in pairs.items()
        if not analysis._starts_like(word, (analysis._prefix(found),))
    }
    assert missed == {}


def test_a_term_from_several_words_has_its_positions_in_order() -> None:
    text = "Splatting splats; the splat, low-rank lowrank splatting"
    expected = {"splat": [0, 1, 2, 7], "lowrank": [5, 6]}
    assert term_positions(text, {"splat", "lowrank"}) == (expected, 8)
    assert positions_by_analyzer(text, {"splat", "lowrank"}) == (expected, 8)


def test_hyphenated_words_index_as_parts_and_joined() -> None:
    assert analyse("GPT-4 and low-rank adaptation") == [
        "gpt",
        "4",
        "gpt4",
        "low",
        "rank",
        "lowrank",
        "adapt",
    ]


def test_edit_distance_counts_a_swap_as_one() -> None:
    assert edit_distance("protien", "protein") == 1
    assert edit_distance("gausian", "gaussian") == 1
    assert edit_distance("abc", "abc") == 0


def test_snippet_centres_on_matches_and_marks_them() -> None:
    text = "filler words here. " * 30 + "Gaussian splatting renders scenes. " + "tail. " * 30
    shown, spans = snippet(text, {"gaussian", "splat"}, width=120)
    assert shown.startswith("…") and shown.endswith("…")
    assert [shown[s:e] for s, e in spans] == ["Gaussian", "splatting"]
