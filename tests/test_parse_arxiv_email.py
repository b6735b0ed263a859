"""The arXiv subscription mailing (`arxiv-email`): real mailings, pasted copies, hostile text."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperidx.errors import InputError
from paperidx.parsing import detect_format
from paperidx.parsing.arxiv_email import (
    header_day,
    parse_arxiv_email,
    received_day,
    sniff,
)
from paperidx.parsing.base import Notice, ParseEvent, ParseOptions, RawRecord, Skipped

from .conftest import invoke

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MAILINGS = FIXTURES / "arxiv_email"
RULE = "-" * 78


def parse_text(text: str, **options: object) -> list[ParseEvent]:
    return list(parse_arxiv_email(text.split("\n"), ParseOptions(**options)))  # type: ignore[arg-type]


def parse_file(name: str, **options: object) -> list[ParseEvent]:
    return parse_text((MAILINGS / name).read_text(encoding="utf-8"), **options)


def records(events: list[ParseEvent]) -> list[RawRecord]:
    return [event for event in events if isinstance(event, RawRecord)]


def skips(events: list[ParseEvent]) -> list[Skipped]:
    return [event for event in events if isinstance(event, Skipped)]


def fields(record: RawRecord) -> tuple[object, ...]:
    return (
        record.title,
        record.abstract,
        tuple(record.authors),
        record.arxiv_id,
        record.doi,
        tuple(record.links),
        record.published,
        record.date,
    )


# --- real mailings --------------------------------------------------------------------------

REAL = {
    "astro-ph-CO-2023-03-02.txt": {
        "count": 23,
        "new": ["2303.00769", "2303.00916", "2303.00961", "2303.00999", "2303.01198"],
        "cross": ["2303.00773", "2303.01014"],
        "day": dt.date(2023, 3, 2),
        "first": (
            "Searching for galaxy-scale strong-lenses in galaxy clusters with deep networks "
            "\u2013 I: methodology and network performance"
        ),
        "last": (
            "A variable active galactic nucleus at $z=2.06$ triply-imaged by the galaxy cluster "
            "MACS J0035.4-2015"
        ),
        "skipped": [(1, "header"), (455, "footer")],
    },
    "q-fin-2023-03-16.txt": {
        "count": 16,
        "new": [
            "2303.08867",
            "2303.08968",
            "2303.09011",
            "2303.09147",
            "2303.09176",
            "2303.09323",
            "2303.09330",
            "2303.09393",
            "2303.09397",
            "2303.09399",
            "2303.09405",
            "2303.09406",
            "2303.09407",
        ],
        "cross": [],
        "day": dt.date(2023, 3, 16),
        "first": "A Bayesian derivation of the square root law of market impact",
        "last": "Robust utility maximization with nonlinear continuous semimartingales",
        "skipped": [(1, "header")],
    },
    "math-OA-2023-06-08.txt": {
        "count": 3,
        "new": [],
        "cross": ["2306.04713"],
        "day": dt.date(2023, 6, 8),
        "first": "On sofic approximations of non amenable groups",
        "last": "Spectral Metric and Einstein Functionals",
        "skipped": [(1, "header"), (61, "footer")],
    },
    "cs-2024-11-21-excerpt.txt": {
        "count": 2,
        "new": ["2411.13560", "2411.13566"],
        "cross": [],
        "day": dt.date(2024, 11, 21),
        "first": (
            "AMSnet-KG: A Netlist Dataset for LLM-based AMS Circuit Auto-Design Using Knowledge "
            "Graph RAG"
        ),
        "last": (
            "Integrated Water Resource Management in the Segura Hydrographic Basin: An Artificial "
            "Intelligence Approach"
        ),
        "skipped": [(3, "header")],
    },
    "cs-2026-02-12-excerpt.txt": {
        "count": 3,
        "new": [],
        "cross": ["2602.12181", "2602.12129"],
        "day": dt.date(2026, 2, 12),
        "first": (
            "Convex Markov Games and Beyond: New Proof of Existence, Characterization and "
            "Learning Algorithms for Nash Equilibria"
        ),
        "last": (
            "Can Complexity and Uncomputability Explain Intelligence? SuperARC: A Test for "
            "Artificial Super Intelligence Based on Recursive Compression"
        ),
        "skipped": [(3, "header")],
    },
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_mailing_gives_exactly_its_papers(name: str) -> None:
    expected = REAL[name]
    events = parse_file(name)
    papers = records(events)

    assert len(papers) == expected["count"]
    assert papers[0].title == expected["first"]
    assert papers[-1].title == expected["last"]
    with_abstract = [p.arxiv_id for p in papers if p.abstract]
    assert with_abstract == [*expected["new"], *expected["cross"]]  # type: ignore[misc]
    assert {p.date for p in papers} == {expected["day"]}
    assert len({p.arxiv_id for p in papers}) == len(papers)
    assert all(p.links[0] == f"https://arxiv.org/abs/{p.arxiv_id}" for p in papers)
    # Furniture is reported, never stored.
    assert [(s.line, s.reason.split()[2].rstrip(",")) for s in skips(events)] == expected["skipped"]
    for paper in papers:
        text = f"{paper.title} {paper.abstract} {' '.join(paper.authors)}".lower()
        assert "send any comments" not in text
        assert "unsubscribe" not in text
        assert "received from" not in text


def test_entry_fields_of_the_astro_ph_mailing() -> None:
    papers = records(parse_file("astro-ph-CO-2023-03-02.txt"))
    by_id = {p.arxiv_id: p for p in papers}

    first = by_id["2303.00769"]
    assert first.line == 16  # the entry's opening `\\`
    assert first.authors[:3] == ["G. Angora", "P. Rosati", "M. Meneghetti"]
    assert len(first.authors) == 13 and first.authors[-1] == "E. Vanzella"
    assert first.published == dt.date(2023, 3, 1)
    assert first.abstract.startswith("Galaxy-scale strong lenses in galaxy clusters provide")
    assert first.abstract.endswith("clusters with previously known galaxy-scale lensing systems.")
    assert "\n" not in first.abstract and "  " not in first.abstract

    jet = by_id["2303.01014"]  # a cross-listing with 52 authors wrapped over 11 lines
    assert len(jet.authors) == 52
    assert jet.authors[-1] == "Jae-Hwan Yeom"
    assert jet.published == dt.date(2023, 3, 2)

    # A replaced cross-listing, with its DOI and TeX accents in the authors.
    furtak = by_id["2303.00025"]
    assert "Adèle Plat" in furtak.authors
    assert by_id["2104.03145"].doi == "10.1103/physrevd.103.103025"
    assert "https://doi.org/10.1103/physrevd.103.103025" in by_id["2104.03145"].links
    # A code link given in the Comments field.
    assert "https://github.com/leandros11/lensing1" in by_id["2302.12524"].links


def test_replacements_are_sightings_with_an_empty_abstract() -> None:
    papers = records(parse_file("math-OA-2023-06-08.txt"))

    replaced = papers[1:]
    assert [p.arxiv_id for p in replaced] == ["2204.01445", "2206.02587"]
    assert all(p.abstract == "" for p in replaced)
    assert all(p.published is None for p in replaced)  # the revision date is not publication
    assert replaced[0].title == (
        "Shifted Substitution in Non-Commutative Multivariate Power Series with a View Toward "
        "Free Probability"
    )
    assert replaced[0].authors == [
        "Kurusch Ebrahimi-Fard",
        "Frédéric Patras",
        "Nikolas Tapia",
        "Lorenzo Zambotti",
    ]
    assert replaced[0].doi == "10.3842/sigma.2023.038"
    assert replaced[1].authors == ["Ludwik Dąbrowski", "Andrzej Sitarz", "Paweł Zalecki"]
    assert papers[0].published == dt.date(2023, 6, 7)


def test_cs_2024_excerpt_fields() -> None:
    first, second = records(parse_file("cs-2024-11-21-excerpt.txt"))

    assert first.authors[5:7] == ["Yaxing Wang", "Bingyu Chen"]  # a name split by a wrap
    assert first.published == dt.date(2024, 11, 7)
    assert second.doi == "10.1016/j.jenvman.2024.122526"
    assert second.authors == [
        "Urtzi Otamendi",
        "Mikel Maiza",
        "Igor G. Olaizola",
        "Basilio Sierra",
        "Markel Flores",
        "Marco Quartulli",
    ]


def test_old_style_ids_and_nested_affiliations() -> None:
    events = parse_file("astro-ph-0003-old-style.txt")
    papers = records(events)

    assert [p.arxiv_id for p in papers] == ["astro-ph/0003001", "astro-ph/0003002"]
    assert papers[0].authors == ["Stacy McGaugh", "Jim Schombert", "Greg Bothun", "Erwin de Blok"]
    assert papers[1].authors == ["F. E. Bauer", "J. J. Condon", "T. X. Thuan", "J. J. Broderick"]
    assert papers[0].published == dt.date(2000, 3, 1)
    assert papers[0].links == ["https://arxiv.org/abs/astro-ph/0003001"]
    # No "received from" window: no digest day unless the user gives one.
    assert {p.date for p in papers} == {None}
    dated = records(parse_file("astro-ph-0003-old-style.txt", date=dt.date(2000, 3, 2)))
    assert {p.date for p in dated} == {dt.date(2000, 3, 2)}


def test_the_digest_day_comes_from_the_received_window_before_the_given_date() -> None:
    papers = records(parse_file("math-OA-2023-06-08.txt", date=dt.date(2020, 1, 1)))

    assert {p.date for p in papers} == {dt.date(2023, 6, 8)}


def test_a_pasted_mail_date_line_is_the_day_when_there_is_no_window() -> None:
    text = (MAILINGS / "math-OA-2023-06-08.txt").read_text(encoding="utf-8")
    without_window = "\n".join(line for line in text.split("\n") if "received from" not in line)

    papers = records(parse_text(without_window))

    assert {p.date for p in papers} == {dt.date(2023, 6, 9)}  # "Date: Fri,  9 Jun 23 ..."


@pytest.mark.parametrize(
    ("line", "day"),
    [
        (
            " received from  Wed  7 Jun 23 18:00:00 GMT  to  Thu  8 Jun 23 18:00:00 GMT",
            "2023-06-08",
        ),
        ("received from  Tue  5 Nov 24 19:00:00 GMT  to  Wed  6 Nov 24 19:00:00 GMT", "2024-11-06"),
        ("received from  Fri 29 Dec 99 19:00:00 GMT  to  Mon  3 Jan 00 19:00:00 GMT", "2000-01-03"),
    ],
)
def test_received_window_end_is_the_announcement_day(line: str, day: str) -> None:
    assert received_day(line) == dt.date.fromisoformat(day)


def test_header_day_reads_two_digit_years() -> None:
    assert header_day("Fri,  9 Jun 23 00:44:20 GMT") == dt.date(2023, 6, 9)
    assert header_day("Fri, 17 Mar 2023 00:31:14 +0000") == dt.date(2023, 3, 17)
    assert header_day("yesterday") is None


# --- copies of the same mailing -------------------------------------------------------------


def _crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def _nbsp(text: str) -> str:
    # Web mail turns the leading spaces of continuation lines into non-breaking spaces and
    # leaves trailing spaces behind.
    out = []
    for line in text.split("\n"):
        stripped = line.lstrip(" ")
        out.append("\u00a0" * (len(line) - len(stripped)) + stripped + "  ")
    return "\n".join(out)


def _forwarded(text: str) -> str:
    quoted = "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))
    return (
        "---------- Forwarded message ---------\n"
        "From: send mail ONLY to cs <no-reply@arxiv.org>\n"
        "Subject: cs daily Subj-class mailing\n\n" + quoted
    )


@pytest.mark.parametrize("name", sorted(REAL))
@pytest.mark.parametrize("copy", [_crlf, _nbsp, _forwarded], ids=["crlf", "nbsp", "forwarded"])
def test_pasted_copies_parse_identically(name: str, copy: object) -> None:
    text = (MAILINGS / name).read_text(encoding="utf-8")
    original = records(parse_text(text))

    copied = records(parse_text(copy(text)))  # type: ignore[operator]

    assert [fields(p) for p in copied] == [fields(p) for p in original]
    if copy is not _forwarded:
        assert [p.line for p in copied] == [p.line for p in original]


# --- one paper listed twice -----------------------------------------------------------------


REPLACED_LINE = "replaced with revised version Wed, 6 Nov 2024 11:00:00 GMT   (13kb)"


def _entry(
    arxiv_id: str, title: str, abstract: str | None, extra: str = "", cross: bool = False
) -> str:
    mark = " (*cross-listing*)" if cross else ""
    head = (
        f"\\\\\narXiv:{arxiv_id}{mark}\nDate: Wed, 6 Nov 2024 10:00:00 GMT   (12kb)\n\n"
        if abstract is not None
        else f"\\\\\narXiv:{arxiv_id}\n{REPLACED_LINE}\n\n"
    )
    body = f"Title: {title}\nAuthors: Ada Lovelace and Alan Turing\nCategories: cs.CL\n{extra}"
    if abstract is None:
        return head + body + f"\\\\ ( https://arxiv.org/abs/{arxiv_id} ,  13kb)\n"
    return head + body + f"\\\\\n  {abstract}\n\\\\ ( https://arxiv.org/abs/{arxiv_id} ,  12kb)\n"


HEADER = (
    f"{RULE}\n{RULE}\nSend any comments regarding submissions directly to submitter.\n{RULE}\n"
    "Archives at http://arxiv.org/\nTo unsubscribe, e-mail To: cs@arXiv.org, Subject: cancel\n"
    f"{RULE}\n Submissions to:\nComputation and Language\n"
    " received from  Tue  5 Nov 24 19:00:00 GMT  to  Wed  6 Nov 24 19:00:00 GMT\n"
    f"{RULE}\n{RULE}\n"
)
CROSS_RULE = "%-" * 39 + "\n"
REPLACED_RULE = "%%--" * 19 + "%%\n"
END_RULE = "%%%---" * 13 + "\n"
FOOTER = "For general information, see http://arxiv.org/\n"

DUPLICATED = (
    HEADER
    + _entry("2411.00001", "Listed Twice", "The abstract of the paper listed twice.")
    + RULE
    + "\n"
    + _entry("2411.00002", "Listed Once", "Another abstract.")
    + CROSS_RULE
    + RULE
    + "\n"
    + _entry("2411.00001", "Listed Twice", "The abstract of the paper listed twice.", cross=True)
    + REPLACED_RULE
    + RULE
    + "\n"
    + _entry("2411.00002", "Listed Once", None, extra="DOI: 10.1000/xyz.42\n")
    + END_RULE
    + FOOTER
)


def test_a_paper_listed_twice_comes_out_once_with_fields_merged() -> None:
    events = parse_text(DUPLICATED)
    papers = records(events)

    assert [p.arxiv_id for p in papers] == ["2411.00001", "2411.00002"]
    twice, once = papers
    assert twice.abstract == "The abstract of the paper listed twice."
    # The replacement's DOI joins the sighting with the abstract.
    assert once.abstract == "Another abstract."
    assert once.doi == "10.1000/xyz.42"
    assert once.published == dt.date(2024, 11, 6)
    assert "https://doi.org/10.1000/xyz.42" in once.links
    assert {p.date for p in papers} == {dt.date(2024, 11, 6)}
    assert [s.reason.split()[2].rstrip(",") for s in skips(events)] == ["header", "footer"]


# --- detection ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in MAILINGS.glob("*.txt")))
def test_every_real_mailing_is_detected(name: str) -> None:
    head = (MAILINGS / name).read_text(encoding="utf-8")[:8192]

    assert sniff(head) == 0.9
    assert detect_format(head) == "arxiv-email"


def test_a_pasted_mail_with_a_few_header_lines_stays_arxiv_email() -> None:
    body = (MAILINGS / "cs-2024-11-21-excerpt.txt").read_text(encoding="utf-8")
    pasted = (
        "From: send mail ONLY to cs <no-reply@arxiv.org>\nTo: me@example.org\n"
        "Subject: cs daily Subj-class mailing\nDate: Thu, 21 Nov 2024 20:02:03 -0500\n\n" + body
    )

    assert detect_format(pasted[:8192]) == "arxiv-email"
    papers = records(parse_text(pasted))
    assert [p.arxiv_id for p in papers] == ["2411.13560", "2411.13566"]
    assert {p.date for p in papers} == {dt.date(2024, 11, 21)}


@pytest.mark.parametrize(
    "head",
    [
        (FIXTURES / "hf-digest-three-days.txt").read_text(encoding="utf-8")[:8192],
        '[{"id": "2411.13560", "title": "T", "summary": "arXiv:2411.13560 Title: x"}]',
        "See arXiv:2411.13560 for details.\nTitle: a talk\n",
        "@article{x, title={arXiv:2411.13560}}",
        "<html><body><pre>\nSend any comments regarding submissions directly to submitter.\n",
        "",
    ],
    ids=["hf-digest", "json", "prose", "bibtex", "html-copy", "empty"],
)
def test_sniff_leaves_other_inputs_alone(head: str) -> None:
    assert sniff(head) == 0.0


# --- hostile input --------------------------------------------------------------------------


def test_an_entry_that_never_ends_is_skipped_and_parsing_goes_on() -> None:
    endless = "\\\\\narXiv:2411.00009\nTitle: Endless\n\\\\\n" + "an abstract line\n" * 1000
    text = HEADER + endless + RULE + "\n" + _entry("2411.00002", "Listed Once", "Fine.")

    events = parse_text(text)

    assert [p.arxiv_id for p in records(events)] == ["2411.00002"]
    assert any("never ends" in s.reason for s in skips(events))


@pytest.mark.parametrize(
    "text",
    [
        "\\\\\narXiv:2411.00009\nDate: Wed, 6 Nov 2024\n\\\\\n  An abstract without a title.\n",
        "\\\\\n\x00\x00garbage\n\\\\\n\\\\\n",
        "\\\\\nPaper: \n\\\\ ( https://arxiv.org/abs/ ,  1kb)\n",
        END_RULE + _entry("2411.00001", "After The End", "Footer text, not a paper."),
    ],
    ids=["no-title", "nul", "empty-id", "after-footer"],
)
def test_broken_entries_are_skipped_never_papers(text: str) -> None:
    events = parse_text(text)

    assert records(events) == []
    assert all(isinstance(e, Skipped) for e in events)


def test_markup_in_a_title_is_kept_as_text() -> None:
    text = HEADER + _entry("2411.00003", "[bold red]Loud[/] \x1b[31mTitle", "An abstract.")

    (paper,) = records(parse_text(text))

    assert paper.title == "[bold red]Loud[/] \x1b[31mTitle"


def test_a_huge_input_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import paperidx.parsing.arxiv_email as module

    monkeypatch.setattr(module, "MAX_DOCUMENT_CHARS", 1000)
    with pytest.raises(InputError, match="too large for an arXiv mailing"):
        parse_text(HEADER + "x\n" * 1000)


# --- property: rendered entries parse back --------------------------------------------------

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
word = st.text(alphabet=LETTERS + "0123456789", min_size=1, max_size=12)
name_part = st.text(alphabet=LETTERS, min_size=1, max_size=10).map(str.title)
# Words that split_authors reads as separators or noise are not names.
name = st.builds(lambda first, last: f"{first} {last}", name_part, name_part).filter(
    lambda n: not ({"and", "et", "al", "others"} & set(n.lower().split()))
)
new_id = st.builds(lambda a, b: f"{a:04d}.{b:05d}", st.integers(701, 2912), st.integers(1, 99999))
old_id = st.builds(
    lambda archive, n: f"{archive}/{n:07d}",
    st.sampled_from(["hep-ex", "hep-th", "astro-ph", "math.GT", "cond-mat"]),
    st.integers(1, 9_999_999),
)
paper = st.fixed_dictionaries(
    {
        "id": st.one_of(new_id, old_id),
        "title": st.lists(word, min_size=1, max_size=25).map(" ".join),
        "authors": st.lists(name, min_size=1, max_size=8, unique=True),
        "abstract": st.one_of(st.none(), st.lists(word, min_size=1, max_size=80).map(" ".join)),
        "cross": st.booleans(),
    }
)


def render(papers: list[dict[str, object]]) -> str:
    """A mailing as arXiv writes it: fields hard-wrapped at 80 columns with 2-space indents."""

    def wrapped(label: str, value: str) -> str:
        return "\n".join(
            textwrap.wrap(
                f"{label}: {value}", width=80, subsequent_indent="  ", break_long_words=False
            )
        )

    out = [HEADER]
    for item in papers:
        replaced = item["abstract"] is None
        mark = " (*cross-listing*)" if item["cross"] else ""
        out.append(f"\\\\\narXiv:{item['id']}{mark}\n")
        if replaced:
            out.append("replaced with revised version Wed, 6 Nov 2024 11:00:00 GMT   (13kb)\n\n")
        else:
            out.append("Date: Tue, 5 Nov 2024 10:00:00 GMT   (12kb)\n\n")
        out.append(wrapped("Title", str(item["title"])) + "\n")
        out.append(wrapped("Authors", ", ".join(item["authors"])) + "\n")  # type: ignore[arg-type]
        out.append("Categories: cs.CL\n")
        if not replaced:
            abstract = textwrap.fill(str(item["abstract"]), width=80, break_long_words=False)
            out.append("\\\\\n  " + abstract + "\n")
        out.append(f"\\\\ ( https://arxiv.org/abs/{item['id']} ,  12kb)\n{RULE}\n")
    out.append(END_RULE + FOOTER)
    return "".join(out)


@settings(max_examples=60, deadline=None)
@given(st.lists(paper, max_size=6, unique_by=lambda p: str(p["id"]).lower()))
def test_rendered_mailings_parse_back(papers: list[dict[str, object]]) -> None:
    events = parse_text(render(papers))

    parsed = records(events)
    assert [(p.title, p.authors, p.arxiv_id) for p in parsed] == [
        (item["title"], item["authors"], str(item["id"]).lower()) for item in papers
    ]
    assert [p.abstract for p in parsed] == [item["abstract"] or "" for item in papers]
    assert {p.date for p in parsed} <= {dt.date(2024, 11, 6)}
    assert not any(isinstance(e, Notice) for e in events)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([
    "\\\\", "arXiv:2411.00001", "arXiv:hep-th/9901001 (*cross-listing*)", "Paper: astro-ph/0003001",
    "Title: A", "  continued", "Authors: A and B", "Date: Wed, 6 Nov 2024", "",
    "replaced with revised version", "\\\\ ( https://arxiv.org/abs/2411.00001 ,  1kb)", RULE,
    CROSS_RULE.strip(), REPLACED_RULE.strip(), END_RULE.strip(), "> \\\\", "\u00a0 x",
    "DOI: 10.1/x",
]), max_size=40))  # fmt: skip
def test_any_arrangement_of_mailing_lines_gives_only_events(lines: list[str]) -> None:
    events = list(parse_arxiv_email(lines, ParseOptions()))

    assert all(isinstance(e, RawRecord | Skipped | Notice) for e in events)
    assert all(e.line >= 1 for e in events if isinstance(e, RawRecord | Skipped))
    sniff("\n".join(lines))


# --- end to end -----------------------------------------------------------------------------


def test_cli_ingest_then_show_a_paper_listed_as_new_and_cross_list(tmp_path: Path) -> None:
    path = tmp_path / "cs-mailing.txt"
    path.write_text(DUPLICATED, encoding="utf-8")
    ingested = invoke("ingest", str(path))
    shown = invoke("show", "2411.00001", "--format", "json")
    listed = invoke("list", "--format", "jsonl")

    assert ingested.exit_code == 0, ingested.output
    assert "(arxiv-email): 2 parsed, 2 new" in ingested.stderr
    assert shown.exit_code == 0, shown.output
    record = json.loads(shown.stdout)
    assert record["arxiv_id"] == "2411.00001"
    assert record["title"] == "Listed Twice"
    assert record["abstract"] == "The abstract of the paper listed twice."
    assert record["authors"] == ["Ada Lovelace", "Alan Turing"]
    assert record["dates"] == ["2024-11-06"]
    assert len(record["sources"]) == 1
    assert len(listed.stdout.splitlines()) == 2
