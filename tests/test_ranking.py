"""Unit tests of the ranking internals that must agree with the index's analyzer."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from paperidx.search.analysis import analyse, snippet, term_positions
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
