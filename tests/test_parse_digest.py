"""The plain-text digest parser, on the bundled sample and its real-world variations."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from paperidx.parsing.base import Notice, ParseOptions, RawRecord, Skipped
from paperidx.parsing.digest import is_noise, parse_date_line, parse_digest

from .conftest import SAMPLE, invoke

TODAY = dt.date(2026, 11, 25)


def parse(text: str, **options: object) -> list[object]:
    opts = ParseOptions(today=TODAY, **options)  # type: ignore[arg-type]
    return list(parse_digest(text.splitlines(), opts))


def papers(events: list[object]) -> list[RawRecord]:
    return [e for e in events if isinstance(e, RawRecord)]


def sample_text() -> str:
    return SAMPLE.read_text(encoding="utf-8")


def expected_sample_pairs() -> list[tuple[str, str]]:
    # The sample's layout is regular: after the header, title and abstract alternate
    # as single lines separated by blank lines, starting at line 11.
    lines = sample_text().splitlines()
    body = [line for line in lines[10:] if line.strip()]
    return list(zip(body[0::2], body[1::2], strict=True))


def test_sample_has_exactly_67_papers_with_exact_titles_and_abstracts() -> None:
    found = papers(parse(sample_text()))
    expected = expected_sample_pairs()
    assert len(found) == 67 == len(expected)
    assert [(p.title, p.abstract) for p in found] == expected
    assert found[0].title.startswith("eDKM: An Efficient and Accurate Train-time")
    assert found[-1].title.startswith("What You See is What You GAN")


def test_sample_keeps_unicode_and_tex_verbatim() -> None:
    found = {p.title: p for p in papers(parse(sample_text()))}
    assert "DεpS: Delayed ε-Shrinking for Faster Once-For-All Training" in found
    edkm = next(p for p in found.values() if p.title.startswith("eDKM"))
    assert r"\prjname can fine-tune" in edkm.abstract


def test_sample_date_line_sets_the_date_with_an_assumed_year() -> None:
    events = parse(sample_text())
    assert {p.date for p in papers(events)} == {dt.date(2026, 5, 7)}
    notices = [e for e in events if isinstance(e, Notice)]
    assert len(notices) == 1 and "assumed 2026" in notices[0].message


def test_year_option_and_date_option_set_the_year() -> None:
    assert {p.date for p in papers(parse(sample_text(), year=2024))} == {dt.date(2024, 5, 7)}
    events = parse(sample_text(), date=dt.date(2023, 1, 2))
    assert {p.date for p in papers(events)} == {dt.date(2023, 5, 7)}
    assert not [e for e in events if isinstance(e, Notice)]


def test_header_noise_is_skipped_and_reported_not_glued() -> None:
    found = parse(sample_text())
    skipped = [e for e in found if isinstance(e, Skipped)]
    assert len(skipped) == 1 and skipped[0].line == 1
    assert "Subscribe" in skipped[0].reason
    for paper in papers(found):
        assert "Subscribe" not in paper.title and "byAK" not in paper.abstract


def test_crlf_and_cr_copies_parse_identically() -> None:
    original = [(p.title, p.abstract) for p in papers(parse(sample_text()))]
    crlf = sample_text().replace("\n", "\r\n")
    # str.splitlines handles CR and CRLF like the file reader does.
    assert [(p.title, p.abstract) for p in papers(parse(crlf))] == original
    cr = sample_text().replace("\n", "\r")
    assert [(p.title, p.abstract) for p in papers(parse(cr))] == original


def test_hard_wrapped_abstracts_are_joined() -> None:
    wrapped = []
    for title, abstract in expected_sample_pairs():
        wrapped += [
            title,
            "",
            *textwrap.wrap(abstract, width=72, break_on_hyphens=False, break_long_words=False),
            "",
        ]
    found = papers(parse("May 7, 2024\n\n" + "\n".join(wrapped)))
    assert [(p.title, p.abstract) for p in found] == expected_sample_pairs()
    assert {p.date for p in found} == {dt.date(2024, 5, 7)}


def test_noise_between_papers_upvotes_and_submitters() -> None:
    text = """Daily Papers

Jun 29

12

Submitted by someone

A Short Title About Gaussian Splatting

We present a method. It renders scenes quickly and accurately, beating prior work.

· 3 authors

47
A Second Title

Another abstract that is long enough. It has two sentences for good measure.
"""
    found = papers(parse(text, year=2024))
    assert [p.title for p in found] == ["A Short Title About Gaussian Splatting", "A Second Title"]
    assert all(p.date == dt.date(2024, 6, 29) for p in found)
    assert "authors" not in found[0].abstract


def test_multi_day_digest_dates_apply_below() -> None:
    text = (
        "2024-05-07\n\nFirst Paper\n\nAbstract one. It is about one thing.\n\n"
        "May 8, 2024\n\nSecond Paper\n\nAbstract two. It is about another thing.\n"
    )
    found = papers(parse(text))
    assert [(p.title, p.date) for p in found] == [
        ("First Paper", dt.date(2024, 5, 7)),
        ("Second Paper", dt.date(2024, 5, 8)),
    ]


def test_unrecognised_short_paragraph_before_a_title_is_skipped() -> None:
    text = "Trending this week in AI\n\nReal Title of the Paper\n\n" + "A long abstract. " * 30
    events = parse(text)
    assert [p.title for p in papers(events)] == ["Real Title of the Paper"]
    assert any(isinstance(e, Skipped) and e.line == 1 for e in events)


def test_future_yearless_date_rolls_back_a_year() -> None:
    found = papers(parse("Dec 30\n\nTitle\n\nAbstract text. With two sentences.\n"))
    assert found[0].date == dt.date(2025, 12, 30)


def test_a_yearless_date_that_cannot_roll_back_keeps_its_year() -> None:
    """Feb 29 has no leap year before it; year 1 has no year before it (a clock at year 1
    made the parser fail: found by tests/test_reliability_fuzz.py)."""

    def date_read_on(today: dt.date, shown: str) -> dt.date | None:
        text = f"{shown}\n\nTitle\n\nAbstract text. With two sentences.\n"
        found = papers(list(parse_digest(text.splitlines(), ParseOptions(today=today))))
        return found[0].date

    assert date_read_on(dt.date(2028, 2, 1), "Feb 29") == dt.date(2028, 2, 29)
    assert date_read_on(dt.date(1, 1, 3), "May 7") == dt.date(1, 5, 7)
    assert date_read_on(dt.date(2, 1, 3), "May 7") == dt.date(1, 5, 7)


def test_date_lines_and_noise_recognition() -> None:
    assert parse_date_line("May 7") == (None, 5, 7)
    assert parse_date_line("Jun 29, 2024") == (2024, 6, 29)
    assert parse_date_line("2024-05-07") == (2024, 5, 7)
    assert parse_date_line("Published on May 7") == (None, 5, 7)
    assert parse_date_line("May 7 papers are great") is None
    assert parse_date_line("Mayhem 7") is None
    assert is_noise("Get trending papers in your email inbox!")
    assert (
        is_noise("· 3 authors") and is_noise("128") and is_noise("byAK and the research community")
    )
    assert not is_noise("Newton's method revisited")


def test_trailing_title_without_abstract_is_reported() -> None:
    events = parse("Title\n\nAbstract here. Two sentences.\n\nOrphan Title\n")
    assert len(papers(events)) == 1
    assert any(isinstance(e, Skipped) and "no abstract" in e.reason for e in events)


# -- property: a digest rendered from papers parses back to the same papers ------------------

_word = st.text(
    alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd"), max_codepoint=0x3FF),
    min_size=1,
    max_size=10,
)
_title = (
    st.lists(_word, min_size=2, max_size=12)
    .map(" ".join)
    .filter(lambda t: not is_noise(t) and parse_date_line(t) is None)
)
_sentence = st.lists(_word, min_size=4, max_size=14).map(lambda ws: " ".join(ws) + ".")
_abstract = (
    st.lists(_sentence, min_size=1, max_size=8)
    .map(" ".join)
    .map(
        lambda s: s if len(s) >= 300 else (s + " Moreover, results improve. ") * (300 // len(s) + 1)
    )
    .map(str.strip)
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(_title, _abstract), min_size=1, max_size=6),
    st.sampled_from(["\n", "\r\n"]),
    st.integers(min_value=0, max_value=1),
    st.booleans(),
)
def test_rendered_digest_parses_back(
    pairs: list[tuple[str, str]], newline: str, wrap: int, with_header: bool
) -> None:
    blocks = ["new", "Subscribe", "May 7"] if with_header else []
    for title, abstract in pairs:
        body = (
            textwrap.wrap(abstract, width=70, break_on_hyphens=False, break_long_words=False)
            if wrap
            else [abstract]
        )
        blocks += [title, "\n".join(body)]
    text = (
        (newline * 2).join(blocks).replace("\n", newline)
        if newline == "\n"
        else ("\n\n".join(blocks).replace("\n", "\r\n"))
    )
    found = papers(parse(text, year=2024))
    assert [(p.title, p.abstract) for p in found] == [(t, " ".join(a.split())) for t, a in pairs]


# -- audit: titles beginning with "[", e-mail footers ------------------------------------------


def test_digest_whose_first_title_starts_with_a_bracket_ingests(tmp_path: Path) -> None:
    from paperidx.parsing import detect_format

    text = (
        "[Re] Reproducibility of Fair Ranking Methods\n\n"
        "We reproduce a paper on fair ranking. Our results mostly confirm the original "
        "claims, with some caveats.\n\n"
        "[CLS] Tokens Are Not All You Need\n\n"
        "We study the classification token. It is less special than believed.\n"
    )
    assert detect_format(text) == "digest"
    path = tmp_path / "digest.txt"
    path.write_text(text, encoding="utf-8")
    result = invoke("ingest", str(path))
    assert result.exit_code == 0, result.output
    listed = invoke("list", "--format", "jsonl")
    titles = {json.loads(line)["title"] for line in listed.stdout.splitlines()}
    assert titles == {
        "[Re] Reproducibility of Fair Ranking Methods",
        "[CLS] Tokens Are Not All You Need",
    }


def test_json_arrays_are_still_json() -> None:
    from paperidx.parsing import detect_format

    assert detect_format('[\n  {"title": "x", "abstract": "y"}\n]') == "json"
    assert detect_format("[]") == "json"


def test_email_footer_and_upvote_lines_are_furniture() -> None:
    text = """Daily Papers

May 7, 2024

A Title About Things

An abstract. It has two sentences for good measure.

Upvote 12

Another Title

Another abstract that is long enough. It has two sentences too.

You are receiving this because you subscribed.

Unsubscribe from these emails

View in browser
"""
    events = parse(text)
    assert [p.title for p in papers(events)] == ["A Title About Things", "Another Title"]
    reasons = " ".join(e.reason for e in events if isinstance(e, Skipped))
    assert "Upvote 12" in reasons and "Unsubscribe" in reasons
    assert is_noise("Upvote 12") and is_noise("View in browser")
    assert is_noise("Unsubscribe from these emails")
