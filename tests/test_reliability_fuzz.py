"""Every parser, fed anything, only ever yields its own events -- never raises.

Hypothesis throws arbitrary text, JSON of any shape and near-miss versions of each
format at the digest, JSON Lines, JSON array, HF API and HF page parsers. The outcomes
that matter are ours: a stream of `RawRecord`, `Skipped` and `Notice`; each record is then
either a valid `Paper` or `Rejected` by validation; format detection names a format.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperidx.errors import InputError
from paperidx.models import Paper, Rejected, validate_raw
from paperidx.parsing import FORMAT_NAMES as FORMATS
from paperidx.parsing import detect_format, parser_for
from paperidx.parsing.base import CarriedWatch, Notice, ParseOptions, RawRecord, Skipped

PARSERS = sorted(FORMATS)  # digest, hf-api, hf-page, json, jsonl (whichever exist)
FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Text with the characters that break naive parsers: controls, NUL, surrogate-free
# astral characters, bidi marks, CR/LF mixtures, brackets, quotes, backslashes.
nasty_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list("[](){}#*_`\\\"':,.·•▲\t\r\x00\x1b\u202e\ufeff")),
    ),
    max_size=120,
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    nasty_text,
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)

# Keys the parsers look for, so the fuzzer reaches past "not a paper" often.
PAPER_KEYS = [
    "title", "abstract", "summary", "authors", "arxiv_id", "id", "date", "dates",
    "links", "sources", "paper", "publishedAt", "submittedOnDailyAt", "githubRepo",
    "projectPage", "name", "data", "papers", "items", "results", "upvotes", "numComments",
]  # fmt: skip
paper_like: st.SearchStrategy[Any] = st.recursive(
    st.dictionaries(st.sampled_from(PAPER_KEYS), json_values, max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(PAPER_KEYS), children, max_size=4)
    ),
    max_leaves=12,
)
iso_like = st.one_of(
    st.dates().map(dt.date.isoformat),
    st.just("2024-02-30"),
    st.just("9999-99-99T99:99:99Z"),
    st.just("2024-05-27T07:54:25.329Z"),
)


def as_lines(value: Any, pretty: bool) -> list[str]:
    return json.dumps(value, indent=2 if pretty else None).split("\n")


def json_lines(values: list[Any]) -> list[str]:
    return [json.dumps(value) for value in values]


# Markdown and text-browser fragments of the huggingface.co/papers page.
PAGE_FRAGMENTS = [
    "---", "retrieved: 2026-10-02", "url: https://huggingface.co/papers/date/2025-01-10",
    "# Web source", "- Captured (UTC): 2026-06-29T16:31:22", "```", "~~~",
    "### [A Title](https://huggingface.co/papers/2405.15738)", "### [Unclosed title",
    "## [", "#### [x][12]", "[", "]", "][12]", "[12]: https://arxiv.org/abs/2405.15738",
    "[101](https://huggingface.co/login?next=x)", "[- 3 authors](https://x)",
    "[![logo](https://x/y.png)Org](https://huggingface.co/org)", "·", "May 29", "Feb 29",
    "Mar 8, 2024 [ 6][39]", "May 29[6](https://huggingface.co/papers/2606.00683#community)",
    "Abstract text that is long enough. It has sentences.\\", "Engage\\  with", "\\[", "",
]  # fmt: skip
page_lines = st.lists(st.one_of(st.sampled_from(PAGE_FRAGMENTS), nasty_text), max_size=40)

# Plain-text digest furniture and near-misses.
DIGEST_FRAGMENTS = [
    "", "May 7", "Published on May 7", "2024-05-07", "2024-02-30", "Dec 31, 1999",
    "Subscribe", "new", "12", "▲ 3", "Submitted by someone", "· 4 authors", "---",
    "A Short Title", "An abstract sentence. Another sentence follows here.",
]  # fmt: skip
digest_lines = st.lists(st.one_of(st.sampled_from(DIGEST_FRAGMENTS), nasty_text), max_size=40)

any_lines = st.one_of(
    st.lists(nasty_text, max_size=30),
    st.builds(as_lines, json_values, st.booleans()),
    st.builds(as_lines, paper_like, st.booleans()),
    st.builds(json_lines, st.lists(paper_like, max_size=6)),
    page_lines,
    digest_lines,
)

options_strategy = st.builds(
    ParseOptions,
    date=st.none() | st.dates(),
    year=st.none() | st.integers(min_value=1, max_value=9999),
    today=st.dates(min_value=dt.date(1, 1, 3), max_value=dt.date(9999, 12, 29)),
    source_name=st.none() | iso_like.map(lambda day: f"{day}.json") | nasty_text,
)


def assert_only_our_outcomes(parse: Callable[..., Any], lines: list[str], options: Any) -> None:
    """Only our own events, or one `InputError` of one line for a file that is unreadable
    as a whole (malformed XML, a BibTeX file with nothing readable); never another error."""
    try:
        _check_events(parse, lines, options)
    except InputError as error:
        assert str(error) and "\n" not in str(error)


def _check_events(parse: Callable[..., Any], lines: list[str], options: Any) -> None:
    for event in parse(iter(lines), options):
        assert isinstance(event, RawRecord | Skipped | Notice | CarriedWatch), type(event)
        if isinstance(event, CarriedWatch):
            assert event.name and event.query
            continue
        if isinstance(event, Skipped):
            assert isinstance(event.line, int) and event.line >= 1
            assert isinstance(event.reason, str) and event.reason
        elif isinstance(event, Notice):
            assert isinstance(event.message, str) and event.message
        else:
            assert isinstance(event.title, str) and isinstance(event.abstract, str)
            assert event.line >= 1
            try:
                assert isinstance(validate_raw(event, "fuzz.txt"), Paper)
            except Rejected as rejected:
                assert rejected.problems


@pytest.mark.parametrize("name", PARSERS)
@FUZZ
@given(lines=any_lines, options=options_strategy)
def test_every_parser_survives_anything(name: str, lines: list[str], options: Any) -> None:
    assert_only_our_outcomes(parser_for(name), lines, options)


@pytest.mark.parametrize("name", [n for n in PARSERS if n in ("json", "hf-api")])
@FUZZ
@given(document=paper_like, pretty=st.booleans(), options=options_strategy)
def test_json_parsers_survive_any_document_shape(
    name: str, document: Any, pretty: bool, options: Any
) -> None:
    assert_only_our_outcomes(parser_for(name), as_lines(document, pretty), options)


@pytest.mark.skipif("hf-api" not in FORMATS, reason="no HF API parser yet")
@FUZZ
@given(
    items=st.lists(
        st.fixed_dictionaries(
            {
                "paper": st.fixed_dictionaries(
                    {
                        "id": st.one_of(nasty_text, st.just("2405.15738"), json_values),
                        "title": st.one_of(nasty_text, json_values),
                        "summary": st.one_of(nasty_text, json_values),
                        "authors": st.one_of(
                            st.lists(st.fixed_dictionaries({"name": json_values}), max_size=3),
                            json_values,
                        ),
                        "submittedOnDailyAt": st.one_of(iso_like, json_values),
                        "publishedAt": st.one_of(iso_like, json_values),
                        "githubRepo": st.one_of(nasty_text, st.just(" https://github.com/a/\nb")),
                    }
                )
            }
        ),
        max_size=5,
    ),
    as_python_repr=st.booleans(),
    options=options_strategy,
)
def test_hf_api_parser_survives_near_real_items(
    items: list[Any], as_python_repr: bool, options: Any
) -> None:
    # The real archive holds some items as strings of Python dict reprs.
    elements = [repr(item) for item in items] if as_python_repr else items
    assert_only_our_outcomes(parser_for("hf-api"), as_lines(elements, True), options)


@FUZZ
@given(head=st.one_of(nasty_text, any_lines.map("\n".join)))
def test_format_detection_names_a_format_or_refuses_in_one_line(head: str) -> None:
    try:
        assert detect_format(head, "f") in FORMATS
    except InputError as error:
        assert str(error).startswith("f: not a digest paperidx can read (looks like ")
        assert "\n" not in str(error)
