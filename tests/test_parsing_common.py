"""The helpers every parser shares: dates, authors, identifiers, markup and TeX."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperidx.errors import InputError
from paperidx.parsing.common import (
    find_arxiv_id,
    join_document,
    normalize_doi,
    parse_date,
    resolve_year,
    split_authors,
    strip_markup,
    tex_to_text,
)

DAY = dt.date(2024, 11, 7)


@pytest.mark.parametrize(
    "text",
    [
        "2024-11-07",
        "2024-11-07T02:49:53Z",
        "2024-11-07T02:49:53.000-05:00",
        "Thu, 7 Nov 2024 02:49:53 GMT",
        "Thu, 07 Nov 2024 02:49:53 +0000",
        "7 Nov 2024",
        "7\u00a0November 2024",
        "Nov 7, 2024",
        "November 7th, 2024",
        "2024/11/07",
        "20241107",
    ],
)
def test_dates_as_digests_write_them(text: str) -> None:
    assert parse_date(text) == DAY


@pytest.mark.parametrize("text", ["", "2024", "2024-11", "Nov 2024", "2024-02-30", "soon"])
def test_what_is_not_a_day_is_none(text: str) -> None:
    assert parse_date(text) is None


def test_a_year_less_day_is_the_most_recent_one() -> None:
    assert resolve_year(12, 30, dt.date(2025, 1, 2)) == dt.date(2024, 12, 30)
    assert resolve_year(1, 3, dt.date(2025, 1, 2)) == dt.date(2025, 1, 3)  # within the slack
    assert resolve_year(2, 29, dt.date(2025, 3, 1)) == dt.date(2024, 2, 29)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Alice Smith, Bob Jones and Carol Lee", ["Alice Smith", "Bob Jones", "Carol Lee"]),
        ("A. Author, B. Author, and C. Author", ["A. Author", "B. Author", "C. Author"]),
        ("Alice Smith (MIT), Bob Jones (1, 2)", ["Alice Smith", "Bob Jones"]),
        ("Alice Smith; Bob Jones", ["Alice Smith", "Bob Jones"]),
        ("Alice Smith1,2, Bob Jones*, et al.", ["Alice Smith", "Bob Jones"]),
        ("Alice\u00a0Smith & Bob Jones", ["Alice Smith", "Bob Jones"]),
    ],
)
def test_author_lists(text: str, names: list[str]) -> None:
    assert split_authors(text) == names


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("arXiv:2411.13560v2", "2411.13560"),
        ("see https://arxiv.org/abs/2411.13560v1 for code", "2411.13560"),
        ("https://arxiv.org/pdf/2411.13560", "2411.13560"),
        ("arXiv:hep-ex/0307015", "hep-ex/0307015"),
        ("2411.13560", "2411.13560"),
        ("no id here 12.3456", None),
    ],
)
def test_arxiv_ids_in_text(text: str, expected: str | None) -> None:
    assert find_arxiv_id(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://doi.org/10.1145/3580305.3599256", "10.1145/3580305.3599256"),
        ("doi:10.1101/2024.11.07.622463.", "10.1101/2024.11.07.622463"),
        ("DOI 10.1002/(SICI)1097-4571(199806)49:8<693::AID-ASI4>3.0.CO;2-O", None),
        ("(10.48550/arXiv.2411.13560)", "10.48550/arxiv.2411.13560"),
        ("not a doi", None),
    ],
)
def test_dois(text: str, expected: str | None) -> None:
    if expected is None and "SICI" in text:
        assert normalize_doi(text) == "10.1002/(sici)1097-4571(199806)49:8"
    else:
        assert normalize_doi(text) == expected


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        (r"M{\"u}ller and J{\'e}r{\^o}me", "Müller and Jérôme"),
        (r"\'{\i}\c{c}\o{} \ss{} \aa", "íçø ß å"),
        (
            r"{LoRA}: Low-Rank {Adaptation} of \emph{Large} \textbf{Language} Models",
            "LoRA: Low-Rank Adaptation of Large Language Models",
        ),
        (r"Pages 1--10 --- see~\cite{x} here", "Pages 1\u201310 \u2014 see here"),
        (r"$\alpha$-divergence and 100\% \& more", r"$\alpha$-divergence and 100% & more"),
        (r"\href{http://x.org}{the site}", "the site"),
        (
            r"Constraints on $f_\mathrm{NL}$ from {P}lanck",
            r"Constraints on $f_\mathrm{NL}$ from Planck",
        ),
    ],
)
def test_tex_to_text(tex: str, text: str) -> None:
    assert tex_to_text(tex) == text


def test_markup_is_stripped() -> None:
    assert strip_markup("<jats:p>A &amp; B</jats:p><jats:p>C</jats:p>") == "A & B C"
    assert strip_markup("x<br/>y&nbsp;z") == "x y z"


def test_documents_over_the_cap_are_refused_in_one_line() -> None:
    with pytest.raises(InputError, match="too large for an RSS feed"):
        join_document(["x" * 100] * 100, "an RSS feed", limit=5_000)


@given(st.text())
def test_the_helpers_never_raise_on_any_text(text: str) -> None:
    tex_to_text(text)
    strip_markup(text)
    split_authors(text)
    parse_date(text)
    find_arxiv_id(text)
    normalize_doi(text)
